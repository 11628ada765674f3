//! Property tests for h1.
//!
//! 1. **Split invariance**: a valid byte stream gives the same events
//!    whether it is fed whole, one byte at a time, or cut at random points,
//!    and those events are the ones the generated model predicts.
//! 2. **Round trip**: a request sent by a client connection arrives at a
//!    server connection unchanged (method, target, fields, body, trailers),
//!    and likewise a response from server to client.
//! 3. **Robustness**: arbitrary bytes (and HTTP-ish ones) never panic,
//!    never make a connection hold more than its limits while it waits for
//!    data, and only produce sticky errors blamed on the peer that a server
//!    can still answer with a 4xx/5xx; and the verdict, like the events,
//!    does not depend on how the input was split.
//!
//! Expectations are computed from the generated model, never from the
//! code under test.

use bytes::Bytes;
use h1::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response};
use h1::{Config, Connection, Error, Event, Role};
use h1_tests::{
    buffer_bound, drain, feed, merge_data, normalized, small_config, take_output, Ev, Fields, Pair,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, Index};

// ---- shared helpers ---------------------------------------------------------

/// Sorted, deduplicated cut points within `0..=len` from random indices.
fn cut_points(indices: &[Index], len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = indices.iter().map(|i| i.index(len + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

/// Every cut point: the input is fed one byte at a time.
fn every_byte(len: usize) -> Vec<usize> {
    (1..len).collect()
}

fn field_pair(name: &str, value: &str) -> (String, Vec<u8>) {
    (name.to_owned(), value.as_bytes().to_vec())
}

/// `x-foo-bar` as `X-Foo-Bar`: field names are case-insensitive.
fn capitalized(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(c) => c.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A field value: visible ASCII with inner spaces, possibly empty.
fn field_value() -> &'static str {
    "([!-~]([ !-~]{0,18}[!-~])?)?"
}

// ---- generated wire messages (property 1) -----------------------------------

/// One field line as it goes on the wire.
#[derive(Clone, Debug)]
struct Field {
    /// Lowercase name.
    name: String,
    /// Value without surrounding whitespace.
    value: String,
    /// Send the name capitalized.
    upper: bool,
    /// Optional whitespace around the value, which is not part of it
    /// (RFC 9112 section 5.1).
    before: &'static str,
    after: &'static str,
}

impl Field {
    fn render(&self, out: &mut Vec<u8>) {
        let name = if self.upper {
            capitalized(&self.name)
        } else {
            self.name.clone()
        };
        let line = format!("{name}:{}{}{}\r\n", self.before, self.value, self.after);
        out.extend_from_slice(line.as_bytes());
    }

    fn expected(&self) -> (String, Vec<u8>) {
        field_pair(&self.name, &self.value)
    }
}

const OWS: [&str; 5] = ["", " ", " ", "\t", " \t "];

fn field(prefix: &'static str) -> impl Strategy<Value = Field> {
    (
        "[a-z]{1,10}",
        field_value(),
        any::<bool>(),
        select(OWS.to_vec()),
        select(OWS.to_vec()),
    )
        .prop_map(move |(name, value, upper, before, after)| Field {
            name: format!("{prefix}{name}"),
            value,
            upper,
            before,
            after,
        })
}

/// Chunk extensions, all valid per RFC 9112 section 7.1.1:
/// `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`.
const EXTENSIONS: [&str; 9] = [
    "",
    "",
    ";a=b",
    ";q=\"x y\"",
    ";n",
    " ; a = b",
    ";a=b;c=\"d\\\"e\"",
    ";x=\"\"",
    "\t;t",
];

#[derive(Clone, Debug)]
struct Chunk {
    data: Vec<u8>,
    ext: &'static str,
    upper_hex: bool,
    zeros: usize,
}

#[derive(Clone, Debug)]
struct Chunked {
    chunks: Vec<Chunk>,
    last_ext: &'static str,
    last_zeros: usize,
    trailers: Vec<Field>,
}

impl Chunked {
    fn render(&self, out: &mut Vec<u8>) {
        for c in &self.chunks {
            let size = if c.upper_hex {
                format!("{:X}", c.data.len())
            } else {
                format!("{:x}", c.data.len())
            };
            out.extend_from_slice(format!("{}{size}{}\r\n", "0".repeat(c.zeros), c.ext).as_bytes());
            out.extend_from_slice(&c.data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("{}{}\r\n", "0".repeat(1 + self.last_zeros), self.last_ext).as_bytes());
        for t in &self.trailers {
            t.render(out);
        }
        out.extend_from_slice(b"\r\n");
    }

    fn body(&self) -> Vec<u8> {
        self.chunks.iter().flat_map(|c| c.data.iter().copied()).collect()
    }

    fn trailers(&self) -> Fields {
        self.trailers.iter().map(Field::expected).collect()
    }
}

fn chunked() -> impl Strategy<Value = Chunked> {
    let chunk = (
        vec(any::<u8>(), 1..40),
        select(EXTENSIONS.to_vec()),
        any::<bool>(),
        0..3usize,
    )
        .prop_map(|(data, ext, upper_hex, zeros)| Chunk {
            data,
            ext,
            upper_hex,
            zeros,
        });
    (
        vec(chunk, 0..5),
        select(EXTENSIONS.to_vec()),
        0..3usize,
        vec(field("x-t-"), 0..3),
    )
        .prop_map(|(chunks, last_ext, last_zeros, trailers)| Chunked {
            chunks,
            last_ext,
            last_zeros,
            trailers,
        })
}

/// Data, trailers and end events for a body, as the model predicts them.
fn body_events(body: &[u8], trailers: Fields, out: &mut Vec<Ev>) {
    if !body.is_empty() {
        out.push(Ev::Data(body.to_vec()));
    }
    if !trailers.is_empty() {
        out.push(Ev::Trailers(trailers));
    }
    out.push(Ev::End);
}

#[derive(Clone, Debug)]
enum ReqBody {
    None,
    Length(Vec<u8>),
    Chunked(Chunked),
}

#[derive(Clone, Debug)]
struct WireRequest {
    /// An empty line before the request line, which a server ignores
    /// (RFC 9112 section 2.2).
    leading_crlf: bool,
    target: String,
    fields: Vec<Field>,
    body: ReqBody,
}

impl WireRequest {
    fn method(&self) -> &'static str {
        match self.body {
            ReqBody::None => "GET",
            _ => "POST",
        }
    }

    fn render(&self, out: &mut Vec<u8>) {
        if self.leading_crlf {
            out.extend_from_slice(b"\r\n");
        }
        let line = format!(
            "{} {} HTTP/1.1\r\nHost: example.com\r\n",
            self.method(),
            self.target
        );
        out.extend_from_slice(line.as_bytes());
        for f in &self.fields {
            f.render(out);
        }
        match &self.body {
            ReqBody::None => out.extend_from_slice(b"\r\n"),
            ReqBody::Length(body) => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                out.extend_from_slice(body);
            }
            ReqBody::Chunked(c) => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                c.render(out);
            }
        }
    }

    fn expected(&self, out: &mut Vec<Ev>) {
        let mut headers = vec![field_pair("host", "example.com")];
        headers.extend(self.fields.iter().map(Field::expected));
        match &self.body {
            ReqBody::None => {}
            ReqBody::Length(body) => headers.push(field_pair("content-length", &body.len().to_string())),
            ReqBody::Chunked(_) => headers.push(field_pair("transfer-encoding", "chunked")),
        }
        out.push(Ev::Request {
            method: self.method().to_owned(),
            target: self.target.clone(),
            headers,
        });
        match &self.body {
            ReqBody::None => body_events(&[], Vec::new(), out),
            ReqBody::Length(body) => body_events(body, Vec::new(), out),
            ReqBody::Chunked(c) => body_events(&c.body(), c.trailers(), out),
        }
    }
}

fn target() -> impl Strategy<Value = String> {
    ("/[a-z0-9/]{0,20}", option::of("[a-z0-9=&]{1,10}")).prop_map(|(path, query)| match query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    })
}

