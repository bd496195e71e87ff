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
//! A page is fetched only when the stream is polled past the previous one; dropping the stream
//! drops the request in flight and leaves nothing behind.

use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use reqwest::Method;
use serde_json::Value;

use crate::catalog::Paging;
use crate::client::Client;
use crate::error::ClientError;
use crate::request::ApiRequest;

/// Where a stream is: the next request, if any, and the style once known.
struct Cursor {
    client: Client,
    next: Option<ApiRequest>,
    style: Option<Paging>,
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
        next: Some(request),
        style,
    };
    stream::try_unfold(cursor, |mut cursor| async move {
        let Some(request) = cursor.next.take() else {
            return Ok(None);
        };
        let body = cursor.client.send(request.clone()).await?.json();
        let style = *cursor.style.get_or_insert_with(|| detect(&body));
        let (items, next) = step(style, &request, body);
        cursor.next = next;
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

/// This page's items and the request for the next page, if there is one.
fn step(style: Paging, request: &ApiRequest, mut body: Value) -> (Vec<Value>, Option<ApiRequest>) {
    let number = |body: &Value, key: &str| body.get(key).and_then(Value::as_u64);
    fn take(body: &mut Value, key: &str) -> Vec<Value> {
        match body.get_mut(key).map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        }
    }
    match style {
        Paging::None => (vec![body], None),
        Paging::Page => {
            let items = take(&mut body, "items");
            let page = number(&body, "page")
                .or_else(|| request.query_value("page")?.parse().ok())
                .unwrap_or(1);
            let page_size = number(&body, "pageSize").unwrap_or(items.len() as u64);
            let total = number(&body, "count");
            let last = items.is_empty()
                || (items.len() as u64) < page_size
                || total.is_some_and(|count| page.saturating_mul(page_size) >= count);
            (items, (!last).then(|| with_page(request, page + 1)))
        }
        Paging::Definitions => {
            let items = take(&mut body, "definitions");
            let page = request
                .query_value("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let page_size = number(&body, "pageSize").unwrap_or(items.len() as u64);
            let on_page = number(&body, "count").unwrap_or(items.len() as u64);
            let last = items.is_empty() || on_page < page_size;
            (items, (!last).then(|| with_page(request, page + 1)))
        }
        Paging::NextLink => {
            let next = body
                .pointer("/links/next")
                .and_then(Value::as_str)
                .map(relative_link)
                .filter(|next| *next != request.path);
            let items = take(&mut body, "items");
            (items, next.map(|path| ApiRequest::new(Method::GET, path)))
        }
    }
}

fn with_page(request: &ApiRequest, page: u64) -> ApiRequest {
    let mut next = request.clone();
    next.set_query("$page", page.to_string());
    next
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
        let (items, next) = step(
            Paging::Page,
            &request,
            json!({"count": 4, "page": 2, "pageSize": 2, "items": [1, 2]}),
        );
        assert_eq!(items.len(), 2);
        assert!(next.is_none());
        let (_, next) = step(
            Paging::Page,
            &request,
            json!({"count": 5, "page": 2, "pageSize": 2, "items": [1, 2]}),
        );
        assert_eq!(
            next.and_then(|n| n.query_value("page").map(str::to_owned))
                .as_deref(),
            Some("3")
        );
    }
}
