//! The one way `sfmc` notices that it should stop: Ctrl-C or SIGTERM. One-shot commands stop
//! their token refreshes (releasing store locks) and exit 130; the emulator shuts down cleanly.
//!
//! [`Signals::listen`] registers the handlers at once, before any command runs, so a Ctrl-C is
//! always caught the same way. At the (blocking) secret prompt it is noted and takes effect when
//! the prompt returns, so the terminal's echo is always restored first.

use std::io;

/// Registered Ctrl-C and SIGTERM handlers.
pub struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    /// Registers the handlers (inside a tokio runtime).
    pub fn listen() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves on Ctrl-C or SIGTERM.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Resolves on Ctrl-C or SIGTERM received from now on: the handlers are registered when this
/// is called, not when the future is first polled, so a signal during whatever runs before the
/// future is awaited (opening the connection, say) is not lost.
pub fn interrupted() -> impl Future<Output = ()> + Send + 'static {
    let signals = Signals::listen();
    async move {
        match signals {
            Ok(mut signals) => signals.recv().await,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
