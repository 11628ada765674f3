//! Encoder rules in both roles: the framing the connection chooses, the
//! exact bytes it writes (from `take_output`), and the misuse it refuses
//! (RFC 9110, RFC 9112).

use bytes::Bytes;
use h1::http::header::{HeaderName, HeaderValue};
use h1::http::{HeaderMap, Method, Request, Response, StatusCode, Version};
use h1::{Connection, Error, Misuse, ProtocolError, State};
use h1_tests::{drain, take_output, Ev};

// ---- helpers -------------------------------------------------------------

/// A server that received `request` (its head, and its body if complete).
fn server_with(request: &[u8]) -> Connection {
    let mut conn = Connection::server();
    conn.receive(request).expect("receive");
    let events = drain(&mut conn);
    assert!(
        matches!(events.first(), Some(Ev::Request { .. })),
        "no request in {events:?}"
    );
    conn
}

const GET11: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
const GET10: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

fn response(status: u16, fields: &[(&str, &str)]) -> Response<()> {
    let mut builder = Response::builder().status(status);
    for (n, v) in fields {
        builder = builder.header(*n, *v);
    }
    builder.body(()).expect("valid response")
}

/// A wire message split into start line, field lines (sorted, since the
/// order of differently named fields carries no meaning: RFC 9110 5.3)
/// and everything after the head.
fn split(wire: &[u8]) -> (String, Vec<String>, Vec<u8>) {
    let end = wire
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = std::str::from_utf8(&wire[..end]).expect("ascii head");
    let mut lines = head.split("\r\n");
    let start = lines.next().expect("start line").to_owned();
    let mut fields: Vec<String> = lines.map(str::to_owned).collect();
    fields.sort();
    (start, fields, wire[end + 4..].to_vec())
}

/// Bytes as an escaped string, for readable assertions.
fn esc(bytes: impl AsRef<[u8]>) -> String {
    bytes.as_ref().escape_ascii().to_string()
}

fn misuse(m: Misuse) -> Result<(), Error> {
    Err(Error::Misuse(m))
}

fn is_wrong_state(r: Result<(), Error>, call: &str) -> bool {
    matches!(r, Err(Error::Misuse(Misuse::WrongState { call: c, .. })) if c == call)
}

// ---- response framing (RFC 9112 6, 7; RFC 9110 8.6) -----------------------

#[test]
fn response_with_content_length_goes_as_is() {
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[("content-length", "5")]))
        .expect("head");
    conn.send_data(Bytes::from_static(b"hello")).expect("data");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
    );
    assert!(!conn.is_close_wanted());
}

// ---- whole responses in one call -------------------------------------------

#[test]
fn full_response_is_framed_by_a_length_the_connection_writes() {
    let mut conn = server_with(GET11);
    conn.send_full_response(
        response(200, &[("content-type", "text/plain")]),
        Bytes::from_static(b"hello"),
    )
    .expect("full response");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello")
    );
    assert_eq!(conn.our_state(), State::Idle, "the message is complete");
    assert!(!conn.is_close_wanted());
    // Lengths of every width, including 0 and the largest digits.
    for (len, text) in [(0, "0"), (9, "9"), (10, "10"), (1234567, "1234567")] {
        let mut conn = server_with(GET11);
        conn.send_full_response(response(200, &[]), Bytes::from(vec![b'x'; len]))
            .expect("full response");
        let (start, fields, body) = split(&take_output(&mut conn));
        assert_eq!(start, "HTTP/1.1 200 OK");
        assert_eq!(fields, vec![format!("content-length: {text}")]);
        assert_eq!(body.len(), len);
    }
}

#[test]
fn full_response_to_head_announces_the_length_and_sends_no_body() {
    let mut conn = server_with(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    conn.send_full_response(response(200, &[]), Bytes::from_static(b"hello"))
        .expect("full response");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    );
    assert_eq!(conn.our_state(), State::Idle);
}

#[test]
fn full_response_keeps_its_own_framing() {
    // A matching Content-Length is used as given, not written twice.
    let mut conn = server_with(GET11);
    conn.send_full_response(
        response(200, &[("content-length", "5")]),
        Bytes::from_static(b"hello"),
    )
    .expect("full response");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
    );
    // A declared length the body does not match is refused as for send_data.
    let mut conn = server_with(GET11);
    assert_eq!(
        conn.send_full_response(
            response(200, &[("content-length", "3")]),
            Bytes::from_static(b"hello")
        ),
        misuse(Misuse::BodyTooLong { declared: 3 })
    );
    // Chunked when the response asks for it.
    let mut conn = server_with(GET11);
    conn.send_full_response(
        response(200, &[("transfer-encoding", "chunked")]),
        Bytes::from_static(b"hello"),
    )
    .expect("full response");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    );
}

#[test]
fn full_response_to_http10_keeps_alive_only_when_asked() {
    let mut conn = server_with(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    conn.send_full_response(response(200, &[]), Bytes::from_static(b"hi"))
        .expect("full response");
    let (_, fields, body) = split(&take_output(&mut conn));
    assert_eq!(fields, vec!["connection: keep-alive", "content-length: 2"]);
    assert_eq!(body, b"hi");
    assert!(!conn.is_close_wanted());

    let mut conn = server_with(GET10);
    conn.send_full_response(response(200, &[]), Bytes::from_static(b"hi"))
        .expect("full response");
    let (_, fields, _) = split(&take_output(&mut conn));
    assert_eq!(fields, vec!["connection: close", "content-length: 2"]);
    assert!(conn.is_close_wanted());
}

#[test]
fn full_response_refuses_bodies_where_none_may_go_and_1xx() {
    for status in [204, 304] {
        let mut conn = server_with(GET11);
        assert_eq!(
            conn.send_full_response(response(status, &[]), Bytes::from_static(b"x")),
            misuse(Misuse::BodyNotAllowed),
            "{status}"
        );
        assert!(!conn.output_len() > 0, "nothing queued for a refused {status}");
        // Empty, they go without any length (RFC 9110 8.6).
        conn.send_full_response(response(status, &[]), Bytes::new())
            .expect("bodiless");
        let (_, fields, body) = split(&take_output(&mut conn));
        assert!(
            fields.iter().all(|f| !f.starts_with("content-length")),
            "{fields:?}"
        );
        assert!(body.is_empty());
        assert_eq!(conn.our_state(), State::Idle);
    }
    let mut conn = server_with(GET11);
    assert_eq!(
        conn.send_full_response(response(103, &[]), Bytes::new()),
        misuse(Misuse::InvalidStatus)
    );
    assert!(!conn.output_len() > 0);
    // A 2xx to CONNECT switches: no body, no length, and the tunnel opens.
    let mut conn = server_with(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n");
    assert_eq!(
        conn.send_full_response(response(200, &[]), Bytes::from_static(b"x")),
        misuse(Misuse::BodyNotAllowed)
    );
    conn.send_full_response(response(200, &[]), Bytes::new())
        .expect("tunnel");
    assert_eq!(esc(take_output(&mut conn)), esc(b"HTTP/1.1 200 OK\r\n\r\n"));
    assert_eq!(conn.our_state(), State::SwitchedProtocol);
}

#[test]
fn response_without_length_to_http11_is_chunked() {
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[])).expect("head");
    conn.send_data(Bytes::from_static(b"hello")).expect("data");
    conn.send_data(Bytes::from_static(b"0123456789abcdef"))
        .expect("data");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(&b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
           5\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"[..])
    );
    assert!(!conn.is_close_wanted());
}

