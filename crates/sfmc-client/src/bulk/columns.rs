//! The header of an import: [`Columns`], its names checked (none empty, none twice, all UTF-8),
//! each one's JSON key prepared once, which ones are primary keys (for the rowset API), and a
//! refused row's fields read back from its JSON in header order.

use serde_json::{Map, Value};

use super::batch::push_json_str;
use super::csv_source::RawRecord;

/// The header: column names as written, and each one's JSON key (`"name":`) ready to copy.
#[derive(Debug, Clone)]
pub(crate) struct Columns {
    names: Vec<String>,
    keys: Vec<Vec<u8>>,
    /// Whether each column goes in a rowset's `keys` (sync API).
    primary: Vec<bool>,
}

impl Columns {
    /// The header of `record`; an error names an empty, duplicated or non-UTF-8 name.
    pub fn from_header(record: &RawRecord<'_>) -> Result<Self, String> {
        let names = record.text_fields().map_err(|field| {
            format!(
                "line {}: column {field} of the header is not UTF-8",
                record.line
            )
        })?;
        let mut seen = std::collections::HashSet::new();
        for (i, name) in names.iter().enumerate() {
            if name.trim().is_empty() {
                return Err(format!(
                    "line {}: column {} of the header has no name",
                    record.line,
                    i + 1
                ));
            }
            if !seen.insert(name.to_lowercase()) {
                return Err(format!(
                    "line {}: the header names column {name:?} twice (names are case-insensitive)",
                    record.line
                ));
            }
        }
        let keys = names
            .iter()
            .map(|name| {
                let mut key = Vec::with_capacity(name.len() + 3);
                push_json_str(&mut key, name);
                key.push(b':');
                key
            })
            .collect();
        Ok(Self {
            names: names.iter().map(|name| (*name).to_owned()).collect(),
            keys,
            primary: vec![false; names.len()],
        })
    }

    /// Marks the primary-key columns (for the rowset API's `keys`); an error names one that is
    /// not in the header.
    pub fn set_primary_keys(&mut self, keys: &[String]) -> Result<(), String> {
        for key in keys {
            let at = self.position(key).ok_or_else(|| {
                format!(
                    "primary key column {key:?} is not in the header ({})",
                    self.names.join(", ")
                )
            })?;
            self.primary[at] = true;
        }
        Ok(())
    }

    /// The column names as written.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether column `index` is a primary key.
    pub fn is_primary(&self, index: usize) -> bool {
        self.primary.get(index).copied().unwrap_or(false)
    }

    /// Column `index`'s JSON key, `"name":`.
    pub fn json_key(&self, index: usize) -> &[u8] {
        self.keys.get(index).map_or(&[][..], Vec::as_slice)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n.eq_ignore_ascii_case(name))
    }

    /// A row's fields in header order from its JSON in a body (flat, or `{keys, values}`);
    /// missing columns are empty.
    pub fn fields_of(&self, item: &[u8]) -> Vec<String> {
        let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(item) else {
            return Vec::new();
        };
        let mut flat = Map::new();
        for part in ["keys", "values"] {
            if let Some(Value::Object(inner)) = object.remove(part) {
                flat.extend(inner);
            }
        }
        flat.extend(object);
        self.names
            .iter()
            .map(|name| match flat.get(name) {
                Some(Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            })
            .collect()
    }
}
