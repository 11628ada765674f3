//! The futures-io side of the driver: its IO traits, one read into a
//! buffer, a read on the stack, and a resettable sleep (async-io, which
//! runs under any executor).

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use futures_io::{AsyncRead, AsyncWrite};

/// Any runtime over the futures-io traits (async-std, smol), as the
/// driver's `Rt` parameter.
#[derive(Debug)]
pub struct FuturesIo;

/// Size of the initialized read region offered to each read.
const READ_CHUNK: usize = 8 * 1024;
/// Room on the stack for a read between messages (the start of the next
/// one). futures-io reads into initialized memory, so it is zeroed first;
/// kept small for that reason.
const SMALL_READ: usize = 1024;

impl h1_driver::Runtime for FuturesIo {
    type Sleep = Sleep;
}

impl<IO: AsyncRead + AsyncWrite> h1_driver::Transport<IO> for FuturesIo {
    /// futures-io's `close` half-closes some TCP streams (smol's) and only
    /// flushes others (async-std's, async-io's `Async`): the driver cannot
    /// tell, so a closing connection does not linger.
    const HALF_CLOSE: bool = false;

    /// Reads into `buf` and splits off what was read, without copying.
    /// `buf` is kept zero-filled (no unsafe): the region stays initialized
    /// while reads reuse it.
    fn poll_read(io: Pin<&mut IO>, cx: &mut Context<'_>, buf: &mut BytesMut) -> Poll<io::Result<BytesMut>> {
        if buf.len() < READ_CHUNK / 2 {
            buf.resize(READ_CHUNK, 0);
        }
        io.poll_read(cx, buf).map_ok(|n| buf.split_to(n))
    }

    fn poll_read_small<R>(
        io: Pin<&mut IO>,
        cx: &mut Context<'_>,
        take: impl FnOnce(&[u8]) -> R,
    ) -> Poll<io::Result<R>> {
        let mut stack = [0u8; SMALL_READ];
        io.poll_read(cx, &mut stack).map_ok(|n| take(&stack[..n]))
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

    /// futures-io's `close` (see [`HALF_CLOSE`](h1_driver::Transport::HALF_CLOSE)).
    fn poll_shutdown(io: Pin<&mut IO>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        io.poll_close(cx)
    }
}

/// An async-io timer.
#[derive(Debug)]
pub struct Sleep(async_io::Timer);

impl h1_driver::Sleep for Sleep {
    fn until(deadline: Instant) -> Self {
        Sleep(async_io::Timer::at(deadline))
    }

    fn reset(&mut self, deadline: Instant) {
        self.0.set_at(deadline);
    }

    fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}