#[test]
fn response_without_length_to_http10_is_close_delimited() {
    let mut conn = server_with(GET10);
    conn.send_response(response(200, &[])).expect("head");
    conn.send_data(Bytes::from_static(b"hello")).expect("data");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nhello")
    );
    assert!(conn.is_close_wanted());
}

#[test]
fn response_without_length_to_a_keep_alive_http10_client_still_closes() {
    // An HTTP/1.0 recipient cannot read chunked: the body is delimited by
    // the close, so the connection cannot persist (RFC 9112 6.3, 9.3).
    let mut conn = server_with(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    conn.send_response(response(200, &[])).expect("head");
    conn.send_data(Bytes::from_static(b"hello")).expect("data");
    conn.send_end().expect("end");
    let (start, fields, body) = split(&take_output(&mut conn));
    assert_eq!(start, "HTTP/1.1 200 OK");
    assert_eq!(fields, ["connection: close"]);
    assert_eq!(body, b"hello");
    assert!(conn.is_close_wanted());
}

#[test]
fn response_with_length_to_a_keep_alive_http10_client_says_keep_alive() {
    let mut conn = server_with(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    conn.send_response(response(200, &[("content-length", "2")]))
        .expect("head");
    conn.send_data(Bytes::from_static(b"hi")).expect("data");
    conn.send_end().expect("end");
    let (_, fields, body) = split(&take_output(&mut conn));
    assert_eq!(fields, ["connection: keep-alive", "content-length: 2"]);
    assert_eq!(body, b"hi");
    assert!(!conn.is_close_wanted());
}

#[test]
fn response_with_connection_close_closes() {
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[("connection", "close"), ("content-length", "0")]))
        .expect("head");
    conn.send_end().expect("end");
    let (_, fields, _) = split(&take_output(&mut conn));
    assert_eq!(fields, ["connection: close", "content-length: 0"]);
    assert_eq!(conn.close_reason(), Some(h1::CloseReason::WeAskedClose));
    assert!(conn.is_close_wanted());
}

#[test]
fn trailers_only_with_chunked() {
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[])).expect("head");
    conn.send_data(Bytes::from_static(b"hello")).expect("data");
    let mut trailers = HeaderMap::new();
    trailers.insert("x-checksum", HeaderValue::from_static("abc"));
    conn.send_trailers(trailers.clone()).expect("trailers");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(&b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
           5\r\nhello\r\n0\r\nx-checksum: abc\r\n\r\n"[..])
    );

    // With Content-Length there is nowhere to put them.
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[("content-length", "5")]))
        .expect("head");
    conn.send_data(Bytes::from_static(b"hello")).expect("data");
    assert_eq!(
        conn.send_trailers(trailers.clone()),
        misuse(Misuse::TrailersNeedChunked)
    );
    conn.send_end().expect("end still possible");

    // Nor in a close-delimited body.
    let mut conn = server_with(GET10);
    conn.send_response(response(200, &[])).expect("head");
    assert_eq!(
        conn.send_trailers(trailers.clone()),
        misuse(Misuse::TrailersNeedChunked)
    );

    // Nor in a request with Content-Length.
    let mut client = Connection::client();
    client
        .send_request(
            Request::post("http://a.example/")
                .header("content-length", "0")
                .body(())
                .expect("valid"),
        )
        .expect("head");
    assert_eq!(
        client.send_trailers(trailers),
        misuse(Misuse::TrailersNeedChunked)
    );
}

#[test]
fn empty_send_data_does_not_end_a_chunked_body() {
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[])).expect("head");
    take_output(&mut conn);
    conn.send_data(Bytes::new()).expect("empty data");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b""),
        "an empty chunk would be the last chunk"
    );
    conn.send_data(Bytes::from_static(b"hi")).expect("data");
    conn.send_data(Bytes::new()).expect("empty data");
    conn.send_end().expect("end");
    assert_eq!(esc(take_output(&mut conn)), esc(b"2\r\nhi\r\n0\r\n\r\n"));
}

// ---- bodies the framing does not allow -------------------------------------

#[test]
fn more_bytes_than_content_length() {
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[("content-length", "5")]))
        .expect("head");
    let head = take_output(&mut conn);
    assert_eq!(
        conn.send_data(Bytes::from_static(b"hello!")),
        misuse(Misuse::BodyTooLong { declared: 5 })
    );
    assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
    conn.send_data(Bytes::from_static(b"hel")).expect("data");
    assert_eq!(
        conn.send_data(Bytes::from_static(b"lo!")),
        misuse(Misuse::BodyTooLong { declared: 5 })
    );
    conn.send_data(Bytes::from_static(b"lo")).expect("data");
    conn.send_end().expect("end");
    assert_eq!(
        esc([head, take_output(&mut conn)].concat()),
        esc(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
    );
}

#[test]
fn fewer_bytes_than_content_length() {
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[("content-length", "5")]))
        .expect("head");
    conn.send_data(Bytes::from_static(b"abc")).expect("data");
    assert_eq!(conn.send_end(), misuse(Misuse::BodyTooShort { remaining: 2 }));
    conn.send_data(Bytes::from_static(b"de")).expect("data");
    conn.send_end().expect("end");
}

#[test]
fn no_body_for_head_204_304() {
    // HEAD: Content-Length describes the GET body, none is sent.
    let mut conn = server_with(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    conn.send_response(response(200, &[("content-length", "5")]))
        .expect("head");
    assert_eq!(
        conn.send_data(Bytes::from_static(b"hello")),
        misuse(Misuse::BodyNotAllowed)
    );
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    );
    assert!(!conn.is_close_wanted());

    // HEAD without Content-Length: still no body, no chunk framing.
    let mut conn = server_with(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    conn.send_response(response(200, &[])).expect("head");
    conn.send_end().expect("end");
    let (_, _, body) = split(&take_output(&mut conn));
    assert_eq!(body, b"");

    // 204: no body and no Transfer-Encoding (RFC 9112 6.1).
    let mut conn = server_with(GET11);
    conn.send_response(response(204, &[])).expect("head");
    assert_eq!(
        conn.send_data(Bytes::from_static(b"x")),
        misuse(Misuse::BodyNotAllowed)
    );
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 204 No Content\r\n\r\n")
    );

    // 304: no body.
    let mut conn = server_with(GET11);
    conn.send_response(response(304, &[])).expect("head");
    assert_eq!(
        conn.send_data(Bytes::from_static(b"x")),
        misuse(Misuse::BodyNotAllowed)
    );
    conn.send_end().expect("end");
    let (start, fields, body) = split(&take_output(&mut conn));
    assert_eq!(start, "HTTP/1.1 304 Not Modified");
    assert!(!fields.iter().any(|f| f.starts_with("transfer-encoding")));
    assert_eq!(body, b"");
}

