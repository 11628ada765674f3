//! The server side: read requests, stream their bodies, send responses.

use std::sync::Arc;

use bytes::Bytes;
use h1::http::{HeaderMap, Request};
use h1::{Config, Connection, FieldLines, OutgoingFields, OutgoingResponse, RequestHead, Role};

use crate::body::{BodyReceiver, BodySender};
use crate::error::Error;
use crate::rt::Transport;
use crate::session::{Reader, Session};
use crate::shared::Shared;
use crate::Parts;

/// A server connection over a runtime's IO: requests in, responses out,
/// in full duplex.
///
/// Call [`read_request_head`](Self::read_request_head) (the request as
/// received) or [`read_request`](Self::read_request) (as `http` types) for
/// each request, read its body with [`read_body`](Self::read_body), and
/// answer with
/// [`send_response`](Self::send_response), [`send_data`](Self::send_data)
/// and [`send_end`](Self::send_end) (or [`send_full`](Self::send_full) for
/// a whole response at once). The response may start, and stream, while
/// the request body still arrives: a body write that waits for the socket
/// keeps reading the request body, up to [`READ_AHEAD`](crate::READ_AHEAD).
/// A body the handler does not read is read and discarded after the
/// response when it is short ([`DRAIN_LIMIT`](crate::DRAIN_LIMIT));
/// otherwise the connection closes.
///
/// Pipelined requests are answered in order; responses to a pipelined batch
/// go out in one write. A request the core rejects is answered with its
/// status and `connection: close`.
///
/// Every method takes `&self`: the two directions can be used at once from
/// one task (`join`), and [`body_receiver`](Self::body_receiver) and
/// [`body_sender`](Self::body_sender) hand a direction to another task.
pub struct ServerConnection<IO, Rt: Transport<IO>> {
    pub(crate) shared: Arc<Shared<IO, Rt>>,
}

impl<IO: Unpin, Rt: Transport<IO>> ServerConnection<IO, Rt> {
    /// A server connection with the default configuration.
    pub fn new(io: IO) -> Self {
        Self::with_config(io, Config::default())
    }

    /// A server connection with `config` (limits, leniency, deadlines).
    pub fn with_config(io: IO, config: Config) -> Self {
        ServerConnection {
            shared: Shared::new(io, Session::new(Role::Server, config)),
        }
    }

    /// Another handle on the same connection (for `serve`'s handler).
    pub(crate) fn handle(&self) -> Self {
        ServerConnection {
            shared: self.shared.clone(),
        }
    }

    /// The next request head as it arrived (the wire path): its method,
    /// target and field lines byte for byte, names in their case (see
    /// [`RequestHead`]), with no `http` types built. `None` once the
    /// connection is done (the client closed, the connection must close,
    /// it switched protocols, or a graceful shutdown began). Any unread body
    /// of the previous request is read and discarded first (a body receiver
    /// still reading it is waited for).
    ///
    /// A request the core rejects gets its suggested status (400, 408, 413,
    /// 414, 431, 501, 505) with `connection: close`; the error is returned
    /// once the connection is closed.
    pub async fn read_request_head(&self) -> Result<Option<RequestHead>, Error> {
        self.shared.wait(Session::poll_read_request_head).await
    }

    /// The next request as an `http::Request<()>`:
    /// [`read_request_head`](Self::read_request_head), the head then built
    /// into `http` types by the connection that read it (reusing the field
    /// names of its previous requests). A head the `http` types cannot hold
    /// (a target or field name longer than they allow) is answered as a
    /// rejected one is.
    pub async fn read_request(&self) -> Result<Option<Request<()>>, Error> {
        self.shared.wait(Session::poll_read_request).await
    }

    /// `head` as an `http::Request<()>`, built with what this connection
    /// keeps for that (less work for the head it read last): for a handler
    /// given the head ([`read_request_head`](Self::read_request_head),
    /// [`serve_heads`](crate::serve_heads)) that wants the `http` types too.
    pub fn http_request(&self, head: RequestHead) -> Result<Request<()>, Error> {
        self.shared.with(|s| s.http_request(head))
    }

    /// The next chunk of the current request's body, `None` at its end.
    /// Sends `100 Continue` first if the client waits for it. A body the
    /// core rejects is answered with its status, like a rejected head.
    pub async fn read_body(&self) -> Result<Option<Bytes>, Error> {
        self.shared.wait(|s| s.poll_read_body(Reader::Connection)).await
    }

    /// The current request's body as its own handle, for another task (or
    /// another future of this one). See [`BodyReceiver`].
    pub fn body_receiver(&self) -> BodyReceiver<IO, Rt> {
        BodyReceiver::new(self.shared.clone())
    }

    /// The trailers of the request body read last, as a header map, if it
    /// had any (an error only for a field name longer than the `http` types
    /// hold).
    pub fn trailers(&self) -> Result<Option<HeaderMap>, Error> {
        self.shared.inspect(trailer_map)
    }

    /// The trailer section of the request body read last, as received
    /// (field lines in order and case), if it had any.
    pub fn trailer_fields(&self) -> Option<FieldLines> {
        self.shared.inspect(|s| s.trailers().cloned())
    }

