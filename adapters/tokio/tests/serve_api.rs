//! `serve` and the client as users write them, over loopback sockets: a
//! handler with shared state on tokio's multi-threaded runtime, handlers'
//! own errors, a value passed out on a switch, `connection: close` during a
//! graceful shutdown, heads as they arrived on the wire path, and what
//! `ClientConnection` says about reuse, retries and uploads after
//! `100 Continue`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use h1::http::{Method, Request, Response, StatusCode};
use h1::{Config, FieldLines, RequestHead, ResponseHead};
use h1_tokio::{
    serve, serve_heads, serve_heads_with_shutdown, serve_with_shutdown, BoxError, ClientConnection, Error,
    Served, ServerConnection,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(20);

async fn within<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(LIMIT, test).await.expect("test timed out")
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

/// A client connection to `addr`.
async fn client(addr: SocketAddr) -> ClientConnection<TcpStream> {
    ClientConnection::new(TcpStream::connect(addr).await.expect("connect"))
}

/// A client whose `expect: 100-continue` waits up to 5 seconds.
async fn expecting_client(addr: SocketAddr) -> ClientConnection<TcpStream> {
    let mut config = Config::default();
    config.timeouts.expect_continue = Some(Duration::from_secs(5));
    ClientConnection::with_config(TcpStream::connect(addr).await.expect("connect"), config)
}

/// A raw client: sends `GET /` and reads the answer until the server closes.
async fn raw_get(addr: SocketAddr) -> String {
    let mut raw = TcpStream::connect(addr).await.expect("connect");
    raw.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .expect("request");
    let mut got = Vec::new();
    raw.read_to_end(&mut got).await.expect("response, then EOF");
    String::from_utf8_lossy(&got).into_owned()
}

/// Reads from `raw` until what was read ends with `end`; all of it. `what`
/// is the failure's message if the peer closes first.
async fn read_until_ends_with(raw: &mut TcpStream, end: &[u8], what: &str) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(end) {
        let n = raw.read(&mut buf).await.expect("read");
        assert!(n > 0, "{what}");
        got.extend_from_slice(&buf[..n]);
    }
    got
}

async fn get(conn: &ClientConnection<TcpStream>, path: &str) -> (StatusCode, Vec<u8>) {
    let req = Request::get(path).header("host", "a").body(()).expect("request");
    conn.send_request(req).await.expect("send_request");
    conn.send_end().await.expect("send_end");
    let res = conn.read_response().await.expect("response");
    let mut body = Vec::new();
    while let Some(chunk) = conn.read_body().await.expect("body") {
        body.extend_from_slice(&chunk);
    }
    (res.status(), body)
}

// ---- a handler with shared state ---------------------------------------------------

/// The application's shared state.
struct App {
    hits: AtomicUsize,
    name: String,
}

/// One of the application's own async functions.
async fn lookup(app: &App, path: &str) -> String {
    tokio::task::yield_now().await;
    format!(
        "{} {path} #{}",
        app.name,
        app.hits.fetch_add(1, Ordering::SeqCst) + 1
    )
}

/// The handler, an async fn of the application's, with its own error type.
async fn handle(app: &App, req: Request<()>, conn: ServerConnection<TcpStream>) -> Result<(), BoxError> {
    let text = lookup(app, req.uri().path()).await;
    conn.send_full(Response::new(()), text.into()).await?;
    Ok(())
}

/// The README's pattern: an `Arc` cloned per connection and per request,
/// the handler's future `Send`, spawned on the multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_state_handler_spawned_on_the_multi_thread_runtime() {
    within(async {
        let (listener, addr) = bind().await;
        let app = Arc::new(App {
            hits: AtomicUsize::new(0),
            name: "app".into(),
        });
        let server = tokio::spawn({
            let app = Arc::clone(&app);
            async move {
                let mut tasks = Vec::new();
                for _ in 0..4 {
                    let (socket, _) = listener.accept().await.expect("accept");
                    let app = Arc::clone(&app);
                    tasks.push(tokio::spawn(serve(
                        socket,
                        Config::default(),
                        move |req, conn| {
                            let app = Arc::clone(&app);
                            async move { handle(&app, req, conn).await }
                        },
                    )));
                }
                for task in tasks {
                    let served = task.await.expect("connection task");
                    assert!(matches!(served, Ok(Served::Closed)), "{served:?}");
                }
            }
        });
        let mut clients = Vec::new();
        for i in 0..4 {
            clients.push(tokio::spawn(async move {
                let conn = client(addr).await;
                for j in 0..5 {
                    let (status, body) = get(&conn, &format!("/{i}/{j}")).await;
                    assert_eq!(status, StatusCode::OK);
                    let text = String::from_utf8(body).expect("utf-8");
                    assert!(text.starts_with(&format!("app /{i}/{j} #")), "{text}");
                }
            }));
        }
        for client in clients {
            client.await.expect("client task");
        }
        server.await.expect("server task");
        assert_eq!(app.hits.load(Ordering::SeqCst), 20);
    })
    .await;
}

