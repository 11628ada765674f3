//! The sans-IO half of a driver: the core [`Connection`] plus what a
//! driver keeps beside it (a bounded read-ahead of received events, the
//! state of the current messages, closing, the deadlines), and every HTTP
//! decision a driver makes (answering errors, the 500 fallback, draining
//! a body before a switch or after a response, stopping an upload, when to
//! flush, when to linger). It does no IO: an IO loop (the async one in
//! this crate, the blocking one in `h1-blocking`) reads and writes as it
//! says, and each operation returns [`Poll::Pending`] when it needs that
//! IO to make progress.
//!
//! The core's API is called from this file only, so that a change of the
//! core's API is a change here.

use std::collections::VecDeque;
use std::io;
use std::task::{ready, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use h1::http::{Request, Response, StatusCode};
use h1::{
    CloseReason, Config, Connection, Event, FieldLines, Incomplete, OutgoingFields, OutgoingRequest,
    OutgoingResponse, RequestHead, ResponseHead, Role, State, Timer,
};

use crate::bounds::{DRAIN_LIMIT, HIGH_WATER, LINGER, READ_AHEAD};
use crate::error::{Deadline, Error};
use crate::Parts;

/// What the IO loop should read now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// Nothing: reading is not wanted (paused, done, or the read-ahead is
    /// full and waits for a consumer).
    None,
    /// Read into the connection's buffer ([`Session::receive_buf`]).
    Buffer,
    /// Between messages: read a little into a buffer of the IO loop's own
    /// and hand it to [`Session::receive`] (nothing is held while waiting).
    Small,
    /// Closing: read and discard ([`Session::discarded`]), so that the peer
    /// reads our last response before a reset.
    Discard,
}

/// A received event waiting for its consumer.
#[derive(Debug)]
enum Inbound {
    Event(Event),
    Failed(Error),
}

/// Closing the connection for good (a server's end, or an aborted message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Close {
    Open,
    /// Write what is queued, shut the write side, then maybe linger.
    Closing {
        linger: bool,
    },
    /// Reading and discarding until the peer closes or the deadline.
    Lingering(Instant),
    Closed,
}

/// The write side's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum WriteEnd {
    Open,
    /// Shut it once the output is written.
    ShutdownWanted,
    Shut,
}

/// Which consumer of received events is asking: the connection itself,
/// or the body receiver attached to incoming message `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// The connection's own methods.
    Connection,
    /// A body receiver of the incoming message with this number.
    Receiver(u64),
}

/// The sans-IO half of a driver: the core [`Connection`] plus what a
/// driver keeps beside it (a bounded read-ahead of received events, the
/// state of the current messages, closing, the deadlines), and every HTTP
/// decision a driver makes (answering errors, the 500 fallback, draining a
/// body before a switch or after a response, stopping an upload, when to
/// flush, when to linger).
///
/// It does no IO: an IO loop reads and writes as it says
/// ([`read_mode`](Self::read_mode), [`is_write_wanted`](Self::is_write_wanted),
/// [`is_shutdown_due`](Self::is_shutdown_due), [`deadline`](Self::deadline)),
/// reports what happened ([`receive_buf`](Self::receive_buf),
/// [`advance_output`](Self::advance_output), ...), and each operation
/// (`poll_*`) returns [`Poll::Pending`] when it needs that IO to make
/// progress. Public for drivers of other IO models (`h1-blocking` is one);
/// the async connection types of this crate wrap it.
#[derive(Debug)]
pub struct Session {
    conn: Connection,
    inbox: VecDeque<Inbound>,
    /// Body bytes in `inbox`.
    inbox_data: usize,
    /// Nothing more will come from the core (closed, switched, failed).
    pump_done: bool,
    /// The core said [`Event::Finished`]: nothing more will ever be read.
    /// (It is the last event: once the inbox is empty, every event before
    /// it was consumed.)
    finished: bool,
    /// The core may have events: input, a deadline or a sent message
    /// changed it since it last said it needs data (or is paused).
    stirred: bool,
    /// A read failed; reported once the events before it are consumed.
    read_error: Option<io::Error>,
    /// Receiving failed: returned again by later receive operations.
    recv_failed: Option<Error>,
    /// Sending failed (a write error, the write deadline).
    send_failed: Option<Error>,

    /// Number of the current incoming message (final heads received).
    incoming: u64,
    /// The current incoming message's body has not been consumed to its end.
    body_open: bool,
    trailers: Option<FieldLines>,
    leftover: Option<Bytes>,
    /// Bytes of an unread request body discarded after the response.
    drained: u64,

    /// Number of the current outgoing message (heads sent).
    outgoing: u64,
    /// Server: the number of the request the last final response answered.
    answered: u64,
    /// Client: the request body is no longer sent (a final response that
    /// closes the connection arrived, or the server stopped reading).
    stopped: bool,
    /// Bytes written so far, and where the current request's bytes begin.
    written: u64,
    request_start: u64,
    /// A message was abandoned half sent: the connection must close.
    aborted: bool,