    /// Sends a response head: an `http::Response<()>`, or an
    /// [`h1::ResponseHead`] (its reason phrase and field lines go out as
    /// they are). A 1xx (such as `103 Early Hints`) is written at once and
    /// may be followed by more; a final response gets a `date` field when
    /// it has none (and `connection: close` during a graceful shutdown). A
    /// 101 (to an upgrade request) or a 2xx to CONNECT switches protocols,
    /// once the rest of the request body has been read (and dropped):
    /// follow it with [`into_parts`](Self::into_parts).
    pub async fn send_response(&self, res: impl OutgoingResponse) -> Result<(), Error> {
        let mut res = Some(res);
        if self.shared.wait(|s| s.poll_send_response(&mut res)).await? {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends a whole final response: its head, `body`, and the end, as
    /// [`Connection::send_full_response`] does (a `content-length` is
    /// written for the body unless `res` frames it; to HEAD the length is
    /// announced and no body sent). Use [`send_response`](Self::send_response)
    /// for 1xx and for streamed bodies.
    pub async fn send_full(&self, res: impl OutgoingResponse, body: Bytes) -> Result<(), Error> {
        let mut full = Some((res, body));
        if self.shared.wait(|s| s.poll_send_full(&mut full)).await? {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends body bytes. Waits while [`HIGH_WATER`](crate::HIGH_WATER) bytes
    /// are queued, reading the request meanwhile (backpressure without
    /// deadlock).
    pub async fn send_data(&self, data: Bytes) -> Result<(), Error> {
        self.shared.with(|s| s.send_data(data, None))?;
        self.shared.wait(Session::poll_send_capacity).await
    }

    /// Ends a chunked body with a trailer section: a `HeaderMap` or
    /// [`FieldLines`] (which go out in their order and case).
    pub async fn send_trailers(&self, trailers: impl OutgoingFields) -> Result<(), Error> {
        self.end(|s| s.send_trailers(trailers, None)).await
    }

    /// Ends the response.
    pub async fn send_end(&self) -> Result<(), Error> {
        self.end(|s| s.send_end(None)).await
    }

    async fn end(&self, end: impl FnOnce(&mut Session) -> Result<(), Error>) -> Result<(), Error> {
        let flush = self.shared.with(|s| {
            end(s)?;
            Ok::<_, Error>(s.is_flush_due_after_end())
        })?;
        if flush {
            self.flush().await?;
        }
        Ok(())
    }

    /// The current response's body as its own handle, for another task (or
    /// another future of this one). See [`BodySender`].
    pub fn body_sender(&self) -> BodySender<IO, Rt> {
        BodySender::new(self.shared.clone())
    }

    /// Writes everything queued.
    pub async fn flush(&self) -> Result<(), Error> {
        self.shared.wait(Session::poll_flush).await
    }

    /// Whether the current request proposes a switch (it asks to upgrade,
    /// or is CONNECT): a 101, or a 2xx to CONNECT, would switch protocols.
    pub fn is_switch_proposed(&self) -> bool {
        self.shared.inspect(|s| s.connection().is_switch_proposed())
    }

    /// Whether the connection switched protocols (a 101 or a 2xx to
    /// CONNECT was sent).
    pub fn is_switched(&self) -> bool {
        self.shared.inspect(Session::is_switched)
    }

    /// After a switch: writes what is queued (the 101) and hands back the
    /// IO value and the bytes already received for the new protocol.
    pub async fn into_parts(self) -> Result<Parts<IO>, Error> {
        into_parts(&self.shared).await
    }

    /// Graceful shutdown: from now on, final responses carry
    /// `connection: close`, and [`read_request`](Self::read_request)
    /// returns `None` instead of waiting for another request.
    pub fn begin_shutdown(&self) {
        self.shared.with(Session::set_shutting_down);
    }

    /// Closes the connection: writes what is queued, shuts the write side
    /// down, and, if the client may still be sending, reads and discards
    /// for up to [`LINGER`](crate::LINGER) so that it reads the response
    /// before a reset.
    pub async fn shutdown(&self) -> Result<(), Error> {
        self.shared.wait(Session::poll_close).await;
        Ok(())
    }

    /// Calls `f` with the protocol state machine, for inspection.
    pub fn inspect<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        self.shared.inspect(|s| f(s.connection()))
    }
}

/// The trailers of the body read last, as a header map.
pub(crate) fn trailer_map(s: &Session) -> Result<Option<HeaderMap>, Error> {
    Ok(s.trailers().map(FieldLines::to_header_map).transpose()?)
}

/// Flushes, then takes the IO and the leftover out of the shared driver.
pub(crate) async fn into_parts<IO: Unpin, Rt: Transport<IO>>(
    shared: &Shared<IO, Rt>,
) -> Result<Parts<IO>, Error> {
    shared.wait(Session::poll_flush).await?;
    let mut driver = crate::shared::lock(&shared.driver);
    let io = driver.io.take().ok_or(h1::Misuse::WrongState {
        call: "into_parts",
        state: h1::State::SwitchedProtocol,
    })?;
    match driver.session.into_parts(io) {
        Ok(parts) => Ok(parts),
        Err(e) => Err(e),
    }
}