#[test]
fn content_length_on_204_is_refused() {
    for value in ["0", "5"] {
        let mut conn = server_with(GET11);
        assert_eq!(
            conn.send_response(response(204, &[("content-length", value)])),
            misuse(Misuse::InvalidContentLength)
        );
        assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
        conn.send_response(response(204, &[])).expect("a valid 204");
    }
}

#[test]
fn field_values_with_cr_lf_nul_cannot_be_built() {
    // The http crate refuses these values and an empty name, so
    // Misuse::InvalidField cannot be reached through its safe API (its
    // unchecked constructor is `unsafe`, which this workspace denies).
    for bad in [&b"a\r\nb"[..], b"a\nb", b"a\rb", b"a\0b", b"\r\nx-injected: 1"] {
        assert!(HeaderValue::from_bytes(bad).is_err(), "{bad:?}");
        assert!(HeaderValue::from_maybe_shared(Bytes::copy_from_slice(bad)).is_err());
    }
    assert!(HeaderName::from_bytes(b"").is_err());
    assert!(HeaderName::from_bytes(b"a\r\nb").is_err());
    assert!(Response::builder().header("x", "a\r\nb").body(()).is_err());
}

// ---- sequence misuse -------------------------------------------------------

#[test]
fn second_final_response_is_refused() {
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[("content-length", "2")]))
        .expect("head");
    let r = conn.send_response(response(200, &[("content-length", "0")]));
    assert!(is_wrong_state(r.clone(), "send_response"), "{r:?}");
    assert_eq!(
        r,
        misuse(Misuse::WrongState {
            call: "send_response",
            state: State::SendBody
        })
    );

    // Response complete while the request body is still arriving.
    let mut conn = server_with(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhe");
    conn.send_response(response(200, &[("content-length", "0")]))
        .expect("head");
    conn.send_end().expect("end");
    let r = conn.send_response(response(200, &[("content-length", "0")]));
    assert!(is_wrong_state(r, "send_response"));
}

#[test]
fn response_with_no_request() {
    let mut conn = Connection::server();
    assert_eq!(
        conn.send_response(response(200, &[("content-length", "0")])),
        misuse(Misuse::NoRequestToAnswer)
    );
    // Nor once the only request is answered.
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[("content-length", "0")]))
        .expect("head");
    conn.send_end().expect("end");
    assert!(drain(&mut conn).is_empty());
    assert_eq!(
        conn.send_response(response(200, &[("content-length", "0")])),
        misuse(Misuse::NoRequestToAnswer)
    );
}

#[test]
fn data_before_a_head_is_refused() {
    let mut conn = server_with(GET11);
    assert!(is_wrong_state(
        conn.send_data(Bytes::from_static(b"x")),
        "send_data"
    ));
    assert!(is_wrong_state(conn.send_end(), "send_end"));
    let mut client = Connection::client();
    assert!(is_wrong_state(
        client.send_data(Bytes::from_static(b"x")),
        "send_data"
    ));
}

#[test]
fn informational_responses() {
    let mut conn = server_with(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
    conn.send_response(response(100, &[])).expect("100");
    conn.send_response(response(103, &[("link", "</s.css>; rel=preload")]))
        .expect("103");
    conn.send_response(response(200, &[("content-length", "0")]))
        .expect("200");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(&b"HTTP/1.1 100 Continue\r\n\r\n\
           HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\n\
           HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..])
    );

    // A 1xx carries no framing fields.
    let mut conn = server_with(GET11);
    assert_eq!(
        conn.send_response(response(103, &[("content-length", "0")])),
        misuse(Misuse::InvalidContentLength)
    );
}

#[test]
fn informational_to_http10_is_refused() {
    for status in [100, 102, 103] {
        let mut conn = server_with(b"POST / HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
        assert_eq!(
            conn.send_response(response(status, &[])),
            misuse(Misuse::InformationalToHttp10)
        );
        assert_eq!(esc(take_output(&mut conn)), esc(b""));
    }
}

/// `is_switch_response` says what sending decides: a 101 switches only
/// an upgrade proposal, a 2xx only a CONNECT (RFC 9110 sections 7.8 and
/// 9.3.6); nothing else switches.
#[test]
fn switch_responses_are_those_sending_would_switch_on() {
    let plain = server_with(GET11);
    let upgrade =
        server_with(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
    let connect = server_with(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n");
    let cases = [
        (&plain, 101, false),
        (&plain, 200, false),
        (&upgrade, 101, true),
        (&upgrade, 200, false),
        (&connect, 200, true),
        (&connect, 204, true),
        (&connect, 101, false),
        (&connect, 407, false),
    ];
    for (conn, status, switches) in cases {
        let status = StatusCode::from_u16(status).expect("status");
        assert_eq!(conn.is_switch_response(status), switches, "{status}");
    }
    assert!(!Connection::server().is_switch_response(StatusCode::SWITCHING_PROTOCOLS));
}

#[test]
fn switching_protocols() {
    let mut conn = server_with(GET11);
    assert_eq!(
        conn.send_response(response(
            101,
            &[("upgrade", "websocket"), ("connection", "upgrade")]
        )),
        misuse(Misuse::SwitchNotRequested)
    );

    let mut conn =
        server_with(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
    assert_eq!(
        conn.send_response(response(
            101,
            &[("content-length", "0"), ("upgrade", "websocket")]
        )),
        misuse(Misuse::InvalidContentLength)
    );
    conn.send_response(response(
        101,
        &[("connection", "upgrade"), ("upgrade", "websocket")],
    ))
    .expect("101");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n")
    );
    assert!(is_wrong_state(
        conn.send_data(Bytes::from_static(b"x")),
        "send_data"
    ));
    assert_eq!(conn.our_state(), State::SwitchedProtocol);
    assert!(!conn.is_close_wanted());
}

#[test]
fn success_to_connect_switches() {
    let mut conn = server_with(b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n");
    // No framing fields in a 2xx to CONNECT (RFC 9110 9.3.6).
    assert_eq!(
        conn.send_response(response(200, &[("content-length", "0")])),
        misuse(Misuse::InvalidContentLength)
    );
    assert_eq!(
        conn.send_response(response(200, &[("transfer-encoding", "chunked")])),
        misuse(Misuse::InvalidTransferEncoding)
    );
    conn.send_response(response(200, &[])).expect("200");
    assert_eq!(esc(take_output(&mut conn)), esc(b"HTTP/1.1 200 OK\r\n\r\n"));
    assert_eq!(drain(&mut conn), [Ev::Upgrade(Vec::new())]);
}

#[test]
fn roles_are_enforced() {
    let mut server = Connection::server();
    assert_eq!(
        server.send_request(Request::get("http://a.example/").body(()).expect("valid")),
        misuse(Misuse::WrongRole)
    );
    let mut client = Connection::client();
    assert_eq!(
        client.send_response(response(200, &[("content-length", "0")])),
        misuse(Misuse::WrongRole)
    );
}

// ---- request framing and Host (RFC 9112 3.2, 6) ----------------------------

#[test]
fn request_with_content_length() {
    let mut conn = Connection::client();
    let req = Request::post("/x")
        .header("host", "a.example")
        .header("content-length", "5")
        .body(())
        .expect("valid");
    conn.send_request(req).expect("head");
    conn.send_data(Bytes::from_static(b"hello")).expect("data");
    assert_eq!(
        conn.send_data(Bytes::from_static(b"!")),
        misuse(Misuse::BodyTooLong { declared: 5 })
    );
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"POST /x HTTP/1.1\r\nhost: a.example\r\ncontent-length: 5\r\n\r\nhello")
    );
}

#[test]
fn request_chunked() {
    let mut conn = Connection::client();
    let req = Request::post("/x")
        .header("host", "a.example")
        .header("transfer-encoding", "chunked")
        .body(())
        .expect("valid");
    conn.send_request(req).expect("head");
    conn.send_data(Bytes::from_static(b"hello")).expect("data");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(
            &b"POST /x HTTP/1.1\r\nhost: a.example\r\ntransfer-encoding: chunked\r\n\r\n\
           5\r\nhello\r\n0\r\n\r\n"[..]
        )
    );
}

#[test]
fn request_without_framing_has_no_body() {
    let mut conn = Connection::client();
    let req = Request::post("/x")
        .header("host", "a.example")
        .body(())
        .expect("valid");
    conn.send_request(req).expect("head");
    assert_eq!(
        conn.send_data(Bytes::from_static(b"hello")),
        misuse(Misuse::BodyNotAllowed)
    );
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"POST /x HTTP/1.1\r\nhost: a.example\r\n\r\n")
    );
}

