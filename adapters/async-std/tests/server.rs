//! The server side over real sockets, driven by raw-socket clients whose
//! bytes are written and checked exactly. Every scenario runs under
//! async-std and under smol.

mod common;

use std::time::{Duration, Instant};

use common::{
    echo_body, get_path, path_body, raw_echo, read_exact, read_head, read_to_eof, send, sleep, Net,
};
use futures_lite::future::zip;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use h1::http::{Method, StatusCode};
use h1_async_std::{serve, serve_heads, Served, ServerConnection};

both!(
    content_length_and_chunked_bodies,
    pipelined_requests_answered_in_order,
    keep_alive_and_http10,
    continue_sent_when_body_first_read,
    rejected_request_gets_400_and_close,
    head_read_timeout_closes_slow_client_only,
    keep_alive_deadline_moves_with_each_request,
    upgrade_with_leftover_in_one_write,
    connect_tunnel_echoes_raw_bytes,
    serve_heads_gives_the_request_as_received,
);

/// Serves `io` with [`path_body`]: the connection must end closed, without
/// an error.
async fn serve_paths<IO>(io: IO, config: h1::Config)
where
    IO: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    let served = serve(io, config, async |req, conn| path_body(req, conn).await)
        .await
        .expect("serve");
    assert!(matches!(served, Served::Closed));
}

async fn content_length_and_chunked_bodies<N: Net>() {
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
        let mut io = N::connect(addr).await;
        send(
            &mut io,
            b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        )
        .await;
        assert_eq!(
            read_head(&mut io).await,
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
        );
        assert_eq!(read_exact(&mut io, 5).await, b"hello");
        send(
            &mut io,
            b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-sum: 11\r\n\r\n",
        )
        .await;
        assert_eq!(
            read_to_eof(&mut io).await,
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n\
             b\r\nhello world\r\n0\r\nx-sum: 11\r\n\r\n"
        );
    };
    zip(server, client).await;
}

async fn pipelined_requests_answered_in_order<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async { serve_paths(N::accept(&listener).await, h1::Config::default()).await };
    let client = async {
        let mut io = N::connect(addr).await;
        send(
            &mut io,
            b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n\
              POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\
              GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(
            read_to_eof(&mut io).await,
            "HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n/first\
             HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\n/second\
             HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\n/third"
        );
    };
    zip(server, client).await;
}

async fn keep_alive_and_http10<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        for _ in 0..3 {
            serve_paths(N::accept(&listener).await, h1::Config::default()).await;
        }
    };
    let client = async {
        // HTTP/1.1 persists by default: two exchanges, then the client closes.
        let mut io = N::connect(addr).await;
        for path in ["/one", "/two"] {
            get_path(&mut io, path).await;
        }
        N::shutdown_write(&io);
        assert_eq!(read_to_eof(&mut io).await, "");

        // HTTP/1.0 without keep-alive: one answer, then the server closes.
        let mut io = N::connect(addr).await;
        send(&mut io, b"GET /old HTTP/1.0\r\n\r\n").await;
        assert_eq!(
            read_to_eof(&mut io).await,
            "HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\n/old"
        );

        // HTTP/1.0 with keep-alive: the connection persists.
        let mut io = N::connect(addr).await;
        send(&mut io, b"GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").await;
        assert_eq!(
            read_head(&mut io).await,
            "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n"
        );
        assert_eq!(read_exact(&mut io, 3).await, b"/ka");
        send(&mut io, b"GET /end HTTP/1.0\r\n\r\n").await;
        assert_eq!(
            read_to_eof(&mut io).await,
            "HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\n/end"
        );
    };
    zip(server, client).await;
}

