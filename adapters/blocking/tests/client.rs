//! ClientConnection over real sockets: against ServerConnection, and
//! against raw servers where the bytes on the wire matter.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{connect, read_to_end, server, silent_for};
use h1::http::{header, HeaderMap, Method, Request, Response, StatusCode};
use h1_blocking::{serve, ClientConnection, Error, Served};

/// Reads a raw request head (up to the empty line) off `socket`.
fn read_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        socket.read_exact(&mut byte).expect("request head");
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("ascii head")
}

/// A server answering each request with its body, framed as the request
/// was (chunked requests get a chunked answer and their trailers back).
fn mirror(socket: TcpStream) -> Result<Served<TcpStream>, Error> {
    serve(socket, h1::Config::default(), |req, conn| {
        let mut body = Vec::new();
        conn.body_receiver().read_to_end(&mut body)?;
        let mut res = Response::builder().header("x-path", req.uri().path());
        if let Some(len) = req.headers().get(header::CONTENT_LENGTH) {
            res = res.header(header::CONTENT_LENGTH, len);
        }
        conn.send_response(res.body(()).expect("response"))?;
        conn.send_data(body.into())?;
        // The trailers go back as they arrived.
        match conn.trailer_fields() {
            Some(trailers) => conn.send_trailers(trailers),
            None => conn.send_end(),
        }
    })
}

fn body_of(conn: &ClientConnection<TcpStream>) -> Vec<u8> {
    let mut body = Vec::new();
    conn.body_receiver().read_to_end(&mut body).expect("body");
    body
}

#[test]
fn content_length_both_ways_and_reuse() {
    let (addr, handle) = server(1, mirror);
    let conn = ClientConnection::new(connect(addr));
    for (i, body) in [&b"hello"[..], b"", b"world!"].into_iter().enumerate() {
        let req = Request::post(format!("/{i}"))
            .header(header::HOST, "a")
            .header(header::CONTENT_LENGTH, body.len())
            .body(())
            .expect("request");
        conn.send_request(req).expect("send");
        conn.send_data(body.to_vec().into()).expect("data");
        conn.send_end().expect("end");
        let res = conn.read_response().expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["x-path"], format!("/{i}").as_str());
        assert_eq!(
            res.headers()[header::CONTENT_LENGTH],
            body.len().to_string().as_str()
        );
        assert_eq!(body_of(&conn), body);
        assert!(conn.is_reusable());
    }
    drop(conn);
    assert!(handle.join().expect("server")[0].is_ok());
}

#[test]
fn chunked_both_ways_with_trailers() {
    let (addr, handle) = server(1, mirror);
    let conn = ClientConnection::new(connect(addr));
    let req = Request::put("/up")
        .header(header::HOST, "a")
        .header(header::TRANSFER_ENCODING, "chunked")
        .body(())
        .expect("request");
    conn.send_request(req).expect("send");
    for part in ["one ", "two ", "three"] {
        conn.send_data(part.into()).expect("data");
    }
    let mut trailers = HeaderMap::new();
    trailers.insert("x-checksum", "abc".parse().expect("value"));
    conn.send_trailers(trailers).expect("trailers");

    let res = conn.read_response().expect("response");
    assert_eq!(res.headers()[header::TRANSFER_ENCODING], "chunked");
    let mut body = Vec::new();
    while let Some(chunk) = conn.read_body().expect("body") {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(body, b"one two three");
    let trailers = conn.trailers().expect("a header map").expect("trailers");
    assert_eq!(trailers["x-checksum"], "abc");
    assert!(conn.is_reusable());
    drop(conn);
    assert!(handle.join().expect("server")[0].is_ok());
}

#[test]
fn pipelined_requests_get_responses_in_order() {
    let (addr, handle) = server(1, mirror);
    let conn = ClientConnection::new(connect(addr));
    for path in ["/1", "/2", "/3"] {
        let req = Request::get(path)
            .header(header::HOST, "a")
            .body(())
            .expect("request");
        conn.send_request(req).expect("send");
        conn.send_end().expect("end");
    }
    for path in ["/1", "/2", "/3"] {
        let res = conn.read_response().expect("response");
        assert_eq!(res.headers()["x-path"], path);
        assert!(body_of(&conn).is_empty());
    }
    drop(conn);
    assert!(handle.join().expect("server")[0].is_ok());
}

/// A request with `expect: 100-continue` and a 5-byte body.
fn expecting(body: &'static str) -> Request<()> {
    Request::post("/")
        .header(header::HOST, "a")
        .header(header::EXPECT, "100-continue")
        .header(header::CONTENT_LENGTH, body.len())
        .body(())
        .expect("request")
}

#[test]
fn expect_continue_holds_the_body_until_100() {
    let (addr, handle) = server(1, |mut socket| {
        let head = read_head(&mut socket);
        assert!(head.contains("expect: 100-continue\r\n"), "{head}");
        // The body is held back...
        assert!(
            silent_for(&socket, Duration::from_millis(150)),
            "body sent before 100"
        );
        socket.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").expect("write");
        // ...until the 100 arrives.
        let mut body = [0; 5];
        socket.read_exact(&mut body).expect("body");
        assert_eq!(&body, b"hello");
        socket
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .expect("write");
    });
    let mut config = h1::Config::default();
    config.timeouts.expect_continue = Some(Duration::from_secs(5));
    let conn = ClientConnection::with_config(connect(addr), config);
    conn.send_request(expecting("hello")).expect("send");
    conn.send_data("hello".into()).expect("data");
    conn.send_end().expect("end");
    let res = conn.read_response().expect("100");
    assert_eq!(res.status(), StatusCode::CONTINUE);
    let res = conn.read_response().expect("200");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_of(&conn), b"ok");
    handle.join().expect("server");
}