#[test]
fn request_with_bad_framing_fields_is_refused() {
    let cases: &[(&[(&str, &str)], Misuse)] = &[
        (&[("content-length", "+5")], Misuse::InvalidContentLength),
        (
            &[("content-length", "5"), ("content-length", "5")],
            Misuse::InvalidContentLength,
        ),
        (&[("transfer-encoding", "gzip")], Misuse::InvalidTransferEncoding),
        (
            &[("transfer-encoding", "chunked"), ("content-length", "5")],
            Misuse::InvalidTransferEncoding,
        ),
    ];
    for (fields, want) in cases {
        let mut conn = Connection::client();
        let mut builder = Request::post("http://a.example/");
        for (n, v) in *fields {
            builder = builder.header(*n, *v);
        }
        assert_eq!(
            conn.send_request(builder.body(()).expect("valid")),
            misuse(want.clone()),
            "{fields:?}"
        );
        assert_eq!(
            esc(take_output(&mut conn)),
            esc(b""),
            "nothing queued for {fields:?}"
        );
    }
}

#[test]
fn host_comes_from_the_uri_authority() {
    let mut conn = Connection::client();
    conn.send_request(
        Request::get("http://a.example:8080/p?q=1")
            .body(())
            .expect("valid"),
    )
    .expect("head");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"GET /p?q=1 HTTP/1.1\r\nhost: a.example:8080\r\n\r\n")
    );

    // Given explicitly: not added twice.
    let mut conn = Connection::client();
    conn.send_request(
        Request::get("http://a.example/")
            .header("host", "a.example")
            .body(())
            .expect("valid"),
    )
    .expect("head");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"GET / HTTP/1.1\r\nhost: a.example\r\n\r\n")
    );

    // CONNECT: the target is the authority.
    let mut conn = Connection::client();
    conn.send_request(Request::connect("a.example:443").body(()).expect("valid"))
        .expect("head");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"CONNECT a.example:443 HTTP/1.1\r\nhost: a.example:443\r\n\r\n")
    );
}

#[test]
fn host_added_is_the_first_field() {
    // RFC 9110 7.2: "A user agent that sends Host SHOULD send it as the
    // first field in the header section of a request."
    let mut conn = Connection::client();
    conn.send_request(
        Request::get("http://a.example/")
            .header("accept", "*/*")
            .body(())
            .expect("valid"),
    )
    .expect("head");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"GET / HTTP/1.1\r\nhost: a.example\r\naccept: */*\r\n\r\n")
    );
}

#[test]
fn host_from_the_uri_excludes_userinfo() {
    // RFC 9112 3.2: Host is the target URI's authority "excluding any
    // userinfo subcomponent and its "@" delimiter".
    let mut conn = Connection::client();
    conn.send_request(Request::get("http://user:pw@a.example/").body(()).expect("valid"))
        .expect("head");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"GET / HTTP/1.1\r\nhost: a.example\r\n\r\n")
    );
}

#[test]
fn request_without_host_or_authority() {
    let mut conn = Connection::client();
    assert_eq!(
        conn.send_request(Request::get("/").body(()).expect("valid")),
        misuse(Misuse::MissingHost)
    );
    assert_eq!(esc(take_output(&mut conn)), esc(b""));
    // HTTP/1.0 has no Host requirement.
    let mut conn = Connection::client();
    conn.send_request(
        Request::get("/")
            .version(Version::HTTP_10)
            .body(())
            .expect("valid"),
    )
    .expect("head");
    assert_eq!(esc(take_output(&mut conn)), esc(b"GET / HTTP/1.0\r\n\r\n"));
}

#[test]
fn connect_without_authority() {
    for uri in ["/", "/x"] {
        let mut conn = Connection::client();
        let req = Request::builder()
            .method(Method::CONNECT)
            .uri(uri)
            .header("host", "a.example:443")
            .body(())
            .expect("valid");
        assert_eq!(
            conn.send_request(req),
            misuse(Misuse::ConnectWithoutAuthority),
            "{uri}"
        );
        assert_eq!(esc(take_output(&mut conn)), esc(b""));
    }
}

#[test]
fn client_that_asked_to_close_sends_nothing_more() {
    let mut conn = Connection::client();
    conn.send_request(
        Request::get("http://a.example/")
            .header("connection", "close")
            .body(())
            .expect("valid"),
    )
    .expect("head");
    conn.send_end().expect("end");
    assert_eq!(conn.our_state(), State::MustClose);
    assert!(is_wrong_state(
        conn.send_request(Request::get("http://a.example/").body(()).expect("valid")),
        "send_request"
    ));
}

// ---- after a receive error (crate docs: Errors) ----------------------------

#[test]
fn one_error_response_after_a_receive_error() {
    let mut conn = Connection::server();
    conn.receive(b"GET / HTTP/1.1\r\nHost : a\r\n\r\n")
        .expect("receive");
    let err = conn.poll_event().expect_err("bad field name");
    assert_eq!(err, Error::Protocol(ProtocolError::InvalidFieldName));
    let status = err.status().expect("a status to answer");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!conn.is_close_wanted(), "the error response is still to be sent");

    conn.send_response(
        Response::builder()
            .status(status)
            .header("content-length", "0")
            .body(())
            .expect("valid"),
    )
    .expect("error response");
    conn.send_end().expect("end");
    let (start, fields, body) = split(&take_output(&mut conn));
    assert_eq!(start, "HTTP/1.1 400 Bad Request");
    assert_eq!(fields, ["connection: close", "content-length: 0"]);
    assert_eq!(body, b"");
    assert!(conn.is_close_wanted());
    // Only one.
    assert!(conn
        .send_response(response(400, &[("content-length", "0")]))
        .is_err());
    assert_eq!(conn.poll_event().expect_err("sticky"), err);
}

