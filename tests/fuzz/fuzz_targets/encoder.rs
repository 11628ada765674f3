//! Arbitrary request and response heads (methods, targets, field names
//! from the token alphabet, visible-ASCII values) and bodies (by
//! Content-Length or chunked, in arbitrary pieces, with trailers) sent
//! through a client and a server `Connection` joined by an in-memory wire,
//! over several exchanges.
//!
//! Whatever the sending side accepts must arrive on the other side as the
//! same message: method and target (or status), the fields sent (plus only
//! those the connection adds: `host`, `transfer-encoding: chunked`,
//! `connection: close`/`keep-alive`), the body bytes and the trailers.
//! Whatever it refuses must be refused as `Error::Misuse`, leaving what
//! was queued before a valid prefix for the peer.
#![no_main]

use arbitrary::Arbitrary;
use h1::http::header::{HeaderName, HeaderValue};
use h1::http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};
use h1::{Config, Connection, Error, FieldLines, ProtocolError, Role, State};
use h1_fuzz::{bytes, drain_checked};
use h1_tests::{by_name, merge_data, take_output, Ev, Fields};
use libfuzzer_sys::fuzz_target;

// ---- generated pieces -------------------------------------------------------

const TCHARS: &[u8] = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

const KNOWN_NAMES: [&str; 14] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "expect",
    "te",
    "trailer",
    "keep-alive",
    "x-a",
    "date",
    "set-cookie",
    "proxy-connection",
    "content-type",
];

