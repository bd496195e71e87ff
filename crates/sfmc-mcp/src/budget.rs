//! Results cut to the result budget: a tool result is `{"status", "result"}`, and when its JSON
//! text is longer than the budget it is cut — a list (`items`, `definitions`, `entry`, or a
//! top-level array) to its first items that fit, anything else to a prefix of its text — with a
//! `truncated` object whose `note` says how to get the rest (for a page: the exact `page` and
//! `pageSize` arguments that continue where the cut result stops).

use serde_json::{Map, Value, json};

/// Where a paged tool takes its page arguments, and what the call asked for.
#[derive(Debug, Clone, Copy)]
pub struct PageHint {
    /// `None`: page arguments are top-level arguments (integers); `Some(name)`: they go into
    /// the object argument `name` as strings (the `query` of `sfmc_rest_request`).
    pub within: Option<&'static str>,
    /// The page argument (`page`, `$page`).
    pub page: &'static str,
    /// The page-size argument (`pageSize`, `$pageSize`).
    pub page_size: &'static str,
    /// The page asked for, when given.
    pub asked_page: Option<u64>,
    /// The page size asked for, when given.
    pub asked_size: Option<u64>,
}

/// The fields of a reply that hold its list, in the order they are looked for.
const LIST_FIELDS: [&str; 3] = ["items", "definitions", "entry"];

/// The result as returned: `structured` is the tool's `structuredContent` (and its text), and
/// `note` the cut's note when it was cut.
#[derive(Debug, Clone, PartialEq)]
pub struct Budgeted {
    /// `{"status", "result"}` or, cut, `{"status", "result" | "resultText", "truncated"}`.
    pub structured: Value,
    /// Its JSON text.
    pub text: String,
    /// How to get the rest, when cut.
    pub note: Option<String>,
}

/// `{"status": status, "result": result}`, cut to at most `budget` bytes of JSON text.
pub fn fit(status: u16, result: Value, budget: usize, hint: Option<&PageHint>) -> Budgeted {
    let whole = json!({"status": status, "result": result});
    let text = whole.to_string();
    if text.len() <= budget {
        return Budgeted {
            structured: whole,
            text,
            note: None,
        };
    }
    let total_bytes = text.len();
    let Value::Object(mut envelope) = whole else {
        unreachable!("built as an object")
    };
    let result = envelope.remove("result").unwrap_or(Value::Null);
    let result = match cut_list(status, result, budget, hint) {
        Ok(budgeted) => return budgeted,
        Err(result) => result,
    };
    cut_text(status, &result, budget, total_bytes)
}

/// The list of `result`: itself when an array, else its first list field.
fn list_of(result: &mut Value) -> Option<&mut Vec<Value>> {
    if result.is_array() {
        return result.as_array_mut();
    }
    let object = result.as_object_mut()?;
    let field = LIST_FIELDS
        .into_iter()
        .find(|f| object.get(*f).is_some_and(Value::is_array))?;
    object.get_mut(field).and_then(Value::as_array_mut)
}

/// The first items of the list that fit, or `result` back when there is no list or not even
/// one item fits.
fn cut_list(
    status: u16,
    mut result: Value,
    budget: usize,
    hint: Option<&PageHint>,
) -> Result<Budgeted, Value> {
    let Some(list) = list_of(&mut result) else {
        return Err(result);
    };
    let items = std::mem::take(list);
    let total = items.len();
    let sizes: Vec<usize> = items.iter().map(|i| i.to_string().len()).collect();
    let position = hint.and_then(|h| page_position(&result, h, total));
    let build = |kept: usize, result: &Value| {
        let mut result = result.clone();
        if let Some(list) = list_of(&mut result) {
            list.extend(items[..kept].iter().cloned());
        }
        let (note, next) = list_note(kept, total, budget, position);
        let mut truncated = Map::new();
        truncated.insert("note".into(), note.clone().into());
        truncated.insert("returnedItems".into(), kept.into());
        truncated.insert("itemsInReply".into(), total.into());
        if let Some(next) = next {
            truncated.insert("next".into(), next);
        }
        let structured = json!({"status": status, "result": result, "truncated": truncated});
        (structured, note)
    };
    let (empty, _) = build(0, &result);
    let base = empty.to_string().len() + 16;
    let mut kept = 0;
    let mut used = base;
    while kept < total && used + sizes[kept] < budget {
        used += sizes[kept] + 1;
        kept += 1;
    }
    while kept > 0 {
        let (structured, note) = build(kept, &result);
        let text = structured.to_string();
        if text.len() <= budget {
            return Ok(Budgeted {
                structured,
                text,
                note: Some(note),
            });
        }
        kept -= 1;
    }
    if let Some(list) = list_of(&mut result) {
        *list = items;
    }
    Err(result)
}

