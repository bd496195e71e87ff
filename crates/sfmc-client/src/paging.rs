//! Paged lists as streams: [`pages`] yields each page's items, [`items`] the items one by one,
//! over the three styles of Marketing Cloud ([`Paging`]):
//!
//! - [`Paging::Page`]: `$page`/`$pageSize`, reply `{count, page, pageSize, items}` (`count` is
//!   the total); stops on an empty or short page or when `page × pageSize ≥ count`.
//! - [`Paging::Definitions`]: `$page`/`$pageSize`, reply `{definitions, count, pageSize}` where
//!   `count` is the number on this page; stops when it is below `pageSize`.
//! - [`Paging::NextLink`]: reply `{items, links: {next}}`; follows `links.next` until it is
//!   absent. An absolute `next` keeps only its path and query: the request still goes to the
//!   REST instance URL, so the token never follows a link to another host.
//!
//! Page numbers come from the requests, never from the answers; an answer naming another page
//! than the one asked for (a server ignoring `$page`) ends the stream with an error, and so does
//! a `links.next` leading back to a page already read. A stream therefore always ends.
//!
//! A page is fetched only when the stream is polled past the previous one; dropping the stream
//! drops the request in flight and leaves nothing behind.

use std::collections::HashSet;

use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::Value;

use crate::catalog::Paging;
use crate::client::Client;
use crate::error::ClientError;
use crate::request::ApiRequest;

/// Where a stream is: the next request (or the error that ends the stream), the style once
/// known, and the requests sent.
struct Cursor {
    client: Client,
    next: Option<Result<ApiRequest, ClientError>>,
    style: Option<Paging>,
    sent: HashSet<String>,
}

/// The items of each page, page by page; `style` `None` is told by the first page's shape.
pub fn pages(
    client: Client,
    mut request: ApiRequest,
    style: Option<Paging>,
) -> BoxStream<'static, Result<Vec<Value>, ClientError>> {
    if matches!(style, Some(Paging::Page | Paging::Definitions))
        && request.query_value("page").is_none()
    {
        request.set_query("$page", "1".to_owned());
    }
    let cursor = Cursor {
        client,
        next: Some(Ok(request)),
        style,
        sent: HashSet::new(),
    };
    stream::try_unfold(cursor, |mut cursor| async move {
        let Some(request) = cursor.next.take().transpose()? else {
            return Ok(None);
        };
        cursor.sent.insert(request_key(&request));
        let body = cursor.client.execute(&request).await?.json();
        let style = *cursor.style.get_or_insert_with(|| detect(&body));
        let (items, next) = step(style, request, body)?;
        cursor.next = next.map(|next| {
            if cursor.sent.contains(&request_key(&next)) {
                // This page's items are good; the stream ends after them.
                return Err(ClientError::InvalidResponse(format!(
                    "GET {}: links.next leads back to a page already read; stopping",
                    next.path
                )));
            }
            Ok(next)
        });
        Ok(Some((items, cursor)))
    })
    .boxed()
}

/// Every item of every page, paged as `style` says; [`Paging::None`] yields the answer once.
pub fn items(
    client: Client,
    request: ApiRequest,
    style: Paging,
) -> BoxStream<'static, Result<Value, ClientError>> {
    flatten(pages(client, request, Some(style)))
}

/// Every item of every page, the style told by the first page.
pub fn detected_items(
    client: Client,
    request: ApiRequest,
) -> BoxStream<'static, Result<Value, ClientError>> {
    flatten(pages(client, request, None))
}

fn flatten(
    pages: BoxStream<'static, Result<Vec<Value>, ClientError>>,
) -> BoxStream<'static, Result<Value, ClientError>> {
    pages
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
        .boxed()
}

/// The style a first page's shape shows.
pub fn detect(body: &Value) -> Paging {
    if body.pointer("/links/next").is_some_and(Value::is_string) {
        Paging::NextLink
    } else if body.get("definitions").is_some_and(Value::is_array) {
        Paging::Definitions
    } else if body.get("items").is_some_and(Value::is_array) {
        Paging::Page
    } else {
        Paging::None
    }
}

