//! Paging: `$page` (from 1) and `$pageSize` read from the query (any case, `$` optional),
//! the slice of a list they select, and the reply shapes of the families:
//! `{count,page,pageSize,links,items}` (assets, categories, campaigns, journeys; `count` is the
//! total) and `{requestId,definitions,count,page,pageSize}` (transactional definitions; `count`
//! is the number on this page). Row reads build their `links.next` shape in
//! [`crate::api::row_reads`].

use serde_json::{Value, json};

use crate::api::ids;
use crate::api::query::Params;
use crate::api::reply::{ApiError, VALIDATION, bad_request};

/// The page a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Paging {
    /// Page number, from 1.
    pub page: usize,
    /// Items per page, at least 1 and at most the family's maximum.
    pub page_size: usize,
}

impl Paging {
    /// Reads `$page` and `$pageSize` (default `default_size`; larger values are lowered to
    /// `max_size`, as the live API does). 0 or non-numbers are a 400.
    pub(crate) fn from_params(
        params: &Params,
        default_size: usize,
        max_size: usize,
    ) -> Result<Paging, ApiError> {
        let page = params.number("page")?.unwrap_or(1);
        let size = params
            .number("pageSize")?
            .unwrap_or(u64::try_from(default_size).unwrap_or(u64::MAX));
        if page == 0 {
            return Err(bad_request("$page must be at least 1.", VALIDATION));
        }
        if size == 0 {
            return Err(bad_request("$pageSize must be at least 1.", VALIDATION));
        }
        Ok(Paging {
            page: usize::try_from(page).unwrap_or(usize::MAX),
            page_size: usize::try_from(size).unwrap_or(usize::MAX).min(max_size),
        })
    }

    /// Index of the first item on this page.
    pub(crate) fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(self.page_size)
    }

    /// The items of `all` on this page.
    pub(crate) fn slice<'a, T>(&self, all: &'a [T]) -> &'a [T] {
        let start = self.offset().min(all.len());
        let end = start.saturating_add(self.page_size).min(all.len());
        &all[start..end]
    }

    /// Whether items follow this page in a list of `total`.
    pub(crate) fn has_next(&self, total: usize) -> bool {
        self.offset().saturating_add(self.page_size) < total
    }
}

/// `{count,page,pageSize,links,items}` where `count` is `total` (the number that match).
pub(crate) fn counted(paging: Paging, total: usize, items: Vec<Value>) -> Value {
    json!({
        "count": total,
        "page": paging.page,
        "pageSize": paging.page_size,
        "links": {},
        "items": items,
    })
}

/// `{requestId,definitions,count,page,pageSize}` where `count` is the number on this page.
pub(crate) fn definitions(paging: Paging, definitions: Vec<Value>) -> Value {
    let count = definitions.len();
    json!({
        "requestId": ids::guid(),
        "definitions": definitions,
        "count": count,
        "page": paging.page,
        "pageSize": paging.page_size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(query: &str, default: usize, max: usize) -> Result<Paging, ApiError> {
        Paging::from_params(&Params::parse(Some(query)).unwrap(), default, max)
    }

    #[test]
    fn reads_and_clamps() {
        let p = paging("$page=3&$pagesize=2", 50, 50).unwrap();
        assert_eq!((p.page, p.page_size), (3, 2));
        let items: Vec<u32> = (0..7).collect();
        assert_eq!(p.slice(&items), &[4, 5]);
        assert!(p.has_next(7));
        assert!(!paging("page=4&pageSize=2", 50, 50).unwrap().has_next(7));
        assert_eq!(
            paging("page=9&pageSize=2", 50, 50).unwrap().slice(&items),
            &[] as &[u32]
        );
        assert_eq!(paging("PageSize=500", 50, 50).unwrap().page_size, 50);
        assert_eq!(
            paging("", 25, 50).unwrap(),
            Paging {
                page: 1,
                page_size: 25
            }
        );
        assert!(paging("$page=0", 50, 50).is_err());
        assert!(paging("$pageSize=0", 50, 50).is_err());
        assert!(paging("$pageSize=ten", 50, 50).is_err());
    }
}
