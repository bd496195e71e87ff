//! Reading data extension rows: `GET /data/v1/customobjectdata/key/{key}/rowset` with
//! `$page`, `$pageSize` (default and maximum 2500) and `$filter` → `{links{self,next?},
//! requestToken, page, pageSize, count, items[{keys, values}]}`: column names lower-cased,
//! primary-key columns in `keys`, the others in `values` (unset ones as `""`), rows in the
//! order they were first written, `count` the number that match, and `links.next` (a path
//! from the REST root, query included) on every page but the last.

use axum::Json;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

use crate::api::de_lookup::{self, Access};
use crate::api::filter::Filter;
use crate::api::ids;
use crate::api::paging::Paging;
use crate::api::principal::{Principal, scope};
use crate::api::query::Params;
use crate::api::reply::Reply;
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
    // Serialized straight from the rows: a page of 2,500 rows allocates no value per cell.
    let body = RowsetPage {
        links,
        request_token: ids::guid(),
        page: paging.page,
        page_size: paging.page_size,
        count: total,
        items: Items {
            columns: &columns,
            rows: &page,
        },
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// The answer of a rowset read.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct RowsetPage<'a> {
    links: Map<String, Value>,
    request_token: String,
    page: usize,
    page_size: usize,
    count: usize,
    items: Items<'a>,
}

/// The page's rows as `[{keys, values}]`.
struct Items<'a> {
    columns: &'a Columns,
    rows: &'a [&'a Row],
}

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.rows.len()))?;
        for row in self.rows {
            seq.serialize_element(&Item {
                columns: self.columns,
                row,
            })?;
        }
        seq.end()
    }
}

/// One row as `{"keys":{…},"values":{…}}`.
struct Item<'a> {
    columns: &'a Columns,
    row: &'a Row,
}

impl Serialize for Item<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry(
            "keys",
            &Part {
                item: self,
                keys: true,
            },
        )?;
        map.serialize_entry(
            "values",
            &Part {
                item: self,
                keys: false,
            },
        )?;
        map.end()
    }
}

/// The key columns of a row, or the others (unset values as `""`).
struct Part<'a> {
    item: &'a Item<'a>,
    keys: bool,
}

impl Serialize for Part<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Columns { names, is_key } = self.item.columns;
        let mut map = serializer.serialize_map(None)?;
        for ((name, is_key), value) in names.iter().zip(is_key).zip(self.item.row.iter()) {
            if *is_key == self.keys {
                map.serialize_entry(name, value.as_deref().unwrap_or(""))?;
            }
        }
        map.end()
    }
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
