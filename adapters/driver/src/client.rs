//! The client side: send requests, read responses, reuse the connection.

use std::future::Future;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use h1::http::{HeaderMap, Response};
use h1::{Config, Connection, FieldLines, OutgoingFields, OutgoingRequest, ResponseHead, Role};

use crate::body::{BodyReceiver, BodySender};
use crate::error::{Deadline, Error};
use crate::rt::{Sleep, Transport};
use crate::session::{Reader, Session};
use crate::shared::Shared;
use crate::Parts;

/// A client connection over a runtime's IO: requests out, responses in,
/// in full duplex.
///
/// Send a request with [`send_request`](Self::send_request),
/// [`send_data`](Self::send_data) and [`send_end`](Self::send_end), then
/// read [`read_response_head`](Self::read_response_head) (the response as
/// received) or [`read_response`](Self::read_response) (as `http` types):
/// 1xx responses come first, each on its own; then the body with
/// [`read_body`](Self::read_body).
///
/// While the body is being sent, the connection keeps reading: the
/// response may arrive (and be read) before the upload ends. A final
/// response that closes the connection stops the upload (RFC 9112 section
/// 9.5): later [`send_data`](Self::send_data) calls drop their bytes,
/// [`is_sending_stopped`](Self::is_sending_stopped) says so, and
/// [`read_response`](Self::read_response) returns that response. The same
/// happens when a write fails because the server already closed (a reset
/// or a broken pipe): the response it sent before closing is still read.
///
/// **Uploads after `100 Continue`**: send a request with
/// `expect: 100-continue` and stream the body with `send_data` as usual:
/// the first `send_data` waits for the `100 Continue` (or the
/// expect-continue deadline); if a final response comes first, the body
/// is dropped. [`wait_for_continue`](Self::wait_for_continue) waits for
/// that decision explicitly, before the first body bytes are produced.
///
/// **Reuse**: send the next request while [`is_reusable`](Self::is_reusable)
/// holds; it also notices a server that closed an idle connection. After
/// a failure, [`is_request_unsent`](Self::is_request_unsent) says whether
/// retrying the request elsewhere is safe whatever its method.
///
/// Every method takes `&self`; [`body_sender`](Self::body_sender) and
/// [`body_receiver`](Self::body_receiver) hand a direction to another task.
pub struct ClientConnection<IO, Rt: Transport<IO>> {
    shared: Arc<Shared<IO, Rt>>,
}

impl<IO: Unpin, Rt: Transport<IO>> ClientConnection<IO, Rt> {
    /// A client connection with the default configuration.
    pub fn new(io: IO) -> Self {
        Self::with_config(io, Config::default())
    }

    /// A client connection with `config`.
    pub fn with_config(io: IO, config: Config) -> Self {
        ClientConnection {
            shared: Shared::new(io, Session::new(Role::Client, config)),
        }
    }

    /// Establishes the connection with `connecting` (such as
    /// `TcpStream::connect(addr)`), within the connect deadline
    /// ([`h1::Timeouts::connect`] of `config`): past it, the error is
    /// [`Error::Timeout`]`(`[`Deadline::Connect`]`)`.
    pub async fn connect<F>(connecting: F, config: Config) -> Result<Self, Error>
    where
        F: Future<Output = io::Result<IO>>,
    {
        let io = match config.timeouts.connect {
            None => connecting.await?,
            Some(limit) => {
                let mut sleep = Rt::Sleep::until(std::time::Instant::now() + limit);
                let mut connecting = std::pin::pin!(connecting);
                std::future::poll_fn(|cx| {
                    if let std::task::Poll::Ready(io) = connecting.as_mut().poll(cx) {
                        return std::task::Poll::Ready(io.map_err(Error::Io));
                    }
                    sleep
                        .poll_elapsed(cx)
                        .map(|()| Err(Error::Timeout(Deadline::Connect)))
                })
                .await?
            }
        };
        Ok(Self::with_config(io, config))
    }

    /// Sends a request head: an `http::Request<()>`, or an
    /// [`h1::RequestHead`] (its target and field lines go out as they are).
    /// Frame a body with `content-length` or `transfer-encoding: chunked`;
    /// `host` is added from the URI (or an absolute- or authority-form
    /// target) if missing. End it with [`send_end`](Self::send_end) (also
    /// when it has no body).
    pub async fn send_request(&self, req: impl OutgoingRequest) -> Result<(), Error> {
        self.shared.with(|s| s.send_request(req))
    }

    /// For a request sent with `expect: 100-continue`: waits until its body
    /// may be sent. `true` after a `100 Continue` (or the expect-continue
    /// deadline, or when no 100 was asked for); `false` when the server
    /// answered first (read the answer with
    /// [`read_response`](Self::read_response); the body is not sent).
    pub async fn wait_for_continue(&self) -> Result<bool, Error> {
        Ok(self.shared.wait(Session::poll_continue).await)
    }