const KNOWN_VALUES: [&str; 20] = [
    "0",
    "5",
    "chunked",
    "gzip, chunked",
    "gzip",
    "close",
    "keep-alive",
    "upgrade",
    "100-continue",
    "websocket",
    "example.com",
    "example.com:8080",
    "",
    "chunked, chunked",
    "1, 1",
    "Upgrade, close",
    "a=b; c=\"d e\"",
    "trailers",
    "x",
    "00",
];

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Token(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Value {
    Known(u8),
    Text(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Hdr {
    name: Name,
    value: Value,
}

fn token(raw: &[u8], max: usize) -> String {
    raw.iter()
        .take(max)
        .map(|&b| TCHARS[usize::from(b) % TCHARS.len()] as char)
        .collect()
}

/// Visible ASCII with inner spaces and tabs; no whitespace at either end.
fn visible(raw: &[u8], max: usize) -> Vec<u8> {
    let v: Vec<u8> = raw
        .iter()
        .take(max)
        .map(|&b| match b % 96 {
            94 => b' ',
            95 => b'\t',
            n => b'!' + n,
        })
        .collect();
    let start = v.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    v[start..end].to_vec()
}

impl Hdr {
    fn build(&self) -> Option<(HeaderName, HeaderValue)> {
        let name = match &self.name {
            Name::Known(i) => KNOWN_NAMES[usize::from(*i) % KNOWN_NAMES.len()].to_owned(),
            Name::Token(raw) => token(raw, 20),
        };
        let value = match &self.value {
            Value::Known(i) => KNOWN_VALUES[usize::from(*i) % KNOWN_VALUES.len()]
                .as_bytes()
                .to_vec(),
            Value::Text(raw) => visible(raw, 40),
        };
        Some((
            HeaderName::from_bytes(name.as_bytes()).ok()?,
            HeaderValue::from_bytes(&value).ok()?,
        ))
    }
}

fn header_map(hdrs: &[Hdr], max: usize) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (n, v) in hdrs.iter().take(max).filter_map(Hdr::build) {
        map.append(n, v);
    }
    map
}

#[derive(Arbitrary, Debug)]
enum MethodChoice {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
    Connect,
    Token(Vec<u8>),
}

const PATH_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/!$&'()*+,;=:@%";

#[derive(Arbitrary, Debug)]
enum Target {
    Path(Vec<u8>),
    PathQuery(Vec<u8>, Vec<u8>),
    Absolute {
        port: Option<u16>,
        path: Vec<u8>,
    },
    Authority {
        port: Option<u16>,
    },
    Asterisk,
    /// Any visible ASCII the `http` crate takes as a URI.
    Raw(Vec<u8>),
}

impl Target {
    fn uri(&self) -> Option<Uri> {
        let path = |raw: &[u8]| -> String {
            raw.iter()
                .take(60)
                .map(|&b| PATH_CHARS[usize::from(b) % PATH_CHARS.len()] as char)
                .collect()
        };
        let port = |p: &Option<u16>| p.map(|p| format!(":{p}")).unwrap_or_default();
        let s = match self {
            Target::Path(p) => format!("/{}", path(p)),
            Target::PathQuery(p, q) => format!("/{}?{}", path(p), path(q)),
            Target::Absolute { port: p, path: raw } => {
                format!("http://example.com{}/{}", port(p), path(raw))
            }
            Target::Authority { port: p } => format!("example.com{}", port(p)),
            Target::Asterisk => "*".to_owned(),
            Target::Raw(raw) => String::from_utf8(visible(raw, 60)).ok()?,
        };
        s.parse().ok()
    }
}

#[derive(Arbitrary, Debug)]
enum Framing {
    /// No framing field.
    None,
    /// `content-length`: the body's length, or one more or less when
    /// `off` says so (rarely).
    Length { off: u8 },
    /// `transfer-encoding: chunked`, after another coding if `Some`.
    Chunked(Option<u8>),
}

const CODINGS: [&str; 3] = ["gzip", "deflate", "x-custom;q=1"];

#[derive(Arbitrary, Debug)]
struct Body {
    framing: Framing,
    pieces: Vec<Vec<u8>>,
    trailers: Vec<Hdr>,
    /// Send the trailers even without chunked framing (to be refused).
    force_trailers: u8,
}

impl Body {
    fn pieces(&self) -> &[Vec<u8>] {
        &self.pieces[..self.pieces.len().min(6)]
    }

    fn bytes(&self) -> Vec<u8> {
        self.pieces().concat()
    }

    fn framing_field(&self) -> Option<(HeaderName, HeaderValue)> {
        let value = match self.framing {
            Framing::None => return None,
            Framing::Length { off } => {
                let len = self.bytes().len();
                match off {
                    0xfe => len + 1,
                    0xff => len.saturating_sub(1),
                    _ => len,
                }
                .to_string()
            }
            Framing::Chunked(None) => "chunked".to_owned(),
            Framing::Chunked(Some(c)) => format!("{}, chunked", CODINGS[usize::from(c) % CODINGS.len()]),
        };
        let name = match self.framing {
            Framing::Length { .. } => "content-length",
            _ => "transfer-encoding",
        };
        Some((HeaderName::from_static(name), HeaderValue::from_str(&value).ok()?))
    }

    /// The trailers sent: only with chunked framing (or none, which may
    /// become chunked), unless forced.
    fn trailers(&self) -> HeaderMap {
        match self.framing {
            Framing::Length { .. } if self.force_trailers != 0xff => HeaderMap::new(),
            _ => header_map(&self.trailers, 4),
        }
    }

    /// Sends the pieces and the end (with trailers when there are any).
    fn send(&self, conn: &mut Connection) -> Result<(), Error> {
        for p in self.pieces() {
            conn.send_data(bytes(p))?;
        }
        let trailers = self.trailers();
        if trailers.is_empty() {
            conn.send_end()
        } else {
            conn.send_trailers(trailers)
        }
    }
}

#[derive(Arbitrary, Debug)]
enum StatusChoice {
    Common(u8),
    Any(u16),
}

const STATUSES: [u16; 16] = [
    200, 201, 204, 206, 299, 301, 304, 400, 404, 500, 999, 101, 100, 103, 199, 600,
];

impl StatusChoice {
    fn status(&self) -> u16 {
        match self {
            StatusChoice::Common(i) => STATUSES[usize::from(*i) % STATUSES.len()],
            StatusChoice::Any(n) => 100 + n % 900,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Exchange {
    method: MethodChoice,
    target: Target,
    http10: bool,
    /// Leave out the `host: example.com` otherwise added when the request
    /// has none.
    no_host: bool,
    req_headers: Vec<Hdr>,
    req_body: Body,
    informational: Vec<(u8, Vec<Hdr>)>,
    status: StatusChoice,
    res_headers: Vec<Hdr>,
    res_body: Body,
}

#[derive(Arbitrary, Debug)]
struct Input {
    exchanges: Vec<Exchange>,
}

// ---- checks -----------------------------------------------------------------

/// The fields of a map as `h1-tests` compares them (names lowercase).
fn fields(map: &HeaderMap) -> Fields {
    h1_tests::fields(&FieldLines::from(map))
}

/// A refusal must be misuse.
fn refused(what: &str, e: &Error) {
    assert!(
        matches!(e, Error::Misuse(_)),
        "{what} refused with {e:?}, not Misuse"
    );
}

/// Moves `from`'s output into `to` and drains `to`.
fn transfer(from: &mut Connection, to: &mut Connection) -> Vec<Ev> {
    let wire = take_output(from);
    if !wire.is_empty() {
        if let Err(e) = to.receive(&wire) {
            panic!("peer refused the bytes: {e:?}");
        }
    }
    drain_checked(to)
}

/// After a refusal, what was queued before it is a valid prefix: the peer
/// reports no error for it (but a server that does not implement a coding
/// the request's `headers` list may say so, 501, as soon as it reads the
/// head). `sent` describes the request.
fn settle(client: &mut Connection, server: &mut Connection, sent: &str, headers: &HeaderMap) {
    let at_server = transfer(client, server);
    let unimplemented = |e: &Ev| {
        *e == Ev::Error(Error::Protocol(ProtocolError::UnsupportedTransferCoding)) && other_codings(headers)
    };
    assert!(
        !at_server
            .iter()
            .any(|e| matches!(e, Ev::Error(_)) && !unimplemented(e)),
        "accepted output before a refusal broke the server: {at_server:?} (sent {sent})"
    );
    let at_client = transfer(server, client);
    assert!(
        !at_client.iter().any(|e| matches!(e, Ev::Error(_))),
        "accepted output before a refusal broke the client: {at_client:?} (sent {sent})"
    );
}

/// The fields received match the fields sent, plus at most one value per
/// name among those the sender may add.
fn check_fields(what: &str, sent: &Fields, got: &Fields, may_add: &[(&str, &[u8])]) {
    let sent = by_name(sent.clone());
    let got = by_name(got.clone());
    let mut names: Vec<&String> = sent.iter().chain(&got).map(|(n, _)| n).collect();
    names.sort();
    names.dedup();
    for name in names {
        let s: Vec<&Vec<u8>> = sent.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect();
        let g: Vec<&Vec<u8>> = got.iter().filter(|(n, _)| n == name).map(|(_, v)| v).collect();
        let ok = g == s
            || (g.len() == s.len() + 1
                && g[..s.len()] == s[..]
                && may_add
                    .iter()
                    .any(|(n, v)| *n == name.as_str() && *v == g[s.len()].as_slice()));
        assert!(ok, "{what}: field {name:?} sent {s:?}, received {g:?}");
    }
}

/// A message's body events: data, trailers, end.
fn check_body(what: &str, got: &[Ev], body: &[u8], trailers: &Fields) {
    let mut expected = Vec::new();
    if !body.is_empty() {
        expected.push(Ev::Data(body.to_vec()));
    }
    if !trailers.is_empty() {
        expected.push(Ev::Trailers(by_name(trailers.clone())));
    }
    expected.push(Ev::End);
    let got: Vec<Ev> = got
        .iter()
        .cloned()
        .map(|e| match e {
            Ev::Trailers(t) => Ev::Trailers(by_name(t)),
            e => e,
        })
        .collect();
    assert_eq!(got, expected, "{what} body");
}

/// Whether the message arrived with chunked framing (the sender refuses
/// any other last coding).
fn is_chunked(received: &Fields) -> bool {
    received.iter().any(|(n, _)| n == "transfer-encoding")
}

/// Whether any `transfer-encoding` value lists a coding other than chunked.
fn other_codings(headers: &HeaderMap) -> bool {
    headers.get_all("transfer-encoding").iter().any(|v| {
        v.as_bytes()
            .split(|&b| b == b',')
            .map(|e| e.trim_ascii())
            .any(|e| !e.is_empty() && !e.eq_ignore_ascii_case(b"chunked"))
    })
}

// ---- one exchange ---------------------------------------------------------

/// Runs one exchange; returns whether the connection carries on.
fn exchange(client: &mut Connection, server: &mut Connection, x: &Exchange) -> bool {
    // The request, as the caller hands it in.
    let Some(uri) = x.target.uri() else { return false };
    let method = match &x.method {
        MethodChoice::Get => Method::GET,
        MethodChoice::Head => Method::HEAD,
        MethodChoice::Post => Method::POST,
        MethodChoice::Put => Method::PUT,
        MethodChoice::Delete => Method::DELETE,
        MethodChoice::Options => Method::OPTIONS,
        MethodChoice::Patch => Method::PATCH,
        MethodChoice::Connect => Method::CONNECT,
        MethodChoice::Token(raw) => match Method::from_bytes(token(raw, 12).as_bytes()) {
            Ok(m) => m,
            Err(_) => return false,
        },
    };
    let mut headers = header_map(&x.req_headers, 8);
    if !x.no_host && !headers.contains_key("host") {
        headers.insert("host", HeaderValue::from_static("example.com"));
    }
    if let Some((n, v)) = x.req_body.framing_field() {
        headers.append(n, v);
    }
    let mut req = Request::new(());
    *req.method_mut() = method.clone();
    *req.uri_mut() = uri.clone();
    *req.version_mut() = if x.http10 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    *req.headers_mut() = headers.clone();
    let connect = method == Method::CONNECT;

    let sent = format!(
        "{method} {uri} {:?} {headers:?}, body {:?}",
        if x.http10 { "HTTP/1.0" } else { "HTTP/1.1" },
        x.req_body.framing
    );
    if let Err(e) = client.send_request(req) {
        refused("send_request", &e);
        settle(client, server, &sent, &headers);
        return false;
    }
    if let Err(e) = x.req_body.send(client) {
        refused("request body", &e);
        settle(client, server, &sent, &headers);
        return false;
    }

    // What the server must see. RFC 9112 section 3.2: Host identical to
    // the authority, less any userinfo (an empty port keeps its colon);
    // section 3.2.3: a CONNECT target is only the host and port.
    let host = uri.authority().map(|a| {
        let a = a.as_str();
        a.rsplit_once('@').map_or(a, |(_, host)| host).to_owned()
    });
    let target = if connect {
        host.clone().unwrap_or_default()
    } else {
        uri.path_and_query().map_or("/", |p| p.as_str()).to_owned()
    };
    let mut got = transfer(client, server);
    if !got.contains(&Ev::End) && server.is_continue_expected() {
        assert_eq!(server.send_continue_if_expected(), Ok(true));
        let at_client = transfer(server, client);
        assert_eq!(
            at_client,
            vec![Ev::Informational(100)],
            "100 Continue at the client"
        );
        got.extend(transfer(client, server));
    }
    let got = merge_data(got);
    if let Some(Ev::Error(e)) = got.last() {
        if *e == Error::Protocol(ProtocolError::UnsupportedTransferCoding) && other_codings(&headers) {
            // The server does not implement the coding (RFC 9112 section 6.1: 501).
            return false;
        }
    }
    let Some((
        Ev::Request {
            method: got_method,
            target: got_target,
            headers: got_headers,
        },
        body_events,
    )) = got.split_first()
    else {
        panic!("request not received: {got:?} (sent {sent})");
    };
    assert_eq!(got_method, method.as_str(), "method");
    assert_eq!(got_target, &target, "target");
    let host_add = host.unwrap_or_default();
    check_fields(
        "request",
        &fields(&headers),
        got_headers,
        &[("host", host_add.as_bytes())],
    );
    let req_trailers = if is_chunked(got_headers) {
        fields(&x.req_body.trailers())
    } else {
        Vec::new()
    };
    check_body("request", body_events, &x.req_body.bytes(), &req_trailers);

    // The response: informational ones, then the final one.
    let is_head = method == Method::HEAD;
    for (code, hdrs) in x.informational.iter().take(2) {
        let status = 100 + u16::from(*code % 100);
        let mut res = Response::new(());
        *res.status_mut() = StatusCode::from_u16(status).expect("1xx");
        *res.headers_mut() = header_map(hdrs, 4);
        let info_fields = fields(res.headers());
        if let Err(e) = server.send_response(res) {
            refused("informational response", &e);
            settle(client, server, &sent, &headers);
            return false;
        }
        if server.our_state() == State::SwitchedProtocol {
            return switched(client, server, status, &info_fields);
        }
        let at_client = transfer(server, client);
        assert_eq!(
            at_client,
            vec![Ev::Informational(status)],
            "informational response"
        );
    }
    let status = x.status.status();
    let mut res_headers = header_map(&x.res_headers, 8);
    if let Some((n, v)) = x.res_body.framing_field() {
        res_headers.append(n, v);
    }
    let mut res = Response::new(());
    *res.status_mut() = StatusCode::from_u16(status).expect("100..=999");
    *res.headers_mut() = res_headers.clone();
    if let Err(e) = server.send_response(res) {
        refused("send_response", &e);
        settle(client, server, &sent, &headers);
        return false;
    }
    if server.our_state() == State::SwitchedProtocol {
        return switched(client, server, status, &fields(&res_headers));
    }
    if let Err(e) = x.res_body.send(server) {
        refused("response body", &e);
        settle(client, server, &sent, &headers);
        return false;
    }
    let wire = take_output(server);
    client.receive(&wire).expect("client takes the response");
    let eof = server.is_close_wanted();
    if eof {
        client.receive_eof().expect("client takes the end of input");
    }
    let got = drain_checked(client);
    let Some((
        Ev::Response {
            status: got_status,
            headers: got_headers,
        },
        rest,
    )) = got.split_first()
    else {
        panic!("response not received: {got:?} (sent {status} {res_headers:?})");
    };
    assert_eq!(*got_status, status, "status");
    check_fields(
        "response",
        &fields(&res_headers),
        got_headers,
        &[
            ("transfer-encoding", b"chunked"),
            ("connection", b"close"),
            ("connection", b"keep-alive"),
        ],
    );
    let bodiless = is_head || status == 204 || status == 304;
    let (body, trailers) = if bodiless {
        (Vec::new(), Vec::new())
    } else if is_chunked(got_headers) {
        (x.res_body.bytes(), fields(&x.res_body.trailers()))
    } else {
        (x.res_body.bytes(), Vec::new())
    };
    let rest = match rest.split_last() {
        Some((Ev::Closed, rest)) if eof => rest,
        // The client must close (nothing more will be read) though the
        // server does not say so: the loop below ends.
        Some((Ev::Finished, rest)) if !eof => {
            assert!(client.is_close_wanted(), "finished without a close: {got:?}");
            rest
        }
        _ => {
            assert!(!eof, "no Closed after the server closed: {got:?}");
            rest
        }
    };
    check_body("response", rest, &body, &trailers);
    !eof && !client.is_close_wanted()
        && client.our_state() == State::Idle
        && server.our_state() == State::Idle
}

/// The server switched protocols: the client sees the response, then the
/// upgrade with nothing left over.
fn switched(client: &mut Connection, server: &mut Connection, status: u16, sent: &Fields) -> bool {
    let got = transfer(server, client);
    match &got[..] {
        [Ev::Response { status: s, headers }, Ev::Upgrade(leftover)] => {
            assert_eq!(*s, status);
            check_fields("switch", sent, headers, &[]);
            assert!(leftover.is_empty(), "leftover {leftover:?}");
        }
        _ => panic!("switch to {status} seen as {got:?}"),
    }
    false
}

fuzz_target!(|input: Input| {
    let mut client = Connection::new(Role::Client, Config::default());
    let mut server = Connection::new(Role::Server, Config::default());
    for x in input.exchanges.iter().take(3) {
        if !exchange(&mut client, &mut server, x) {
            break;
        }
    }
});
