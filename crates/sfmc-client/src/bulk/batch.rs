//! Turning CSV records into request bodies: [`BatchBuilder`] writes rows (under the header's
//! [`Columns`]), and writes rows straight into the JSON body of one request — the
//! asynchronous API's `{"items":[{col: value}]}` or the rowset API's
//! `[{"keys":{…},"values":{…}}]` — and closes a [`Batch`] at its row limit or byte budget.
//!
//! A batch remembers, for each row, its CSV line and where its JSON sits in the body, so a row
//! Marketing Cloud refuses is reported with its line and original fields without keeping a
//! second copy of the rows.

use bytes::Bytes;

use super::columns::Columns;
use super::csv_source::RawRecord;

/// Which body a batch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyShape {
    /// `{"items":[{col: value}]}` (asynchronous rows API).
    Items,
    /// `[{"keys":{…},"values":{…}}]` (rowset API).
    Rowset,
}

impl BodyShape {
    fn open(self) -> &'static [u8] {
        match self {
            Self::Items => b"{\"items\":[",
            Self::Rowset => b"[",
        }
    }

    fn close(self) -> &'static [u8] {
        match self {
            Self::Items => b"]}",
            Self::Rowset => b"]",
        }
    }
}

/// One request's rows: the body, and each row's line and JSON span in it.
#[derive(Debug)]
pub(crate) struct Batch {
    /// The JSON body (cheap to clone for retries).
    pub body: Bytes,
    /// Each row's CSV line.
    pub lines: Vec<u64>,
    /// Each row's JSON, as byte ranges of `body`.
    spans: Vec<(u32, u32)>,
}

impl Batch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Row `index`'s JSON.
    pub fn item(&self, index: usize) -> &[u8] {
        self.spans.get(index).map_or(&[][..], |&(start, end)| {
            &self.body[start as usize..end as usize]
        })
    }

    /// A rowset body of the rows at `indexes` (to send again without the refused ones).
    pub fn subset(&self, indexes: &[usize]) -> Batch {
        let mut body = Vec::with_capacity(self.body.len());
        let (mut lines, mut spans) = (Vec::new(), Vec::new());
        body.push(b'[');
        for &i in indexes {
            if body.len() > 1 {
                body.push(b',');
            }
            let start = body.len();
            body.extend_from_slice(self.item(i));
            spans.push((to_u32(start), to_u32(body.len())));
            lines.push(self.lines.get(i).copied().unwrap_or_default());
        }
        body.push(b']');
        Batch {
            body: Bytes::from(body),
            lines,
            spans,
        }
    }
}

/// The batch being built.
#[derive(Debug, Default)]
struct Open {
    body: Vec<u8>,
    lines: Vec<u64>,
    spans: Vec<(u32, u32)>,
}

/// Builds batches of at most `max_rows` rows and `max_bytes` bytes.
#[derive(Debug)]
pub(crate) struct BatchBuilder {
    shape: BodyShape,
    max_rows: usize,
    max_bytes: usize,
    current: Open,
    scratch: Vec<u8>,
}

impl BatchBuilder {
    /// A builder of `shape` bodies.
    pub fn new(shape: BodyShape, max_rows: usize, max_bytes: usize) -> Self {
        Self {
            shape,
            max_rows: max_rows.max(1),
            max_bytes,
            current: Open::default(),
            scratch: Vec::new(),
        }
    }

    /// Adds `record` under `columns`; returns a full batch when adding it closed one (the
    /// record is then the first row of the next). An error is why the record is rejected
    /// (wrong number of fields, not UTF-8, larger than a request).
    pub fn push(
        &mut self,
        columns: &Columns,
        record: &RawRecord<'_>,
    ) -> Result<Option<Batch>, String> {
        if record.len() != columns.len() {
            return Err(format!(
                "has {} fields; the header has {}",
                record.len(),
                columns.len()
            ));
        }
        let fields = record.text_fields().map_err(|field| {
            format!(
                "field {field} ({}) is not valid UTF-8",
                columns.names()[field - 1]
            )
        })?;
        self.scratch.clear();
        encode_row(&mut self.scratch, self.shape, columns, &fields);
        let framing = self.shape.open().len() + self.shape.close().len() + 1;
        if self.scratch.len() + framing > self.max_bytes {
            return Err(format!(
                "the row is larger than the {} bytes a request may carry",
                self.max_bytes
            ));
        }
        let full = !self.current.lines.is_empty()
            && (self.current.lines.len() >= self.max_rows
                || self.current.body.len() + self.scratch.len() + 1 + self.shape.close().len()
                    > self.max_bytes);
        let closed = if full { self.take() } else { None };
        let batch = &mut self.current;
        if batch.body.is_empty() {
            batch.body.extend_from_slice(self.shape.open());
        } else {
            batch.body.push(b',');
        }
        let start = batch.body.len();
        batch.body.extend_from_slice(&self.scratch);
        let span = (to_u32(start), to_u32(batch.body.len()));
        batch.spans.push(span);
        batch.lines.push(record.line);
        Ok(closed)
    }

