//! The client side over real sockets: the `ClientConnection` against the
//! `ServerConnection` (through `serve`), and against raw-socket servers
//! whose bytes are written and checked exactly. Every scenario runs under
//! async-std and under smol.

mod common;

use common::{completes_within, echo_body, raw_echo, read_exact, read_head, send, Net};
use futures_lite::future::zip;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use h1::http::{header, HeaderMap, Method, Request, StatusCode};
use h1_async_std::{serve, ClientConnection, Served};

both!(
    bodies_both_ways_against_server_connection,
    expect_continue_holds_body_until_100,
    upgrade_with_leftover_in_one_write,
    connect_tunnel_against_server_connection,
);

fn request(method: Method, path: &str) -> h1::http::request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "x")
}

async fn bodies_both_ways_against_server_connection<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let io = N::accept(&listener).await;
        let served = serve(io, h1::Config::default(), async |req, conn| {
            echo_body(req, conn).await
        })
        .await
        .expect("serve");
        assert!(matches!(served, Served::Closed));
    };
    let client = async {
        let client = ClientConnection::new(N::connect(addr).await);

        // Content-Length both ways, the response read chunk by chunk.
        let req = request(Method::POST, "/cl").header(header::CONTENT_LENGTH, 11);
        client
            .send_request(req.body(()).expect("request"))
            .await
            .expect("send");
        client.send_data("hello ".into()).await.expect("data");
        client.send_data("world".into()).await.expect("data");
        client.send_end().await.expect("end");
        let res = client.read_response().await.expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[header::CONTENT_LENGTH], "11");
        let mut body = Vec::new();
        for _ in 0..100 {
            match client.read_body().await.expect("body") {
                Some(chunk) => body.extend_from_slice(&chunk),
                None => break,
            }
        }
        assert_eq!(body, b"hello world");
        assert!(client.trailers().expect("a header map").is_none());
        assert!(client.trailer_fields().is_none());
        assert!(client.is_reusable());

        // Chunked both ways with trailers, the response read as AsyncRead.
        let req = request(Method::POST, "/chunked").header(header::TRANSFER_ENCODING, "chunked");
        client
            .send_request(req.body(()).expect("request"))
            .await
            .expect("send");
        client.send_data("abc".into()).await.expect("data");
        client.send_data("def".into()).await.expect("data");
        let mut trailers = HeaderMap::new();
        trailers.insert("x-checksum", "42".parse().expect("value"));
        client.send_trailers(trailers.clone()).await.expect("trailers");
        let res = client.read_response().await.expect("response");
        assert_eq!(res.headers()[header::TRANSFER_ENCODING], "chunked");
        let mut body = Vec::new();
        client.body_receiver().read_to_end(&mut body).await.expect("body");
        assert_eq!(body, b"abcdef");
        assert_eq!(client.trailers().expect("a header map"), Some(trailers));
        let lines = client.trailer_fields().expect("trailer lines");
        assert_eq!(lines.get("X-Checksum"), Some(&b"42"[..]));
        assert!(client.is_reusable());

        // The last request on the connection.
        let req = request(Method::GET, "/last").header(header::CONNECTION, "close");
        client
            .send_request(req.body(()).expect("request"))
            .await
            .expect("send");
        client.send_end().await.expect("end");
        let res = client.read_response().await.expect("response");
        assert_eq!(res.headers()[header::CONTENT_LENGTH], "0");
        assert_eq!(client.read_body().await.expect("body"), None);
        assert!(!client.is_reusable());
    };
    zip(server, client).await;
}

