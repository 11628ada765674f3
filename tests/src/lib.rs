//! Test support for h1: a client/server [`Pair`] joined by an in-memory
//! wire, comparable event summaries ([`Ev`]), and feeding helpers that cut
//! the input at given points.
//!
//! What one side sends, the other receives: transcript tests drive both
//! ends of an exchange and compare the kinds of events each side saw.

use bytes::Bytes;
use h1::http::{Request, Response};
use h1::{Config, Connection, Error, Event, FieldLines, Role};

/// Field lines as (lowercase name, value) pairs, in order.
pub type Fields = Vec<(String, Vec<u8>)>;

/// A comparable summary of an [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    /// A request head.
    Request {
        /// Method.
        method: String,
        /// Request-target as a string.
        target: String,
        /// Field lines, lowercase names.
        headers: Fields,
    },
    /// An informational response head.
    Informational(u16),
    /// A final response head (or 101).
    Response {
        /// Status code.
        status: u16,
        /// Field lines, lowercase names.
        headers: Fields,
    },
    /// Body bytes.
    Data(Vec<u8>),
    /// Trailer fields.
    Trailers(Fields),
    /// End of message.
    End,
    /// Switched protocols, with the leftover bytes.
    Upgrade(Vec<u8>),
    /// The peer closed at a message boundary.
    Closed,
    /// Paused until we act.
    Paused,
    /// Nothing more will be read.
    Finished,
    /// A receive error.
    Error(Error),
}

impl Ev {
    /// A short name for the kind of event, for transcripts.
    pub fn kind(&self) -> &'static str {
        match self {
            Ev::Request { .. } => "request",
            Ev::Informational(_) => "informational",
            Ev::Response { .. } => "response",
            Ev::Data(_) => "data",
            Ev::Trailers(_) => "trailers",
            Ev::End => "end",
            Ev::Upgrade(_) => "upgrade",
            Ev::Closed => "closed",
            Ev::Paused => "paused",
            Ev::Finished => "finished",
            Ev::Error(_) => "error",
        }
    }
}

/// Field lines in order, names lowercased, for comparison.
pub fn fields(lines: &FieldLines) -> Fields {
    lines
        .iter()
        .map(|f| {
            (
                String::from_utf8_lossy(f.name()).to_ascii_lowercase(),
                f.value().to_vec(),
            )
        })
        .collect()
}

/// Field lines in order exactly as they are: names in their case.
pub fn wire_fields(lines: &FieldLines) -> Vec<(Vec<u8>, Vec<u8>)> {
    lines
        .iter()
        .map(|f| (f.name().to_vec(), f.value().to_vec()))
        .collect()
}

/// Field lines sorted by name; lines with the same name keep their order
/// (it is significant, RFC 9110 section 5.3). The order of differently
/// named fields is not, so comparisons may ignore it.
pub fn by_name(mut fields: Fields) -> Fields {
    fields.sort_by(|a, b| a.0.cmp(&b.0)); // stable
    fields
}

/// Events with their field lists in [`by_name`] order.
pub fn normalized(events: Vec<Ev>) -> Vec<Ev> {
    events
        .into_iter()
        .map(|ev| match ev {
            Ev::Request {
                method,
                target,
                headers,
            } => Ev::Request {
                method,
                target,
                headers: by_name(headers),
            },
            Ev::Response { status, headers } => Ev::Response {
                status,
                headers: by_name(headers),
            },
            Ev::Trailers(t) => Ev::Trailers(by_name(t)),
            ev => ev,
        })
        .collect()
}

/// A summary of a successful poll; `None` for `NeedData`.
pub fn summarize(event: &Event) -> Option<Ev> {
    Some(match event {
        Event::Request(r) => Ev::Request {
            method: String::from_utf8_lossy(r.method()).into_owned(),
            target: String::from_utf8_lossy(r.target()).into_owned(),
            headers: fields(r.fields()),
        },
        Event::Informational(r) => Ev::Informational(r.status().as_u16()),
        Event::Response(r) => Ev::Response {
            status: r.status().as_u16(),
            headers: fields(r.fields()),
        },
        Event::Data(d) => Ev::Data(d.to_vec()),
        Event::Trailers(t) => Ev::Trailers(fields(t)),
        Event::End => Ev::End,
        Event::Upgrade { leftover } => Ev::Upgrade(leftover.to_vec()),
        Event::Closed => Ev::Closed,
        Event::Paused => Ev::Paused,
        Event::Finished => Ev::Finished,
        Event::NeedData => return None,
        other => unreachable!("h1-tests knows every event, not {other:?}"),
    })
}

