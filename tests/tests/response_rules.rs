//! Table tests for the rules a client applies to the responses it receives
//! (RFC 9110, RFC 9112), one line per case.
//!
//! Each case sends its requests first (`send_request` then `send_end`),
//! then feeds the response bytes whole and byte by byte; both must give
//! the expected transcript.

use bytes::Bytes;
use h1::http::{Request, Version};
use h1::{
    CloseReason, Config, Connection, Error, Event, Incomplete, Misuse, ProtocolError, ReasonPhrase, Role,
};
use h1_tests::{feed, take_output, Ev};

// ---- table machinery ---------------------------------------------------

/// The requests a case sends first.
#[derive(Clone, Copy, Debug)]
enum Q {
    Get,
    Head,
    /// `CONNECT a.example:443`.
    Connect,
    /// A GET asking to upgrade to websocket.
    Upgrade,
}

fn request(q: Q) -> Request<()> {
    let builder = match q {
        Q::Get => Request::get("http://a.example/"),
        Q::Head => Request::head("http://a.example/"),
        Q::Connect => Request::connect("a.example:443"),
        Q::Upgrade => Request::get("http://a.example/chat")
            .header("connection", "upgrade")
            .header("upgrade", "websocket"),
    };
    builder.body(()).expect("valid request")
}

/// A client connection that sent `reqs` (without bodies).
fn client_after(config: &Config, reqs: &[Q]) -> Connection {
    let mut conn = Connection::new(Role::Client, config.clone());
    for &q in reqs {
        conn.send_request(request(q)).expect("send_request");
        conn.send_end().expect("send_end");
    }
    take_output(&mut conn);
    conn
}

/// A transcript step, as expected.
#[derive(Clone, Debug, PartialEq, Eq)]
enum S {
    /// Informational response with this status.
    I(u16),
    /// Final response (or 101) with this status.
    R(u16),
    /// Body bytes (merged).
    D(Vec<u8>),
    Trailers,
    End,
    /// Switched, with this leftover.
    Up(Vec<u8>),
    Closed,
    /// Nothing more will be read.
    Finished,
    /// Receive error.
    E(Error),
    /// Either of two receive errors the docs both allow (expected side only).
    Either(Error, Error),
}

fn d(bytes: &[u8]) -> S {
    S::D(bytes.to_vec())
}

fn up(bytes: &[u8]) -> S {
    S::Up(bytes.to_vec())
}

fn e(err: impl Into<Error>) -> S {
    S::E(err.into())
}

fn summarize(events: Vec<Ev>) -> Vec<S> {
    events
        .into_iter()
        .map(|ev| match ev {
            Ev::Informational(s) => S::I(s),
            Ev::Response { status, .. } => S::R(status),
            Ev::Data(b) => S::D(b),
            Ev::Trailers(_) => S::Trailers,
            Ev::End => S::End,
            Ev::Upgrade(b) => S::Up(b),
            Ev::Closed => S::Closed,
            Ev::Finished => S::Finished,
            Ev::Error(e) => S::E(e),
            other => panic!("a client reported {other:?}"),
        })
        .collect()
}

fn matches_expected(want: &[S], got: &[S]) -> bool {
    want.len() == got.len()
        && want.iter().zip(got).all(|(w, g)| match (w, g) {
            (S::Either(a, b), S::E(e)) => e == a || e == b,
            _ => w == g,
        })
}

type Case = (&'static [Q], &'static [u8], bool, Vec<S>);

