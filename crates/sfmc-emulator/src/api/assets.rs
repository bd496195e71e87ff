//! Content Builder assets, `/asset/v1/content/assets`: list (`$page`, `$pagesize`, `$orderBy`,
//! `$filter`, `$fields`), create (201 with a numeric `id`), read, patch and delete by id.
//! `name` and `assetType` (`id` or `name`) are required; `customerKey` is unique in the
//! business unit (a GUID when not given).

use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::api::by_id::{self, ById, Noun};
use crate::api::ids;
use crate::api::listing::ListQuery;
use crate::api::paging;
use crate::api::principal::{Principal, scope};
use crate::api::query::Params;
use crate::api::reply::{
    self, ApiError, MISSING_FIELD, Reply, VALIDATION, bad_request, json_reply,
};
use crate::rest::mid_json;
use crate::store::{BusinessUnit, lock};

/// Fields the server owns: a create or patch cannot set them.
const READ_ONLY: &[&str] = &[
    "id",
    "createdDate",
    "modifiedDate",
    "memberId",
    "enterpriseId",
];

/// How assets are named in errors.
const ASSET: Noun = Noun {
    name: "Asset",
    invalid_id: Some("asset"),
};

/// A business unit's assets.
fn store(unit: &BusinessUnit) -> &Mutex<ById> {
    &unit.assets
}

/// Whether an asset other than `except` has `customerKey` `key`.
fn key_taken(assets: &ById, key: &str, except: Option<u64>) -> bool {
    assets.items.iter().any(|(id, a)| {
        Some(*id) != except && a.get("customerKey").and_then(Value::as_str) == Some(key)
    })
}

/// `GET /asset/v1/content/assets`.
pub(crate) async fn list(p: Principal, params: Params) -> Reply {
    p.require(scope::ASSETS_READ)?;
    let query = ListQuery::from_params(&params, 50, 10_000, Some("id asc"))?;
    let unit = p.unit();
    let assets = lock(&unit.assets);
    let (total, items) = query.run(assets.items.values());
    reply::ok(paging::counted(query.paging, total, items))
}

/// `POST /asset/v1/content/assets`.
pub(crate) async fn create(p: Principal, body: Bytes) -> Reply {
    p.require(scope::ASSETS_WRITE)?;
    let mut asset = reply::parse_object(&body)?;
    reply::required_str(&asset, "name", MISSING_FIELD)?;
    check_asset_type(&asset)?;
    reply::strip_fields(&mut asset, READ_ONLY);
    let unit = p.unit();
    let mut assets = lock(&unit.assets);
    let key = ids::key_or_guid(
        reply::opt_str(&asset, "customerKey")?,
        |k| key_taken(&assets, k, None),
        key_in_use,
    )?;
    let id = p.shared.stores.ids.next();
    let now = p.shared.stores.ids.stamp();
    asset.insert("id".into(), Value::from(id));
    asset.insert("customerKey".into(), Value::from(key));
    asset.insert("createdDate".into(), Value::from(now.clone()));
    asset.insert("modifiedDate".into(), Value::from(now));
    asset.insert("memberId".into(), mid_json(&p.mid));
    asset.insert("enterpriseId".into(), mid_json(&p.enterprise));
    let asset = Value::Object(asset);
    assets.items.insert(id, asset.clone());
    Ok(json_reply(StatusCode::CREATED, asset))
}

/// `GET /asset/v1/content/assets/{id}`.
pub(crate) async fn get(p: Principal, Path(id): Path<String>) -> Reply {
    by_id::get(&p, scope::ASSETS_READ, store, &ASSET, &id)
}

/// `PATCH /asset/v1/content/assets/{id}`: the given fields replace the stored ones.
pub(crate) async fn update(p: Principal, Path(id): Path<String>, body: Bytes) -> Reply {
    p.require(scope::ASSETS_WRITE)?;
    let id = ASSET.parse_id(&id)?;
    let mut patch = reply::parse_object(&body)?;
    reply::strip_fields(&mut patch, READ_ONLY);
    if patch.contains_key("name") {
        reply::required_str(&patch, "name", MISSING_FIELD)?;
    }
    if patch.contains_key("assetType") {
        check_asset_type(&patch)?;
    }
    let unit = p.unit();
    let mut assets = lock(&unit.assets);
    if let Some(k) = reply::opt_str(&patch, "customerKey")?
        && key_taken(&assets, k, Some(id))
    {
        return Err(key_in_use(k));
    }
    let now = p.shared.stores.ids.stamp();
    let asset = assets.get_mut(&ASSET, id)?;
    if let Some(map) = asset.as_object_mut() {
        map.extend(patch);
        map.insert("modifiedDate".into(), Value::from(now));
    }
    reply::ok(asset.clone())
}

/// `DELETE /asset/v1/content/assets/{id}`: 200 `"OK"`.
pub(crate) async fn delete(p: Principal, Path(id): Path<String>) -> Reply {
    by_id::remove(&p, scope::ASSETS_WRITE, store, &ASSET, &id)?;
    reply::ok(Value::from("OK"))
}

fn key_in_use(key: &str) -> ApiError {
    bad_request(
        format!("customerKey {key:?} is already in use."),
        VALIDATION,
    )
}

/// `assetType` must be an object with a numeric `id` or a string `name`.
fn check_asset_type(asset: &Map<String, Value>) -> Result<(), ApiError> {
    let ok = reply::field(asset, "assetType")
        .and_then(Value::as_object)
        .is_some_and(|t| {
            reply::field(t, "id").is_some_and(Value::is_u64)
                || reply::field(t, "name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !n.is_empty())
        });
    if ok {
        Ok(())
    } else {
        Err(bad_request(
            "assetType is required: an object with a numeric id or a name.",
            VALIDATION,
        ))
    }
}