/// Polls `conn` until it needs data, pauses, errs, or reports a terminal
/// event (closed, upgrade). `Paused` is recorded; `NeedData` is not.
/// Bounded: a connection that kept producing events would be a bug.
pub fn drain(conn: &mut Connection) -> Vec<Ev> {
    drain_with(conn, |_| {})
}

/// [`drain`], calling `at_need_data` with the connection when it reports
/// `NeedData` (which ends the drain): the place to check what it holds
/// while it waits.
pub fn drain_with(conn: &mut Connection, at_need_data: impl FnOnce(&Connection)) -> Vec<Ev> {
    let mut out = Vec::new();
    for _ in 0..100_000 {
        match conn.poll_event() {
            Ok(event) => match summarize(&event) {
                None => {
                    at_need_data(conn);
                    return out;
                }
                Some(ev) => {
                    let stop = matches!(ev, Ev::Paused | Ev::Closed | Ev::Upgrade(_) | Ev::Finished);
                    out.push(ev);
                    if stop {
                        return out;
                    }
                }
            },
            Err(e) => {
                out.push(Ev::Error(e));
                return out;
            }
        }
    }
    panic!("poll_event did not settle in 100000 steps");
}

/// Merges adjacent `Data` events (data may be split anywhere).
pub fn merge_data(events: Vec<Ev>) -> Vec<Ev> {
    let mut out: Vec<Ev> = Vec::with_capacity(events.len());
    for ev in events {
        match (out.last_mut(), ev) {
            (Some(Ev::Data(prev)), Ev::Data(more)) => prev.extend_from_slice(&more),
            (_, Ev::Data(d)) if d.is_empty() => {}
            (_, ev) => out.push(ev),
        }
    }
    out
}

/// The event kinds of a transcript.
pub fn kinds(events: &[Ev]) -> Vec<&'static str> {
    events.iter().map(Ev::kind).collect()
}

/// Everything `conn` wants to write, concatenated.
pub fn take_output(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(b) = conn.poll_output() {
        out.extend_from_slice(&b);
    }
    out
}

/// Feeds `input` to `conn` in pieces ending at each of `cuts` (sorted,
/// within the input) and then the rest, draining after each piece, then
/// signals end of input if `eof`. A server's requests are answered by
/// `answer` when their `End` arrives (it may send nothing). Stops at the
/// first terminal event; data merged.
pub fn feed(
    conn: &mut Connection,
    input: &[u8],
    cuts: &[usize],
    eof: bool,
    answer: &mut dyn FnMut(&mut Connection),
) -> Vec<Ev> {
    let mut events = Vec::new();
    let mut start = 0;
    let ends = cuts
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < input.len())
        .chain([input.len()]);
    let mut finished = false;
    for end in ends {
        if end <= start {
            continue;
        }
        if conn.receive(&input[start..end]).is_err() {
            break;
        }
        start = end;
        if run(conn, &mut events, answer) {
            finished = true;
            break;
        }
    }
    if eof && !finished && conn.receive_eof().is_ok() {
        run(conn, &mut events, answer);
    }
    merge_data(events)
}

/// Drains, answering at each request end; returns whether a terminal
/// event (error, closed, upgrade) was reached.
fn run(conn: &mut Connection, events: &mut Vec<Ev>, answer: &mut dyn FnMut(&mut Connection)) -> bool {
    loop {
        let batch = drain(conn);
        let mut answered = false;
        for ev in batch {
            let end = ev == Ev::End;
            let terminal = matches!(ev, Ev::Error(_) | Ev::Closed | Ev::Upgrade(_) | Ev::Finished);
            let paused = ev == Ev::Paused;
            if !paused {
                events.push(ev);
            }
            if terminal {
                return true;
            }
            if end && conn.role() == Role::Server {
                answer(conn);
                answered = true;
            }
        }
        if !answered {
            return false;
        }
    }
}