/// Runs every case whole and byte by byte (for a switch, byte by byte up
/// to the head that switches, then the rest at once, so that the leftover
/// is the same); reports all failures at once.
fn run_table(name: &str, config: &Config, cases: &[Case]) {
    let mut failures = Vec::new();
    for (i, (reqs, input, eof, want)) in cases.iter().enumerate() {
        let leftover = want.iter().find_map(|s| match s {
            S::Up(b) => Some(b.len()),
            _ => None,
        });
        let head_end = input.len() - leftover.unwrap_or(0);
        let bytewise: Vec<usize> = (1..head_end).collect();
        for (how, cuts) in [("whole", &[][..]), ("byte by byte", &bytewise[..])] {
            let run = std::panic::catch_unwind(|| {
                let mut conn = client_after(config, reqs);
                summarize(feed(&mut conn, input, cuts, *eof, &mut |_: &mut Connection| {}))
            });
            let got = match run {
                Ok(got) => got,
                Err(panic) => {
                    failures.push(format!(
                        "{name}[{i}] ({how}) {reqs:?} {:?}: PANICKED: {}",
                        String::from_utf8_lossy(input),
                        panic_message(&panic)
                    ));
                    continue;
                }
            };
            if !matches_expected(want, &got) {
                failures.push(format!(
                    "{name}[{i}] ({how}) {reqs:?} {:?}:\n    got  {got:?}\n    want {want:?}",
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

use ProtocolError as P;
use Q::{Connect, Get, Head, Upgrade};
use S::{Closed, End, I, R};

// ---- framing (RFC 9112 6.3) ------------------------------------------------

#[test]
fn response_framing() {
    let cases: Vec<Case> = vec![
        // Item 4: a final coding other than chunked is read until close,
        // even with chunked before it.
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\nTAIL",
            true,
            vec![R(200), d(b"2\r\nok\r\n0\r\n\r\nTAIL"), End, Closed],
        ),
        // The same with the codings on two lines (RFC 9110 5.3).
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n2\r\nok\r\n0\r\n\r\nTAIL",
            true,
            vec![R(200), d(b"2\r\nok\r\n0\r\n\r\nTAIL"), End, Closed],
        ),
        // RFC 9112 7.1, 7.2: chunked and gzip define no parameters: an error.
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            false,
            vec![e(P::InvalidTransferEncoding)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip;level=1\r\n\r\nxx",
            false,
            vec![e(P::InvalidTransferEncoding)],
        ),
        // An unknown coding's parameters, quoted commas and semicolons
        // included, are parameters; chunked is final.
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: x-t;a=\"b,c;d\" , chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            false,
            vec![R(200), d(b"ok"), End],
        ),
        // Robustness: an empty line before the status line is skipped.
        (&[Get], b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, vec![R(200), d(b"ok"), End]),
        // Body size limit in the client role too: see body_size_applies_to_responses.
        (&[Get], b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, vec![R(200), d(b"hello"), End]),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            false,
            vec![R(200), d(b"hello"), End],
        ),
        // HEAD, 204 and 304 responses end at their head (item 1).
        (&[Head], b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, vec![R(200), End]),
        (&[Head], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, vec![R(200), End]),
        (
            &[Head, Get],
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            false,
            vec![R(200), End, R(200), d(b"hi"), End],
        ),
        (&[Get], b"HTTP/1.1 204 No Content\r\n\r\n", false, vec![R(204), End]),
        (
            &[Get, Get],
            b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            false,
            vec![R(204), End, R(200), d(b"hi"), End],
        ),
        (
            &[Get, Get],
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            false,
            vec![R(304), End, R(200), d(b"hi"), End],
        ),
        // Close-delimited (item 8): runs to the end of input.
        (&[Get], b"HTTP/1.0 200 OK\r\n\r\nabc", true, vec![R(200), d(b"abc"), End, Closed]),
        (&[Get], b"HTTP/1.1 200 OK\r\n\r\nabc", true, vec![R(200), d(b"abc"), End, Closed]),
        (&[Get], b"HTTP/1.1 200 OK\r\n\r\n", true, vec![R(200), End, Closed]),
        // Transfer-Encoding without chunked last (item 4).
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc",
            true,
            vec![R(200), d(b"abc"), End, Closed],
        ),
        // Smuggling defences.
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            false,
            vec![e(P::ContentLengthAndTransferEncoding)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
            false,
            vec![e(P::InvalidContentLength)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            false,
            vec![e(P::InvalidContentLength)],
        ),
        (&[Get], b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", false, vec![e(P::InvalidContentLength)]),
        (
            &[Get],
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            false,
            vec![e(P::TransferEncodingInHttp10)],
        ),
        // A response carrying "close" ends the connection after it.
        (
            &[Get, Get],
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![R(200), d(b"hi"), End, S::Finished],
        ),
    ];
    run_table("response_framing", &Config::default(), &cases);
}

// ---- 1xx, 101 and CONNECT (RFC 9110 15.2, 7.8, 9.3.6) ----------------------

#[test]
fn informational_and_switching() {
    let cases: Vec<Case> = vec![
        (
            &[Get],
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![I(100), R(200), End],
        ),
        (
            &[Get],
            b"HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![I(102), R(200), End],
        ),
        (
            &[Get],
            b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            false,
            vec![I(103), R(200), d(b"hi"), End],
        ),
        (
            &[Get],
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </b>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            false,
            vec![I(100), I(103), I(103), I(102), R(200), d(b"hi"), End],
        ),
        // A 1xx ends at its head, whatever its fields say (RFC 9112 6.3).
        (
            &[Get],
            b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![I(100), R(200), End],
        ),
        // 101 to a request that asked: switch, leftover exact.
        (
            &[Upgrade],
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
            false,
            vec![R(101), up(b"\x81\x05hello")],
        ),
        (
            &[Upgrade],
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            false,
            vec![R(101), up(b"")],
        ),
        (
            &[Upgrade],
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
            false,
            vec![I(100), R(101), up(b"HTTP/1.1 200 OK\r\n\r\n")],
        ),
        // Declined upgrade: an ordinary response.
        (
            &[Upgrade],
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            false,
            vec![R(200), d(b"hi"), End],
        ),
        // 101 without asking.
        (
            &[Get],
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
            false,
            vec![e(P::UnexpectedSwitch)],
        ),
        // 2xx to CONNECT switches; its Content-Length and
        // Transfer-Encoding are ignored (RFC 9110 9.3.6).
        (
            &[Connect],
            b"HTTP/1.1 200 Connection Established\r\nContent-Length: 5\r\n\r\nhelloMORE",
            false,
            vec![R(200), up(b"helloMORE")],
        ),
        (
            &[Connect],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello",
            false,
            vec![R(200), up(b"5\r\nhello")],
        ),
        (&[Connect], b"HTTP/1.1 204 No Content\r\n\r\nxyz", false, vec![R(204), up(b"xyz")]),
        // Non-2xx to CONNECT: a normal body.
        (
            &[Connect],
            b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n\r\nhello",
            false,
            vec![R(407), d(b"hello"), End],
        ),
        (
            &[Connect],
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 502 Bad Gateway\r\nContent-Length: 2\r\n\r\nno",
            false,
            vec![I(100), R(502), d(b"no"), End],
        ),
    ];
    run_table("informational_and_switching", &Config::default(), &cases);
}

// ---- status line and fields (RFC 9112 4, 5, 2.2, 2.3) ----------------------

#[test]
fn status_line_and_fields() {
    let cases: Vec<Case> = vec![
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![R(200), End],
        ),
        (
            &[Get],
            b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::InvalidStatusLine)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
            false,
            vec![R(200), End],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 \xc3\xa9t\xe9 \x80\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![R(200), End],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 All\tgood\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![R(200), End],
        ),
        (
            &[Get],
            b"HTTP/1.1 599 Whatever\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![R(599), End],
        ),
        (
            &[Get],
            b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::InvalidStatusLine)],
        ),
        (
            &[Get],
            b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::InvalidStatusLine)],
        ),
        (
            &[Get],
            b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::InvalidStatusLine)],
        ),
        (
            &[Get],
            b"HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::InvalidStatusLine)],
        ),
        (
            &[Get],
            b"http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![S::Either(P::InvalidVersion.into(), P::InvalidStatusLine.into())],
        ),
        (
            &[Get],
            b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::UnsupportedVersion)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::InvalidFieldValue)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nX: a\x7fb\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::InvalidFieldValue)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::InvalidFieldName)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
            false,
            vec![e(P::BareLf)],
        ),
        // obs-fold in a response (RFC 9112 5.2).
        (
            &[Get],
            // Whitespace before the first field line is no fold (RFC 9112 2.2).
            b"HTTP/1.1 200 OK\r\n  X: a\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::InvalidFieldName)],
        ),
        (
            &[Get],
            // A user agent MUST replace obs-fold with SP (RFC 9112 section 5.2).
            b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![R(200), End],
        ),
    ];
    run_table("status_line_and_fields", &Config::default(), &cases);
}