fn wire_request() -> impl Strategy<Value = WireRequest> {
    let body = prop_oneof![
        Just(ReqBody::None),
        vec(any::<u8>(), 0..100).prop_map(ReqBody::Length),
        chunked().prop_map(ReqBody::Chunked),
    ];
    (any::<bool>(), target(), vec(field("x-"), 0..4), body).prop_map(
        |(leading_crlf, target, fields, body)| WireRequest {
            leading_crlf,
            target,
            fields,
            body,
        },
    )
}

const UPGRADE_REQUEST: &[u8] =
    b"GET /chat HTTP/1.1\r\nHost: example.com\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n";

fn upgrade_request_events(out: &mut Vec<Ev>) {
    out.push(Ev::Request {
        method: "GET".to_owned(),
        target: "/chat".to_owned(),
        headers: vec![
            field_pair("host", "example.com"),
            field_pair("connection", "upgrade"),
            field_pair("upgrade", "websocket"),
        ],
    });
    out.push(Ev::End);
}

/// Answers request number `index`: `101` switching to websocket for the
/// upgrade request (no `send_end`: the switch is immediate), otherwise
/// `200` with an empty body.
fn answer(conn: &mut Connection, index: usize, upgrade_at: Option<usize>) {
    if Some(index) == upgrade_at {
        let res = Response::builder()
            .status(101)
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .body(())
            .expect("valid 101");
        conn.send_response(res).expect("101 to an upgrade request");
    } else {
        let res = Response::builder()
            .header("content-length", "0")
            .body(())
            .expect("valid 200");
        conn.send_response(res).expect("answer");
        conn.send_end().expect("answer end");
    }
    take_output(conn);
}