#[test]
fn error_response_mid_body() {
    let mut config = h1::Config::default();
    config.limits.body_size = Some(4);
    let mut conn = Connection::new(h1::Role::Server, config);
    conn.receive(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n")
        .expect("receive");
    let events = h1_tests::merge_data(drain(&mut conn));
    assert_eq!(h1_tests::kinds(&events), ["request", "data", "error"]);
    assert_eq!(
        events.last(),
        Some(&Ev::Error(Error::Limit(h1::LimitError::BodySize)))
    );
    conn.send_response(response(413, &[("content-length", "0")]))
        .expect("error response");
    conn.send_end().expect("end");
    let (start, fields, _) = split(&take_output(&mut conn));
    assert_eq!(start, "HTTP/1.1 413 Payload Too Large");
    assert!(fields.contains(&"connection: close".to_owned()));
    assert!(conn.is_close_wanted());
}

// ---- body bytes are not copied (crate docs: Sending) -----------------------

fn sent_without_copy(conn: &mut Connection, data: &Bytes) -> bool {
    let mut found = false;
    while let Some(piece) = conn.poll_output() {
        found |= piece.as_ptr() == data.as_ptr() && piece.len() == data.len();
    }
    found
}

#[test]
fn send_data_is_not_copied() {
    let data = Bytes::from(vec![b'x'; 512]);

    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[("content-length", "512")]))
        .expect("head");
    conn.send_data(data.clone()).expect("data");
    conn.send_end().expect("end");
    assert!(sent_without_copy(&mut conn, &data), "content-length body");

    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[])).expect("head");
    conn.send_data(data.clone()).expect("data");
    conn.send_end().expect("end");
    assert!(sent_without_copy(&mut conn, &data), "chunked body");

    let mut conn = server_with(GET10);
    conn.send_response(response(200, &[])).expect("head");
    conn.send_data(data.clone()).expect("data");
    conn.send_end().expect("end");
    assert!(sent_without_copy(&mut conn, &data), "close-delimited body");

    let mut conn = Connection::client();
    conn.send_request(
        Request::post("http://a.example/")
            .header("content-length", "512")
            .body(())
            .expect("valid"),
    )
    .expect("head");
    conn.send_data(data.clone()).expect("data");
    conn.send_end().expect("end");
    assert!(sent_without_copy(&mut conn, &data), "request body");
}

#[test]
fn short_pieces_join_the_bytes_before_them() {
    // A pipelined batch of small responses: one contiguous run, in order.
    let mut conn = Connection::server();
    conn.receive(&GET11.repeat(3)).expect("receive");
    let mut want = Vec::new();
    for (i, body) in [&b"one"[..], b"two!", b"three"].into_iter().enumerate() {
        let events = drain(&mut conn);
        assert!(
            matches!(events.first(), Some(Ev::Request { .. })),
            "request {i}: {events:?}"
        );
        conn.send_full_response(response(200, &[]), Bytes::copy_from_slice(body))
            .expect("response");
        want.extend_from_slice(
            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes(),
        );
        want.extend_from_slice(body);
    }
    assert_eq!(conn.output_chunks().count(), 1, "one run of bytes");
    assert_eq!(esc(take_output(&mut conn)), esc(&want));

    // Chunked: the framing, a short piece, a long piece as handed in, and
    // the end, in order, with the output advanced part way through.
    let long = Bytes::from(vec![b'y'; 600]);
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[])).expect("head");
    conn.send_data(Bytes::from_static(b"hi")).expect("short");
    conn.send_data(long.clone()).expect("long");
    conn.send_end().expect("end");
    let mut want = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n258\r\n".to_vec();
    want.extend_from_slice(&long);
    want.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(conn.output_len(), want.len());
    let chunks: Vec<&[u8]> = conn.output_chunks().collect();
    assert_eq!(chunks.len(), 3, "before, the long piece, after");
    assert_eq!(chunks[1].as_ptr(), long.as_ptr(), "the long piece is not copied");
    conn.advance_output(10);
    let mut got: Vec<u8> = want[..10].to_vec();
    got.extend(conn.output_chunks().flatten());
    assert_eq!(esc(&got), esc(&want));
    conn.advance_output(want.len() - 12);
    assert_eq!(conn.output_len(), 2);
    assert_eq!(esc(take_output(&mut conn)), esc(b"\r\n"));
    assert!(!conn.output_len() > 0);
}

// ---- what RFC 9110 forbids a sender (gaps found by the rule review) ---------

/// RFC 9110 sections 15.2.2 and 15.5.22: a 101 and a 426 name protocols.
#[test]
fn switching_and_upgrade_required_need_an_upgrade_field() {
    let upgrade = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n";
    let mut conn = server_with(upgrade);
    assert_eq!(
        conn.send_response(response(101, &[("connection", "upgrade")])),
        misuse(Misuse::MissingUpgrade)
    );
    // RFC 9110 section 7.8: only to a protocol the client offered.
    assert_eq!(
        conn.send_response(response(101, &[("connection", "upgrade"), ("upgrade", "h2c")])),
        misuse(Misuse::SwitchToUnofferedProtocol)
    );
    assert_eq!(take_output(&mut conn), b"", "nothing queued");
    let mut conn = server_with(GET11);
    assert_eq!(
        conn.send_response(response(426, &[("content-length", "0")])),
        misuse(Misuse::MissingUpgrade)
    );
    conn.send_response(response(
        426,
        &[
            ("content-length", "0"),
            ("upgrade", "h2c"),
            ("connection", "upgrade"),
        ],
    ))
    .expect("426 with upgrade");
}

/// RFC 9110 section 7.8: a 100 (Continue) precedes a 101 to a request
/// that both asked to upgrade and expected 100-continue.
#[test]
fn a_continue_precedes_a_switch_when_expected() {
    let req = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\nExpect: 100-continue\r\n\r\n";
    let mut conn = server_with(req);
    conn.send_response(response(
        101,
        &[("connection", "upgrade"), ("upgrade", "websocket")],
    ))
    .expect("101");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n")
    );
}

/// RFC 9110 section 6.5.1: framing, routing and connection control never
/// go in a trailer section.
#[test]
fn trailers_that_cannot_be_trailers_are_refused() {
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[])).expect("chunked head");
    for name in [
        "content-length",
        "Transfer-Encoding",
        "host",
        "connection",
        "te",
        "trailer",
        "upgrade",
    ] {
        let mut t = HeaderMap::new();
        t.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("name"),
            HeaderValue::from_static("1"),
        );
        assert_eq!(conn.send_trailers(t), misuse(Misuse::InvalidTrailer), "{name}");
        let mut lines = h1::FieldLines::new();
        lines.append(name, "1").expect("valid line");
        assert_eq!(
            conn.send_trailers(lines),
            misuse(Misuse::InvalidTrailer),
            "{name}"
        );
    }
    let mut ok = h1::FieldLines::new();
    ok.append("X-Checksum", "abc").expect("valid line");
    conn.send_trailers(ok).expect("an ordinary trailer");
    assert!(esc(take_output(&mut conn)).ends_with(&esc(b"0\r\nX-Checksum: abc\r\n\r\n")));
}

