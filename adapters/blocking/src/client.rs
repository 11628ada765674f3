//! The client side: send requests, read responses, reuse the connection.

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;

use bytes::Bytes;
use h1::http::{HeaderMap, Response};
use h1::{Config, Connection, FieldLines, OutgoingFields, OutgoingRequest, ResponseHead, Role};
use h1_driver::{Deadline, Error, Parts, Reader, Session};

use crate::body::{BodyReceiver, BodySender};
use crate::driver::Shared;
use crate::Socket;

/// A client connection over a blocking socket: requests out, responses in,
/// in full duplex.
///
/// The same shape as the async adapters' (see `h1_driver::ClientConnection`):
/// while the body is being sent the connection keeps reading, so an early
/// final response that closes the connection stops the upload (later
/// [`send_data`](Self::send_data) calls drop their bytes,
/// [`is_sending_stopped`](Self::is_sending_stopped) says so) and is
/// returned by [`read_response`](Self::read_response), also when a write
/// failed because the server already closed. With `expect: 100-continue`
/// the first `send_data` waits for the `100 Continue` (or the deadline).
/// Reuse the connection while [`is_reusable`](Self::is_reusable) holds.
///
/// A read timeout set on the socket beforehand limits each wait for the
/// server (see [`Socket`]).
pub struct ClientConnection<IO: Socket> {
    shared: Arc<Shared<IO>>,
}

impl ClientConnection<TcpStream> {
    /// Connects to `addr` (each address it resolves to in turn) within the
    /// connect deadline ([`h1::Timeouts::connect`] of `config`): past it,
    /// the error is [`Error::Timeout`]`(`[`Deadline::Connect`]`)`.
    pub fn connect(addr: impl ToSocketAddrs, config: Config) -> Result<Self, Error> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            let socket = match config.timeouts.connect {
                Some(limit) => TcpStream::connect_timeout(&addr, limit),
                None => TcpStream::connect(addr),
            };
            match socket {
                Ok(socket) => {
                    socket.set_nodelay(true)?;
                    return Ok(Self::with_config(socket, config.clone()));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) =>
            {
                Error::Timeout(Deadline::Connect)
            }
            Some(e) => Error::Io(e),
            None => Error::Io(std::io::ErrorKind::InvalidInput.into()),
        })
    }
}

impl<IO: Socket> ClientConnection<IO> {
    /// A client connection with the default configuration.
    pub fn new(io: IO) -> Self {
        Self::with_config(io, Config::default())
    }

    /// A client connection with `config`.
    pub fn with_config(io: IO, config: Config) -> Self {
        ClientConnection {
            shared: Arc::new(Shared::new(io, Session::new(Role::Client, config))),
        }
    }

    /// Sends a request head: an `http::Request<()>` or an
    /// [`h1::RequestHead`] (sent as it is). Frame a body with
    /// `content-length` or `transfer-encoding: chunked`; `host` is added
    /// from the URI (or the target) if missing. End it with
    /// [`send_end`](Self::send_end).
    pub fn send_request(&self, req: impl OutgoingRequest) -> Result<(), Error> {
        self.shared.with(|s| s.send_request(req))
    }

    /// For a request sent with `expect: 100-continue`: waits until its body
    /// may be sent (`true`), or the server answered first (`false`).
    pub fn wait_for_continue(&self) -> Result<bool, Error> {
        Ok(self.shared.run(None, Session::poll_continue))
    }

    /// Sends body bytes. Waits while [`HIGH_WATER`](h1_driver::HIGH_WATER)
    /// bytes are queued, reading the response meanwhile; once sending
    /// stopped, the bytes are dropped.
    pub fn send_data(&self, data: Bytes) -> Result<(), Error> {
        self.shared.run(None, Session::poll_send_capacity)?;
        self.shared.with(|s| s.send_data(data, None))?;
        self.shared.run(None, Session::poll_send_capacity)
    }

    /// Ends a chunked body with a trailer section (a `HeaderMap` or
    /// [`FieldLines`]), and writes the request out.
    pub fn send_trailers(&self, trailers: impl OutgoingFields) -> Result<(), Error> {
        self.shared.with(|s| s.send_trailers(trailers, None))?;
        self.flush()
    }

    /// Ends the request and writes it out.
    pub fn send_end(&self) -> Result<(), Error> {
        self.shared.with(|s| s.send_end(None))?;
        self.flush()
    }

    /// The request's body as its own handle, for another thread.
    pub fn body_sender(&self) -> BodySender<IO> {
        BodySender::new(self.shared.clone())
    }

    /// Writes everything queued.
    pub fn flush(&self) -> Result<(), Error> {
        self.shared.run(None, Session::poll_flush)
    }

    /// The next response head as it arrived (the wire path: see
    /// [`ResponseHead`]): a 1xx, or the final response (whose body
    /// follows). Any unread body of the previous response is discarded.
    pub fn read_response_head(&self) -> Result<ResponseHead, Error> {
        self.shared.run(None, Session::poll_read_response_head)
    }

    /// The next response as an `http::Response<()>`:
    /// [`read_response_head`](Self::read_response_head), the head then
    /// built into `http` types by the connection that read it.
    pub fn read_response(&self) -> Result<Response<()>, Error> {
        self.shared.run(None, Session::poll_read_response)
    }

    /// The next chunk of the current response's body, `None` at its end.
    pub fn read_body(&self) -> Result<Option<Bytes>, Error> {
        self.shared.run(None, |s| s.poll_read_body(Reader::Connection))
    }

    /// The current response's body as its own handle (a [`std::io::Read`]).
    pub fn body_receiver(&self) -> BodyReceiver<IO> {
        BodyReceiver::new(self.shared.clone())
    }

    /// The trailers of the response body read last, as a header map, if
    /// it had any (an error only for a field name longer than the `http`
    /// types hold).
    pub fn trailers(&self) -> Result<Option<HeaderMap>, Error> {
        self.shared.inspect(crate::trailer_map)
    }

    /// The trailer section of the response body read last, as received, if
    /// it had any.
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
        self.shared.read_now();
        self.shared.inspect(Session::is_reusable)
    }

    /// Whether the request body is no longer sent (an early final response
    /// that closes the connection, or a server that stopped reading).
    pub fn is_sending_stopped(&self) -> bool {
        self.shared.inspect(Session::is_sending_stopped)
    }

    /// Whether none of the last request's bytes were written (a retry
    /// elsewhere is safe whatever the method).
    pub fn is_request_unsent(&self) -> bool {
        self.shared.inspect(Session::is_request_unsent)
    }

    /// Whether the connection switched protocols (a 101, or a 2xx to CONNECT).
    pub fn is_switched(&self) -> bool {
        self.shared.inspect(Session::is_switched)
    }

    /// After a switch: the IO value and the bytes already received for
    /// the new protocol (no other handle on the connection may be alive).
    pub fn into_parts(self) -> Result<Parts<IO>, Error> {
        crate::into_parts(self.shared)
    }

    /// Calls `f` with the protocol state machine, for inspection.
    pub fn inspect<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        self.shared.inspect(|s| f(s.connection()))
    }
}