/// Feeds `input` to a fresh server in pieces ending at `cuts`, answering
/// each request at its end, until a terminal event. The `Upgrade` leftover
/// is returned with the input that was not handed in yet appended, so it
/// can be compared across splits: together they must be exactly the bytes
/// past the upgrade request.
fn feed_server(input: &[u8], cuts: &[usize], eof: bool, upgrade_at: Option<usize>) -> Vec<Ev> {
    let mut conn = Connection::new(Role::Server, Config::default());
    let mut events = Vec::new();
    let mut answered = 0;
    let mut start = 0;
    let mut ends: Vec<usize> = cuts
        .iter()
        .copied()
        .filter(|&c| c > 0 && c < input.len())
        .collect();
    ends.push(input.len());
    let mut terminal = false;
    for end in ends {
        if end <= start {
            continue;
        }
        conn.receive(&input[start..end]).expect("input accepted");
        start = end;
        if run_server(&mut conn, &mut events, &mut answered, upgrade_at) {
            terminal = true;
            break;
        }
    }
    if eof && !terminal {
        conn.receive_eof().expect("eof accepted");
        run_server(&mut conn, &mut events, &mut answered, upgrade_at);
    }
    if let Some(Ev::Upgrade(leftover)) = events.last_mut() {
        leftover.extend_from_slice(&input[start..]);
        let refused = conn
            .receive(b"more")
            .expect_err("input after the switch is refused");
        assert!(!refused.is_remote(), "{refused:?}");
    }
    merge_data(events)
}

/// Drains the server, answering at each request end; whether a terminal
/// event (error, closed, upgrade) was reached.
fn run_server(
    conn: &mut Connection,
    events: &mut Vec<Ev>,
    answered: &mut usize,
    upgrade_at: Option<usize>,
) -> bool {
    loop {
        let mut answered_now = false;
        for ev in drain(conn) {
            let end = ev == Ev::End;
            let terminal = matches!(ev, Ev::Error(_) | Ev::Closed | Ev::Upgrade(_));
            if ev != Ev::Paused {
                events.push(ev);
            }
            if terminal {
                return true;
            }
            if end {
                answer(conn, *answered, upgrade_at);
                *answered += 1;
                answered_now = true;
            }
        }
        if !answered_now {
            return false;
        }
    }
}

#[derive(Clone, Debug)]
enum ResBody {
    Length(Vec<u8>),
    Chunked(Chunked),
    /// `204`: no body, no framing.
    NoContent,
    /// A response to HEAD announcing a length but carrying no body.
    HeadLength(u64),
    /// No framing: the body runs to the end of the connection.
    CloseDelimited(Vec<u8>),
}

#[derive(Clone, Debug)]
struct Informational {
    status: u16,
    fields: Vec<Field>,
}

#[derive(Clone, Debug)]
struct WireResponse {
    /// The request was HEAD (otherwise GET).
    head: bool,
    informational: Vec<Informational>,
    status: u16,
    reason: &'static str,
    fields: Vec<Field>,
    body: ResBody,
}

impl WireResponse {
    fn status(&self) -> u16 {
        match self.body {
            ResBody::NoContent => 204,
            _ => self.status,
        }
    }

    fn render(&self, out: &mut Vec<u8>) {
        for info in &self.informational {
            out.extend_from_slice(format!("HTTP/1.1 {} Whatever\r\n", info.status).as_bytes());
            for f in &info.fields {
                f.render(out);
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", self.status(), self.reason).as_bytes());
        for f in &self.fields {
            f.render(out);
        }
        match &self.body {
            ResBody::Length(body) => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                out.extend_from_slice(body);
            }
            ResBody::Chunked(c) => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                c.render(out);
            }
            ResBody::NoContent => out.extend_from_slice(b"\r\n"),
            ResBody::HeadLength(n) => {
                out.extend_from_slice(format!("Content-Length: {n}\r\n\r\n").as_bytes())
            }
            ResBody::CloseDelimited(body) => {
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(body);
            }
        }
    }

