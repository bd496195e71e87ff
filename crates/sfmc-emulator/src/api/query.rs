//! Query strings as the families read them: form-encoded (`+` is a space), names matched
//! case-insensitively and with or without a leading `$` (`$pageSize`, `$pagesize`, `pageSize`,
//! `PAGESIZE` are one parameter). Unparsable query strings, repeated parameters and more than
//! [`MAX_PARAMS`] parameters are a 400.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, RawQuery};
use axum::http::request::Parts;

use crate::api::reply::{ApiError, VALIDATION, bad_request};

/// Most parameters a query string may have (the families read at most a handful).
pub(crate) const MAX_PARAMS: usize = 100;

/// The request's query parameters, by canonical name ([`canonical`]).
#[derive(Debug, Default)]
pub(crate) struct Params {
    by_name: HashMap<String, String>,
}

impl Params {
    /// Parses a raw query string: each name is canonicalized once, repeats found by hash.
    pub(crate) fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let Some(raw) = raw else {
            return Ok(Params::default());
        };
        let given = raw.split('&').filter(|pair| !pair.is_empty()).count();
        if given > MAX_PARAMS {
            return Err(bad_request(
                format!(
                    "The query string has {given} parameters; at most {MAX_PARAMS} are accepted."
                ),
                VALIDATION,
            ));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw).map_err(|e| {
            bad_request(format!("The query string cannot be read: {e}."), VALIDATION)
        })?;
        let mut by_name = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if by_name.insert(canonical(&name), value).is_some() {
                return Err(bad_request(
                    format!("The query parameter {name} is given more than once."),
                    VALIDATION,
                ));
            }
        }
        Ok(Params { by_name })
    }

    /// The value of parameter `name` (give it without `$`, any case).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.by_name.get(&canonical(name)).map(String::as_str)
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

    fn distinct(n: usize) -> String {
        (0..n)
            .map(|i| format!("p{i}={i}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    #[test]
    fn at_most_100_parameters() {
        let hundred = Params::parse(Some(&distinct(MAX_PARAMS))).unwrap();
        assert_eq!(hundred.get("P99"), Some("99"));
        let many = Params::parse(Some(&distinct(10_000))).unwrap_err();
        assert_eq!(
            many,
            bad_request(
                "The query string has 10000 parameters; at most 100 are accepted.",
                VALIDATION
            )
        );
        assert!(Params::parse(Some(&distinct(MAX_PARAMS + 1))).is_err());
        // Empty pairs (`&&`) are not parameters.
        assert!(Params::parse(Some(&format!("{}&&&", distinct(MAX_PARAMS)))).is_ok());
    }

    #[test]
    fn repeats_are_named() {
        let repeated = Params::parse(Some("a=1&$PageSize=2&b=3&pagesize=4")).unwrap_err();
        assert_eq!(
            repeated,
            bad_request(
                "The query parameter pagesize is given more than once.",
                VALIDATION
            )
        );
    }
}