    /// Sends body bytes. Waits while [`HIGH_WATER`](crate::HIGH_WATER) bytes
    /// are queued, reading the response meanwhile. Once sending stopped
    /// (see [`is_sending_stopped`](Self::is_sending_stopped)), the bytes
    /// are dropped.
    pub async fn send_data(&self, data: Bytes) -> Result<(), Error> {
        self.shared.wait(Session::poll_send_capacity).await?;
        self.shared.with(|s| s.send_data(data, None))?;
        self.shared.wait(Session::poll_send_capacity).await
    }

    /// Ends a chunked body with a trailer section (a `HeaderMap` or
    /// [`FieldLines`]), and writes the request out.
    pub async fn send_trailers(&self, trailers: impl OutgoingFields) -> Result<(), Error> {
        self.shared.with(|s| s.send_trailers(trailers, None))?;
        self.flush().await
    }

    /// Ends the request and writes it out.
    pub async fn send_end(&self) -> Result<(), Error> {
        self.shared.with(|s| s.send_end(None))?;
        self.flush().await
    }

    /// The request's body as its own handle, for another task (or another
    /// future of this one). See [`BodySender`].
    pub fn body_sender(&self) -> BodySender<IO, Rt> {
        BodySender::new(self.shared.clone())
    }

    /// Writes everything queued.
    pub async fn flush(&self) -> Result<(), Error> {
        self.shared.wait(Session::poll_flush).await
    }

    /// The next response head as it arrived (the wire path): a 1xx, or
    /// the final response (whose body follows), with its reason phrase and
    /// field lines byte for byte (see [`ResponseHead`]). Any unread body of
    /// the previous response is discarded.
    pub async fn read_response_head(&self) -> Result<ResponseHead, Error> {
        self.shared.wait(Session::poll_read_response_head).await
    }

    /// The next response as an `http::Response<()>`:
    /// [`read_response_head`](Self::read_response_head), the head then
    /// built into `http` types by the connection that read it (a reason
    /// phrase other than the status's own is its
    /// [`h1::ReasonPhrase`] extension).
    pub async fn read_response(&self) -> Result<Response<()>, Error> {
        self.shared.wait(Session::poll_read_response).await
    }

    /// The next chunk of the current response's body, `None` at its end.
    pub async fn read_body(&self) -> Result<Option<Bytes>, Error> {
        self.shared.wait(|s| s.poll_read_body(Reader::Connection)).await
    }

    /// The current response's body as its own handle, for another task (or
    /// another future of this one). See [`BodyReceiver`].
    pub fn body_receiver(&self) -> BodyReceiver<IO, Rt> {
        BodyReceiver::new(self.shared.clone())
    }

    /// The trailers of the response body read last, as a header map, if
    /// it had any (an error only for a field name longer than the `http`
    /// types hold).
    pub fn trailers(&self) -> Result<Option<HeaderMap>, Error> {
        self.shared.inspect(crate::server::trailer_map)
    }

    /// The trailer section of the response body read last, as received
    /// (field lines in order and case), if it had any.
    pub fn trailer_fields(&self) -> Option<FieldLines> {
        self.shared.inspect(|s| s.trailers().cloned())
    }

    /// Whether another request may be sent on this connection: the last
    /// exchange completed (its response read to the end), nothing said the
    /// connection closes, and the server did not close it (looked at
    /// without waiting: a close sent while the connection sat idle is
    /// noticed here).
    pub fn is_reusable(&self) -> bool {
        if !self.shared.inspect(Session::is_reusable) {
            return false;
        }
        self.shared.poll_io_now();
        self.shared.inspect(Session::is_reusable)
    }

    /// Whether the request body is no longer sent: a final response that
    /// closes the connection arrived while it was being sent, or the
    /// server stopped reading (a write failed with a reset or a broken
    /// pipe). Further body bytes are dropped; read the response.
    pub fn is_sending_stopped(&self) -> bool {
        self.shared.inspect(Session::is_sending_stopped)
    }

    /// Whether none of the last request's bytes were written: after a
    /// failure, the server cannot have seen the request, so retrying it on
    /// another connection is safe whatever its method.
    pub fn is_request_unsent(&self) -> bool {
        self.shared.inspect(Session::is_request_unsent)
    }

    /// Whether the connection switched protocols (a 101, or a 2xx to CONNECT).
    pub fn is_switched(&self) -> bool {
        self.shared.inspect(Session::is_switched)
    }

    /// After a switch: the IO value and the bytes already received for
    /// the new protocol.
    pub async fn into_parts(self) -> Result<Parts<IO>, Error> {
        crate::server::into_parts(&self.shared).await
    }

    /// Calls `f` with the protocol state machine, for inspection.
    pub fn inspect<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        self.shared.inspect(|s| f(s.connection()))
    }
}
