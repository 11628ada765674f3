//! Shared machinery for the h1 fuzz targets: a checked driver that feeds
//! bytes to a connection in pieces, and the properties every target
//! asserts. Event summaries ([`Ev`]) and the plain helpers come from
//! `h1-tests`.
//!
//! Properties checked by [`Driver`] on every input:
//!
//! - no panic;
//! - whenever `poll_event` returns `NeedData`, the connection holds at most
//!   `max(head_size, chunk_line, trailer_size) + 2` bytes ([`buffer_bound`]);
//! - receive errors are blamed on the peer (`is_remote`), suggest one of
//!   [`ERROR_STATUSES`], are sticky, and a server can still answer them;
//! - input after an `Upgrade` is refused as misuse, and only `Finished`
//!   follows it;
//! - `Finished` and `Closed` are returned again on later polls (`Closed`
//!   may follow `Finished` once the input ends);
//! - (by the targets) the events do not depend on how the input was split.

use h1::bytes::Bytes;
use h1::http::{Method, Request, StatusCode};
use h1::{Config, Connection, Error, Event, Misuse, ResponseHead, Role};
use h1_tests::{drain_with, merge_data, summarize, take_output, Ev};

pub use h1_tests::{buffer_bound, BUFFER_SLACK};

/// Statuses a receive error may suggest.
pub const ERROR_STATUSES: [u16; 7] = [400, 408, 413, 414, 431, 501, 505];

/// Small limits so that arbitrary input reaches them ([`h1_tests::small_config`]),
/// with chunk extensions and bodies capped too; with `lenient`, every
/// leniency switch on.
pub fn small_config(lenient: bool) -> Config {
    let mut config = h1_tests::small_config(lenient);
    config.limits.chunk_extensions = 64;
    config.limits.body_size = Some(4096);
    config
}

