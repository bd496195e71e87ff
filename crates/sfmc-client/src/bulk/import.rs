//! The import pipeline: the header and a first row checked, the data extension checked, then
//! two halves run together inside the one import future (no task is spawned): a reader that
//! parses records into batches and hands them over a one-slot channel (so it is never more than
//! a batch ahead), and a sender that keeps at most `concurrency` batches open, counts what
//! comes back, passes rejects and progress to the observer, and stops on the `stop` future or a
//! failure no retry fixes.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use super::async_rows::{self, PollSchedule};
use super::batch::{Batch, BatchBuilder, BodyShape};
use super::columns::Columns;
use super::csv_source::{CsvSource, SourceError};
use super::outcome::BatchOutcome;
use super::report::{ImportError, ImportObserver, ImportReport, Progress, Reject, Stopped};
use super::{ImportApi, ImportOptions};
use super::{preflight, rowset};
use crate::client::Client;

/// What the reader hands to the sender.
enum Event {
    Batch(Batch),
    Reject(Reject),
    Failed(ImportError),
}

/// Imports the CSV `input` (header row first) into data extension `key` as `options` say,
/// telling `observer` about progress and rejects, until the input ends, a failure stops it, or
/// `stop` resolves. An `Err` means nothing was sent (see [`super`] for what is checked first);
/// a failure later ends the report with [`Stopped::Failed`]. `stop` is heeded from the start:
/// while the header is awaited or the data extension checked, it ends the import with a report
/// of nothing sent.
pub async fn import_csv<R, O>(
    client: &Client,
    key: &str,
    input: R,
    options: &ImportOptions,
    observer: &mut O,
    stop: impl Future<Output = ()>,
) -> Result<ImportReport, ImportError>
where
    R: AsyncRead + Unpin,
    O: ImportObserver + ?Sized,
{
    let mut stop = pin!(stop);
    let mut source = CsvSource::new(input);
    // Reading the header (stdin may be slow to give it) and checking the data extension come
    // before any row is sent; `stop` ends them too.
    let prepared = tokio::select! {
        biased;
        () = &mut stop => return Ok(ImportReport {
            stopped: Some(Stopped::Cancelled),
            ..ImportReport::empty()
        }),
        prepared = prepare(client, key, &mut source, options, observer) => prepared?,
    };
    let (columns, shape) = prepared;
    let builder = BatchBuilder::new(shape, options.batch_rows(), options.max_batch_bytes);
    let counters = Counters::default();
    let (tx, rx) = mpsc::channel(1);
    let reader = read(&mut source, &columns, builder, tx, &counters);
    let sender = Sender {
        client,
        key,
        columns: &columns,
        options,
        counters: &counters,
    };
    let sending = sender.send(rx, observer, stop.as_mut());
    let (mut reader, mut sending) = (pin!(reader), pin!(sending));
    let mut report = tokio::select! {
        report = &mut sending => report,
        () = &mut reader => sending.await,
    };
    report.columns = columns.names().to_vec();
    report.rows = counters.rows_read.load(Ordering::Relaxed);
    report.unsent = report.rows - report.accepted - report.rejected - report.unconfirmed;
    Ok(report)
}

/// Reads the header and checks it and the data extension: the columns (primary keys marked for
/// the rowset API) and the body shape.
async fn prepare<R, O>(
    client: &Client,
    key: &str,
    source: &mut CsvSource<R>,
    options: &ImportOptions,
    observer: &mut O,
) -> Result<(Columns, BodyShape), ImportError>
where
    R: AsyncRead + Unpin,
    O: ImportObserver + ?Sized,
{
    let header = source.next_record().await.map_err(input_error)?;
    let mut columns =
        Columns::from_header(&header.ok_or(ImportError::Empty)?).map_err(ImportError::Input)?;
    observer.header(columns.names());
    if !source.has_next().await.map_err(input_error)? {
        return Err(ImportError::NoRows(columns.names().to_vec()));
    }
    let sample_keys = preflight::check_data_extension(client, key, &columns).await?;
    let shape = match options.api {
        ImportApi::Async => BodyShape::Items,
        ImportApi::Sync => {
            let keys = if !options.primary_keys.is_empty() {
                options.primary_keys.clone()
            } else if !sample_keys.is_empty() {
                sample_keys
            } else {
                columns.names()[..1].to_vec()
            };
            columns
                .set_primary_keys(&keys)
                .map_err(ImportError::Input)?;
            BodyShape::Rowset
        }
    };
    Ok((columns, shape))
}

fn input_error(error: SourceError) -> ImportError {
    ImportError::Input(error.to_string())
}

/// Counts the reader keeps for the sender's progress.
#[derive(Default)]
struct Counters {
    rows_read: AtomicU64,
    bytes_read: AtomicU64,
}

