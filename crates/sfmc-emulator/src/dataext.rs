//! Data extensions: their definition (fields with type and length, primary keys) as the
//! control plane declares it, and their rows, kept cheaply for million-row imports: a row is a
//! vector of optional strings in field order, found by its primary-key tuple through a hash
//! map. Column names match case-insensitively, as in Marketing Cloud.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

/// A column of a data extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    /// Name as declared.
    pub name: String,
    /// Marketing Cloud field type as declared (`Text`, `Number`, `Decimal`, `Boolean`, …).
    pub kind: String,
    /// Longest value accepted, in characters, if limited.
    pub length: Option<u64>,
    /// How values are checked, read once from `kind`.
    check: ValueCheck,
}

impl Field {
    pub(crate) fn new(name: String, kind: String, length: Option<u64>) -> Self {
        let check = ValueCheck::of(&kind);
        Field {
            name,
            kind,
            length,
            check,
        }
    }
}

/// What a field's type asks of a non-empty value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueCheck {
    /// A whole number.
    Number,
    /// A decimal number.
    Decimal,
    /// `true`, `false`, `1` or `0`, any case.
    Boolean,
    /// Anything (text, email addresses, dates, …).
    Any,
}

impl ValueCheck {
    fn of(kind: &str) -> Self {
        match kind.to_ascii_lowercase().as_str() {
            "number" => ValueCheck::Number,
            "decimal" => ValueCheck::Decimal,
            "boolean" => ValueCheck::Boolean,
            _ => ValueCheck::Any,
        }
    }

    fn accepts(self, value: &str) -> bool {
        let value = value.trim();
        match self {
            ValueCheck::Number => value.parse::<i64>().is_ok(),
            ValueCheck::Decimal => value.parse::<f64>().is_ok(),
            ValueCheck::Boolean => ["true", "false", "1", "0"]
                .iter()
                .any(|b| value.eq_ignore_ascii_case(b)),
            ValueCheck::Any => true,
        }
    }
}

/// A row's checked values: `(column position, value)`, later pairs winning.
pub(crate) type Cells = Vec<(usize, Option<String>)>;

/// How a write treats a row whose primary key exists: `Insert` fails, `Upsert` updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteMode {
    Insert,
    Upsert,
}

/// Why a row was refused: a category (`errorCode` in async results) and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RowError {
    /// `InvalidColumn`, `InvalidValue`, `MissingPrimaryKey` or `UnexpectedError` (duplicate key).
    pub code: &'static str,
    /// What is wrong, naming the column.
    pub message: String,
}

impl RowError {
    fn new(code: &'static str, message: String) -> Self {
        RowError { code, message }
    }
}

/// One row: values in field order (`None` = never set); boxed slices keep a million rows small.
pub(crate) type Row = Box<[Option<Box<str>>]>;

/// A data extension and its rows.
#[derive(Debug)]
pub(crate) struct DataExtension {
    /// External key as declared.
    pub key: String,
    /// Columns in declared order.
    pub fields: Vec<Field>,
    /// Positions of the primary-key columns.
    pub primary: Vec<usize>,
    exact: HashMap<String, usize>,
    lower: HashMap<String, usize>,
    rows: Vec<Row>,
    by_key: HashMap<Box<[Box<str>]>, usize>,
}

impl DataExtension {
    /// A data extension with no rows; an error names a duplicate field or an unknown key.
    pub(crate) fn new(key: String, fields: Vec<Field>, primary: &[String]) -> Result<Self, String> {
        let mut exact = HashMap::new();
        let mut lower = HashMap::new();
        for (i, f) in fields.iter().enumerate() {
            if lower.insert(f.name.to_lowercase(), i).is_some() {
                return Err(format!("field {:?} is declared twice", f.name));
            }
            exact.insert(f.name.clone(), i);
        }
        let mut positions = Vec::new();
        for name in primary {
            let i = *lower
                .get(&name.to_lowercase())
                .ok_or_else(|| format!("primary key {name:?} is not one of the fields"))?;
            if !positions.contains(&i) {
                positions.push(i);
            }
        }
        Ok(DataExtension {
            key,
            fields,
            primary: positions,
            exact,
            lower,
            rows: Vec::new(),
            by_key: HashMap::new(),
        })
    }

    /// Position of column `name` (case-insensitive).
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.exact
            .get(name)
            .or_else(|| self.lower.get(&name.to_lowercase()))
            .copied()
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    /// The rows in the order they were first written.
    pub(crate) fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Checks `(column, value)` pairs against the definition, taking their strings: an error
    /// names an unknown column or a value that does not fit its field.
    pub(crate) fn cells(
        &self,
        pairs: impl IntoIterator<Item = (String, Value)>,
    ) -> Result<Cells, RowError> {
        pairs
            .into_iter()
            .map(|(name, value)| {
                let i = self.column(&name).ok_or_else(|| {
                    RowError::new(
                        "InvalidColumn",
                        format!(
                            "The column {name:?} does not exist in data extension {:?}.",
                            self.key
                        ),
                    )
                })?;
                let text = match value {
                    Value::Null => None,
                    Value::String(s) => Some(s),
                    Value::Number(n) => Some(n.to_string()),
                    Value::Bool(b) => Some(if b { "True" } else { "False" }.to_owned()),
                    _ => {
                        return Err(RowError::new(
                            "InvalidValue",
                            format!(
                                "The value of column {name:?} must be a string, number or boolean."
                            ),
                        ));
                    }
                };
                if let Some(t) = &text {
                    check_value(&self.fields[i], t)
                        .map_err(|m| RowError::new("InvalidValue", m))?;
                }
                Ok((i, text))
            })
            .collect()
    }

