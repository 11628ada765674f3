//! The connection: one state machine ([`state`]) for both directions of
//! one HTTP/1.1 connection, in either role. Receiving ([`receive`]) and
//! sending ([`send`]) each report what happened to the machine and read
//! the states back; this file holds the struct, its getters and the
//! deadlines.

mod receive;
mod send;
pub(crate) mod state;
pub(crate) mod timer;

use bytes::BytesMut;

use crate::body::decode::Decoder;
use crate::body::encode::Encoder;
use crate::body::Output;
use crate::config::Config;
use crate::error::Error;
use crate::head::convert::Converter;
use crate::head::heads::{RequestHead, ResponseHead};
use crate::head::scan::Scanner;
use state::{CloseReason, Machine, Role, State};
use timer::{Timer, TimerKind};

pub use send::{OutgoingFields, OutgoingRequest, OutgoingResponse};

/// A sans-IO HTTP/1.1 connection in the server or client role.
///
/// Methods come in groups (see the [crate docs](crate) for the contract):
///
/// - **input**: [`receive`](Self::receive), [`receive_bytes`](Self::receive_bytes),
///   [`receive_buf`](Self::receive_buf), [`receive_eof`](Self::receive_eof),
///   [`handle_timeout`](Self::handle_timeout);
/// - **events out**: [`poll_event`](Self::poll_event), called after every
///   input and every send until it returns [`Event::NeedData`](crate::Event::NeedData),
///   [`Event::Paused`](crate::Event::Paused), [`Event::Finished`](crate::Event::Finished)
///   or [`Event::Closed`](crate::Event::Closed);
/// - **sending**: [`send_request`](Self::send_request), [`send_response`](Self::send_response),
///   [`send_full_response`](Self::send_full_response), [`send_data`](Self::send_data),
///   [`send_trailers`](Self::send_trailers), [`send_end`](Self::send_end);
/// - **output**: [`poll_output`](Self::poll_output), or
///   [`output_chunks`](Self::output_chunks) with [`advance_output`](Self::advance_output)
///   for vectored writes; [`output_len`](Self::output_len), [`clear_output`](Self::clear_output);
/// - **getters**: [`our_state`](Self::our_state), [`their_state`](Self::their_state),
///   [`close_reason`](Self::close_reason), [`timer`](Self::timer),
///   and the predicates [`is_read_wanted`](Self::is_read_wanted),
///   [`is_close_wanted`](Self::is_close_wanted),
///   [`is_continue_expected`](Self::is_continue_expected),
///   [`is_switch_proposed`](Self::is_switch_proposed).
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    /// Both sides' states: the only record of where the exchange stands
    /// and whether the connection persists.
    machine: Machine,

    // ---- receiving
    buf: BytesMut,
    eof: bool,
    /// How the peer's current message is being read; follows their state.
    reader: Reader,
    /// Their side's error, once their state is `Error` (sticky).
    error: Option<Error>,
    /// The `Upgrade` event went out.
    upgrade_reported: bool,
    /// The peer's message had begun and will not be read to its end (our
    /// message ended the exchange first): the peer may still be sending.
    peer_cut_off: bool,
    heads_received: u64,
    /// What converting the heads read to `http` types reuses.
    converter: Converter,

    // ---- sending
    /// Our current body, while our state is `SendBody`.
    encoder: Option<Encoder>,
    output: Output,
    /// Client: the body held back until `100 Continue` (or its deadline).
    held: Option<Output>,
    /// Server: the `date` field for responses, and the second it is for.
    date: Option<(u64, [u8; 29])>,

    // ---- deadlines
    timer_kind: Option<TimerKind>,
    timer_id: u64,
}

/// How the peer's current message is read.
#[derive(Debug)]
enum Reader {
    /// Waiting for, or inside, a head.
    Head(Scanner),
    /// Inside a body.
    Body(Decoder),
    /// Nothing to read now (their side is past its message).
    Idle,
}

impl Connection {
    /// A connection in `role`, configured by `config`.
    pub fn new(role: Role, config: Config) -> Self {
        let mut conn = Connection {
            role,
            config,
            machine: Machine::new(role),
            buf: BytesMut::new(),
            eof: false,
            reader: Reader::Head(Scanner::default()),
            error: None,
            upgrade_reported: false,
            peer_cut_off: false,
            heads_received: 0,
            converter: Converter::default(),
            encoder: None,
            output: Output::default(),
            held: None,
            date: None,
            timer_kind: None,
            timer_id: 0,
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
        self.machine.state(self.role)
    }

    /// The state of the peer's side: what we may receive next.
    pub fn their_state(&self) -> State {
        self.machine.state(self.peer())
    }

    fn peer(&self) -> Role {
        match self.role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        }
    }

