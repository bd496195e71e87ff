//! [`Counted`]: a connection's I/O that counts the bytes read from it (after TLS), so that the
//! pool can tell a connection closed before any answer from one closed partway through an
//! answer — only the first may see its request sent again.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The bytes read from one connection so far.
#[derive(Clone, Default)]
pub(super) struct ReadCount(Arc<AtomicU64>);

impl ReadCount {
    pub(super) fn get(&self) -> u64 {
        // Read after the connection's error came through hyper's channel, which orders it.
        self.0.load(Ordering::Relaxed)
    }
}

/// `io`, counting what is read from it.
pub(super) struct Counted<T> {
    io: T,
    count: ReadCount,
}

impl<T> Counted<T>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin,
{
    /// `io` (as hyper reads and writes it) wrapped, and its count.
    pub(super) fn wrap(io: T) -> (TokioIo<Counted<TokioIo<T>>>, ReadCount) {
        let count = ReadCount::default();
        let counted = Counted {
            io: TokioIo::new(io),
            count: count.clone(),
        };
        (TokioIo::new(counted), count)
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        let read = (buf.filled().len() - before) as u64;
        this.count.0.fetch_add(read, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
