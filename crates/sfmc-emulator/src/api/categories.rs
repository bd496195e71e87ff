//! Content Builder categories (folders), `/asset/v1/content/categories`: list (`$filter`
//! such as `parentId eq N`, paging, `$orderBy`), create (PascalCase body `{Name, ParentId,
//! CategoryType?, Description?}`, camelCase accepted; 201 in PascalCase), read, update (`PUT`)
//! and delete by id. Lists show categories in camelCase. A non-zero `ParentId` must exist.

use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::api::by_id::{self, ById, Noun};
use crate::api::listing::ListQuery;
use crate::api::paging;
use crate::api::principal::{Principal, scope};
use crate::api::query::Params;
use crate::api::reply::{
    self, ApiError, MISSING_FIELD, Reply, VALIDATION, bad_request, json_reply,
};
use crate::rest::mid_json;
use crate::store::{BusinessUnit, lock};

/// How categories are named in errors.
const CATEGORY: Noun = Noun {
    name: "Category",
    invalid_id: Some("category"),
};

/// A business unit's categories, stored in camelCase.
fn store(unit: &BusinessUnit) -> &Mutex<ById> {
    &unit.categories
}

/// `GET /asset/v1/content/categories`.
pub(crate) async fn list(p: Principal, params: Params) -> Reply {
    p.require(scope::ASSETS_READ)?;
    let query = ListQuery::from_params(&params, 50, 10_000, Some("id asc"))?;
    let unit = p.unit();
    let categories = lock(&unit.categories);
    let (total, items) = query.run(categories.items.values());
    reply::ok(paging::counted(query.paging, total, items))
}

/// `POST /asset/v1/content/categories`.
pub(crate) async fn create(p: Principal, body: Bytes) -> Reply {
    p.require(scope::ASSETS_WRITE)?;
    let body = reply::parse_object(&body)?;
    let name = reply::required_str(&body, "Name", MISSING_FIELD)?;
    let unit = p.unit();
    let mut categories = lock(store(&unit));
    let parent = parent_id(&body, &categories)?;
    let id = p.shared.stores.ids.next();
    let category = json!({
        "id": id,
        "name": name,
        "parentId": parent,
        "categoryType": reply::opt_str(&body, "CategoryType")?.unwrap_or("asset"),
        "description": reply::opt_str(&body, "Description")?.unwrap_or(""),
        "memberId": mid_json(&p.mid),
        "enterpriseId": mid_json(&p.enterprise),
    });
    let reply_body = pascal_case(&category);
    categories.items.insert(id, category);
    Ok(json_reply(StatusCode::CREATED, reply_body))
}

/// `GET /asset/v1/content/categories/{id}`.
pub(crate) async fn get(p: Principal, Path(id): Path<String>) -> Reply {
    by_id::get(&p, scope::ASSETS_READ, store, &CATEGORY, &id)
}

/// `PUT /asset/v1/content/categories/{id}`: new `Name`, `ParentId` or `Description`.
pub(crate) async fn update(p: Principal, Path(id): Path<String>, body: Bytes) -> Reply {
    p.require(scope::ASSETS_WRITE)?;
    let id = CATEGORY.parse_id(&id)?;
    let body = reply::parse_object(&body)?;
    let unit = p.unit();
    let mut categories = lock(store(&unit));
    categories.get(&CATEGORY, id)?;
    let parent = match reply::field(&body, "ParentId") {
        Some(_) => Some(parent_id(&body, &categories)?),
        None => None,
    };
    if parent == Some(id) {
        return Err(bad_request(
            "A category cannot be its own parent.",
            VALIDATION,
        ));
    }
    let name = reply::opt_str(&body, "Name")?.filter(|n| !n.trim().is_empty());
    let description = reply::opt_str(&body, "Description")?;
    let category = categories.get_mut(&CATEGORY, id)?;
    for (key, value) in [
        ("name", name.map(Value::from)),
        ("parentId", parent.map(Value::from)),
        ("description", description.map(Value::from)),
    ] {
        if let (Some(value), Some(map)) = (value, category.as_object_mut()) {
            map.insert(key.into(), value);
        }
    }
    reply::ok(category.clone())
}

/// `DELETE /asset/v1/content/categories/{id}`: 200 `"OK"`; a category with subcategories
/// cannot be deleted.
pub(crate) async fn delete(p: Principal, Path(id): Path<String>) -> Reply {
    p.require(scope::ASSETS_WRITE)?;
    let id = CATEGORY.parse_id(&id)?;
    let unit = p.unit();
    let mut categories = lock(store(&unit));
    if categories
        .items
        .values()
        .any(|c| c["parentId"] == json!(id))
    {
        return Err(bad_request(
            format!("Category {id} has subcategories; delete them first."),
            VALIDATION,
        ));
    }
    categories.remove(&CATEGORY, id)?;
    reply::ok(Value::from("OK"))
}

/// `ParentId` of a body: 0 when absent, else an existing category's id.
fn parent_id(body: &Map<String, Value>, categories: &ById) -> Result<u64, ApiError> {
    match reply::field(body, "ParentId") {
        None | Some(Value::Null) => Ok(0),
        Some(v) => {
            let parent = v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| bad_request("ParentId must be a category id.", VALIDATION))?;
            if parent != 0 && !categories.items.contains_key(&parent) {
                return Err(bad_request(
                    format!("ParentId {parent} is not a category."),
                    VALIDATION,
                ));
            }
            Ok(parent)
        }
    }
}

/// A stored (camelCase) category as the create endpoint answers it.
fn pascal_case(category: &Value) -> Value {
    let map: Map<String, Value> = category
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let mut chars = k.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
            (first.chain(chars).collect(), v.clone())
        })
        .collect();
    Value::Object(map)
}