// ---- handlers' errors and values -----------------------------------------------------

#[derive(Debug)]
struct AppError(&'static str);

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "app error: {}", self.0)
    }
}

impl std::error::Error for AppError {}

/// A handler that fails before answering: the client gets a 500 that
/// closes the connection, and `serve` returns the handler's own error.
#[tokio::test]
async fn handler_error_gets_500_and_comes_back_from_serve() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let (socket, _) = listener.accept().await.expect("accept");
            serve(socket, Config::default(), async |_req, _conn| {
                Err::<(), _>(AppError("database unreachable"))
            })
            .await
        };
        let (served, text) = tokio::join!(server, raw_get(addr));
        assert!(
            text.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{text}"
        );
        assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
        match served {
            Err(Error::Handler(e)) => {
                let app = e.downcast_ref::<AppError>().expect("the handler's own error");
                assert_eq!(app.0, "database unreachable");
            }
            other => panic!("expected the handler's error, got {other:?}"),
        }
    })
    .await;
}

/// A handler passes a value out when it switches protocols (here what a
/// proxy would hand out: a socket of its own, connected elsewhere).
#[tokio::test]
async fn handler_passes_a_value_out_on_a_switch() {
    within(async {
        let (listener, addr) = bind().await;
        let (elsewhere, elsewhere_addr) = bind().await;
        let server = async {
            let (socket, _) = listener.accept().await.expect("accept");
            serve(socket, Config::default(), async |req, conn| {
                if req.uri().path() != "/switch" {
                    conn.send_full(Response::new(()), "plain".into()).await?;
                    return Ok::<_, Error>(None);
                }
                let other = TcpStream::connect(elsewhere_addr).await?;
                let res = Response::builder()
                    .status(101)
                    .header("connection", "upgrade")
                    .header("upgrade", "x")
                    .body(())
                    .expect("101");
                conn.send_response(res).await?;
                Ok(Some(other))
            })
            .await
            .expect("serve")
        };
        let client = async {
            let conn = client(addr).await;
            assert_eq!(get(&conn, "/plain").await, (StatusCode::OK, b"plain".to_vec()));
            let req = Request::get("/switch")
                .header("host", "a")
                .header("connection", "upgrade")
                .header("upgrade", "x")
                .body(())
                .expect("request");
            conn.send_request(req).await.expect("send");
            conn.send_end().await.expect("end");
            assert_eq!(conn.read_response().await.expect("101").status(), 101);
            conn.into_parts().await.expect("parts")
        };
        let accept_elsewhere = async { elsewhere.accept().await.expect("accept").0 };
        let (served, _parts, _other_end) = tokio::join!(server, client, accept_elsewhere);
        let Served::Upgraded { value, .. } = served else {
            panic!("expected a switch, got {served:?}");
        };
        let other = value.expect("the value of the switching request");
        assert_eq!(other.peer_addr().expect("peer"), elsewhere_addr);
    })
    .await;
}

// ---- graceful shutdown ------------------------------------------------------------------

/// Shutdown begins while a handler works on its answer: the response says
/// `connection: close`, and the connection then closes. Also on the wire
/// path, where the `connection` line of the handler's head is replaced.
#[tokio::test]
async fn response_during_graceful_shutdown_carries_connection_close() {
    for heads in [false, true] {
        within(shutdown_while_answering(heads)).await;
    }
}

