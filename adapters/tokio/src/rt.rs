//! tokio's side of the shared async code: its IO traits, one read into a
//! buffer, a resettable sleep, and shutdown.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
pub(crate) use tokio::io::{AsyncRead, AsyncWrite};

/// Buffer reservation before each read.
const READ_CHUNK: usize = 8 * 1024;

/// Reads once into `buf`'s spare capacity and splits off what was read
/// (empty at end of input), without copying.
pub(crate) fn poll_read<IO: AsyncRead>(
    io: Pin<&mut IO>,
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
) -> Poll<io::Result<BytesMut>> {
    if buf.capacity() - buf.len() < READ_CHUNK / 2 {
        buf.reserve(READ_CHUNK);
    }
    match tokio_util::io::poll_read_buf(io, cx, buf) {
        Poll::Ready(Ok(_)) => Poll::Ready(Ok(buf.split())),
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

/// Room on the stack for a read between messages (the start of the next one).
const IDLE_READ: usize = 4 * 1024;

/// Reads once into a buffer on the stack (uninitialized: nothing to zero,
/// nothing held while waiting) and hands what was read to `take` (empty at
/// end of input).
pub(crate) fn poll_read_idle<IO: AsyncRead, R>(
    io: Pin<&mut IO>,
    cx: &mut Context<'_>,
    take: impl FnOnce(&[u8]) -> R,
) -> Poll<io::Result<R>> {
    let mut stack = [std::mem::MaybeUninit::<u8>::uninit(); IDLE_READ];
    let mut buf = tokio::io::ReadBuf::uninit(&mut stack);
    match io.poll_read(cx, &mut buf) {
        Poll::Ready(Ok(())) => Poll::Ready(Ok(take(buf.filled()))),
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

/// Shuts the write side down.
pub(crate) fn poll_shutdown<IO: AsyncWrite>(io: Pin<&mut IO>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    io.poll_shutdown(cx)
}

/// A tokio timer that can be re-armed without a new allocation.
pub(crate) struct Sleep(Pin<Box<tokio::time::Sleep>>);

impl Sleep {
    pub(crate) fn at(deadline: std::time::Instant) -> Self {
        Sleep(Box::pin(tokio::time::sleep_until(deadline.into())))
    }

    pub(crate) fn reset_at(&mut self, deadline: std::time::Instant) {
        self.0.as_mut().reset(deadline.into());
    }

    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        std::future::Future::poll(self.0.as_mut(), cx)
    }
}
