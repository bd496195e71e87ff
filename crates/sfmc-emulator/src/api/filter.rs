//! `$filter` expressions: `field op value` joined by `and` (case-insensitive keywords), where
//! `op` is `eq`, `ne`/`neq`, `like`, `gt`, `ge`/`gte`, `lt` or `le`/`lte`, `field` may be dotted
//! (`assetType.name`), and `value` is a quoted string (`''` escapes a quote), a number,
//! `true`, `false` or `null`. Strings compare case-insensitively; `like` treats `%` as a
//! wildcard and, without one, matches a substring. Anything else is a 400. String literals
//! are lower-cased once when parsed; data extension rows resolve each condition's column once
//! a request ([`Filter::for_columns`]) and compare cells without building JSON values.

use std::borrow::Cow;

use serde_json::Value;

use crate::api::reply::{ApiError, VALIDATION, bad_request};

/// A parsed `$filter`: every condition must hold.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Filter {
    conditions: Vec<Condition>,
}

#[derive(Clone, Debug, PartialEq)]
struct Condition {
    field: String,
    op: Op,
    value: Literal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Like,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Debug, PartialEq)]
enum Literal {
    /// Lower-cased.
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

impl Filter {
    /// Parses `text`; a 400 saying what could not be read.
    pub(crate) fn parse(text: &str) -> Result<Filter, ApiError> {
        parse(text).map_err(|why| {
            bad_request(
                format!("The $filter {text:?} cannot be parsed: {why}."),
                VALIDATION,
            )
        })
    }

    /// Parses an optional `$filter`.
    pub(crate) fn optional(text: Option<&str>) -> Result<Option<Filter>, ApiError> {
        text.filter(|t| !t.trim().is_empty())
            .map(Filter::parse)
            .transpose()
    }

    /// Whether a JSON item matches (field names case-insensitive at every level).
    pub(crate) fn matches_json(&self, item: &Value) -> bool {
        self.conditions
            .iter()
            .all(|c| c.holds(lookup(item, &c.field).map(Actual::Json)))
    }

    /// This filter over rows of text cells, each field resolved once by `column` (`None`: no
    /// such column, so its cells are missing).
    pub(crate) fn for_columns(&self, column: impl Fn(&str) -> Option<usize>) -> ColumnFilter<'_> {
        ColumnFilter {
            conditions: self
                .conditions
                .iter()
                .map(|c| (column(&c.field), c))
                .collect(),
        }
    }
}

/// A [`Filter`] whose fields are column positions.
pub(crate) struct ColumnFilter<'a> {
    conditions: Vec<(Option<usize>, &'a Condition)>,
}

impl ColumnFilter<'_> {
    /// Whether a row of optional text cells matches.
    pub(crate) fn matches(&self, row: &[Option<Box<str>>]) -> bool {
        self.conditions.iter().all(|(column, c)| {
            let cell = column.and_then(|i| row.get(i)?.as_deref());
            c.holds(cell.map(Actual::Text))
        })
    }
}

/// A value a condition is checked against.
#[derive(Clone, Copy)]
enum Actual<'a> {
    Json(&'a Value),
    Text(&'a str),
}

impl<'a> Actual<'a> {
    fn text(self) -> Option<&'a str> {
        match self {
            Actual::Json(Value::String(s)) => Some(s),
            Actual::Text(s) => Some(s),
            Actual::Json(_) => None,
        }
    }
}

/// `s` lower-cased, borrowed when it already is.
fn lower(s: &str) -> Cow<'_, str> {
    if s.chars().all(|c| c.to_lowercase().eq(std::iter::once(c))) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// `item`'s value at a dotted `path`, keys matched case-insensitively.
pub(crate) fn lookup<'a>(item: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(item, |value, key| {
        let map = value.as_object()?;
        map.get(key).or_else(|| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    })
}

impl Condition {
    fn holds(&self, actual: Option<Actual<'_>>) -> bool {
        let actual = actual.filter(|a| !matches!(a, Actual::Json(Value::Null)));
        match (&self.value, actual) {
            (Literal::Null, a) => (a.is_none()) == (self.op == Op::Eq),
            (_, None) => self.op == Op::Ne,
            (Literal::Num(want), Some(a)) => {
                let got = match a {
                    Actual::Json(Value::Number(n)) => n.as_f64(),
                    _ => a.text().and_then(|s| s.trim().parse::<f64>().ok()),
                };
                got.is_some_and(|g| compare(self.op, g.partial_cmp(want)))
            }
            (Literal::Bool(want), Some(a)) => {
                let got = match a {
                    Actual::Json(Value::Bool(b)) => Some(*b),
                    _ => a.text().and_then(|s| {
                        ["false", "true"]
                            .iter()
                            .position(|b| s.eq_ignore_ascii_case(b))
                            .map(|p| p == 1)
                    }),
                };
                got.is_some_and(|g| compare(self.op, Some(g.cmp(want))))
            }
            (Literal::Str(want), Some(a)) => {
                let got = match a {
                    Actual::Json(v) if !v.is_string() => Cow::Owned(v.to_string().to_lowercase()),
                    _ => lower(a.text().unwrap_or_default()),
                };
                if self.op == Op::Like {
                    return like(&got, want);
                }
                compare(self.op, Some(got.as_ref().cmp(want.as_str())))
            }
        }
    }
}

