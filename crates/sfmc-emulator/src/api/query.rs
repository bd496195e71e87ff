//! Query strings as the families read them: form-encoded (`+` is a space), names matched
//! case-insensitively and with or without a leading `$` (`$pageSize`, `$pagesize`, `pageSize`,
//! `PAGESIZE` are one parameter). Unparsable query strings and repeated parameters are a 400.

use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;

use crate::api::reply::{ApiError, VALIDATION, bad_request};

/// The request's query parameters.
#[derive(Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses a raw query string.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let pairs: Vec<(String, String)> = match raw {
            None => Vec::new(),
            Some(raw) => serde_urlencoded::from_str(raw).map_err(|e| {
                bad_request(format!("The query string cannot be read: {e}."), VALIDATION)
            })?,
        };
        for (i, (name, _)) in pairs.iter().enumerate() {
            let canon = canonical(name);
            if pairs[..i].iter().any(|(n, _)| canonical(n) == canon) {
                return Err(bad_request(
                    format!("The query parameter {name} is given more than once."),
                    VALIDATION,
                ));
            }
        }
        Ok(Params { pairs })
    }

    /// The value of parameter `name` (give it without `$`, any case).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let want = canonical(name);
        self.pairs
            .iter()
            .find(|(n, _)| canonical(n) == want)
            .map(|(_, v)| v.as_str())
    }

    /// A non-negative integer parameter; 400 naming it when it is not one.
    pub(crate) fn number(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                bad_request(
                    format!("The query parameter ${name} must be a whole number, not {v:?}."),
                    VALIDATION,
                )
            }),
        }
    }

    /// A required, non-empty parameter; 400 naming it when absent.
    pub(crate) fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                bad_request(
                    format!("The query parameter {name} is required."),
                    VALIDATION,
                )
            })
    }
}

/// `name` without a leading `$`, lower-cased.
fn canonical(name: &str) -> String {
    name.strip_prefix('$').unwrap_or(name).to_ascii_lowercase()
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let RawQuery(raw) = RawQuery::from_request_parts(parts, state)
            .await
            .unwrap_or(RawQuery(None));
        Params::parse(raw.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_any_case_with_or_without_dollar() {
        let p = Params::parse(Some("$PageSize=5&PAGE=2&%24filter=name+eq+%27a+b%27")).unwrap();
        assert_eq!(p.get("pagesize"), Some("5"));
        assert_eq!(p.get("pageSize"), Some("5"));
        assert_eq!(p.get("page"), Some("2"));
        assert_eq!(p.get("filter"), Some("name eq 'a b'"));
        assert_eq!(p.number("page").unwrap(), Some(2));
        assert!(
            Params::parse(Some("page=x"))
                .unwrap()
                .number("page")
                .is_err()
        );
        assert!(Params::parse(Some("$page=1&page=2")).is_err());
        assert!(Params::parse(None).unwrap().get("page").is_none());
    }
}
