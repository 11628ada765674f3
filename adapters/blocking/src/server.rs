//! The server side: read requests, stream their bodies, send responses.

use std::sync::Arc;

use bytes::Bytes;
use h1::http::{HeaderMap, Request, Response};
use h1::{Connection, Role};
use h1_driver::{Config, Error, Parts, Reader, Session};

use crate::body::{BodyReceiver, BodySender};
use crate::driver::Shared;
use crate::Socket;

/// A server connection over a blocking socket: requests in, responses out,
/// in full duplex.
///
/// The same shape as the async adapters' (see `h1_driver::ServerConnection`):
/// [`read_request`](Self::read_request), [`read_body`](Self::read_body),
/// [`send_response`](Self::send_response), [`send_data`](Self::send_data),
/// [`send_end`](Self::send_end), [`send_full`](Self::send_full). A body
/// write that waits for the socket keeps reading the request body (up to
/// [`READ_AHEAD`](h1_driver::READ_AHEAD)), so a response may stream while
/// the request still arrives. Every method takes `&self`;
/// [`body_receiver`](Self::body_receiver) and
/// [`body_sender`](Self::body_sender) hand a direction to another thread.
///
/// The deadlines (head read, keep-alive idle, write) are armed as the
/// socket's timeouts; see [`Socket`].
pub struct ServerConnection<IO: Socket> {
    pub(crate) shared: Arc<Shared<IO>>,
}

impl<IO: Socket> ServerConnection<IO> {
    /// A server connection with the default configuration.
    pub fn new(io: IO) -> Self {
        Self::with_config(io, Config::default())
    }

    /// A server connection with `config` (limits, leniency, timeouts).
    pub fn with_config(io: IO, config: impl Into<Config>) -> Self {
        ServerConnection {
            shared: Arc::new(Shared::new(io, Session::new(Role::Server, config.into()))),
        }
    }

    /// Another handle on the same connection (for `serve`'s handler).
    pub(crate) fn handle(&self) -> Self {
        ServerConnection {
            shared: self.shared.clone(),
        }
    }

    /// The next request head, or `None` once the connection is done (the
    /// client closed, the connection must close, it switched protocols, or
    /// a graceful shutdown began). Any unread body of the previous request
    /// is read and discarded first (see `h1_driver::Session::poll_read_request`).
    ///
    /// A request the core rejects gets its suggested status (400, 408, 413,
    /// 414, 431, 501, 505) with `connection: close`; the error is returned
    /// once the connection is closed.
    pub fn read_request(&self) -> Result<Option<Request<()>>, Error> {
        self.shared.run(None, Session::poll_read_request)
    }

    /// The next chunk of the current request's body, `None` at its end.
    /// Sends `100 Continue` first if the client waits for it. A body the
    /// core rejects is answered with its status, like a rejected head.
    pub fn read_body(&self) -> Result<Option<Bytes>, Error> {
        self.shared.run(None, |s| s.poll_read_body(Reader::Connection))
    }

    /// The current request's body as its own handle (a [`std::io::Read`]),
    /// for another thread or for reading with `read_to_end`.
    pub fn body_receiver(&self) -> BodyReceiver<IO> {
        BodyReceiver::new(self.shared.clone())
    }

    /// The trailers of the request body read last, if it had any.
    pub fn trailers(&self) -> Option<HeaderMap> {
        self.shared.inspect(|s| s.trailers().cloned())
    }

    /// Sends a response head. A 1xx is written at once; a final response
    /// gets a `date` field when it has none (and `connection: close` during
    /// a graceful shutdown). A 101 (to an upgrade request) or a 2xx to
    /// CONNECT switches protocols once the rest of the request body has
    /// been read (and dropped): follow it with [`into_parts`](Self::into_parts).
    pub fn send_response(&self, res: Response<()>) -> Result<(), Error> {
        let status = res.status();
        self.shared.run(None, |s| s.poll_ready_to_respond(status))?;
        if self.shared.with(|s| s.send_response(res))? {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends a whole final response: its head, `body`, and the end, as
    /// [`Connection::send_full_response`] does.
    pub fn send_full(&self, res: Response<()>, body: Bytes) -> Result<(), Error> {
        let status = res.status();
        self.shared.run(None, |s| s.poll_ready_to_respond(status))?;
        let flush = self.shared.with(|s| {
            s.send_full(res, body)?;
            Ok::<_, Error>(s.is_flush_due_after_end())
        })?;
        if flush {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends body bytes. Waits while [`HIGH_WATER`](h1_driver::HIGH_WATER)
    /// bytes are queued, reading the request meanwhile.
    pub fn send_data(&self, data: Bytes) -> Result<(), Error> {
        self.shared.with(|s| s.send_data(data, None))?;
        self.shared.run(None, Session::poll_send_capacity)
    }

    /// Ends a chunked body with trailers.
    pub fn send_trailers(&self, trailers: HeaderMap) -> Result<(), Error> {
        self.end(Some(trailers))
    }

    /// Ends the response.
    pub fn send_end(&self) -> Result<(), Error> {
        self.end(None)
    }

    fn end(&self, trailers: Option<HeaderMap>) -> Result<(), Error> {
        let flush = self.shared.with(|s| {
            s.send_end(trailers, None)?;
            Ok::<_, Error>(s.is_flush_due_after_end())
        })?;
        if flush {
            self.flush()?;
        }
        Ok(())
    }

    /// The current response's body as its own handle, for another thread.
    pub fn body_sender(&self) -> BodySender<IO> {
        BodySender::new(self.shared.clone())
    }

    /// Writes everything queued.
    pub fn flush(&self) -> Result<(), Error> {
        self.shared.run(None, Session::poll_flush)
    }

    /// Whether the current request proposes a switch (it asks to upgrade,
    /// or is CONNECT).
    pub fn is_switch_proposed(&self) -> bool {
        self.shared.inspect(|s| s.connection().is_switch_proposed())
    }

    /// Whether the connection switched protocols (a 101 or a 2xx to
    /// CONNECT was sent).
    pub fn is_switched(&self) -> bool {
        self.shared.inspect(Session::is_switched)
    }

    /// After a switch: writes what is queued (the 101) and hands back the
    /// IO value and the bytes already received for the new protocol (no
    /// other handle on the connection may be alive).
    pub fn into_parts(self) -> Result<Parts<IO>, Error> {
        crate::into_parts(self.shared)
    }

    /// Graceful shutdown: from now on, final responses carry
    /// `connection: close`, and [`read_request`](Self::read_request)
    /// returns `None` instead of waiting for another request.
    pub fn begin_shutdown(&self) {
        self.shared.with(Session::set_shutting_down);
    }

    /// Closes the connection: writes what is queued, shuts the write side
    /// down, and, if the client may still be sending, reads and discards
    /// for up to [`LINGER`](h1_driver::LINGER).
    pub fn shutdown(&self) -> Result<(), Error> {
        self.shared.run(None, Session::poll_close);
        Ok(())
    }

    /// Calls `f` with the protocol state machine, for inspection.
    pub fn inspect<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        self.shared.inspect(|s| f(s.connection()))
    }
}
