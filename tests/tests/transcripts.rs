//! Whole exchanges between a client and a server connection: what one side
//! sends, the other receives as the same message, and each side sees the
//! expected sequence of event kinds.

use h1::http::{Method, Request, Response, StatusCode};
use h1::{CloseReason, Connection, State};
use h1_tests::{drain, kinds, merge_data, take_output, Ev, Pair};

fn get(path: &str) -> Request<()> {
    Request::get(path)
        .header("host", "example.com")
        .body(())
        .expect("valid request")
}

fn ok(body_len: usize) -> Response<()> {
    Response::builder()
        .header("content-length", body_len.to_string())
        .body(())
        .expect("valid response")
}

#[test]
fn keep_alive_two_exchanges() {
    let mut p = Pair::new();
    for path in ["/a", "/b"] {
        p.send_request(get(path), b"").expect("send request");
        let seen = p.to_server();
        assert_eq!(kinds(&seen), ["request", "end", "paused"]);
        assert!(matches!(&seen[0], Ev::Request { target, .. } if target == path));
        p.send_response(ok(2), b"hi").expect("send response");
        let cl = vec![("content-length".to_string(), b"2".to_vec())];
        assert_eq!(
            p.to_client(),
            [
                Ev::Response {
                    status: 200,
                    headers: cl
                },
                Ev::Data(b"hi".to_vec()),
                Ev::End
            ]
        );
        assert_eq!(p.server.our_state(), State::Idle);
        assert_eq!(p.server.their_state(), State::Idle);
    }
    assert_eq!(p.client.close_reason(), None);
}