    /// The primary-key tuple of `cells` (the last value given for each key column); an error
    /// names a key column without a value.
    pub(crate) fn key_of(
        &self,
        cells: &[(usize, Option<String>)],
    ) -> Result<Box<[Box<str>]>, RowError> {
        self.primary
            .iter()
            .map(|&p| match cells.iter().rev().find(|(i, _)| *i == p) {
                Some((_, Some(v))) if !v.is_empty() => Ok(v.as_str().into()),
                _ => Err(RowError::new(
                    "MissingPrimaryKey",
                    format!(
                        "The primary key column {:?} is missing a value.",
                        self.fields[p].name
                    ),
                )),
            })
            .collect()
    }

    /// Writes one row; an error names a missing primary key or (on insert) a duplicate.
    pub(crate) fn write(&mut self, cells: Cells, mode: WriteMode) -> Result<(), RowError> {
        let key = self.key_of(&cells)?;
        let existing = if self.primary.is_empty() {
            None
        } else {
            self.by_key.get(&key).copied()
        };
        let at = match (existing, mode) {
            (Some(_), WriteMode::Insert) => {
                return Err(RowError::new(
                    "UnexpectedError",
                    format!(
                        "Violation of PRIMARY KEY constraint. Cannot insert duplicate key in data extension {:?}. The duplicate key value is ({}).",
                        self.key,
                        key.join(", ")
                    ),
                ));
            }
            (Some(at), WriteMode::Upsert) => at,
            (None, _) => {
                self.rows
                    .push(vec![None; self.fields.len()].into_boxed_slice());
                let at = self.rows.len() - 1;
                if !self.primary.is_empty() {
                    self.by_key.insert(key, at);
                }
                at
            }
        };
        let row = &mut self.rows[at];
        for (i, value) in cells {
            row[i] = value.map(String::into_boxed_str);
        }
        Ok(())
    }

    /// The definition as the control plane shows it, with the row count.
    pub(crate) fn describe(&self, mid: &str) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| json!({"name": f.name, "type": f.kind, "length": f.length}))
            .collect();
        let primary: Vec<&str> = self
            .primary
            .iter()
            .map(|&i| self.fields[i].name.as_str())
            .collect();
        json!({"key": self.key, "mid": mid, "fields": fields, "primaryKeys": primary, "rows": self.rows.len()})
    }

    /// Row `row` as `{column: value}` with declared names (unset columns left out).
    pub(crate) fn row_object(&self, row: &Row) -> Map<String, Value> {
        self.fields
            .iter()
            .zip(row)
            .filter_map(|(f, v)| v.as_deref().map(|v| (f.name.clone(), Value::from(v))))
            .collect()
    }
}

/// Checks a value against its field's type and length.
fn check_value(field: &Field, value: &str) -> Result<(), String> {
    if let Some(max) = field.length
        && u64::try_from(value.chars().count()).unwrap_or(u64::MAX) > max
    {
        return Err(format!(
            "The value of column {:?} is longer than its {max} characters.",
            field.name
        ));
    }
    if value.is_empty() || field.check.accepts(value) {
        Ok(())
    } else {
        Err(format!(
            "The value {value:?} is not a valid {} for column {:?}.",
            field.kind, field.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> DataExtension {
        let f = |name: &str, kind: &str, length| Field::new(name.into(), kind.into(), length);
        DataExtension::new(
            "k".into(),
            vec![
                f("Id", "Number", None),
                f("Email", "EmailAddress", Some(10)),
            ],
            &["id".into()],
        )
        .unwrap()
    }

    fn cells(de: &DataExtension, v: Value) -> Result<Cells, RowError> {
        let Value::Object(pairs) = v else {
            panic!("cells of an object")
        };
        de.cells(pairs)
    }

    #[test]
    fn upserts_by_primary_key_and_inserts_refuse_duplicates() {
        let mut de = de();
        let row = cells(&de, json!({"ID": 1, "email": "a@b"})).unwrap();
        de.write(row, WriteMode::Insert).unwrap();
        let again = cells(&de, json!({"id": "1", "Email": "c@d"})).unwrap();
        assert!(de.write(again.clone(), WriteMode::Insert).is_err());
        de.write(again, WriteMode::Upsert).unwrap();
        assert_eq!(de.len(), 1);
        assert_eq!(&*de.rows()[0], &[Some("1".into()), Some("c@d".into())]);
        assert!(
            de.write(
                cells(&de, json!({"email": "x"})).unwrap(),
                WriteMode::Upsert
            )
            .is_err()
        );
    }

    #[test]
    fn unknown_columns_and_bad_values_are_refused() {
        let de = de();
        assert!(
            cells(&de, json!({"nope": 1}))
                .unwrap_err()
                .message
                .contains("nope")
        );
        assert!(cells(&de, json!({"id": "x"})).is_err());
        assert!(cells(&de, json!({"email": "01234567890"})).is_err());
        assert!(DataExtension::new("k".into(), vec![], &["id".into()]).is_err());
    }
}
