//! The futures-io side of the shared async code: its IO traits, one read
//! into a buffer, a resettable sleep (async-io, which runs under any
//! executor), and close.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
pub(crate) use futures_io::{AsyncRead, AsyncWrite};

/// Size of the initialized read region offered to each read.
const READ_CHUNK: usize = 8 * 1024;

/// Reads once into `buf` and splits off what was read (empty at end of
/// input), without copying. `buf` is kept zero-filled (no unsafe): the
/// region stays initialized while reads reuse it.
pub(crate) fn poll_read<IO: AsyncRead>(
    io: Pin<&mut IO>,
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
) -> Poll<io::Result<BytesMut>> {
    if buf.len() < READ_CHUNK / 2 {
        buf.resize(READ_CHUNK, 0);
    }
    match io.poll_read(cx, buf) {
        Poll::Ready(Ok(n)) => Poll::Ready(Ok(buf.split_to(n))),
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

/// Room on the stack for a read between messages (the start of the next
/// one). futures-io reads into initialized memory, so it is zeroed first;
/// kept small for that reason.
const IDLE_READ: usize = 1024;

/// Reads once into a buffer on the stack (nothing held while waiting) and
/// hands what was read to `take` (empty at end of input).
pub(crate) fn poll_read_idle<IO: AsyncRead, R>(
    io: Pin<&mut IO>,
    cx: &mut Context<'_>,
    take: impl FnOnce(&[u8]) -> R,
) -> Poll<io::Result<R>> {
    let mut stack = [0u8; IDLE_READ];
    match io.poll_read(cx, &mut stack) {
        Poll::Ready(Ok(n)) => Poll::Ready(Ok(take(&stack[..n]))),
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

/// Closes the write side (futures-io `close`).
pub(crate) fn poll_shutdown<IO: AsyncWrite>(io: Pin<&mut IO>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    io.poll_close(cx)
}

/// An async-io timer.
pub(crate) struct Sleep(async_io::Timer);

impl Sleep {
    pub(crate) fn at(deadline: std::time::Instant) -> Self {
        Sleep(async_io::Timer::at(deadline))
    }

    pub(crate) fn reset_at(&mut self, deadline: std::time::Instant) {
        self.0.set_at(deadline);
    }

    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}