/// A server answer for [`feed`]: `200` with `content-length: 0`.
pub fn answer_empty_200(conn: &mut Connection) {
    let res = Response::builder()
        .header("content-length", "0")
        .body(())
        .expect("valid");
    conn.send_response(res).expect("answer");
    conn.send_end().expect("answer end");
    take_output(conn);
}

/// A client and a server connection joined by an in-memory wire.
pub struct Pair {
    /// The client end.
    pub client: Connection,
    /// The server end.
    pub server: Connection,
}

impl Default for Pair {
    fn default() -> Self {
        Self::new()
    }
}

impl Pair {
    /// Both ends with the default configuration.
    pub fn new() -> Self {
        Self::with_config(Config::default(), Config::default())
    }

    /// Both ends with the given configurations.
    pub fn with_config(client: Config, server: Config) -> Self {
        Pair {
            client: Connection::new(Role::Client, client),
            server: Connection::new(Role::Server, server),
        }
    }

    /// Moves the client's output to the server and returns the server's events.
    pub fn to_server(&mut self) -> Vec<Ev> {
        let bytes = take_output(&mut self.client);
        if !bytes.is_empty() {
            self.server.receive(&bytes).expect("server takes input");
        }
        merge_data(drain(&mut self.server))
    }

    /// Moves the server's output to the client and returns the client's events.
    pub fn to_client(&mut self) -> Vec<Ev> {
        let bytes = take_output(&mut self.server);
        if !bytes.is_empty() {
            self.client.receive(&bytes).expect("client takes input");
        }
        merge_data(drain(&mut self.client))
    }

    /// Client sends a whole request (head, body, end).
    pub fn send_request(&mut self, req: Request<()>, body: &[u8]) -> Result<(), Error> {
        self.client.send_request(req)?;
        if !body.is_empty() {
            self.client.send_data(Bytes::copy_from_slice(body))?;
        }
        self.client.send_end()
    }

    /// Server sends a whole response (head, body, end).
    pub fn send_response(&mut self, res: Response<()>, body: &[u8]) -> Result<(), Error> {
        self.server.send_response(res)?;
        if !body.is_empty() {
            self.server.send_data(Bytes::copy_from_slice(body))?;
        }
        self.server.send_end()
    }
}

// ---- limits -----------------------------------------------------------------

/// Slack over the largest section limit in the bound on held bytes.
///
/// While waiting for input a connection holds at most one unfinished
/// section (a head, a chunk-size line or a trailer section), each capped
/// by its limit, plus at most the CR of a chunk's data CRLF; body data is
/// handed out as soon as it arrives. The limits count a section's line
/// terminators, but a parser may only notice a limit once the line's
/// CR LF arrives, so two bytes are allowed past it. (h1 currently keeps
/// within the limit exactly.)
pub const BUFFER_SLACK: usize = 2;

/// The most bytes a connection under `config` may hold while it waits for
/// data: its largest section limit plus [`BUFFER_SLACK`].
pub fn buffer_bound(config: &Config) -> usize {
    let l = &config.limits;
    l.head_size.max(l.chunk_line).max(l.trailer_size) + BUFFER_SLACK
}

/// The default configuration with every leniency switch on, or all off.
pub fn with_leniency(lenient: bool) -> Config {
    let mut config = Config::default();
    config.lenient.bare_lf = lenient;
    config.lenient.identical_content_lengths = lenient;
    config.response_obs_fold = if lenient {
        h1::ObsFold::Unfold
    } else {
        h1::ObsFold::Reject
    };
    config
}

/// Small limits, so that random input reaches them; optionally with
/// every leniency switch on, which changes how lines may end.
pub fn small_config(lenient: bool) -> Config {
    let mut config = with_leniency(lenient);
    config.limits.head_size = 256;
    config.limits.header_count = 8;
    config.limits.trailer_size = 128;
    config.limits.chunk_line = 32;
    config.limits.request_target = 64;
    config
}
