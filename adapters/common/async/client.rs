//! The client side: send requests, read responses, reuse the connection.
//!
//! Shared by the async adapters (h1-tokio, h1-async-std) through `#[path]`:
//! the same code over each runtime's `AsyncRead`/`AsyncWrite` (`crate::rt`).

use std::future::poll_fn;

use bytes::Bytes;
use h1::http::{HeaderMap, Request, Response, StatusCode};
use h1::{Config, Connection, Event, Incomplete, Role, State};

use crate::body::BodyReader;
use crate::driver::Driver;
use crate::rt::{AsyncRead, AsyncWrite};
use crate::{Error, Parts};

/// A client connection over the runtime's IO: requests out, responses in.
///
/// Send a request with [`send_request`](Self::send_request),
/// [`send_data`](Self::send_data) and [`send_end`](Self::send_end), then
/// read [`read_response`](Self::read_response) (1xx responses come first,
/// each on its own) and the body. With `expect: 100-continue`, the body is
/// held back until a `100 Continue` or the configured deadline. Reuse the
/// connection while [`is_reusable`](Self::is_reusable) holds.
pub struct ClientConnection<IO> {
    driver: Driver<IO>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> ClientConnection<IO> {
    /// A client connection with the default configuration.
    pub fn new(io: IO) -> Self {
        Self::with_config(io, Config::default())
    }

    /// A client connection with `config`.
    pub fn with_config(io: IO, config: Config) -> Self {
        ClientConnection {
            driver: Driver::new(io, Connection::new(Role::Client, config)),
        }
    }

    /// Sends a request head. Frame a body with `content-length` or
    /// `transfer-encoding: chunked`; `host` is added from the URI if missing.
    pub async fn send_request(&mut self, req: Request<()>) -> Result<(), Error> {
        self.driver.conn.send_request(req)?;
        Ok(())
    }

    /// Sends body bytes (written once enough is queued).
    pub async fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        self.driver.send_data(data).await
    }

    /// Ends a chunked body with trailers, and writes the request out.
    pub async fn send_trailers(&mut self, trailers: HeaderMap) -> Result<(), Error> {
        self.driver.conn.send_trailers(trailers)?;
        self.driver.flush().await
    }

    /// Ends the request and writes it out.
    pub async fn send_end(&mut self) -> Result<(), Error> {
        self.driver.conn.send_end()?;
        self.driver.flush().await
    }

    /// The next response head: a 1xx, or the final response (whose body
    /// follows). Any unread body of the previous response is discarded.
    pub async fn read_response(&mut self) -> Result<Response<()>, Error> {
        loop {
            match self.driver.next_event().await? {
                Some(Event::Informational(head)) => return Ok(self.driver.conn.http_response(head)?),
                Some(Event::Response(head)) => {
                    let switched = head.status() == StatusCode::SWITCHING_PROTOCOLS
                        || self.driver.conn.our_state() == State::SwitchedProtocol;
                    self.driver.reading_body = !switched;
                    self.driver.trailers = None;
                    return Ok(self.driver.conn.http_response(head)?);
                }
                Some(Event::Data(_) | Event::Trailers(_) | Event::End) => {}
                Some(Event::Upgrade { leftover }) => self.driver.leftover = Some(leftover),
                _ => return Err(h1::Error::Incomplete(Incomplete::NoResponse).into()),
            }
        }
    }

    /// The next chunk of the current response's body, `None` at its end.
    pub async fn read_body(&mut self) -> Result<Option<Bytes>, Error> {
        poll_fn(|cx| self.driver.poll_body_chunk(cx)).await
    }

    /// The current response's body as an `AsyncRead`.
    pub fn body_reader(&mut self) -> BodyReader<'_, IO> {
        BodyReader {
            driver: &mut self.driver,
            chunk: Bytes::new(),
        }
    }

    /// The trailers of the response body read last, if it had any.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.driver.trailers.as_ref()
    }

    /// Whether another request may be sent on this connection.
    pub fn is_reusable(&self) -> bool {
        self.driver.conn.close_reason().is_none() && self.driver.conn.our_state() == State::Idle
    }

    /// Whether the connection switched protocols (a 101, or a 2xx to CONNECT).
    pub fn is_switched(&self) -> bool {
        self.driver.conn.our_state() == State::SwitchedProtocol
    }

    /// After a switch: the IO value and the bytes already received for
    /// the new protocol.
    pub async fn into_parts(self) -> Result<Parts<IO>, Error> {
        self.driver.into_parts().await
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
