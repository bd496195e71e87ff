//! Reading data extension rows: `GET /data/v1/customobjectdata/key/{key}/rowset` with
//! `$page`, `$pageSize` (default and maximum 2500) and `$filter` → `{links{self,next?},
//! requestToken, page, pageSize, count, items[{keys, values}]}`: column names lower-cased,
//! primary-key columns in `keys`, the others in `values` (unset ones as `""`), rows in the
//! order they were first written, `count` the number that match, and `links.next` (a path
//! from the REST root, query included) on every page but the last.

use serde_json::{Map, Value, json};

use crate::api::de_lookup::{self, Access};
use crate::api::filter::Filter;
use crate::api::ids;
use crate::api::paging::Paging;
use crate::api::principal::{Principal, scope};
use crate::api::query::Params;
use crate::api::reply::{self, Reply};
use crate::dataext::{DataExtension, Row};
use crate::paths::Segments;
use crate::store::lock;

/// Default and largest `$pageSize`.
const MAX_PAGE_SIZE: usize = 2500;

/// `GET /data/v1/customobjectdata/key/{key}/rowset`.
pub(crate) async fn rowset(p: Principal, segments: Segments, params: Params) -> Reply {
    p.require(scope::DATA_EXTENSIONS_READ)?;
    let key = segments.get(4);
    let de = de_lookup::find(&p, key, Access::Read)?;
    let paging = Paging::from_params(&params, MAX_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let filter_text = params.get("filter").filter(|f| !f.trim().is_empty());
    let filter = Filter::optional(filter_text)?;
    let de = lock(&de);
    let (total, page): (usize, Vec<&Row>) = match &filter {
        None => (de.len(), paging.slice(de.rows()).iter().collect()),
        Some(filter) => {
            let matching: Vec<&Row> = de
                .rows()
                .iter()
                .filter(|row| filter.matches(|column| cell(&de, row, column)))
                .collect();
            (matching.len(), paging.slice(&matching).to_vec())
        }
    };
    let items: Vec<Value> = page.into_iter().map(|row| item(&de, row)).collect();
    let link = |page: usize| {
        let mut query = vec![
            ("$page", page.to_string()),
            ("$pageSize", paging.page_size.to_string()),
        ];
        if let Some(f) = filter_text {
            query.push(("$filter", f.to_owned()));
        }
        let query = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!(
            "/data/v1/customobjectdata/key/{}/rowset?{query}",
            encode_segment(key)
        )
    };
    let mut links = Map::new();
    links.insert("self".into(), Value::from(link(paging.page)));
    if paging.has_next(total) {
        links.insert("next".into(), Value::from(link(paging.page + 1)));
    }
    reply::ok(json!({
        "links": links,
        "requestToken": ids::guid(),
        "page": paging.page,
        "pageSize": paging.page_size,
        "count": total,
        "items": items,
    }))
}

/// The value of `column` in `row`, for filters.
fn cell(de: &DataExtension, row: &Row, column: &str) -> Option<Value> {
    let i = de.column(column)?;
    row[i].as_deref().map(Value::from)
}

/// `{keys, values}` with lower-cased column names.
fn item(de: &DataExtension, row: &Row) -> Value {
    let mut keys = Map::new();
    let mut values = Map::new();
    for (i, (field, value)) in de.fields.iter().zip(row).enumerate() {
        let target = if de.primary.contains(&i) {
            &mut keys
        } else {
            &mut values
        };
        target.insert(
            field.name.to_lowercase(),
            Value::from(value.as_deref().unwrap_or("")),
        );
    }
    json!({"keys": keys, "values": values})
}

/// Percent-encodes a path segment (everything but unreserved characters).
fn encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
