//! Running the emulator on a socket: [`start`] binds and spawns the serving task;
//! [`RunningEmulator`] reports where it listens and stops it (gracefully with
//! [`RunningEmulator::shutdown`], at once when dropped).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::ListenerExt as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::router;
use crate::config::EmulatorConfig;
use crate::faults::Fault;
use crate::state::{EmulatorHandle, reachable};
use crate::stats::Stats;

/// How long [`RunningEmulator::shutdown`] lets open requests finish before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Binds `listen` (port 0 picks a free port) and serves the emulator on it in a spawned task.
/// Prints nothing; the caller can announce [`RunningEmulator::url`].
pub async fn start(config: EmulatorConfig, listen: SocketAddr) -> io::Result<RunningEmulator> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (app, handle) = router(config);
    handle.set_listen_addr(addr);
    let (stop, stopped) = oneshot::channel::<()>();
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "emulator stopped serving");
        }
    });
    Ok(RunningEmulator {
        addr,
        handle,
        stop: Some(stop),
        task: Some(task),
    })
}

/// An emulator serving on a socket. Dropping it stops the server at once.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    handle: EmulatorHandle,
    stop: Option<oneshot::Sender<()>>,
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
            let _ = stop.send(());
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