    fn expected(&self, out: &mut Vec<Ev>) {
        for info in &self.informational {
            out.push(Ev::Informational(info.status));
        }
        let mut headers: Fields = self.fields.iter().map(Field::expected).collect();
        match &self.body {
            ResBody::Length(body) => headers.push(field_pair("content-length", &body.len().to_string())),
            ResBody::Chunked(_) => headers.push(field_pair("transfer-encoding", "chunked")),
            ResBody::HeadLength(n) => headers.push(field_pair("content-length", &n.to_string())),
            ResBody::NoContent | ResBody::CloseDelimited(_) => {}
        }
        out.push(Ev::Response {
            status: self.status(),
            headers,
        });
        match &self.body {
            ResBody::Length(body) | ResBody::CloseDelimited(body) => body_events(body, Vec::new(), out),
            ResBody::Chunked(c) => body_events(&c.body(), c.trailers(), out),
            ResBody::NoContent | ResBody::HeadLength(_) => body_events(&[], Vec::new(), out),
        }
    }
}

/// Final statuses that have a body (not 1xx, 204 or 304).
const STATUSES: [u16; 8] = [200, 201, 203, 206, 299, 404, 500, 599];
const REASONS: [&str; 3] = ["OK", "", "Some Reason"];

fn wire_response() -> impl Strategy<Value = WireResponse> {
    let informational = (select(vec![100u16, 103]), vec(field("x-i-"), 0..2))
        .prop_map(|(status, fields)| Informational { status, fields });
    (
        any::<bool>(),
        vec(informational, 0..3),
        select(STATUSES.to_vec()),
        select(REASONS.to_vec()),
        vec(field("x-"), 0..4),
        0..4u8,
        vec(any::<u8>(), 0..100),
        chunked(),
        0..100_000u64,
    )
        .prop_map(
            |(head, informational, status, reason, fields, kind, data, chunked, n)| {
                let body = match (head, kind) {
                    (true, 0 | 1) => ResBody::HeadLength(n),
                    (true, _) => ResBody::NoContent,
                    (false, 0) => ResBody::Length(data),
                    (false, 1) => ResBody::Chunked(chunked),
                    (false, 2) => ResBody::NoContent,
                    (false, _) => ResBody::CloseDelimited(data),
                };
                WireResponse {
                    head,
                    informational,
                    status,
                    reason,
                    fields,
                    body,
                }
            },
        )
}

/// A client that has sent one request (HEAD or GET) per response, pipelined.
fn client_awaiting(responses: &[WireResponse]) -> Connection {
    let mut conn = Connection::new(Role::Client, Config::default());
    for (i, r) in responses.iter().enumerate() {
        let req = Request::builder()
            .method(if r.head { Method::HEAD } else { Method::GET })
            .uri(format!("/r{i}"))
            .header("host", "example.com")
            .body(())
            .expect("valid request");
        conn.send_request(req).expect("send request");
        conn.send_end().expect("end request");
    }
    take_output(&mut conn);
    conn
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Pipelined requests, possibly ending with an upgrade and bytes of
    /// the new protocol, give the model's events however they are split.
    #[test]
    fn server_split_invariance(
        requests in vec(wire_request(), 1..5),
        upgrade_tail in option::of(vec(any::<u8>(), 0..64)),
        eof in any::<bool>(),
        cuts in vec(any::<Index>(), 0..12),
    ) {
        let mut input = Vec::new();
        let mut expected = Vec::new();
        for r in &requests {
            r.render(&mut input);
            r.expected(&mut expected);
        }
        let upgrade_at = upgrade_tail.as_ref().map(|_| requests.len());
        let eof = eof && upgrade_tail.is_none();
        match &upgrade_tail {
            Some(tail) => {
                input.extend_from_slice(UPGRADE_REQUEST);
                upgrade_request_events(&mut expected);
                input.extend_from_slice(tail);
                expected.push(Ev::Upgrade(tail.clone()));
            }
            None if eof => expected.push(Ev::Closed),
            None => {}
        }

        let whole = feed_server(&input, &[], eof, upgrade_at);
        prop_assert_eq!(normalized(whole.clone()), normalized(expected));
        let bytewise = feed_server(&input, &every_byte(input.len()), eof, upgrade_at);
        prop_assert_eq!(&bytewise, &whole, "one byte at a time");
        let random = feed_server(&input, &cut_points(&cuts, input.len()), eof, upgrade_at);
        prop_assert_eq!(&random, &whole, "random cuts");
    }

    /// Responses to pipelined GET and HEAD requests give the model's events
    /// however they are split.
    #[test]
    fn client_split_invariance(
        mut responses in vec(wire_response(), 1..5),
        eof in any::<bool>(),
        cuts in vec(any::<Index>(), 0..12),
    ) {
        // A close-delimited body can only be the last response.
        let last = responses.len() - 1;
        for r in &mut responses[..last] {
            if let ResBody::CloseDelimited(body) = &r.body {
                r.body = ResBody::Length(body.clone());
            }
        }
        let eof = eof || matches!(responses[last].body, ResBody::CloseDelimited(_));

        let mut input = Vec::new();
        let mut expected = Vec::new();
        for r in &responses {
            r.render(&mut input);
            r.expected(&mut expected);
        }
        if eof {
            expected.push(Ev::Closed);
        }

        let mut none = |_: &mut Connection| {};
        let whole = feed(&mut client_awaiting(&responses), &input, &[], eof, &mut none);
        prop_assert_eq!(normalized(whole.clone()), normalized(expected));
        let bytewise = every_byte(input.len());
        let bytewise = feed(&mut client_awaiting(&responses), &input, &bytewise, eof, &mut none);
        prop_assert_eq!(&bytewise, &whole, "one byte at a time");
        let cuts = cut_points(&cuts, input.len());
        let random = feed(&mut client_awaiting(&responses), &input, &cuts, eof, &mut none);
        prop_assert_eq!(&random, &whole, "random cuts");
    }
}

