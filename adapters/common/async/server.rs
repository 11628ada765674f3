//! The server side: read requests, stream their bodies, send responses.
//!
//! Shared by the async adapters (h1-tokio, h1-async-std) through `#[path]`:
//! the same code over each runtime's `AsyncRead`/`AsyncWrite` (`crate::rt`).

use std::future::poll_fn;

use bytes::Bytes;
use h1::http::{HeaderMap, Request, Response, StatusCode};
use h1::{Config, Connection, Event, RequestHead, Role, State};

use crate::body::BodyReader;
use crate::driver::Driver;
use crate::error::unconvertible_response;
use crate::rt::{AsyncRead, AsyncWrite};
use crate::{Error, Parts};

/// A server connection over the runtime's IO: requests in, responses out.
///
/// Call [`read_request`](Self::read_request) for each request, read its
/// body with [`read_body`](Self::read_body) or
/// [`body_reader`](Self::body_reader), and answer with
/// [`send_response`](Self::send_response), [`send_data`](Self::send_data)
/// and [`send_end`](Self::send_end). Pipelined requests are answered in
/// order; responses to a pipelined batch go out in one write. A request the
/// core rejects is answered with its status and `connection: close`.
pub struct ServerConnection<IO> {
    driver: Driver<IO>,
    /// The head of the request being answered, as received.
    head: Option<RequestHead>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> ServerConnection<IO> {
    /// A server connection with the default configuration.
    pub fn new(io: IO) -> Self {
        Self::with_config(io, Config::default())
    }

    /// A server connection with `config` (limits, leniency, timeouts).
    pub fn with_config(io: IO, config: Config) -> Self {
        ServerConnection {
            driver: Driver::new(io, Connection::new(Role::Server, config)),
            head: None,
        }
    }

    /// The next request head, or `None` once the connection is done (the
    /// client closed, or the connection must close). Any unread body of the
    /// previous request is read and discarded first.
    ///
    /// A request the core rejects gets its suggested status (400, 408, 413,
    /// 414, 431, 501, 505) with `connection: close`; the error is returned.
    pub async fn read_request(&mut self) -> Result<Option<Request<()>>, Error> {
        self.head = None;
        loop {
            if self.driver.conn.is_close_wanted() {
                let _ = self.driver.shutdown().await;
                return Ok(None);
            }
            match self.driver.next_event().await {
                Ok(Some(Event::Request(head))) => {
                    self.driver.reading_body = true;
                    self.driver.trailers = None;
                    self.head = Some(head.clone());
                    return match self.driver.conn.http_request(head) {
                        Ok(req) => Ok(Some(req)),
                        Err(e) => Err(self.answer_unconvertible(e).await),
                    };
                }
                // The rest of a body the handler did not read.
                Ok(Some(Event::Data(_) | Event::Trailers(_) | Event::End)) => {}
                Ok(Some(Event::Upgrade { leftover })) => {
                    self.driver.leftover = Some(leftover);
                    return Ok(None);
                }
                Ok(Some(Event::Paused)) => {
                    return Err(h1::Misuse::WrongState {
                        call: "read_request",
                        state: self.driver.conn.our_state(),
                    }
                    .into());
                }
                // Switched: the socket is for the new protocol, not to close.
                Ok(None) if self.is_switched() => return Ok(None),
                Ok(_) => {
                    let _ = self.driver.shutdown().await;
                    return Ok(None);
                }
                Err(e) => return Err(self.answer_error(e).await),
            }
        }
    }

    /// Gives the core the current second, for the `date` field it adds to
    /// responses (the core reads no clock).
    fn set_time(&mut self) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        self.driver.conn.set_time(now.map_or(0, |d| d.as_secs()));
    }

    /// Answers a peer's error with its status, then closes.
    async fn answer_error(&mut self, e: Error) -> Error {
        if let Error::Protocol(err) = &e {
            self.set_time();
            if self.driver.conn.send_error_response(err) {
                let _ = self.driver.shutdown().await;
            }
        }
        e
    }

    /// Answers a request the core accepted but the `http` types cannot
    /// hold (a target or name longer than they allow) with the error's
    /// status and `connection: close`, then closes.
    async fn answer_unconvertible(&mut self, err: h1::Error) -> Error {
        self.set_time();
        if let Some(res) = unconvertible_response(&err) {
            if self.driver.conn.send_full_response(res, Bytes::new()).is_ok() {
                let _ = self.driver.shutdown().await;
            }
        }
        err.into()
    }