#[test]
fn expect_continue_deadline_releases_the_body() {
    let (addr, handle) = server(1, |mut socket| {
        read_head(&mut socket);
        let started = Instant::now();
        let mut body = [0; 5];
        socket.read_exact(&mut body).expect("body");
        let waited = started.elapsed();
        socket
            .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
            .expect("write");
        (body, waited)
    });
    let mut config = h1::Config::default();
    config.timeouts.expect_continue = Some(Duration::from_millis(150));
    let conn = ClientConnection::with_config(connect(addr), config);
    conn.send_request(expecting("early")).expect("send");
    conn.send_data("early".into()).expect("data");
    conn.send_end().expect("end");
    assert_eq!(
        conn.read_response().expect("response").status(),
        StatusCode::NO_CONTENT
    );
    let (body, waited) = handle.join().expect("server").remove(0);
    assert_eq!(&body, b"early");
    assert!(waited >= Duration::from_millis(100), "released after {waited:?}");
    assert!(waited < Duration::from_secs(2), "released after {waited:?}");
}

#[test]
fn upgrade_hands_over_the_socket_with_the_leftover_first() {
    let (addr, handle) = server(1, |mut socket| {
        let head = read_head(&mut socket);
        assert!(head.starts_with("GET /ws HTTP/1.1\r\n"), "{head}");
        // The 101 and the new protocol's first bytes in one write.
        socket
            .write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: raw\r\n\r\nFIRST",
            )
            .expect("write");
        let mut reply = [0; 5];
        socket.read_exact(&mut reply).expect("reply");
        socket.write_all(b"LAST").expect("write");
        reply
    });
    let conn = ClientConnection::new(connect(addr));
    let req = Request::get("/ws")
        .header(header::HOST, "a")
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "raw")
        .body(())
        .expect("request");
    conn.send_request(req).expect("send");
    conn.send_end().expect("end");
    let res = conn.read_response().expect("response");
    assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert!(conn.is_switched());
    let parts = conn.into_parts().expect("parts");
    assert_eq!(&parts.leftover[..], b"FIRST");
    // The socket's own read timeout is back.
    assert_eq!(parts.io.read_timeout().expect("timeout"), Some(common::TIMEOUT));
    let mut upgraded = parts.into_upgraded();
    let mut first = [0; 5];
    upgraded.read_exact(&mut first).expect("leftover");
    assert_eq!(&first, b"FIRST");
    upgraded.write_all(b"REPLY").expect("write");
    let mut last = [0; 4];
    upgraded.read_exact(&mut last).expect("last");
    assert_eq!(&last, b"LAST");
    assert_eq!(&handle.join().expect("server")[0], b"REPLY");
}

#[test]
fn connect_tunnel_through_a_server_connection() {
    let (addr, handle) = server(1, |socket| {
        let served = serve(socket, h1::Config::default(), |_req, conn| {
            conn.send_response(Response::new(()))
        })
        .expect("serve");
        let Served::Upgraded { parts, .. } = served else {
            panic!("not switched")
        };
        let mut writer = parts.io.try_clone().expect("clone");
        std::io::copy(&mut parts.into_upgraded(), &mut writer).expect("copy");
        writer.shutdown(std::net::Shutdown::Write).expect("shutdown");
    });
    let conn = ClientConnection::new(connect(addr));
    let req = Request::builder()
        .method(Method::CONNECT)
        .uri("example.com:443")
        .body(())
        .expect("request");
    conn.send_request(req).expect("send");
    conn.send_end().expect("end");
    assert_eq!(conn.read_response().expect("response").status(), StatusCode::OK);
    assert!(conn.is_switched());
    let parts = conn.into_parts().expect("parts");
    assert!(parts.leftover.is_empty());
    let mut socket = parts.io;
    socket.write_all(b"tunnelled").expect("write");
    socket.shutdown(std::net::Shutdown::Write).expect("shutdown");
    assert_eq!(read_to_end(&mut socket), b"tunnelled");
    handle.join().expect("server");
}

#[test]
fn the_socket_read_timeout_limits_each_wait() {
    let (addr, handle) = server(1, |mut socket| {
        read_head(&mut socket);
        // Never answer; wait for the client to give up and close.
        read_to_end(&mut socket)
    });
    let socket = connect(addr);
    socket
        .set_read_timeout(Some(Duration::from_millis(150)))
        .expect("timeout");
    let conn = ClientConnection::new(socket);
    conn.send_request(
        Request::get("/")
            .header(header::HOST, "a")
            .body(())
            .expect("request"),
    )
    .expect("send");
    conn.send_end().expect("end");
    let started = Instant::now();
    match conn.read_response() {
        Err(Error::Io(e)) => assert!(
            matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock),
            "{e}"
        ),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(140) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    drop(conn);
    assert!(handle.join().expect("server")[0].is_empty());
}

#[test]
fn missing_response_is_an_error() {
    let (addr, handle) = server(1, |mut socket| {
        read_head(&mut socket);
    });
    let conn = ClientConnection::new(connect(addr));
    conn.send_request(
        Request::get("/")
            .header(header::HOST, "a")
            .body(())
            .expect("request"),
    )
    .expect("send");
    conn.send_end().expect("end");
    handle.join().expect("server");
    match conn.read_response() {
        Err(Error::Protocol(h1::Error::Incomplete(_))) => {}
        other => panic!("expected an incomplete exchange, got {other:?}"),
    }
}