fn compare(op: Op, ordering: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    let Some(o) = ordering else { return false };
    match op {
        Op::Eq | Op::Like => o == Equal,
        Op::Ne => o != Equal,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
    }
}

/// SQL-style `like` with `%` wildcards; a pattern without `%` matches a substring.
fn like(text: &str, pattern: &str) -> bool {
    if !pattern.contains('%') {
        return text.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('%').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn parse(text: &str) -> Result<Filter, String> {
    let tokens = tokenize(text)?;
    let mut conditions = Vec::new();
    let mut i = 0;
    loop {
        let [Token::Word(field), Token::Word(op), value, ..] = &tokens[i..] else {
            return Err("expected `field op value`".to_owned());
        };
        if !field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            return Err(format!("{field:?} is not a field name"));
        }
        let op = match op.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "ne" | "neq" => Op::Ne,
            "like" => Op::Like,
            "gt" => Op::Gt,
            "ge" | "gte" => Op::Ge,
            "lt" => Op::Lt,
            "le" | "lte" => Op::Le,
            other => return Err(format!("unknown operator {other:?}")),
        };
        let value = match value {
            Token::Quoted(s) => Literal::Str(s.to_lowercase()),
            Token::Word(w) => match w.to_ascii_lowercase().as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                _ => Literal::Num(
                    w.parse()
                        .map_err(|_| format!("{w:?} is neither a quoted string nor a number"))?,
                ),
            },
        };
        conditions.push(Condition {
            field: field.clone(),
            op,
            value,
        });
        i += 3;
        match tokens.get(i) {
            None => return Ok(Filter { conditions }),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("and") => i += 1,
            Some(_) => return Err("conditions can only be joined with `and`".to_owned()),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next() {
                    None => return Err("a quoted string is not closed".to_owned()),
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        s.push('\'');
                    }
                    Some('\'') => break,
                    Some(other) => s.push(other),
                }
            }
            tokens.push(Token::Quoted(s));
        } else {
            let mut w = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '\'' {
                    break;
                }
                w.push(c);
                chars.next();
            }
            tokens.push(Token::Word(w));
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(filter: &str, item: &Value) -> bool {
        Filter::parse(filter).unwrap().matches_json(item)
    }

    #[test]
    fn equality_like_and_numbers() {
        let item =
            json!({"name": "Summer Sale", "Id": 7, "assetType": {"Name": "htmlemail"}, "ok": true});
        assert!(m("name eq 'summer sale'", &item));
        assert!(!m("name eq 'Winter'", &item));
        assert!(m("Name like 'Summer%'", &item));
        assert!(m("name like 'mer s'", &item));
        assert!(m("name LIKE '%sale'", &item));
        assert!(!m("name like 'x%'", &item));
        assert!(m("id eq 7 and assetType.name eq 'htmlemail'", &item));
        assert!(!m("id eq 7 AND assetType.name eq 'other'", &item));
        assert!(m("id gt 6 and id lte 7 and ok eq true", &item));
        assert!(m("missing eq null and name ne 'x'", &item));
        assert!(m("name eq 'it''s'", &json!({"name": "it's"})));
        assert!(m("name eq 'ÉTÉ'", &json!({"name": "été"})));
        assert!(m(
            "ok eq TRUE and n eq 1.5",
            &json!({"ok": "True", "n": "1.5"})
        ));
    }

    #[test]
    fn rows_resolve_columns_once() {
        let filter = Filter::parse("Name eq 'ada' and age gt 30 and gone eq null").unwrap();
        let columns = ["name", "age"];
        let rows = filter.for_columns(|c| columns.iter().position(|k| k.eq_ignore_ascii_case(c)));
        let row = |name: &str, age: &str| vec![Some(name.into()), Some(age.into())];
        assert!(rows.matches(&row("ADA", "31")));
        assert!(!rows.matches(&row("ada", "30")));
        assert!(!rows.matches(&[None, Some("40".into())]));
    }

    #[test]
    fn unparsable_filters_are_errors() {
        for bad in [
            "name",
            "name eq",
            "name is 'x'",
            "name eq 'x",
            "name eq x",
            "a eq 1 or b eq 2",
            "a eq 1 and",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
