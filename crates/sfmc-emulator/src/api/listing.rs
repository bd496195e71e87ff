//! The list pipeline shared by the JSON families (assets, categories, campaigns, journeys,
//! definitions): `$filter` → `$orderBy` (`field [asc|desc]`, comma-separated, fields
//! case-insensitive and dotted) → page → `$fields` (a comma-separated projection; `id` is
//! always kept).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::api::filter::{Filter, lookup};
use crate::api::paging::Paging;
use crate::api::query::Params;
use crate::api::reply::{ApiError, VALIDATION, bad_request};

/// What a list request asks for.
#[derive(Debug)]
pub(crate) struct ListQuery {
    pub filter: Option<Filter>,
    order: Vec<(String, bool)>,
    pub paging: Paging,
    fields: Option<Vec<String>>,
}

impl ListQuery {
    /// Reads `$filter`, `$orderBy` (else `default_order`), `$page`, `$pageSize`, `$fields`.
    pub(crate) fn from_params(
        params: &Params,
        default_size: usize,
        max_size: usize,
        default_order: Option<&str>,
    ) -> Result<ListQuery, ApiError> {
        let filter = Filter::optional(params.get("filter"))?;
        let order_text = params
            .get("orderBy")
            .filter(|o| !o.trim().is_empty())
            .or(default_order);
        let order = order_text.map(parse_order).transpose()?.unwrap_or_default();
        let fields = params
            .get("fields")
            .filter(|f| !f.trim().is_empty())
            .map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            });
        Ok(ListQuery {
            filter,
            order,
            paging: Paging::from_params(params, default_size, max_size)?,
            fields,
        })
    }

    /// The total number of matching items and the requested page of them.
    pub(crate) fn run<'a>(&self, items: impl Iterator<Item = &'a Value>) -> (usize, Vec<Value>) {
        let mut matching: Vec<&Value> = items
            .filter(|item| self.filter.as_ref().is_none_or(|f| f.matches_json(item)))
            .collect();
        if !self.order.is_empty() {
            matching.sort_by_cached_key(|item| {
                self.order
                    .iter()
                    .map(|(field, desc)| SortKey::of(lookup(item, field), *desc))
                    .collect::<Vec<_>>()
            });
        }
        let page = self
            .paging
            .slice(&matching)
            .iter()
            .map(|item| self.project(item))
            .collect();
        (matching.len(), page)
    }

    fn project(&self, item: &Value) -> Value {
        let (Some(fields), Some(map)) = (&self.fields, item.as_object()) else {
            return item.clone();
        };
        let kept: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| {
                k.eq_ignore_ascii_case("id") || fields.iter().any(|f| f.eq_ignore_ascii_case(k))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Value::Object(kept)
    }
}

/// `name asc, modifiedDate DESC` → [(name, false), (modifiedDate, true)].
fn parse_order(text: &str) -> Result<Vec<(String, bool)>, ApiError> {
    text.split(',')
        .map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            let desc = match words.as_slice() {
                [_] => false,
                [_, dir] if dir.eq_ignore_ascii_case("asc") => false,
                [_, dir] if dir.eq_ignore_ascii_case("desc") => true,
                _ => {
                    return Err(bad_request(
                        format!("The $orderBy {text:?} cannot be parsed; use `field [asc|desc]`."),
                        VALIDATION,
                    ));
                }
            };
            Ok((words[0].to_owned(), desc))
        })
        .collect()
}

/// One `$orderBy` field of an item, computed once per item: its value and, for strings, the
/// lower-cased text. Ascending, numbers go numerically, strings case-insensitively, other
/// mixes by their JSON text, missing values last; descending is the reverse.
struct SortKey<'a> {
    value: Option<&'a Value>,
    lower: Option<String>,
    desc: bool,
}

impl<'a> SortKey<'a> {
    fn of(value: Option<&'a Value>, desc: bool) -> Self {
        let lower = value.and_then(Value::as_str).map(str::to_lowercase);
        SortKey { value, lower, desc }
    }
}

impl Ord for SortKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let o = match (self.value, other.value) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(Value::Number(x)), Some(Value::Number(y))) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
            (Some(Value::String(_)), Some(Value::String(_))) => self.lower.cmp(&other.lower),
            (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
        };
        if self.desc { o.reverse() } else { o }
    }
}

impl PartialOrd for SortKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for SortKey<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(query: &str, items: &[Value]) -> (usize, Vec<Value>) {
        let params = Params::parse(Some(query)).unwrap();
        ListQuery::from_params(&params, 50, 50, Some("modifiedDate desc"))
            .unwrap()
            .run(items.iter())
    }

    #[test]
    fn filters_orders_pages_and_projects() {
        let items: Vec<Value> = (1..=5)
            .map(|i| json!({"id": i, "name": format!("n{}", 6 - i), "modifiedDate": format!("2024-01-0{i}")}))
            .collect();
        let (total, page) = list("", &items);
        assert_eq!(total, 5);
        assert_eq!(page[0]["id"], 5);
        let (_, page) = list("$orderBy=Name+ASC&$pagesize=2&$page=2&$fields=name", &items);
        assert_eq!(
            page,
            vec![
                json!({"id": 3, "name": "n3"}),
                json!({"id": 2, "name": "n4"})
            ]
        );
        let (total, page) = list("$filter=id+gt+3", &items);
        assert_eq!((total, page.len()), (2, 2));
        let params = Params::parse(Some("$orderBy=name+sideways")).unwrap();
        assert!(ListQuery::from_params(&params, 50, 50, None).is_err());
    }
}
