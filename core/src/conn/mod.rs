//! The connection: one state machine for both directions of one HTTP/1.1
//! connection, in either role.

pub(crate) mod state;
pub(crate) mod timer;

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Version};

use crate::body::decode::{Decoded, Decoder};
use crate::body::encode::Encoder;
use crate::body::Output;
use crate::config::Config;
use crate::error::{Error, Incomplete, LimitError, Misuse, ProtocolError};
use crate::event::Event;
use crate::head::encode;
use crate::head::fields::{self, Codings, ConnectionOptions};
use crate::head::parse::{self, Asked, Framing};
use crate::head::scan::{Rules, Scanner};
use smallvec::SmallVec;
use state::{CloseReason, Role, State};
use timer::{Timer, TimerKind};

/// Most fields the fast path for whole request heads makes room for; heads
/// with more take the scanner's path.
const FAST_PATH_FIELDS: usize = 32;

/// One request/response exchange, as far as framing and persistence go.
#[derive(Clone, Copy, Debug, Default)]
struct Exchange {
    head: bool,
    connect: bool,
    upgrade: bool,
    http10: bool,
    expect_continue: bool,
    continue_sent: bool,
    final_sent: bool,
    /// Set once anything decides the connection closes after this exchange.
    close: Option<CloseReason>,
}

impl Exchange {
    fn close(&mut self, reason: CloseReason) {
        self.close.get_or_insert(reason);
    }

    fn proposes_switch(&self) -> bool {
        self.upgrade || self.connect
    }
}

/// The receiving direction.
#[derive(Debug)]
enum Recv {
    /// Waiting for, or inside, a message head.
    Head(Scanner),
    /// Inside a body.
    Body(Decoder),
    /// Server: the request is complete; our response is not.
    Paused,
    /// Switched; the `Upgrade` event is not yet out.
    UpgradePending,
    /// Switched and reported.
    Switched,
    /// No more messages will be read; input is discarded until its end.
    MustClose,
    /// The peer's end of input was reported.
    Closed,
    /// The peer broke the protocol (sticky).
    Error(Error),
}

/// The sending direction.
#[derive(Debug)]
enum Send {
    /// No message in progress.
    Idle,
    /// A head was sent; its body is in progress.
    Body(Encoder),
    /// Server: response complete, the request body still arriving.
    Done,
    /// Our last message is complete; the connection must close.
    MustClose,
    /// Switched protocols.
    Switched,
}

/// A sans-IO HTTP/1.1 connection in the server or client role.
///
/// Methods come in groups (see the [crate docs](crate) for the contract):
///
/// - **input**: [`receive`](Self::receive), [`receive_bytes`](Self::receive_bytes),
///   [`receive_buf`](Self::receive_buf), [`receive_eof`](Self::receive_eof),
///   [`handle_timeout`](Self::handle_timeout);
/// - **events out**: [`poll_event`](Self::poll_event), called until it returns
///   [`Event::NeedData`] or [`Event::Paused`] after every input and every send;
/// - **sending**: [`send_request`](Self::send_request), [`send_response`](Self::send_response),
///   [`send_data`](Self::send_data), [`send_trailers`](Self::send_trailers),
///   [`send_end`](Self::send_end);
/// - **bytes out**: [`poll_transmit`](Self::poll_transmit), or
///   [`output_chunks`](Self::output_chunks) with [`advance_output`](Self::advance_output)
///   for vectored writes;
/// - **getters**: [`our_state`](Self::our_state), [`their_state`](Self::their_state),
///   [`timer`](Self::timer), [`close_reason`](Self::close_reason),
///   [`wants_read`](Self::wants_read), [`wants_close`](Self::wants_close), and more.
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    buf: BytesMut,
    eof: bool,
    recv: Recv,
    send: Send,
    /// Server: the request being answered. Client: requests awaiting responses.
    exchanges: VecDeque<Exchange>,
    /// Server: a receive error may still be answered once.
    error_response_allowed: bool,
    output: Output,
    /// Client: body held back until `100 Continue` (or its deadline).
    held: Option<Output>,
    /// Client: the server answered before the held body was released.
    discard_body: bool,
    closing: Option<CloseReason>,
    heads_received: u64,
    /// Server: the `date` field for responses, and the second it is for.
    date: Option<(u64, HeaderValue)>,
    timer_kind: Option<TimerKind>,
    timer_id: u64,
    /// The field names of the last head received, reused for the next.
    names: parse::NameCache,
    /// Server: the request head being read, as offsets into `buf`.
    raw: parse::RawRequest,
}

impl Connection {
    /// A connection in `role`, configured by `config`.
    pub fn new(role: Role, config: Config) -> Self {
        let mut conn = Connection {
            role,
            config,
            buf: BytesMut::new(),
            eof: false,
            recv: Recv::Head(Scanner::default()),
            send: Send::Idle,
            exchanges: VecDeque::new(),
            error_response_allowed: false,
            output: Output::default(),
            held: None,
            discard_body: false,
            closing: None,
            heads_received: 0,
            date: None,
            timer_kind: None,
            timer_id: 0,
            names: parse::NameCache::default(),
            raw: parse::RawRequest::default(),
        };
        conn.refresh_timer();
        conn
    }

    /// A server connection with the default configuration.
    pub fn server() -> Self {
        Self::new(Role::Server, Config::default())
    }

