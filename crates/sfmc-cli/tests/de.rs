//! `sfmc de import|export` against the emulator: the done-when (10,000 rows through
//! three 429s, exported back), rejects by line in the reject file, exit codes for bad input and
//! unknown keys, the rowset API, `-o` through a temporary file, and Ctrl-C mid-import.

#![allow(clippy::unwrap_used)] // tests fail loudly on unexpected errors

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::json;
use sfmc_emulator::{Fault, FaultTarget};
use support::{Env, code, dir_names, json, stderr, stdout};

/// An emulator with data extension `key` (`id` Number primary key, `email`, `name`) and a
/// scratch directory.
async fn setup(name: &str, key: &str) -> (Env, PathBuf) {
    let env = Env::new(name).await;
    let body = json!({"key": key, "fields": [{"name": "id", "type": "Number"}, "email", "name"], "primaryKeys": ["id"]});
    let answer = reqwest::Client::new()
        .post(format!("{}/_emulator/dataextensions", env.emulator.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    let dir = env.cache_dir.join("files");
    std::fs::create_dir_all(&dir).unwrap();
    (env, dir)
}

fn write_csv(dir: &Path, name: &str, rows: u32, extra: &str) -> PathBuf {
    let mut text = String::from("id,email,name\n");
    for i in 0..rows {
        text.push_str(&format!("{i},user{i}@example.com,\"Name, {i}\"\n"));
    }
    text.push_str(extra);
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn rows_of(env: &Env, key: &str) -> Option<usize> {
    env.emulator.handle().data_extension_rows(key, None)
}

/// A CSV's rows as sorted `column=value` lists (header names lower-cased).
fn row_set(csv: &[u8]) -> BTreeSet<Vec<String>> {
    let mut reader = csv::Reader::from_reader(csv);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_lowercase)
        .collect();
    reader
        .records()
        .map(|r| {
            let mut pairs: Vec<String> = header
                .iter()
                .zip(r.unwrap().iter())
                .map(|(h, v)| format!("{h}={v}"))
                .collect();
            pairs.sort();
            pairs
        })
        .collect()
}

fn pass_through() -> Fault {
    Fault {
        target: FaultTarget::Api,
        status: None,
        count: 1,
        ..Fault::default()
    }
}

#[tokio::test]
async fn ten_thousand_rows_through_three_429s_land_once_and_export_back() {
    let (env, dir) = setup("de-done", "k").await;
    let input = write_csv(&dir, "rows.csv", 10_000, "");
    // The check of the data extension passes; the first three writes are throttled.
    env.emulator.add_fault(pass_through());
    env.emulator.add_fault(Fault {
        status: Some(429),
        count: 3,
        ..pass_through()
    });
    let path = input.to_str().unwrap();
    let output = env
        .run(&["de", "import", "--key", "k", path, "--batch-rows", "2500"])
        .await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let summary = json(&output);
    assert_eq!(summary["rows"], 10_000);
    assert_eq!(summary["accepted"], 10_000);
    assert_eq!(summary["rejected"], 0);
    assert_eq!(summary["rejects_file"], serde_json::Value::Null);
    assert!(
        env.emulator.handle().pending_faults().is_empty(),
        "the 429s were met"
    );
    assert_eq!(rows_of(&env, "k"), Some(10_000));
    assert!(
        stderr(&output).contains("10000 of 10000 rows accepted"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.join("rows.rejects.csv").exists());

    let exported = env.run(&["de", "export", "--key", "k"]).await;
    assert_eq!(code(&exported), 0, "{}", stderr(&exported));
    let original = row_set(&std::fs::read(&input).unwrap());
    assert_eq!(original.len(), 10_000);
    assert!(
        row_set(&exported.stdout) == original,
        "the export differs from the import"
    );
}

#[tokio::test]
async fn malformed_rows_go_to_the_reject_file_by_line_and_the_rest_is_imported() {
    let (env, dir) = setup("de-rejects", "k").await;
    let input = write_csv(
        &dir,
        "rows.csv",
        3,
        "7,short\nx,bad@example.com,X\n9,ok@example.com,OK\n",
    );
    let path = input.to_str().unwrap();
    let output = env.run(&["de", "import", "--key", "k", path]).await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let summary = json(&output);
    assert_eq!(
        (summary["accepted"].as_u64(), summary["rejected"].as_u64()),
        (Some(4), Some(2))
    );
    let rejects_path = dir.join("rows.rejects.csv");
    assert_eq!(summary["rejects_file"], rejects_path.display().to_string());
    let rejects = std::fs::read_to_string(&rejects_path).unwrap();
    let mut lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines.remove(0), "line,reason,id,email,name");
    lines.sort_unstable();
    assert!(
        lines[0].starts_with("5,has 2 fields; the header has 3,7,short"),
        "{rejects}"
    );
    assert!(lines[1].starts_with("6,\"InvalidValue: Row "), "{rejects}");
    assert!(lines[1].ends_with(",x,bad@example.com,X"), "{rejects}");
    assert_eq!(rows_of(&env, "k"), Some(4));

    let custom = dir.join("custom-rejects.csv");
    let custom_arg = custom.to_str().unwrap();
    let strict = env
        .run(&[
            "de", "import", "--key", "k", path, "--strict", "--reject", custom_arg,
        ])
        .await;
    assert_eq!(code(&strict), 3, "{}", stderr(&strict));
    assert!(
        stderr(&strict).contains("--strict: 2 rows were rejected"),
        "{}",
        stderr(&strict)
    );
    assert!(custom.exists());
}

#[tokio::test]
async fn bad_input_exits_2_and_unknown_keys_exit_3_before_any_row_is_sent() {
    let (env, dir) = setup("de-bad-input", "k").await;
    let empty = dir.join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let header_only = dir.join("header.csv");
    std::fs::write(&header_only, "id,email\n").unwrap();
    let missing = dir.join("missing.csv");
    for (file, message) in [
        (&empty, "the input is empty"),
        (
            &header_only,
            "the input has a header (id, email) and no rows",
        ),
        (&missing, "cannot open"),
    ] {
        let output = env
            .run(&["de", "import", "--key", "k", file.to_str().unwrap()])
            .await;
        assert_eq!(code(&output), 2, "{}", stderr(&output));
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
    }
    assert_eq!(env.emulator.stats().api_requests, 0, "nothing was sent");

    let input = write_csv(&dir, "rows.csv", 2, "");
    let unknown = env
        .run(&["de", "import", "--key", "nope", input.to_str().unwrap()])
        .await;
    assert_eq!(code(&unknown), 3, "{}", stderr(&unknown));
    assert!(
        stderr(&unknown).contains("HTTP 404"),
        "{}",
        stderr(&unknown)
    );
    let export = env
        .run(&[
            "de",
            "export",
            "--key",
            "nope",
            "-o",
            dir.join("out.csv").to_str().unwrap(),
        ])
        .await;
    assert_eq!(code(&export), 3, "{}", stderr(&export));
    assert!(
        !dir_names(&dir).iter().any(|n| n.contains("out.csv")),
        "{:?}",
        dir_names(&dir)
    );
}

#[tokio::test]
async fn sync_imports_through_rowsets_and_export_writes_a_file_whole() {
    let (env, dir) = setup("de-sync", "k").await;
    let input = write_csv(&dir, "rows.csv", 120, "");
    let before = env.emulator.stats().api_requests;
    let output = env
        .run(&[
            "de",
            "import",
            "--key",
            "k",
            "--sync",
            input.to_str().unwrap(),
        ])
        .await;
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(json(&output)["api"], "sync");
    assert_eq!(rows_of(&env, "k"), Some(120));
    assert_eq!(
        env.emulator.stats().api_requests - before,
        4,
        "a check and three rowsets"
    );

    let out = dir.join("out.ndjson");
    let args = [
        "de", "export", "--key", "k", "--format", "ndjson", "--filter", "id lt 10", "-o",
    ];
    let mut args = args.to_vec();
    args.push(out.to_str().unwrap());
    let exported = env.run(&args).await;
    assert_eq!(code(&exported), 0, "{}", stderr(&exported));
    assert_eq!(json(&exported)["rows"], 10);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 10);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        first,
        json!({"id": "0", "email": "user0@example.com", "name": "Name, 0"})
    );
    assert_eq!(
        dir_names(&dir),
        ["out.ndjson", "rows.csv"],
        "no temporary file left"
    );
}