    /// A body receiver is attached to this incoming message.
    receiver: Option<u64>,
    /// A body sender is attached to this outgoing message.
    sender: Option<u64>,

    close: Close,
    write_end: WriteEnd,
    /// The error a server reports once it has closed.
    close_error: Option<Error>,
    /// Graceful shutdown: final responses carry `connection: close`.
    shutting_down: bool,

    /// The core's deadline being timed, and when it falls.
    core_timer: Option<(Timer, Instant)>,
    /// Since when the output has been waiting for a writable socket.
    write_stall: Option<Instant>,
    /// Output taken out for a write made outside the session
    /// ([`take_output`](Session::take_output)), not yet written.
    in_flight: usize,
    /// Changes whenever the output is dropped, so that a write made
    /// outside the session knows its pieces are void.
    output_epoch: u64,
}

impl Session {
    /// A session in `role`, configured by `config`.
    pub fn new(role: Role, config: Config) -> Self {
        Session {
            conn: Connection::new(role, config),
            inbox: VecDeque::new(),
            inbox_data: 0,
            pump_done: false,
            finished: false,
            stirred: true,
            read_error: None,
            recv_failed: None,
            send_failed: None,
            incoming: 0,
            body_open: false,
            trailers: None,
            leftover: None,
            drained: 0,
            outgoing: 0,
            answered: 0,
            stopped: false,
            written: 0,
            request_start: 0,
            aborted: false,
            receiver: None,
            sender: None,
            close: Close::Open,
            write_end: WriteEnd::Open,
            close_error: None,
            shutting_down: false,
            core_timer: None,
            write_stall: None,
            in_flight: 0,
            output_epoch: 0,
        }
    }

    /// The core state machine, for inspection.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The write deadline (the core's configuration holds every deadline).
    fn write_timeout(&self) -> Option<Duration> {
        self.conn.config().timeouts.write
    }

    fn is_server(&self) -> bool {
        self.conn.role() == Role::Server
    }

    // ---- what the IO loop does -------------------------------------------

    /// Moves the core's events into the read-ahead, as far as it has room.
    /// Returns whether anything changed.
    pub fn pump(&mut self) -> bool {
        let mut changed = false;
        while self.stirred && !self.pump_done && self.inbox_data < READ_AHEAD {
            let event = match self.conn.poll_event() {
                Ok(Event::NeedData | Event::Paused) => {
                    self.stirred = false;
                    if let Some(e) = self.read_error.take() {
                        self.received_failure(Error::Io(e));
                        changed = true;
                    }
                    break;
                }
                Ok(event) => event,
                Err(e) => {
                    self.received_failure(Error::Protocol(e));
                    changed = true;
                    break;
                }
            };
            changed = true;
            match &event {
                Event::Data(data) => self.inbox_data += data.len(),
                Event::Response(_) => self.final_response_arrived(),
                Event::Finished => {
                    // Kept as a flag, not queued: consumers look at it once
                    // the events before it are consumed.
                    self.finished = true;
                    self.pump_done = true;
                    break;
                }
                Event::Closed => self.pump_done = true,
                _ => {}
            }
            self.inbox.push_back(Inbound::Event(event));
        }
        changed
    }

    /// The peer broke the protocol, a deadline of the core passed, or a
    /// read failed: a server answers with the status the core suggests
    /// (if it still may) and closes; the failure reaches the consumer
    /// after the events before it.
    fn received_failure(&mut self, e: Error) {
        self.pump_done = true;
        if self.is_server() {
            if let Error::Protocol(err) = &e {
                self.set_time();
                self.conn.send_error_response(err);
                self.stirred = true;
            }
            self.begin_close();
        }
        self.inbox.push_back(Inbound::Failed(e));
    }

    /// Client: a final response arrived. If it closes the connection while
    /// the request body is still being sent, the rest is not sent (RFC 9112
    /// section 9.5: at once, as its head arrives); the response is read as
    /// usual. The core ends our side once that response is complete (at
    /// once when it drops a body held for `100 Continue`) and refuses more
    /// body; the session stops first and drops later body bytes instead
    /// ([`send_data`](Self::send_data) returns `Ok`), so that the caller
    /// goes on to read the response.
    fn final_response_arrived(&mut self) {
        let close = self.conn.close_reason();
        let uploading = self.conn.our_state() == State::SendBody || close == Some(CloseReason::UnsentBody);
        if self.conn.role() == Role::Client && uploading && close.is_some() {
            self.stop_sending();
        }
    }

    /// Drops every byte not yet written.
    fn clear_output(&mut self) {
        self.conn.clear_output();
        self.in_flight = 0;
        self.output_epoch += 1;
    }

    fn stop_sending(&mut self) {
        self.stopped = true;
        self.clear_output();
        self.write_stall = None;
        if self.write_end == WriteEnd::Open {
            self.write_end = WriteEnd::ShutdownWanted;
        }
    }