    /// A client connection with the default configuration.
    pub fn client() -> Self {
        Self::new(Role::Client, Config::default())
    }

    // ---- getters -------------------------------------------------------

    /// The role this connection plays.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The state of our side: what we may send next.
    pub fn our_state(&self) -> State {
        match &self.send {
            Send::Idle if self.role == Role::Server && self.current().is_some() => State::SendResponse,
            Send::Idle if self.exchanges.iter().any(Exchange::proposes_switch) => State::MightSwitchProtocol,
            Send::Idle => State::Idle,
            Send::Body(_) => State::SendBody,
            Send::Done => State::Done,
            Send::MustClose => State::MustClose,
            Send::Switched => State::SwitchedProtocol,
        }
    }

    /// The state of the peer's side: what we may receive next.
    pub fn their_state(&self) -> State {
        match &self.recv {
            Recv::Head(_) if self.role == Role::Client && !self.exchanges.is_empty() => State::SendResponse,
            Recv::Head(_) => State::Idle,
            Recv::Body(_) => State::SendBody,
            Recv::Paused => match self.current() {
                Some(x) if x.proposes_switch() => State::MightSwitchProtocol,
                Some(x) if x.close.is_some() => State::MustClose,
                _ => State::Done,
            },
            Recv::UpgradePending | Recv::Switched => State::SwitchedProtocol,
            Recv::MustClose => State::MustClose,
            Recv::Closed => State::Closed,
            Recv::Error(_) => State::Error,
        }
    }