/// This page's items and the request for the next page, if there is one; an error when the
/// answer is another page than the one asked for.
fn step(
    style: Paging,
    mut request: ApiRequest,
    mut body: Value,
) -> Result<(Vec<Value>, Option<ApiRequest>), ClientError> {
    let number = |body: &Value, key: &str| body.get(key).and_then(Value::as_u64);
    fn take(body: &mut Value, key: &str) -> Vec<Value> {
        match body.get_mut(key).map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        }
    }
    let (items, last) = match style {
        Paging::None => return Ok((vec![body], None)),
        Paging::NextLink => {
            let next = body
                .pointer("/links/next")
                .and_then(Value::as_str)
                .map(|link| ApiRequest::new(Method::GET, relative_link(link)));
            return Ok((take(&mut body, "items"), next));
        }
        Paging::Page => {
            let items = take(&mut body, "items");
            let page_size = number(&body, "pageSize").unwrap_or(items.len() as u64);
            let total = number(&body, "count");
            let page = requested_page(&request);
            let last = items.is_empty()
                || (items.len() as u64) < page_size
                || total.is_some_and(|count| page.saturating_mul(page_size) >= count);
            (items, last)
        }
        Paging::Definitions => {
            let items = take(&mut body, "definitions");
            let page_size = number(&body, "pageSize").unwrap_or(items.len() as u64);
            let on_page = number(&body, "count").unwrap_or(items.len() as u64);
            let last = items.is_empty() || on_page < page_size;
            (items, last)
        }
    };
    let page = requested_page(&request);
    if let Some(answered) = number(&body, "page").filter(|answered| *answered != page) {
        return Err(ClientError::InvalidResponse(format!(
            "{} {}: asked for page {page}, the answer is page {answered} (the server ignores $page); stopping",
            request.method, request.path
        )));
    }
    if last {
        return Ok((items, None));
    }
    request.set_query("$page", (page + 1).to_string());
    Ok((items, Some(request)))
}

/// The page a request asks for (`$page`, from 1).
fn requested_page(request: &ApiRequest) -> u64 {
    request
        .query_value("page")
        .and_then(|page| page.parse().ok())
        .unwrap_or(1)
}

/// A request as text (path and query), to tell a link already followed.
fn request_key(request: &ApiRequest) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&request.query)
        .finish();
    format!("{}?{query}", request.path)
}

/// The path and query of a link; an absolute URL loses its scheme and host.
fn relative_link(link: &str) -> String {
    match url::Url::parse(link) {
        Ok(url) => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        },
        Err(_) => link.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn styles_are_told_by_shape() {
        assert_eq!(detect(&json!({"items": [], "page": 1})), Paging::Page);
        assert_eq!(detect(&json!({"definitions": []})), Paging::Definitions);
        assert_eq!(
            detect(&json!({"items": [], "links": {"next": "/x?$page=2"}})),
            Paging::NextLink
        );
        assert_eq!(detect(&json!({"id": "1"})), Paging::None);
    }

    #[test]
    fn absolute_links_keep_path_and_query_only() {
        assert_eq!(
            relative_link("https://evil.example/a/b?$page=2"),
            "/a/b?$page=2"
        );
        assert_eq!(relative_link("/a/b?$page=2"), "/a/b?$page=2");
    }

    #[test]
    fn page_style_stops_at_the_total() {
        let request = ApiRequest::new(Method::GET, "/hub/v1/campaigns").query("$page", "2");
        let page =
            |body| step(Paging::Page, request.clone(), body).unwrap_or_else(|e| panic!("{e}"));
        let (items, next) = page(json!({"count": 4, "page": 2, "pageSize": 2, "items": [1, 2]}));
        assert_eq!(items.len(), 2);
        assert!(next.is_none());
        let (_, next) = page(json!({"count": 5, "page": 2, "pageSize": 2, "items": [1, 2]}));
        assert_eq!(
            next.and_then(|n| n.query_value("page").map(str::to_owned))
                .as_deref(),
            Some("3")
        );
    }

    #[test]
    fn the_page_number_is_the_one_asked_for() {
        let request = ApiRequest::new(Method::GET, "/hub/v1/campaigns").query("$page", "2");
        let error = step(
            Paging::Page,
            request.clone(),
            json!({"count": 9, "page": 1, "pageSize": 2, "items": [1, 2]}),
        )
        .err();
        assert!(
            matches!(&error, Some(ClientError::InvalidResponse(text)) if text.contains("asked for page 2, the answer is page 1")),
            "{error:?}"
        );
        let error = step(
            Paging::Definitions,
            request,
            json!({"count": 2, "page": 7, "pageSize": 2, "definitions": [1, 2]}),
        )
        .err();
        assert!(
            matches!(error, Some(ClientError::InvalidResponse(_))),
            "{error:?}"
        );
    }
}