async fn shutdown_while_answering(heads: bool) {
    let (listener, addr) = bind().await;
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
    let server = async {
        let (socket, _) = listener.accept().await.expect("accept");
        let mut started = Some(started_tx);
        let shutdown = async {
            let _ = shutdown_rx.await;
        };
        let mut answer_started = move || {
            if let Some(tx) = started.take() {
                let _ = tx.send(());
            }
        };
        if heads {
            serve_heads_with_shutdown(socket, Config::default(), shutdown, |_head, conn| {
                answer_started();
                async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let mut res = ResponseHead::new(StatusCode::OK);
                    res.fields_mut().append("Connection", "keep-alive")?;
                    conn.send_full(res, "bye".into()).await
                }
            })
            .await
        } else {
            serve_with_shutdown(socket, Config::default(), shutdown, |_req, conn| {
                answer_started();
                async move {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    conn.send_full(Response::new(()), "bye".into()).await
                }
            })
            .await
        }
    };
    let control = async {
        started_rx.await.expect("the handler started");
        shutdown_tx.send(()).expect("shutdown");
    };
    let (served, (), text) = tokio::join!(server, control, raw_get(addr));
    assert!(matches!(served, Ok(Served::Closed)), "{served:?}");
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    // The core adds its `connection: close` beside the handler's own
    // options; with `close` among them the connection does not persist
    // (RFC 9112 section 9.3), whatever else they say.
    assert!(text.contains("\r\nconnection: close\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\nbye"), "{text}");
}

// ---- the wire path ------------------------------------------------------------------------

/// Heads as they arrived, both ways: a request sent as a `RequestHead`
/// reaches the handler's head with its target and field lines byte for
/// byte; the handler's `ResponseHead` (a reason phrase of its own, names in
/// their case) and its `FieldLines` trailers reach the client's
/// `read_response_head` and `trailer_fields` as sent. The `http` path reads
/// the same response: the reason as a `ReasonPhrase`, the trailers as a map.
#[tokio::test]
async fn wire_path_keeps_heads_as_they_arrived() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let (socket, _) = listener.accept().await.expect("accept");
            serve_heads(socket, Config::default(), async |head, conn| {
                let lines: Vec<(&[u8], &[u8])> =
                    head.fields().iter().map(|f| (f.name(), f.value())).collect();
                assert_eq!(head.target(), b"/w%C3%A9?q=1");
                assert_eq!(
                    lines,
                    [(&b"Host"[..], &b"a"[..]), (b"X-Trace", b"1"), (b"x-TRACE", b"2")]
                );
                let mut res = ResponseHead::with_reason(StatusCode::OK, "Fine Thanks")?;
                res.fields_mut().append("X-Served-By", "h1")?;
                res.fields_mut().append("x-served-by", "again")?;
                conn.send_response(res).await?;
                conn.send_data("body".into()).await?;
                let mut trailers = FieldLines::new();
                trailers.append("X-Sum", "9")?;
                conn.send_trailers(trailers).await
            })
            .await
        };
        let client = async {
            let conn = client(addr).await;
            for http_path in [false, true] {
                let mut req = RequestHead::new(Method::GET, "/w%C3%A9?q=1");
                for (name, value) in [("Host", "a"), ("X-Trace", "1"), ("x-TRACE", "2")] {
                    req.fields_mut().append(name, value).expect("field");
                }
                conn.send_request(req).await.expect("send_request");
                conn.send_end().await.expect("send_end");
                if http_path {
                    let res = conn.read_response().await.expect("response");
                    assert_eq!(res.status(), StatusCode::OK);
                    let reason = res
                        .extensions()
                        .get::<h1::ReasonPhrase>()
                        .expect("a reason of its own");
                    assert_eq!(&reason.0[..], b"Fine Thanks");
                    let values: Vec<_> = res.headers().get_all("x-served-by").iter().collect();
                    assert_eq!(values, ["h1", "again"]);
                } else {
                    let res = conn.read_response_head().await.expect("response head");
                    assert_eq!(res.reason(), b"Fine Thanks");
                    let names: Vec<&[u8]> = res.fields().iter().map(|f| f.name()).collect();
                    assert_eq!(
                        names,
                        [&b"X-Served-By"[..], b"x-served-by", b"transfer-encoding", b"date"]
                    );
                }
                let mut body = Vec::new();
                while let Some(chunk) = conn.read_body().await.expect("body") {
                    body.extend_from_slice(&chunk);
                }
                assert_eq!(body, b"body");
                let lines = conn.trailer_fields().expect("trailer lines");
                assert_eq!(
                    lines.iter().map(|f| (f.name(), f.value())).collect::<Vec<_>>(),
                    [(&b"X-Sum"[..], &b"9"[..])]
                );
                let map = conn.trailers().expect("a header map").expect("trailers");
                assert_eq!(map["x-sum"], "9");
            }
            drop(conn);
        };
        let (served, ()) = tokio::join!(server, client);
        assert!(matches!(served, Ok(Served::Closed)), "{served:?}");
    })
    .await;
}