/// The smallest case of the client property above, kept as a plain test:
/// a `100 Continue` then the final response, one byte at a time. Each
/// head is parsed on its own (RFC 9110 section 15.2: a client must be
/// able to parse 1xx responses before the final one). Regression: the head
/// scanner once kept its position from the 1xx head, and the next byte
/// panicked with an out-of-range slice (fixed in e24f5da).
#[test]
fn informational_then_final_response_byte_by_byte() {
    let responses = [WireResponse {
        head: false,
        informational: Vec::new(),
        status: 204,
        reason: "",
        fields: Vec::new(),
        body: ResBody::NoContent,
    }];
    let input = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    let expected = vec![
        Ev::Informational(100),
        Ev::Response {
            status: 204,
            headers: Vec::new(),
        },
        Ev::End,
    ];
    let mut conn = client_awaiting(&responses);
    let got = feed(&mut conn, input, &every_byte(input.len()), false, &mut |_| {});
    assert_eq!(got, expected);
}

// ---- round trip (property 2) ------------------------------------------------

/// A body as handed to `send_data` (several pieces, empty ones included)
/// and how it is framed.
#[derive(Clone, Debug)]
enum SendBody {
    /// No framing field: no body.
    None,
    Length(Vec<Vec<u8>>),
    Chunked(Vec<Vec<u8>>, Vec<(String, String)>),
}

impl SendBody {
    fn bytes(&self) -> Vec<u8> {
        match self {
            SendBody::None => Vec::new(),
            SendBody::Length(p) | SendBody::Chunked(p, _) => p.concat(),
        }
    }

    fn framing(&self) -> Option<(String, String)> {
        match self {
            SendBody::None => None,
            SendBody::Length(_) => Some(("content-length".to_owned(), self.bytes().len().to_string())),
            SendBody::Chunked(..) => Some(("transfer-encoding".to_owned(), "chunked".to_owned())),
        }
    }

    fn trailers(&self) -> Fields {
        match self {
            SendBody::Chunked(_, t) => t.iter().map(|(n, v)| field_pair(n, v)).collect(),
            _ => Vec::new(),
        }
    }

    fn send(&self, conn: &mut Connection) -> Result<(), Error> {
        if let SendBody::Length(pieces) | SendBody::Chunked(pieces, _) = self {
            for p in pieces {
                conn.send_data(Bytes::copy_from_slice(p))?;
            }
        }
        match self {
            SendBody::Chunked(_, t) if !t.is_empty() => conn.send_trailers(header_map(t)),
            _ => conn.send_end(),
        }
    }
}

fn header_map(fields: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (n, v) in fields {
        map.append(
            HeaderName::from_bytes(n.as_bytes()).expect("token name"),
            HeaderValue::from_str(v).expect("visible value"),
        );
    }
    map
}

fn header(prefix: &'static str) -> impl Strategy<Value = (String, String)> {
    ("[a-z]{1,10}", field_value()).prop_map(move |(n, v)| (format!("{prefix}{n}"), v))
}

fn send_body(allow_none: bool) -> BoxedStrategy<SendBody> {
    let pieces = || vec(vec(any::<u8>(), 0..64), 0..5);
    let framed = prop_oneof![
        pieces().prop_map(SendBody::Length),
        (pieces(), vec(header("x-t-"), 0..3)).prop_map(|(p, t)| SendBody::Chunked(p, t)),
    ];
    if allow_none {
        prop_oneof![1 => Just(SendBody::None), 4 => framed].boxed()
    } else {
        framed.boxed()
    }
}

#[derive(Clone, Debug)]
struct Exchange {
    method: &'static str,
    target: String,
    req_headers: Vec<(String, String)>,
    req_body: SendBody,
    status: u16,
    res_headers: Vec<(String, String)>,
    res_body: SendBody,
}

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

