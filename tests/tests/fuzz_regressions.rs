//! Regression tests for what the fuzz targets in `tests/fuzz` found.
//!
//! Each test replays a minimized crash input the way its target feeds it
//! and asserts the property that failed. The inputs are listed, with the
//! runs that found them, in `tests/fuzz/RUNS.md`.
//!
//! `encoder` target: whatever a client connection accepts to send must
//! arrive at a server connection as the same request; what it must not
//! send has to be refused with `Error::Misuse` (and nothing queued).
//! `send_request` refuses each of these as `Misuse` (`InvalidTarget`,
//! `ConnectWithoutAuthority`, `InvalidHost`).

use h1::http::{Request, Version};
use h1::Error;
use h1_tests::{Ev, Pair};

/// Sends `req` (no body) from a client to a server connection: either
/// `send_request` refuses it as misuse, or the server receives it as a
/// request and its end, without error.
fn sent_request_is_received(req: Request<()>) {
    let shown = format!("{} {} {:?}", req.method(), req.uri(), req.headers());
    let mut pair = Pair::new();
    match pair.client.send_request(req) {
        Err(e) => {
            assert!(
                matches!(e, Error::Misuse(_)),
                "{shown}: refused with {e:?}, not Misuse"
            );
            return;
        }
        Ok(()) => pair.client.send_end().expect("bodiless request ends"),
    }
    let got = pair.to_server();
    assert!(
        matches!(got.as_slice(), [Ev::Request { .. }, Ev::End, ..]),
        "{shown}: accepted by the client, but the server saw {got:?}"
    );
}

/// `encoder`: asterisk-form is only for OPTIONS (RFC 9112 section 3.2.4).
/// Minimized input `b"/)\xff\x95\xb9\x95\xff\x95\xb9"`: the client sends
/// `PATCH * HTTP/1.1`, the server answers `InvalidTarget`.
#[test]
fn asterisk_target_with_a_method_other_than_options() {
    for method in ["PATCH", "GET", "DELETE"] {
        let req = Request::builder()
            .method(method)
            .uri("*")
            .header("host", "example.com")
            .body(())
            .expect("valid request");
        sent_request_is_received(req);
    }
}

/// `encoder`: CONNECT takes authority-form, `uri-host ":" port` (RFC 9112
/// section 3.2.3). Minimized input `b"\x01\xc7\x1cq\xc7\x1cq\xc7\x9e"`:
/// the client sends `CONNECT example.com HTTP/1.1` (no port), the server
/// answers `InvalidTarget`; likewise `CONNECT :0` (no host).
#[test]
fn connect_target_that_is_not_host_and_port() {
    for uri in ["example.com", ":0", "http://example.com/"] {
        let req = Request::builder()
            .method("CONNECT")
            .uri(uri)
            .header("host", "example.com")
            .body(())
            .expect("valid request");
        sent_request_is_received(req);
    }
}

/// `encoder`: a request has at most one Host (RFC 9112 section 3.2).
/// Minimized input
/// `b"\xad\n\x01\x00\x00\x00\x00\x00\x01\x00<\xff\x01\x00\x01\x00\x0b\x00\x00\x00\x01\x00\x0b\xff"`:
/// the client sends two `host` lines, the server answers `MultipleHost`.
#[test]
fn two_host_fields() {
    let req = Request::builder()
        .uri("/")
        .header("host", "example.com:8080")
        .header("host", "0")
        .body(())
        .expect("valid request");
    sent_request_is_received(req);
}

/// `encoder`: Host is `uri-host [":" port]` (RFC 9110 section 7.2).
/// Minimized input
/// `b"\x05\x06\x01\x00'@\x00\x00\x00\x00ho\x15t\x00\x01\x00\x00\x00O\xb9\x00]\x00\x00"`:
/// the client sends `host: chunked, chunked`, the server answers
/// `InvalidHost`.
#[test]
fn host_field_that_is_not_a_host() {
    let req = Request::builder()
        .method("HEAD")
        .uri("/")
        .header("host", "chunked, chunked")
        .body(())
        .expect("valid request");
    sent_request_is_received(req);
}