    /// What to read now.
    pub fn read_mode(&self) -> ReadMode {
        match self.close {
            Close::Lingering(_) => return ReadMode::Discard,
            Close::Closed => return ReadMode::None,
            _ => {}
        }
        if self.pump_done
            || self.read_error.is_some()
            || self.inbox_data >= READ_AHEAD
            || !self.conn.is_read_wanted()
        {
            return ReadMode::None;
        }
        if self.conn.buffered_len() == 0 && self.conn.their_state() == State::Idle && self.inbox.is_empty() {
            ReadMode::Small
        } else {
            ReadMode::Buffer
        }
    }

    /// Hands in bytes read into a buffer of the IO loop's own.
    pub fn receive(&mut self, data: &[u8]) {
        let handed = if data.is_empty() {
            self.conn.receive_eof()
        } else {
            self.conn.receive(data)
        };
        self.handed(handed);
    }

    /// Hands in bytes read into the connection's buffer (empty: the end of input).
    pub fn receive_buf(&mut self, data: BytesMut) {
        let handed = if data.is_empty() {
            self.conn.receive_eof()
        } else {
            self.conn.receive_buf(data)
        };
        self.handed(handed);
    }

    fn handed(&mut self, result: Result<(), h1::Error>) {
        self.stirred = true;
        if let Err(e) = result {
            self.read_error = Some(io::Error::other(e));
        }
    }

    /// Reports a failed read.
    pub fn read_failed(&mut self, e: io::Error) {
        if matches!(self.close, Close::Lingering(_)) {
            self.close = Close::Closed;
            return;
        }
        self.read_error = Some(e);
        self.stirred = true;
    }

    /// Reports bytes read and discarded while lingering (0: the peer closed).
    pub fn discarded(&mut self, n: usize) {
        if n == 0 {
            self.close = Close::Closed;
        }
    }