async fn expect_continue_holds_body_until_100<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let mut io = N::accept(&listener).await;
        let head = read_head(&mut io).await;
        assert!(head.starts_with("PUT /up HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("expect: 100-continue\r\n"), "{head}");
        let early = completes_within(150, read_exact(&mut io, 1)).await;
        assert_eq!(early, None, "body sent before 100 Continue");
        send(&mut io, b"HTTP/1.1 100 Continue\r\n\r\n").await;
        assert_eq!(read_exact(&mut io, 5).await, b"hello");
        send(&mut io, b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok").await;
    };
    let client = async {
        let client = ClientConnection::new(N::connect(addr).await);
        let req = request(Method::PUT, "/up")
            .header(header::EXPECT, "100-continue")
            .header(header::CONTENT_LENGTH, 5);
        client
            .send_request(req.body(()).expect("request"))
            .await
            .expect("send");
        client.send_data("hello".into()).await.expect("data");
        client.send_end().await.expect("end");
        let res = client.read_response().await.expect("100");
        assert_eq!(res.status(), StatusCode::CONTINUE);
        let res = client.read_response().await.expect("final response");
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(
            client.read_body().await.expect("body").as_deref(),
            Some(&b"ok"[..])
        );
        assert_eq!(client.read_body().await.expect("body"), None);
    };
    zip(server, client).await;
}

async fn upgrade_with_leftover_in_one_write<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let mut io = N::accept(&listener).await;
        let head = read_head(&mut io).await;
        assert!(head.contains("upgrade: echo\r\n"), "{head}");
        send(
            &mut io,
            b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\nfirst bytes",
        )
        .await;
        assert_eq!(read_exact(&mut io, 4).await, b"ping");
        send(&mut io, b"pong").await;
    };
    let client = async {
        let client = ClientConnection::new(N::connect(addr).await);
        let req = request(Method::GET, "/chat")
            .header(header::CONNECTION, "upgrade")
            .header(header::UPGRADE, "echo");
        client
            .send_request(req.body(()).expect("request"))
            .await
            .expect("send");
        client.send_end().await.expect("end");
        let res = client.read_response().await.expect("response");
        assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert!(client.is_switched());
        let parts = client.into_parts().await.expect("parts");
        assert_eq!(parts.leftover, &b"first bytes"[..]);
        let mut upgraded = parts.into_upgraded();
        // The leftover comes out first, then what the socket delivers.
        assert_eq!(read_exact(&mut upgraded, 11).await, b"first bytes");
        upgraded.write_all(b"ping").await.expect("write");
        assert_eq!(read_exact(&mut upgraded, 4).await, b"pong");
    };
    zip(server, client).await;
}

async fn connect_tunnel_against_server_connection<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let io = N::accept(&listener).await;
        let served = serve(io, h1::Config::default(), async |req, conn| {
            conn.send_response(h1::http::Response::new(())).await?;
            Ok::<_, h1_async_std::Error>(req)
        })
        .await
        .expect("serve");
        let Served::Upgraded {
            value: request,
            parts,
        } = served
        else {
            panic!("no switch")
        };
        assert_eq!(request.method(), Method::CONNECT);
        assert_eq!(request.uri(), "example.com:443");
        raw_echo(&mut parts.into_upgraded()).await;
    };
    let client = async {
        let client = ClientConnection::new(N::connect(addr).await);
        let req = Request::builder()
            .method(Method::CONNECT)
            .uri("example.com:443")
            .body(())
            .expect("request");
        client.send_request(req).await.expect("send");
        client.send_end().await.expect("end");
        let res = client.read_response().await.expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        assert!(client.is_switched());
        let parts = client.into_parts().await.expect("parts");
        assert!(parts.leftover.is_empty());
        let mut tunnel = parts.into_upgraded();
        for message in [&b"through"[..], b"the tunnel"] {
            tunnel.write_all(message).await.expect("write");
            assert_eq!(read_exact(&mut tunnel, message.len()).await, message);
        }
        N::shutdown_write(tunnel.get_ref());
        let mut rest = Vec::new();
        tunnel.read_to_end(&mut rest).await.expect("eof");
        assert!(rest.is_empty());
    };
    zip(server, client).await;
}