    /// Why the connection will close after the current exchange, once that
    /// is known; `None` while it persists.
    ///
    /// This is known early: a request that says `connection: close` sets
    /// it as soon as its head is read, while the connection still has the
    /// request's body to read and its response to send. Whether to close
    /// *now* (once the output is written) is
    /// [`is_close_wanted`](Self::is_close_wanted). A server that answers
    /// while the request body is still arriving (and has not read it) keeps
    /// the connection when its response persists: the rest of the body is
    /// still read (a driver discards it) before the next request, and
    /// `close_reason` stays `None`. When the response closes the connection
    /// (or answered a `100-continue` request without asking for its body:
    /// [`CloseReason::UnsentBody`]), the body is not read any further and
    /// `is_close_wanted` holds once the response is complete.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.machine.close_reason()
    }

    /// Whether the IO side should read more input now: the peer's side is
    /// between messages or inside one, and its end has not been reached.
    /// False while a server owes an answer ([`Event::Paused`](crate::Event::Paused)),
    /// after a switch, and once the connection must close; reading only
    /// while this holds keeps the buffered bytes within the limits.
    pub fn is_read_wanted(&self) -> bool {
        !self.eof
            && match self.their_state() {
                State::Idle | State::SendBody => true,
                // A client waits for the response.
                State::SendResponse => true,
                _ => false,
            }
    }

    /// Whether the IO side should close the connection once the output is
    /// written: no more HTTP will be exchanged (and no switch happened).
    /// After a receive error, a server that may still answer it does not
    /// want to close yet: it answers ([`send_error_response`](Self::send_error_response)),
    /// which makes it so, or closes at once.
    pub fn is_close_wanted(&self) -> bool {
        matches!(self.our_state(), State::MustClose | State::Closed)
    }

    /// Server: whether the current request waits for `100 Continue` before
    /// sending its body (and no answer went out yet).
    pub fn is_continue_expected(&self) -> bool {
        self.role == Role::Server
            && self.their_state() == State::SendBody
            && self.our_state() == State::SendResponse
            && self
                .machine
                .current()
                .is_some_and(|x| x.asked.expect_continue && !x.continue_sent)
    }

    /// Client: whether the request body is held back, waiting for a
    /// `100 Continue` (or its deadline, or a final response that drops
    /// it): what `send_data` hands in is queued but not yet output.
    pub fn is_continue_awaited(&self) -> bool {
        self.held.is_some()
    }

    /// Whether the request being answered (server) or the last request
    /// sent (client) proposes a switch (it asks to upgrade, or is CONNECT)
    /// that no final response has declined yet.
    pub fn is_switch_proposed(&self) -> bool {
        self.machine.is_switch_proposed()
    }

    /// Server: whether a final response with `status` to the request it
    /// answers switches protocols (a 101 to a proposed upgrade, a 2xx to
    /// CONNECT: RFC 9110 sections 7.8 and 9.3.6), as sending it would
    /// decide. False when no request waits for an answer.
    pub fn is_switch_response(&self, status: http::StatusCode) -> bool {
        self.role == Role::Server && self.machine.answered().is_some_and(|x| x.asked.switches(status))
    }

    /// Whether the peer may still be sending a message this connection
    /// stopped reading: a response that closes the connection ended the
    /// exchange while the request body was arriving. A driver that closes
    /// then lingers (RFC 9112 section 9.6: read and discard for a while
    /// after shutting down its write side), so that the peer reads the
    /// response before it sees a reset.
    pub fn is_peer_cut_off(&self) -> bool {
        self.peer_cut_off
    }

    /// Decides that the connection closes after the current exchange (a
    /// graceful shutdown): a response not yet sent says `connection:
    /// close`; between exchanges, the connection wants to close at once
    /// ([`is_close_wanted`](Self::is_close_wanted)). Nothing is refused:
    /// a request already being read is still read and answered.
    pub fn close_after_exchange(&mut self) {
        self.machine.close(CloseReason::Shutdown);
        self.after_send();
    }

    /// Client: requests sent whose response is not complete.
    pub fn requests_in_flight(&self) -> usize {
        self.machine.exchanges()
    }

    /// The head as an `http::Request<()>`, as
    /// [`RequestHead::into_request`] makes it, for less when it is the
    /// head this connection reported last: the connection knows where its
    /// field lines lie, and reuses the field names of its previous heads
    /// where they recur (a keep-alive peer repeats its fields), so that
    /// they are neither looked up nor allocated again.
    pub fn http_request(&mut self, head: RequestHead) -> Result<http::Request<()>, Error> {
        self.converter.request(head)
    }

    /// The head as an `http::Response<()>`, as
    /// [`ResponseHead::into_response`] makes it, for less when it is the
    /// head this connection reported last (see [`http_request`](Self::http_request)).
    pub fn http_response(&mut self, head: ResponseHead) -> Result<http::Response<()>, Error> {
        self.converter.response(head)
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

    /// After a send moved the states on: the deadline, and the reader,
    /// which stops when our message ended the peer's (a response that
    /// closes the connection ends the request body it did not wait for).
    fn after_send(&mut self) {
        self.refresh_timer();
        if !matches!(
            self.their_state(),
            State::Idle | State::SendResponse | State::SendBody
        ) {
            self.peer_cut_off |= matches!(self.reader, Reader::Body(_));
            self.reader = Reader::Idle;
        }
    }

    /// Which deadline applies in the current states; a new id for a new one.
    fn refresh_timer(&mut self) {
        let idle = |s: State| s == State::Idle;
        let kind = match self.role {
            Role::Server if !self.eof && idle(self.their_state()) && idle(self.our_state()) => {
                if self.buf.is_empty() && self.heads_received > 0 {
                    Some(TimerKind::KeepAlive)
                } else {
                    Some(TimerKind::HeadRead)
                }
            }
            Role::Client if self.held.is_some() => Some(TimerKind::ExpectContinue),
            _ => None,
        };
        if kind != self.timer_kind {
            self.timer_kind = kind;
            self.timer_id += 1;
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
                self.machine.close(CloseReason::IdleTimeout);
                self.reader = Reader::Idle;
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
}
