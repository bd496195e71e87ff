//! `sfmc de import` (see [`super::de`]): opens the input and the connection, runs
//! `sfmc_client::bulk::import_csv` with a progress bar and a reject file as its observer, stops
//! on Ctrl-C, and prints the summaries.

use std::fs::File;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use sfmc_auth::{Clock, SystemClock};
use sfmc_client::bulk::{
    self, BlockingRead, ImportApi, ImportError, ImportObserver, ImportOptions, ImportReport,
    Progress, Reject, Stopped,
};
use sfmc_client::{ClientError, ErrorClass};
use tokio::io::AsyncRead;

use super::call::open;
use super::de::ImportArgs;
use crate::exit::Failure;
use crate::{output, signal};

/// Runs `sfmc de import`.
pub async fn run(args: &ImportArgs) -> Result<(), Failure> {
    // Listening from the start: a Ctrl-C while the connection opens counts too.
    let mut stop = pin!(signal::interrupted());
    let (input, size): (Box<dyn AsyncRead + Unpin + Send>, Option<u64>) = if args.file == "-" {
        (Box::new(tokio::io::stdin()), None)
    } else {
        let file = File::open(&args.file)
            .map_err(|e| Failure::config(format!("cannot open {}: {e}", args.file)))?;
        let size = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        (Box::new(BlockingRead(file)), size)
    };
    let mut options = ImportOptions {
        concurrency: usize::from(args.concurrency),
        primary_keys: args.primary_keys.clone(),
        ..ImportOptions::default()
    };
    if args.sync {
        options.api = ImportApi::Sync;
    }
    if let Some(rows) = args.batch_rows {
        options.max_batch_rows = rows as usize;
    }
    let reject_path = args
        .reject
        .clone()
        .unwrap_or_else(|| default_reject_path(&args.file));
    let (connection, client) = tokio::select! {
        biased;
        () = &mut stop => return Err(Failure::interrupted_because("interrupted before any row was sent")),
        opened = open(&args.connection) => opened?,
    };
    let started = SystemClock.now_ms();
    let mut observer = Observer::new(size, reject_path);
    let result = bulk::import_csv(
        &client,
        &args.key,
        input,
        &options,
        &mut observer,
        stop.as_mut(),
    )
    .await;
    observer.bar.finish_and_clear();
    let seconds = SystemClock.now_ms().saturating_sub(started) as f64 / 1000.0;
    let rejects_file = observer.rejects.finish()?;
    let report = result.map_err(import_failure)?;
    let summary = json!({
        "key": args.key,
        "api": if args.sync { "sync" } else { "async" },
        "rows": report.rows,
        "accepted": report.accepted,
        "rejected": report.rejected,
        "unconfirmed": report.unconfirmed,
        "unsent": report.unsent,
        "batches": report.batches,
        "rejects_file": rejects_file.as_ref().map(|p| p.display().to_string()),
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "stopped": match &report.stopped {
            None => Value::Null,
            Some(Stopped::Cancelled) => "interrupted".into(),
            Some(Stopped::Failed(_)) => "failed".into(),
        },
    });
    output::json(&summary)?;
    eprintln!(
        "{}",
        plain_summary(&args.key, &report, rejects_file.as_deref(), seconds)
    );
    connection.settle().await;
    match report.stopped {
        None if args.strict && report.rejected > 0 => Err(Failure::rejected(format!(
            "--strict: {} rows were rejected",
            report.rejected
        ))),
        None => Ok(()),
        Some(Stopped::Cancelled) => Err(Failure::interrupted_because(
            "interrupted; the summary above says what was accepted",
        )),
        Some(Stopped::Failed(error)) => Err(import_failure(error)),
    }
}

/// `FILE.rejects.csv` (a `.csv` extension replaced) beside the input; `stdin.rejects.csv`.
fn default_reject_path(file: &str) -> PathBuf {
    if file == "-" {
        return PathBuf::from("stdin.rejects.csv");
    }
    let path = Path::new(file);
    let stem = match path.extension() {
        Some(ext) if ext.eq_ignore_ascii_case("csv") => path.with_extension(""),
        _ => path.to_path_buf(),
    };
    let mut name = stem.into_os_string();
    name.push(".rejects.csv");
    PathBuf::from(name)
}

fn import_failure(error: ImportError) -> Failure {
    match error {
        ImportError::Client(error) => Failure::from(error),
        other => {
            let message = other.to_string();
            match other.class() {
                ErrorClass::InvalidInput => Failure::config(message),
                ErrorClass::Rejection => Failure::rejected(message),
                ErrorClass::Unavailable => Failure::from(ClientError::InvalidResponse(message)),
            }
        }
    }
}

