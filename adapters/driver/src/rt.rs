//! What a runtime supplies to the driver: one read, one vectored write,
//! flush and shutdown on its IO type, and a resettable sleep. Each runtime
//! crate implements these on a marker type (`h1_tokio::Tokio`,
//! `h1_async_std::FuturesIo`); the driver is written once over them.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;

/// A runtime: its timer. Implemented on a marker type by each runtime
/// crate; the connection types take it as their `Rt` parameter.
pub trait Runtime: 'static {
    /// The runtime's timer.
    type Sleep: Sleep;
}

/// A timer that fires once at a deadline and can be set again.
pub trait Sleep: Send + Unpin + 'static {
    /// A timer firing at `deadline`.
    fn until(deadline: Instant) -> Self;

    /// Sets the timer to fire at `deadline` instead.
    fn reset(&mut self, deadline: Instant);

    /// Ready once the deadline passed (the timer may then be reset).
    fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()>;
}

/// The runtime's IO operations on `IO`, as the driver uses them.
///
/// Implemented by a runtime's marker type for every `IO` that implements
/// the runtime's own IO traits (the orphan rule lets the runtime crate
/// write `impl<IO: tokio::io::AsyncRead + ...> Transport<IO> for Tokio`).
pub trait Transport<IO>: Runtime {
    /// Whether [`poll_shutdown`](Self::poll_shutdown) half-closes: the peer
    /// sees the end of input at once while this side can still read. A
    /// closing connection lingers (reads and discards for up to
    /// [`LINGER`](crate::LINGER), so that the peer reads the last response
    /// before a reset) only when it does.
    const HALF_CLOSE: bool = true;

    /// Reads once into `buf` (the driver keeps it between calls; a runtime
    /// may keep spare room in it) and splits off what was read: empty at
    /// the end of input.
    fn poll_read(io: Pin<&mut IO>, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<BytesMut>>;

    /// Reads once into a small buffer of the runtime's own (on the stack:
    /// nothing is held while waiting) and hands what was read to `take`
    /// (empty at the end of input). Used between messages, where a
    /// kept-alive connection waits.
    fn poll_read_small<R>(
        io: Pin<&mut IO>,
        cx: &mut Context<'_>,
        take: impl FnOnce(&[u8]) -> R,
    ) -> Poll<io::Result<R>>;

    /// Writes from `bufs` once, returning how many bytes were written.
    fn poll_write_vectored(
        io: Pin<&mut IO>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;

    /// Flushes what the IO buffers itself.
    fn poll_flush(io: Pin<&mut IO>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Closes the write side (the peer reads the end of input).
    fn poll_shutdown(io: Pin<&mut IO>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}
