//! futures-io's traits for the driver's types users hold (feature
//! `futures-io`): [`Upgraded`] reads its leftover first; a
//! [`BodyReceiver`] is an `AsyncRead` of the body.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::{BodyReceiver, Error, Transport, Upgraded};

impl<IO: AsyncRead + Unpin> AsyncRead for Upgraded<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if let Some(bytes) = self.parts.take_leftover(buf.len()) {
            buf[..bytes.len()].copy_from_slice(&bytes);
            return Poll::Ready(Ok(bytes.len()));
        }
        Pin::new(&mut self.parts.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Upgraded<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.parts.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.parts.io).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.parts.io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.parts.io).poll_close(cx)
    }
}

impl<IO: Unpin, Rt: Transport<IO>> AsyncRead for BodyReceiver<IO, Rt> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_into(cx, buf).map_err(|e| match e {
            Error::Io(e) => e,
            e => io::Error::new(io::ErrorKind::InvalidData, e),
        })
    }
}