async fn continue_sent_when_body_first_read<N: Net>() {
    let (listener, addr) = N::bind().await;
    let (go, wait) = smol::channel::bounded::<()>(1);
    let server = async {
        let io = N::accept(&listener).await;
        let conn = ServerConnection::new(io);
        let req = conn.read_request().await.expect("read").expect("a request");
        assert_eq!(req.method(), Method::PUT);
        // No 100 before the body is asked for.
        wait.recv().await.expect("go");
        let mut body = Vec::new();
        while let Some(chunk) = conn.read_body().await.expect("body") {
            body.extend_from_slice(&chunk);
        }
        assert_eq!(body, b"hello");
        let res = h1::http::Response::builder()
            .status(StatusCode::CREATED)
            .header("content-length", "0")
            .body(())
            .expect("response");
        conn.send_response(res).await.expect("send");
        conn.send_end().await.expect("end");
        assert!(conn.read_request().await.expect("read").is_none());
    };
    let client = async {
        let mut io = N::connect(addr).await;
        send(
            &mut io,
            b"PUT /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        )
        .await;
        let early = common::completes_within(150, read_head(&mut io)).await;
        assert_eq!(early, None, "100 sent before the body was read");
        go.send(()).await.expect("signal");
        assert_eq!(read_head(&mut io).await, "HTTP/1.1 100 Continue\r\n\r\n");
        send(&mut io, b"hello").await;
        assert_eq!(
            read_head(&mut io).await,
            "HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n"
        );
        N::shutdown_write(&io);
        assert_eq!(read_to_eof(&mut io).await, "");
    };
    zip(server, client).await;
}

async fn rejected_request_gets_400_and_close<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let io = N::accept(&listener).await;
        let err = serve(io, h1::Config::default(), async |req, conn| {
            path_body(req, conn).await
        })
        .await
        .expect_err("a bad request");
        let status = err.protocol().and_then(h1::Error::status);
        assert_eq!(status, Some(StatusCode::BAD_REQUEST), "{err}");
    };
    let client = async {
        let mut io = N::connect(addr).await;
        // The pipelined request after the rejected one is never answered.
        send(
            &mut io,
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello\
              GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .await;
        assert_eq!(
            read_to_eof(&mut io).await,
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
    };
    zip(server, client).await;
}

async fn head_read_timeout_closes_slow_client_only<N: Net>() {
    let (listener, addr) = N::bind().await;
    let mut config = h1::Config::default();
    config.timeouts.head_read = Some(Duration::from_millis(200));
    let start = Instant::now();
    let server = async {
        let slow = N::accept(&listener).await;
        let fast = N::accept(&listener).await;
        let slow = async {
            let err = serve(slow, config.clone(), async |req, conn| path_body(req, conn).await)
                .await
                .expect_err("a timeout");
            let status = err.protocol().and_then(h1::Error::status);
            assert_eq!(status, Some(StatusCode::REQUEST_TIMEOUT), "{err}");
        };
        let fast = serve_paths(fast, config.clone());
        zip(slow, fast).await;
    };
    let client = async {
        let mut slow = N::connect(addr).await;
        send(&mut slow, b"GET /slow HTTP/1.1\r\nHost: x\r\n").await;
        let mut fast = N::connect(addr).await;
        send(
            &mut fast,
            b"GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(
            read_to_eof(&mut fast).await,
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\n/fast"
        );
        let fast_done = start.elapsed();
        assert_eq!(
            read_to_eof(&mut slow).await,
            "HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        );
        let slow_done = start.elapsed();
        assert!(
            fast_done < Duration::from_millis(200),
            "fast client waited {fast_done:?}"
        );
        assert!(
            slow_done >= Duration::from_millis(190),
            "408 after only {slow_done:?}"
        );
    };
    zip(server, client).await;
}

/// The keep-alive deadline counts from the last response, not the first:
/// a request after the first response's deadline, but within the one
/// before it, is served; an idle connection is then closed once its
/// deadline passes. (async-io's timers fire once: the adapter must set a
/// fresh one for each deadline it waits on.)
async fn keep_alive_deadline_moves_with_each_request<N: Net>() {
    let (listener, addr) = N::bind().await;
    let keep_alive = Duration::from_millis(400);
    let mut config = h1::Config::default();
    config.timeouts.keep_alive = Some(keep_alive);
    let server = async { serve_paths(N::accept(&listener).await, config).await };
    let client = async {
        let mut io = N::connect(addr).await;
        let start = Instant::now();
        for path in ["/1", "/2", "/3"] {
            get_path(&mut io, path).await;
            sleep(250).await;
        }
        let idle_from = Instant::now() - Duration::from_millis(250);
        assert_eq!(read_to_eof(&mut io).await, "", "closed without a response");
        let idle = idle_from.elapsed();
        assert!(
            start.elapsed() >= Duration::from_millis(750),
            "{:?}",
            start.elapsed()
        );
        assert!(
            idle >= keep_alive - Duration::from_millis(50) && idle < keep_alive * 3,
            "closed after {idle:?} idle"
        );
    };
    zip(server, client).await;
}

async fn upgrade_with_leftover_in_one_write<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let io = N::accept(&listener).await;
        let served = serve(io, h1::Config::default(), async |req, conn| {
            let res = h1::http::Response::builder()
                .status(StatusCode::SWITCHING_PROTOCOLS)
                .header("upgrade", "echo")
                .header("connection", "upgrade")
                .body(())
                .expect("response");
            conn.send_response(res).await?;
            Ok::<_, h1_async_std::Error>(req)
        })
        .await
        .expect("serve");
        let Served::Upgraded {
            value: request,
            parts,
        } = served
        else {
            panic!("no upgrade")
        };
        assert_eq!(request.uri().path(), "/chat");
        assert_eq!(parts.leftover, &b"new protocol"[..]);
        let mut upgraded = parts.into_upgraded();
        // The leftover comes out first, then what the socket delivers.
        assert_eq!(read_exact(&mut upgraded, 12).await, b"new protocol");
        upgraded.write_all(b"from server").await.expect("write");
        assert_eq!(read_exact(&mut upgraded, 4).await, b"more");
        raw_echo(&mut upgraded).await;
    };
    let client = async {
        let mut io = N::connect(addr).await;
        send(
            &mut io,
            b"GET /chat HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nnew protocol",
        )
        .await;
        assert_eq!(
            read_head(&mut io).await,
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n"
        );
        assert_eq!(read_exact(&mut io, 11).await, b"from server");
        send(&mut io, b"more").await;
        send(&mut io, b"echoed").await;
        assert_eq!(read_exact(&mut io, 6).await, b"echoed");
        N::shutdown_write(&io);
        assert_eq!(read_to_eof(&mut io).await, "");
    };
    zip(server, client).await;
}