/// Requests a client MUST NOT send: `Expect: 100-continue` without
/// content (RFC 9110 10.1.1), Upgrade or TE without their connection
/// option (RFC 9110 7.8, 10.1.4), `chunked` in TE (RFC 9112 7.4).
#[test]
fn requests_a_client_must_not_send() {
    let cases: [(&[(&str, &str)], Misuse); 4] = [
        (&[("expect", "100-continue")], Misuse::ExpectWithoutContent),
        (&[("upgrade", "websocket")], Misuse::UpgradeWithoutConnection),
        (&[("te", "trailers")], Misuse::TeWithoutConnection),
        (&[("te", "chunked"), ("connection", "te")], Misuse::ChunkedInTe),
    ];
    for (fields, refusal) in cases {
        let mut req = Request::get("http://a.example/");
        for (n, v) in fields {
            req = req.header(*n, *v);
        }
        let mut conn = Connection::client();
        assert_eq!(
            conn.send_request(req.body(()).expect("valid")),
            misuse(refusal.clone()),
            "{fields:?}"
        );
        assert_eq!(take_output(&mut conn), b"", "nothing queued");
        assert_eq!(conn.our_state(), State::Idle);
    }
    let mut conn = Connection::client();
    conn.send_request(
        Request::get("http://a.example/")
            .header("te", "trailers")
            .header("connection", "te")
            .body(())
            .expect("valid"),
    )
    .expect("TE with its option");
}

/// A client can send any form of target through an h1 head: absolute-form
/// to a forward proxy (RFC 9112 3.2.2), `*` for a server-wide OPTIONS.
#[test]
fn a_request_head_goes_with_its_target_as_given() {
    let mut conn = Connection::client();
    let head = h1::RequestHead::new(Method::GET, "http://origin.example:8080/x?y");
    conn.send_request(head).expect("absolute-form");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"GET http://origin.example:8080/x?y HTTP/1.1\r\nhost: origin.example:8080\r\n\r\n"),
        "Host from the target's authority"
    );
    let mut head = h1::RequestHead::new(Method::OPTIONS, "*");
    head.fields_mut().append("Host", "origin.example").expect("valid");
    conn.send_request(head).expect("asterisk-form");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"OPTIONS * HTTP/1.1\r\nHost: origin.example\r\n\r\n")
    );
    for (method, target) in [
        (Method::GET, "*"),
        (Method::GET, "/a b"),
        (Method::GET, "/#f"),
        (Method::CONNECT, "/"),
    ] {
        let mut head = h1::RequestHead::new(method.clone(), target);
        head.fields_mut().append("Host", "a").expect("valid");
        assert!(conn.send_request(head).is_err(), "{method} {target}");
    }
}

// ---- rules from the rule table (tests/RULES.md) ---------------------------

/// RFC 9112 2.2, 4, 5.2 and 11.1: no bare CR, no line break, no
/// whitespace before the first field and no obs-fold in anything the
/// connection writes: reason phrases, targets, names and values that
/// would put one there are refused, with nothing queued.
#[test]
fn what_the_core_writes_is_well_formed() {
    for reason in [&b"a\rb"[..], b"a\nb", b"a\r\nX: y", b"\0"] {
        assert_eq!(
            h1::ResponseHead::with_reason(StatusCode::OK, reason).map(|_| ()),
            Err(Misuse::InvalidReason),
            "{}",
            esc(reason)
        );
        let mut conn = server_with(GET11);
        let mut res = response(200, &[("content-length", "0")]);
        res.extensions_mut()
            .insert(h1::ReasonPhrase(Bytes::copy_from_slice(reason)));
        assert_eq!(conn.send_response(res), misuse(Misuse::InvalidReason));
        assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
    }
    for target in ["/a\rb", "/a\r\nX: y", "/a\nb", "/a b", "/a\tb", ""] {
        let mut head = h1::RequestHead::new(Method::GET, target);
        head.fields_mut().append("Host", "a").expect("valid");
        let mut conn = Connection::client();
        assert_eq!(
            conn.send_request(head),
            misuse(Misuse::InvalidTarget),
            "{target:?}"
        );
        assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
    }
    let mut fields = h1::FieldLines::new();
    for (name, value) in [
        (" X", "a"),
        ("\tX", "a"),
        ("X ", "a"),
        ("X", "a\rb"),
        ("X", "a\r\n b"),
        ("X", "a\r\n\tb"),
        ("X", "a\nb"),
    ] {
        assert_eq!(
            fields.append(name, value),
            Err(Misuse::InvalidField),
            "{name:?}: {value:?}"
        );
    }
    assert!(fields.is_empty());
}

/// RFC 9112 4: the SP after the status code is sent even when the
/// reason phrase is empty.
#[test]
fn status_line_keeps_its_space_without_a_reason() {
    let mut conn = server_with(GET11);
    conn.send_response(response(599, &[("content-length", "0")]))
        .expect("599 has no canonical reason");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 599 \r\ncontent-length: 0\r\n\r\n")
    );
    let mut conn = server_with(GET11);
    let head = h1::ResponseHead::with_reason(StatusCode::OK, b"").expect("empty reason");
    conn.send_full_response(head, Bytes::new()).expect("response");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 200 \r\ncontent-length: 0\r\n\r\n")
    );
}

/// Transfer codings a sender must not apply or announce (RFC 9112 6.1,
/// 6.2, 6.3): chunked at most once and last in a request; in a response
/// last or the connection closes (h1 takes only chunked last); never with
/// Content-Length; never in or to HTTP/1.0; never in a 1xx or 204.
#[test]
fn transfer_codings_a_sender_must_not_send() {
    let request = |version: Version, te: &str| {
        Request::post("http://a.example/")
            .version(version)
            .header("transfer-encoding", te)
            .body(())
            .expect("valid")
    };
    for (version, te) in [
        (Version::HTTP_11, "chunked, chunked"),
        (Version::HTTP_11, "chunked, gzip"),
        (Version::HTTP_11, "gzip"),
        (Version::HTTP_10, "chunked"),
    ] {
        let mut conn = Connection::client();
        assert_eq!(
            conn.send_request(request(version, te)),
            misuse(Misuse::InvalidTransferEncoding),
            "{version:?} {te}"
        );
        assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
    }
    let mut conn = Connection::client();
    conn.send_request(request(Version::HTTP_11, "gzip, chunked"))
        .expect("chunked last");
    conn.send_data(Bytes::from_static(b"x")).expect("data");
    conn.send_end().expect("end");
    assert!(esc(take_output(&mut conn)).ends_with(&esc(b"\r\n\r\n1\r\nx\r\n0\r\n\r\n")));

    for (req, status, fields) in [
        (GET11, 200, &[("transfer-encoding", "chunked, chunked")][..]),
        (GET11, 200, &[("transfer-encoding", "gzip")]),
        (
            GET11,
            200,
            &[("transfer-encoding", "chunked"), ("content-length", "1")],
        ),
        (GET10, 200, &[("transfer-encoding", "chunked")]),
        (GET11, 103, &[("transfer-encoding", "chunked")]),
        (GET11, 204, &[("transfer-encoding", "chunked")]),
    ] {
        let mut conn = server_with(req);
        assert_eq!(
            conn.send_response(response(status, fields)),
            misuse(Misuse::InvalidTransferEncoding),
            "{status} {fields:?}"
        );
        assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
    }
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[("transfer-encoding", "gzip, chunked")]))
        .expect("chunked last");
    conn.send_data(Bytes::from_static(b"x")).expect("data");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n")
    );
}