/// Sorted, deduplicated cut points within `1..len` from raw fuzzer values.
pub fn cut_points(raw: &[u16], len: usize) -> Vec<usize> {
    if len < 2 {
        return Vec::new();
    }
    let mut cuts: Vec<usize> = raw.iter().map(|&c| 1 + usize::from(c) % (len - 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// Every cut point: one byte at a time.
pub fn every_byte(len: usize) -> Vec<usize> {
    (1..len).collect()
}

/// The kinds of request a client sends before receiving arbitrary bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientRequest {
    /// `GET /`.
    Get,
    /// `HEAD /`: its response has no body.
    Head,
    /// `CONNECT example.com:443`: a 2xx switches.
    Connect,
    /// `GET /chat` asking to upgrade to websocket: a 101 switches.
    Upgrade,
}

impl ClientRequest {
    /// From a raw fuzzer byte.
    pub fn from_byte(b: u8) -> Self {
        match b % 4 {
            0 => ClientRequest::Get,
            1 => ClientRequest::Head,
            2 => ClientRequest::Connect,
            _ => ClientRequest::Upgrade,
        }
    }

    /// The request head.
    pub fn request(self) -> Request<()> {
        let b = Request::builder();
        let b = match self {
            ClientRequest::Get => b.uri("/").header("host", "example.com"),
            ClientRequest::Head => b.method(Method::HEAD).uri("/").header("host", "example.com"),
            ClientRequest::Connect => b.method(Method::CONNECT).uri("example.com:443"),
            ClientRequest::Upgrade => b
                .uri("/chat")
                .header("host", "example.com")
                .header("connection", "upgrade")
                .header("upgrade", "websocket"),
        };
        b.body(()).expect("valid request")
    }
}

/// A client connection that has sent `requests` (pipelined), output taken.
pub fn client_with(config: Config, requests: &[ClientRequest]) -> Connection {
    let mut conn = Connection::new(Role::Client, config);
    for r in requests {
        conn.send_request(r.request()).expect("send_request");
        conn.send_end().expect("send_end");
    }
    take_output(&mut conn);
    conn
}

/// What a fed connection reported, comparable across splits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Events, data merged, `Paused` left out, `Finished` recorded once (it
    /// is repeated on every later poll). An `Upgrade`'s leftover has
    /// the input not handed in yet appended, so that it is exactly the
    /// bytes past the last HTTP message however the input was split.
    pub events: Vec<Ev>,
}

/// Feeds input to one connection in pieces, checking the properties.
pub struct Driver {
    /// The connection under test.
    pub conn: Connection,
    bound: usize,
    events: Vec<Ev>,
    error: Option<Error>,
    /// Server: the request being received: whether it is CONNECT, and
    /// the protocol it asks to upgrade to.
    current: Option<(bool, Option<Vec<u8>>)>,
    /// Server: the answers it sent (status codes), in order.
    pub answers: Vec<u16>,
    upgraded: bool,
    finished: bool,
    closed: bool,
}

impl Driver {
    /// A driver for `conn`; `bound` is checked at every `NeedData`.
    pub fn new(conn: Connection) -> Self {
        let bound = buffer_bound(conn.config());
        Driver {
            conn,
            bound,
            events: Vec::new(),
            error: None,
            current: None,
            answers: Vec::new(),
            upgraded: false,
            finished: false,
            closed: false,
        }
    }

    /// Feeds `input` in pieces ending at `cuts` (sorted, within the input)
    /// and then the rest, polling after each; then the end of input if
    /// `eof`. Stops feeding at an `Upgrade`.
    pub fn feed(mut self, input: &[u8], cuts: &[usize], eof: bool) -> Outcome {
        let mut start = 0;
        for end in cuts.iter().copied().chain([input.len()]) {
            if end <= start || end > input.len() {
                continue;
            }
            if self.upgraded {
                break;
            }
            if let Err(e) = self.conn.receive(&input[start..end]) {
                panic!("input refused: {e:?} (events so far {:?})", self.events);
            }
            start = end;
            self.poll();
        }
        if self.upgraded {
            let rest = &input[start..];
            match self.events.last_mut() {
                Some(Ev::Upgrade(leftover)) => leftover.extend_from_slice(rest),
                other => panic!("upgrade not last: {other:?}"),
            }
            let refused = self
                .conn
                .receive(b"more")
                .expect_err("input after a switch is refused");
            assert_eq!(refused, Error::Misuse(Misuse::InputAfterSwitch));
            assert!(!refused.is_remote());
        } else if eof {
            if let Err(e) = self.conn.receive_eof() {
                panic!("end of input refused: {e:?}");
            }
            self.poll();
        }
        Outcome {
            events: merge_data(self.events),
        }
    }

    /// Polls until the connection waits for data or stops.
    fn poll(&mut self) {
        for _ in 0..100_000 {
            let event = self.conn.poll_event();
            if let Some(first) = &self.error {
                assert_eq!(event.as_ref().err(), Some(first), "errors are sticky");
                return;
            }
            if self.closed {
                assert!(
                    matches!(event, Ok(Event::Closed)),
                    "closed is returned again, got {event:?}"
                );
                return;
            }
            if self.finished && !matches!(event, Ok(Event::Closed)) {
                // Until the input ends: then the peer's close is reported.
                assert!(
                    matches!(event, Ok(Event::Finished)),
                    "finished is returned again, got {event:?}"
                );
                return;
            }
            let event = match event {
                Ok(event) => event,
                Err(e) => return self.failed(e),
            };
            if let Some(ev) = summarize(&event).filter(|ev| *ev != Ev::Paused) {
                assert!(!self.upgraded, "event after the upgrade: {ev:?}");
                self.events.push(ev);
            }
            match event {
                Event::NeedData => {
                    let held = self.conn.buffered_len();
                    assert!(
                        held <= self.bound,
                        "holds {held} bytes at NeedData, bound {}",
                        self.bound
                    );
                    return;
                }
                Event::Paused => return,
                Event::Finished => {
                    self.finished = true;
                    return;
                }
                Event::Closed => {
                    self.closed = true;
                    return;
                }
                Event::Upgrade { .. } => {
                    self.upgraded = true;
                    // Nothing follows an upgrade.
                    assert!(matches!(self.conn.poll_event(), Ok(Event::Finished)));
                    assert!(matches!(self.conn.poll_event(), Ok(Event::Finished)));
                    return;
                }
                Event::Request(head) => {
                    assert_eq!(self.conn.role(), Role::Server);
                    let upgrade = head.requested_upgrade().map(<[u8]>::to_vec);
                    self.current = Some((head.is_method(&Method::CONNECT), upgrade));
                }
                Event::End if self.conn.role() == Role::Server => self.answer(),
                _ => {}
            }
        }
        panic!("poll_event did not settle in 100000 steps");
    }

    fn failed(&mut self, e: Error) {
        assert!(e.is_remote(), "receive error not blamed on the peer: {e:?}");
        let status = e.status().map(|s| s.as_u16());
        assert!(
            status.is_some_and(|s| ERROR_STATUSES.contains(&s)),
            "{e:?} suggests {status:?}"
        );
        if self.conn.role() == Role::Server {
            // A server may still answer with the suggested status, then closes.
            assert!(
                self.conn.send_error_response(&e),
                "error response refused after {e:?}"
            );
            take_output(&mut self.conn);
            assert!(self.conn.is_close_wanted(), "no close after an error response");
        }
        let again = self.conn.poll_event();
        assert_eq!(again.as_ref().err(), Some(&e), "errors are sticky");
        self.events.push(Ev::Error(e.clone()));
        self.error = Some(e);
    }

    /// Server: answers the request that just ended: `200` (switching) to
    /// CONNECT, `101` naming the protocol asked for to an upgrade request,
    /// otherwise `200` with an empty body.
    fn answer(&mut self) {
        let (connect, upgrade) = self.current.take().expect("End without a request");
        let (res, status) = match (connect, &upgrade) {
            (true, _) => (ResponseHead::new(StatusCode::OK), 200),
            (false, Some(protocol)) => {
                let mut res = ResponseHead::new(StatusCode::SWITCHING_PROTOCOLS);
                res.fields_mut()
                    .append("connection", "upgrade")
                    .expect("valid field");
                res.fields_mut()
                    .append("upgrade", protocol)
                    .expect("a received token");
                (res, 101)
            }
            (false, None) => {
                let mut res = ResponseHead::new(StatusCode::OK);
                res.fields_mut()
                    .append("content-length", "0")
                    .expect("valid field");
                (res, 200)
            }
        };
        if let Err(e) = self.conn.send_response(res) {
            panic!("answer {status} (CONNECT: {connect}, upgrade: {upgrade:?}) refused: {e:?}");
        }
        if status == 200 && !connect {
            self.conn.send_end().expect("answer end");
        }
        self.answers.push(status);
        take_output(&mut self.conn);
    }
}

/// Feeds `input` to fresh connections made by `make`, whole and cut at
/// `cuts` (and one byte at a time if `bytewise`), checking the driver's
/// properties on each, and that all report the same events. Returns what
/// feeding it whole reported.
pub fn split_invariant(
    make: &dyn Fn() -> Connection,
    input: &[u8],
    cuts: &[usize],
    bytewise: bool,
    eof: bool,
) -> Outcome {
    let whole = Driver::new(make()).feed(input, &[], eof);
    let split = Driver::new(make()).feed(input, cuts, eof);
    assert_eq!(split, whole, "cut at {cuts:?}");
    if bytewise {
        let bytes = Driver::new(make()).feed(input, &every_byte(input.len()), eof);
        assert_eq!(bytes, whole, "one byte at a time");
    }
    whole
}

/// Body bytes as `Bytes`.
pub fn bytes(data: &[u8]) -> Bytes {
    Bytes::copy_from_slice(data)
}

/// [`h1_tests::drain`] checking the buffer bound at `NeedData`, with the
/// final `Paused` left out and data merged.
pub fn drain_checked(conn: &mut Connection) -> Vec<Ev> {
    let bound = buffer_bound(conn.config());
    let mut out = drain_with(conn, |conn| {
        let held = conn.buffered_len();
        assert!(held <= bound, "holds {held} bytes at NeedData, bound {bound}");
    });
    if out.last() == Some(&Ev::Paused) {
        out.pop();
    }
    merge_data(out)
}
