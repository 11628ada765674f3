//! Socket handover after a switch: the concrete IO value and the bytes
//! already received for the new protocol.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures_io::{AsyncRead, AsyncWrite};

/// The connection taken apart after a 101 or a 2xx to CONNECT: the IO
/// value, as its own concrete type, and every byte received past the last
/// HTTP message.
#[derive(Debug)]
pub struct Parts<IO> {
    /// The socket (or whatever IO the connection ran over).
    pub io: IO,
    /// Bytes the peer already sent in the new protocol.
    pub leftover: Bytes,
}

impl<IO> Parts<IO> {
    /// An IO value that replays `leftover` before reading from `io`.
    pub fn into_upgraded(self) -> Upgraded<IO> {
        Upgraded {
            io: self.io,
            leftover: self.leftover,
        }
    }
}

/// The IO after a switch: reads return the leftover bytes first, then
/// whatever the socket delivers; writes go straight to the socket.
#[derive(Debug)]
pub struct Upgraded<IO> {
    io: IO,
    leftover: Bytes,
}

impl<IO> Upgraded<IO> {
    /// The socket and any leftover bytes not yet read.
    pub fn into_parts(self) -> Parts<IO> {
        Parts {
            io: self.io,
            leftover: self.leftover,
        }
    }

    /// The socket.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Upgraded<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if !self.leftover.is_empty() {
            let n = self.leftover.len().min(buf.len());
            buf[..n].copy_from_slice(&self.leftover[..n]);
            self.leftover.advance(n);
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Upgraded<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_close(cx)
    }
}
