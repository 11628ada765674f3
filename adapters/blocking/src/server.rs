//! The server side: read requests, stream their bodies, send responses.

use std::sync::Arc;

use bytes::Bytes;
use h1::http::{HeaderMap, Request};
use h1::{Config, Connection, FieldLines, OutgoingFields, OutgoingResponse, RequestHead, Role};
use h1_driver::{Error, Parts, Reader, Session};

use crate::body::{BodyReceiver, BodySender};
use crate::driver::Shared;
use crate::Socket;

/// A server connection over a blocking socket: requests in, responses out,
/// in full duplex.
///
/// The same shape as the async adapters' (see `h1_driver::ServerConnection`):
/// [`read_request_head`](Self::read_request_head) (the request as
/// received) or [`read_request`](Self::read_request) (as `http` types),
/// [`read_body`](Self::read_body),
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

    /// A server connection with `config` (limits, leniency, deadlines).
    pub fn with_config(io: IO, config: Config) -> Self {
        ServerConnection {
            shared: Arc::new(Shared::new(io, Session::new(Role::Server, config))),
        }
    }

    /// Another handle on the same connection (for `serve`'s handler).
    pub(crate) fn handle(&self) -> Self {
        ServerConnection {
            shared: self.shared.clone(),
        }
    }

    /// The next request head as it arrived (the wire path: see
    /// [`RequestHead`]; no `http` types built), or `None` once the
    /// connection is done (the client closed, the connection must close, it
    /// switched protocols, or a graceful shutdown began). Any unread body of
    /// the previous request is read and discarded first (see
    /// `h1_driver::Session::poll_read_request_head`).
    ///
    /// A request the core rejects gets its suggested status (400, 408, 413,
    /// 414, 431, 501, 505) with `connection: close`; the error is returned
    /// once the connection is closed.
    pub fn read_request_head(&self) -> Result<Option<RequestHead>, Error> {
        self.shared.run(None, Session::poll_read_request_head)
    }

    /// The next request as an `http::Request<()>`:
    /// [`read_request_head`](Self::read_request_head), the head then built
    /// into `http` types by the connection that read it. A head the `http`
    /// types cannot hold is answered as a rejected one is.
    pub fn read_request(&self) -> Result<Option<Request<()>>, Error> {
        self.shared.run(None, Session::poll_read_request)
    }

    /// `head` as an `http::Request<()>`, built with what this connection
    /// keeps for that (less work for the head it read last).
    pub fn http_request(&self, head: RequestHead) -> Result<Request<()>, Error> {
        self.shared.with(|s| s.http_request(head))
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

    /// The trailers of the request body read last, as a header map, if it
    /// had any (an error only for a field name longer than the `http` types
    /// hold).
    pub fn trailers(&self) -> Result<Option<HeaderMap>, Error> {
        self.shared.inspect(crate::trailer_map)
    }

    /// The trailer section of the request body read last, as received, if
    /// it had any.
    pub fn trailer_fields(&self) -> Option<FieldLines> {
        self.shared.inspect(|s| s.trailers().cloned())
    }

    /// Sends a response head: an `http::Response<()>` or an
    /// [`h1::ResponseHead`] (sent as it is). A 1xx is written at once; a final response
    /// gets a `date` field when it has none (and `connection: close` during
    /// a graceful shutdown). A 101 (to an upgrade request) or a 2xx to
    /// CONNECT switches protocols once the rest of the request body has
    /// been read (and dropped): follow it with [`into_parts`](Self::into_parts).
    pub fn send_response(&self, res: impl OutgoingResponse) -> Result<(), Error> {
        let mut res = Some(res);
        if self.shared.run(None, |s| s.poll_send_response(&mut res))? {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends a whole final response: its head, `body`, and the end, as
    /// [`Connection::send_full_response`] does.
    pub fn send_full(&self, res: impl OutgoingResponse, body: Bytes) -> Result<(), Error> {
        let mut full = Some((res, body));
        if self.shared.run(None, |s| s.poll_send_full(&mut full))? {
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

    /// Ends a chunked body with a trailer section (a `HeaderMap` or
    /// [`FieldLines`]).
    pub fn send_trailers(&self, trailers: impl OutgoingFields) -> Result<(), Error> {
        self.end(|s| s.send_trailers(trailers, None))
    }

    /// Ends the response.
    pub fn send_end(&self) -> Result<(), Error> {
        self.end(|s| s.send_end(None))
    }

    fn end(&self, end: impl FnOnce(&mut Session) -> Result<(), Error>) -> Result<(), Error> {
        let flush = self.shared.with(|s| {
            end(s)?;
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
