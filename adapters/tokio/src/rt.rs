//! tokio's side of the driver: its IO traits, one read into a buffer, a
//! read on the stack, and a resettable sleep.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The tokio runtime, as the driver's `Rt` parameter.
#[derive(Debug)]
pub struct Tokio;

/// Buffer reservation before each read.
const READ_CHUNK: usize = 8 * 1024;
/// Room on the stack for a read between messages (the start of the next one).
const SMALL_READ: usize = 4 * 1024;

impl h1_driver::Runtime for Tokio {
    type Sleep = Sleep;
}

impl<IO: AsyncRead + AsyncWrite> h1_driver::Transport<IO> for Tokio {
    /// Reads into `buf`'s spare capacity and splits off what was read,
    /// without copying.
    fn poll_read(io: Pin<&mut IO>, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<BytesMut>> {
        if buf.capacity() - buf.len() < READ_CHUNK / 2 {
            buf.reserve(READ_CHUNK);
        }
        tokio_util::io::poll_read_buf(io, cx, buf).map_ok(|_| buf.split())
    }

    /// Reads into uninitialized memory on the stack: nothing to zero,
    /// nothing held while waiting.
    fn poll_read_small<R>(
        io: Pin<&mut IO>,
        cx: &mut Context<'_>,
        take: impl FnOnce(&[u8]) -> R,
    ) -> Poll<io::Result<R>> {
        let mut stack = [std::mem::MaybeUninit::<u8>::uninit(); SMALL_READ];
        let mut buf = ReadBuf::uninit(&mut stack);
        io.poll_read(cx, &mut buf).map_ok(|()| take(buf.filled()))
    }

    fn poll_write_vectored(
        io: Pin<&mut IO>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        io.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(io: Pin<&mut IO>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        io.poll_flush(cx)
    }

    fn poll_shutdown(io: Pin<&mut IO>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        io.poll_shutdown(cx)
    }
}

/// A tokio timer that is re-armed without a new allocation.
#[derive(Debug)]
pub struct Sleep(Pin<Box<tokio::time::Sleep>>);

impl h1_driver::Sleep for Sleep {
    fn until(deadline: Instant) -> Self {
        Sleep(Box::pin(tokio::time::sleep_until(deadline.into())))
    }

    fn reset(&mut self, deadline: Instant) {
        self.0.as_mut().reset(deadline.into());
    }

    fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        std::future::Future::poll(self.0.as_mut(), cx)
    }
}
