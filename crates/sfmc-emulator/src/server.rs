//! Running the emulator on a socket: [`start`] binds and spawns the serving task, an HTTP/1
//! accept loop with a header read timeout (a client that does not finish sending a request's
//! headers in time is disconnected), a write stall timeout (a client that stops reading an
//! answer is disconnected; see [`crate::deadline`]) and a connection limit (further connections wait in the
//! listen backlog); [`RunningEmulator`] reports where it listens and stops it (gracefully with
//! [`RunningEmulator::shutdown`], at once when dropped).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::app::router;
use crate::config::EmulatorConfig;
use crate::deadline::StallGuard;
use crate::faults::Fault;
use crate::state::{EmulatorHandle, reachable};
use crate::stats::Stats;

/// Pause after a failed `accept` (such as running out of file descriptors) before retrying.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// How long [`RunningEmulator::shutdown`] lets open requests finish before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Binds `listen` (port 0 picks a free port) and serves the emulator on it in a spawned task.
/// Prints nothing; the caller can announce [`RunningEmulator::url`].
pub async fn start(config: EmulatorConfig, listen: SocketAddr) -> io::Result<RunningEmulator> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let limits = Limits {
        header_read_timeout: config.header_read_timeout,
        write_stall_timeout: config.request_timeout,
        max_connections: config.max_connections.max(1),
    };
    let (app, handle) = router(config);
    handle.set_listen_addr(addr);
    let (stop, stopped) = watch::channel(false);
    let open = Arc::new(AtomicUsize::new(0));
    let task = tokio::spawn(serve(listener, app, limits, open.clone(), stopped));
    Ok(RunningEmulator {
        addr,
        handle,
        open,
        stop: Some(stop),
        task: Some(task),
    })
}

/// How connections are bounded.
#[derive(Clone, Copy, Debug)]
struct Limits {
    header_read_timeout: Duration,
    write_stall_timeout: Duration,
    max_connections: usize,
}

/// Accepts connections until `stop` turns true (or its sender is gone), then lets the open
/// ones finish their current request and returns.
async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    open: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        // The semaphore is never closed, so acquiring it always succeeds.
        let permit = tokio::select! {
            Ok(permit) = permits.clone().acquire_owned() => permit,
            _ = stop.changed() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    tracing::warn!(%error, "emulator could not accept a connection");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let counted = OpenConnection::new(open.clone());
        let service = TowerToHyperService::new(app.clone());
        let mut stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            let _counted = counted;
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout);
            let connection = builder.serve_connection(
                TokioIo::new(StallGuard::new(stream, limits.write_stall_timeout)),
                service,
            );
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Counts a connection in the open-connections gauge while it lives.
struct OpenConnection(Arc<AtomicUsize>);

impl OpenConnection {
    fn new(open: Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::SeqCst);
        OpenConnection(open)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An emulator serving on a socket. Dropping it stops the server at once.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    handle: EmulatorHandle,
    open: Arc<AtomicUsize>,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    /// The bound address (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, no trailing slash; an unspecified bind address (`0.0.0.0`, `::`) is
    /// given as loopback.
    pub fn url(&self) -> String {
        format!("http://{}", reachable(self.addr))
    }

    /// A handle on the state, usable after this value is moved or dropped.
    pub fn handle(&self) -> EmulatorHandle {
        self.handle.clone()
    }

    /// A snapshot of the request counters.
    pub fn stats(&self) -> Stats {
        self.handle.stats()
    }

    /// Connections accepted and not yet closed (at most the configured `max_connections`;
    /// further ones wait in the listen backlog, uncounted).
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Invalidates every token issued so far (same as `POST /_emulator/revoke`).
    pub fn revoke_all(&self) {
        self.handle.revoke_all();
    }

    /// Queues a fault (same as `POST /_emulator/faults`).
    pub fn add_fault(&self, fault: Fault) {
        self.handle.add_fault(fault);
    }

    /// Drops every queued fault (same as `DELETE /_emulator/faults`).
    pub fn clear_faults(&self) {
        self.handle.clear_faults();
    }

    /// Stops accepting connections, lets open requests finish (at most 5 s), then returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