/// The page shown and its size, with the hint saying where the next page's arguments go.
#[derive(Debug, Clone, Copy)]
struct Position<'a> {
    page: u64,
    size: u64,
    hint: &'a PageHint,
}

/// Where this page is, from the reply's `page`/`pageSize` (the server's word), else what was
/// asked; `None` when nothing says the reply is a page.
fn page_position<'a>(result: &Value, hint: &'a PageHint, total: usize) -> Option<Position<'a>> {
    let field = |name: &str| result.get(name).and_then(Value::as_u64);
    let page = field("page").or(hint.asked_page);
    let size = field("pageSize").or(hint.asked_size);
    if page.is_none() && size.is_none() {
        return None;
    }
    Some(Position {
        page: page.unwrap_or(1).max(1),
        size: size.unwrap_or(total as u64).max(1),
        hint,
    })
}

/// The note of a list cut to `kept` of `total` items, and the arguments of the next call.
fn list_note(
    kept: usize,
    total: usize,
    budget: usize,
    position: Option<Position<'_>>,
) -> (String, Option<Value>) {
    let head = format!(
        "Cut to fit the result budget ({budget} bytes): only the first {kept} of the {total} items of this reply are here."
    );
    let Some(position) = position.filter(|_| kept > 0) else {
        return (
            format!("{head} Ask for fewer (a filter or a smaller page) to see the others."),
            None,
        );
    };
    // The first item not shown, counted from 0 over the whole list; a page size that divides
    // it makes a page that starts exactly there.
    let offset = (position.page - 1) * position.size + kept as u64;
    let size = (1..=kept as u64)
        .rev()
        .find(|s| offset.is_multiple_of(*s))
        .unwrap_or(1);
    let page = offset / size + 1;
    let hint = position.hint;
    let (next, shown) = match hint.within {
        None => (
            json!({hint.page: page, hint.page_size: size}),
            format!("{}={page} and {}={size}", hint.page, hint.page_size),
        ),
        Some(within) => (
            json!({within: {hint.page: page.to_string(), hint.page_size: size.to_string()}}),
            format!(
                "{within} {{\"{}\": \"{page}\", \"{}\": \"{size}\"}}",
                hint.page, hint.page_size
            ),
        ),
    };
    (
        format!(
            "{head} To read on from item {}, call again with {shown} (the next arguments in truncated.next), and go on page by page.",
            offset + 1
        ),
        Some(next),
    )
}