/// RFC 9112 3.2.3, RFC 9110 9.3.6: a CONNECT request names only the
/// tunnel's host and port, and the port is always sent.
#[test]
fn connect_target_is_host_and_port() {
    for uri in ["a.example", "a.example:", "a.example:0"] {
        let mut conn = Connection::client();
        assert_eq!(
            conn.send_request(Request::connect(uri).body(()).expect("valid")),
            misuse(Misuse::ConnectWithoutAuthority),
            "{uri}"
        );
        assert_eq!(esc(take_output(&mut conn)), esc(b""));
    }
    for target in ["a.example", "/", "*", "http://a.example:443/"] {
        let mut head = h1::RequestHead::new(Method::CONNECT, target);
        head.fields_mut().append("Host", "a.example:443").expect("valid");
        let mut conn = Connection::client();
        assert!(conn.send_request(head).is_err(), "{target}");
    }
    let mut conn = Connection::client();
    conn.send_request(Request::connect("[2001:db8::1]:443").body(()).expect("valid"))
        .expect("IP literal");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"CONNECT [2001:db8::1]:443 HTTP/1.1\r\nhost: [2001:db8::1]:443\r\n\r\n")
    );
}

/// RFC 9112 3.2.1: an empty path goes out as `/`.
#[test]
fn empty_path_is_sent_as_slash() {
    for method in [Method::GET, Method::OPTIONS] {
        let mut conn = Connection::client();
        conn.send_request(
            Request::builder()
                .method(method.clone())
                .uri("http://a.example")
                .body(())
                .expect("valid"),
        )
        .expect("head");
        assert_eq!(
            esc(take_output(&mut conn)),
            esc(format!("{method} / HTTP/1.1\r\nhost: a.example\r\n\r\n")),
        );
    }
}

/// RFC 9110 5.3 and 7.2, RFC 9112 3.2: one Host field, with a valid
/// value; a sender never generates a second Host or Content-Length line.
#[test]
fn one_host_and_one_length_per_message() {
    let mut conn = Connection::client();
    assert_eq!(
        conn.send_request(
            Request::get("/")
                .header("host", "a")
                .header("host", "b")
                .body(())
                .expect("valid")
        ),
        misuse(Misuse::InvalidHost)
    );
    let mut head = h1::RequestHead::new(Method::GET, "/");
    head.fields_mut().append("Host", "a").expect("valid");
    head.fields_mut().append("host", "a").expect("valid");
    assert_eq!(conn.send_request(head), misuse(Misuse::InvalidHost));
    for bad in ["a b", "a, b", "u@a", "a:65536", "[::1"] {
        let mut head = h1::RequestHead::new(Method::GET, "/");
        head.fields_mut().append("Host", bad).expect("valid line");
        assert_eq!(conn.send_request(head), misuse(Misuse::InvalidHost), "{bad}");
    }
    assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
    let mut conn = server_with(GET11);
    assert_eq!(
        conn.send_response(response(200, &[("content-length", "1"), ("content-length", "1")])),
        misuse(Misuse::InvalidContentLength)
    );
}

/// RFC 9110 6.6.1 and 5.6.7: with a clock (the driver's `set_time`) a
/// server sends Date, as an IMF-fixdate, in every final response that
/// has none; without one it sends none.
#[test]
fn date_is_added_when_the_driver_gives_the_time() {
    for status in [200, 301, 404, 500] {
        let mut conn = server_with(GET11);
        conn.set_time(1_700_000_000);
        conn.send_full_response(response(status, &[]), Bytes::new())
            .expect("response");
        let (_, fields, _) = split(&take_output(&mut conn));
        assert!(
            fields.contains(&"date: Tue, 14 Nov 2023 22:13:20 GMT".to_owned()),
            "{status}: {fields:?}"
        );
    }
    // The response's own Date is not doubled.
    let mut conn = server_with(GET11);
    conn.set_time(1_700_000_000);
    conn.send_full_response(
        response(200, &[("date", "Tue, 14 Nov 2023 22:13:19 GMT")]),
        Bytes::new(),
    )
    .expect("response");
    let (_, fields, _) = split(&take_output(&mut conn));
    assert_eq!(
        fields,
        ["content-length: 0", "date: Tue, 14 Nov 2023 22:13:19 GMT"]
    );
    // No clock, no Date.
    let mut conn = server_with(GET11);
    conn.send_full_response(response(200, &[]), Bytes::new())
        .expect("response");
    let (_, fields, _) = split(&take_output(&mut conn));
    assert_eq!(fields, ["content-length: 0"]);
}

/// RFC 9110 6.2: a sender sends only a version it conforms to: a
/// response is always HTTP/1.1, a request HTTP/1.1 unless built as 1.0.
#[test]
fn versions_sent_are_http_1_1_or_1_0() {
    for (version, line) in [
        (Version::HTTP_11, "GET / HTTP/1.1"),
        (Version::HTTP_10, "GET / HTTP/1.0"),
        (Version::HTTP_2, "GET / HTTP/1.1"),
        (Version::HTTP_3, "GET / HTTP/1.1"),
    ] {
        let mut conn = Connection::client();
        conn.send_request(
            Request::get("http://a.example/")
                .version(version)
                .body(())
                .expect("valid"),
        )
        .expect("head");
        let (start, _, _) = split(&take_output(&mut conn));
        assert_eq!(start, line, "{version:?}");
    }
    for request in [GET10, GET11, b"GET / HTTP/1.7\r\nHost: a\r\n\r\n"] {
        let mut conn = server_with(request);
        conn.send_full_response(response(200, &[]), Bytes::new())
            .expect("response");
        let (start, _, _) = split(&take_output(&mut conn));
        assert_eq!(start, "HTTP/1.1 200 OK");
    }
}

/// RFC 9110 4.2.4: userinfo is never sent in a target or in Host.
#[test]
fn no_userinfo_in_what_is_sent() {
    for target in [
        "http://u@a.example/",
        "http://u:p@a.example/",
        "https://@a.example/",
    ] {
        let mut conn = Connection::client();
        assert_eq!(
            conn.send_request(h1::RequestHead::new(Method::GET, target)),
            misuse(Misuse::InvalidTarget),
            "{target}"
        );
    }
    let mut conn = Connection::client();
    assert_eq!(
        conn.send_request(
            Request::get("/")
                .header("host", "u@a.example")
                .body(())
                .expect("valid")
        ),
        misuse(Misuse::InvalidHost)
    );
    assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
}

