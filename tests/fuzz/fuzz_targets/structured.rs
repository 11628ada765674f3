//! An `arbitrary`-derived description of a valid message stream (pipelined
//! requests with Content-Length or chunked bodies, chunk extensions and
//! trailers, ending with an upgrade or CONNECT and bytes of the new
//! protocol, or with `connection: close` (then `Finished`); or the
//! responses to pipelined GET/HEAD requests, with 1xx, 204, HEAD,
//! close-delimited bodies and a final 101 or 2xx to CONNECT), serialized,
//! then possibly mutated by a few byte edits, and fed in arbitrary pieces.
//!
//! Always: split invariance, the buffer bound, sticky peer-blamed errors.
//! Unmutated: the events are exactly the ones the model predicts.
#![no_main]

use arbitrary::Arbitrary;
use h1::{Config, Connection, Role};
use h1_fuzz::{client_with, cut_points, split_invariant, ClientRequest};
use h1_tests::{normalized, with_leniency, Ev, Fields};
use libfuzzer_sys::fuzz_target;

/// Limits the model stays within (see the caps below), small enough that
/// mutated input reaches them.
fn config(lenient: bool) -> Config {
    let mut config = with_leniency(lenient);
    config.limits.head_size = 1024;
    config.limits.header_count = 16;
    config.limits.request_target = 128;
    config.limits.chunk_line = 64;
    config.limits.chunk_extensions = 256;
    config.limits.trailer_size = 256;
    config
}

// ---- text helpers ---------------------------------------------------------

const NAME_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-";
const PATH_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/!$&'()*+,;=:@";
const QUERY_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/?!$&'()*+,;=:@";

fn map_chars(raw: &[u8], alphabet: &[u8], max: usize) -> String {
    raw.iter()
        .take(max)
        .map(|&b| alphabet[usize::from(b) % alphabet.len()] as char)
        .collect()
}

/// A field value: visible ASCII with inner spaces and tabs, no whitespace
/// at either end (possibly empty).
fn field_value(raw: &[u8], max: usize) -> String {
    let s: String = raw
        .iter()
        .take(max)
        .map(|&b| match b % 96 {
            94 => ' ',
            95 => '\t',
            n => (b'!' + n) as char,
        })
        .collect();
    s.trim_matches([' ', '\t']).to_owned()
}

fn pair(name: &str, value: &str) -> (String, Vec<u8>) {
    (name.to_owned(), value.as_bytes().to_vec())
}

const OWS: [&str; 5] = ["", " ", "  ", "\t", " \t "];

// ---- the model ------------------------------------------------------------

#[derive(Arbitrary, Debug)]
struct Field {
    name: Vec<u8>,
    value: Vec<u8>,
    upper: bool,
    before: u8,
    after: u8,
}