// ---- the client: reuse, retries, 100-continue -------------------------------------------

/// A server that closes an idle connection: the client notices without
/// sending anything.
#[tokio::test]
async fn idle_client_notices_the_server_closing() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let (socket, _) = listener.accept().await.expect("accept");
            let mut config = Config::default();
            config.timeouts.keep_alive = Some(Duration::from_millis(200));
            serve(socket, config, async |_req, conn| {
                conn.send_full(Response::new(()), "ok".into()).await
            })
            .await
        };
        let client = async {
            let conn = client(addr).await;
            assert_eq!(get(&conn, "/").await.0, StatusCode::OK);
            assert!(conn.is_reusable(), "right after the exchange");
            tokio::time::sleep(Duration::from_millis(600)).await;
            assert!(!conn.is_reusable(), "the server closed the idle connection");
        };
        let (served, ()) = tokio::join!(server, client);
        assert!(matches!(served, Ok(Served::Closed)), "{served:?}");
    })
    .await;
}

/// `POST /once` with a body of 2 bytes.
fn post_once() -> Request<()> {
    Request::post("/once")
        .header("host", "a")
        .header("content-length", 2)
        .body(())
        .expect("request")
}

/// Whether a failed request's bytes left: none after the server reset the
/// connection (a retry is safe), some when it closed without answering.
#[tokio::test]
async fn failed_requests_say_whether_their_bytes_left() {
    within(async {
        let (listener, addr) = bind().await;
        // A connection the server resets before any request.
        let server = async {
            let (socket, _) = listener.accept().await.expect("accept");
            socket2::SockRef::from(&socket)
                .set_linger(Some(Duration::ZERO))
                .expect("linger");
            drop(socket);
        };
        let conn = client(addr).await;
        server.await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!conn.is_reusable(), "the reset is noticed");
        conn.send_request(post_once()).await.expect("queued");
        let _ = conn.send_data("hi".into()).await;
        let _ = conn.send_end().await;
        assert!(conn.read_response().await.is_err());
        assert!(conn.is_request_unsent(), "nothing was written: retrying is safe");

        // A server that reads the request and closes without answering.
        let server = async {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
        };
        let client = async {
            let conn = client(addr).await;
            conn.send_request(post_once()).await.expect("send");
            conn.send_data("hi".into()).await.expect("data");
            conn.send_end().await.expect("end");
            assert!(conn.read_response().await.is_err(), "no response");
            assert!(
                !conn.is_request_unsent(),
                "the request left: the server may have acted on it"
            );
        };
        tokio::join!(server, client);
    })
    .await;
}

/// A raw server that answers `expect: 100-continue` after `delay` with
/// `interim` (a 100, or a final status), then reads the body if it sent
/// a 100 and answers with its length.
async fn continue_server(listener: &TcpListener, delay: Duration, interim: &'static [u8]) {
    let (mut socket, _) = listener.accept().await.expect("accept");
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await.expect("read");
        assert!(n > 0);
        got.extend_from_slice(&buf[..n]);
    }
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    assert_eq!(got.len(), head_end, "no body before the answer");
    tokio::time::sleep(delay).await;
    socket.write_all(interim).await.expect("interim");
    if !interim.starts_with(b"HTTP/1.1 100") {
        return;
    }
    let mut body = 0;
    while body < 300_000 {
        let n = socket.read(&mut buf).await.expect("read body");
        assert!(n > 0);
        body += n;
    }
    let answer = format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
        body.to_string().len()
    );
    socket.write_all(answer.as_bytes()).await.expect("answer");
}

fn expecting_request() -> Request<()> {
    Request::put("/upload")
        .header("host", "a")
        .header("content-length", 300_000)
        .header("expect", "100-continue")
        .body(())
        .expect("request")
}