/// A prefix of the result's JSON text, as `resultText`.
fn cut_text(status: u16, result: &Value, budget: usize, total_bytes: usize) -> Budgeted {
    let full = result.to_string();
    let note_for = |shown: usize| {
        format!(
            "Cut to fit the result budget ({budget} bytes): the result is {total_bytes} bytes of JSON and only its first {shown} are here, as text (resultText, not valid JSON). Ask for less: a smaller page, a filter, or one item by its id."
        )
    };
    let mut room = budget.saturating_sub(note_for(0).len() + 160);
    loop {
        let mut end = room.min(full.len());
        while !full.is_char_boundary(end) {
            end -= 1;
        }
        let note = note_for(end);
        let structured = json!({
            "status": status,
            "resultText": &full[..end],
            "truncated": {"note": note, "resultBytes": total_bytes, "returnedBytes": end},
        });
        let text = structured.to_string();
        if text.len() <= budget || end == 0 {
            return Budgeted {
                structured,
                text,
                note: Some(note),
            };
        }
        room = end.saturating_sub(text.len() - budget).min(end - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINT: PageHint = PageHint {
        within: None,
        page: "page",
        page_size: "pageSize",
        asked_page: None,
        asked_size: None,
    };

    fn page(page: u64, size: u64, n: usize, item_bytes: usize) -> Value {
        let items: Vec<Value> = (0..n)
            .map(|i| json!({"id": i, "name": "x".repeat(item_bytes)}))
            .collect();
        json!({"count": 1000, "page": page, "pageSize": size, "items": items})
    }

    #[test]
    fn small_results_are_whole() {
        let fitted = fit(200, json!({"a": 1}), 1024, None);
        assert_eq!(
            fitted.structured,
            json!({"status": 200, "result": {"a": 1}})
        );
        assert_eq!(fitted.text, fitted.structured.to_string());
        assert!(fitted.note.is_none());
    }

    #[test]
    fn a_page_keeps_its_first_items_and_says_which_page_continues() {
        let fitted = fit(200, page(1, 50, 50, 200), 4096, Some(&HINT));
        assert!(fitted.text.len() <= 4096);
        let kept = fitted.structured["truncated"]["returnedItems"]
            .as_u64()
            .unwrap_or(0);
        assert!(kept > 5 && kept < 50, "{kept}");
        let items = fitted.structured["result"]["items"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(items as u64, kept);
        assert_eq!(fitted.structured["result"]["items"][0]["id"], 0);
        // Page 2 of size `kept` starts at item `kept`.
        assert_eq!(
            fitted.structured["truncated"]["next"],
            json!({"page": 2, "pageSize": kept})
        );
        let note = fitted.note.unwrap_or_default();
        assert!(
            note.contains(&format!("page=2 and pageSize={kept}")),
            "{note}"
        );
    }

    #[test]
    fn a_later_page_continues_exactly_after_the_last_item_shown() {
        let fitted = fit(200, page(3, 10, 10, 1000), 4096, Some(&HINT));
        let kept = fitted.structured["truncated"]["returnedItems"]
            .as_u64()
            .unwrap_or(0);
        let next = &fitted.structured["truncated"]["next"];
        let (p, s) = (
            next["page"].as_u64().unwrap_or(0),
            next["pageSize"].as_u64().unwrap_or(0),
        );
        // The next page's first item is item 20 + kept of the whole list.
        assert_eq!((p - 1) * s, 20 + kept, "{next}");
    }

    #[test]
    fn rest_hints_go_into_the_query_as_strings() {
        let hint = PageHint {
            within: Some("query"),
            page: "$page",
            page_size: "$pageSize",
            ..HINT
        };
        let fitted = fit(200, page(1, 50, 50, 200), 4096, Some(&hint));
        let kept = fitted.structured["truncated"]["returnedItems"]
            .as_u64()
            .unwrap_or(0);
        assert_eq!(
            fitted.structured["truncated"]["next"],
            json!({"query": {"$page": "2", "$pageSize": kept.to_string()}})
        );
    }

    #[test]
    fn anything_else_is_cut_as_text() {
        let big = json!({"html": "<p>\"quoted\"</p>".repeat(2000)});
        let fitted = fit(200, big, 2048, None);
        assert!(fitted.text.len() <= 2048, "{}", fitted.text.len());
        assert!(
            fitted.structured["resultText"]
                .as_str()
                .is_some_and(|t| t.starts_with("{\"html\""))
        );
        assert!(
            fitted
                .note
                .is_some_and(|n| n.contains("result budget (2048 bytes)"))
        );
    }

    #[test]
    fn one_item_larger_than_the_budget_falls_back_to_text() {
        let fitted = fit(200, page(1, 1, 1, 10_000), 2048, Some(&HINT));
        assert!(fitted.text.len() <= 2048);
        assert!(fitted.structured.get("resultText").is_some());
    }
}