impl Field {
    /// Lowercase name with its prefix, value, and the line on the wire.
    fn parts(&self, prefix: &str) -> (String, String, String) {
        let mut name = format!("{prefix}{}", map_chars(&self.name, NAME_CHARS, 14));
        if name.len() == prefix.len() {
            name.push('a');
        }
        let value = field_value(&self.value, 32);
        let wire_name = if self.upper {
            name.split('-')
                .map(|p| {
                    let mut c = p.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join("-")
        } else {
            name.clone()
        };
        let before = OWS[usize::from(self.before) % OWS.len()];
        let after = OWS[usize::from(self.after) % OWS.len()];
        let line = format!("{wire_name}:{before}{value}{after}\r\n");
        (name, value, line)
    }

    fn render(fields: &[Field], prefix: &str, max: usize, out: &mut Vec<u8>, expected: &mut Fields) {
        for f in fields.iter().take(max) {
            let (name, value, line) = f.parts(prefix);
            out.extend_from_slice(line.as_bytes());
            expected.push(pair(&name, &value));
        }
    }
}

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

#[derive(Arbitrary, Debug)]
struct Chunk {
    data: Vec<u8>,
    ext: u8,
    upper_hex: bool,
    zeros: u8,
}

#[derive(Arbitrary, Debug)]
struct Chunked {
    chunks: Vec<Chunk>,
    last_ext: u8,
    last_zeros: u8,
    trailers: Vec<Field>,
}

impl Chunked {
    /// Renders the body; returns its data and trailers.
    fn render(&self, out: &mut Vec<u8>) -> (Vec<u8>, Fields) {
        let mut body = Vec::new();
        for c in self.chunks.iter().take(8) {
            let data = if c.data.is_empty() {
                &[b'x'][..]
            } else {
                &c.data[..]
            };
            let size = if c.upper_hex {
                format!("{:X}", data.len())
            } else {
                format!("{:x}", data.len())
            };
            let zeros = "0".repeat(usize::from(c.zeros % 3));
            let ext = EXTENSIONS[usize::from(c.ext) % EXTENSIONS.len()];
            out.extend_from_slice(format!("{zeros}{size}{ext}\r\n").as_bytes());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
            body.extend_from_slice(data);
        }
        let zeros = "0".repeat(1 + usize::from(self.last_zeros % 3));
        let ext = EXTENSIONS[usize::from(self.last_ext) % EXTENSIONS.len()];
        out.extend_from_slice(format!("{zeros}{ext}\r\n").as_bytes());
        let mut trailers = Vec::new();
        Field::render(&self.trailers, "x-t-", 3, out, &mut trailers);
        out.extend_from_slice(b"\r\n");
        (body, trailers)
    }
}

fn body_events(body: Vec<u8>, trailers: Fields, out: &mut Vec<Ev>) {
    if !body.is_empty() {
        out.push(Ev::Data(body));
    }
    if !trailers.is_empty() {
        out.push(Ev::Trailers(trailers));
    }
    out.push(Ev::End);
}

#[derive(Arbitrary, Debug)]
enum ReqBody {
    None,
    Length(Vec<u8>),
    Chunked(Chunked),
}

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

#[derive(Arbitrary, Debug)]
struct WireRequest {
    leading_crlf: bool,
    method: u8,
    path: Vec<u8>,
    query: Option<Vec<u8>>,
    fields: Vec<Field>,
    body: ReqBody,
}

impl WireRequest {
    fn render(&self, close: bool, out: &mut Vec<u8>, expected: &mut Vec<Ev>) {
        if self.leading_crlf {
            out.extend_from_slice(b"\r\n");
        }
        let method = METHODS[usize::from(self.method) % METHODS.len()];
        let mut target = format!("/{}", map_chars(&self.path, PATH_CHARS, 60));
        if let Some(q) = &self.query {
            target.push('?');
            target.push_str(&map_chars(q, QUERY_CHARS, 40));
        }
        out.extend_from_slice(format!("{method} {target} HTTP/1.1\r\nHost: example.com\r\n").as_bytes());
        let mut headers = vec![pair("host", "example.com")];
        Field::render(&self.fields, "x-", 8, out, &mut headers);
        if close {
            out.extend_from_slice(b"Connection: close\r\n");
            headers.push(pair("connection", "close"));
        }
        let (body, trailers) = match &self.body {
            ReqBody::None => {
                out.extend_from_slice(b"\r\n");
                (Vec::new(), Vec::new())
            }
            ReqBody::Length(body) => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                out.extend_from_slice(body);
                headers.push(pair("content-length", &body.len().to_string()));
                (body.clone(), Vec::new())
            }
            ReqBody::Chunked(c) => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                headers.push(pair("transfer-encoding", "chunked"));
                c.render(out)
            }
        };
        expected.push(Ev::Request {
            method: method.to_owned(),
            target,
            headers,
        });
        body_events(body, trailers, expected);
    }
}

const CONNECTION_UPGRADE: [&str; 4] = ["upgrade", "Upgrade", "keep-alive, Upgrade", "UPGRADE"];
const PROTOCOLS: [&str; 4] = ["websocket", "h2c", "foo/2, bar", "WebSocket"];