/// The reader: records → batches and rejects, over `tx`.
async fn read<R: AsyncRead + Unpin>(
    source: &mut CsvSource<R>,
    columns: &Columns,
    mut builder: BatchBuilder,
    tx: mpsc::Sender<Event>,
    counters: &Counters,
) {
    loop {
        let event = match source.next_record().await {
            Ok(None) => break,
            Err(error) => Some(Event::Failed(input_error(error))),
            Ok(Some(record)) => match builder.push(columns, &record) {
                Ok(closed) => closed.map(Event::Batch),
                Err(reason) => Some(Event::Reject(Reject {
                    line: Some(record.line),
                    reason,
                    fields: record.lossy_fields(),
                })),
            },
        };
        let failed = matches!(event, Some(Event::Failed(_)));
        if !failed {
            counters.rows_read.fetch_add(1, Ordering::Relaxed);
        }
        counters
            .bytes_read
            .store(source.bytes_read(), Ordering::Relaxed);
        if let Some(event) = event
            && (tx.send(event).await.is_err() || failed)
        {
            return;
        }
    }
    if let Some(batch) = builder.take() {
        let _ = tx.send(Event::Batch(batch)).await;
    }
}

/// The sender's settings.
struct Sender<'a> {
    client: &'a Client,
    key: &'a str,
    columns: &'a Columns,
    options: &'a ImportOptions,
    counters: &'a Counters,
}

impl<'a> Sender<'a> {
    fn open(&self, batch: Batch) -> BoxFuture<'a, BatchOutcome> {
        let (client, key, columns) = (self.client, self.key, self.columns);
        match self.options.api {
            ImportApi::Async => {
                let poll = PollSchedule {
                    first: self.options.poll_first,
                    max: self.options.poll_max,
                };
                Box::pin(async_rows::run(client, key, columns, batch, poll))
            }
            ImportApi::Sync => Box::pin(rowset::run(client, key, columns, batch)),
        }
    }

    /// Sends what the reader hands over until it is done, a failure, or `stop`.
    async fn send<O: ImportObserver + ?Sized>(
        self,
        mut rx: mpsc::Receiver<Event>,
        observer: &mut O,
        stop: impl Future<Output = ()>,
    ) -> ImportReport {
        let mut stop = pin!(stop);
        let mut open = FuturesUnordered::new();
        let (mut open_rows, mut reading) = (0, true);
        let mut progress = Progress::default();
        let mut report = ImportReport::empty();
        let concurrency = self.options.concurrency.max(1);
        let stopped = loop {
            if !reading && open.is_empty() {
                break None;
            }
            let step = tokio::select! {
                biased;
                () = &mut stop => Err(Stopped::Cancelled),
                Some(outcome) = open.next(), if !open.is_empty() => {
                    let outcome: BatchOutcome = outcome;
                    open_rows -= outcome.rows;
                    report.accepted += outcome.accepted;
                    let mut result = Ok(());
                    for r in &outcome.rejects {
                        result = result.and_then(|()| reject(&mut *observer, r, &mut report));
                    }
                    match (outcome.failure, result) {
                        (Some((error, maybe_written)), _) => {
                            if maybe_written {
                                report.unconfirmed += outcome.rows - outcome.accepted - outcome.rejects.len() as u64;
                            }
                            Err(Stopped::Failed(ImportError::Client(error)))
                        }
                        (None, result) => result.map_err(Stopped::Failed),
                    }
                }
                event = rx.recv(), if reading && open.len() < concurrency => match event {
                    Some(Event::Batch(batch)) => {
                        progress.rows_sent += batch.len() as u64;
                        open_rows += batch.len() as u64;
                        report.batches += 1;
                        open.push(self.open(batch));
                        Ok(())
                    }
                    Some(Event::Reject(r)) => reject(&mut *observer, &r, &mut report).map_err(Stopped::Failed),
                    Some(Event::Failed(error)) => Err(Stopped::Failed(error)),
                    None => {
                        reading = false;
                        Ok(())
                    }
                },
            };
            if let Err(stopped) = step {
                break Some(stopped);
            }
            progress.bytes_read = self.counters.bytes_read.load(Ordering::Relaxed);
            progress.rows_read = self.counters.rows_read.load(Ordering::Relaxed);
            progress.accepted = report.accepted;
            progress.rejected = report.rejected;
            observer.progress(&progress);
        };
        // Batches still open were sent: their outcome is unknown.
        report.unconfirmed += open_rows;
        report.stopped = stopped;
        report
    }
}

/// Counts a reject and hands it to the observer.
fn reject<O: ImportObserver + ?Sized>(
    observer: &mut O,
    reject: &Reject,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    report.rejected += 1;
    observer.reject(reject).map_err(ImportError::Rejects)
}