/// Starts `sfmc ARGS…` with its output captured, and once `ready` holds (checked every 20 ms,
/// for at most 10 s) sends it Ctrl-C; returns its output.
#[cfg(unix)]
async fn interrupt_when(
    env: &Env,
    args: &[&str],
    ready: impl Fn() -> bool,
) -> std::process::Output {
    use rustix::process::{Pid, Signal, kill_process};
    let child = env
        .command(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..500 {
        if ready() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(ready(), "not ready before Ctrl-C");
    let pid = Pid::from_raw(i32::try_from(child.id().unwrap()).unwrap()).unwrap();
    kill_process(pid, Signal::INT).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("Ctrl-C ends the command")
        .unwrap()
}

#[cfg(unix)]
#[tokio::test]
async fn ctrl_c_stops_an_import_and_reports_what_was_accepted() {
    let (env, dir) = setup("de-ctrl-c", "k").await;
    env.emulator.handle().set_async_pending_polls(1000);
    let input = write_csv(&dir, "rows.csv", 1000, "");
    let args = [
        "de",
        "import",
        "--key",
        "k",
        input.to_str().unwrap(),
        "--batch-rows",
        "100",
    ];
    // The first batches are written (and their status pending) before the signal.
    let output = interrupt_when(&env, &args, || rows_of(&env, "k").unwrap_or(0) >= 400).await;
    assert_eq!(rows_of(&env, "k"), Some(400), "four batches open");
    assert_eq!(code(&output), 130, "{}", stderr(&output));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["stopped"], "interrupted");
    assert_eq!(summary["accepted"], 0);
    assert_eq!(summary["unconfirmed"], 400);
    assert!(
        stderr(&output).contains("stopped early: 400 rows sent"),
        "{}",
        stderr(&output)
    );
}

#[cfg(unix)]
#[tokio::test]
async fn ctrl_c_while_the_data_extension_is_checked_exits_130_at_once() {
    let (env, dir) = setup("de-ctrl-c-early", "k").await;
    let input = write_csv(&dir, "rows.csv", 10, "");
    // The data extension check (the first REST request) waits ten minutes for its answer.
    env.emulator.handle().add_fault(Fault {
        target: FaultTarget::Api,
        status: None,
        count: 1,
        delay_ms: 600_000,
        ..Fault::default()
    });
    let args = ["de", "import", "--key", "k", input.to_str().unwrap()];
    let output = interrupt_when(&env, &args, || env.emulator.stats().api_requests >= 1).await;
    assert_eq!(code(&output), 130, "{}", stderr(&output));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(summary["stopped"], "interrupted");
    assert_eq!(summary["batches"], 0);
    assert_eq!(rows_of(&env, "k"), Some(0));
}