/// RFC 9110 9.3.6: a CONNECT request has no content.
#[test]
fn connect_request_has_no_content() {
    for (name, value) in [("content-length", "5"), ("transfer-encoding", "chunked")] {
        let mut conn = Connection::client();
        assert_eq!(
            conn.send_request(
                Request::connect("a.example:443")
                    .header(name, value)
                    .body(())
                    .expect("valid")
            ),
            misuse(Misuse::BodyNotAllowed),
            "{name}"
        );
        assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
    }
    let mut conn = Connection::client();
    conn.send_request(Request::connect("a.example:443").body(()).expect("valid"))
        .expect("head");
    assert_eq!(
        conn.send_data(Bytes::from_static(b"x")),
        misuse(Misuse::BodyNotAllowed)
    );
}

/// RFC 9112 3.2: an empty Host is for a target URI without an authority.
/// h1 sends no such target: an absolute URI without `//authority` is
/// refused, so every request it sends names its host.
#[test]
fn absolute_uris_without_an_authority_are_not_sent() {
    for target in ["urn:isbn:0451450523", "mailto:a@b.example", "http:/a", "x:"] {
        let mut head = h1::RequestHead::new(Method::GET, target);
        head.fields_mut().append("Host", "").expect("valid line");
        let mut conn = Connection::client();
        assert_eq!(conn.send_request(head), misuse(Misuse::InvalidTarget), "{target}");
        assert_eq!(esc(take_output(&mut conn)), esc(b""), "nothing queued");
    }
}

/// RFC 9112 6.1 (MAY): Transfer-Encoding may be sent in a response to
/// HEAD or in a 304, which have no content: it says what a GET would
/// have got, and no body follows.
#[test]
fn transfer_encoding_in_a_head_or_304_response() {
    for (request, status) in [(&b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"[..], 200), (GET11, 304)] {
        let mut conn = server_with(request);
        conn.send_response(response(status, &[("transfer-encoding", "chunked")]))
            .expect("allowed");
        assert_eq!(
            conn.send_data(Bytes::from_static(b"x")),
            misuse(Misuse::BodyNotAllowed)
        );
        conn.send_end().expect("end");
        let (_, fields, body) = split(&take_output(&mut conn));
        assert_eq!(fields, ["transfer-encoding: chunked"], "{status}");
        assert_eq!(body, b"", "no body, not even a last chunk");
        assert_eq!(conn.our_state(), State::Idle);
    }
}

/// RFC 9112 3.2: a target that names its authority fixes Host.
#[test]
fn host_must_name_the_target_authority() {
    let mut conn = Connection::client();
    let mut head = h1::RequestHead::new(Method::GET, "http://a.example/x");
    head.fields_mut().append("Host", "b.example").expect("valid");
    assert_eq!(conn.send_request(head), misuse(Misuse::InvalidHost));
    let connect = Request::connect("a.example:443")
        .header("host", "b.example:443")
        .body(())
        .expect("valid");
    assert_eq!(conn.send_request(connect), misuse(Misuse::InvalidHost));
    assert_eq!(take_output(&mut conn), b"", "nothing queued");
    // The same authority, in another case, is the same Host.
    let mut head = h1::RequestHead::new(Method::GET, "http://a.example/x");
    head.fields_mut().append("Host", "A.Example").expect("valid");
    conn.send_request(head).expect("matching host");
}

/// RFC 9112 3.2.1: an empty path goes out as `/`, also before a query.
#[test]
fn empty_path_with_a_query_is_sent_with_a_slash() {
    let mut conn = Connection::client();
    conn.send_request(Request::get("http://a.example?q=1").body(()).expect("valid"))
        .expect("an empty path and a query");
    conn.send_end().expect("end");
    assert_eq!(
        esc(take_output(&mut conn)),
        esc(b"GET /?q=1 HTTP/1.1\r\nhost: a.example\r\n\r\n")
    );
}

/// RFC 9110 4.2.1: no http URI with an empty host: an origin- or
/// asterisk-form request needs a Host that names one.
#[test]
fn no_request_names_an_empty_host() {
    for (method, target, host) in [
        (Method::GET, "/", ""),
        (Method::GET, "/", ":80"),
        (Method::OPTIONS, "*", ""),
    ] {
        let mut conn = Connection::client();
        let mut head = h1::RequestHead::new(method.clone(), target);
        head.fields_mut().append("Host", host).expect("valid line");
        assert_eq!(
            conn.send_request(head),
            misuse(Misuse::InvalidHost),
            "{method} {target} {host:?}"
        );
    }
    // With a target that names the host, an empty Host is what a client sends.
    let mut conn = Connection::client();
    let mut head = h1::RequestHead::new(Method::CONNECT, "a.example:443");
    head.fields_mut().append("Host", "a.example:443").expect("valid");
    conn.send_request(head).expect("authority-form");
}

/// RFC 9110 7.8: a sender of Upgrade also sends the `upgrade` connection
/// option, in a response as in a request.
#[test]
fn responses_with_upgrade_carry_the_connection_option() {
    let upgrade = b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n";
    let mut conn = server_with(upgrade);
    assert_eq!(
        conn.send_response(response(101, &[("upgrade", "websocket")])),
        misuse(Misuse::UpgradeWithoutConnection)
    );
    let mut conn = server_with(GET11);
    assert_eq!(
        conn.send_response(response(426, &[("upgrade", "h2c"), ("content-length", "0")])),
        misuse(Misuse::UpgradeWithoutConnection)
    );
    assert_eq!(
        conn.send_response(response(200, &[("upgrade", "h2c"), ("content-length", "0")])),
        misuse(Misuse::UpgradeWithoutConnection)
    );
    conn.send_response(response(
        200,
        &[
            ("upgrade", "h2c"),
            ("connection", "upgrade"),
            ("content-length", "0"),
        ],
    ))
    .expect("advertised with its option");
}

/// Received trailers forwarded by a proxy keep what a trailer section may
/// carry; `send_trailers` then takes them.
#[test]
fn trailer_fields_a_proxy_can_forward() {
    let mut lines = h1::FieldLines::new();
    for (n, v) in [
        ("X-Sum", "1"),
        ("Content-Length", "5"),
        ("host", "a"),
        ("x-trace", "t"),
        ("TE", "trailers"),
    ] {
        lines.append(n, v).expect("valid");
    }
    assert_eq!(lines.remove_non_trailer_fields(), 3);
    let kept: Vec<_> = lines.iter().map(|f| f.name().to_vec()).collect();
    assert_eq!(kept, [b"X-Sum".to_vec(), b"x-trace".to_vec()]);
    let mut conn = server_with(GET11);
    conn.send_response(response(200, &[])).expect("chunked head");
    conn.send_trailers(lines).expect("what is left goes");
}
