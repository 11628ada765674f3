//! The server side: read requests, stream their bodies, send responses.

use std::sync::Arc;

use bytes::Bytes;
use h1::http::{HeaderMap, Request, Response};
use h1::{Connection, Role};

use crate::body::{BodyReceiver, BodySender};
use crate::config::Config;
use crate::error::Error;
use crate::rt::Transport;
use crate::session::{Reader, Session};
use crate::shared::Shared;
use crate::Parts;

/// A server connection over a runtime's IO: requests in, responses out,
/// in full duplex.
///
/// Call [`read_request`](Self::read_request) for each request, read its
/// body with [`read_body`](Self::read_body), and answer with
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

    /// A server connection with `config` (limits, leniency, timeouts).
    pub fn with_config(io: IO, config: impl Into<Config>) -> Self {
        ServerConnection {
            shared: Shared::new(io, Session::new(Role::Server, config.into())),
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
    /// is read and discarded first (a body receiver still reading it is
    /// waited for).
    ///
    /// A request the core rejects gets its suggested status (400, 408, 413,
    /// 414, 431, 501, 505) with `connection: close`; the error is returned
    /// once the connection is closed.
    pub async fn read_request(&self) -> Result<Option<Request<()>>, Error> {
        self.shared.wait(Session::poll_read_request).await
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

    /// The trailers of the request body read last, if it had any.
    pub fn trailers(&self) -> Option<HeaderMap> {
        self.shared.inspect(|s| s.trailers().cloned())
    }

    /// Sends a response head. A 1xx (such as `103 Early Hints`) is written
    /// at once and may be followed by more; a final response gets a `date`
    /// field when it has none (and `connection: close` during a graceful
    /// shutdown). A 101 (to an upgrade request) or a 2xx to CONNECT switches
    /// protocols, once the rest of the request body has been read (and
    /// dropped): follow it with [`into_parts`](Self::into_parts).
    pub async fn send_response(&self, res: Response<()>) -> Result<(), Error> {
        let status = res.status();
        self.shared.wait(|s| s.poll_ready_to_respond(status)).await?;
        if self.shared.with(|s| s.send_response(res))? {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends a whole final response: its head, `body`, and the end, as
    /// [`Connection::send_full_response`] does (a `content-length` is
    /// written for the body unless `res` frames it; to HEAD the length is
    /// announced and no body sent). Use [`send_response`](Self::send_response)
    /// for 1xx and for streamed bodies.
    pub async fn send_full(&self, res: Response<()>, body: Bytes) -> Result<(), Error> {
        let status = res.status();
        self.shared.wait(|s| s.poll_ready_to_respond(status)).await?;
        let flush = self.shared.with(|s| {
            s.send_full(res, body)?;
            Ok::<_, Error>(s.is_flush_due_after_end())
        })?;
        if flush {
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

    /// Ends a chunked body with trailers.
    pub async fn send_trailers(&self, trailers: HeaderMap) -> Result<(), Error> {
        self.end(Some(trailers)).await
    }

    /// Ends the response.
    pub async fn send_end(&self) -> Result<(), Error> {
        self.end(None).await
    }

    async fn end(&self, trailers: Option<HeaderMap>) -> Result<(), Error> {
        let flush = self.shared.with(|s| {
            s.send_end(trailers, None)?;
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