// ---- what arrives when nothing was asked, and end of input ---------------

#[test]
fn unsolicited_and_end_of_input() {
    let cases: Vec<Case> = vec![
        (
            &[],
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec![e(P::UnsolicitedResponse)],
        ),
        (&[], b"H", false, vec![e(P::UnsolicitedResponse)]),
        (&[], b"", true, vec![Closed]),
        (&[Get], b"", true, vec![e(Incomplete::NoResponse)]),
        (
            &[Get, Get],
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            true,
            vec![R(200), End, e(Incomplete::NoResponse)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nContent-",
            true,
            vec![e(Incomplete::Head)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
            true,
            vec![R(200), d(b"hello"), e(Incomplete::Body { remaining: 5 })],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
            true,
            vec![R(200), d(b"hello"), e(Incomplete::ChunkedBody)],
        ),
        (
            &[Get],
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            true,
            vec![R(200), d(b"hi"), End, Closed],
        ),
    ];
    run_table("unsolicited_and_end_of_input", &Config::default(), &cases);
}

// ---- pipelining (RFC 9112 9.3.2) -------------------------------------------

#[test]
fn pipelined_responses_match_requests_in_order() {
    let cases: Vec<Case> = vec![(
        &[Head, Get, Get],
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello\
          HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nworld\r\n0\r\n\r\n",
        false,
        vec![R(200), End, R(200), d(b"hello"), End, R(200), d(b"world"), End],
    )];
    run_table("pipelined", &Config::default(), &cases);
}

// ---- obs-fold (RFC 9112 5.2) ----------------------------------------------

/// A user agent MUST replace each obs-fold in a response with SP: the
/// default. A proxy may refuse the response instead (then answers 502).
#[test]
fn obs_fold_in_responses_is_unfolded_by_default() {
    let config = Config::default();
    let input: &[u8] = b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\tc\r\nY: d\r\nContent-Length: 2\r\n\r\nhi";
    let bytewise: Vec<usize> = (1..input.len()).collect();
    for cuts in [&[][..], &bytewise[..]] {
        let mut conn = client_after(&config, &[Get]);
        let events = feed(&mut conn, input, cuts, false, &mut |_: &mut Connection| {});
        assert_eq!(h1_tests::kinds(&events), ["response", "data", "end"]);
        let Ev::Response { headers, .. } = &events[0] else {
            unreachable!()
        };
        let x = headers
            .iter()
            .find(|(n, _)| n == "x")
            .map(|(_, v)| v.clone())
            .expect("x");
        // Each fold replaced by one or more SP; OWS around the value dropped.
        let words: Vec<&[u8]> = x.split(|&b| b == b' ').filter(|w| !w.is_empty()).collect();
        assert_eq!(
            words,
            [&b"a"[..], b"b", b"c"],
            "{:?}",
            String::from_utf8_lossy(&x)
        );
        assert!(!x.iter().any(|&b| b == b'\r' || b == b'\n' || b == b'\t'));
        assert!(headers.contains(&("y".into(), b"d".to_vec())));
        assert_eq!(events[1], Ev::Data(b"hi".to_vec()));
    }
    let mut proxy = Config::default();
    proxy.response_obs_fold = h1::ObsFold::Reject;
    let mut conn = client_after(&proxy, &[Get]);
    conn.receive(input).expect("receive");
    assert!(matches!(
        conn.poll_event(),
        Err(Error::Protocol(ProtocolError::InvalidFieldName))
    ));
}

#[test]
fn obs_fold_in_a_request_is_refused() {
    let config = Config::default();
    let mut conn = Connection::new(Role::Server, config);
    conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n")
        .expect("receive");
    assert!(matches!(
        conn.poll_event(),
        Err(Error::Protocol(ProtocolError::InvalidFieldName))
    ));
}

// ---- reason phrase ---------------------------------------------------------

fn first_head(input: &[u8]) -> h1::ResponseHead {
    let mut conn = client_after(&Config::default(), &[Get]);
    conn.receive(input).expect("receive");
    match conn.poll_event() {
        Ok(Event::Response(res)) => res,
        other => panic!("expected a response, got {other:?}"),
    }
}

fn first_response(input: &[u8]) -> h1::http::Response<()> {
    first_head(input).into_response().expect("http types")
}

#[test]
fn raw_reason_phrase_is_available() {
    assert_eq!(
        first_head(b"HTTP/1.1 200 \xc3\xa9t\xe9 \x80\r\n\r\n").reason(),
        b"\xc3\xa9t\xe9 \x80"
    );
    assert_eq!(first_head(b"HTTP/1.1 200 OK\r\n\r\n").reason(), b"OK");
    assert_eq!(first_head(b"HTTP/1.1 200 \r\n\r\n").reason(), b"");
    let res = first_response(b"HTTP/1.1 200 \xc3\xa9t\xe9 \x80\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.extensions().get::<ReasonPhrase>(),
        Some(&ReasonPhrase(Bytes::from_static(b"\xc3\xa9t\xe9 \x80")))
    );

    let res = first_response(b"HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(
        res.extensions().get::<ReasonPhrase>(),
        Some(&ReasonPhrase(Bytes::from_static(b"Nope")))
    );

    let res = first_response(b"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
    assert_eq!(
        res.extensions().get::<ReasonPhrase>(),
        Some(&ReasonPhrase(Bytes::new()))
    );

    // The canonical phrase is not attached.
    let res = first_response(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(res.extensions().get::<ReasonPhrase>(), None);
}

#[test]
fn response_version_is_reported() {
    assert_eq!(
        first_response(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").version(),
        Version::HTTP_10
    );
    assert_eq!(
        first_response(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").version(),
        Version::HTTP_11
    );
    // A higher minor version is processed as 1.1 (RFC 9110 2.5).
    assert_eq!(
        first_response(b"HTTP/1.7 200 OK\r\nContent-Length: 0\r\n\r\n").version(),
        Version::HTTP_11
    );
}

// ---- after a switch --------------------------------------------------------

#[test]
fn nothing_follows_the_upgrade() {
    let mut conn = client_after(&Config::default(), &[Upgrade]);
    conn.receive(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nab")
        .expect("receive");
    let events = h1_tests::drain(&mut conn);
    assert_eq!(h1_tests::kinds(&events), ["response", "upgrade"]);
    assert_eq!(events[1], Ev::Upgrade(b"ab".to_vec()));
    assert!(matches!(conn.poll_event(), Ok(Event::Finished)));
    assert_eq!(
        conn.receive(b"more"),
        Err(Error::Misuse(Misuse::InputAfterSwitch))
    );
    assert!(!conn.is_read_wanted());
    assert!(!conn.is_close_wanted());
}

/// RFC 9110 7.8: a 101 names a protocol the client offered.
#[test]
fn a_101_must_name_an_offered_protocol() {
    for input in [
        &b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\nRAW"[..],
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\nRAW",
    ] {
        let mut conn = client_after(&Config::default(), &[Upgrade]);
        conn.receive(input).expect("receive");
        assert_eq!(
            conn.poll_event().map(|e| format!("{e:?}")),
            Err(Error::Protocol(ProtocolError::UnexpectedSwitch)),
            "{}",
            input.escape_ascii()
        );
    }
}

/// `Limits::body_size` bounds a response body the same way as a request
/// body, whatever its framing.
#[test]
fn body_size_applies_to_responses() {
    let mut config = Config::default();
    config.limits.body_size = Some(4);
    for input in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\nhello",
    ] {
        let mut conn = client_after(&config, &[Get]);
        let events = feed(&mut conn, input, &[], true, &mut |_: &mut Connection| {});
        assert_eq!(
            events.last(),
            Some(&Ev::Error(h1::LimitError::BodySize.into())),
            "{}",
            input.escape_ascii()
        );
    }
    let mut conn = client_after(&config, &[Get]);
    let events = feed(
        &mut conn,
        b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhell",
        &[],
        false,
        &mut |_: &mut Connection| {},
    );
    assert_eq!(h1_tests::kinds(&events), ["response", "data", "end"]);
}

#[test]
fn response_with_close_makes_the_client_close() {
    let mut conn = client_after(&Config::default(), &[Get]);
    conn.receive(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        .expect("receive");
    assert_eq!(
        h1_tests::kinds(&h1_tests::drain(&mut conn)),
        ["response", "end", "finished"]
    );
    assert_eq!(conn.close_reason(), Some(CloseReason::PeerAskedClose));
    assert!(conn.is_close_wanted());
}

// ---- rules from the rule table (tests/RULES.md) ---------------------------

/// RFC 9112 9.3 and 9.6: an HTTP/1.0 response without `keep-alive` (or
/// any response with `close`) ends the connection: the client sends no
/// further request on it. With `keep-alive` it persists.
#[test]
fn http10_response_without_keep_alive_ends_the_connection() {
    for (input, reason) in [
        (
            &b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"[..],
            CloseReason::Http10,
        ),
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
            CloseReason::PeerAskedClose,
        ),
    ] {
        let mut conn = client_after(&Config::default(), &[Get]);
        let events = feed(&mut conn, input, &[], false, &mut |_: &mut Connection| {});
        assert_eq!(
            h1_tests::kinds(&events),
            ["response", "data", "end", "finished"],
            "{}",
            input.escape_ascii()
        );
        assert_eq!(conn.close_reason(), Some(reason));
        assert!(conn.is_close_wanted());
        assert!(matches!(
            conn.send_request(request(Get)),
            Err(Error::Misuse(Misuse::WrongState { .. }))
        ));
    }
    let mut conn = client_after(&Config::default(), &[Get]);
    let events = feed(
        &mut conn,
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
        &[],
        false,
        &mut |_: &mut Connection| {},
    );
    assert_eq!(h1_tests::kinds(&events), ["response", "data", "end"]);
    assert_eq!(conn.close_reason(), None);
    conn.send_request(request(Get)).expect("the connection persists");
}

/// RFC 9112 9.2: data with no request outstanding is never a response,
/// whatever it is (the client then closes the connection).
#[test]
fn data_after_the_last_response_is_not_a_response() {
    for extra in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"[..],
        b"\r\n",
        b"x",
    ] {
        let mut conn = client_after(&Config::default(), &[Get]);
        let input = [&b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"[..], extra].concat();
        let events = feed(&mut conn, &input, &[], false, &mut |_: &mut Connection| {});
        assert_eq!(
            summarize(events),
            [R(200), d(b"ok"), End, e(P::UnsolicitedResponse)],
            "{}",
            extra.escape_ascii()
        );
        assert!(conn.is_close_wanted());
    }
}

/// RFC 9110 7.8: protocol names are compared without regard to case.
#[test]
fn protocol_names_match_without_case() {
    let mut conn = client_after(&Config::default(), &[Upgrade]);
    let events = feed(
        &mut conn,
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n\r\nRAW",
        &[],
        false,
        &mut |_: &mut Connection| {},
    );
    assert_eq!(summarize(events), [R(101), up(b"RAW")]);
}
