//! The server side: read requests, stream their bodies, send responses.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use h1::http::{HeaderMap, Request, Response, StatusCode};
use h1::{Config, Connection, Event, RequestHead, Role, State};

use crate::body::BodyReader;
use crate::driver::{Driver, Step};
use crate::error::unconvertible_response;
use crate::{Error, Parts, Socket};

/// A server connection over a blocking socket: requests in, responses out.
///
/// Call [`read_request`](Self::read_request) for each request, read its
/// body with [`read_body`](Self::read_body) or
/// [`body_reader`](Self::body_reader), and answer with
/// [`send_response`](Self::send_response), [`send_data`](Self::send_data)
/// and [`send_end`](Self::send_end). Pipelined requests are answered in
/// order; responses to a pipelined batch go out in one write. A request the
/// core rejects is answered with its status and `connection: close`.
///
/// The core's deadlines (head read, keep-alive idle) are armed as the
/// socket's read timeout; see [`Socket`].
pub struct ServerConnection<IO> {
    driver: Driver<IO>,
    /// The head of the request being answered, as received.
    head: Option<RequestHead>,
}

impl<IO: Read + Write + Socket> ServerConnection<IO> {
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
    /// client closed, the connection must close, or it switched
    /// protocols). Any unread body of the previous request is read and
    /// discarded first.
    ///
    /// A request the core rejects gets its suggested status (400, 408, 413,
    /// 414, 431, 501, 505) with `connection: close`; the error is returned.
    pub fn read_request(&mut self) -> Result<Option<Request<()>>, Error> {
        self.next_request(None)
    }

    /// [`read_request`](Self::read_request), giving up (`None`) once `stop`
    /// is raised while no request is ready.
    pub(crate) fn next_request(&mut self, stop: Option<&AtomicBool>) -> Result<Option<Request<()>>, Error> {
        self.head = None;
        if stop.is_some_and(|s| s.load(Ordering::Acquire)) {
            return Ok(None);
        }
        loop {
            if self.driver.conn.is_close_wanted() {
                let _ = self.driver.shutdown();
                return Ok(None);
            }
            match self.driver.step(stop) {
                Ok(Step::Event(Event::Request(head))) => {
                    self.driver.reading_body = true;
                    self.driver.trailers = None;
                    self.head = Some(head.clone());
                    return match self.driver.conn.http_request(head) {
                        Ok(req) => Ok(Some(req)),
                        Err(e) => Err(self.answer_unconvertible(e)),
                    };
                }
                // The rest of a body the handler did not read.
                Ok(Step::Event(Event::Data(_) | Event::Trailers(_) | Event::End)) => {}
                Ok(Step::Event(Event::Upgrade { leftover })) => {
                    self.driver.leftover = Some(leftover);
                    return Ok(None);
                }
                Ok(Step::Event(Event::Paused)) => {
                    return Err(h1::Misuse::WrongState {
                        call: "read_request",
                        state: self.driver.conn.our_state(),
                    }
                    .into());
                }
                Ok(Step::Stopped) => return Ok(None),
                // Switched: the socket is for the new protocol, not to close.
                Ok(Step::Done) if self.is_switched() => return Ok(None),
                Ok(_) => {
                    let _ = self.driver.shutdown();
                    return Ok(None);
                }
                Err(e) => return Err(self.driver.answer_error(e)),
            }
        }
    }

    /// Answers a request the core accepted but the `http` types cannot
    /// hold (a target or name longer than they allow) with the error's
    /// status and `connection: close`, then closes.
    fn answer_unconvertible(&mut self, err: h1::Error) -> Error {
        self.driver.set_time();
        if let Some(res) = unconvertible_response(&err) {
            if self.driver.conn.send_full_response(res, Bytes::new()).is_ok() {
                let _ = self.driver.shutdown();
            }
        }
        err.into()
    }

    /// The next chunk of the current request's body, `None` at its end.
    /// Sends `100 Continue` first if the client waits for it. A body the
    /// core rejects is answered with its status, like a rejected head.
    pub fn read_body(&mut self) -> Result<Option<Bytes>, Error> {
        self.driver.body_chunk()
    }

    /// The current request's body as a [`std::io::Read`].
    pub fn body_reader(&mut self) -> BodyReader<'_, IO> {
        BodyReader::new(&mut self.driver)
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
    pub fn send_response(&mut self, res: Response<()>) -> Result<(), Error> {
        let status = res.status();
        let informational = status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS;
        if (status == StatusCode::SWITCHING_PROTOCOLS || status.is_success())
            && self.driver.conn.is_switch_proposed()
        {
            // A switch happens after the whole request: read (and drop)
            // whatever of its body the handler left.
            while self.driver.body_chunk()?.is_some() {}
        }
        if !informational {
            // The core adds `date` when the response has none.
            self.driver.set_time();
        }
        self.driver.conn.send_response(res)?;
        if informational {
            self.driver.flush()?;
        }
        Ok(())
    }

    /// Sends a whole final response: its head, `body`, and the end, as
    /// [`Connection::send_full_response`] does (a `content-length` is
    /// written for the body unless `res` frames it; to HEAD the length is
    /// announced and no body sent). Use [`send_response`](Self::send_response)
    /// for 1xx and for streamed bodies.
    pub fn send_full(&mut self, res: Response<()>, body: Bytes) -> Result<(), Error> {
        self.driver.set_time();
        self.driver.conn.send_full_response(res, body)?;
        self.flush_unless_pipelined()
    }

    /// Sends body bytes (written once enough is queued).
    pub fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        self.driver.send_data(data)
    }

    /// Ends a chunked body with trailers.
    pub fn send_trailers(&mut self, trailers: HeaderMap) -> Result<(), Error> {
        self.driver.conn.send_trailers(trailers)?;
        self.flush_unless_pipelined()
    }

    /// Ends the response.
    pub fn send_end(&mut self) -> Result<(), Error> {
        self.driver.conn.send_end()?;
        self.flush_unless_pipelined()
    }

    /// Writes now unless more pipelined requests are already buffered, so
    /// that the responses to a batch go out in one write.
    fn flush_unless_pipelined(&mut self) -> Result<(), Error> {
        if self.driver.conn.buffered_len() == 0 || !self.driver.conn.is_read_wanted() {
            self.driver.flush()?;
        }
        Ok(())
    }

    /// Writes everything queued.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.driver.flush()
    }

    /// Whether the connection switched protocols (a 101 or a 2xx to
    /// CONNECT was sent).
    pub fn is_switched(&self) -> bool {
        self.driver.conn.our_state() == State::SwitchedProtocol
    }

    /// After a switch: writes what is queued (the 101) and hands back the
    /// IO value and the bytes already received for the new protocol.
    pub fn into_parts(self) -> Result<Parts<IO>, Error> {
        self.driver.into_parts()
    }

    /// Graceful close: writes what is queued, then shuts down the write side.
    pub fn shutdown(&mut self) -> Result<(), Error> {
        self.driver.shutdown()
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
