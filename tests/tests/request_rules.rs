//! Table tests for the rules a server applies to the requests it receives
//! (RFC 9110, RFC 9112), one line per case.
//!
//! Every table case is fed twice, whole and byte by byte, and must get the
//! same verdict both times: either every request accepted (with the given
//! bodies, in order) or a specific error with the status a server should
//! answer ([`Error::status`]).

use bytes::Bytes;
use h1::http::{Method, Response, StatusCode, Version};
use h1::{CloseReason, Config, Connection, Error, Event, Incomplete, LimitError, ProtocolError, Role};
use h1_tests::{drain, feed, take_output, Ev};

// ---- table machinery ---------------------------------------------------

/// What a case should come to.
#[derive(Clone, Debug)]
enum Verdict {
    /// Every request accepted, with these bodies in order, and nothing
    /// else reported (with end of input: then `Closed`).
    Accept(Vec<&'static [u8]>),
    /// Rejected with this error, which a server answers with this status.
    Reject(Error, u16),
    /// Rejected with either of two errors the docs both allow for it.
    RejectEither(Error, Error, u16),
}

/// One request with this body.
fn one(body: &'static [u8]) -> Verdict {
    Verdict::Accept(vec![body])
}

/// Requests with these bodies, in order.
fn all(bodies: &[&'static [u8]]) -> Verdict {
    Verdict::Accept(bodies.to_vec())
}

fn rej(e: impl Into<Error>, status: u16) -> Verdict {
    Verdict::Reject(e.into(), status)
}

fn either(a: impl Into<Error>, b: impl Into<Error>, status: u16) -> Verdict {
    Verdict::RejectEither(a.into(), b.into(), status)
}

/// Answers every request with `404` and `content-length: 0`, which is
/// valid for any request (including CONNECT, which it declines).
fn answer_404(conn: &mut Connection) {
    let res = Response::builder()
        .status(404)
        .header("content-length", "0")
        .body(())
        .expect("valid response");
    conn.send_response(res).expect("send_response");
    conn.send_end().expect("send_end");
    take_output(conn);
}

/// What a transcript came to.
#[derive(Debug, Default)]
struct Outcome {
    bodies: Vec<Vec<u8>>,
    unfinished: Option<Vec<u8>>,
    closed: bool,
    error: Option<Error>,
    other: Vec<Ev>,
}

fn outcome(events: Vec<Ev>) -> Outcome {
    let mut out = Outcome::default();
    for ev in events {
        match ev {
            Ev::Request { .. } => {
                if let Some(body) = out.unfinished.replace(Vec::new()) {
                    out.other.push(Ev::Data(body));
                }
            }
            Ev::Data(d) => match &mut out.unfinished {
                Some(body) => body.extend_from_slice(&d),
                None => out.other.push(Ev::Data(d)),
            },
            Ev::End => match out.unfinished.take() {
                Some(body) => out.bodies.push(body),
                None => out.other.push(Ev::End),
            },
            Ev::Trailers(_) => {}
            // The connection closes after the last request: nothing more is read.
            Ev::Finished => {}
            Ev::Closed => out.closed = true,
            Ev::Error(e) => out.error = Some(e),
            other => out.other.push(other),
        }
    }
    out
}

fn judge(events: Vec<Ev>, verdict: &Verdict, eof: bool) -> Result<(), String> {
    let got = outcome(events);
    if !got.other.is_empty() {
        return Err(format!("unexpected events {:?}", got.other));
    }
    match verdict {
        Verdict::Accept(bodies) => {
            if let Some(e) = &got.error {
                return Err(format!("rejected with {e:?}, expected accepted"));
            }
            if got.unfinished.is_some() {
                return Err("a request did not end".into());
            }
            let want: Vec<Vec<u8>> = bodies.iter().map(|b| b.to_vec()).collect();
            if got.bodies != want {
                return Err(format!(
                    "bodies {:?}, expected {:?}",
                    lossy_all(&got.bodies),
                    lossy_all(&want)
                ));
            }
            if got.closed != eof {
                return Err(format!("closed: {}, expected {eof}", got.closed));
            }
            Ok(())
        }
        Verdict::Reject(want, status) => check_error(got.error, &[want], *status),
        Verdict::RejectEither(a, b, status) => check_error(got.error, &[a, b], *status),
    }
}

fn check_error(got: Option<Error>, want: &[&Error], status: u16) -> Result<(), String> {
    let Some(e) = got else {
        return Err(format!("accepted, expected {want:?}"));
    };
    if !want.contains(&&e) {
        return Err(format!("rejected with {e:?}, expected {want:?}"));
    }
    if e.status().map(|s| s.as_u16()) != Some(status) {
        return Err(format!("{e:?} has status {:?}, expected {status}", e.status()));
    }
    Ok(())
}

fn lossy_all(bodies: &[Vec<u8>]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect()
}

/// Runs every case whole and byte by byte; reports all failures at once.
fn run_table<I: AsRef<[u8]>>(name: &str, config: &Config, eof: bool, cases: &[(I, Verdict)]) {
    let mut failures = Vec::new();
    for (i, (input, verdict)) in cases.iter().enumerate() {
        let input = input.as_ref();
        let bytewise: Vec<usize> = (1..input.len()).collect();
        for (how, cuts) in [("whole", &[][..]), ("byte by byte", &bytewise[..])] {
            let run = std::panic::catch_unwind(|| {
                let mut conn = Connection::new(Role::Server, config.clone());
                feed(&mut conn, input, cuts, eof, &mut answer_404)
            });
            let result = match run {
                Ok(events) => judge(events, verdict, eof),
                Err(panic) => Err(format!("PANICKED: {}", panic_message(&panic))),
            };
            if let Err(msg) = result {
                failures.push(format!(
                    "{name}[{i}] ({how}) {:?}: {msg}",
                    String::from_utf8_lossy(input)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn strict() -> Config {
    Config::default()
}

fn lenient_bare_lf() -> Config {
    let mut config = Config::default();
    config.lenient.bare_lf = true;
    config
}

use LimitError as L;
use ProtocolError as P;

/// A POST with Host and the given field lines and body (`$rest` starts
/// right after the Host line).
macro_rules! post {
    ($rest:expr) => {
        concat!("POST / HTTP/1.1\r\nHost: a\r\n", $rest).as_bytes()
    };
}

/// A chunked POST whose body is `$body`.
macro_rules! chunked {
    ($body:expr) => {
        concat!(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
            $body
        )
        .as_bytes()
    };
}

// ---- Content-Length (RFC 9110 8.6, RFC 9112 6.3) -------------------------

#[test]
fn content_length() {
    let cases: &[(&[u8], Verdict)] = &[
        (post!("Content-Length: 5\r\n\r\nhello"), one(b"hello")),
        (post!("Content-Length: 0\r\n\r\n"), one(b"")),
        (post!("Content-Length: 005\r\n\r\nhello"), one(b"hello")),
        (post!("Content-Length:   5  \r\n\r\nhello"), one(b"hello")),
        (post!("content-LENGTH: 5\r\n\r\nhello"), one(b"hello")),
        (
            post!("Content-Length: +5\r\n\r\nhello"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: -1\r\n\r\n"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 0x10\r\n\r\n"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 1 2\r\n\r\n"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 5a\r\n\r\nhello"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: \r\n\r\n"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 18446744073709551616\r\n\r\n"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 99999999999999999999999\r\n\r\n"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 5, 5\r\n\r\nhello"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 5,5\r\n\r\nhello"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
            rej(P::InvalidContentLength, 400),
        ),
        // No Content-Length and no Transfer-Encoding: a request has no body
        // (RFC 9112 6.3, item 7), so what follows is the next request.
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            all(&[b"", b""]),
        ),
        (
            post!("Content-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            all(&[b"hello", b""]),
        ),
    ];
    run_table("content_length", &strict(), false, cases);
}

#[test]
fn content_length_identical_values_when_lenient() {
    let mut config = Config::default();
    config.lenient.identical_content_lengths = true;
    let cases: &[(&[u8], Verdict)] = &[
        (post!("Content-Length: 5, 5\r\n\r\nhello"), one(b"hello")),
        (post!("Content-Length: 5,5\r\n\r\nhello"), one(b"hello")),
        (
            post!("Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"),
            one(b"hello"),
        ),
        (post!("Content-Length: 5\r\n\r\nhello"), one(b"hello")),
        (
            post!("Content-Length: 5, 6\r\n\r\nhello!"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
            rej(P::InvalidContentLength, 400),
        ),
        (
            post!("Content-Length: 5, +5\r\n\r\nhello"),
            rej(P::InvalidContentLength, 400),
        ),
    ];
    run_table("identical_content_lengths", &config, false, cases);
}

// ---- Transfer-Encoding (RFC 9112 6.1, 6.3, 7) ----------------------------

#[test]
fn transfer_encoding() {
    let cases: &[(&[u8], Verdict)] = &[
        (
            post!("Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            one(b"hello"),
        ),
        // Transfer-coding names are case-insensitive (RFC 9112 7).
        (
            post!("Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            one(b"hello"),
        ),
        // Empty list elements are ignored (RFC 9110 5.6.1).
        (
            post!("Transfer-Encoding: , chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            one(b"hello"),
        ),
        // chunked not last in a request: 400 (RFC 9112 6.3, item 4).
        (
            post!("Transfer-Encoding: chunked, identity\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: identity\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: gzip\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: \"chunked\"\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: \r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        // chunked at most once (RFC 9112 7).
        (
            post!("Transfer-Encoding: chunked, chunked\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        // A coding the server does not understand: 501 (RFC 9112 6.1).
        (
            post!("Transfer-Encoding: gzip, chunked\r\n\r\n"),
            rej(P::UnsupportedTransferCoding, 501),
        ),
        (
            post!("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
            rej(P::UnsupportedTransferCoding, 501),
        ),
        // Both framing fields (RFC 9112 6.3, item 3; hardened: rejected).
        (
            post!("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            rej(P::ContentLengthAndTransferEncoding, 400),
        ),
        (
            post!("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            rej(P::ContentLengthAndTransferEncoding, 400),
        ),
        // Transfer-Encoding in HTTP/1.0 is faulty framing (RFC 9112 6.1).
        (
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            rej(P::TransferEncodingInHttp10, 400),
        ),
    ];
    run_table("transfer_encoding", &strict(), false, cases);
}

// ---- chunked bodies (RFC 9112 7.1) --------------------------------------

#[test]
fn chunked_body() {
    let cases: &[(&[u8], Verdict)] = &[
        (chunked!("5\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("0\r\n\r\n"), one(b"")),
        (chunked!("3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("a\r\n0123456789\r\n0\r\n\r\n"), one(b"0123456789")),
        (chunked!("A\r\n0123456789\r\n0\r\n\r\n"), one(b"0123456789")),
        (chunked!("0005\r\nhello\r\n000\r\n\r\n"), one(b"hello")),
        (
            chunked!("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
            all(&[b"hello", b""]),
        ),
        // chunk-size = 1*HEXDIG
        (
            chunked!("0x5\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkSize, 400),
        ),
        (
            chunked!(" 5\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkSize, 400),
        ),
        (
            chunked!("5g\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkSize, 400),
        ),
        (
            chunked!("-5\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkSize, 400),
        ),
        (
            chunked!("+5\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkSize, 400),
        ),
        (chunked!("\r\nhello\r\n0\r\n\r\n"), rej(P::InvalidChunkSize, 400)),
        (chunked!("10000000000000000\r\n"), rej(P::InvalidChunkSize, 400)),
        // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
        (chunked!("5;foo\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5;foo=bar\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5;foo=\"bar baz\"\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (
            chunked!("5;foo=\"a\\\"b;c\"\r\nhello\r\n0\r\n\r\n"),
            one(b"hello"),
        ),
        (chunked!("5;foo=\"\"\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5 ;foo=bar\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5 ; foo = bar\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5\t;\tfoo\t=\tbar\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5;a=1;b;c=\"x\"\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5\r\nhello\r\n0;last=yes\r\n\r\n"), one(b"hello")),
        (
            chunked!("5;\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkExtension, 400),
        ),
        (
            chunked!("5;=bar\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkExtension, 400),
        ),
        (
            chunked!("5;foo=\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkExtension, 400),
        ),
        (
            chunked!("5;f\0o\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkExtension, 400),
        ),
        (
            chunked!("5;f@o\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkExtension, 400),
        ),
        (
            chunked!("5;foo=b@r\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkExtension, 400),
        ),
        (
            chunked!("5;foo bar\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkExtension, 400),
        ),
        (
            chunked!("5;foo=\"bar\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkExtension, 400),
        ),
        (
            chunked!("5;foo=\"a\0b\"\r\nhello\r\n0\r\n\r\n"),
            rej(P::InvalidChunkExtension, 400),
        ),
        // chunk-data CRLF
        (
            chunked!("5\r\nhelloX\r\n0\r\n\r\n"),
            rej(P::MissingChunkCrlf, 400),
        ),
        (chunked!("5\r\nhello0\r\n\r\n"), rej(P::MissingChunkCrlf, 400)),
        (chunked!("3\r\nhello\r\n0\r\n\r\n"), rej(P::MissingChunkCrlf, 400)),
        // bare LF ends no chunk line by default (RFC 9112 2.2)
        (chunked!("5\nhello\r\n0\r\n\r\n"), rej(P::BareLf, 400)),
        (chunked!("5;a=b\nhello\r\n0\r\n\r\n"), rej(P::BareLf, 400)),
        (chunked!("5\r\nhello\r\n0\n\r\n"), rej(P::BareLf, 400)),
        (chunked!("5\r\nhello\r\n0\r\n\n"), rej(P::BareLf, 400)),
    ];
    run_table("chunked_body", &strict(), false, cases);
}

#[test]
fn chunked_body_bare_lf_when_lenient() {
    let cases: &[(&[u8], Verdict)] = &[
        (chunked!("5\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5;a=b\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5\r\nhello\r\n0\n\n"), one(b"hello")),
        (chunked!("5\r\nhello\r\n0\nX: 1\n\n"), one(b"hello")),
        (chunked!("5\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("0x5\nhello\r\n0\r\n\r\n"), rej(P::InvalidChunkSize, 400)),
    ];
    run_table("chunked_bare_lf_lenient", &lenient_bare_lf(), false, cases);
}

// ---- trailers (RFC 9112 7.1.2) ------------------------------------------

#[test]
fn trailer_section() {
    let cases: &[(&[u8], Verdict)] = &[
        (chunked!("0\r\nX-T: 1\r\n\r\n"), one(b"")),
        (
            chunked!("5\r\nhello\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n"),
            one(b"hello"),
        ),
        (chunked!("0\r\nX-T : 1\r\n\r\n"), rej(P::InvalidFieldName, 400)),
        (chunked!("0\r\nX-T: a\0b\r\n\r\n"), rej(P::InvalidFieldValue, 400)),
        (
            chunked!("0\r\nX-T: a\x7fb\r\n\r\n"),
            rej(P::InvalidFieldValue, 400),
        ),
        (
            chunked!("0\r\nX-T: a\r\n b\r\n\r\n"),
            rej(P::InvalidFieldName, 400),
        ),
        (chunked!("0\r\nX-T\r\n\r\n"), rej(P::InvalidFieldName, 400)),
        (chunked!("0\r\nX-T: 1\n\r\n"), rej(P::BareLf, 400)),
    ];
    run_table("trailer_section", &strict(), false, cases);
}

#[test]
fn trailers_are_reported_after_the_data() {
    let mut conn = Connection::server();
    let events = feed(
        &mut conn,
        chunked!("5\r\nhello\r\n0\r\nX-A: 1\r\nX-B: two words\r\n\r\n"),
        &[],
        false,
        &mut answer_404,
    );
    let kinds: Vec<&str> = events.iter().map(Ev::kind).collect();
    assert_eq!(kinds, ["request", "data", "trailers", "end"]);
    assert_eq!(
        events[2],
        Ev::Trailers(vec![
            ("x-a".into(), b"1".to_vec()),
            ("x-b".into(), b"two words".to_vec())
        ])
    );
}

// ---- Host (RFC 9112 3.2, RFC 9110 7.2) ----------------------------------

#[test]
fn host() {
    let cases: &[(&[u8], Verdict)] = &[
        (b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\n\r\n", rej(P::MissingHost, 400)),
        (b"GET / HTTP/1.1\r\nX: 1\r\n\r\n", rej(P::MissingHost, 400)),
        (b"GET / HTTP/1.0\r\n\r\n", one(b"")),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
            rej(P::MultipleHost, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            rej(P::MultipleHost, 400),
        ),
        (
            b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n",
            rej(P::MultipleHost, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n",
            rej(P::InvalidHost, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n",
            rej(P::InvalidHost, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a.example:http\r\n\r\n",
            rej(P::InvalidHost, 400),
        ),
        (b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", rej(P::InvalidHost, 400)),
        (b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", rej(P::InvalidHost, 400)),
        (
            b"GET / HTTP/1.1\r\nHost: a.example/x\r\n\r\n",
            rej(P::InvalidHost, 400),
        ),
        (b"GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\nHost: [2001:db8::7]:80\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\nhOsT: a.example\r\n\r\n", one(b"")),
        // An empty Host names no host: with an origin-form target the
        // target URI would have an empty authority, which RFC 9110 4.2.1
        // says a recipient MUST reject. With an absolute-form target the
        // target names the host (a client sends an empty Host when the
        // target URI has no authority, RFC 9112 3.2).
        (b"GET / HTTP/1.1\r\nHost: \r\n\r\n", rej(P::InvalidHost, 400)),
        (b"GET / HTTP/1.1\r\nHost: :80\r\n\r\n", rej(P::InvalidHost, 400)),
        (b"OPTIONS * HTTP/1.1\r\nHost: \r\n\r\n", rej(P::InvalidHost, 400)),
        (b"GET http://a.example/ HTTP/1.1\r\nHost: \r\n\r\n", one(b"")),
        (b"CONNECT a.example:443 HTTP/1.1\r\nHost: \r\n\r\n", one(b"")),
        // absolute-form: Host is still required, its value is ignored
        // (RFC 9112 3.2, 3.2.2).
        (
            b"GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n",
            one(b""),
        ),
        (
            b"GET http://a.example/ HTTP/1.1\r\n\r\n",
            rej(P::MissingHost, 400),
        ),
    ];
    run_table("host", &strict(), false, cases);
}

#[test]
fn absolute_form_authority_wins_over_host() {
    let mut conn = Connection::server();
    conn.receive(b"GET http://a.example/x?y HTTP/1.1\r\nHost: b.example\r\n\r\n")
        .expect("receive");
    let Ok(Event::Request(head)) = conn.poll_event() else {
        panic!("expected a request");
    };
    assert_eq!(head.target(), b"http://a.example/x?y", "the target as received");
    let req = head.into_request().expect("http types");
    assert_eq!(req.uri().authority().map(|a| a.as_str()), Some("a.example"));
    assert_eq!(req.uri().path(), "/x");
    assert_eq!(req.uri().query(), Some("y"));
}

// ---- request-target forms (RFC 9112 3.2) ---------------------------------

#[test]
fn request_target_forms() {
    let cases: &[(&[u8], Verdict)] = &[
        (b"GET /a/b?c=d HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
        (b"GET //a HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
        (
            b"GET http://a.example/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n",
            one(b""),
        ),
        (
            b"GET http://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n",
            one(b""),
        ),
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", rej(P::InvalidTarget, 400)),
        (
            b"POST * HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (
            b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
            one(b""),
        ),
        (b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n", one(b"")),
        (
            b"CONNECT 192.0.2.1:443 HTTP/1.1\r\nHost: 192.0.2.1:443\r\n\r\n",
            one(b""),
        ),
        (
            b"CONNECT a.example HTTP/1.1\r\nHost: a.example\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (
            b"CONNECT /x HTTP/1.1\r\nHost: a.example\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (
            b"CONNECT * HTTP/1.1\r\nHost: a.example\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (
            b"CONNECT http://a.example:443/ HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (
            b"GET a.example:80 HTTP/1.1\r\nHost: a.example\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (
            b"OPTIONS a.example:80 HTTP/1.1\r\nHost: a.example\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (b"GET foo HTTP/1.1\r\nHost: a\r\n\r\n", rej(P::InvalidTarget, 400)),
    ];
    run_table("request_target_forms", &strict(), false, cases);
}

/// The octets and components an origin-form target may hold (RFC 9112
/// 3.2.1, RFC 3986 3.3, 3.4, 2.1): pchars, `/`, and `?` in the query,
/// with well-formed escapes. No fragment, no other octet, never repaired.
#[test]
fn request_target_octets() {
    let target = |t: &[u8]| [&b"GET "[..], t, b" HTTP/1.1\r\nHost: a\r\n\r\n"].concat();
    let mut cases: Vec<(Vec<u8>, Verdict)> = vec![
        (target(b"/a;b=c/d:e@f!$&'()*+,~-._"), one(b"")),
        (target(b"/a?b=/c?d"), one(b"")),
        (target(b"/%41%7e"), one(b"")),
        (target(b"/a#f"), rej(P::InvalidTarget, 400)),
        (target(b"/a?b#f"), rej(P::InvalidTarget, 400)),
        (target(b"/%zz"), rej(P::InvalidTarget, 400)),
        (target(b"/%"), rej(P::InvalidTarget, 400)),
        (target(b"/%%41"), rej(P::InvalidTarget, 400)),
        (target(b"/a?%4g"), rej(P::InvalidTarget, 400)),
        (target(b"/\xc3\xa9"), rej(P::InvalidTarget, 400)),
        (target(b"http://a.example/#f"), rej(P::InvalidTarget, 400)),
        (target(b"http://a.example/%zz"), rej(P::InvalidTarget, 400)),
        (target(b"http://a.example:8a/"), rej(P::InvalidTarget, 400)),
        (target(b"http://a.example:65536/"), rej(P::InvalidTarget, 400)),
        (target(b"http://[zz]/"), rej(P::InvalidTarget, 400)),
        (target(b"http://user@a.example/"), rej(P::InvalidTarget, 400)),
        (target(b"http://a.ex%41mple/"), one(b"")),
    ];
    // Every visible byte outside the grammar, in a path and in a query.
    for b in br#""<>[\]^`{|}"# {
        cases.push((target(&[b'/', b'a', *b]), rej(P::InvalidTarget, 400)));
        cases.push((target(&[b'/', b'?', *b]), rej(P::InvalidTarget, 400)));
    }
    run_table("request_target_octets", &strict(), false, &cases);
}

/// RFC 9110 9.3.6: a server MUST reject a CONNECT to an empty or invalid
/// port; a Host's port is a port number too.
#[test]
fn ports() {
    let cases: &[(&[u8], Verdict)] = &[
        (
            b"CONNECT a.example:65535 HTTP/1.1\r\nHost: a.example:65535\r\n\r\n",
            one(b""),
        ),
        (
            b"CONNECT a.example:0 HTTP/1.1\r\nHost: a.example\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (
            b"CONNECT a.example:65536 HTTP/1.1\r\nHost: a.example\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (
            b"CONNECT a.example:99999 HTTP/1.1\r\nHost: a.example\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n",
            rej(P::InvalidHost, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a:99999999999999999999\r\n\r\n",
            rej(P::InvalidHost, 400),
        ),
        (b"GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n", rej(P::InvalidHost, 400)),
        (b"GET / HTTP/1.1\r\nHost: a:\r\n\r\n", one(b"")),
    ];
    run_table("ports", &strict(), false, cases);
}

/// RFC 9110 9.3.6: a CONNECT request has no content; one that declares
/// some is refused, since recipients would frame it differently.
#[test]
fn connect_has_no_content() {
    let cases: &[(&[u8], Verdict)] = &[
        (b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nContent-Length: 0\r\n\r\n", one(b"")),
        (
            b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nContent-Length: 5\r\n\r\nhello",
            rej(P::ConnectWithContent, 400),
        ),
        (
            b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            rej(P::ConnectWithContent, 400),
        ),
    ];
    run_table("connect_has_no_content", &strict(), false, cases);
}

/// RFC 9112 2.2: empty lines where a request line may start are ignored,
/// also right before the end of the input.
#[test]
fn empty_lines_before_the_end_are_a_clean_close() {
    let mut conn = Connection::server();
    let events = feed(
        &mut conn,
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n\r\n",
        &[],
        true,
        &mut answer_404,
    );
    assert_eq!(h1_tests::kinds(&events), ["request", "end", "closed"]);
    let mut conn = Connection::server();
    let events = feed(
        &mut conn,
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\nG",
        &[],
        true,
        &mut answer_404,
    );
    assert_eq!(events.last(), Some(&Ev::Error(Incomplete::Head.into())));
}

#[test]
fn request_targets_come_out_as_sent() {
    let cases: &[(&[u8], &str)] = &[
        (b"GET /a/b?c=d HTTP/1.1\r\nHost: a\r\n\r\n", "/a/b?c=d"),
        (b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "*"),
        (
            b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
            "a.example:443",
        ),
        (
            b"GET http://a.example/x?y HTTP/1.1\r\nHost: a.example\r\n\r\n",
            "http://a.example/x?y",
        ),
        // Never rewritten: no `/` added to an empty path, no case changed.
        (
            b"GET http://a.example HTTP/1.1\r\nHost: a\r\n\r\n",
            "http://a.example",
        ),
        (
            b"GET HTTP://A.EXAMPLE/ HTTP/1.1\r\nHost: a\r\n\r\n",
            "HTTP://A.EXAMPLE/",
        ),
        (
            b"OPTIONS http://a.example HTTP/1.1\r\nHost: a\r\n\r\n",
            "http://a.example",
        ),
        (b"GET /%7Efoo/%2e HTTP/1.1\r\nHost: a\r\n\r\n", "/%7Efoo/%2e"),
    ];
    for (input, target) in cases {
        let mut conn = Connection::server();
        let events = feed(&mut conn, input, &[], false, &mut answer_404);
        match events.first() {
            Some(Ev::Request { target: got, .. }) => assert_eq!(got, target),
            other => panic!("{target}: got {other:?}"),
        }
    }
}

// ---- request line (RFC 9112 3, 2.3; RFC 9110 2.5) -----------------------

#[test]
fn request_line() {
    let cases: &[(&[u8], Verdict)] = &[
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
        (
            b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
            rej(P::InvalidRequestLine, 400),
        ),
        (
            b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
            either(P::InvalidRequestLine, P::InvalidVersion, 400),
        ),
        (
            b"GET /\r\nHost: a\r\n\r\n",
            either(P::InvalidRequestLine, P::InvalidVersion, 400),
        ),
        (
            b"GET /some/longer/path\r\nHost: a\r\n\r\n",
            either(P::InvalidRequestLine, P::InvalidVersion, 400),
        ),
        (
            b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
            either(P::InvalidRequestLine, P::InvalidVersion, 400),
        ),
        (
            b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
            rej(P::UnsupportedVersion, 505),
        ),
        (
            b"GET / HTTP/3.0\r\nHost: a\r\n\r\n",
            rej(P::UnsupportedVersion, 505),
        ),
        (
            b"GET / HTTP/0.9\r\nHost: a\r\n\r\n",
            rej(P::UnsupportedVersion, 505),
        ),
        (b"GET / HTTP/1.10\r\nHost: a\r\n\r\n", rej(P::InvalidVersion, 400)),
        (b"GET / HTTP/11\r\nHost: a\r\n\r\n", rej(P::InvalidVersion, 400)),
        (b"GET / HTTP/1.x\r\nHost: a\r\n\r\n", rej(P::InvalidVersion, 400)),
        (b"GET / http/1.1\r\nHost: a\r\n\r\n", rej(P::InvalidVersion, 400)),
        (b"GET / HTTPS/1.1\r\nHost: a\r\n\r\n", rej(P::InvalidVersion, 400)),
        // A higher minor version is processed as 1.1 (RFC 9110 2.5).
        (b"GET / HTTP/1.2\r\nHost: a\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.9\r\nHost: a\r\n\r\n", one(b"")),
        // Empty lines before the request line are ignored (RFC 9112 2.2).
        (b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
        (b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            all(&[b"", b""]),
        ),
        // Methods are case-sensitive tokens (RFC 9110 9.1).
        (b"get / HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
        (b"PURGE / HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
        (b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n", rej(P::InvalidMethod, 400)),
        (b"GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", rej(P::InvalidMethod, 400)),
    ];
    run_table("request_line", &strict(), false, cases);
}

#[test]
fn higher_minor_version_is_processed_as_1_1() {
    for (input, version) in [
        (&b"GET / HTTP/1.2\r\nHost: a\r\n\r\n"[..], Version::HTTP_11),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", Version::HTTP_11),
        (b"GET / HTTP/1.0\r\n\r\n", Version::HTTP_10),
    ] {
        let mut conn = Connection::server();
        conn.receive(input).expect("receive");
        match conn.poll_event() {
            Ok(Event::Request(req)) => assert_eq!(req.version(), version),
            other => panic!("expected a request, got {other:?}"),
        }
    }
}

// ---- field syntax (RFC 9112 5, 2.2; RFC 9110 5.5) -----------------------

#[test]
fn field_syntax() {
    let cases: &[(&[u8], Verdict)] = &[
        (
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        // obs-fold in a request: rejected (RFC 9112 5.2).
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX\0Y: b\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX\x7fY: b\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX(Y: b\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX\rY: b\r\n\r\n",
            either(P::BareCr, P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n",
            rej(P::InvalidFieldValue, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n",
            rej(P::InvalidFieldValue, 400),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n",
            rej(P::InvalidFieldValue, 400),
        ),
        // Whitespace between the start line and the first field (RFC 9112 2.2).
        (
            b"GET / HTTP/1.1\r\n Host: a\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        (
            b"GET / HTTP/1.1\r\n\tHost: a\r\n\r\n",
            rej(P::InvalidFieldName, 400),
        ),
        // Bare LF and bare CR (RFC 9112 2.2).
        (b"GET / HTTP/1.1\nHost: a\n\n", rej(P::BareLf, 400)),
        (b"GET / HTTP/1.1\r\nHost: a\n\r\n", rej(P::BareLf, 400)),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\n", rej(P::BareLf, 400)),
        (b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", rej(P::BareLf, 400)),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: b\rc\r\n\r\n",
            either(P::BareCr, P::InvalidFieldValue, 400),
        ),
        (b"GET / HTTP/1.1\rHost: a\r\n\r\n", rej(P::BareCr, 400)),
        // Valid field lines.
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9 \xff\r\n\r\n",
            one(b""),
        ),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX:b\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: \t \r\n\r\n", one(b"")),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09az: v\r\n\r\n",
            one(b""),
        ),
    ];
    run_table("field_syntax", &strict(), false, cases);
}

#[test]
fn field_syntax_bare_lf_when_lenient() {
    let cases: &[(&[u8], Verdict)] = &[
        (b"GET / HTTP/1.1\nHost: a\n\n", one(b"")),
        (b"GET / HTTP/1.1\r\nHost: a\n\r\n", one(b"")),
        (b"\nGET / HTTP/1.1\nHost: a\n\n", one(b"")),
        (b"POST / HTTP/1.1\nHost: a\nContent-Length: 2\n\nhi", one(b"hi")),
        // Leniency for LF does not extend to a bare CR.
        (b"GET / HTTP/1.1\rHost: a\r\n\r\n", rej(P::BareCr, 400)),
    ];
    run_table("field_syntax_bare_lf_lenient", &lenient_bare_lf(), false, cases);
}

// ---- limits --------------------------------------------------------------

/// A GET whose head is exactly `len` bytes (at least 32).
fn get_of_head_len(len: usize) -> Vec<u8> {
    // "GET / HTTP/1.1\r\n" 16 + "Host: a\r\n" 9 + "X: " 3 + pad + "\r\n\r\n" 4
    let pad = len.checked_sub(32).expect("len >= 32");
    let head = format!("GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n", "p".repeat(pad));
    assert_eq!(head.len(), len);
    head.into_bytes()
}

fn with_prefix(prefix: &[u8], rest: Vec<u8>) -> Vec<u8> {
    let mut v = prefix.to_vec();
    v.extend_from_slice(&rest);
    v
}

#[test]
fn limit_head_size() {
    let mut config = Config::default();
    config.limits.head_size = 40;
    let cases = [
        (get_of_head_len(32), one(b"")),
        (get_of_head_len(40), one(b"")),
        (get_of_head_len(41), rej(L::HeadSize, 431)),
        (get_of_head_len(400), rej(L::HeadSize, 431)),
        // Empty lines before the request line count.
        (with_prefix(b"\r\n", get_of_head_len(38)), one(b"")),
        (with_prefix(b"\r\n", get_of_head_len(39)), rej(L::HeadSize, 431)),
        // A head that never ends is cut off at the limit too.
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nX: "
                .iter()
                .chain(&[b'p'; 100])
                .copied()
                .collect(),
            rej(L::HeadSize, 431),
        ),
        // Each head is measured on its own.
        (
            [get_of_head_len(40), get_of_head_len(40)].concat(),
            all(&[b"", b""]),
        ),
    ];
    run_table("limit_head_size", &config, false, &cases);
}

#[test]
fn limit_header_count() {
    let mut config = Config::default();
    config.limits.header_count = 3;
    let cases: &[(&[u8], Verdict)] = &[
        (b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n\r\n", one(b"")),
        (b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", one(b"")),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
            rej(L::HeaderCount, 431),
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\nA: 1\r\n\r\n",
            rej(L::HeaderCount, 431),
        ),
        // The trailer section has its own count against the same limit.
        (chunked!("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), one(b"")),
        (
            chunked!("0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"),
            rej(L::HeaderCount, 431),
        ),
    ];
    run_table("limit_header_count", &config, false, cases);
}

/// A GET whose request-target is `/` followed by `len - 1` bytes.
fn get_with_target_len(len: usize) -> Vec<u8> {
    format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "t".repeat(len - 1)).into_bytes()
}

#[test]
fn limit_request_target() {
    let mut config = Config::default();
    config.limits.request_target = 16;
    let cases = [
        (get_with_target_len(1), one(b"")),
        (get_with_target_len(15), one(b"")),
        (get_with_target_len(16), one(b"")),
        (get_with_target_len(17), rej(L::RequestTarget, 414)),
        (get_with_target_len(5000), rej(L::RequestTarget, 414)),
        (
            b"GET http://a.example/1234 HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
            rej(L::RequestTarget, 414),
        ),
        (
            b"GET http://a.example/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
            rej(L::RequestTarget, 414),
        ),
        (
            b"GET http://a.exam/ HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
            one(b""),
        ),
    ];
    run_table("limit_request_target", &config, false, &cases);
}

#[test]
fn limit_chunk_line() {
    let mut config = Config::default();
    config.limits.chunk_line = 8;
    let cases: &[(&[u8], Verdict)] = &[
        // "5;abcd\r\n" is exactly 8 bytes.
        (chunked!("5;abcd\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5;abcde\r\nhello\r\n0\r\n\r\n"), rej(L::ChunkLine, 400)),
        (chunked!("000005\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("0000005\r\nhello\r\n0\r\n\r\n"), rej(L::ChunkLine, 400)),
        (
            chunked!("5\r\nhello\r\n0;abcdefgh\r\n\r\n"),
            rej(L::ChunkLine, 400),
        ),
        (
            chunked!("5;aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            rej(L::ChunkLine, 400),
        ),
    ];
    run_table("limit_chunk_line", &config, false, cases);
}

#[test]
fn limit_chunk_extensions() {
    let mut config = Config::default();
    config.limits.chunk_extensions = 10;
    let cases: &[(&[u8], Verdict)] = &[
        (chunked!("5;abcdef\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (chunked!("5;a=1\r\nhello\r\n0;b=2\r\n\r\n"), one(b"hello")),
        // Counted over all the chunks of the message.
        // A chunk pays for 16 + 2 x its size of extension bytes; what is
        // left unpaid adds up over the message (Go's rule).
        (
            chunked!("1;aaaaaaaaaaaaaaaaaaaaaaa\r\nh\r\n1;aaaaaaaaaaaaaaaaaaaaaaa\r\ni\r\n0\r\n\r\n"),
            rej(L::ChunkExtensions, 400),
        ),
        (chunked!("5;abcdef\r\nhello\r\n0;abcdefghijklmnopqrstuvwxyz0\r\n\r\n"), rej(L::ChunkExtensions, 400)),
        (
            chunked!("5;abcdefghijklmnopqrstuvwxyzabcdefghijklmn\r\nhello\r\n0\r\n\r\n"),
            rej(L::ChunkExtensions, 400),
        ),
        // A stream that tags every chunk runs as long as it carries data.
        (
            chunked!("8;abcdefghij\r\n12345678\r\n8;abcdefghij\r\n12345678\r\n8;abcdefghij\r\n12345678\r\n8;abcdefghij\r\n12345678\r\n0\r\n\r\n"),
            one(b"12345678123456781234567812345678"),
        ),
        // Counted per message: the next request starts afresh.
        (
            chunked!("5;abcdef\r\nhello\r\n0\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;abcdef\r\nhello\r\n0\r\n\r\n"),
            all(&[b"hello", b"hello"]),
        ),
    ];
    run_table("limit_chunk_extensions", &config, false, cases);
}

#[test]
fn limit_trailer_size() {
    let mut config = Config::default();
    config.limits.trailer_size = 32;
    let cases: &[(&[u8], Verdict)] = &[
        (chunked!("0\r\nX: 1\r\n\r\n"), one(b"")),
        (chunked!("5\r\nhello\r\n0\r\nX: 1\r\nY: 2\r\n\r\n"), one(b"hello")),
        (
            chunked!("0\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
            rej(L::TrailerSize, 431),
        ),
        (
            chunked!("0\r\nX: 1\r\nY: 2\r\nZ: 3\r\nW: 4\r\nV: 5\r\nU: 6\r\nT: 7\r\n\r\n"),
            rej(L::TrailerSize, 431),
        ),
        (
            chunked!("0\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            rej(L::TrailerSize, 431),
        ),
    ];
    run_table("limit_trailer_size", &config, false, cases);
}

#[test]
fn limit_body_size() {
    let mut config = Config::default();
    config.limits.body_size = Some(10);
    let cases: &[(&[u8], Verdict)] = &[
        (post!("Content-Length: 10\r\n\r\n0123456789"), one(b"0123456789")),
        (post!("Content-Length: 11\r\n\r\n01234567890"), rej(L::BodySize, 413)),
        // Refused from the head alone, before any body byte arrives.
        (post!("Content-Length: 11\r\n\r\n"), rej(L::BodySize, 413)),
        (post!("Content-Length: 18446744073709551615\r\n\r\n"), rej(L::BodySize, 413)),
        (chunked!("6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n"), one(b"0123456789")),
        (chunked!("6\r\n012345\r\n5\r\n67890\r\n0\r\n\r\n"), rej(L::BodySize, 413)),
        (chunked!("b\r\n01234567890\r\n0\r\n\r\n"), rej(L::BodySize, 413)),
        (chunked!("1\r\n0\r\n1\r\n1\r\n1\r\n2\r\n1\r\n3\r\n1\r\n4\r\n1\r\n5\r\n1\r\n6\r\n1\r\n7\r\n1\r\n8\r\n1\r\n9\r\n1\r\n0\r\n0\r\n\r\n"), rej(L::BodySize, 413)),
        // Per message, not per connection.
        (
            post!("Content-Length: 10\r\n\r\n0123456789POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789"),
            all(&[b"0123456789", b"0123456789"]),
        ),
    ];
    run_table("limit_body_size", &config, false, cases);
}

// ---- end of input (RFC 9112 8) -------------------------------------------

#[test]
fn end_of_input() {
    let cases: &[(&[u8], Verdict)] = &[
        (b"", all(&[])),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            all(&[b"", b""]),
        ),
        (post!("Content-Length: 5\r\n\r\nhello"), one(b"hello")),
        (chunked!("5\r\nhello\r\n0\r\n\r\n"), one(b"hello")),
        (b"G", rej(Incomplete::Head, 400)),
        (b"GET / HT", rej(Incomplete::Head, 400)),
        (b"GET / HTTP/1.1\r\nHost: a\r\n", rej(Incomplete::Head, 400)),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r", rej(Incomplete::Head, 400)),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /",
            rej(Incomplete::Head, 400),
        ),
        (
            post!("Content-Length: 10\r\n\r\n"),
            rej(Incomplete::Body { remaining: 10 }, 400),
        ),
        (
            post!("Content-Length: 10\r\n\r\nhello"),
            rej(Incomplete::Body { remaining: 5 }, 400),
        ),
        (chunked!(""), rej(Incomplete::ChunkedBody, 400)),
        (chunked!("5\r\nhel"), rej(Incomplete::ChunkedBody, 400)),
        (chunked!("5\r\nhello"), rej(Incomplete::ChunkedBody, 400)),
        (chunked!("5\r\nhello\r\n"), rej(Incomplete::ChunkedBody, 400)),
        (chunked!("5\r\nhello\r\n0\r\n"), rej(Incomplete::ChunkedBody, 400)),
        (
            chunked!("5\r\nhello\r\n0\r\nX: 1\r\n"),
            rej(Incomplete::ChunkedBody, 400),
        ),
    ];
    run_table("end_of_input", &strict(), true, cases);
}

#[test]
fn eof_mid_body_reports_the_data_first() {
    let mut conn = Connection::server();
    let events = feed(
        &mut conn,
        post!("Content-Length: 10\r\n\r\nhello"),
        &[],
        true,
        &mut answer_404,
    );
    assert_eq!(
        events.iter().skip(1).cloned().collect::<Vec<_>>(),
        [
            Ev::Data(b"hello".to_vec()),
            Ev::Error(Error::Incomplete(Incomplete::Body { remaining: 5 }))
        ]
    );
}

#[test]
fn eof_is_sticky_closed() {
    let mut conn = Connection::server();
    conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("receive");
    assert_eq!(h1_tests::kinds(&drain(&mut conn)), ["request", "end", "paused"]);
    answer_404(&mut conn);
    conn.receive_eof().expect("eof");
    assert!(matches!(conn.poll_event(), Ok(Event::Closed)));
    assert!(matches!(conn.poll_event(), Ok(Event::Closed)));
    assert_eq!(conn.close_reason(), Some(CloseReason::PeerClosed));
}

// ---- persistence (RFC 9112 9.3, 9.6) -------------------------------------

/// Feeds `input` whole, answering each request with `404` and
/// `content-length: 0`, and returns the events and every byte written.
fn serve(input: &[u8]) -> (Connection, Vec<Ev>, Vec<u8>) {
    let mut conn = Connection::server();
    let mut wire = Vec::new();
    let events = feed(&mut conn, input, &[], false, &mut |c: &mut Connection| {
        let res = Response::builder()
            .status(404)
            .header("content-length", "0")
            .body(())
            .expect("valid response");
        c.send_response(res).expect("send_response");
        c.send_end().expect("send_end");
        wire.extend(take_output(c));
    });
    (conn, events, wire)
}

fn count_requests(events: &[Ev]) -> usize {
    events.iter().filter(|e| matches!(e, Ev::Request { .. })).count()
}

/// The field lines of every head in `wire`, lowercased.
fn lowercase(wire: &[u8]) -> String {
    String::from_utf8_lossy(wire).to_ascii_lowercase()
}

#[test]
fn http11_persists_by_default() {
    let (conn, events, wire) = serve(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(h1_tests::kinds(&events), ["request", "end", "request", "end"]);
    assert!(!lowercase(&wire).contains("connection: close"));
    assert_eq!(conn.close_reason(), None);
    assert!(!conn.is_close_wanted());
    assert!(conn.is_read_wanted());
}

#[test]
fn connection_close_stops_parsing_after_that_request() {
    for value in ["close", "Close", "CLOSE", "keep-alive, close", "foo , CLOSE"] {
        // What follows is never parsed: not a request, and not an error.
        let input = format!("GET / HTTP/1.1\r\nHost: a\r\nConnection: {value}\r\n\r\n\0garbage\r\n\r\n");
        let (mut conn, events, wire) = serve(input.as_bytes());
        assert_eq!(
            h1_tests::kinds(&events),
            ["request", "end", "finished"],
            "{value}"
        );
        assert_eq!(conn.close_reason(), Some(CloseReason::PeerAskedClose), "{value}");
        assert!(conn.is_close_wanted(), "{value}");
        assert!(!conn.is_read_wanted(), "{value}");
        // RFC 9112 9.6: the server SHOULD send "close" in its response.
        assert!(lowercase(&wire).contains("\r\nconnection: close\r\n"), "{value}");
        assert!(!drain(&mut conn)
            .iter()
            .any(|e| matches!(e, Ev::Request { .. } | Ev::Error(_))));
    }
}

#[test]
fn connection_close_in_a_second_field_line() {
    let (conn, events, _) = serve(
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    assert_eq!(count_requests(&events), 1);
    assert_eq!(conn.close_reason(), Some(CloseReason::PeerAskedClose));
}

#[test]
fn http10_without_keep_alive_closes() {
    let (conn, events, _) = serve(b"GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n");
    assert_eq!(h1_tests::kinds(&events), ["request", "end", "finished"]);
    assert_eq!(conn.close_reason(), Some(CloseReason::Http10));
    assert!(conn.is_close_wanted());
}

#[test]
fn http10_with_keep_alive_persists() {
    for value in ["keep-alive", "Keep-Alive"] {
        let input = format!(
            "GET /1 HTTP/1.0\r\nConnection: {value}\r\n\r\nGET /2 HTTP/1.0\r\nConnection: {value}\r\n\r\n"
        );
        let (conn, events, wire) = serve(input.as_bytes());
        assert_eq!(
            h1_tests::kinds(&events),
            ["request", "end", "request", "end"],
            "{value}"
        );
        assert_eq!(conn.close_reason(), None, "{value}");
        assert!(!conn.is_close_wanted(), "{value}");
        // Each response says the connection persists (RFC 9112 C.2.2).
        let wire = lowercase(&wire);
        assert_eq!(
            wire.matches("\r\nconnection: keep-alive\r\n").count(),
            2,
            "{value}: {wire}"
        );
    }
}

// ---- pipelining (RFC 9112 9.3.2) -----------------------------------------

fn respond(conn: &mut Connection, status: u16) {
    let res = Response::builder()
        .status(status)
        .header("content-length", "0")
        .body(())
        .expect("valid response");
    conn.send_response(res).expect("send_response");
    conn.send_end().expect("send_end");
    take_output(conn);
}

fn request_summary(ev: &Ev) -> Option<(String, String)> {
    match ev {
        Ev::Request { method, target, .. } => Some((method.clone(), target.clone())),
        _ => None,
    }
}

#[test]
fn pipelined_requests_are_parsed_in_order_one_at_a_time() {
    let mut conn = Connection::server();
    conn.receive(
        b"POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\na\
          GET /2 HTTP/1.1\r\nHost: a\r\n\r\n\
          POST /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nccc\r\n0\r\n\r\n",
    )
    .expect("receive");

    let first = h1_tests::merge_data(drain(&mut conn));
    assert_eq!(h1_tests::kinds(&first), ["request", "data", "end", "paused"]);
    assert_eq!(request_summary(&first[0]), Some(("POST".into(), "/1".into())));
    assert_eq!(first[1], Ev::Data(b"a".to_vec()));
    // Paused stays paused until the response is complete.
    assert!(matches!(conn.poll_event(), Ok(Event::Paused)));
    let res = Response::builder()
        .header("content-length", "2")
        .body(())
        .expect("valid response");
    conn.send_response(res).expect("send_response");
    assert!(matches!(conn.poll_event(), Ok(Event::Paused)));
    conn.send_data(Bytes::from_static(b"ok")).expect("send_data");
    assert!(matches!(conn.poll_event(), Ok(Event::Paused)));
    conn.send_end().expect("send_end");
    take_output(&mut conn);

    let second = h1_tests::merge_data(drain(&mut conn));
    assert_eq!(h1_tests::kinds(&second), ["request", "end", "paused"]);
    assert_eq!(request_summary(&second[0]), Some(("GET".into(), "/2".into())));
    respond(&mut conn, 200);

    let third = h1_tests::merge_data(drain(&mut conn));
    assert_eq!(h1_tests::kinds(&third), ["request", "data", "end", "paused"]);
    assert_eq!(request_summary(&third[0]), Some(("POST".into(), "/3".into())));
    assert_eq!(third[1], Ev::Data(b"ccc".to_vec()));
    respond(&mut conn, 200);

    assert!(drain(&mut conn).is_empty(), "nothing more to parse");
    assert_eq!(conn.buffered_len(), 0, "no byte left over");
}

// ---- Expect: 100-continue (RFC 9110 10.1.1) ------------------------------

#[test]
fn expect_continue_until_100_is_sent() {
    for value in ["100-continue", "100-Continue"] {
        let mut conn = Connection::server();
        let head = format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: {value}\r\n\r\n");
        conn.receive(head.as_bytes()).expect("receive");
        assert_eq!(h1_tests::kinds(&drain(&mut conn)), ["request"]);
        assert!(conn.is_continue_expected(), "{value}");
        let cont = Response::builder().status(100).body(()).expect("valid");
        conn.send_response(cont).expect("100");
        assert_eq!(take_output(&mut conn), b"HTTP/1.1 100 Continue\r\n\r\n");
        assert!(!conn.is_continue_expected(), "{value}");
        conn.receive(b"hello").expect("receive body");
        assert_eq!(
            h1_tests::merge_data(drain(&mut conn)),
            [Ev::Data(b"hello".to_vec()), Ev::End, Ev::Paused]
        );
        assert!(!conn.is_continue_expected());
        respond(&mut conn, 200);
    }
}

#[test]
fn expect_continue_ignored_for_http10() {
    let mut conn = Connection::server();
    conn.receive(b"POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        .expect("receive");
    assert_eq!(h1_tests::kinds(&drain(&mut conn)), ["request"]);
    assert!(!conn.is_continue_expected());
}

#[test]
fn no_expect_no_continue() {
    let mut conn = Connection::server();
    conn.receive(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
        .expect("receive");
    assert_eq!(h1_tests::kinds(&drain(&mut conn)), ["request"]);
    assert!(!conn.is_continue_expected());
}

// ---- upgrade (RFC 9110 7.8) ----------------------------------------------

fn switching() -> Response<()> {
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .body(())
        .expect("valid response")
}

#[test]
fn upgrade_request_switches_on_101() {
    let mut conn = Connection::server();
    conn.receive(
        b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
    )
    .expect("receive");
    assert_eq!(h1_tests::kinds(&drain(&mut conn)), ["request", "end", "paused"]);
    conn.send_response(switching()).expect("101");
    assert_eq!(drain(&mut conn), [Ev::Upgrade(b"\x81\x05hello".to_vec())]);
}

#[test]
fn http10_upgrade_is_ignored() {
    let mut conn = Connection::server();
    conn.receive(b"GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
        .expect("receive");
    assert_eq!(h1_tests::kinds(&drain(&mut conn)), ["request", "end", "paused"]);
    assert_eq!(
        conn.send_response(switching()),
        Err(Error::Misuse(h1::Misuse::SwitchNotRequested))
    );
    respond(&mut conn, 200);
}

#[test]
fn connection_upgrade_without_upgrade_field_is_no_proposal() {
    let mut conn = Connection::server();
    conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n")
        .expect("receive");
    assert_eq!(h1_tests::kinds(&drain(&mut conn)), ["request", "end", "paused"]);
    assert_eq!(
        conn.send_response(switching()),
        Err(Error::Misuse(h1::Misuse::SwitchNotRequested))
    );
    respond(&mut conn, 200);
    assert!(drain(&mut conn).is_empty());
}

#[test]
fn connect_is_a_method_not_an_upgrade() {
    let mut conn = Connection::server();
    conn.receive(b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n")
        .expect("receive");
    let events = drain(&mut conn);
    assert_eq!(h1_tests::kinds(&events), ["request", "end", "paused"]);
    match &events[0] {
        Ev::Request { method, .. } => assert_eq!(method, Method::CONNECT.as_str()),
        other => panic!("{other:?}"),
    }
}

// ---- rules from the rule table (tests/RULES.md) ---------------------------

/// RFC 9112 3 and RFC 9110 4.1 recommend supporting request-lines and
/// URIs of at least 8000 octets: the default limits take them.
#[test]
fn default_limits_accept_8000_octet_request_lines() {
    // A request-line of 8000 octets: "GET " + target + " HTTP/1.1".
    let target_len = 8000 - "GET ".len() - " HTTP/1.1".len();
    let line = format!("GET /{} HTTP/1.1", "a".repeat(target_len - 1));
    assert_eq!(line.len(), 8000);
    let cases = [
        (format!("{line}\r\nHost: a\r\n\r\n").into_bytes(), one(b"")),
        // An absolute-form URI of 8000 octets too.
        (
            format!(
                "GET http://a.example/{} HTTP/1.1\r\nHost: a\r\n\r\n",
                "b".repeat(8000 - 21)
            )
            .into_bytes(),
            one(b""),
        ),
    ];
    run_table("default_limits_8000", &strict(), false, &cases);
}

/// RFC 9110 9.1 (RFC 9112 3.1): methods are case-sensitive. `head` is
/// not HEAD (its response has content), `connect` is not CONNECT (it
/// cannot take the authority-form).
#[test]
fn methods_are_case_sensitive() {
    let mut conn = Connection::server();
    conn.receive(b"head / HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("receive");
    assert_eq!(h1_tests::kinds(&drain(&mut conn)), ["request", "end", "paused"]);
    conn.send_full_response(Response::new(()), Bytes::from_static(b"hi"))
        .expect("response");
    let wire = take_output(&mut conn);
    assert!(wire.ends_with(b"\r\n\r\nhi"), "{}", wire.escape_ascii());

    let cases: &[(&[u8], Verdict)] = &[
        (
            b"connect a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
            rej(P::InvalidTarget, 400),
        ),
        (b"Get / HTTP/1.1\r\nHost: a\r\n\r\n", one(b"")),
    ];
    run_table("methods_are_case_sensitive", &strict(), false, cases);
}

/// RFC 9112 6: a request's body is signalled by Content-Length or
/// Transfer-Encoding whatever its method (CONNECT aside: RFC 9110 9.3.6).
#[test]
fn any_method_may_have_a_body() {
    let cases: &[(&[u8], Verdict)] = &[
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n",
            all(&[b"hello", b""]),
        ),
        (
            b"HEAD / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
            one(b"hi"),
        ),
        (
            b"OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi",
            one(b"hi"),
        ),
        (
            b"DELETE /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
            one(b"abc"),
        ),
    ];
    run_table("any_method_may_have_a_body", &strict(), false, cases);
}

/// Transfer-coding parameters (RFC 9112 7, 7.1, 7.2; RFC 9110 10.1.4,
/// 5.6.3, 5.6.4): chunked and the compression codings take none (an
/// error); other codings take `token BWS "=" BWS ( token / quoted-string )`,
/// quoted commas and semicolons included. A request whose codings are
/// valid but not understood gets 501, one that is not a valid list 400.
#[test]
fn transfer_coding_parameters() {
    let cases: &[(&[u8], Verdict)] = &[
        (
            post!("Transfer-Encoding: chunked;q=1\r\n\r\n2\r\nhi\r\n0\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: chunked ; a=b\r\n\r\n2\r\nhi\r\n0\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: gzip;level=1, chunked\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: deflate;a=b, chunked\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: x-custom;a=b, chunked\r\n\r\n"),
            rej(P::UnsupportedTransferCoding, 501),
        ),
        // BWS around "=" and OWS around ";" (RFC 9110 5.6.3).
        (
            post!("Transfer-Encoding: x-custom ; a = b , chunked\r\n\r\n"),
            rej(P::UnsupportedTransferCoding, 501),
        ),
        // A comma or semicolon inside a quoted-string separates nothing
        // (RFC 9110 5.6.4).
        (
            post!("Transfer-Encoding: x;a=\"b,chunked\", chunked\r\n\r\n"),
            rej(P::UnsupportedTransferCoding, 501),
        ),
        (
            post!("Transfer-Encoding: x;a=\"b;c\", chunked\r\n\r\n"),
            rej(P::UnsupportedTransferCoding, 501),
        ),
        // A parameter without a value, or an unterminated quote, is no
        // transfer-parameter.
        (
            post!("Transfer-Encoding: x-custom;a, chunked\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
        (
            post!("Transfer-Encoding: x;a=\"b, chunked\r\n\r\n"),
            rej(P::InvalidTransferEncoding, 400),
        ),
    ];
    run_table("transfer_coding_parameters", &strict(), false, cases);
}

/// RFC 9112 7.1.2, RFC 9110 6.5.1: trailer fields stay apart from the
/// header section; framing fields among them change nothing.
#[test]
fn trailer_fields_are_never_merged() {
    let input = chunked!(
        "2\r\nhi\r\n0\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\nHost: b\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n"
    );
    let cases: &[(&[u8], Verdict)] = &[(input, all(&[b"hi", b""]))];
    run_table("trailer_fields_are_never_merged", &strict(), false, cases);
    let mut conn = Connection::server();
    let events = feed(&mut conn, input, &[], false, &mut answer_404);
    let Some(Ev::Request { headers, .. }) = events.first() else {
        panic!("{events:?}");
    };
    assert_eq!(
        headers,
        &[
            ("host".to_owned(), b"a".to_vec()),
            ("transfer-encoding".to_owned(), b"chunked".to_vec())
        ],
        "the header section as received"
    );
    assert!(events.contains(&Ev::Trailers(vec![
        ("content-length".into(), b"99".to_vec()),
        ("transfer-encoding".into(), b"chunked".to_vec()),
        ("host".into(), b"b".to_vec()),
    ])));
}

/// RFC 9112 6.1: a server that receives both Content-Length and
/// Transfer-Encoding MUST close the connection after responding.
#[test]
fn content_length_and_transfer_encoding_close_the_connection() {
    for input in [
        post!("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        post!("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ] {
        let mut conn = Connection::server();
        conn.receive(input).expect("receive");
        let err = conn.poll_event().expect_err("CL and TE");
        assert_eq!(err, Error::Protocol(P::ContentLengthAndTransferEncoding));
        assert!(conn.send_error_response(&err), "one response");
        let wire = String::from_utf8_lossy(&take_output(&mut conn)).to_ascii_lowercase();
        assert!(wire.starts_with("http/1.1 400 "), "{wire}");
        assert!(wire.contains("\r\nconnection: close\r\n"), "{wire}");
        assert!(conn.is_close_wanted());
        assert!(!conn.is_read_wanted());
    }
}

/// RFC 9112 9.6: a server that sends `close` processes no request after.
#[test]
fn a_server_that_sends_close_reads_no_further_request() {
    let mut conn = Connection::server();
    conn.receive(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("receive");
    assert_eq!(h1_tests::kinds(&drain(&mut conn)), ["request", "end", "paused"]);
    let res = Response::builder()
        .header("connection", "close")
        .header("content-length", "0")
        .body(())
        .expect("valid response");
    conn.send_response(res).expect("send_response");
    conn.send_end().expect("send_end");
    take_output(&mut conn);
    assert_eq!(
        drain(&mut conn),
        [Ev::Finished],
        "the second request is never read"
    );
    assert!(conn.is_close_wanted());
    assert_eq!(conn.close_reason(), Some(CloseReason::WeAskedClose));
}

/// The absolute-form's URI grammar (RFC 3986 3.1, 3.2; RFC 9110 4.2):
/// a scheme, `//`, an authority without userinfo for http(s), a non-empty
/// host for http(s), a port of digits; the target kept as received.
#[test]
fn absolute_form_grammar() {
    let target = |t: &str| format!("GET {t} HTTP/1.1\r\nHost: a\r\n\r\n").into_bytes();
    let cases = [
        (target("http://a.example/"), one(b"")),
        (target("HtTp://a.example/"), one(b"")),
        (target("coap+tcp://a.example/"), one(b"")),
        (target("ftp://u:p@a.example/f"), one(b"")),
        (target("http://a.example:/"), one(b"")),
        (target("http://[2001:db8::1]:8080/"), one(b"")),
        (target("http://[v7.a:b]/"), one(b"")),
        (target("http://a%2Dexample/"), one(b"")),
        (target("http://a.example?q"), one(b"")),
        (target("1http://a.example/"), rej(P::InvalidTarget, 400)),
        (target("h_t://a.example/"), rej(P::InvalidTarget, 400)),
        (target("http:/a.example/"), rej(P::InvalidTarget, 400)),
        (target("http://"), rej(P::InvalidTarget, 400)),
        (target("http:///x"), rej(P::InvalidTarget, 400)),
        (target("https://:443/"), rej(P::InvalidTarget, 400)),
        (target("http://@a.example/"), rej(P::InvalidTarget, 400)),
        (target("http://a.example:80:80/"), rej(P::InvalidTarget, 400)),
        (target("http://[::1/"), rej(P::InvalidTarget, 400)),
        (target("http://[::1]x/"), rej(P::InvalidTarget, 400)),
        (target("http://a%4/"), rej(P::InvalidTarget, 400)),
        (
            target("http://a b/"),
            either(P::InvalidRequestLine, P::InvalidVersion, 400),
        ),
    ];
    run_table("absolute_form_grammar", &strict(), false, &cases);
}

/// RFC 9110 5.3: a server must not act on a request before its whole
/// header section is in: no request is reported before the empty line.
#[test]
fn no_request_before_its_whole_head() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\nX-Later: 1\r\n\r\n";
    let mut conn = Connection::server();
    for (i, byte) in input.iter().enumerate() {
        conn.receive(&[*byte]).expect("receive");
        let events = drain(&mut conn);
        if i + 1 < input.len() {
            assert!(events.is_empty(), "after byte {i}: {events:?}");
        } else {
            assert_eq!(h1_tests::kinds(&events), ["request", "end", "paused"]);
        }
    }
}

/// RFC 9110 5.5, RFC 9112 2.2: obs-text in a field value is kept as the
/// octets that came, in requests and responses alike.
#[test]
fn obs_text_in_values_is_kept_as_it_came() {
    let value = b"caf\xc3\xa9 \xff\x80";
    let mut conn = Connection::server();
    conn.receive(&[&b"GET / HTTP/1.1\r\nHost: a\r\nX: "[..], value, b"\r\n\r\n"].concat())
        .expect("receive");
    let Ok(Event::Request(head)) = conn.poll_event() else {
        panic!("expected a request");
    };
    assert_eq!(head.fields().get("x"), Some(&value[..]));

    let mut client = Connection::client();
    client
        .send_request(
            h1::http::Request::get("http://a.example/")
                .body(())
                .expect("valid"),
        )
        .expect("request");
    client.send_end().expect("end");
    client
        .receive(
            &[
                &b"HTTP/1.1 200 OK\r\nX: "[..],
                value,
                b"\r\nContent-Length: 0\r\n\r\n",
            ]
            .concat(),
        )
        .expect("receive");
    let Ok(Event::Response(head)) = client.poll_event() else {
        panic!("expected a response");
    };
    assert_eq!(head.fields().get("x"), Some(&value[..]));
}

/// RFC 9110 7.6.1 and 7.8: an Upgrade field without the `upgrade`
/// connection option proposes nothing; the connection stays HTTP.
#[test]
fn upgrade_without_the_connection_option_is_no_proposal() {
    let mut conn = Connection::server();
    conn.receive(
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
    )
    .expect("receive");
    let events = drain(&mut conn);
    assert_eq!(h1_tests::kinds(&events), ["request", "end", "paused"]);
    assert_eq!(
        conn.send_response(switching()),
        Err(Error::Misuse(h1::Misuse::SwitchNotRequested))
    );
    respond(&mut conn, 200);
    let events = drain(&mut conn);
    assert!(
        matches!(events.first(), Some(Ev::Request { target, .. }) if target == "/next"),
        "{events:?}"
    );
}
