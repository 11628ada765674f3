//! A received body as the futures-io reader type.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use futures_io::{AsyncRead, AsyncWrite};

use crate::driver::Driver;
use crate::Error;

/// The current message's body as an [`AsyncRead`], from
/// `ServerConnection::body_reader` or `ClientConnection::body_reader`.
/// Reads only as fast as it is read (backpressure); it holds at most one
/// received chunk. A read of 0 bytes means the body ended.
pub struct BodyReader<'a, IO> {
    pub(crate) driver: &'a mut Driver<IO>,
    pub(crate) chunk: Bytes,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for BodyReader<'_, IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        while this.chunk.is_empty() {
            match ready!(this.driver.poll_body_chunk(cx)) {
                Ok(Some(chunk)) => this.chunk = chunk,
                Ok(None) => return Poll::Ready(Ok(0)),
                Err(Error::Io(e)) => return Poll::Ready(Err(e)),
                Err(e) => return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e))),
            }
        }
        let n = this.chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&this.chunk[..n]);
        this.chunk.advance(n);
        Poll::Ready(Ok(n))
    }
}