fn exchange() -> impl Strategy<Value = Exchange> {
    (
        select(METHODS.to_vec()),
        target(),
        vec(header("x-"), 0..8),
        send_body(true),
        // 204 and 304 have no body; a 426 must name protocols in Upgrade.
        (200u16..600).prop_filter("statuses with a plain body", |s| ![204, 304, 426].contains(s)),
        vec(header("x-"), 0..8),
        send_body(false),
    )
        .prop_map(
            |(method, target, req_headers, req_body, status, res_headers, res_body)| Exchange {
                method,
                target,
                req_headers,
                req_body,
                status,
                res_headers,
                res_body,
            },
        )
}

/// Message events the model predicts: head, body, trailers, end.
fn expected_message(head: Ev, body: &SendBody) -> Vec<Ev> {
    let mut out = vec![head];
    body_events(&body.bytes(), body.trailers(), &mut out);
    normalized(out)
}

fn to_fields(headers: &[(String, String)], framing: Option<(String, String)>) -> Fields {
    headers
        .iter()
        .cloned()
        .chain(framing)
        .map(|(n, v)| (n, v.into_bytes()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Requests and responses cross a client/server pair unchanged, over
    /// several exchanges on one kept-alive connection.
    #[test]
    fn round_trip(exchanges in vec(exchange(), 1..4)) {
        let mut pair = Pair::new();
        for x in &exchanges {
            let mut builder = Request::builder()
                .method(x.method)
                .uri(x.target.as_str())
                .header("host", "example.com");
            for (n, v) in x.req_headers.iter().cloned().chain(x.req_body.framing()) {
                builder = builder.header(n, v);
            }
            pair.client.send_request(builder.body(()).expect("valid request")).expect("send_request");
            x.req_body.send(&mut pair.client).expect("send request body");
            let got: Vec<Ev> = pair.to_server().into_iter().filter(|e| *e != Ev::Paused).collect();
            let mut headers = vec![field_pair("host", "example.com")];
            headers.extend(to_fields(&x.req_headers, x.req_body.framing()));
            let head = Ev::Request {
                method: x.method.to_owned(),
                target: x.target.clone(),
                headers,
            };
            prop_assert_eq!(normalized(got), expected_message(head, &x.req_body));

            let mut builder = Response::builder().status(x.status);
            for (n, v) in x.res_headers.iter().cloned().chain(x.res_body.framing()) {
                builder = builder.header(n, v);
            }
            pair.server.send_response(builder.body(()).expect("valid response")).expect("send_response");
            x.res_body.send(&mut pair.server).expect("send response body");
            let got = pair.to_client();
            let head = Ev::Response {
                status: x.status,
                headers: to_fields(&x.res_headers, x.res_body.framing()),
            };
            prop_assert_eq!(normalized(got), expected_message(head, &x.res_body));
        }
    }
}

// ---- arbitrary input (property 3) -------------------------------------------

/// Statuses a server may be told to answer a receive error with.
const ERROR_STATUSES: [u16; 7] = [400, 408, 413, 414, 431, 501, 505];

/// Request lines, valid and not, for HTTP-ish input to a server.
const REQUEST_LINES: [&str; 10] = [
    "GET / HTTP/1.1\r\n",
    "POST /x HTTP/1.1\r\n",
    "HEAD / HTTP/1.1\r\n",
    "GET / HTTP/1.0\r\n",
    "PUT /a?b=c HTTP/1.1\r\n",
    "OPTIONS * HTTP/1.1\r\n",
    "GET http://a/b HTTP/1.1\r\n",
    "CONNECT a:1 HTTP/1.1\r\n",
    "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n",
    "GET / HTTP/2.0\r\n",
];

/// Status lines, valid and not, for HTTP-ish input to a client.
const STATUS_LINES: [&str; 10] = [
    "HTTP/1.1 200 OK\r\n",
    "HTTP/1.1 100 Continue\r\n",
    "HTTP/1.1 103 Early Hints\r\n",
    "HTTP/1.1 204 No Content\r\n",
    "HTTP/1.1 304 Not Modified\r\n",
    "HTTP/1.0 200 OK\r\n",
    "HTTP/1.1 101 Switching Protocols\r\n",
    "HTTP/1.1 404 \r\n",
    "HTTP/1.1 200\r\n",
    "HTTP/1.1 999 X\r\n",
];

/// Field lines, valid (if not always consistent with each other).
const FIELD_LINES: [&str; 13] = [
    "Content-Length: 5\r\n",
    "Content-Length: 0\r\n",
    "Content-Length: 5, 5\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Transfer-Encoding: gzip, chunked\r\n",
    "Connection: close\r\n",
    "Connection: keep-alive\r\n",
    "Connection: upgrade\r\n",
    "Upgrade: websocket\r\n",
    "Expect: 100-continue\r\n",
    "X-A: b\r\n",
    "Host: b\r\n",
];

/// Field lines that are never valid.
const BAD_FIELD_LINES: [&str; 4] = ["X-A : b\r\n", " folded\r\n", "X-A: \x7f\r\n", "no colon\r\n"];

fn field_line() -> impl Strategy<Value = &'static str> {
    prop_oneof![8 => select(FIELD_LINES.to_vec()), 1 => select(BAD_FIELD_LINES.to_vec())]
}

/// Body pieces, valid and not.
const BODY_PIECES: [&str; 10] = [
    "hello",
    "5\r\nhello\r\n",
    "3;a=b\r\nabc\r\n",
    "0\r\n\r\n",
    "0\r\n\r\n",
    "0\r\nX-T: t\r\n\r\n",
    "0;q=\"x y\"\r\n\r\n",
    "ffffffffffffffffff\r\n",
    "5\r\nhelloXX",
    "\r\n",
];

/// Noise spliced into HTTP-ish input.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        field_line().prop_map(|s| s.as_bytes().to_vec()),
        select(BODY_PIECES.to_vec()).prop_map(|s| s.as_bytes().to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        vec(any::<u8>(), 1..8),
    ]
}

