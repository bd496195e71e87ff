//! Reading data extension rows: `GET /data/v1/customobjectdata/key/{key}/rowset` with
//! `$page`, `$pageSize` (default and maximum 2500) and `$filter` → `{links{self,next?},
//! requestToken, page, pageSize, count, items[{keys, values}]}`: column names lower-cased,
//! primary-key columns in `keys`, the others in `values` (unset ones as `""`), rows in the
//! order they were first written, `count` the number that match, and `links.next` (a path
//! from the REST root, query included) on every page but the last.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
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
            let filter = filter.for_columns(|column| de.column(column));
            let (offset, size) = (paging.offset(), paging.page_size);
            let mut total = 0;
            let mut page = Vec::new();
            for row in de.rows().iter().filter(|row| filter.matches(row)) {
                if total >= offset && page.len() < size {
                    page.push(row);
                }
                total += 1;
            }
            (total, page)
        }
    };
    let columns = Columns::of(&de);
    let items: Vec<Value> = page.into_iter().map(|row| columns.item(row)).collect();
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

/// How rows are shown: each column's lower-cased name and whether it is a primary key,
/// worked out once a request.
struct Columns {
    names: Vec<String>,
    is_key: Vec<bool>,
}

impl Columns {
    fn of(de: &DataExtension) -> Self {
        Columns {
            names: de.fields.iter().map(|f| f.name.to_lowercase()).collect(),
            is_key: (0..de.fields.len())
                .map(|i| de.primary.contains(&i))
                .collect(),
        }
    }

    /// `{keys, values}` with lower-cased column names (unset values as `""`).
    fn item(&self, row: &Row) -> Value {
        let mut keys = Map::new();
        let mut values = Map::new();
        for ((name, is_key), value) in self.names.iter().zip(&self.is_key).zip(row) {
            let target = if *is_key { &mut keys } else { &mut values };
            target.insert(name.clone(), Value::from(value.as_deref().unwrap_or("")));
        }
        json!({"keys": keys, "values": values})
    }
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`).
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment (everything but unreserved characters).
pub(crate) fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, NOT_UNRESERVED).to_string()
}