/// `encoder`: the Host the client derives from the URI's authority must be
/// a valid host too. Minimized input
/// `b"\x07\x07\xb1\x01>\xc7\xdf\xdf\xdf\xdf:\xdf\xdf\xdf\x9c6\xdf\xe3"`:
/// `POST` to the URI `[@]` (which `http` parses as an authority), HTTP/1.0
/// without a host field: the client sends `host: [@]`, the server answers
/// `InvalidHost`.
#[test]
fn host_derived_from_an_authority_that_is_not_a_host() {
    for version in [Version::HTTP_10, Version::HTTP_11] {
        let req = Request::builder()
            .method("POST")
            .uri("[@]")
            .version(version)
            .body(())
            .expect("valid request");
        sent_request_is_received(req);
    }
}

/// `server_bytes` (G7 in `tests/fuzz/RUNS.md`): an Upgrade field whose
/// elements are not protocols. `requested_upgrade` named `Up"`, which the
/// core then refused to switch to. Only a `token [ "/" token ]` is a
/// protocol (RFC 9110 section 7.8): this request proposes nothing, and one
/// that names a protocol among junk switches to it.
#[test]
fn upgrade_elements_that_are_not_protocols() {
    let mut conn = h1::Connection::server();
    conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: Up\"\r\nUpgrade:\r\n\r\n")
        .expect("input");
    let Ok(h1::Event::Request(head)) = conn.poll_event() else {
        panic!("a request")
    };
    assert_eq!(head.requested_upgrade(), None);
    assert!(!conn.is_switch_proposed());

    let mut conn = h1::Connection::server();
    conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: a b, ws\r\n\r\n")
        .expect("input");
    let Ok(h1::Event::Request(head)) = conn.poll_event() else {
        panic!("a request")
    };
    let token = head.requested_upgrade().expect("a protocol").to_vec();
    assert_eq!(token, b"ws");
    while !matches!(conn.poll_event(), Ok(h1::Event::Paused)) {}
    let mut res = h1::ResponseHead::new(h1::http::StatusCode::SWITCHING_PROTOCOLS);
    res.fields_mut().append("upgrade", &token).expect("valid");
    res.fields_mut().append("connection", "upgrade").expect("valid");
    conn.send_response(res)
        .expect("the protocol requested_upgrade names is one the 101 may name");
}

/// `server_bytes`: an Upgrade line with an unbalanced quote before one that
/// names a protocol. The offer kept for the 101 was the lines joined and
/// read again, where the quote swallowed the protocol that
/// `requested_upgrade` named: the offer is now the protocols themselves.
#[test]
fn an_unbalanced_quote_does_not_hide_a_later_protocol() {
    let mut conn = h1::Connection::server();
    conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: webs\"x, y\r\nUpgrade: a\tb\r\nUpgrade: websd\r\n\r\n")
        .expect("input");
    let Ok(h1::Event::Request(head)) = conn.poll_event() else {
        panic!("a request")
    };
    assert_eq!(head.requested_upgrade(), Some(&b"websd"[..]));
    while !matches!(conn.poll_event(), Ok(h1::Event::Paused)) {}
    let mut res = h1::ResponseHead::new(h1::http::StatusCode::SWITCHING_PROTOCOLS);
    res.fields_mut().append("upgrade", "websd").expect("valid");
    res.fields_mut().append("connection", "upgrade").expect("valid");
    conn.send_response(res).expect("a 101 to the protocol offered");
}

/// `encoder` (run 22 in `tests/fuzz/RUNS.md`): a CONNECT whose URI has a
/// userinfo part (`@Z@8:8`, which `http` parses as an authority) goes out
/// as `CONNECT 8:8`, Host `8:8`: only the host and port (RFC 9112 section
/// 3.2.3), never a userinfo (RFC 9110 section 4.2.4). The target expected
/// the whole authority: the harness was wrong, the core right.
#[test]
fn connect_target_without_the_userinfo() {
    let mut pair = Pair::new();
    let req = Request::connect("@Z@8:8")
        .version(Version::HTTP_10)
        .body(())
        .expect("valid");
    pair.client.send_request(req).expect("sent");
    pair.client.send_end().expect("ends");
    let got = pair.to_server();
    let [Ev::Request {
        method,
        target,
        headers,
    }, Ev::End, ..] = got.as_slice()
    else {
        panic!("the server saw {got:?}");
    };
    assert_eq!((method.as_str(), target.as_str()), ("CONNECT", "8:8"));
    assert_eq!(headers, &[("host".to_owned(), b"8:8".to_vec())]);
}