    /// The batch being built, closed; `None` when it has no rows.
    pub fn take(&mut self) -> Option<Batch> {
        if self.current.lines.is_empty() {
            return None;
        }
        let Open {
            mut body,
            lines,
            spans,
        } = std::mem::take(&mut self.current);
        body.extend_from_slice(self.shape.close());
        Some(Batch {
            body: Bytes::from(body),
            lines,
            spans,
        })
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One row's JSON: a flat object, or `{"keys":{…},"values":{…}}`.
fn encode_row(out: &mut Vec<u8>, shape: BodyShape, columns: &Columns, fields: &[&str]) {
    let object = |out: &mut Vec<u8>, wanted: Option<bool>| {
        out.push(b'{');
        let mut first = true;
        for (i, field) in fields.iter().enumerate() {
            if wanted.is_some_and(|primary| columns.is_primary(i) != primary) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(columns.json_key(i));
            push_json_str(out, field);
        }
        out.push(b'}');
    };
    match shape {
        BodyShape::Items => object(out, None),
        BodyShape::Rowset => {
            out.extend_from_slice(b"{\"keys\":");
            object(out, Some(true));
            out.extend_from_slice(b",\"values\":");
            object(out, Some(false));
            out.push(b'}');
        }
    }
}

/// `text` as a JSON string.
pub(crate) fn push_json_str(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::super::csv_source::CsvSource;
    use super::*;
    use serde_json::Value;

    async fn build(shape: BodyShape, csv: &[u8], max_rows: usize, max_bytes: usize) -> Vec<Batch> {
        let mut source = CsvSource::new(csv);
        let header = source
            .next_record()
            .await
            .ok()
            .flatten()
            .map(|r| Columns::from_header(&r));
        let mut columns = header
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("header"));
        columns
            .set_primary_keys(&["id".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        let mut builder = BatchBuilder::new(shape, max_rows, max_bytes);
        let mut batches = Vec::new();
        while let Some(record) = source.next_record().await.ok().flatten() {
            if let Ok(Some(batch)) = builder.push(&columns, &record) {
                batches.push(batch);
            }
        }
        batches.extend(builder.take());
        batches
    }

    #[tokio::test]
    async fn bodies_are_json_and_split_by_rows_and_bytes() {
        let csv = b"Id,Note\n1,\"a \"\"q\"\" \\ \x01\"\n2,b\n3,c\n";
        let batches = build(BodyShape::Items, csv, 2, 1000).await;
        assert_eq!(batches.len(), 2);
        let body: Value = serde_json::from_slice(&batches[0].body).unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!({"items": [{"Id": "1", "Note": "a \"q\" \\ \u{1}"}, {"Id": "2", "Note": "b"}]})
        );
        assert_eq!(batches[1].lines, [4]);
        let by_bytes = build(BodyShape::Items, csv, 100, 60).await;
        assert!(by_bytes.iter().all(|b| b.body.len() <= 60), "{by_bytes:?}");
        assert_eq!(by_bytes.len(), 2);
        assert_eq!(by_bytes.iter().map(Batch::len).sum::<usize>(), 3);
    }

    #[tokio::test]
    async fn rowsets_split_keys_and_items_give_back_their_fields() {
        let batches = build(BodyShape::Rowset, b"id,email\n7,a@b\n", 50, 1000).await;
        let body: Value = serde_json::from_slice(&batches[0].body).unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!([{"keys": {"id": "7"}, "values": {"email": "a@b"}}])
        );
        let mut source = CsvSource::new(&b"email,id\n"[..]);
        let header = source.next_record().await.ok().flatten();
        let columns = header.map(|h| Columns::from_header(&h));
        let columns = columns
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("header"));
        assert_eq!(columns.fields_of(batches[0].item(0)), ["a@b", "7"]);
    }
}
