//! Campaigns, `/hub/v1/campaigns`: list (`$page`, `$pageSize` ≤ 50, `$orderBy` default
//! `ModifiedDate DESC`, `$filter`), create (200 with a string `id`), read, patch and delete
//! (200, empty body) by id. `name` is required; `name` ≤ 128, `description` ≤ 512,
//! `campaignCode` ≤ 36 characters; `color` is a string and `favorite` a boolean.

use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value};

use crate::api::by_id::{self, ById, Noun};
use crate::api::listing::ListQuery;
use crate::api::paging;
use crate::api::principal::{Principal, scope};
use crate::api::query::Params;
use crate::api::reply::{self, ApiError, MISSING_FIELD, Reply, VALIDATION, bad_request};
use crate::store::{BusinessUnit, lock};

/// The fields a client may set.
const WRITABLE: &[&str] = &["name", "description", "campaignCode", "color", "favorite"];

/// How campaigns are named in errors (a non-numeric id is not found, like a missing one).
const CAMPAIGN: Noun = Noun {
    name: "Campaign",
    invalid_id: None,
};

/// A business unit's campaigns.
fn store(unit: &BusinessUnit) -> &Mutex<ById> {
    &unit.campaigns
}

/// `GET /hub/v1/campaigns`.
pub(crate) async fn list(p: Principal, params: Params) -> Reply {
    p.require(scope::CAMPAIGN_READ)?;
    let query = ListQuery::from_params(&params, 50, 50, Some("modifiedDate desc"))?;
    let unit = p.unit();
    let campaigns = lock(&unit.campaigns);
    let (total, items) = query.run(campaigns.items.values());
    reply::ok(paging::counted(query.paging, total, items))
}

/// `POST /hub/v1/campaigns`.
pub(crate) async fn create(p: Principal, body: Bytes) -> Reply {
    p.require(scope::CAMPAIGN_WRITE)?;
    let body = reply::parse_object(&body)?;
    reply::required_str(&body, "name", MISSING_FIELD)?;
    let fields = writable(&body)?;
    let id = p.shared.stores.ids.next();
    let now = p.shared.stores.ids.stamp();
    let mut campaign = Map::new();
    campaign.insert("id".into(), Value::from(id.to_string()));
    campaign.insert("createdDate".into(), Value::from(now.clone()));
    campaign.insert("modifiedDate".into(), Value::from(now));
    campaign.insert("name".into(), Value::from(""));
    campaign.insert("description".into(), Value::from(""));
    campaign.insert("campaignCode".into(), Value::from(""));
    campaign.insert("color".into(), Value::from(""));
    campaign.insert("favorite".into(), Value::from(false));
    campaign.extend(fields);
    let campaign = Value::Object(campaign);
    let unit = p.unit();
    lock(&unit.campaigns).items.insert(id, campaign.clone());
    reply::ok(campaign)
}

/// `GET /hub/v1/campaigns/{id}`.
pub(crate) async fn get(p: Principal, Path(id): Path<String>) -> Reply {
    by_id::get(&p, scope::CAMPAIGN_READ, store, &CAMPAIGN, &id)
}

/// `PATCH /hub/v1/campaigns/{id}`.
pub(crate) async fn update(p: Principal, Path(id): Path<String>, body: Bytes) -> Reply {
    p.require(scope::CAMPAIGN_WRITE)?;
    let id = CAMPAIGN.parse_id(&id)?;
    let body = reply::parse_object(&body)?;
    if reply::field(&body, "name").is_some() {
        reply::required_str(&body, "name", MISSING_FIELD)?;
    }
    let fields = writable(&body)?;
    let now = p.shared.stores.ids.stamp();
    let unit = p.unit();
    let mut campaigns = lock(&unit.campaigns);
    let campaign = campaigns.get_mut(&CAMPAIGN, id)?;
    if let Some(map) = campaign.as_object_mut() {
        map.extend(fields);
        map.insert("modifiedDate".into(), Value::from(now));
    }
    reply::ok(campaign.clone())
}

/// `DELETE /hub/v1/campaigns/{id}`: 200 with an empty body.
pub(crate) async fn delete(p: Principal, Path(id): Path<String>) -> Reply {
    by_id::remove(&p, scope::CAMPAIGN_WRITE, store, &CAMPAIGN, &id)?;
    Ok(StatusCode::OK.into_response())
}

/// The writable fields of `body` under their canonical names, each checked.
fn writable(body: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    for (name, max) in [("name", 128), ("description", 512), ("campaignCode", 36)] {
        reply::check_length(body, name, max)?;
    }
    reply::opt_str(body, "color")?;
    if let Some(v) = reply::field(body, "favorite").filter(|v| !v.is_null() && !v.is_boolean()) {
        return Err(bad_request(
            format!("favorite must be true or false, not {v}."),
            VALIDATION,
        ));
    }
    Ok(WRITABLE
        .iter()
        .filter_map(|name| {
            reply::field(body, name)
                .filter(|v| !v.is_null())
                .map(|v| ((*name).to_owned(), v.clone()))
        })
        .collect())
}
