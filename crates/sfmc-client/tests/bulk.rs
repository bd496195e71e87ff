//! Bulk import and export against the in-process emulator on paused tokio time: 100,000 rows
//! through injected 429s and a delayed status, each present once and exported back the same;
//! malformed rows rejected by line; empty and header-only input; an unknown key or column;
//! the rowset API; and stopping or dropping an import mid-way.

#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // tests read the paused clock

use std::collections::BTreeSet;
use std::io;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use sfmc_auth::{AuthBaseUrl, ConnectionSettings, TokenManager};
use sfmc_client::bulk::{
    self, ExportFormat, ExportOptions, ImportApi, ImportError, ImportObserver, ImportOptions,
    Progress, Reject, Stopped,
};
use sfmc_client::{Client, ErrorClass, default_http_client};
use sfmc_emulator::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EmulatorConfig, EmulatorHandle, Fault, FaultTarget,
    RunningEmulator,
};

async fn setup() -> (RunningEmulator, Client) {
    let emulator = sfmc_emulator::start(EmulatorConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let settings = ConnectionSettings::new(
        AuthBaseUrl::parse(&emulator.url()).unwrap(),
        DEMO_CLIENT_ID,
        SecretString::from(DEMO_CLIENT_SECRET),
    )
    .unwrap();
    let manager = TokenManager::builder().build().unwrap();
    let client = Client::new(manager, settings, default_http_client().unwrap());
    (emulator, client)
}

/// Defines data extension `key` (`id` Number primary key, `email`, `name`).
async fn define(emulator: &RunningEmulator, key: &str) {
    let body = json!({"key": key, "fields": [{"name": "id", "type": "Number"}, "email", "name"], "primaryKeys": ["id"]});
    let answer = reqwest::Client::new()
        .post(format!("{}/_emulator/dataextensions", emulator.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
}

fn csv_of(rows: std::ops::Range<u32>) -> Vec<u8> {
    let mut csv = b"id,email,name\n".to_vec();
    for i in rows {
        csv.extend_from_slice(format!("{i},user{i}@example.com,\"Name, {i}\"\n").as_bytes());
    }
    csv
}

/// Keeps rejects and the last progress; adds `faults` once the first batch is sent.
#[derive(Default)]
struct Seen {
    rejects: Vec<Reject>,
    last: Progress,
    inject: Option<(EmulatorHandle, Vec<Fault>)>,
}

impl ImportObserver for Seen {
    fn progress(&mut self, progress: &Progress) {
        self.last = *progress;
        if progress.rows_sent > 0
            && let Some((emulator, faults)) = self.inject.take()
        {
            faults.into_iter().for_each(|f| emulator.add_fault(f));
        }
    }

    fn reject(&mut self, reject: &Reject) -> io::Result<()> {
        self.rejects.push(reject.clone());
        Ok(())
    }
}

fn throttle() -> Fault {
    Fault {
        target: FaultTarget::Api,
        status: Some(429),
        count: 1,
        ..Fault::default()
    }
}

async fn export_rows(client: &Client, key: &str, format: ExportFormat) -> Vec<u8> {
    let mut out = Vec::new();
    let options = ExportOptions {
        filter: None,
        format,
    };
    bulk::export(client, key, &options, &mut out, |_| {})
        .await
        .unwrap();
    out
}

/// CSV records as sets of `column=value` lines, header first.
fn records(csv: &[u8]) -> (Vec<String>, BTreeSet<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(csv);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let mut pairs: Vec<String> = header
                .iter()
                .zip(r.iter())
                .map(|(h, v)| format!("{}={v}", h.to_lowercase()))
                .collect();
            pairs.sort();
            pairs
        })
        .collect();
    (header, rows)
}

#[tokio::test(start_paused = true)]
async fn a_hundred_thousand_rows_survive_429s_and_a_slow_status_and_export_back() {
    let (emulator, client) = setup().await;
    define(&emulator, "big").await;
    emulator.handle().set_async_pending_polls(3);
    let csv = csv_of(0..100_000);
    let mut seen = Seen {
        inject: Some((emulator.handle(), vec![throttle(), throttle(), throttle()])),
        ..Seen::default()
    };
    let started = tokio::time::Instant::now();
    let report = bulk::import_csv(
        &client,
        "big",
        &csv[..],
        &ImportOptions::default(),
        &mut seen,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert!(report.stopped.is_none(), "{report:?}");
    assert_eq!(
        (
            report.rows,
            report.accepted,
            report.rejected,
            report.batches
        ),
        (100_000, 100_000, 0, 4)
    );
    assert!(seen.rejects.is_empty());
    assert_eq!(seen.last.accepted, 100_000);
    assert_eq!(seen.last.bytes_read, csv.len() as u64);
    assert!(emulator.handle().pending_faults().is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "429s were waited out"
    );
    assert_eq!(
        emulator.handle().data_extension_rows("big", None),
        Some(100_000)
    );
    let (header, exported) = records(&export_rows(&client, "big", ExportFormat::Csv).await);
    assert_eq!(header, ["id", "email", "name"]);
    let (_, imported) = records(&csv);
    assert_eq!(exported.len(), 100_000);
    assert!(exported == imported, "the export differs from the import");
}

#[tokio::test(start_paused = true)]
async fn malformed_rows_are_rejected_by_line_and_the_rest_imported() {
    let (emulator, client) = setup().await;
    define(&emulator, "k").await;
    let csv = b"id,email,name\n1,a@example.com,A\n2,b@example.com\n3,c@example.com,C\n4,\xff\xfe,D\nx,e@example.com,E\n,f@example.com,F\n7,\"g@example.com\",\"multi\nline\"\n8,h@example.com,H,extra\n";
    let mut seen = Seen::default();
    let report = bulk::import_csv(
        &client,
        "k",
        &csv[..],
        &ImportOptions::default(),
        &mut seen,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!((report.rows, report.accepted, report.rejected), (8, 3, 5));
    let mut lines: Vec<u64> = seen.rejects.iter().map(|r| r.line.unwrap()).collect();
    lines.sort_unstable();
    assert_eq!(lines, [3, 5, 6, 7, 10]);
    let reason = |line| {
        let r = seen.rejects.iter().find(|r| r.line == Some(line)).unwrap();
        (r.reason.clone(), r.fields.clone())
    };
    assert!(
        reason(3).0.contains("has 2 fields; the header has 3"),
        "{:?}",
        reason(3)
    );
    assert!(reason(5).0.contains("not valid UTF-8"), "{:?}", reason(5));
    let (bad_value, fields) = reason(6);
    assert!(bad_value.contains("InvalidValue"), "{bad_value}");
    assert_eq!(fields, ["x", "e@example.com", "E"]);
    assert!(reason(7).0.contains("MissingPrimaryKey"), "{:?}", reason(7));
    assert_eq!(emulator.handle().data_extension_rows("k", None), Some(3));
}

#[tokio::test(start_paused = true)]
async fn empty_and_header_only_input_and_unknown_keys_or_columns_are_refused_up_front() {
    let (emulator, client) = setup().await;
    define(&emulator, "k").await;
    let import = |csv: &'static [u8], key: &'static str| {
        let client = client.clone();
        async move {
            let options = ImportOptions::default();
            let pending = std::future::pending();
            bulk::import_csv(&client, key, csv, &options, &mut (), pending).await
        }
    };
    let empty = import(b"", "k").await.unwrap_err();
    assert!(matches!(empty, ImportError::Empty), "{empty}");
    assert!(empty.to_string().contains("empty"), "{empty}");
    let header_only = import(b"id,email\n\n", "k").await.unwrap_err();
    assert_eq!(
        header_only.to_string(),
        "the input has a header (id, email) and no rows"
    );
    assert_eq!(header_only.class(), ErrorClass::InvalidInput);
    let duplicate = import(b"id,ID\n1,2\n", "k").await.unwrap_err();
    assert!(duplicate.to_string().contains("twice"), "{duplicate}");
    assert_eq!(emulator.stats().api_requests, 0, "nothing was sent");

    let unknown_key = import(b"id\n1\n", "nope").await.unwrap_err();
    assert_eq!(unknown_key.class(), ErrorClass::Rejection, "{unknown_key}");
    assert!(
        unknown_key.to_string().contains("HTTP 404"),
        "{unknown_key}"
    );

    import(b"id,email\n1,a@example.com\n", "k").await.unwrap();
    let unknown_column = import(b"id,mail\n2,b@example.com\n", "k")
        .await
        .unwrap_err();
    assert!(
        unknown_column
            .to_string()
            .contains("column \"mail\" of the header is not in data extension \"k\""),
        "{unknown_column}"
    );
    assert_eq!(emulator.handle().data_extension_rows("k", None), Some(1));
}

#[tokio::test(start_paused = true)]
async fn the_rowset_api_sends_fifty_rows_a_request_and_resends_around_bad_rows() {
    let (emulator, client) = setup().await;
    define(&emulator, "k").await;
    let mut csv = csv_of(0..120);
    csv.extend_from_slice(b"not-a-number,z@example.com,Z\n");
    let options = ImportOptions {
        api: ImportApi::Sync,
        ..ImportOptions::default()
    };
    let mut seen = Seen::default();
    let before = emulator.stats().api_requests;
    let report = bulk::import_csv(
        &client,
        "k",
        &csv[..],
        &options,
        &mut seen,
        std::future::pending(),
    )
    .await
    .unwrap();
    assert_eq!(
        (report.accepted, report.rejected, report.batches),
        (120, 1, 3)
    );
    assert_eq!(seen.rejects[0].line, Some(122));
    assert!(
        seen.rejects[0].reason.contains("not-a-number"),
        "{:?}",
        seen.rejects
    );
    // Preflight, three rowsets, and the last one again without its bad row.
    assert_eq!(emulator.stats().api_requests - before, 5);
    assert_eq!(emulator.handle().data_extension_rows("k", None), Some(120));
}

#[tokio::test(start_paused = true)]
async fn a_stop_ends_the_import_and_a_dropped_import_leaves_nothing_running() {
    let (emulator, client) = setup().await;
    define(&emulator, "k").await;
    emulator.handle().set_async_pending_polls(1000);
    let csv = csv_of(0..100);
    let options = ImportOptions {
        max_batch_rows: 10,
        concurrency: 2,
        ..ImportOptions::default()
    };
    let stop = tokio::time::sleep(Duration::from_secs(30));
    let report = bulk::import_csv(&client, "k", &csv[..], &options, &mut (), stop)
        .await
        .unwrap();
    assert!(
        matches!(report.stopped, Some(Stopped::Cancelled)),
        "{report:?}"
    );
    assert_eq!((report.accepted, report.unconfirmed), (0, 20));
    assert!(
        report.rows <= 100 && report.unsent == report.rows - 20,
        "{report:?}"
    );

    let dropped = tokio::time::timeout(
        Duration::from_secs(30),
        bulk::import_csv(
            &client,
            "k",
            &csv[..],
            &options,
            &mut (),
            std::future::pending(),
        ),
    )
    .await;
    assert!(dropped.is_err(), "still polling when dropped");
    let requests = emulator.stats().api_requests;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(
        emulator.stats().api_requests,
        requests,
        "no request after the drop"
    );
}

#[tokio::test(start_paused = true)]
async fn export_filters_and_writes_ndjson() {
    let (emulator, client) = setup().await;
    define(&emulator, "k").await;
    let csv = csv_of(0..5);
    bulk::import_csv(
        &client,
        "k",
        &csv[..],
        &ImportOptions::default(),
        &mut (),
        std::future::pending(),
    )
    .await
    .unwrap();
    let options = ExportOptions {
        filter: Some("email eq 'user3@example.com'".into()),
        format: ExportFormat::Ndjson,
    };
    let mut out = Vec::new();
    let rows = bulk::export(&client, "k", &options, &mut out, |_| {})
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let line: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        line,
        json!({"id": "3", "email": "user3@example.com", "name": "Name, 3"})
    );
    let missing = bulk::export(&client, "nope", &options, &mut Vec::new(), |_| {}).await;
    assert!(missing.unwrap_err().to_string().contains("HTTP 404"));
}

#[tokio::test(start_paused = true)]
async fn rows_of_a_request_that_got_no_answer_are_unconfirmed_not_unsent() {
    let (emulator, client) = setup().await;
    define(&emulator, "k").await;
    let csv = csv_of(0..10);
    for api in [ImportApi::Async, ImportApi::Sync] {
        let failing = Fault {
            status: Some(500),
            count: 1000,
            ..Fault::default()
        };
        let mut seen = Seen {
            inject: Some((emulator.handle(), vec![failing])),
            ..Seen::default()
        };
        let options = ImportOptions {
            api,
            ..ImportOptions::default()
        };
        let report = bulk::import_csv(
            &client,
            "k",
            &csv[..],
            &options,
            &mut seen,
            std::future::pending(),
        )
        .await
        .unwrap();
        assert!(
            matches!(&report.stopped, Some(Stopped::Failed(ImportError::Client(e))) if e.is_unavailable()),
            "{report:?}"
        );
        // A 500 does not say the rows were not written: the report must not call them unsent.
        assert_eq!(
            (
                report.rows,
                report.accepted,
                report.unconfirmed,
                report.unsent
            ),
            (10, 0, 10, 0),
            "{api:?}: {report:?}"
        );
        emulator.handle().clear_faults();
    }
}

#[tokio::test(start_paused = true)]
async fn a_stop_is_heeded_while_the_header_is_awaited_or_the_key_checked() {
    let (emulator, client) = setup().await;
    define(&emulator, "k").await;
    // A pipe that gives the header and then nothing (a terminal nobody types into).
    let (mut writer, reader) = tokio::io::duplex(1024);
    tokio::io::AsyncWriteExt::write_all(&mut writer, b"id,email,name\n")
        .await
        .unwrap();
    let (options, csv) = (ImportOptions::default(), csv_of(0..10));
    let (mut nobody, mut nobody_else) = ((), ());
    let waiting = bulk::import_csv(
        &client,
        "k",
        reader,
        &options,
        &mut nobody,
        tokio::time::sleep(Duration::from_secs(1)),
    );
    let report = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("the stop ends an import waiting for its input")
        .unwrap();
    assert!(matches!(report.stopped, Some(Stopped::Cancelled)));
    assert_eq!((report.rows, report.batches), (0, 0));

    // The data extension check hangs (a slow answer): the stop ends it, nothing is sent.
    emulator.handle().add_fault(Fault {
        status: None,
        delay_ms: 600_000,
        ..Fault::default()
    });
    let checking = bulk::import_csv(
        &client,
        "k",
        &csv[..],
        &options,
        &mut nobody_else,
        tokio::time::sleep(Duration::from_secs(1)),
    );
    let report = tokio::time::timeout(Duration::from_secs(30), checking)
        .await
        .expect("the stop ends an import checking its data extension")
        .unwrap();
    assert!(matches!(report.stopped, Some(Stopped::Cancelled)));
    assert_eq!(report.batches, 0);
    drop(writer);
}

#[tokio::test(start_paused = true)]
async fn a_request_pending_for_ever_ends_unconfirmed_after_the_status_wait_limit() {
    let (emulator, client) = setup().await;
    define(&emulator, "k").await;
    emulator.handle().set_async_pending_polls(u32::MAX);
    let csv = csv_of(0..10);
    let started = tokio::time::Instant::now();
    let report = bulk::import_csv(
        &client,
        "k",
        &csv[..],
        &ImportOptions::default(),
        &mut (),
        std::future::pending(),
    )
    .await
    .unwrap();
    assert!(
        matches!(report.stopped, Some(Stopped::Failed(_))),
        "{report:?}"
    );
    assert_eq!(
        (
            report.rows,
            report.accepted,
            report.unconfirmed,
            report.unsent
        ),
        (10, 0, 10, 0)
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(30 * 60) && waited < Duration::from_secs(31 * 60),
        "{waited:?}"
    );
}
