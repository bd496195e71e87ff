//! The thread-per-core layout, as nginx's workers: one OS thread per available core but one
//! ([`count`]), each running its own single-threaded tokio runtime with its own accept loop on
//! the shared listening socket ([`crate::server`]). A connection, the handling of its requests and the
//! upstream connections they use (one connection pool per worker, see [`worker_index`]) stay on
//! the thread that accepted it: no work stealing, no wakeups across threads on the hot path.
//!
//! Shutdown: the signal stops every accept loop at once; each worker finishes its requests in
//! flight within the shared grace period; then [`Workers::release`] lets the runtimes end —
//! only after the caller has stopped what was spawned on them (token refreshes).

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::net::TcpListener as StdListener;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::{oneshot, watch};

use crate::server;

thread_local! {
    /// The index of the worker running on this thread, if any.
    static WORKER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// How many workers serve: one per available core but one, at least one. The core left is for
/// the kernel's TCP work and whatever runs beside the gateway (its callers, an upstream on the
/// same host): on a 2-core host one worker took ~10 % less CPU per request, and served more
/// requests/s, than two (docs/benchmarks.md, Gateway).
pub(crate) fn count() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().saturating_sub(1).max(1))
}

/// The index (below [`count`]) of the worker on this thread; 0 off the workers (a router
/// served by other means).
pub(crate) fn worker_index() -> usize {
    WORKER.with(Cell::get).unwrap_or(0)
}

/// Workers whose accept loops have ended, their runtimes still running.
pub(crate) struct Workers {
    release: Vec<oneshot::Sender<()>>,
    exited: Vec<oneshot::Receiver<()>>,
}

impl Workers {
    /// Lets the workers' runtimes end (dropping what still runs on them) and waits for their
    /// threads to exit.
    pub(crate) async fn release(self) {
        drop(self.release);
        for exited in self.exited {
            let _ = exited.await;
        }
    }
}

/// Serves `router` on `listener` with [`count`] workers until `shutdown`, then for at most
/// `grace`; returns once every accept loop has ended, with the runtimes still up.
pub(crate) async fn serve(
    listener: StdListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> io::Result<Workers> {
    listener.set_nonblocking(true)?;
    let (stop, stopped) = watch::channel(false);
    let mut workers = Workers {
        release: Vec::new(),
        exited: Vec::new(),
    };
    let mut served = Vec::new();
    let mut started = Ok(());
    for index in 0..count() {
        match start(index, &listener, router.clone(), stopped.clone(), grace) {
            Ok(worker) => {
                workers.release.push(worker.release);
                workers.exited.push(worker.exited);
                served.push(worker.served);
            }
            Err(error) => {
                started = Err(error);
                break;
            }
        }
    }
    drop(listener);
    if started.is_ok() {
        shutdown.await;
    }
    let _ = stop.send(true);
    for done in served {
        let _ = done.await;
    }
    started.map(|()| workers)
}

/// One started worker's channels.
struct Started {
    served: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
    exited: oneshot::Receiver<()>,
}

/// Starts worker `index`: its runtime and listener are made here, so that a failure shows now.
fn start(
    index: usize,
    listener: &StdListener,
    router: Router,
    mut stopped: watch::Receiver<bool>,
    grace: Duration,
) -> io::Result<Started> {
    let runtime = runtime(index)?;
    let listener = {
        let _entered = runtime.enter();
        TcpListener::from_std(listener.try_clone()?)?
    };
    let (served_tx, served) = oneshot::channel();
    let (release, release_rx) = oneshot::channel::<()>();
    let (exited_tx, exited) = oneshot::channel();
    std::thread::Builder::new()
        .name(format!("sfmc-gateway-{index}"))
        .spawn(move || {
            WORKER.with(|worker| worker.set(Some(index)));
            runtime.block_on(async move {
                let stop = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                server::serve(listener, router, stop, grace).await;
                let _ = served_tx.send(());
                let _ = release_rx.await;
            });
            drop(runtime);
            let _ = exited_tx.send(());
        })?;
    Ok(Started {
        served,
        release,
        exited,
    })
}

/// A worker's single-threaded runtime (IO and timers).
fn runtime(index: usize) -> io::Result<Runtime> {
    Builder::new_current_thread()
        .enable_all()
        .thread_name(format!("sfmc-gateway-{index}"))
        .build()
}