async fn connect_tunnel_echoes_raw_bytes<N: Net>() {
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
        raw_echo(&mut parts.into_upgraded()).await;
    };
    let client = async {
        let mut io = N::connect(addr).await;
        send(
            &mut io,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01",
        )
        .await;
        assert_eq!(read_head(&mut io).await, "HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(read_exact(&mut io, 3).await, b"\x16\x03\x01");
        send(&mut io, b"tunnelled").await;
        assert_eq!(read_exact(&mut io, 9).await, b"tunnelled");
        N::shutdown_write(&io);
        let mut rest = Vec::new();
        io.read_to_end(&mut rest).await.expect("eof");
        assert!(rest.is_empty());
    };
    zip(server, client).await;
}

/// `serve_heads` gives each request as it arrived: the target byte for
/// byte, the field lines in order with their names' case, duplicates
/// apart; `http_request` builds the same request as `http` types; a
/// `ResponseHead` goes out with its lines' case.
async fn serve_heads_gives_the_request_as_received<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let io = N::accept(&listener).await;
        let served = serve_heads(io, h1::Config::default(), async |head, conn| {
            let req = conn.http_request(head.clone())?;
            assert_eq!(head.method(), req.method().as_str().as_bytes());
            assert_eq!(head.target(), req.uri().to_string().as_bytes());
            assert_eq!(head.fields().len(), req.headers().len());
            let lines: Vec<String> = head
                .fields()
                .iter()
                .map(|f| format!("{}={}", f.name().escape_ascii(), f.value().escape_ascii()))
                .collect();
            let text = format!("{} {}", head.target().escape_ascii(), lines.join(","));
            let mut res = h1::ResponseHead::new(StatusCode::OK);
            res.fields_mut()
                .append("Content-Length", text.len().to_string())?;
            conn.send_response(res).await?;
            conn.send_data(text.into()).await?;
            conn.send_end().await
        })
        .await
        .expect("serve");
        assert!(matches!(served, Served::Closed));
    };
    let client = async {
        let mut io = N::connect(addr).await;
        send(
            &mut io,
            b"GET /caf%C3%A9?q=1 HTTP/1.1\r\nHost: x\r\nX-Trace: 1\r\nx-trace:  2 \r\n\r\n\
              GET /next HTTP/1.1\r\nhost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(
            read_to_eof(&mut io).await,
            "HTTP/1.1 200 OK\r\nContent-Length: 41\r\n\r\n/caf%C3%A9?q=1 Host=x,X-Trace=1,x-trace=2\
             HTTP/1.1 200 OK\r\nContent-Length: 29\r\nconnection: close\r\n\r\n/next host=x,Connection=close"
        );
    };
    zip(server, client).await;
}
