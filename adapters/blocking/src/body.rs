//! Body handles: one direction of a connection as its own value, for
//! another thread (see `h1_driver::BodyReceiver` and `BodySender`).

use std::io::{self, Read};
use std::sync::Arc;

use bytes::{Buf, Bytes};
use h1::http::HeaderMap;
use h1::{FieldLines, OutgoingFields};
use h1_driver::{Error, Reader, Session};

use crate::driver::{lock, Shared};
use crate::Socket;

/// The body of the current incoming message (a server's request, a
/// client's response), from `body_receiver()`; also a [`Read`] (0 at the
/// end of the body). While it is alive, the connection waits for it
/// before reading the next message; dropped early, the rest is discarded.
pub struct BodyReceiver<IO: Socket> {
    shared: Arc<Shared<IO>>,
    message: u64,
    chunk: Bytes,
}

impl<IO: Socket> BodyReceiver<IO> {
    pub(crate) fn new(shared: Arc<Shared<IO>>) -> Self {
        let message = shared.with(Session::attach_receiver);
        BodyReceiver {
            shared,
            message,
            chunk: Bytes::new(),
        }
    }

    /// The next chunk of the body, `None` at its end.
    pub fn read_body(&mut self) -> Result<Option<Bytes>, Error> {
        if !self.chunk.is_empty() {
            return Ok(Some(std::mem::take(&mut self.chunk)));
        }
        let reader = Reader::Receiver(self.message);
        self.shared.run(None, |s| s.poll_read_body(reader))
    }

    /// The trailers of the body as a header map, once it was read to its
    /// end (an error only for a field name longer than the `http` types
    /// hold).
    pub fn trailers(&self) -> Result<Option<HeaderMap>, Error> {
        self.shared.inspect(crate::trailer_map)
    }

    /// The trailer section of the body as received, once it was read to
    /// its end.
    pub fn trailer_fields(&self) -> Option<FieldLines> {
        self.shared.inspect(|s| s.trailers().cloned())
    }
}

impl<IO: Socket> Read for BodyReceiver<IO> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.chunk.is_empty() {
            match self.read_body() {
                Ok(Some(chunk)) => self.chunk = chunk,
                Ok(None) => return Ok(0),
                Err(Error::Io(e)) => return Err(e),
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
        let n = self.chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}

impl<IO: Socket> Drop for BodyReceiver<IO> {
    fn drop(&mut self) {
        let message = self.message;
        self.shared.with(|s| s.detach_receiver(message));
    }
}

/// The body of the current outgoing message (a server's response, a
/// client's request), from `body_sender()`, taken after its head was sent.
/// End it with [`send_end`](Self::send_end) or
/// [`send_trailers`](Self::send_trailers); dropped before that, the
/// message is abandoned and the connection closes.
pub struct BodySender<IO: Socket> {
    shared: Arc<Shared<IO>>,
    message: u64,
}

impl<IO: Socket> BodySender<IO> {
    pub(crate) fn new(shared: Arc<Shared<IO>>) -> Self {
        let message = shared.with(Session::attach_sender);
        BodySender { shared, message }
    }

    /// Sends body bytes, waiting while
    /// [`HIGH_WATER`](h1_driver::HIGH_WATER) bytes are queued.
    pub fn send_data(&self, data: Bytes) -> Result<(), Error> {
        self.shared.run(None, Session::poll_send_capacity)?;
        let message = Some(self.message);
        self.shared.with(|s| s.send_data(data, message))?;
        self.shared.run(None, Session::poll_send_capacity)
    }

    /// Ends a chunked body with a trailer section (a `HeaderMap` or
    /// [`FieldLines`]), and writes it out.
    pub fn send_trailers(self, trailers: impl OutgoingFields) -> Result<(), Error> {
        let message = Some(self.message);
        self.shared.with(|s| s.send_trailers(trailers, message))?;
        self.flush()
    }

    /// Ends the body, and writes it out.
    pub fn send_end(self) -> Result<(), Error> {
        let message = Some(self.message);
        self.shared.with(|s| s.send_end(message))?;
        self.flush()
    }

    /// Writes everything queued.
    pub fn flush(&self) -> Result<(), Error> {
        self.shared.run(None, Session::poll_flush)
    }
}

impl<IO: Socket> Drop for BodySender<IO> {
    fn drop(&mut self) {
        let message = self.message;
        lock(&self.shared.state).session.detach_sender(message);
        self.shared.with(|_| ());
    }
}