/// An upload streamed after `100 Continue`: the first body bytes wait for
/// it, then the body streams as usual.
#[tokio::test]
async fn upload_streams_after_100_continue() {
    within(async {
        let (listener, addr) = bind().await;
        let server = continue_server(
            &listener,
            Duration::from_millis(300),
            b"HTTP/1.1 100 Continue\r\n\r\n",
        );
        let client = async {
            let conn = expecting_client(addr).await;
            let started = Instant::now();
            conn.send_request(expecting_request()).await.expect("head");
            assert!(
                conn.wait_for_continue().await.expect("decision"),
                "the body may go"
            );
            assert!(
                started.elapsed() >= Duration::from_millis(300),
                "waited for the 100"
            );
            for _ in 0..3 {
                conn.send_data(vec![b'x'; 100_000].into()).await.expect("data");
            }
            conn.send_end().await.expect("end");
            let interim = conn.read_response().await.expect("100");
            assert_eq!(interim.status(), StatusCode::CONTINUE);
            let res = conn.read_response().await.expect("200");
            assert_eq!(res.status(), StatusCode::OK);
            let body = conn.read_body().await.expect("body").expect("chunk");
            assert_eq!(&body[..], b"300000");
        };
        tokio::join!(server, client);
    })
    .await;
}

/// The server answers before the `100 Continue`: the body is not sent.
#[tokio::test]
async fn final_response_instead_of_100_continue_drops_the_body() {
    within(async {
        let (listener, addr) = bind().await;
        let server = continue_server(
            &listener,
            Duration::from_millis(100),
            b"HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n",
        );
        let client = async {
            let conn = expecting_client(addr).await;
            conn.send_request(expecting_request()).await.expect("head");
            assert!(!conn.wait_for_continue().await.expect("decision"), "no body");
            conn.send_data(vec![b'x'; 100_000].into()).await.expect("dropped");
            conn.send_end().await.expect("end");
            let res = conn.read_response().await.expect("417");
            assert_eq!(res.status(), StatusCode::EXPECTATION_FAILED);
            assert!(!conn.is_reusable(), "the unsent body ends the connection");
        };
        tokio::join!(server, client);
    })
    .await;
}

/// A handler answers first, then reads the rest of the body; the rest and
/// the next request arrive in one write, so the next request is already
/// read when the handler returns: it is served as its own request, not
/// mistaken for an unanswered one.
#[tokio::test]
async fn next_request_read_early_is_served_in_turn() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let (socket, _) = listener.accept().await.expect("accept");
            serve(socket, Config::default(), async |req, conn| {
                let path = req.uri().path().to_owned();
                conn.send_full(Response::new(()), path.into()).await?;
                while conn.read_body().await?.is_some() {}
                Ok::<_, Error>(())
            })
            .await
        };
        let client = async {
            let mut raw = TcpStream::connect(addr).await.expect("connect");
            raw.write_all(b"POST /first HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234")
                .await
                .expect("first, half its body");
            read_until_ends_with(&mut raw, b"/first", "the first answer").await;
            raw.write_all(b"56789GET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                .await
                .expect("the rest, and the second request");
            let mut rest = Vec::new();
            raw.read_to_end(&mut rest).await.expect("second answer, then EOF");
            String::from_utf8_lossy(&rest).into_owned()
        };
        let (served, second) = tokio::join!(server, client);
        assert!(matches!(served, Ok(Served::Closed)), "{served:?}");
        assert!(second.starts_with("HTTP/1.1 200 OK\r\n"), "{second}");
        assert!(second.ends_with("\r\n\r\n/second"), "{second}");
    })
    .await;
}

#[tokio::test]
async fn a_whole_response_is_written_before_the_handler_returns() {
    within(async {
        let (listener, addr) = bind().await;
        // The handler returns only once the client has read its answer:
        // a whole response goes out when it is sent, not when the
        // handler is done (a bodiless GET leaves nothing to read first).
        let read = Arc::new(tokio::sync::Notify::new());
        let server = async {
            let (socket, _) = listener.accept().await.expect("accept");
            serve_heads(socket, Config::default(), async |_head, conn| {
                conn.send_full(ResponseHead::new(StatusCode::OK), "done".into())
                    .await?;
                read.notified().await;
                Ok::<_, Error>(())
            })
            .await
        };
        let client = async {
            let mut raw = TcpStream::connect(addr).await.expect("connect");
            raw.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                .await
                .expect("request");
            let got = read_until_ends_with(&mut raw, b"done", "the answer").await;
            read.notify_one();
            drop(raw);
            String::from_utf8_lossy(&got).into_owned()
        };
        let (served, answer) = tokio::join!(server, client);
        assert!(matches!(served, Ok(Served::Closed)), "{served:?}");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    })
    .await;
}
