//! Body handles: one direction of a connection as its own value, `Send`
//! (when the IO is) and not tied to a borrow of the connection, so that
//! the other direction can be driven at the same time, by another future
//! of the same task (`join`) or by another task.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use h1::http::HeaderMap;
use h1::{FieldLines, OutgoingFields};

use crate::error::Error;
use crate::rt::Transport;
use crate::session::{Reader, Session};
use crate::shared::{Shared, WaiterId};

/// The body of the current incoming message (a server's request, a
/// client's response), from `body_receiver()`.
///
/// Reads only as fast as it is read: body data nobody reads stops the
/// connection's reading once [`READ_AHEAD`](crate::READ_AHEAD) bytes wait.
/// While it is alive, the connection waits for it before reading the next
/// message; dropped before the end, the rest of the body is discarded as
/// if nobody had read it. Reading it ends with `None` (also for a receiver
/// of an earlier message).
///
/// With the runtime features of this crate, it is also the runtime's
/// `AsyncRead` (a read of 0 bytes is the end of the body).
pub struct BodyReceiver<IO, Rt: Transport<IO>> {
    shared: Arc<Shared<IO, Rt>>,
    message: u64,
    /// Its identity among the connection's waiters.
    waiter: WaiterId,
    /// Part of a chunk an `AsyncRead` read did not take.
    pub(crate) chunk: Bytes,
}

impl<IO: Unpin, Rt: Transport<IO>> BodyReceiver<IO, Rt> {
    pub(crate) fn new(shared: Arc<Shared<IO, Rt>>) -> Self {
        let message = shared.with(Session::attach_receiver);
        let waiter = shared.wakers.id();
        BodyReceiver {
            shared,
            message,
            waiter,
            chunk: Bytes::new(),
        }
    }

    /// The next chunk of the body, `None` at its end.
    pub async fn read_body(&mut self) -> Result<Option<Bytes>, Error> {
        std::future::poll_fn(|cx| self.poll_read_body(cx)).await
    }

    /// The next chunk of the body, `None` at its end (the poll form of
    /// [`read_body`](Self::read_body)).
    pub fn poll_read_body(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Error>> {
        if !self.chunk.is_empty() {
            return Poll::Ready(Ok(Some(std::mem::take(&mut self.chunk))));
        }
        let reader = Reader::Receiver(self.message);
        self.shared.poll_op(cx, self.waiter, |s| s.poll_read_body(reader))
    }

    /// Copies as much of the body as fits into `buf`: the runtime-neutral
    /// half of an `AsyncRead`. `Ready(Ok(0))` is the end of the body.
    pub fn poll_read_into(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<Result<usize, Error>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        while self.chunk.is_empty() {
            match self.poll_read_body(cx) {
                Poll::Ready(Ok(Some(chunk))) => self.chunk = chunk,
                Poll::Ready(Ok(None)) => return Poll::Ready(Ok(0)),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = self.chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Poll::Ready(Ok(n))
    }

    /// The trailers of the body as a header map, once it was read to its
    /// end (if it had any; an error only for a field name longer than the
    /// `http` types hold).
    pub fn trailers(&self) -> Result<Option<HeaderMap>, Error> {
        self.shared.inspect(crate::server::trailer_map)
    }

    /// The trailer section of the body as received (field lines in order
    /// and case), once it was read to its end (if it had any).
    pub fn trailer_fields(&self) -> Option<FieldLines> {
        self.shared.inspect(|s| s.trailers().cloned())
    }
}

impl<IO, Rt: Transport<IO>> Drop for BodyReceiver<IO, Rt> {
    fn drop(&mut self) {
        let message = self.message;
        crate::shared::lock(&self.shared.driver)
            .session
            .detach_receiver(message);
        self.shared.wakers.remove(self.waiter);
        self.shared.wakers.wake_others(None);
    }
}

/// The body of the current outgoing message (a server's response, a
/// client's request), from `body_sender()`, taken after its head was sent.
///
/// [`send_data`](Self::send_data) waits while
/// [`HIGH_WATER`](crate::HIGH_WATER) bytes are queued, the connection
/// reading meanwhile. End the body with [`send_end`](Self::send_end) or
/// [`send_trailers`](Self::send_trailers). Dropped before that, the message
/// is abandoned: what was queued is written and the connection closes, so
/// the peer sees an incomplete message, never a truncated one that looks
/// whole. `serve` waits for a sender that is still sending before it
/// reads the next request.
pub struct BodySender<IO, Rt: Transport<IO>> {
    shared: Arc<Shared<IO, Rt>>,
    message: u64,
}

impl<IO: Unpin, Rt: Transport<IO>> BodySender<IO, Rt> {
    pub(crate) fn new(shared: Arc<Shared<IO, Rt>>) -> Self {
        let message = shared.with(Session::attach_sender);
        BodySender { shared, message }
    }

    /// Sends body bytes (see the type's docs for waiting). A client that
    /// stopped sending drops them.
    pub async fn send_data(&self, data: Bytes) -> Result<(), Error> {
        self.shared.wait(Session::poll_send_capacity).await?;
        let message = Some(self.message);
        self.shared.with(|s| s.send_data(data, message))?;
        self.shared.wait(Session::poll_send_capacity).await
    }

    /// Ends a chunked body with a trailer section (a `HeaderMap` or
    /// [`FieldLines`]), and writes it out.
    pub async fn send_trailers(self, trailers: impl OutgoingFields) -> Result<(), Error> {
        let message = Some(self.message);
        self.shared.with(|s| s.send_trailers(trailers, message))?;
        self.flush().await
    }

    /// Ends the body, and writes it out.
    pub async fn send_end(self) -> Result<(), Error> {
        let message = Some(self.message);
        self.shared.with(|s| s.send_end(message))?;
        self.flush().await
    }

    /// Writes everything queued.
    pub async fn flush(&self) -> Result<(), Error> {
        self.shared.wait(Session::poll_flush).await
    }
}

impl<IO, Rt: Transport<IO>> Drop for BodySender<IO, Rt> {
    fn drop(&mut self) {
        let message = self.message;
        crate::shared::lock(&self.shared.driver)
            .session
            .detach_sender(message);
        self.shared.wakers.wake_others(None);
    }
}