    /// The output, in order, for a vectored write.
    pub fn output_chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.conn.output_chunks()
    }

    /// Bytes of output waiting to be written (including what was taken
    /// out for a write and not yet reported written).
    pub fn output_len(&self) -> usize {
        self.conn.output_len() + self.in_flight
    }

    /// Whether the IO loop should write now.
    pub fn is_write_wanted(&self) -> bool {
        self.output_len() > 0 && self.send_failed.is_none() && self.close != Close::Closed
    }

    /// Takes the next piece of output out, for a write made without
    /// holding the session (a blocking IO loop); report what was written
    /// with [`advance_taken`](Self::advance_taken). Pieces taken before
    /// the [`output_epoch`](Self::output_epoch) changed are void.
    pub fn take_output(&mut self) -> Option<Bytes> {
        let piece = self.conn.poll_output()?;
        self.in_flight += piece.len();
        Some(piece)
    }

    /// Reports `n` bytes of taken output written.
    pub fn advance_taken(&mut self, n: usize) {
        self.in_flight = self.in_flight.saturating_sub(n);
        self.written += n as u64;
        self.write_stall = None;
    }

    /// Changes whenever the output is dropped (see [`take_output`](Self::take_output)).
    pub fn output_epoch(&self) -> u64 {
        self.output_epoch
    }

    /// Reports `n` bytes written.
    pub fn advance_output(&mut self, n: usize) {
        self.conn.advance_output(n);
        self.written += n as u64;
        self.write_stall = None;
    }

    /// Reports that a write waits for the socket (the write deadline runs).
    pub fn write_blocked(&mut self, now: Instant) {
        self.write_stall.get_or_insert(now);
    }

    /// How long a write starting `now` may wait for the socket before the
    /// write deadline passes (`None`: no write deadline).
    pub fn write_wait_limit(&self, now: Instant) -> Option<Duration> {
        let limit = self.write_timeout()?;
        Some((self.write_stall.unwrap_or(now) + limit).saturating_duration_since(now))
    }

    /// Reports a failed write. A client whose server closed while the
    /// request was in flight stops sending and reads the response the
    /// server may have sent; otherwise sending fails.
    pub fn write_failed(&mut self, e: io::Error) {
        self.write_stall = None;
        self.write_end = WriteEnd::Shut;
        let peer_gone = matches!(
            e.kind(),
            io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
        );
        let in_flight = matches!(self.conn.their_state(), State::SendResponse | State::SendBody);
        if self.conn.role() == Role::Client && peer_gone && in_flight {
            self.stop_sending();
            return;
        }
        self.clear_output();
        self.send_failed = Some(Error::Io(e));
        if self.close != Close::Open {
            self.close = Close::Closed;
        }
    }

    /// Whether the IO loop should shut the write side down now.
    pub fn is_shutdown_due(&self) -> bool {
        self.write_end == WriteEnd::ShutdownWanted && (self.output_len() == 0 || self.send_failed.is_some())
    }

    /// Reports the write side shut down (or failing to shut); `half_closed`:
    /// the peer sees the end of input while this side can still read (a
    /// connection only lingers then).
    pub fn shutdown_done(&mut self, now: Instant, half_closed: bool) {
        self.write_end = WriteEnd::Shut;
        if let Close::Closing { linger } = self.close {
            self.close = if linger && half_closed && !self.is_peer_closed() {
                Close::Lingering(now + LINGER)
            } else {
                Close::Closed
            };
        }
    }

    fn is_peer_closed(&self) -> bool {
        self.conn.their_state() == State::Closed
            || matches!(self.conn.close_reason(), Some(CloseReason::PeerClosed))
    }

    /// The next deadline the IO loop must watch (the core's, the write
    /// deadline, the end of lingering), arming the core's when it is new
    /// (`now` is only read then).
    pub fn deadline(&mut self, now: impl FnOnce() -> Instant) -> Option<Instant> {
        let wanted = self.conn.timer();
        if wanted.map(|t| t.id) != self.core_timer.map(|(t, _)| t.id) {
            self.core_timer = wanted.map(|t| (t, now() + t.duration));
        }
        let write = match (self.write_stall, self.write_timeout()) {
            (Some(since), Some(limit)) if self.is_write_wanted() => Some(since + limit),
            _ => None,
        };
        let linger = match self.close {
            Close::Lingering(until) => Some(until),
            _ => None,
        };
        [self.core_timer.map(|(_, at)| at), write, linger]
            .into_iter()
            .flatten()
            .min()
    }

    /// Acts on the deadlines that passed by `now`. Returns whether one did.
    pub fn handle_deadlines(&mut self, now: Instant) -> bool {
        let mut passed = false;
        if let Some((timer, at)) = self.core_timer {
            if now >= at {
                passed = true;
                self.core_timer = None;
                // A failing deadline makes the core's errors sticky; the
                // next pump reports it.
                let _ = self.conn.handle_timeout(timer);
                self.stirred = true;
            }
        }
        if let (Some(since), Some(limit)) = (self.write_stall, self.write_timeout()) {
            if now >= since + limit && self.is_write_wanted() {
                passed = true;
                self.write_stall = None;
                self.clear_output();
                self.send_failed = Some(Error::Timeout(Deadline::Write));
                self.read_error
                    .get_or_insert_with(|| io::ErrorKind::TimedOut.into());
                self.inbox
                    .push_back(Inbound::Failed(Error::Timeout(Deadline::Write)));
                self.pump_done = true;
                self.write_end = WriteEnd::Shut;
                self.close = Close::Closed;
            }
        }
        if let Close::Lingering(until) = self.close {
            if now >= until {
                passed = true;
                self.close = Close::Closed;
            }
        }
        passed
    }

    /// Whether the connection is finished: nothing more will be read or
    /// written.
    pub fn is_closed(&self) -> bool {
        self.close == Close::Closed
    }

    // ---- closing -----------------------------------------------------------

    /// Starts closing: write what is queued, shut the write side, and
    /// linger if the peer may still be sending.
    fn begin_close(&mut self) {
        if self.close != Close::Open {
            return;
        }
        let linger = self.conn.is_peer_cut_off()
            || matches!(self.conn.their_state(), State::SendBody | State::Error)
            || self.conn.close_reason() == Some(CloseReason::UnsentBody);
        self.close = Close::Closing { linger };
        self.pump_done = true;
        if self.write_end == WriteEnd::Open {
            self.write_end = WriteEnd::ShutdownWanted;
        }
        if self.write_end == WriteEnd::Shut {
            self.shutdown_done(Instant::now(), false);
        }
    }

    /// Closes the connection: [`Poll::Ready`] once what is queued is written,
    /// the write side shut and any lingering done.
    pub fn poll_close(&mut self) -> Poll<()> {
        self.begin_close();
        match self.close {
            Close::Closed => Poll::Ready(()),
            _ => Poll::Pending,
        }
    }

    /// Graceful shutdown: from now on, final responses carry
    /// `connection: close`, and a server waiting for a request closes.
    pub fn set_shutting_down(&mut self) {
        self.shutting_down = true;
        self.conn.close_after_exchange();
    }

    /// Whether graceful shutdown was asked for.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    // ---- receiving -----------------------------------------------------------

    /// Takes the next received event. Body data leaves the read-ahead.
    /// Events the core already holds come first, without IO (a pipelined
    /// request is found before anything is written or read).
    fn take(&mut self) -> Option<Inbound> {
        if self.inbox.is_empty() {
            self.pump();
        }
        let next = self.inbox.pop_front();
        if let Some(Inbound::Event(Event::Data(data))) = &next {
            self.inbox_data -= data.len();
        }
        next
    }

    /// Server: the next request head as received, or `None` once the
    /// connection is done (the client closed, the connection must close,
    /// it switched protocols, or graceful shutdown). Any unread body of the
    /// previous request is read and discarded first, up to
    /// [`DRAIN_LIMIT`]; a longer one closes the connection. A rejected
    /// request was answered with its status; its error is returned once
    /// the connection closed.
    pub fn poll_read_request_head(&mut self) -> Poll<Result<Option<RequestHead>, Error>> {
        loop {
            if self.close != Close::Open {
                // Closing: what is left is discarded, but a failure is
                // what the caller gets once the connection is closed.
                while let Some(item) = self.take() {
                    if let Inbound::Failed(e) = item {
                        self.recv_failed = Some(e.again());
                        self.close_error.get_or_insert(e);
                    }
                }
                return match self.close {
                    Close::Closed => Poll::Ready(self.close_error.take().map_or(Ok(None), Err)),
                    _ => Poll::Pending,
                };
            }
            if self.body_open && self.receiver == Some(self.incoming) {
                // The previous body is a receiver's to read.
                return Poll::Pending;
            }
            if self.shutting_down || self.aborted {
                // No further request is answered.
                self.begin_close();
                continue;
            }
            match self.take() {
                Some(Inbound::Event(Event::Request(head))) => {
                    self.incoming += 1;
                    self.body_open = true;
                    self.trailers = None;
                    self.drained = 0;
                    return Poll::Ready(Ok(Some(head)));
                }
                Some(Inbound::Event(Event::Data(data))) => {
                    self.drained += data.len() as u64;
                    if self.drained > DRAIN_LIMIT {
                        self.begin_close();
                    }
                }
                Some(Inbound::Event(Event::End)) => self.body_open = false,
                Some(Inbound::Event(Event::Upgrade { leftover })) => {
                    self.leftover = Some(leftover);
                    return Poll::Ready(Ok(None));
                }
                Some(Inbound::Event(Event::Closed)) => {
                    self.body_open = false;
                    self.begin_close();
                }
                Some(Inbound::Event(_)) => {}
                Some(Inbound::Failed(e)) => {
                    self.body_open = false;
                    self.recv_failed = Some(e.again());
                    self.close_error = Some(e);
                    self.begin_close();
                }
                None if self.recv_failed.is_some() => self.begin_close(),
                // Nothing more will be read: a switched connection keeps
                // its socket for the new protocol; any other closes.
                None if self.finished && self.is_switched() => return Poll::Ready(Ok(None)),
                None if self.finished => self.begin_close(),
                None => return Poll::Pending,
            }
        }
    }

    /// Server: [`poll_read_request_head`](Self::poll_read_request_head),
    /// the head then made an `http::Request<()>` by the connection that
    /// read it. A head the `http` types cannot hold (a target or field name
    /// longer than they allow) is answered with the error's status and
    /// `connection: close`, as a head the core rejects is; its error is
    /// returned once the connection closed.
    pub fn poll_read_request(&mut self) -> Poll<Result<Option<Request<()>>, Error>> {
        loop {
            let Some(head) = ready!(self.poll_read_request_head())? else {
                return Poll::Ready(Ok(None));
            };
            match self.conn.http_request(head) {
                Ok(req) => return Poll::Ready(Ok(Some(req))),
                Err(e) => self.refuse_request(e),
            }
        }
    }

    /// Server: a request head made an `http::Request<()>` with what the
    /// connection keeps for that (less work for the head it read last).
    pub fn http_request(&mut self, head: RequestHead) -> Result<Request<()>, Error> {
        Ok(self.conn.http_request(head)?)
    }

    /// Server: answers a request the core accepted but the `http` types
    /// cannot hold with the error's status and `connection: close`, and
    /// closes; the error is what reading requests returns once closed.
    fn refuse_request(&mut self, e: h1::Error) {
        if let Some(status) = e.status() {
            let mut res = ResponseHead::new(status);
            if res.fields_mut().append("connection", "close").is_ok() {
                self.set_time();
                // Refused only when an answer already went out: then the
                // connection closes without one.
                let _ = self.conn.send_full_response(res, Bytes::new());
                self.stirred = true;
            }
        }
        self.recv_failed = Some(Error::Protocol(e.clone()));
        self.close_error = Some(Error::Protocol(e));
        self.begin_close();
    }

    /// The next chunk of the current incoming body, `None` at its end (or
    /// for a receiver of an earlier message, or once nothing more will be
    /// read). A server first sends `100 Continue` if the client waits for
    /// it. A server that fails to receive the body answers with the core's
    /// status and returns the error once the connection closed.
    pub fn poll_read_body(&mut self, reader: Reader) -> Poll<Result<Option<Bytes>, Error>> {
        if let Reader::Receiver(n) = reader {
            if n != self.incoming {
                return Poll::Ready(Ok(None));
            }
        }
        if !self.body_open {
            return Poll::Ready(Ok(None));
        }
        if self.is_server() {
            if let Err(e) = self.conn.send_continue_if_expected() {
                return Poll::Ready(Err(e.into()));
            }
        }
        loop {
            match self.take() {
                Some(Inbound::Event(Event::Data(data))) => return Poll::Ready(Ok(Some(data))),
                Some(Inbound::Event(Event::Trailers(trailers))) => self.trailers = Some(trailers),
                Some(Inbound::Event(Event::Upgrade { leftover })) => {
                    self.leftover = Some(leftover);
                    self.body_open = false;
                    return Poll::Ready(Ok(None));
                }
                Some(Inbound::Event(Event::End | Event::Closed)) => {
                    self.body_open = false;
                    return Poll::Ready(Ok(None));
                }
                Some(Inbound::Event(other)) => {
                    // The next message's head: this body ended before it.
                    self.inbox.push_front(Inbound::Event(other));
                    self.body_open = false;
                    return Poll::Ready(Ok(None));
                }
                Some(Inbound::Failed(e)) => {
                    self.body_open = false;
                    self.recv_failed = Some(e.again());
                    if self.is_server() {
                        self.close_error = Some(e.again());
                        self.begin_close();
                    }
                    return Poll::Ready(Err(e));
                }
                None => {
                    if let Some(e) = &self.recv_failed {
                        return Poll::Ready(Err(e.again()));
                    }
                    if self.finished {
                        // The body is not read any further (a response
                        // that closes the connection went out first).
                        self.body_open = false;
                        return Poll::Ready(Ok(None));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// The trailer section of the body read last, as received, if it had
    /// one with fields.
    pub fn trailers(&self) -> Option<&FieldLines> {
        self.trailers.as_ref()
    }

    /// Client: the next response head as received, a 1xx or the final one
    /// (whose body follows). Any unread body of the previous response is
    /// discarded.
    pub fn poll_read_response_head(&mut self) -> Poll<Result<ResponseHead, Error>> {
        loop {
            if self.body_open && self.receiver == Some(self.incoming) {
                return Poll::Pending;
            }
            match self.take() {
                Some(Inbound::Event(Event::Informational(head))) => return Poll::Ready(Ok(head)),
                Some(Inbound::Event(Event::Response(head))) => {
                    let switched = head.status() == StatusCode::SWITCHING_PROTOCOLS
                        || self.conn.our_state() == State::SwitchedProtocol;
                    self.incoming += 1;
                    self.body_open = !switched;
                    self.trailers = None;
                    return Poll::Ready(Ok(head));
                }
                Some(Inbound::Event(Event::End)) => self.body_open = false,
                Some(Inbound::Event(Event::Upgrade { leftover })) => self.leftover = Some(leftover),
                Some(Inbound::Event(Event::Closed)) => {
                    self.body_open = false;
                    let e = Error::Protocol(Incomplete::NoResponse.into());
                    self.recv_failed = Some(e.again());
                    return Poll::Ready(Err(e));
                }
                Some(Inbound::Event(_)) => {}
                Some(Inbound::Failed(e)) => {
                    self.body_open = false;
                    self.recv_failed = Some(e.again());
                    return Poll::Ready(Err(e));
                }
                None => {
                    if let Some(e) = &self.recv_failed {
                        return Poll::Ready(Err(e.again()));
                    }
                    if self.pump_done {
                        return Poll::Ready(Err(Error::Protocol(Incomplete::NoResponse.into())));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Client: [`poll_read_response_head`](Self::poll_read_response_head),
    /// the head then made an `http::Response<()>` by the connection that
    /// read it. A head the `http` types cannot hold fails the connection
    /// (it closes).
    pub fn poll_read_response(&mut self) -> Poll<Result<Response<()>, Error>> {
        let head = ready!(self.poll_read_response_head())?;
        Poll::Ready(match self.conn.http_response(head) {
            Ok(res) => Ok(res),
            Err(e) => {
                self.recv_failed = Some(Error::Protocol(e.clone()));
                self.abort();
                Err(Error::Protocol(e))
            }
        })
    }

    // ---- body handles ------------------------------------------------------

    /// Attaches a body receiver to the current incoming message; returns
    /// its number.
    pub fn attach_receiver(&mut self) -> u64 {
        self.receiver = Some(self.incoming);
        self.incoming
    }

    /// Detaches the receiver of message `n`.
    pub fn detach_receiver(&mut self, n: u64) {
        if self.receiver == Some(n) {
            self.receiver = None;
        }
    }

    /// Attaches a body sender to the current outgoing message; returns its
    /// number.
    pub fn attach_sender(&mut self) -> u64 {
        self.sender = Some(self.outgoing);
        self.outgoing
    }

    /// Detaches the sender of message `n`. A message left unfinished is
    /// abandoned: the connection closes once what is queued is written.
    pub fn detach_sender(&mut self, n: u64) {
        if self.sender != Some(n) {
            return;
        }
        self.sender = None;
        if n == self.outgoing && self.conn.our_state() == State::SendBody {
            self.abort();
        }
    }

    /// Whether a body sender of the current outgoing message is attached.
    pub fn is_sender_attached(&self) -> bool {
        self.sender == Some(self.outgoing) && self.conn.our_state() == State::SendBody
    }

    /// Whether `n` is the outgoing message a sender may still send on.
    fn is_current_sender(&self, n: Option<u64>) -> bool {
        n.is_none_or(|n| n == self.outgoing)
    }

    /// Abandons the current outgoing message: the connection closes.
    pub fn abort(&mut self) {
        self.aborted = true;
        self.stopped = true;
        if self.write_end == WriteEnd::Open {
            self.write_end = WriteEnd::ShutdownWanted;
        }
        self.begin_close();
    }

    // ---- sending -----------------------------------------------------------

    /// Gives the core the current second, for the `date` field it adds to
    /// responses (the core reads no clock).
    fn set_time(&mut self) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        self.conn.set_time(now.map_or(0, |d| d.as_secs()));
    }

    fn check_send(&self, sender: Option<u64>) -> Result<(), Error> {
        if let Some(e) = &self.send_failed {
            return Err(e.again());
        }
        if !self.is_current_sender(sender) {
            return Err(h1::Misuse::WrongState {
                call: "send_data",
                state: self.conn.our_state(),
            }
            .into());
        }
        Ok(())
    }

    /// Server: [`Poll::Ready`] once a response with `status` may be sent: a
    /// switch happens after the whole request, so the rest of its body is
    /// read and dropped first.
    fn poll_ready_to_respond(&mut self, status: StatusCode) -> Poll<Result<(), Error>> {
        if !self.conn.is_switch_response(status) {
            return Poll::Ready(Ok(()));
        }
        while self.body_open {
            match self.poll_read_body(Reader::Connection) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Server: sends the response head in `res` (see
    /// `ServerConnection::send_response`), taking it, once it may be sent
    /// (a switch reads and drops the rest of the request body first).
    /// Returns whether it should be written at once (a 1xx).
    pub fn poll_send_response<R: OutgoingResponse>(
        &mut self,
        res: &mut Option<R>,
    ) -> Poll<Result<bool, Error>> {
        let Some(status) = res.as_ref().map(OutgoingResponse::status) else {
            return Poll::Ready(Err(self.taken("send_response")));
        };
        ready!(self.poll_ready_to_respond(status))?;
        match res.take() {
            Some(res) => Poll::Ready(self.send_response(res)),
            None => Poll::Ready(Err(self.taken("send_response"))),
        }
    }

    /// Server: sends the whole response in `full` (see
    /// `ServerConnection::send_full`), taking it, once it may be sent.
    /// Returns whether it should be written at once
    /// ([`is_flush_due_after_end`](Self::is_flush_due_after_end)).
    pub fn poll_send_full<R: OutgoingResponse>(
        &mut self,
        full: &mut Option<(R, Bytes)>,
    ) -> Poll<Result<bool, Error>> {
        let Some(status) = full.as_ref().map(|(res, _)| res.status()) else {
            return Poll::Ready(Err(self.taken("send_full")));
        };
        ready!(self.poll_ready_to_respond(status))?;
        let Some((res, body)) = full.take() else {
            return Poll::Ready(Err(self.taken("send_full")));
        };
        Poll::Ready(self.send_full(res, body).map(|()| self.is_flush_due_after_end()))
    }

    /// A poll for a send whose message was already taken (polled again
    /// after it completed).
    fn taken(&self, call: &'static str) -> Error {
        h1::Misuse::WrongState {
            call,
            state: self.conn.our_state(),
        }
        .into()
    }

    fn send_response<R: OutgoingResponse>(&mut self, res: R) -> Result<bool, Error> {
        self.check_send(None)?;
        let status = res.status();
        let informational = status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS;
        if !informational {
            self.set_time();
        }
        self.conn.send_response(res)?;
        self.stirred = true;
        if !informational {
            self.outgoing += 1;
            self.answered = self.incoming;
        }
        Ok(informational)
    }

    fn send_full<R: OutgoingResponse>(&mut self, res: R, body: Bytes) -> Result<(), Error> {
        self.check_send(None)?;
        self.set_time();
        self.conn.send_full_response(res, body)?;
        self.stirred = true;
        self.outgoing += 1;
        self.answered = self.incoming;
        Ok(())
    }

    /// Client: sends a request head.
    pub fn send_request(&mut self, req: impl OutgoingRequest) -> Result<(), Error> {
        self.check_send(None)?;
        self.request_start = self.written + self.output_len() as u64;
        self.conn.send_request(req)?;
        self.stirred = true;
        self.outgoing += 1;
        self.stopped = false;
        Ok(())
    }

    /// Client: [`Poll::Ready`] once the body may be sent: `true` after a
    /// `100 Continue`, the expect-continue deadline or when none was asked
    /// for; `false` when a final response came first (the body is dropped).
    pub fn poll_continue(&mut self) -> Poll<bool> {
        if self.conn.is_continue_awaited() && !self.stopped && self.recv_failed.is_none() && !self.pump_done {
            return Poll::Pending;
        }
        Poll::Ready(!self.stopped && self.conn.close_reason() != Some(CloseReason::UnsentBody))
    }

    /// Queues body bytes. A client that stopped sending drops them.
    pub fn send_data(&mut self, data: Bytes, sender: Option<u64>) -> Result<(), Error> {
        self.check_send(sender)?;
        if self.stopped {
            return Ok(());
        }
        self.conn.send_data(data)?;
        Ok(())
    }

    /// Ends the body.
    pub fn send_end(&mut self, sender: Option<u64>) -> Result<(), Error> {
        self.check_send(sender)?;
        if self.stopped {
            return Ok(());
        }
        self.conn.send_end()?;
        self.stirred = true;
        Ok(())
    }

    /// Ends the body with a trailer section (chunked bodies only).
    pub fn send_trailers(&mut self, trailers: impl OutgoingFields, sender: Option<u64>) -> Result<(), Error> {
        self.check_send(sender)?;
        if self.stopped {
            return Ok(());
        }
        self.conn.send_trailers(trailers)?;
        self.stirred = true;
        Ok(())
    }

    /// [`Poll::Ready`] once a sender may queue more: less than
    /// [`HIGH_WATER`] is waiting to be written, or sending stopped. A
    /// client waiting for `100 Continue` waits for it first.
    pub fn poll_send_capacity(&mut self) -> Poll<Result<(), Error>> {
        if let Some(e) = &self.send_failed {
            return Poll::Ready(Err(e.again()));
        }
        if self.stopped || self.close == Close::Closed {
            return Poll::Ready(Ok(()));
        }
        if self.poll_continue().is_pending() || self.output_len() >= HIGH_WATER {
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    /// [`Poll::Ready`] once everything queued is written.
    pub fn poll_flush(&mut self) -> Poll<Result<(), Error>> {
        if let Some(e) = &self.send_failed {
            return Poll::Ready(Err(e.again()));
        }
        if self.output_len() == 0 || self.close == Close::Closed {
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }

    /// Whether the end of a message should be written at once. Not when
    /// the next pipelined request is already here (its head read ahead, or
    /// its bytes buffered): the responses to a batch go out in one write.
    /// (What is left of the current request, such as its end, is not a
    /// next request.)
    pub fn is_flush_due_after_end(&self) -> bool {
        let next_here = self.conn.buffered_len() > 0
            || self
                .inbox
                .iter()
                .any(|i| matches!(i, Inbound::Event(e) if e.is_head()));
        !(self.is_server() && self.conn.is_read_wanted() && next_here)
    }

    /// Server, after a handler returned: completes what it left
    /// unanswered. No response: a 500 (with `connection: close` if the
    /// handler failed). A body left open: ended, unless it failed (then the
    /// connection closes). A body a sender still streams: left to it.
    pub fn finish_response(&mut self, failed: bool) -> Result<(), Error> {
        if self.answered != self.incoming {
            // Not answered. (The core may already hold the next request,
            // read while the answer was written: this is about the one the
            // handler was given, which `answered` tells.)
            if self.conn.our_state() != State::SendResponse {
                return Ok(());
            }
            let mut res = ResponseHead::new(StatusCode::INTERNAL_SERVER_ERROR);
            if failed {
                res.fields_mut().append("connection", "close")?;
            }
            return self.send_full(res, Bytes::new());
        }
        match self.conn.our_state() {
            State::SendBody if failed => {
                self.abort();
                Ok(())
            }
            State::SendBody if !self.is_sender_attached() => self.send_end(None),
            _ => Ok(()),
        }
    }

    // ---- client status -----------------------------------------------------

    /// Client: whether another request may be sent on this connection, as
    /// far as what was received tells.
    pub fn is_reusable(&self) -> bool {
        self.conn.our_state() == State::Idle
            && self.conn.their_state() == State::Idle
            && self.conn.close_reason().is_none()
            && !self.stopped
            && !self.aborted
            && self.send_failed.is_none()
            && self.recv_failed.is_none()
            && self.read_error.is_none()
            && self.inbox.is_empty()
            && !self.pump_done
            && self.close == Close::Open
    }

    /// Client: whether the request body is no longer sent (see
    /// `ClientConnection::is_sending_stopped`).
    pub fn is_sending_stopped(&self) -> bool {
        self.stopped
    }

    /// Client: whether none of the last request's bytes were written.
    pub fn is_request_unsent(&self) -> bool {
        self.written <= self.request_start
    }

    // ---- switching -----------------------------------------------------------

    /// Whether the connection switched protocols.
    pub fn is_switched(&self) -> bool {
        self.conn.our_state() == State::SwitchedProtocol
    }

    /// After a switch, once the output is written: the bytes received for
    /// the new protocol, with `io`.
    pub fn into_parts<IO>(&mut self, io: IO) -> Result<Parts<IO>, Error> {
        self.pump();
        while self.leftover.is_none() {
            match self.take() {
                Some(Inbound::Event(Event::Upgrade { leftover })) => self.leftover = Some(leftover),
                Some(_) => {}
                None => {
                    return Err(h1::Misuse::WrongState {
                        call: "into_parts",
                        state: self.conn.our_state(),
                    }
                    .into())
                }
            }
        }
        Ok(Parts {
            io,
            leftover: self.leftover.take().unwrap_or_default(),
        })
    }
}