#[derive(Arbitrary, Debug)]
enum ServerEnding {
    /// Nothing more; end of input gives `Closed`.
    None,
    /// An upgrade request (with a Content-Length body), answered with 101,
    /// then bytes of the new protocol.
    Upgrade {
        connection: u8,
        protocol: u8,
        body: Vec<u8>,
        tail: Vec<u8>,
    },
    /// CONNECT, answered with 200, then tunnelled bytes.
    Connect { port: u16, tail: Vec<u8> },
    /// The last request says `connection: close`; once it is answered
    /// nothing more is read (`Finished`), and what follows is ignored.
    Close { junk: Vec<u8> },
}

#[derive(Arbitrary, Debug)]
struct ServerModel {
    requests: Vec<WireRequest>,
    ending: ServerEnding,
    eof: bool,
}

impl ServerModel {
    /// The input, the events it must give, and whether to end the input.
    fn render(&self) -> (Vec<u8>, Vec<Ev>, bool) {
        let mut out = Vec::new();
        let mut expected = Vec::new();
        let n = self.requests.len().min(4);
        let close_last = matches!(self.ending, ServerEnding::Close { .. });
        for (i, r) in self.requests[..n].iter().enumerate() {
            r.render(close_last && i + 1 == n, &mut out, &mut expected);
        }
        let mut eof = self.eof;
        match &self.ending {
            ServerEnding::None => {}
            ServerEnding::Upgrade {
                connection,
                protocol,
                body,
                tail,
            } => {
                let connection = CONNECTION_UPGRADE[usize::from(*connection) % CONNECTION_UPGRADE.len()];
                let protocol = PROTOCOLS[usize::from(*protocol) % PROTOCOLS.len()];
                let mut headers = vec![
                    pair("host", "example.com"),
                    pair("connection", connection),
                    pair("upgrade", protocol),
                ];
                out.extend_from_slice(
                    format!(
                        "GET /chat HTTP/1.1\r\nHost: example.com\r\nConnection: {connection}\r\nUpgrade: {protocol}\r\n"
                    )
                    .as_bytes(),
                );
                let body = &body[..body.len().min(64)];
                if !body.is_empty() {
                    out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
                    headers.push(pair("content-length", &body.len().to_string()));
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(body);
                out.extend_from_slice(tail);
                expected.push(Ev::Request {
                    method: "GET".to_owned(),
                    target: "/chat".to_owned(),
                    headers,
                });
                body_events(body.to_vec(), Vec::new(), &mut expected);
                expected.push(Ev::Upgrade(tail.clone()));
                eof = false;
            }
            ServerEnding::Connect { port, tail } => {
                // A port number, 1 to 65535 (RFC 9110 section 9.3.6).
                let authority = format!("example.com:{}", port.max(&1));
                out.extend_from_slice(
                    format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(tail);
                expected.push(Ev::Request {
                    method: "CONNECT".to_owned(),
                    target: authority.clone(),
                    headers: vec![pair("host", &authority)],
                });
                expected.push(Ev::End);
                expected.push(Ev::Upgrade(tail.clone()));
                eof = false;
            }
            ServerEnding::Close { junk } => {
                if n > 0 {
                    out.extend_from_slice(junk);
                    expected.push(Ev::Finished);
                }
            }
        }
        if eof {
            expected.push(Ev::Closed);
        }
        (out, expected, eof)
    }
}

#[derive(Arbitrary, Debug)]
struct Informational {
    status: bool,
    fields: Vec<Field>,
}

#[derive(Arbitrary, Debug)]
enum ResBody {
    Length(Vec<u8>),
    Chunked(Chunked),
    /// `204`.
    NoContent,
    /// `304`, with a Content-Length it does not carry.
    NotModified(Option<u32>),
    /// No framing: runs to the end of input (last response only).
    CloseDelimited(Vec<u8>),
}

const STATUSES: [u16; 8] = [200, 201, 203, 206, 299, 404, 500, 599];
const REASONS: [&str; 4] = ["OK", "", "Some Reason", "n\u{e9}e"];

#[derive(Arbitrary, Debug)]
struct WireResponse {
    head: bool,
    informational: Vec<Informational>,
    status: u8,
    reason: u8,
    fields: Vec<Field>,
    body: ResBody,
    head_length: u32,
}

impl WireResponse {
    fn render(&self, last: bool, close: bool, out: &mut Vec<u8>, expected: &mut Vec<Ev>) {
        for info in self.informational.iter().take(2) {
            let status = if info.status { 103 } else { 100 };
            out.extend_from_slice(format!("HTTP/1.1 {status} Whatever\r\n").as_bytes());
            Field::render(&info.fields, "x-i-", 4, out, &mut Vec::new());
            out.extend_from_slice(b"\r\n");
            expected.push(Ev::Informational(status));
        }
        let close_delimited = matches!(self.body, ResBody::CloseDelimited(_)) && last && !self.head;
        let status = match self.body {
            ResBody::NoContent => 204,
            ResBody::NotModified(_) => 304,
            _ => STATUSES[usize::from(self.status) % STATUSES.len()],
        };
        let reason = REASONS[usize::from(self.reason) % REASONS.len()];
        out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
        let mut headers = Vec::new();
        Field::render(&self.fields, "x-", 8, out, &mut headers);
        if close {
            out.extend_from_slice(b"Connection: close\r\n");
            headers.push(pair("connection", "close"));
        }
        let cl = |n: usize, out: &mut Vec<u8>, headers: &mut Fields| {
            out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
            headers.push(pair("content-length", &n.to_string()));
        };
        let (body, trailers) = match &self.body {
            _ if self.head && !matches!(self.body, ResBody::NoContent | ResBody::NotModified(_)) => {
                // A response to HEAD: a length, but no body.
                cl(self.head_length as usize, out, &mut headers);
                out.extend_from_slice(b"\r\n");
                (Vec::new(), Vec::new())
            }
            ResBody::NoContent => {
                out.extend_from_slice(b"\r\n");
                (Vec::new(), Vec::new())
            }
            ResBody::NotModified(n) => {
                if let Some(n) = n {
                    cl(*n as usize, out, &mut headers);
                }
                out.extend_from_slice(b"\r\n");
                (Vec::new(), Vec::new())
            }
            ResBody::CloseDelimited(body) if close_delimited => {
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(body);
                (body.clone(), Vec::new())
            }
            ResBody::Length(body) | ResBody::CloseDelimited(body) => {
                cl(body.len(), out, &mut headers);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(body);
                (body.clone(), Vec::new())
            }
            ResBody::Chunked(c) => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                headers.push(pair("transfer-encoding", "chunked"));
                c.render(out)
            }
        };
        expected.push(Ev::Response { status, headers });
        body_events(body, trailers, expected);
    }

    fn close_delimited(&self) -> bool {
        matches!(self.body, ResBody::CloseDelimited(_)) && !self.head
    }
}

#[derive(Arbitrary, Debug)]
enum ClientEnding {
    None,
    /// An upgrade request answered with 101, then new-protocol bytes.
    Switch {
        tail: Vec<u8>,
    },
    /// CONNECT answered with 2xx, then tunnelled bytes.
    Connect {
        status: u8,
        tail: Vec<u8>,
    },
    /// The last response says `connection: close`; once it is complete
    /// nothing more is read (`Finished`, unless its body runs to the end
    /// of input), and what follows is ignored.
    Close {
        junk: Vec<u8>,
    },
}

#[derive(Arbitrary, Debug)]
struct ClientModel {
    responses: Vec<WireResponse>,
    ending: ClientEnding,
    eof: bool,
}

impl ClientModel {
    /// The requests the client sends, the input, the events, and eof.
    fn render(&self) -> (Vec<ClientRequest>, Vec<u8>, Vec<Ev>, bool) {
        let n = self.responses.len().min(4);
        let responses = &self.responses[..n];
        let mut requests: Vec<ClientRequest> = responses
            .iter()
            .map(|r| {
                if r.head {
                    ClientRequest::Head
                } else {
                    ClientRequest::Get
                }
            })
            .collect();
        let mut out = Vec::new();
        let mut expected = Vec::new();
        let switches = matches!(
            self.ending,
            ClientEnding::Switch { .. } | ClientEnding::Connect { .. }
        );
        let close = matches!(self.ending, ClientEnding::Close { .. });
        let mut eof = self.eof;
        for (i, r) in responses.iter().enumerate() {
            let last = i + 1 == n && !switches;
            r.render(last, close && i + 1 == n, &mut out, &mut expected);
            if last && r.close_delimited() {
                eof = true;
            }
        }
        match &self.ending {
            ClientEnding::None => {}
            ClientEnding::Switch { tail } => {
                requests.push(ClientRequest::Upgrade);
                out.extend_from_slice(
                    b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
                );
                out.extend_from_slice(tail);
                expected.push(Ev::Response {
                    status: 101,
                    headers: vec![pair("connection", "upgrade"), pair("upgrade", "websocket")],
                });
                expected.push(Ev::Upgrade(tail.clone()));
                eof = false;
            }
            ClientEnding::Connect { status, tail } => {
                requests.push(ClientRequest::Connect);
                let status = 200 + u16::from(*status % 100);
                out.extend_from_slice(format!("HTTP/1.1 {status} Connected\r\n\r\n").as_bytes());
                out.extend_from_slice(tail);
                expected.push(Ev::Response {
                    status,
                    headers: Vec::new(),
                });
                expected.push(Ev::Upgrade(tail.clone()));
                eof = false;
            }
            ClientEnding::Close { junk } => {
                if n > 0 && !responses[n - 1].close_delimited() {
                    out.extend_from_slice(junk);
                    expected.push(Ev::Finished);
                }
            }
        }
        if eof {
            expected.push(Ev::Closed);
        }
        (requests, out, expected, eof)
    }
}

#[derive(Arbitrary, Debug)]
enum Side {
    Server(ServerModel),
    Client(ClientModel),
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    Flip { at: u16, bit: u8 },
    Insert { at: u16, byte: u8 },
    Delete { at: u16 },
    Replace { at: u16, byte: u8 },
}

impl Mutation {
    fn apply(&self, data: &mut Vec<u8>) {
        let pos = |at: u16, len: usize| usize::from(at) % len.max(1);
        match *self {
            Mutation::Flip { at, bit } if !data.is_empty() => {
                let i = pos(at, data.len());
                data[i] ^= 1 << (bit % 8);
            }
            Mutation::Insert { at, byte } => {
                let i = usize::from(at) % (data.len() + 1);
                data.insert(i, byte);
            }
            Mutation::Delete { at } if !data.is_empty() => {
                let i = pos(at, data.len());
                data.remove(i);
            }
            Mutation::Replace { at, byte } if !data.is_empty() => {
                let i = pos(at, data.len());
                data[i] = byte;
            }
            _ => {}
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    side: Side,
    lenient: bool,
    mutations: Vec<Mutation>,
    cuts: Vec<u16>,
    bytewise: bool,
}

fuzz_target!(|input: Input| {
    let lenient = input.lenient;
    let (make, mut data, expected, eof): (Box<dyn Fn() -> Connection>, _, _, _) = match &input.side {
        Side::Server(m) => {
            let (data, expected, eof) = m.render();
            (
                Box::new(move || Connection::new(Role::Server, config(lenient))),
                data,
                expected,
                eof,
            )
        }
        Side::Client(m) => {
            let (requests, data, expected, eof) = m.render();
            (
                Box::new(move || client_with(config(lenient), &requests)),
                data,
                expected,
                eof,
            )
        }
    };
    let mutations = &input.mutations[..input.mutations.len().min(4)];
    for m in mutations {
        m.apply(&mut data);
    }
    let cuts = cut_points(&input.cuts, data.len());
    let bytewise = input.bytewise && data.len() <= 2048;
    let got = split_invariant(&*make, &data, &cuts, bytewise, eof);
    if mutations.is_empty() {
        assert_eq!(
            normalized(got.events),
            normalized(expected),
            "the model's events, for {:?}",
            String::from_utf8_lossy(&data)
        );
    }
});