#[test]
fn pipelined_requests_answered_in_order() {
    let mut p = Pair::new();
    for path in ["/1", "/2", "/3"] {
        p.send_request(get(path), b"").expect("pipeline");
    }
    // The server parses one request, then pauses until it is answered.
    let mut targets = Vec::new();
    for _ in 0..3 {
        let seen = if targets.is_empty() {
            p.to_server()
        } else {
            merge_data(drain(&mut p.server))
        };
        assert_eq!(kinds(&seen), ["request", "end", "paused"]);
        if let Ev::Request { target, .. } = &seen[0] {
            targets.push(target.clone());
        }
        p.server.send_response(ok(1)).expect("respond");
        p.server
            .send_data(targets.len().to_string().into())
            .expect("body");
        p.server.send_end().expect("end");
    }
    assert_eq!(targets, ["/1", "/2", "/3"]);
    let seen = p.to_client();
    assert_eq!(
        kinds(&seen),
        ["response", "data", "end", "response", "data", "end", "response", "data", "end"]
    );
    let bodies: Vec<_> = seen
        .iter()
        .filter_map(|e| {
            if let Ev::Data(d) = e {
                Some(d.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(bodies, [b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
}

fn expect_continue_post() -> Request<()> {
    Request::post("/upload")
        .header("host", "example.com")
        .header("content-length", "5")
        .header("expect", "100-continue")
        .body(())
        .expect("valid")
}

#[test]
fn expect_continue_both_roles() {
    let mut p = Pair::new();
    p.send_request(expect_continue_post(), b"hello").expect("send");
    // Only the head went out: the body waits for 100 Continue.
    let seen = p.to_server();
    assert_eq!(kinds(&seen), ["request"]);
    assert!(p.server.is_continue_expected());
    p.server
        .send_response(
            Response::builder()
                .status(StatusCode::CONTINUE)
                .body(())
                .expect("valid"),
        )
        .expect("100");
    assert!(!p.server.is_continue_expected());
    assert_eq!(p.to_client(), [Ev::Informational(100)]);
    // The 100 released the body.
    assert_eq!(p.to_server(), [Ev::Data(b"hello".to_vec()), Ev::End, Ev::Paused]);
    p.send_response(ok(0), b"").expect("final");
    assert_eq!(kinds(&p.to_client()), ["response", "end"]);
    assert_eq!(p.client.close_reason(), None);
}

#[test]
fn expect_continue_answered_first_drops_body_and_closes() {
    let mut p = Pair::new();
    p.send_request(expect_continue_post(), b"hello").expect("send");
    assert_eq!(kinds(&p.to_server()), ["request"]);
    let denied = Response::builder()
        .status(StatusCode::PAYLOAD_TOO_LARGE)
        .header("content-length", "0")
        .body(())
        .expect("valid");
    p.send_response(denied, b"").expect("413");
    assert_eq!(p.server.close_reason(), Some(CloseReason::UnsentBody));
    // The server does not wait for a body that may never come.
    assert!(p.server.is_close_wanted(), "closes once the response is written");
    assert_eq!(p.server.our_state(), State::MustClose);
    assert_eq!(kinds(&p.to_client()), ["response", "end", "finished"]);
    assert_eq!(p.client.close_reason(), Some(CloseReason::UnsentBody));
    assert!(
        take_output(&mut p.client).is_empty(),
        "the held body is never sent"
    );
}

fn upgrade_request() -> Request<()> {
    Request::get("/chat")
        .header("host", "example.com")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .body(())
        .expect("valid")
}

fn switching() -> Response<()> {
    switching_to("websocket")
}

fn switching_to(protocol: &str) -> Response<()> {
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", protocol)
        .header("connection", "upgrade")
        .body(())
        .expect("valid")
}

#[test]
fn upgrade_accepted_hands_over_leftover_both_ways() {
    let mut p = Pair::new();
    p.send_request(upgrade_request(), b"").expect("send");
    let mut wire = take_output(&mut p.client);
    wire.extend_from_slice(b"\x81\x05hello"); // client's first frame, same segment
    p.server.receive(&wire).expect("input");
    assert_eq!(kinds(&drain(&mut p.server)), ["request", "end", "paused"]);
    assert_eq!(p.server.their_state(), State::MightSwitchProtocol);
    p.server.send_response(switching()).expect("101");
    assert_eq!(drain(&mut p.server), [Ev::Upgrade(b"\x81\x05hello".to_vec())]);
    assert_eq!(p.server.our_state(), State::SwitchedProtocol);
    assert!(
        matches!(p.server.poll_event(), Ok(h1::Event::Finished)),
        "nothing after the upgrade"
    );
    // The server's 101 and its first frame reach the client together.
    let mut wire = take_output(&mut p.server);
    wire.extend_from_slice(b"\x81\x02ok");
    p.client.receive(&wire).expect("input");
    let seen = drain(&mut p.client);
    assert_eq!(kinds(&seen), ["response", "upgrade"]);
    assert_eq!(seen[1], Ev::Upgrade(b"\x81\x02ok".to_vec()));
    assert!(p.client.receive(b"more").is_err(), "no input after the switch");
}

#[test]
fn upgrade_request_with_body_switches_after_the_body() {
    let mut p = Pair::new();
    let req = Request::post("/up")
        .header("host", "example.com")
        .header("connection", "upgrade")
        .header("upgrade", "x")
        .header("content-length", "3")
        .body(())
        .expect("valid");
    p.client.send_request(req).expect("head");
    let mut wire = take_output(&mut p.client);
    p.server.receive(&wire).expect("head in");
    assert_eq!(kinds(&drain(&mut p.server)), ["request"]);
    assert!(
        p.server.send_response(switching_to("x")).is_err(),
        "no switch before the body"
    );
    p.client.send_data("abc".into()).expect("body");
    p.client.send_end().expect("end");
    wire = take_output(&mut p.client);
    wire.extend_from_slice(b"NEW");
    p.server.receive(&wire).expect("body in");
    assert_eq!(
        drain(&mut p.server),
        [Ev::Data(b"abc".to_vec()), Ev::End, Ev::Paused]
    );
    assert_eq!(
        p.server.send_response(switching()),
        Err(h1::Error::Misuse(h1::Misuse::SwitchToUnofferedProtocol)),
        "RFC 9110 section 7.8: only to a protocol the request offered"
    );
    p.server.send_response(switching_to("x")).expect("101");
    assert_eq!(drain(&mut p.server), [Ev::Upgrade(b"NEW".to_vec())]);
}

#[test]
fn upgrade_declined_keeps_http() {
    let mut p = Pair::new();
    p.send_request(upgrade_request(), b"").expect("send");
    assert_eq!(kinds(&p.to_server()), ["request", "end", "paused"]);
    p.send_response(ok(2), b"no").expect("decline");
    assert_eq!(kinds(&p.to_client()), ["response", "data", "end"]);
    // The same connection carries the next exchange.
    p.send_request(get("/next"), b"").expect("next");
    assert_eq!(kinds(&p.to_server()), ["request", "end", "paused"]);
    p.send_response(ok(0), b"").expect("respond");
    assert_eq!(kinds(&p.to_client()), ["response", "end"]);
}

fn connect() -> Request<()> {
    Request::builder()
        .method(Method::CONNECT)
        .uri("example.com:443")
        .body(())
        .expect("valid")
}

#[test]
fn connect_tunnel() {
    let mut p = Pair::new();
    p.send_request(connect(), b"").expect("send");
    let seen = p.to_server();
    assert_eq!(kinds(&seen), ["request", "end", "paused"]);
    assert!(
        matches!(&seen[0], Ev::Request { method, target, .. } if method == "CONNECT" && target == "example.com:443")
    );
    p.server.send_response(Response::new(())).expect("200");
    assert_eq!(drain(&mut p.server), [Ev::Upgrade(Vec::new())]);
    let mut wire = take_output(&mut p.server);
    wire.extend_from_slice(b"\x16\x03\x01"); // TLS from the target, same segment
    p.client.receive(&wire).expect("input");
    let seen = drain(&mut p.client);
    assert_eq!(kinds(&seen), ["response", "upgrade"]);
    assert_eq!(seen[1], Ev::Upgrade(b"\x16\x03\x01".to_vec()));
}

#[test]
fn connect_refused_keeps_http() {
    let mut p = Pair::new();
    p.send_request(connect(), b"").expect("send");
    p.to_server();
    let refused = Response::builder()
        .status(StatusCode::BAD_GATEWAY)
        .header("content-length", "4")
        .body(())
        .expect("valid");
    p.send_response(refused, b"nope").expect("502");
    assert_eq!(kinds(&p.to_client()), ["response", "data", "end"]);
    p.send_request(get("/"), b"").expect("next");
    assert_eq!(kinds(&p.to_server()), ["request", "end", "paused"]);
}

#[test]
fn chunked_body_with_trailers_round_trip() {
    let mut p = Pair::new();
    let req = Request::post("/up")
        .header("host", "example.com")
        .header("transfer-encoding", "chunked")
        .body(())
        .expect("valid");
    p.client.send_request(req).expect("head");
    p.client.send_data("hello ".into()).expect("data");
    p.client.send_data("world".into()).expect("data");
    let mut trailers = h1::http::HeaderMap::new();
    trailers.insert("x-checksum", "abc".parse().expect("value"));
    p.client.send_trailers(trailers).expect("trailers");
    let seen = p.to_server();
    assert_eq!(kinds(&seen), ["request", "data", "trailers", "end", "paused"]);
    assert_eq!(seen[1], Ev::Data(b"hello world".to_vec()));
    assert_eq!(
        seen[2],
        Ev::Trailers(vec![("x-checksum".into(), b"abc".to_vec())])
    );
}

#[test]
fn connection_close_ends_after_the_exchange() {
    let mut p = Pair::new();
    let req = Request::get("/")
        .header("host", "a")
        .header("connection", "close")
        .body(())
        .expect("valid");
    p.send_request(req, b"").expect("send");
    assert_eq!(p.client.our_state(), State::MustClose);
    assert_eq!(kinds(&p.to_server()), ["request", "end", "paused"]);
    p.send_response(ok(0), b"").expect("respond");
    let wire = String::from_utf8(take_output(&mut p.server)).expect("ascii");
    assert!(wire.contains("connection: close\r\n"), "{wire}");
    assert!(p.server.is_close_wanted());
    assert_eq!(p.server.close_reason(), Some(CloseReason::PeerAskedClose));
}

#[test]
fn early_final_response_that_closes_while_the_client_still_sends() {
    let mut p = Pair::new();
    let req = Request::post("/big")
        .header("host", "example.com")
        .header("content-length", "10")
        .body(())
        .expect("valid");
    p.client.send_request(req).expect("head");
    p.client.send_data("01234".into()).expect("half the body");
    assert_eq!(kinds(&p.to_server()), ["request", "data"]);
    let early = Response::builder()
        .status(StatusCode::PAYLOAD_TOO_LARGE)
        .header("content-length", "0")
        .header("connection", "close")
        .body(())
        .expect("valid");
    p.send_response(early, b"").expect("413");
    // The server reads no more of the body it refused (RFC 9112 section 9.6).
    assert_eq!(p.server.their_state(), State::MustClose);
    assert!(!p.server.is_read_wanted());
    assert_eq!(kinds(&p.to_client()), ["response", "end", "finished"]);
    // RFC 9112 section 9.5: the client stops sending the body.
    assert_eq!(p.client.our_state(), State::MustClose);
    assert!(p.client.send_data("56789".into()).is_err(), "the upload stops");
    assert!(p.client.is_close_wanted());
    assert_eq!(p.client.close_reason(), Some(CloseReason::PeerAskedClose));
}

#[test]
fn early_final_response_that_keeps_the_connection_lets_the_body_finish() {
    let mut p = Pair::new();
    let req = Request::post("/big")
        .header("host", "example.com")
        .header("content-length", "10")
        .body(())
        .expect("valid");
    p.client.send_request(req).expect("head");
    p.client.send_data("01234".into()).expect("half the body");
    assert_eq!(kinds(&p.to_server()), ["request", "data"]);
    // Full duplex: the answer goes out while the body still arrives.
    p.send_response(ok(2), b"ok").expect("early 200");
    assert_eq!(p.server.our_state(), State::Done);
    assert_eq!(kinds(&p.to_client()), ["response", "data", "end"]);
    p.client.send_data("56789".into()).expect("rest of the body");
    p.client.send_end().expect("end");
    assert_eq!(p.to_server(), [Ev::Data(b"56789".to_vec()), Ev::End]);
    assert_eq!(
        (p.server.our_state(), p.server.their_state()),
        (State::Idle, State::Idle)
    );
    assert_eq!(
        (p.client.our_state(), p.client.their_state()),
        (State::Idle, State::Idle)
    );
    p.send_request(
        Request::get("/next")
            .header("host", "example.com")
            .body(())
            .expect("valid"),
        b"",
    )
    .expect("next request");
    assert_eq!(kinds(&p.to_server()), ["request", "end", "paused"]);
}

/// Once a closing response ended the exchange, the rest of the request
/// body is not read, whatever shape it comes in (the plain-chunk step of
/// the decoder included).
#[test]
fn nothing_of_the_body_is_read_after_a_closing_response() {
    let mut server = Connection::server();
    server
        .receive(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        .expect("input");
    assert_eq!(kinds(&drain(&mut server)), ["request", "data"]);
    // More of the body arrives before the answer goes out.
    server.receive(b"5\r\nworld\r\n").expect("input");
    let close = Response::builder()
        .status(StatusCode::PAYLOAD_TOO_LARGE)
        .header("connection", "close")
        .header("content-length", "0")
        .body(())
        .expect("valid");
    server.send_response(close).expect("head");
    server.send_end().expect("end");
    assert_eq!(drain(&mut server), [Ev::Finished]);
    server.receive(b"5\r\nagain\r\n").expect("discarded, not refused");
    assert_eq!(drain(&mut server), [Ev::Finished]);
    assert_eq!(server.buffered_len(), 0);
    assert!(server.is_close_wanted());
}

/// What a driver asks of the connection around a graceful shutdown and an
/// early closing answer.
#[test]
fn close_after_exchange_and_a_peer_cut_off() {
    // Between exchanges: the connection wants to close at once.
    let mut p = Pair::new();
    p.send_request(
        Request::get("/a").header("host", "x").body(()).expect("valid"),
        b"",
    )
    .expect("send");
    assert_eq!(kinds(&p.to_server()), ["request", "end", "paused"]);
    p.send_response(ok(0), b"").expect("answer");
    p.server.close_after_exchange();
    assert_eq!(p.server.close_reason(), Some(CloseReason::Shutdown));
    assert!(p.server.is_close_wanted());

    // During one: the answer says so, and the connection closes after it.
    let mut p = Pair::new();
    p.send_request(
        Request::get("/a").header("host", "x").body(()).expect("valid"),
        b"",
    )
    .expect("send");
    assert_eq!(kinds(&p.to_server()), ["request", "end", "paused"]);
    p.server.close_after_exchange();
    assert!(!p.server.is_close_wanted(), "the request is still answered");
    p.send_response(ok(0), b"").expect("answer");
    let wire = String::from_utf8(take_output(&mut p.server)).expect("ascii");
    assert!(wire.contains("connection: close\r\n"), "{wire}");
    assert!(p.server.is_close_wanted());
    assert!(!p.server.is_peer_cut_off(), "the request was read whole");

    // An answer that closes before the body it did not read.
    let mut p = Pair::new();
    let req = Request::post("/up")
        .header("host", "x")
        .header("content-length", "10")
        .body(())
        .expect("valid");
    p.client.send_request(req).expect("head");
    p.client.send_data("01234".into()).expect("half");
    assert_eq!(kinds(&p.to_server()), ["request", "data"]);
    let refuse = Response::builder()
        .status(StatusCode::PAYLOAD_TOO_LARGE)
        .header("connection", "close")
        .header("content-length", "0")
        .body(())
        .expect("valid");
    p.send_response(refuse, b"").expect("413");
    assert!(p.server.is_peer_cut_off(), "the client may still be sending");
    let head = h1::ResponseHead::new(StatusCode::CREATED);
    assert_eq!(h1::OutgoingResponse::status(&head), StatusCode::CREATED);
    assert_eq!(h1::OutgoingResponse::status(&ok(0)), StatusCode::OK);
}