    /// Why the connection will close after the current exchange, once that
    /// is known; `None` while it persists.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.closing
            .or_else(|| self.exchanges.iter().find_map(|x| x.close))
    }

    /// Whether the IO side should read more input now. False while paused,
    /// after a switch, and once the connection must close; reading only
    /// while this holds keeps the buffered bytes within the limits.
    pub fn wants_read(&self) -> bool {
        !self.eof && matches!(self.recv, Recv::Head(_) | Recv::Body(_))
    }

    /// Whether the IO side should close the connection once the output is
    /// written: no more HTTP will be exchanged (and no switch happened).
    pub fn wants_close(&self) -> bool {
        match (&self.recv, &self.send) {
            (_, Send::MustClose) => true,
            (Recv::Closed, Send::Idle) => self.current().is_none(),
            (Recv::Error(_), Send::Idle) => !self.error_response_allowed,
            _ => false,
        }
    }

    /// Server: whether the current request waits for `100 Continue` before
    /// sending its body (and no answer went out yet).
    pub fn expects_continue(&self) -> bool {
        self.role == Role::Server
            && matches!(self.recv, Recv::Body(_))
            && self
                .current()
                .is_some_and(|x| x.expect_continue && !x.continue_sent && !x.final_sent)
    }

    /// Server: whether the current request proposes a switch (it asks to
    /// upgrade, or is CONNECT), so that a 101 (or a 2xx to CONNECT) would
    /// switch protocols once the request body has been received.
    pub fn is_switch_proposed(&self) -> bool {
        self.current().is_some_and(Exchange::proposes_switch)
    }

    /// Bytes received and held: not yet reported, or part of an
    /// unfinished head, chunk line or trailer section.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// The deadline that applies now, if any. See [`Timer`].
    pub fn timer(&self) -> Option<Timer> {
        let kind = self.timer_kind?;
        let t = &self.config.timeouts;
        let duration = match kind {
            TimerKind::HeadRead => t.head_read,
            TimerKind::KeepAlive => t.keep_alive,
            TimerKind::ExpectContinue => t.expect_continue,
        }?;
        Some(Timer {
            kind,
            duration,
            id: self.timer_id,
        })
    }

    // ---- input ---------------------------------------------------------

    /// Hands in received bytes, copying them into the receive buffer.
    #[inline]
    pub fn receive(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.accepts_input(data.len())? {
            match data {
                // A peer that sends a byte at a time (a slow-head attack
                // does): stored without a call to copy it.
                [byte] => self.buf.extend_from_slice(&[*byte]),
                _ => self.buf.extend_from_slice(data),
            }
        }
        Ok(())
    }

    /// Hands in received bytes without copying when the receive buffer is
    /// empty and `data` is not shared (otherwise they are copied).
    pub fn receive_bytes(&mut self, data: Bytes) -> Result<(), Error> {
        if self.accepts_input(data.len())? {
            if self.buf.is_empty() {
                self.buf = BytesMut::from(data);
            } else {
                self.buf.extend_from_slice(&data);
            }
        }
        Ok(())
    }

    /// Hands in received bytes, taking the buffer without copying when the
    /// receive buffer is empty.
    pub fn receive_buf(&mut self, data: BytesMut) -> Result<(), Error> {
        if self.accepts_input(data.len())? {
            if self.buf.is_empty() {
                self.buf = data;
            } else {
                self.buf.extend_from_slice(&data);
            }
        }
        Ok(())
    }

    /// Signals that the peer closed its end: no more input will come.
    pub fn receive_eof(&mut self) -> Result<(), Error> {
        if matches!(self.recv, Recv::Switched) {
            return Err(Misuse::InputAfterSwitch.into());
        }
        self.eof = true;
        self.refresh_timer();
        Ok(())
    }

    /// Whether input of `len` bytes is to be kept, or refused.
    #[inline]
    fn accepts_input(&mut self, len: usize) -> Result<bool, Error> {
        if len == 0 {
            return Ok(false);
        }
        if self.eof {
            return Err(Misuse::InputAfterEof.into());
        }
        match self.recv {
            Recv::Switched => Err(Misuse::InputAfterSwitch.into()),
            // Nothing more will be parsed: keep memory bounded.
            Recv::MustClose | Recv::Closed | Recv::Error(_) => Ok(false),
            _ => Ok(true),
        }
    }

    /// Reports that `timer` fired. A stale timer (another id) is ignored.
    ///
    /// A head-read deadline fails the connection with
    /// [`Error::Timeout`] (a server may still answer 408); a keep-alive
    /// deadline makes the connection want to close; an expect-continue
    /// deadline releases the held request body to the output.
    pub fn handle_timeout(&mut self, timer: Timer) -> Result<(), Error> {
        if self.timer_kind != Some(timer.kind) || self.timer_id != timer.id {
            return Ok(());
        }
        let result = match timer.kind {
            TimerKind::HeadRead => Err(self.fail(Error::Timeout(TimerKind::HeadRead))),
            TimerKind::KeepAlive => {
                self.closing = Some(CloseReason::IdleTimeout);
                self.recv = Recv::MustClose;
                self.send = Send::MustClose;
                Ok(())
            }
            TimerKind::ExpectContinue => {
                self.release_held();
                Ok(())
            }
        };
        self.refresh_timer();
        result
    }

    // ---- events out ------------------------------------------------------

    /// The next event from the received bytes. Call it until it returns
    /// [`Event::NeedData`] or [`Event::Paused`]. Errors from the peer are
    /// sticky: once returned, they are returned again.
    #[inline]
    pub fn poll_event(&mut self) -> Result<Event, Error> {
        // A head arriving a few bytes at a time, inside its field lines:
        // nothing to decide but its length, and nothing the timer depends
        // on changes (the head had begun before these bytes came). Decided
        // here, inline, as cheaply as the bytes were handed in.
        if let Recv::Head(scanner) = &mut self.recv {
            if !self.eof && scanner.trickle(&self.buf, self.config.limits.head_size) {
                return Ok(Event::NeedData);
            }
        }
        self.poll_any_event()
    }

    #[inline(never)]
    fn poll_any_event(&mut self) -> Result<Event, Error> {
        // Body data plainly framed (most chunks of a chunked body): taken
        // here, without the general dispatch of `next_event`.
        if let Recv::Body(decoder) = &mut self.recv {
            if let Some(data) = decoder.plain_data(&mut self.buf, &self.config) {
                self.refresh_timer();
                return Ok(Event::Data(data));
            }
        }
        let result = self.next_event();
        self.refresh_timer();
        result
    }

    fn next_event(&mut self) -> Result<Event, Error> {
        loop {
            match &mut self.recv {
                Recv::Error(e) => return Err(e.clone()),
                Recv::Closed => return Ok(Event::Closed),
                Recv::Switched => return Ok(Event::Paused),
                Recv::UpgradePending => {
                    self.recv = Recv::Switched;
                    return Ok(Event::Upgrade {
                        leftover: self.buf.split().freeze(),
                    });
                }
                Recv::MustClose => {
                    self.buf.clear();
                    if self.role == Role::Server && self.current().is_some() {
                        return Ok(Event::Paused);
                    }
                    if self.eof {
                        self.recv = Recv::Closed;
                        return Ok(Event::Closed);
                    }
                    return Ok(Event::NeedData);
                }
                Recv::Paused => {
                    if !self.restart_cycle() {
                        return Ok(Event::Paused);
                    }
                }
                Recv::Head(_) => return self.read_head(),
                Recv::Body(decoder) => {
                    let step = decoder.decode(&mut self.buf, self.eof, &self.config);
                    return match step {
                        Ok(Decoded::Data(b)) => Ok(Event::Data(b)),
                        Ok(Decoded::Trailers(t)) => Ok(Event::Trailers(t)),
                        Ok(Decoded::NeedData) => Ok(Event::NeedData),
                        Ok(Decoded::End) => {
                            self.message_received();
                            Ok(Event::End)
                        }
                        Err(e) => Err(self.fail(e)),
                    };
                }
            }
        }
    }

    fn read_head(&mut self) -> Result<Event, Error> {
        if self.role == Role::Client && self.exchanges.is_empty() && !self.buf.is_empty() {
            return Err(self.fail(ProtocolError::UnsolicitedResponse.into()));
        }
        if self.buf.is_empty() {
            if !self.eof {
                return Ok(Event::NeedData);
            }
            if !self.exchanges.is_empty() {
                return Err(self.fail(Incomplete::NoResponse.into()));
            }
            self.closing.get_or_insert(CloseReason::PeerClosed);
            self.recv = Recv::Closed;
            return Ok(Event::Closed);
        }
        let server = self.role == Role::Server;
        if server && self.whole_request_head() {
            return self.request_head();
        }
        let limits = &self.config.limits;
        let rules = Rules {
            max_len: limits.head_size,
            max_fields: limits.header_count,
            start_line: true,
            skip_leading_empty: server,
            single_line: false,
            max_target: server.then_some(limits.request_target),
            bare_lf: self.config.lenient.bare_lf,
            too_long: LimitError::HeadSize,
        };
        let Recv::Head(scanner) = &mut self.recv else {
            unreachable!("read_head is only called in Recv::Head")
        };
        let section = match scanner.scan(&self.buf, &rules) {
            Ok(Some(section)) => section,
            Ok(None) if self.eof => return Err(self.fail(Incomplete::Head.into())),
            Ok(None) => return Ok(Event::NeedData),
            Err(e) => return Err(self.fail(e)),
        };
        if !server {
            let raw = self.buf.split_to(section.end);
            self.heads_received += 1;
            return self.response_head(raw, section).map_err(|e| self.fail(e));
        }
        let head = &mut self.buf[..section.end];
        let raw = parse::check_request_line(head, section.start)
            .and_then(|()| parse::raw_request(head, section.start, section.fields, &mut self.raw))
            .and_then(|complete| match complete {
                true => Ok(()),
                false => Err(ProtocolError::InvalidRequestLine.into()),
            });
        match raw {
            Ok(()) => self.request_head(),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// The common case: a whole request head is already buffered and is
    /// strict as it stands, so httparse alone finds its end, without the
    /// scanner. Anything else (a partial head, leading empty lines, an error,
    /// a limit, a bare LF) is left to the scanner, which decides it.
    /// Whether it is so; the head is then in `self.raw`.
    fn whole_request_head(&mut self) -> bool {
        let Recv::Head(scanner) = &self.recv else {
            return false;
        };
        if !scanner.is_fresh() || matches!(self.buf.first(), Some(b'\r' | b'\n')) {
            return false;
        }
        let limits = &self.config.limits;
        // A head longer than the limit is the scanner's to decide: look no further.
        let window = &self.buf[..self.buf.len().min(limits.head_size)];
        let max_fields = limits.header_count.min(FAST_PATH_FIELDS);
        matches!(parse::raw_request(window, 0, max_fields, &mut self.raw), Ok(true))
            && parse::is_strict(&self.buf, &self.raw, limits)
    }

    /// Builds the request event from the head in `self.raw`.
    fn request_head(&mut self) -> Result<Event, Error> {
        let head = self.buf.split_to(self.raw.len).freeze();
        self.heads_received += 1;
        let (req, info) =
            parse::request(head, &self.raw, &self.config, &mut self.names).map_err(|e| self.fail(e))?;
        let mut x = Exchange {
            head: info.head,
            connect: info.connect,
            upgrade: info.upgrade,
            http10: info.http10,
            expect_continue: info.expect_continue,
            ..Exchange::default()
        };
        if !info.persists {
            x.close(if info.http10 {
                CloseReason::Http10
            } else {
                CloseReason::PeerAskedClose
            });
        }
        self.exchanges.push_back(x);
        self.recv = Recv::Body(Decoder::new(info.framing));
        Ok(Event::Request(req))
    }

    fn response_head(&mut self, raw: BytesMut, section: crate::head::scan::Section) -> Result<Event, Error> {
        let front = self.exchanges.front().copied().unwrap_or_default();
        let asked = Asked {
            head: front.head,
            connect: front.connect,
        };
        let (res, info) = parse::response(raw, section, asked, &self.config, &mut self.names)?;
        let status = info.status;
        if status == StatusCode::SWITCHING_PROTOCOLS {
            if !front.upgrade {
                return Err(ProtocolError::UnexpectedSwitch.into());
            }
            self.switch();
            return Ok(Event::Response(res));
        }
        if status.is_informational() {
            if status == StatusCode::CONTINUE {
                self.release_held();
            }
            // The final response's head comes next: scan it afresh.
            self.recv = Recv::Head(Scanner::default());
            return Ok(Event::Informational(res));
        }
        if front.connect && status.is_success() {
            self.switch();
            return Ok(Event::Response(res));
        }
        // A final response that declines any switch.
        if let Some(x) = self.exchanges.front_mut() {
            if self.held.take().is_some() {
                // Answered before the body was released: it is never sent.
                self.discard_body = true;
                x.close(CloseReason::UnsentBody);
            }
            if !info.persists {
                x.close(if info.framing == Framing::CloseDelimited {
                    CloseReason::CloseDelimitedBody
                } else if res.version() == Version::HTTP_10 {
                    CloseReason::Http10
                } else {
                    CloseReason::PeerAskedClose
                });
            }
        }
        self.recv = Recv::Body(Decoder::new(info.framing));
        Ok(Event::Response(res))
    }

    /// A message from the peer ended.
    fn message_received(&mut self) {
        match self.role {
            Role::Server => {
                self.recv = Recv::Paused;
                self.restart_cycle();
            }
            Role::Client => {
                let x = self.exchanges.pop_front().unwrap_or_default();
                if let Some(reason) = x.close {
                    self.must_close(reason);
                } else {
                    self.recv = Recv::Head(Scanner::default());
                }
            }
        }
    }

    /// Server: starts the next request/response cycle once both the
    /// request and our response are complete. Returns whether it did.
    fn restart_cycle(&mut self) -> bool {
        if !matches!(self.recv, Recv::Paused) || !matches!(self.send, Send::Done) {
            return false;
        }
        let x = self.exchanges.pop_front().unwrap_or_default();
        match x.close {
            Some(reason) => self.must_close(reason),
            None => {
                self.recv = Recv::Head(Scanner::default());
                self.send = Send::Idle;
            }
        }
        true
    }

    fn must_close(&mut self, reason: CloseReason) {
        self.closing.get_or_insert(reason);
        if !matches!(self.recv, Recv::Error(_) | Recv::Closed) {
            self.recv = Recv::MustClose;
        }
        if matches!(self.send, Send::Idle | Send::Done) {
            self.send = Send::MustClose;
        }
    }

    fn switch(&mut self) {
        self.recv = Recv::UpgradePending;
        self.send = Send::Switched;
        self.held = None;
        self.exchanges.clear();
    }

    /// Records a receive error, makes it sticky, and returns it.
    fn fail(&mut self, e: Error) -> Error {
        self.closing.get_or_insert(CloseReason::Error);
        self.error_response_allowed = self.role == Role::Server
            && matches!(self.send, Send::Idle)
            && self.current().is_none_or(|x| !x.final_sent);
        if matches!(self.send, Send::Done) {
            self.send = Send::MustClose;
        }
        self.recv = Recv::Error(e.clone());
        e
    }

    fn current(&self) -> Option<&Exchange> {
        match self.role {
            Role::Server => self.exchanges.front(),
            Role::Client => None,
        }
    }

    fn release_held(&mut self) {
        if let Some(mut held) = self.held.take() {
            self.output.append(&mut held);
        }
    }

    fn refresh_timer(&mut self) {
        let kind = match (self.role, &self.recv, &self.send) {
            (Role::Server, Recv::Head(_), Send::Idle) if !self.eof && self.exchanges.is_empty() => {
                if self.buf.is_empty() && self.heads_received > 0 {
                    Some(TimerKind::KeepAlive)
                } else {
                    Some(TimerKind::HeadRead)
                }
            }
            (Role::Client, _, _) if self.held.is_some() => Some(TimerKind::ExpectContinue),
            _ => None,
        };
        if kind != self.timer_kind {
            self.timer_kind = kind;
            self.timer_id += 1;
        }
    }

    // ---- sending -------------------------------------------------------

    /// Client: sends a request head. Its body follows with
    /// [`send_data`](Self::send_data), then [`send_end`](Self::send_end) or
    /// [`send_trailers`](Self::send_trailers).
    ///
    /// The body is framed by the request's own fields: `content-length`,
    /// or `transfer-encoding: chunked`; with neither, the request has no
    /// body. A `host` field is added from the URI's authority when missing.
    /// The target is the URI's path and query (its authority for CONNECT).
    /// With `expect: 100-continue`, the body is held back until a
    /// `100 Continue`, the expect-continue deadline, or a final response
    /// (which drops it: the connection then closes).
    pub fn send_request(&mut self, req: Request<()>) -> Result<(), Error> {
        if self.role != Role::Client {
            return Err(Misuse::WrongRole.into());
        }
        if !matches!(self.send, Send::Idle) {
            return Err(self.wrong_state("send_request"));
        }
        let (parts, ()) = req.into_parts();
        let headers = &parts.headers;
        let fields_sent = Outgoing::scan(headers)?;
        let http10 = parts.version == Version::HTTP_10;
        let connect = parts.method == Method::CONNECT;
        let framing = fields_sent.framing(http10)?;
        let encoder = match framing {
            Some(Framing::Length(n)) => Encoder::Length {
                declared: n,
                remaining: n,
            },
            Some(_) => Encoder::Chunked,
            None => Encoder::Bodiless,
        };
        // The request-target in the form its method takes, as a server
        // checks it (RFC 9112 section 3.2).
        let authority = parts.uri.authority().map(|a| a.as_str());
        let target: &str = if connect {
            match authority {
                Some(a) if parts.uri.scheme().is_none() && fields::is_valid_authority_form(a.as_bytes()) => a,
                _ => return Err(Misuse::ConnectWithoutAuthority.into()),
            }
        } else {
            parts.uri.path_and_query().map_or("/", |p| p.as_str())
        };
        if target == "*" && parts.method != Method::OPTIONS {
            return Err(Misuse::InvalidTarget.into());
        }
        match fields_sent.hosts.as_slice() {
            [] => {}
            [h] if fields::is_valid_host(h) => {}
            _ => return Err(Misuse::InvalidHost.into()),
        }
        // Host comes first (RFC 9110 section 7.2), without any userinfo
        // (RFC 9112 section 3.2).
        let host = match (!fields_sent.hosts.is_empty(), parts.uri.authority()) {
            (true, _) => None,
            (false, Some(a)) => Some(match a.port() {
                Some(port) => format!("{}:{}", a.host(), port),
                None => a.host().to_owned(),
            }),
            (false, None) if !http10 => return Err(Misuse::MissingHost.into()),
            (false, None) => None,
        };
        if host
            .as_ref()
            .is_some_and(|h| !fields::is_valid_host(h.as_bytes()))
        {
            return Err(Misuse::InvalidHost.into());
        }
        let leading: smallvec::SmallVec<[(&[u8], &[u8]); 1]> =
            host.iter().map(|h| (&b"host"[..], h.as_bytes())).collect();
        let options = fields_sent.options;
        let mut x = Exchange {
            head: parts.method == Method::HEAD,
            connect,
            upgrade: !http10 && options.upgrade && fields_sent.upgrade,
            http10,
            ..Exchange::default()
        };
        if !options.persists(http10) {
            x.close(if http10 {
                CloseReason::Http10
            } else {
                CloseReason::WeAskedClose
            });
        }
        let expect = !http10 && encoder != Encoder::Bodiless && fields_sent.expect_continue;

        let out = self.output.tail();
        encode::request_line(out, parts.method.as_str().as_bytes(), target.as_bytes(), http10);
        encode::fields(out, fields_sent.lines_len, &leading, headers, &[]);
        self.exchanges.push_back(x);
        self.discard_body = false;
        if expect {
            self.held = Some(Output::default());
        }
        self.send = Send::Body(encoder);
        self.refresh_timer();
        Ok(())
    }

    /// Server: sends a response head: a 1xx (any number, before the final
    /// one), a 101 or 2xx-to-CONNECT that switches protocols, or the final
    /// response. Its body follows with [`send_data`](Self::send_data), then
    /// [`send_end`](Self::send_end) or [`send_trailers`](Self::send_trailers).
    ///
    /// The status line always says HTTP/1.1. The body is framed by
    /// `content-length` when given; otherwise chunked for an HTTP/1.1
    /// client (`transfer-encoding: chunked` is added), or delimited by
    /// closing the connection. Responses to HEAD, and 204 and 304
    /// responses, have no body. `connection: close` (or `keep-alive` for an
    /// HTTP/1.0 client) is added when the connection's fate requires it.
    ///
    /// After a receive error a server may still send one response (the
    /// error's [`status`](Error::status)); the connection then closes.
    pub fn send_response(&mut self, res: Response<()>) -> Result<(), Error> {
        self.start_response(res, None)
    }

    /// Server: sends a whole final response in one call: the head, `body`,
    /// and the end of the message.
    ///
    /// Unless `res` declares its own framing, the connection frames the
    /// body with a `content-length` it writes itself (no header value to
    /// build). To a HEAD request the length is announced and the body is
    /// not sent (RFC 9110 section 9.3.2): give it the body a GET would
    /// get. A 204 or 304 response, or a
    /// response that switches protocols (101, 2xx to CONNECT), takes an
    /// empty `body`; a 1xx is refused ([`Misuse::InvalidStatus`]): send it
    /// with [`send_response`](Self::send_response). Everything else is as
    /// for `send_response`, [`send_data`](Self::send_data) and
    /// [`send_end`](Self::send_end) in a row.
    pub fn send_full_response(&mut self, res: Response<()>, body: Bytes) -> Result<(), Error> {
        let status = res.status();
        if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
            return Err(Misuse::InvalidStatus.into());
        }
        let asked = self.exchanges.front().copied().unwrap_or_default();
        let switches = status == StatusCode::SWITCHING_PROTOCOLS || (asked.connect && status.is_success());
        if (switches || has_no_content(status)) && !body.is_empty() {
            return Err(Misuse::BodyNotAllowed.into());
        }
        self.start_response(res, Some(body.len() as u64))?;
        if matches!(self.send, Send::Switched) {
            return Ok(());
        }
        if !asked.head {
            self.send_data(body)?;
        }
        self.send_end()
    }

    /// `send_response`; `full` is the length of the whole body when the
    /// caller gives it at once ([`send_full_response`](Self::send_full_response)).
    fn start_response(&mut self, res: Response<()>, full: Option<u64>) -> Result<(), Error> {
        if self.role != Role::Server {
            return Err(Misuse::WrongRole.into());
        }
        let answering_error = matches!(self.recv, Recv::Error(_));
        if !matches!(self.send, Send::Idle) || (answering_error && !self.error_response_allowed) {
            return Err(self.wrong_state("send_response"));
        }
        let mut x = match self.exchanges.front() {
            Some(x) => *x,
            None if answering_error => Exchange::default(),
            None => return Err(Misuse::NoRequestToAnswer.into()),
        };
        let (parts, ()) = res.into_parts();
        let status = parts.status;
        let headers = &parts.headers;
        let fields_sent = Outgoing::scan(headers)?;
        let request_done = matches!(self.recv, Recv::Paused);

        if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
            if x.http10 {
                return Err(Misuse::InformationalToHttp10.into());
            }
            fields_sent.forbid_framing()?;
            self.write_status(status, headers, &fields_sent, &[]);
            if let Some(cur) = self.exchanges.front_mut() {
                cur.continue_sent |= status == StatusCode::CONTINUE;
            }
            return Ok(());
        }
        let switches = if status == StatusCode::SWITCHING_PROTOCOLS {
            if !x.upgrade || answering_error {
                return Err(Misuse::SwitchNotRequested.into());
            }
            true
        } else {
            x.connect && status.is_success() && !answering_error
        };
        if switches {
            if !request_done {
                return Err(Misuse::SwitchBeforeRequestBody.into());
            }
            fields_sent.forbid_framing()?;
            self.write_status(status, headers, &fields_sent, &[]);
            self.switch();
            self.refresh_timer();
            return Ok(());
        }

        let options = fields_sent.options;
        if answering_error {
            x.close(CloseReason::Error);
        }
        if options.close {
            x.close(CloseReason::WeAskedClose);
        }
        if x.expect_continue && !x.continue_sent && !request_done {
            x.close(CloseReason::UnsentBody);
        }
        let no_content = has_no_content(status);
        let bodiless = x.head || no_content;
        if status == StatusCode::NO_CONTENT {
            fields_sent.forbid_framing()?;
        }
        let framing = fields_sent.framing(x.http10)?;
        let mut digits = [0u8; 20];
        let mut extra: smallvec::SmallVec<[(&[u8], &[u8]); 2]> = smallvec::SmallVec::new();
        let encoder = match (framing, full) {
            (None, Some(n)) if !bodiless || (x.head && !no_content) => {
                extra.push((b"content-length", encode::decimal(n, &mut digits)));
                if bodiless {
                    Encoder::Bodiless
                } else {
                    Encoder::Length {
                        declared: n,
                        remaining: n,
                    }
                }
            }
            _ if bodiless => Encoder::Bodiless,
            (Some(Framing::Length(n)), _) => Encoder::Length {
                declared: n,
                remaining: n,
            },
            (Some(_), _) => Encoder::Chunked,
            (None, _) if x.http10 || x.close.is_some() => {
                x.close(CloseReason::CloseDelimitedBody);
                Encoder::CloseDelimited
            }
            (None, _) => {
                extra.push((b"transfer-encoding", b"chunked"));
                Encoder::Chunked
            }
        };
        if x.close.is_some() && !options.close {
            extra.push((b"connection", b"close"));
        } else if x.http10 && x.close.is_none() && !options.keep_alive {
            extra.push((b"connection", b"keep-alive"));
        }
        x.final_sent = true;
        self.write_status(status, headers, &fields_sent, &extra);
        match self.exchanges.front_mut() {
            Some(cur) => *cur = x,
            None => self.exchanges.push_back(x),
        }
        self.error_response_allowed = false;
        self.send = Send::Body(encoder);
        self.refresh_timer();
        Ok(())
    }

    /// Server: the current time, in seconds since the Unix epoch, for the
    /// `date` field the connection adds to each final response that has
    /// none (RFC 9110 section 6.6.1: a server with a clock must send it).
    /// The core reads no clock: a driver calls this before sending a
    /// response; the field is formatted at most once a second. Without it,
    /// no `date` is added.
    pub fn set_time(&mut self, unix_secs: u64) {
        if self.date.as_ref().is_none_or(|(secs, _)| *secs != unix_secs) {
            self.date = Some((unix_secs, crate::http_date(unix_secs)));
        }
    }

    /// Server: answers a receive error with its suggested status (an empty
    /// body and `connection: close`), if the connection may still answer.
    /// Returns whether a response was queued; the connection then wants to
    /// close once it is written.
    pub fn send_error_response(&mut self, err: &Error) -> bool {
        let Some(status) = err.status() else { return false };
        if self.role != Role::Server || !self.error_response_allowed {
            return false;
        }
        let res = Response::builder()
            .status(status)
            .header(header::CONTENT_LENGTH, "0")
            .body(())
            .unwrap_or_default();
        self.send_response(res).and_then(|()| self.send_end()).is_ok()
    }

    /// Server: sends `100 Continue` if the current request waits for it
    /// ([`expects_continue`](Self::expects_continue)). Returns whether it did.
    pub fn send_continue_if_expected(&mut self) -> Result<bool, Error> {
        if !self.expects_continue() {
            return Ok(false);
        }
        self.send_response(
            Response::builder()
                .status(StatusCode::CONTINUE)
                .body(())
                .unwrap_or_default(),
        )?;
        Ok(true)
    }

    fn write_status(
        &mut self,
        status: StatusCode,
        headers: &HeaderMap,
        sent: &Outgoing<'_>,
        extra: &[(&[u8], &[u8])],
    ) {
        let mut lines: SmallVec<[(&[u8], &[u8]); 3]> = extra.iter().copied().collect();
        match &self.date {
            Some((_, value)) if !status.is_informational() && !sent.date => {
                lines.push((b"date", value.as_bytes()));
            }
            _ => {}
        }
        let out = self.output.tail();
        encode::status_line(out, status);
        encode::fields(out, sent.lines_len, &[], headers, &lines);
    }

    /// Sends body bytes. They are queued as they are (chunk framing is
    /// added around them), without a copy; a piece shorter than 512 bytes
    /// is copied next to the bytes before it instead.
    pub fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        let Send::Body(encoder) = &mut self.send else {
            return Err(self.wrong_state("send_data"));
        };
        if self.discard_body {
            return Ok(());
        }
        let out = self.held.as_mut().unwrap_or(&mut self.output);
        encoder.data(data, out).map_err(Error::from)
    }

    /// Ends the body with a trailer section (chunked bodies only).
    pub fn send_trailers(&mut self, trailers: HeaderMap) -> Result<(), Error> {
        self.finish(Some(&trailers), "send_trailers")
    }

    /// Ends the message. A Content-Length body must be complete.
    pub fn send_end(&mut self) -> Result<(), Error> {
        self.finish(None, "send_end")
    }

    fn finish(&mut self, trailers: Option<&HeaderMap>, call: &'static str) -> Result<(), Error> {
        let Send::Body(encoder) = &mut self.send else {
            return Err(self.wrong_state(call));
        };
        let close_delimited = *encoder == Encoder::CloseDelimited;
        if !self.discard_body {
            let out = self.held.as_mut().unwrap_or(&mut self.output);
            encoder.end(trailers, out)?;
        }
        match self.role {
            Role::Server => {
                self.send = Send::Done;
                let x = self.exchanges.front().copied().unwrap_or_default();
                if matches!(self.recv, Recv::Error(_)) {
                    self.must_close(x.close.unwrap_or(CloseReason::Error));
                } else if x.close == Some(CloseReason::UnsentBody) {
                    // The client holds its body back for a 100 that never
                    // came: it may never send it, so do not wait for it.
                    self.must_close(CloseReason::UnsentBody);
                } else if close_delimited {
                    // The peer learns the body ended when we close.
                    self.must_close(CloseReason::CloseDelimitedBody);
                } else {
                    self.restart_cycle();
                }
            }
            Role::Client => {
                let last = self.exchanges.back().copied().unwrap_or_default();
                // `closing`: a response already ended the connection while
                // this body was still being sent.
                self.send = if let Some(reason) = last.close.or(self.closing) {
                    self.closing.get_or_insert(reason);
                    Send::MustClose
                } else {
                    Send::Idle
                };
            }
        }
        self.refresh_timer();
        Ok(())
    }

    fn wrong_state(&self, call: &'static str) -> Error {
        Misuse::WrongState {
            call,
            state: self.our_state(),
        }
        .into()
    }

    // ---- bytes out -------------------------------------------------------

    /// The next piece of output to write, if any: body bytes as they were
    /// handed in, or a run of heads, framing and short bodies.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.output.pop()
    }

    /// The output waiting to be written, in order, for a vectored write.
    /// Call [`advance_output`](Self::advance_output) with what was written.
    pub fn output_chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.output.chunks()
    }

    /// Drops the first `n` bytes of output: they were written.
    pub fn advance_output(&mut self, n: usize) {
        self.output.advance(n);
    }

    /// Bytes of output waiting to be written.
    pub fn output_len(&self) -> usize {
        self.output.len()
    }

    /// Whether output is waiting to be written.
    pub fn has_output(&self) -> bool {
        !self.output.is_empty()
    }

    /// Drops all pending output (for instance when the peer is gone).
    pub fn clear_output(&mut self) {
        self.output.clear();
    }
}

