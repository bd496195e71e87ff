//! `sfmc de export` (see [`super::de`]): `sfmc_client::bulk::export` to stdout, or to `-o FILE`
//! through a temporary file beside it that is renamed at the end and removed on any failure or
//! Ctrl-C, so FILE is never half-written.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::time::Duration;

use indicatif::ProgressBar;
use serde_json::json;
use sfmc_client::bulk::{self, ExportError, ExportFormat, ExportOptions};

use super::call::open;
use super::de::{ExportArgs, Format};
use crate::exit::Failure;
use crate::{output, signal};

/// Runs `sfmc de export`.
pub async fn run(args: &ExportArgs) -> Result<(), Failure> {
    // Listening from the start: a Ctrl-C while the connection opens counts too.
    let mut stop = pin!(signal::interrupted());
    let options = ExportOptions {
        filter: args.filter.clone(),
        format: match args.format {
            Format::Csv => ExportFormat::Csv,
            Format::Ndjson => ExportFormat::Ndjson,
        },
    };
    let target = args.output.as_deref().filter(|p| *p != Path::new("-"));
    // The temporary file is made before anything is sent, so a bad path fails first.
    let temp = target.map(TempFile::create).transpose()?;
    let (connection, client) = tokio::select! {
        biased;
        () = &mut stop => return Err(Failure::interrupted_because("interrupted; nothing was written to the output file")),
        opened = open(&args.connection) => opened?,
    };
    let bar = if io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        ProgressBar::hidden()
    };
    let progress = |rows: u64| bar.set_message(format!("{rows} rows"));
    let exported = {
        let export = async {
            match &temp {
                Some(temp) => {
                    let file = temp.file.try_clone().map_err(ExportError::Write)?;
                    bulk::export(&client, &args.key, &options, file, progress).await
                }
                None => bulk::export(&client, &args.key, &options, io::stdout(), progress).await,
            }
        };
        tokio::select! {
            exported = export => exported,
            () = &mut stop => {
                bar.finish_and_clear();
                return Err(Failure::interrupted_because("interrupted; nothing was written to the output file"));
            }
        }
    };
    bar.finish_and_clear();
    let rows = match exported {
        Ok(rows) => rows,
        Err(ExportError::Write(e)) if temp.is_none() && e.kind() == io::ErrorKind::BrokenPipe => {
            return Ok(());
        }
        Err(ExportError::Write(e)) => {
            let name = target.map_or("stdout".into(), |p| p.display().to_string());
            return Err(Failure::config(format!("cannot write {name}: {e}")));
        }
        Err(ExportError::Client(e)) => return Err(e.into()),
    };
    if let (Some(temp), Some(target)) = (temp, target) {
        temp.persist(target)?;
        output::json(&json!({
            "key": args.key,
            "rows": rows,
            "output": target.display().to_string(),
            "format": match args.format { Format::Csv => "csv", Format::Ndjson => "ndjson" },
        }))?;
        eprintln!(
            "{rows} rows of {:?} written to {}",
            args.key,
            target.display()
        );
    } else {
        eprintln!("{rows} rows of {:?} exported", args.key);
    }
    connection.settle().await;
    Ok(())
}

/// A temporary file beside the target, removed when dropped unless persisted.
struct TempFile {
    path: PathBuf,
    file: File,
    persisted: bool,
}

impl TempFile {
    fn create(target: &Path) -> Result<Self, Failure> {
        let name = target
            .file_name()
            .ok_or_else(|| Failure::config(format!("-o {}: not a file name", target.display())))?;
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".sfmc-{}.tmp", std::process::id()));
        let path = target.with_file_name(temp_name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Failure::config(format!("cannot create {}: {e}", path.display())))?;
        Ok(Self {
            path,
            file,
            persisted: false,
        })
    }

    /// Flushes the file to disk and renames it to `target`.
    fn persist(mut self, target: &Path) -> Result<(), Failure> {
        let failed =
            |e: io::Error| Failure::config(format!("cannot write {}: {e}", target.display()));
        self.file.flush().map_err(failed)?;
        self.file.sync_all().map_err(failed)?;
        fs::rename(&self.path, target).map_err(failed)?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = fs::remove_file(&self.path);
        }
    }
}
