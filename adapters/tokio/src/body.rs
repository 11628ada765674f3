//! A received body as tokio's reader type.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::driver::Driver;
use crate::Error;

/// The current message's body as an [`AsyncRead`], from
/// `ServerConnection::body_reader` or `ClientConnection::body_reader`.
/// Reads only as fast as it is read (backpressure); it holds at most one
/// received chunk.
pub struct BodyReader<'a, IO> {
    pub(crate) driver: &'a mut Driver<IO>,
    pub(crate) chunk: Bytes,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for BodyReader<'_, IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.chunk.is_empty() {
            match ready!(this.driver.poll_body_chunk(cx)) {
                Ok(Some(chunk)) => this.chunk = chunk,
                Ok(None) => return Poll::Ready(Ok(())),
                Err(Error::Io(e)) => return Poll::Ready(Err(e)),
                Err(e) => return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, e))),
            }
        }
        let n = this.chunk.len().min(buf.remaining());
        buf.put_slice(&this.chunk[..n]);
        this.chunk.advance(n);
        Poll::Ready(Ok(()))
    }
}