/// What the fields of a message we send say about framing, persistence
/// and the rest, gathered in one pass over them (which also refuses field
/// values holding CR, LF or NUL).
struct Outgoing<'a> {
    content_length: SmallVec<[&'a [u8]; 1]>,
    transfer_encoding: SmallVec<[&'a [u8]; 1]>,
    hosts: SmallVec<[&'a [u8]; 1]>,
    options: ConnectionOptions,
    upgrade: bool,
    expect_continue: bool,
    date: bool,
    /// The bytes of the field lines as they will be written.
    lines_len: usize,
}

impl<'a> Outgoing<'a> {
    fn scan(headers: &'a HeaderMap) -> Result<Self, Misuse> {
        let mut out = Outgoing {
            content_length: SmallVec::new(),
            transfer_encoding: SmallVec::new(),
            hosts: SmallVec::new(),
            options: ConnectionOptions::default(),
            upgrade: false,
            expect_continue: false,
            date: false,
            lines_len: 0,
        };
        for (name, value) in headers {
            let value = value.as_bytes();
            if encode::breaks_head(value) {
                return Err(Misuse::InvalidField);
            }
            out.lines_len += encode::field_line_len(name.as_str().as_bytes(), value);
            if name == header::CONTENT_LENGTH {
                out.content_length.push(value);
            } else if name == header::TRANSFER_ENCODING {
                out.transfer_encoding.push(value);
            } else if name == header::HOST {
                out.hosts.push(value);
            } else if name == header::CONNECTION {
                out.options.add(value);
            } else if name == header::UPGRADE {
                out.upgrade = true;
            } else if name == header::EXPECT {
                out.expect_continue |= fields::list(value).any(|e| e.eq_ignore_ascii_case(b"100-continue"));
            } else if name == header::DATE {
                out.date = true;
            }
        }
        Ok(out)
    }

    /// The framing the message declares: `Some(Length)`, `Some(Chunked)`
    /// or `None` (neither field). Refuses what cannot be framed.
    fn framing(&self, http10: bool) -> Result<Option<Framing>, Misuse> {
        if !self.transfer_encoding.is_empty() {
            if http10 || !self.content_length.is_empty() {
                return Err(Misuse::InvalidTransferEncoding);
            }
            return match fields::transfer_codings(self.transfer_encoding.iter().copied()) {
                Codings::Chunked | Codings::ChunkedAfterOthers => Ok(Some(Framing::Chunked)),
                _ => Err(Misuse::InvalidTransferEncoding),
            };
        }
        match self.content_length.as_slice() {
            [] => Ok(None),
            [value] => fields::decimal(value)
                .map(|n| Some(Framing::Length(n)))
                .ok_or(Misuse::InvalidContentLength),
            _ => Err(Misuse::InvalidContentLength),
        }
    }

    /// 1xx, 101, 204 and 2xx-to-CONNECT responses carry neither framing field.
    fn forbid_framing(&self) -> Result<(), Misuse> {
        if !self.content_length.is_empty() {
            return Err(Misuse::InvalidContentLength);
        }
        if !self.transfer_encoding.is_empty() {
            return Err(Misuse::InvalidTransferEncoding);
        }
        Ok(())
    }
}

/// 204 and 304 responses never carry content (RFC 9110 sections 15.3.5, 15.4.5).
fn has_no_content(status: StatusCode) -> bool {
    status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED
}
