//! Entry points for the fuzz targets under `fuzz/fuzz_targets/emulator_*.rs`: the emulator's
//! parsers of outside input (`$filter`, query strings, percent escapes in paths), reachable
//! without a server. Hidden from the documentation; not an API to build on.

use serde_json::json;

use crate::api::filter::Filter;
use crate::api::query::Params;

/// Parses `text` as a `$filter`; when it parses, applies it to a JSON item and to a row of
/// text cells. `Some((item matches, row matches))`, `None` when it does not parse.
pub fn filter(text: &str) -> Option<(bool, bool)> {
    let filter = Filter::parse(text).ok()?;
    let item =
        json!({"name": "Summer Sale", "id": 7, "ok": true, "nested": {"Key": "v"}, "gone": null});
    let columns = ["id", "name", "email"];
    let row: [Option<Box<str>>; 3] = [Some("7".into()), Some("ÉTÉ".into()), None];
    let by_column = filter.for_columns(|c| columns.iter().position(|k| k.eq_ignore_ascii_case(c)));
    Some((filter.matches_json(&item), by_column.matches(&row)))
}

/// Parses `raw` as a query string; when it parses, the values of the paging parameters and
/// `$filter` as the families read them. `None` when it is refused (a 400).
pub fn query(raw: &str) -> Option<[Option<String>; 3]> {
    let params = Params::parse(Some(raw)).ok()?;
    Some(["page", "pageSize", "filter"].map(|name| params.get(name).map(str::to_owned)))
}

/// A path segment percent-decoded as the router reads it.
pub fn percent_decode(segment: &str) -> String {
    crate::paths::percent_decode(segment)
}

/// A path segment percent-encoded as row reads' `links` write it.
pub fn percent_encode(segment: &str) -> String {
    crate::api::row_reads::encode_segment(segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fuzz_invariants_hold_on_awkward_inputs() {
        for text in ["", "%", "%zz", "%C3%A9", "a b/c?d", "é'\u{0}", "key:My DE"] {
            let _ = filter(text);
            let _ = query(text);
            assert_eq!(percent_decode(&percent_encode(text)), text);
        }
        assert_eq!(filter("name eq 'summer sale'"), Some((true, false)));
        assert_eq!(filter("name eq 'été'"), Some((false, true)));
        assert_eq!(filter("name is 'x'"), None);
        let many = vec!["a=1"; 101].join("&");
        assert_eq!(query(&many), None);
        assert_eq!(
            query("$PAGE=2&pagesize=5"),
            Some([Some("2".into()), Some("5".into()), None])
        );
    }
}