fn plain_summary(key: &str, report: &ImportReport, rejects: Option<&Path>, seconds: f64) -> String {
    let rate = if seconds > 0.0 {
        format!(", {:.0} rows/s", report.accepted as f64 / seconds)
    } else {
        String::new()
    };
    let mut text = format!(
        "{} of {} rows accepted into {key:?} in {seconds:.1} s{rate}; {} rejected",
        report.accepted, report.rows, report.rejected
    );
    if let Some(path) = rejects {
        text.push_str(&format!(" (see {})", path.display()));
    }
    if report.stopped.is_some() {
        text.push_str(&format!(
            "; stopped early: {} rows sent with their outcome unknown (Marketing Cloud may still write them), {} not sent",
            report.unconfirmed, report.unsent
        ));
    }
    text
}

/// The progress bar and the reject file.
struct Observer {
    bar: ProgressBar,
    rejects: RejectFile,
}

impl Observer {
    fn new(size: Option<u64>, reject_path: PathBuf) -> Self {
        let bar = if io::stderr().is_terminal() {
            let bar = match size {
                Some(size) => ProgressBar::new(size).with_style(
                    ProgressStyle::with_template(
                        "{spinner} [{bar:30}] {percent:>3}% {msg} (ETA {eta})",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                ),
                None => ProgressBar::new_spinner(),
            };
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        Self {
            bar,
            rejects: RejectFile {
                path: reject_path,
                columns: Vec::new(),
                writer: None,
            },
        }
    }
}

impl ImportObserver for Observer {
    fn header(&mut self, columns: &[String]) {
        self.rejects.columns = columns.to_vec();
    }

    fn progress(&mut self, progress: &Progress) {
        if self.bar.is_hidden() {
            return;
        }
        self.bar.set_position(progress.bytes_read);
        let seconds = self.bar.elapsed().as_secs_f64();
        let rate = if seconds > 0.0 {
            progress.accepted as f64 / seconds
        } else {
            0.0
        };
        self.bar.set_message(format!(
            "{} rows read, {} accepted, {} rejected, {rate:.0} rows/s",
            progress.rows_read, progress.accepted, progress.rejected
        ));
    }

    fn reject(&mut self, reject: &Reject) -> io::Result<()> {
        self.rejects.write(reject)
    }
}

/// The reject CSV, created at the first reject: `line,reason,` then the input's columns.
struct RejectFile {
    path: PathBuf,
    columns: Vec<String>,
    writer: Option<csv::Writer<File>>,
}

impl RejectFile {
    fn write(&mut self, reject: &Reject) -> io::Result<()> {
        let writer = match &mut self.writer {
            Some(writer) => writer,
            None => {
                let file = File::create(&self.path).map_err(|e| self.named(e))?;
                // Rejected records may have any number of fields.
                let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(file);
                let header = ["line", "reason"]
                    .into_iter()
                    .chain(self.columns.iter().map(String::as_str));
                writer
                    .write_record(header)
                    .map_err(|e| self.named(e.into()))?;
                self.writer.insert(writer)
            }
        };
        let line = reject.line.map(|l| l.to_string()).unwrap_or_default();
        let record = [line.as_str(), reject.reason.as_str()]
            .into_iter()
            .chain(reject.fields.iter().map(String::as_str));
        let written = writer.write_record(record);
        written.map_err(|e| self.named(e.into()))
    }

    /// Flushes the file; its path when there was a reject.
    fn finish(&mut self) -> Result<Option<PathBuf>, Failure> {
        let Some(mut writer) = self.writer.take() else {
            return Ok(None);
        };
        writer
            .flush()
            .map_err(|e| Failure::config(format!("{}", self.named(e))))?;
        Ok(Some(self.path.clone()))
    }

    fn named(&self, error: io::Error) -> io::Error {
        io::Error::new(
            error.kind(),
            format!("reject file {}: {error}", self.path.display()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_files_sit_beside_the_input() {
        assert_eq!(
            default_reject_path("data/contacts.csv"),
            PathBuf::from("data/contacts.rejects.csv")
        );
        assert_eq!(
            default_reject_path("rows.txt"),
            PathBuf::from("rows.txt.rejects.csv")
        );
        assert_eq!(default_reject_path("-"), PathBuf::from("stdin.rejects.csv"));
    }

    #[test]
    fn exit_codes_follow_the_error_class() {
        assert_eq!(
            import_failure(ImportError::Empty).code(),
            crate::exit::CONFIG
        );
    }
}