/// Messages assembled from plausible pieces (start line, field lines, the
/// empty line, body pieces), then a few random splices, so that input
/// reaches bodies, trailers and pipelined messages, valid or not.
fn http_ish(role: Role) -> impl Strategy<Value = Vec<u8>> {
    let start_lines = match role {
        Role::Server => REQUEST_LINES.to_vec(),
        Role::Client => STATUS_LINES.to_vec(),
    };
    let message = (
        select(start_lines),
        prop::bool::weighted(0.9),
        vec(field_line(), 0..5),
        vec(select(BODY_PIECES.to_vec()), 0..4),
    )
        .prop_map(move |(start, host, fields, body)| {
            let mut out = start.as_bytes().to_vec();
            if host && role == Role::Server {
                out.extend_from_slice(b"Host: a\r\n");
            }
            for f in fields {
                out.extend_from_slice(f.as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            for b in body {
                out.extend_from_slice(b.as_bytes());
            }
            out
        });
    (vec(message, 1..6), vec((any::<Index>(), noise()), 0..3)).prop_map(|(messages, splices)| {
        let mut out = messages.concat();
        for (at, bytes) in splices {
            let at = at.index(out.len() + 1);
            out.splice(at..at, bytes);
        }
        out
    })
}

/// What the robustness driver has seen so far.
struct Robust {
    conn: Connection,
    /// The first receive error, which must come back on every later poll.
    error: Option<Error>,
    /// The method of the request being received (server).
    method: Option<Method>,
    /// Everything reported, to compare across splits.
    events: Vec<Ev>,
    bound: usize,
}

impl Robust {
    fn new(role: Role, lenient: bool) -> Self {
        let config = small_config(lenient);
        let bound = buffer_bound(&config);
        let mut conn = Connection::new(role, config);
        if role == Role::Client {
            // Responses in flight: a GET, then pipelined a HEAD and a GET.
            for method in [Method::GET, Method::HEAD, Method::GET] {
                let req = Request::builder()
                    .method(method)
                    .uri("/")
                    .header("host", "a")
                    .body(())
                    .expect("valid request");
                conn.send_request(req).expect("send_request");
                conn.send_end().expect("send_end");
            }
            take_output(&mut conn);
        }
        Robust {
            conn,
            error: None,
            method: None,
            events: Vec::new(),
            bound,
        }
    }

    /// Polls until the connection waits for data or stops.
    fn poll(&mut self) -> Result<(), TestCaseError> {
        for _ in 0..100_000 {
            let event = self.conn.poll_event();
            if let Some(first) = &self.error {
                prop_assert_eq!(event.as_ref().err(), Some(first), "errors are sticky");
                return Ok(());
            }
            if let Some(ev) = summary(&event) {
                self.events.push(ev);
            }
            match event {
                Ok(Event::NeedData) => {
                    let held = self.conn.buffered_len();
                    prop_assert!(held <= self.bound, "holds {} bytes, bound {}", held, self.bound);
                    return Ok(());
                }
                Ok(Event::Paused | Event::Closed | Event::Finished) => return Ok(()),
                Ok(Event::Upgrade { .. }) => {
                    return Err(TestCaseError::fail("no switch was asked for or granted"));
                }
                Ok(Event::Request(req)) => {
                    self.method = Some(Method::from_bytes(req.method()).expect("a token"))
                }
                Ok(Event::End) if self.conn.role() == Role::Server => self.answer(),
                Ok(_) => {}
                Err(e) => {
                    prop_assert!(e.is_remote(), "receive error not blamed on the peer: {:?}", e);
                    if self.conn.role() == Role::Server {
                        let status = e.status().map(|s| s.as_u16());
                        prop_assert!(
                            status.is_some_and(|s| ERROR_STATUSES.contains(&s)),
                            "{:?} suggests {:?}",
                            e,
                            status
                        );
                        // The server may still answer with that status, then closes.
                        let res = Response::builder()
                            .status(status.unwrap_or(400))
                            .header("content-length", "0")
                            .body(())
                            .expect("valid response");
                        prop_assert!(self.conn.send_response(res).is_ok(), "error response refused");
                        prop_assert!(self.conn.send_end().is_ok(), "error response end refused");
                        take_output(&mut self.conn);
                        prop_assert!(self.conn.is_close_wanted());
                    }
                    let again = self.conn.poll_event();
                    prop_assert_eq!(again.as_ref().err(), Some(&e), "errors are sticky");
                    self.error = Some(e);
                    return Ok(());
                }
            }
        }
        Err(TestCaseError::fail("poll_event did not settle"))
    }

    /// Answers the request that just ended: `200`, or `405` to CONNECT so
    /// that the connection never switches.
    fn answer(&mut self) {
        let status = if self.method.take() == Some(Method::CONNECT) {
            405
        } else {
            200
        };
        let res = Response::builder()
            .status(status)
            .header("content-length", "0")
            .body(())
            .expect("valid response");
        self.conn.send_response(res).expect("answer");
        self.conn.send_end().expect("answer end");
        take_output(&mut self.conn);
    }
}

/// A comparable summary of a poll result; `None` for `NeedData`.
fn summary(event: &Result<Event, Error>) -> Option<Ev> {
    match event {
        Ok(event) => h1_tests::summarize(event),
        Err(e) => Some(Ev::Error(e.clone())),
    }
}

/// Feeds `input` cut at `cuts` to a connection in `role`, checking the
/// robustness properties after every piece and after the end of input.
/// Returns what was reported, data merged, without the `Paused` events
/// (where a connection pauses depends on where the input was cut).
fn robust(
    role: Role,
    input: &[u8],
    cuts: &[usize],
    eof: bool,
    lenient: bool,
) -> Result<Vec<Ev>, TestCaseError> {
    let mut r = Robust::new(role, lenient);
    let mut start = 0;
    for end in cuts.iter().copied().chain([input.len()]) {
        if end <= start {
            continue;
        }
        let taken = r.conn.receive(&input[start..end]);
        prop_assert!(taken.is_ok(), "input refused: {:?}", taken);
        start = end;
        r.poll()?;
    }
    if eof {
        prop_assert!(r.conn.receive_eof().is_ok());
        r.poll()?;
    }
    r.events.retain(|e| *e != Ev::Paused);
    // `Finished` comes again on every poll after it, however the input was cut.
    r.events.dedup_by(|a, b| *a == Ev::Finished && *b == Ev::Finished);
    Ok(merge_data(r.events))
}

/// The robustness properties hold for `input` fed whole, one byte at a
/// time and cut at random, and all three report the same events: the
/// verdict on invalid input does not depend on the split either.
fn robust_splits(
    role: Role,
    input: &[u8],
    cuts: &[Index],
    eof: bool,
    lenient: bool,
) -> Result<(), TestCaseError> {
    let whole = robust(role, input, &[], eof, lenient)?;
    let bytewise = robust(role, input, &every_byte(input.len()), eof, lenient)?;
    prop_assert_eq!(&bytewise, &whole, "one byte at a time");
    let random = robust(role, input, &cut_points(cuts, input.len()), eof, lenient)?;
    prop_assert_eq!(&random, &whole, "random cuts");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn server_arbitrary_bytes(
        input in vec(any::<u8>(), 0..2048),
        cuts in vec(any::<Index>(), 0..16),
        eof in any::<bool>(),
        lenient in prop::bool::weighted(0.25),
    ) {
        robust_splits(Role::Server, &input, &cuts, eof, lenient)?;
    }

    #[test]
    fn server_http_ish_bytes(
        input in http_ish(Role::Server),
        cuts in vec(any::<Index>(), 0..16),
        eof in any::<bool>(),
        lenient in prop::bool::weighted(0.25),
    ) {
        robust_splits(Role::Server, &input, &cuts, eof, lenient)?;
    }

    #[test]
    fn client_arbitrary_bytes(
        input in vec(any::<u8>(), 0..2048),
        cuts in vec(any::<Index>(), 0..16),
        eof in any::<bool>(),
        lenient in prop::bool::weighted(0.25),
    ) {
        robust_splits(Role::Client, &input, &cuts, eof, lenient)?;
    }

    #[test]
    fn client_http_ish_bytes(
        input in http_ish(Role::Client),
        cuts in vec(any::<Index>(), 0..16),
        eof in any::<bool>(),
        lenient in prop::bool::weighted(0.25),
    ) {
        robust_splits(Role::Client, &input, &cuts, eof, lenient)?;
    }
}
