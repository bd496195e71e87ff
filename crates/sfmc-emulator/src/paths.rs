//! Path normalization before routing: runs of `/` collapse to one, a trailing `/` is dropped
//! and the path is lower-cased, so `//platform/v1/tokenContext` and `/platform/v1/tokencontext`
//! reach the same route. The query string is left alone. Handlers that need path parameters in
//! their original case read [`OriginalPath`] from the request extensions.

use axum::extract::{FromRequestParts, Request};
use axum::http::Uri;
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::middleware::Next;
use axum::response::Response;

/// The request path with `/` runs collapsed and any trailing `/` dropped, in its original case.
/// Its segments line up with the normalized (lower-cased) path the router matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginalPath(pub String);

/// The segments of the request's [`OriginalPath`], percent-decoded, in their original case
/// (segment 0 is the first after the leading `/`). Families read keys from here, since the
/// routed path is lower-cased.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Segments(pub Vec<String>);

impl Segments {
    /// Segment `i`, or `""` when the path is shorter.
    pub(crate) fn get(&self, i: usize) -> &str {
        self.0.get(i).map_or("", String::as_str)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Segments {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let path = parts
            .extensions
            .get::<OriginalPath>()
            .map_or_else(|| collapse(parts.uri.path()), |p| p.0.clone());
        Ok(Segments(
            path.split('/')
                .filter(|s| !s.is_empty())
                .map(percent_decode)
                .collect(),
        ))
    }
}

/// `%XX` escapes decoded (invalid escapes are kept, invalid UTF-8 replaced, never fatal).
pub(crate) fn percent_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// `path` with `/` runs collapsed and a trailing `/` dropped (`/` stays `/`).
pub(crate) fn collapse(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Middleware: rewrites the request URI to the normalized path before the router sees it.
pub(crate) async fn normalize(mut request: Request, next: Next) -> Response {
    let original = collapse(request.uri().path());
    let normalized = original.to_ascii_lowercase();
    if normalized != request.uri().path()
        && let Some(uri) = with_path(request.uri(), &normalized)
    {
        *request.uri_mut() = uri;
    }
    request.extensions_mut().insert(OriginalPath(original));
    next.run(request).await
}

/// `uri` with its path replaced by `path`, query kept.
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => PathAndQuery::try_from(format!("{path}?{query}")).ok()?,
        None => PathAndQuery::try_from(path).ok()?,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_slashes() {
        assert_eq!(
            collapse("//platform//v1/tokenContext/"),
            "/platform/v1/tokenContext"
        );
        assert_eq!(collapse(""), "/");
        assert_eq!(collapse("///"), "/");
        assert_eq!(collapse("/v2/token"), "/v2/token");
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("key:My%20DE"), "key:My DE");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%C3%A9%zz"), "é%zz");
    }

    #[test]
    fn keeps_the_query() {
        let uri: Uri = "/Hub/V1/Campaigns?$PageSize=5".parse().unwrap();
        assert_eq!(
            with_path(&uri, "/hub/v1/campaigns").unwrap().to_string(),
            "/hub/v1/campaigns?$PageSize=5"
        );
    }
}