    /// The next chunk of the current request's body, `None` at its end.
    /// Sends `100 Continue` first if the client waits for it.
    pub async fn read_body(&mut self) -> Result<Option<Bytes>, Error> {
        match poll_fn(|cx| self.driver.poll_body_chunk(cx)).await {
            Ok(chunk) => Ok(chunk),
            Err(e) => Err(self.answer_error(e).await),
        }
    }

    /// The current request's body as an `AsyncRead`.
    pub fn body_reader(&mut self) -> BodyReader<'_, IO> {
        BodyReader {
            driver: &mut self.driver,
            chunk: Bytes::new(),
        }
    }

    /// The head of the request being answered, as it arrived: its method,
    /// target and field lines byte for byte, names in their case (see
    /// [`RequestHead`]). `None` before the first request and while waiting
    /// for the next one.
    pub fn request_head(&self) -> Option<&RequestHead> {
        self.head.as_ref()
    }

    /// The trailers of the request body read last, if it had any.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.driver.trailers.as_ref()
    }

    /// Sends a response head. A 1xx (such as `103 Early Hints`) is written
    /// at once and may be followed by more; a final response gets a `date`
    /// field when it has none. A 101 (to an upgrade request) or a 2xx to
    /// CONNECT switches protocols, once the rest of the request body has
    /// been read (and dropped): follow it with [`into_parts`](Self::into_parts).
    pub async fn send_response(&mut self, res: Response<()>) -> Result<(), Error> {
        let status = res.status();
        let informational = status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS;
        if (status == StatusCode::SWITCHING_PROTOCOLS || status.is_success())
            && self.driver.conn.is_switch_proposed()
        {
            // A switch happens after the whole request: read (and drop)
            // whatever of its body the handler left.
            while poll_fn(|cx| self.driver.poll_body_chunk(cx)).await?.is_some() {}
        }
        if !informational {
            self.set_time();
        }
        self.driver.conn.send_response(res)?;
        if informational {
            self.driver.flush().await?;
        }
        Ok(())
    }

    /// Sends a whole final response: its head, `body`, and the end, as
    /// [`Connection::send_full_response`] does (a `content-length` is
    /// written for the body unless `res` frames it; to HEAD the length is
    /// announced and no body sent). Use [`send_response`](Self::send_response)
    /// for 1xx and for streamed bodies.
    pub async fn send_full(&mut self, res: Response<()>, body: Bytes) -> Result<(), Error> {
        self.set_time();
        self.driver.conn.send_full_response(res, body)?;
        self.flush_unless_pipelined().await
    }

    /// Sends body bytes (written once enough is queued).
    pub async fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        self.driver.send_data(data).await
    }

    /// Ends a chunked body with trailers.
    pub async fn send_trailers(&mut self, trailers: HeaderMap) -> Result<(), Error> {
        self.driver.conn.send_trailers(trailers)?;
        self.flush_unless_pipelined().await
    }

    /// Ends the response.
    pub async fn send_end(&mut self) -> Result<(), Error> {
        self.driver.conn.send_end()?;
        self.flush_unless_pipelined().await
    }

    /// Writes now unless more pipelined requests are already buffered, so
    /// that the responses to a batch go out in one write.
    async fn flush_unless_pipelined(&mut self) -> Result<(), Error> {
        if self.driver.conn.buffered_len() == 0 || !self.driver.conn.is_read_wanted() {
            self.driver.flush().await?;
        }
        Ok(())
    }

    /// Writes everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        self.driver.flush().await
    }

    /// Whether the connection switched protocols (a 101 or a 2xx to
    /// CONNECT was sent).
    pub fn is_switched(&self) -> bool {
        self.driver.conn.our_state() == State::SwitchedProtocol
    }

    /// After a switch: writes what is queued (the 101) and hands back the
    /// IO value and the bytes already received for the new protocol.
    pub async fn into_parts(self) -> Result<Parts<IO>, Error> {
        self.driver.into_parts().await
    }

    /// Graceful close: writes what is queued, then shuts down the write side
    /// (tokio's `shutdown`, futures-io's `close`). async-std's `TcpStream`
    /// only flushes on `close`; its peer sees the end once the stream is
    /// dropped, as [`serve`](crate::serve) does.
    pub async fn shutdown(&mut self) -> Result<(), Error> {
        self.driver.shutdown().await
    }

    /// The protocol state machine, for inspection.
    pub fn connection(&self) -> &Connection {
        &self.driver.conn
    }

    /// The IO value.
    pub fn get_ref(&self) -> &IO {
        &self.driver.io
    }
}
