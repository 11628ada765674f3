//! h1-tokio over real loopback sockets: `ClientConnection` against
//! `serve`/`ServerConnection`, and hand-written raw clients and servers
//! whose bytes are checked against RFC 9110/9112.
//!
//! Every test body runs under a timeout, and every read loop ends at EOF,
//! so nothing can hang.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use h1::http::{HeaderMap, Method, Request, Response, StatusCode};
use h1::Config;
use h1_tokio::{serve, serve_heads, serve_with_shutdown, ClientConnection, Error, Served, ServerConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::time::{timeout, Instant};

/// Upper bound for any single test.
const LIMIT: Duration = Duration::from_secs(10);
/// A fixed `date` for responses whose bytes are checked exactly (the
/// adapter adds the current date only when the handler gave none).
const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

type Conn = ServerConnection<TcpStream>;

async fn within<F: Future>(test: F) -> F::Output {
    timeout(LIMIT, test).await.expect("test timed out")
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

async fn accept(listener: &TcpListener) -> TcpStream {
    let (socket, _) = listener.accept().await.expect("accept");
    socket
}

/// Deterministic test bytes (every byte value occurs).
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + seed * 7) % 256) as u8).collect()
}

/// A response builder with the fixed date.
fn response(status: u16) -> h1::http::response::Builder {
    Response::builder().status(status).header("date", DATE)
}

async fn read_request_body(conn: &Conn) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = conn.read_body().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn read_response_body(client: &ClientConnection<TcpStream>) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(chunk) = client.read_body().await.expect("response body") {
        body.extend_from_slice(&chunk);
    }
    body
}

/// Answers with `body` framed by Content-Length, in one piece.
async fn answer(conn: &Conn, status: u16, body: &[u8]) -> Result<(), Error> {
    let res = response(status)
        .header("content-length", body.len())
        .body(())
        .expect("response");
    conn.send_response(res).await?;
    conn.send_data(Bytes::copy_from_slice(body)).await?;
    conn.send_end().await
}

fn assert_closed(served: Result<Served<TcpStream>, Error>) {
    match served {
        Ok(Served::Closed) => {}
        other => panic!("expected Served::Closed, got {other:?}"),
    }
}

// ---- a raw HTTP/1.1 peer ---------------------------------------------------

/// A parsed message head.
#[derive(Debug)]
struct Head {
    raw: Vec<u8>,
    start: String,
    fields: Vec<(String, String)>,
}

impl Head {
    fn parse(raw: Vec<u8>) -> Head {
        let text = String::from_utf8(raw.clone()).expect("head is ASCII");
        let mut lines = text.trim_end_matches("\r\n").split("\r\n");
        let start = lines.next().unwrap_or_default().to_string();
        let fields = lines
            .map(|line| {
                let (name, value) = line.split_once(':').expect("field line has a colon");
                (name.to_ascii_lowercase(), value.trim().to_string())
            })
            .collect();
        Head { raw, start, fields }
    }

    /// The status code of a status line.
    fn status(&self) -> u16 {
        assert!(
            self.start.starts_with("HTTP/1.1 "),
            "status line: {:?}",
            self.start
        );
        self.start[9..12].parse().expect("status code")
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A raw socket peer with a read buffer.
struct Raw {
    io: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    fn new(io: TcpStream) -> Raw {
        Raw { io, buf: Vec::new() }
    }

    async fn connect(addr: SocketAddr) -> Raw {
        Raw::new(TcpStream::connect(addr).await.expect("connect"))
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.expect("write");
    }

    /// Reads once more into the buffer; false at EOF.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.io.read(&mut chunk).await.expect("read");
        self.buf.extend_from_slice(&chunk[..n]);
        n > 0
    }

    /// The next head (up to and including the empty line).
    async fn head(&mut self) -> Head {
        loop {
            if let Some(at) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let raw: Vec<u8> = self.buf.drain(..at + 4).collect();
                return Head::parse(raw);
            }
            assert!(
                self.fill().await,
                "EOF inside a head: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    /// Exactly `n` bytes.
    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill().await, "EOF after {} of {n} bytes", self.buf.len());
        }
        self.buf.drain(..n).collect()
    }

    async fn line(&mut self) -> String {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..at + 2).collect();
                return String::from_utf8(line[..at].to_vec()).expect("ASCII line");
            }
            assert!(self.fill().await, "EOF inside a line");
        }
    }

    /// A chunked body: its data and its trailer fields.
    async fn chunked(&mut self) -> (Vec<u8>, Vec<(String, String)>) {
        let mut body = Vec::new();
        for _ in 0..100_000 {
            let line = self.line().await;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16).expect("hex chunk size");
            if size == 0 {
                let mut trailers = Vec::new();
                loop {
                    let line = self.line().await;
                    if line.is_empty() {
                        return (body, trailers);
                    }
                    let (name, value) = line.split_once(':').expect("trailer field");
                    trailers.push((name.to_ascii_lowercase(), value.trim().to_string()));
                }
            }
            body.extend_from_slice(&self.take(size).await);
            assert_eq!(self.take(2).await, b"\r\n", "chunk data ends with CRLF");
        }
        panic!("too many chunks");
    }

    /// A whole response framed by Content-Length or chunked.
    async fn response(&mut self) -> (Head, Vec<u8>) {
        let head = self.head().await;
        let body = if head.get("transfer-encoding") == Some("chunked") {
            self.chunked().await.0
        } else {
            let len = head
                .get("content-length")
                .map_or(0, |v| v.parse().expect("length"));
            self.take(len).await
        };
        (head, body)
    }

    /// Everything until the peer closes.
    async fn until_eof(&mut self) -> Vec<u8> {
        while self.fill().await {}
        std::mem::take(&mut self.buf)
    }

    /// Whether anything arrives within `wait` (false: nothing, no EOF).
    async fn quiet_for(&mut self, wait: Duration) -> bool {
        let mut chunk = [0u8; 1024];
        timeout(wait, self.io.read(&mut chunk)).await.is_err()
    }
}

// ---- bodies ------------------------------------------------------------------

#[tokio::test]
async fn content_length_bodies_both_ways() {
    within(async {
        let (listener, addr) = bind().await;
        let request_pieces = [pattern(10_000, 1), pattern(1, 2), pattern(20_000, 3)];
        let request_body = request_pieces.concat();
        // More than the adapter's 64 KiB high-water mark in the middle.
        let response_pieces = [b"abc".to_vec(), pattern(70_000, 4), b"xyz".to_vec()];
        let response_body = response_pieces.concat();

        let server = async {
            let socket = accept(&listener).await;
            serve(socket, Config::default(), async |req, conn| {
                assert_eq!(req.method(), Method::POST);
                assert_eq!(req.uri().path(), "/upload");
                assert_eq!(req.headers()["content-length"], "30001");
                assert_eq!(read_request_body(&conn).await?, request_body);
                let res = response(200)
                    .header("content-length", response_body.len())
                    .body(())
                    .expect("response");
                conn.send_response(res).await?;
                for piece in &response_pieces {
                    conn.send_data(Bytes::from(piece.clone())).await?;
                }
                conn.send_end().await
            })
            .await
        };
        let client = async {
            let client = ClientConnection::new(TcpStream::connect(addr).await.expect("connect"));
            let req = Request::post(format!("http://{addr}/upload"))
                .header("content-length", request_body.len())
                .body(())
                .expect("request");
            client.send_request(req).await.expect("send_request");
            for piece in &request_pieces {
                client
                    .send_data(Bytes::from(piece.clone()))
                    .await
                    .expect("send_data");
            }
            client.send_end().await.expect("send_end");
            let res = client.read_response().await.expect("response");
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()["content-length"], "70006");
            assert!(!res.headers().contains_key("transfer-encoding"));
            assert_eq!(read_response_body(&client).await, response_body);
            assert!(client.is_reusable());
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);
    })
    .await;
}

#[tokio::test]
async fn chunked_bodies_both_ways() {
    within(async {
        let (listener, addr) = bind().await;
        let request_pieces = [b"first ".to_vec(), pattern(9_000, 5), b"last".to_vec()];
        let request_body = request_pieces.concat();
        let response_pieces = [pattern(3, 6), pattern(100_000, 7), b"!".to_vec()];
        let response_body = response_pieces.concat();

        // A ServerConnection driven by hand, reading through body_reader.
        let server = async {
            let conn = ServerConnection::new(accept(&listener).await);
            let mut requests = 0;
            while let Some(req) = conn.read_request().await.expect("read_request") {
                requests += 1;
                assert_eq!(req.headers()["transfer-encoding"], "chunked");
                assert!(!req.headers().contains_key("content-length"));
                let mut body = Vec::new();
                conn.body_receiver()
                    .read_to_end(&mut body)
                    .await
                    .expect("request body");
                assert_eq!(body, request_body);
                // No length given: chunked for an HTTP/1.1 client.
                conn.send_response(response(200).body(()).expect("response"))
                    .await
                    .expect("head");
                for piece in &response_pieces {
                    conn.send_data(Bytes::from(piece.clone()))
                        .await
                        .expect("send_data");
                }
                conn.send_end().await.expect("send_end");
            }
            requests
        };
        let client = async {
            let client = ClientConnection::new(TcpStream::connect(addr).await.expect("connect"));
            let req = Request::put(format!("http://{addr}/chunks"))
                .header("transfer-encoding", "chunked")
                .body(())
                .expect("request");
            client.send_request(req).await.expect("send_request");
            for piece in &request_pieces {
                client
                    .send_data(Bytes::from(piece.clone()))
                    .await
                    .expect("send_data");
            }
            client.send_end().await.expect("send_end");
            let res = client.read_response().await.expect("response");
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(res.headers()["transfer-encoding"], "chunked");
            assert!(!res.headers().contains_key("content-length"));
            let mut body = Vec::new();
            client
                .body_receiver()
                .read_to_end(&mut body)
                .await
                .expect("response body");
            assert_eq!(body, response_body);
            assert!(client.is_reusable());
        };
        let (requests, ()) = tokio::join!(server, client);
        assert_eq!(requests, 1);
    })
    .await;
}

/// The chunked wire format, checked by hand in both directions.
#[tokio::test]
async fn chunked_on_the_wire() {
    within(async {
        // A raw client's chunked request (with an extension) to `serve`,
        // which streams it back chunked.
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            serve(socket, Config::default(), async |_req, conn| {
                conn.send_response(response(200).body(()).expect("response"))
                    .await?;
                while let Some(chunk) = conn.read_body().await? {
                    conn.send_data(chunk).await?;
                }
                conn.send_end().await
            })
            .await
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            raw.send(
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
                  3\r\nabc\r\n4;name=value\r\ndefg\r\nA\r\n0123456789\r\n0\r\n\r\n",
            )
            .await;
            let head = raw.head().await;
            assert_eq!(head.status(), 200);
            assert_eq!(head.get("transfer-encoding"), Some("chunked"));
            assert_eq!(head.get("content-length"), None);
            let (body, trailers) = raw.chunked().await;
            assert_eq!(body, b"abcdefg0123456789");
            assert!(trailers.is_empty());
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);

        // A ClientConnection's chunked request, read by a raw server.
        let (listener, addr) = bind().await;
        let server = async {
            let mut raw = Raw::new(accept(&listener).await);
            let head = raw.head().await;
            assert_eq!(head.start, "POST /in HTTP/1.1");
            assert_eq!(head.get("host"), Some(addr.to_string().as_str()));
            assert_eq!(head.get("transfer-encoding"), Some("chunked"));
            let (body, trailers) = raw.chunked().await;
            assert_eq!(body, [b"one".as_slice(), &pattern(5000, 8), b"three"].concat());
            assert!(trailers.is_empty());
            raw.send(b"HTTP/1.1 204 No Content\r\n\r\n").await;
            assert!(raw.until_eof().await.is_empty(), "nothing after the request");
        };
        let client = async {
            let client = ClientConnection::new(TcpStream::connect(addr).await.expect("connect"));
            let req = Request::post(format!("http://{addr}/in"))
                .header("transfer-encoding", "chunked")
                .body(())
                .expect("request");
            client.send_request(req).await.expect("send_request");
            for piece in [b"one".to_vec(), pattern(5000, 8), b"three".to_vec()] {
                client.send_data(piece.into()).await.expect("send_data");
            }
            client.send_end().await.expect("send_end");
            let res = client.read_response().await.expect("response");
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
            assert!(read_response_body(&client).await.is_empty());
            assert!(client.is_reusable());
        };
        tokio::join!(server, client);
    })
    .await;
}

// ---- persistence -------------------------------------------------------------

#[tokio::test]
async fn pipelined_requests_in_one_write_are_answered_in_order() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            serve(socket, Config::default(), async |req, conn| {
                let body = read_request_body(&conn).await?;
                let answer_body = match req.uri().path() {
                    "/1" => b"one".to_vec(),
                    "/2" => [b"two:".as_slice(), &body].concat(),
                    "/3" => b"three".to_vec(),
                    other => panic!("unexpected path {other}"),
                };
                answer(&conn, 200, &answer_body).await
            })
            .await
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            raw.send(
                b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n\
                  POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody\
                  GET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
            )
            .await;
            let received = raw.until_eof().await;
            let expected = format!(
                "HTTP/1.1 200 OK\r\ndate: {DATE}\r\ncontent-length: 3\r\n\r\none\
                 HTTP/1.1 200 OK\r\ndate: {DATE}\r\ncontent-length: 8\r\n\r\ntwo:body\
                 HTTP/1.1 200 OK\r\ndate: {DATE}\r\ncontent-length: 5\r\nconnection: close\r\n\r\nthree"
            );
            assert_eq!(String::from_utf8_lossy(&received), expected);
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);
    })
    .await;
}

#[tokio::test]
async fn keep_alive_two_requests_on_one_client_connection() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            let mut count = 0;
            let served = serve(socket, Config::default(), |req, conn| {
                count += 1;
                async move { answer(&conn, 200, req.uri().path().as_bytes()).await }
            })
            .await;
            (served, count)
        };
        let client = async {
            let client = ClientConnection::new(TcpStream::connect(addr).await.expect("connect"));
            assert!(client.is_reusable());
            for path in ["/first", "/second"] {
                let req = Request::get(format!("http://{addr}{path}"))
                    .body(())
                    .expect("request");
                client.send_request(req).await.expect("send_request");
                client.send_end().await.expect("send_end");
                let res = client.read_response().await.expect("response");
                assert_eq!(res.status(), StatusCode::OK);
                assert!(!res.headers().contains_key("connection"));
                assert_eq!(read_response_body(&client).await, path.as_bytes());
                assert!(client.is_reusable(), "reusable after {path}");
            }
            // A third request asks to close: no longer reusable after it.
            let req = Request::get(format!("http://{addr}/third"))
                .header("connection", "close")
                .body(())
                .expect("request");
            client.send_request(req).await.expect("send_request");
            client.send_end().await.expect("send_end");
            let res = client.read_response().await.expect("response");
            assert_eq!(res.headers()["connection"], "close");
            assert_eq!(read_response_body(&client).await, b"/third");
            assert!(!client.is_reusable());
        };
        let ((served, count), ()) = tokio::join!(server, client);
        assert_closed(served);
        assert_eq!(count, 3, "all three requests on the one accepted connection");
    })
    .await;
}

#[tokio::test]
async fn http10_closes_unless_keep_alive() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let mut results = Vec::new();
            for _ in 0..3 {
                let socket = accept(&listener).await;
                let served = serve(socket, Config::default(), async |req, conn| {
                    if req.uri().path() == "/stream" {
                        // No length: delimited by closing the connection.
                        conn.send_response(response(200).body(()).expect("response"))
                            .await?;
                        conn.send_data("part1".into()).await?;
                        conn.send_data("part2".into()).await?;
                        return conn.send_end().await;
                    }
                    answer(&conn, 200, req.uri().path().as_bytes()).await
                })
                .await;
                results.push(served);
            }
            results
        };
        let client = async {
            // HTTP/1.0 without keep-alive: the server closes after the response.
            let mut raw = Raw::connect(addr).await;
            raw.send(b"GET /old HTTP/1.0\r\n\r\n").await;
            let (head, body) = raw.response().await;
            assert_eq!(head.status(), 200);
            assert_eq!(head.get("content-length"), Some("4"));
            assert_ne!(head.get("connection"), Some("keep-alive"));
            assert_eq!(body, b"/old");
            assert!(raw.until_eof().await.is_empty(), "closed after the response");

            // A close-delimited body for HTTP/1.0: no chunked framing.
            let mut raw = Raw::connect(addr).await;
            raw.send(b"GET /stream HTTP/1.0\r\n\r\n").await;
            let head = raw.head().await;
            assert_eq!(head.status(), 200);
            assert_eq!(head.get("transfer-encoding"), None);
            assert_eq!(head.get("content-length"), None);
            assert_eq!(raw.until_eof().await, b"part1part2");

            // HTTP/1.0 with keep-alive: the connection persists, and the
            // response says so.
            let mut raw = Raw::connect(addr).await;
            for path in ["/a", "/b"] {
                raw.send(format!("GET {path} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").as_bytes())
                    .await;
                let (head, body) = raw.response().await;
                assert_eq!(head.status(), 200);
                assert_eq!(head.get("connection"), Some("keep-alive"));
                assert_eq!(body, path.as_bytes());
            }
            // Then one without: answered, then closed.
            raw.send(b"GET /c HTTP/1.0\r\n\r\n").await;
            let (head, body) = raw.response().await;
            assert_ne!(head.get("connection"), Some("keep-alive"));
            assert_eq!(body, b"/c");
            assert!(raw.until_eof().await.is_empty());
        };
        let (results, ()) = tokio::join!(server, client);
        for served in results {
            assert_closed(served);
        }
    })
    .await;
}

// ---- 100-continue --------------------------------------------------------------

#[tokio::test]
async fn client_waits_for_100_continue() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            serve(socket, Config::default(), async |req, conn| {
                assert_eq!(req.headers()["expect"], "100-continue");
                let body = read_request_body(&conn).await?;
                answer(&conn, 200, &[b"got ".as_slice(), &body].concat()).await
            })
            .await
        };
        let client = async {
            // A long expect-continue deadline: the body must go out on the
            // 100, not on the deadline.
            let mut config = Config::default();
            config.timeouts.expect_continue = Some(Duration::from_secs(60));
            let socket = TcpStream::connect(addr).await.expect("connect");
            let client = ClientConnection::with_config(socket, config);
            let started = Instant::now();
            let req = Request::post(format!("http://{addr}/upload"))
                .header("expect", "100-continue")
                .header("content-length", 5)
                .body(())
                .expect("request");
            client.send_request(req).await.expect("send_request");
            client.send_data("hello".into()).await.expect("send_data");
            client.send_end().await.expect("send_end");
            let first = client.read_response().await.expect("100");
            assert_eq!(first.status(), StatusCode::CONTINUE);
            let last = client.read_response().await.expect("final");
            assert_eq!(last.status(), StatusCode::OK);
            assert_eq!(read_response_body(&client).await, b"got hello");
            assert!(started.elapsed() < Duration::from_secs(3));
            assert!(client.is_reusable());
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);
    })
    .await;
}

#[tokio::test]
async fn server_sends_100_continue_on_first_body_read() {
    within(async {
        let (listener, addr) = bind().await;
        let (read_now_tx, read_now_rx) = oneshot::channel::<()>();
        let server = async {
            let socket = accept(&listener).await;
            let mut read_now = Some(read_now_rx);
            serve(socket, Config::default(), |_req, conn| {
                let read_now = read_now.take();
                async move {
                    // The handler decides when to read: the 100 waits for it.
                    if let Some(rx) = read_now {
                        rx.await.expect("the client's go-ahead");
                    }
                    let body = read_request_body(&conn).await?;
                    answer(&conn, 200, &body).await
                }
            })
            .await
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            raw.send(b"PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                .await;
            assert!(
                raw.quiet_for(Duration::from_millis(100)).await,
                "no 100 Continue before the handler reads the body"
            );
            read_now_tx.send(()).expect("go-ahead");
            let interim = raw.head().await;
            assert_eq!(interim.raw, b"HTTP/1.1 100 Continue\r\n\r\n");
            raw.send(b"hello").await;
            let (head, body) = raw.response().await;
            assert_eq!(head.status(), 200);
            assert_eq!(
                head.get("connection"),
                None,
                "the body was read: the connection persists"
            );
            assert_eq!(body, b"hello");
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);
    })
    .await;
}

#[tokio::test]
async fn no_100_continue_when_the_handler_does_not_read_the_body() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            serve(socket, Config::default(), async |_req, conn| {
                answer(&conn, 403, b"not wanted").await
            })
            .await
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            // The body is never sent: the client waits for a 100 that must
            // not come.
            raw.send(b"POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                .await;
            let received = raw.until_eof().await;
            let text = String::from_utf8_lossy(&received);
            assert!(!text.contains("100 Continue"), "{text:?}");
            assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{text:?}");
            // The unsent body leaves the connection unusable: it closes.
            assert!(text.contains("\r\nconnection: close\r\n"), "{text:?}");
            assert!(text.ends_with("\r\n\r\nnot wanted"), "{text:?}");
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);

        // The same with a ClientConnection: it drops the held body, and
        // the connection is not reused.
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            serve(socket, Config::default(), async |_req, conn| {
                answer(&conn, 403, b"not wanted").await
            })
            .await
        };
        let client = async {
            let mut config = Config::default();
            config.timeouts.expect_continue = Some(Duration::from_secs(60));
            let socket = TcpStream::connect(addr).await.expect("connect");
            let client = ClientConnection::with_config(socket, config);
            let req = Request::post(format!("http://{addr}/x"))
                .header("expect", "100-continue")
                .header("content-length", 5)
                .body(())
                .expect("request");
            client.send_request(req).await.expect("send_request");
            client.send_data("hello".into()).await.expect("send_data");
            client.send_end().await.expect("send_end");
            let res = client.read_response().await.expect("final response");
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
            assert_eq!(read_response_body(&client).await, b"not wanted");
            assert!(!client.is_reusable());
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);
    })
    .await;
}

// ---- trailers ------------------------------------------------------------------

#[tokio::test]
async fn trailers_both_ways() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            serve(socket, Config::default(), async |_req, conn| {
                let body = read_request_body(&conn).await?;
                assert_eq!(body, b"payload");
                let trailers = conn.trailers()?.expect("request trailers");
                assert_eq!(trailers["x-checksum"], "c0ffee");
                conn.send_response(response(200).body(()).expect("response"))
                    .await?;
                conn.send_data("echo ".into()).await?;
                conn.send_data(Bytes::from(body)).await?;
                let mut out = HeaderMap::new();
                out.insert("x-served-by", "h1".parse().expect("value"));
                out.insert("x-request-checksum", trailers["x-checksum"].clone());
                conn.send_trailers(out).await
            })
            .await
        };
        let client = async {
            let client = ClientConnection::new(TcpStream::connect(addr).await.expect("connect"));
            let req = Request::post(format!("http://{addr}/t"))
                .header("transfer-encoding", "chunked")
                .header("trailer", "x-checksum")
                .header("te", "trailers")
                // RFC 9110 section 10.1.4: a sender of TE also sends the
                // "TE" connection option.
                .header("connection", "te")
                .body(())
                .expect("request");
            client.send_request(req).await.expect("send_request");
            client.send_data("pay".into()).await.expect("send_data");
            client.send_data("load".into()).await.expect("send_data");
            let mut trailers = HeaderMap::new();
            trailers.insert("x-checksum", "c0ffee".parse().expect("value"));
            client.send_trailers(trailers).await.expect("send_trailers");
            let res = client.read_response().await.expect("response");
            assert_eq!(res.status(), StatusCode::OK);
            assert_eq!(read_response_body(&client).await, b"echo payload");
            let trailers = client
                .trailers()
                .expect("a header map")
                .expect("response trailers");
            assert_eq!(trailers["x-served-by"], "h1");
            assert_eq!(trailers["x-request-checksum"], "c0ffee");
            assert_eq!(trailers.len(), 2);
            assert!(client.is_reusable());
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);

        // The same over a raw socket: the trailer section on the wire.
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            serve(socket, Config::default(), async |_req, conn| {
                let body = read_request_body(&conn).await?;
                let value = conn.trailers()?.expect("request trailers")["x-sum"].clone();
                conn.send_response(response(200).body(()).expect("response"))
                    .await?;
                conn.send_data(Bytes::from(body)).await?;
                let mut out = HeaderMap::new();
                out.insert("x-sum", value);
                conn.send_trailers(out).await
            })
            .await
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            raw.send(
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
                  4\r\ndata\r\n0\r\nX-Sum: 42\r\n\r\n",
            )
            .await;
            let head = raw.head().await;
            assert_eq!(head.get("transfer-encoding"), Some("chunked"));
            let (body, trailers) = raw.chunked().await;
            assert_eq!(body, b"data");
            assert_eq!(trailers, [("x-sum".to_string(), "42".to_string())]);
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);
    })
    .await;
}

// ---- errors --------------------------------------------------------------------

/// Rejected requests get the status RFC 9112 asks for, `connection: close`,
/// then the connection closes; the handler never runs.
#[tokio::test]
async fn rejected_requests_get_their_status_then_close() {
    within(async {
        let long_target = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(20 * 1024));
        let cases: [(&str, &[u8], u16, &str); 4] = [
            (
                "signed content-length",
                b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
                400,
                "Bad Request",
            ),
            ("long target", long_target.as_bytes(), 414, "URI Too Long"),
            (
                "HTTP/2.0",
                b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
                505,
                "HTTP Version Not Supported",
            ),
            (
                "unknown coding",
                b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                501,
                "Not Implemented",
            ),
        ];
        for (name, request, status, reason) in cases {
            let (listener, addr) = bind().await;
            let mut config = Config::default();
            config.limits.request_target = 1024;
            let server = async {
                let socket = accept(&listener).await;
                serve(socket, config, async |_req, _conn| -> Result<(), Error> {
                    panic!("{name}: the handler must not run")
                })
                .await
            };
            let client = async {
                let mut raw = Raw::connect(addr).await;
                raw.send(request).await;
                let head = raw.head().await;
                assert_eq!(head.start, format!("HTTP/1.1 {status} {reason}"), "{name}");
                assert_eq!(head.get("connection"), Some("close"), "{name}");
                assert_eq!(head.get("content-length"), Some("0"), "{name}");
                assert!(
                    raw.until_eof().await.is_empty(),
                    "{name}: nothing after the error"
                );
            };
            let (served, ()) = tokio::join!(server, client);
            let err = served.expect_err(name);
            let got = err.protocol().and_then(|e| e.status()).map(|s| s.as_u16());
            assert_eq!(got, Some(status), "{name}: {err}");
        }
    })
    .await;
}

/// A target the core accepts (its limit raised) but an `http::Uri` cannot
/// hold (more than 65,534 bytes): the `http` path answers it with 400 and
/// `connection: close`, as a rejected request; the wire path serves it.
#[tokio::test]
async fn a_target_longer_than_http_types_hold() {
    within(async {
        let request = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(70_000));
        let mut config = Config::default();
        config.limits.request_target = 128 * 1024;
        config.limits.head_size = 256 * 1024;
        for wire in [false, true] {
            let (listener, addr) = bind().await;
            let server = async {
                let socket = accept(&listener).await;
                if wire {
                    serve_heads(socket, config.clone(), async |head, conn| {
                        let len = head.target().len().to_string();
                        conn.send_full(Response::new(()), len.into()).await
                    })
                    .await
                } else {
                    serve(socket, config.clone(), async |_req, _conn| -> Result<(), Error> {
                        panic!("the handler must not run")
                    })
                    .await
                }
            };
            let client = async {
                let mut raw = Raw::connect(addr).await;
                raw.send(request.as_bytes()).await;
                let head = raw.head().await;
                if wire {
                    assert_eq!(head.start, "HTTP/1.1 200 OK");
                    assert_eq!(raw.take(5).await, b"70001");
                } else {
                    assert_eq!(head.start, "HTTP/1.1 400 Bad Request");
                    assert_eq!(head.get("connection"), Some("close"));
                    assert!(raw.until_eof().await.is_empty(), "nothing after the error");
                }
            };
            let (served, ()) = tokio::join!(server, client);
            if wire {
                assert!(served.is_ok(), "{served:?}");
            } else {
                let err = served.expect_err("refused");
                let got = err.protocol().and_then(|e| e.status());
                assert_eq!(got, Some(StatusCode::BAD_REQUEST), "{err}");
            }
        }
    })
    .await;
}

// ---- switching protocols -------------------------------------------------------

#[tokio::test]
async fn server_upgrade_hands_over_the_bytes_after_the_request() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            let served = serve(socket, Config::default(), async |req, conn| {
                assert!(conn.is_switch_proposed());
                assert_eq!(req.headers()["upgrade"], "foo");
                let res = response(101)
                    .header("upgrade", "foo")
                    .header("connection", "upgrade")
                    .body(())
                    .expect("101");
                conn.send_response(res).await?;
                Ok::<_, Error>(req)
            })
            .await
            .expect("serve");
            let Served::Upgraded { value: request, parts } = served else {
                panic!("expected an upgrade, got {served:?}");
            };
            assert_eq!(request.uri().path(), "/chat");
            assert_eq!(parts.leftover, b"\x81\x05hello".as_slice());
            let mut io = parts.into_upgraded();
            let mut buf = [0u8; 64];
            let n = io.read(&mut buf).await.expect("read leftover");
            assert_eq!(&buf[..n], b"\x81\x05hello", "the first read gives exactly the leftover");
            io.write_all(b"\x81\x05world").await.expect("write");
            // Then the socket itself.
            let mut tail = [0u8; 4];
            io.read_exact(&mut tail).await.expect("read from the socket");
            assert_eq!(&tail, b"tail");
            io.shutdown().await.expect("shutdown");
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            raw.send(b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n\x81\x05hello")
                .await;
            let head = raw.head().await;
            let expected =
                format!("HTTP/1.1 101 Switching Protocols\r\ndate: {DATE}\r\nupgrade: foo\r\nconnection: upgrade\r\n\r\n");
            assert_eq!(String::from_utf8_lossy(&head.raw), expected);
            assert_eq!(raw.take(7).await, b"\x81\x05world");
            raw.send(b"tail").await;
            assert!(raw.until_eof().await.is_empty());
        };
        tokio::join!(server, client);
    })
    .await;
}

#[tokio::test]
async fn client_upgrade_hands_over_the_bytes_after_the_101() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let mut raw = Raw::new(accept(&listener).await);
            let head = raw.head().await;
            assert_eq!(head.start, "GET /up HTTP/1.1");
            assert_eq!(head.get("upgrade"), Some("foo"));
            assert_eq!(head.get("connection"), Some("upgrade"));
            // The 101 and the first bytes of the new protocol in one write.
            raw.send(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\nfirst bytes",
            )
            .await;
            assert_eq!(raw.take(5).await, b"reply");
            assert!(raw.until_eof().await.is_empty());
        };
        let client = async {
            let client = ClientConnection::new(TcpStream::connect(addr).await.expect("connect"));
            let req = Request::get(format!("http://{addr}/up"))
                .header("connection", "upgrade")
                .header("upgrade", "foo")
                .body(())
                .expect("request");
            client.send_request(req).await.expect("send_request");
            client.send_end().await.expect("send_end");
            let res = client.read_response().await.expect("101");
            assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
            assert!(client.is_switched());
            assert!(!client.is_reusable());
            let parts = client.into_parts().await.expect("into_parts");
            assert_eq!(parts.leftover, b"first bytes".as_slice());
            let mut io = parts.io;
            io.write_all(b"reply").await.expect("write");
            io.shutdown().await.expect("shutdown");
        };
        tokio::join!(server, client);
    })
    .await;
}

/// An upgrade request with a body switches after the body: the 101 waits
/// for the rest of it, and the body is not part of the leftover.
#[tokio::test]
async fn upgrade_with_a_body_switches_after_the_body() {
    within(async {
        // The handler reads the body itself; everything in one write.
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            let served = serve(socket, Config::default(), async |_req, conn| {
                assert_eq!(read_request_body(&conn).await?, b"hello");
                // RFC 9110 section 7.8: Upgrade goes with its connection option.
                let res = response(101)
                    .header("upgrade", "foo")
                    .header("connection", "upgrade")
                    .body(())
                    .expect("101");
                conn.send_response(res).await
            })
            .await
            .expect("serve");
            let Served::Upgraded { parts, .. } = served else {
                panic!("expected an upgrade, got {served:?}");
            };
            assert_eq!(parts.leftover, b"\x81\x05after".as_slice());
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            raw.send(
                b"POST /up HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\
                  Content-Length: 5\r\n\r\nhello\x81\x05after",
            )
            .await;
            assert_eq!(raw.head().await.status(), 101);
        };
        tokio::join!(server, client);

        // The handler answers at once; the body arrives late, in two parts.
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            let served = serve(socket, Config::default(), async |_req, conn| {
                // RFC 9110 section 7.8: Upgrade goes with its connection option.
                let res = response(101)
                    .header("upgrade", "foo")
                    .header("connection", "upgrade")
                    .body(())
                    .expect("101");
                conn.send_response(res).await
            })
            .await
            .expect("serve");
            let Served::Upgraded { parts, .. } = served else {
                panic!("expected an upgrade, got {served:?}");
            };
            // However TCP delivered it: the new protocol's bytes, not the body.
            assert!(b"\x81\x05after".starts_with(&parts.leftover));
            let mut io = parts.into_upgraded();
            let mut got = [0u8; 7];
            io.read_exact(&mut got).await.expect("read");
            assert_eq!(&got, b"\x81\x05after");
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            raw.send(
                b"POST /up HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\
                  Content-Length: 5\r\n\r\nhel",
            )
            .await;
            assert!(
                raw.quiet_for(Duration::from_millis(200)).await,
                "no 101 before the request body is complete"
            );
            raw.send(b"lo\x81\x05after").await;
            let head = raw.head().await;
            assert_eq!(head.status(), 101);
            assert_eq!(head.get("upgrade"), Some("foo"));
        };
        tokio::join!(server, client);
    })
    .await;
}

#[tokio::test]
async fn connect_tunnel_echoes_raw_bytes() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            let served = serve(socket, Config::default(), async |req, conn| {
                assert_eq!(req.method(), Method::CONNECT);
                assert_eq!(req.uri().authority().map(|a| a.as_str()), Some("example.com:443"));
                conn.send_response(response(200).body(()).expect("200")).await?;
                Ok::<_, Error>(req)
            })
            .await
            .expect("serve");
            let Served::Upgraded {
                value: request,
                parts,
            } = served
            else {
                panic!("expected a tunnel, got {served:?}");
            };
            assert_eq!(request.method(), Method::CONNECT);
            let (mut reader, mut writer) = tokio::io::split(parts.into_upgraded());
            let copied = tokio::io::copy(&mut reader, &mut writer).await.expect("echo");
            writer.shutdown().await.expect("shutdown");
            copied
        };
        let client = async {
            let client = ClientConnection::new(TcpStream::connect(addr).await.expect("connect"));
            let req = Request::connect("example.com:443").body(()).expect("request");
            client.send_request(req).await.expect("send_request");
            client.send_end().await.expect("send_end");
            let res = client.read_response().await.expect("response");
            assert_eq!(res.status(), StatusCode::OK);
            // RFC 9110 section 9.3.6: no framing fields in a 2xx to CONNECT.
            assert!(!res.headers().contains_key("content-length"));
            assert!(!res.headers().contains_key("transfer-encoding"));
            assert!(client.is_switched());
            let parts = client.into_parts().await.expect("into_parts");
            assert!(parts.leftover.is_empty());
            let mut io = parts.io;
            let big = pattern(50_000, 9);
            for message in [b"ping".to_vec(), big.clone()] {
                io.write_all(&message).await.expect("write");
                let mut back = vec![0u8; message.len()];
                io.read_exact(&mut back).await.expect("read");
                assert_eq!(back, message);
            }
            io.shutdown().await.expect("shutdown");
            let mut rest = Vec::new();
            io.read_to_end(&mut rest).await.expect("read to EOF");
            assert!(rest.is_empty());
            4 + big.len() as u64
        };
        let (copied, sent) = tokio::join!(server, client);
        assert_eq!(copied, sent);
    })
    .await;
}

// ---- deadlines and shutdown ----------------------------------------------------

async fn hello(_req: Request<()>, conn: Conn) -> Result<(), Error> {
    answer(&conn, 200, b"hello").await
}

#[tokio::test]
async fn head_read_timeout_closes_a_slow_connection_only() {
    within(async {
        let (listener, addr) = bind().await;
        let mut config = Config::default();
        config.timeouts.head_read = Some(Duration::from_millis(300));
        let server = async {
            let slow = accept(&listener).await;
            let fast = accept(&listener).await;
            tokio::join!(
                serve(slow, config.clone(), hello),
                serve(fast, config.clone(), hello)
            )
        };
        let clients = async {
            let started = Instant::now();
            let mut slow = Raw::connect(addr).await;
            slow.send(b"GET / HTTP/1.1\r\nHost: a\r\n").await;
            let fast = async {
                let socket = TcpStream::connect(addr).await.expect("connect");
                let client = ClientConnection::new(socket);
                for _ in 0..3 {
                    let req = Request::get(format!("http://{addr}/")).body(()).expect("request");
                    client.send_request(req).await.expect("send_request");
                    client.send_end().await.expect("send_end");
                    let res = client.read_response().await.expect("response");
                    assert_eq!(res.status(), StatusCode::OK);
                    assert_eq!(read_response_body(&client).await, b"hello");
                    tokio::time::sleep(Duration::from_millis(60)).await;
                }
                started.elapsed()
            };
            let slow = async {
                let received = slow.until_eof().await;
                (received, started.elapsed())
            };
            let (fast_done, (received, slow_closed)) = tokio::join!(fast, slow);
            let text = String::from_utf8_lossy(&received);
            assert!(text.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{text:?}");
            assert!(text.contains("\r\nconnection: close\r\n"), "{text:?}");
            assert!(
                slow_closed >= Duration::from_millis(280),
                "closed early: {slow_closed:?}"
            );
            assert!(
                slow_closed < Duration::from_millis(1000),
                "closed late: {slow_closed:?}"
            );
            assert!(fast_done < slow_closed, "the other client was served meanwhile");
        };
        let ((slow_served, fast_served), ()) = tokio::join!(server, clients);
        let err = slow_served.expect_err("the slow connection fails");
        assert_eq!(
            err.protocol().and_then(|e| e.status()),
            Some(StatusCode::REQUEST_TIMEOUT),
            "{err}"
        );
        assert_closed(fast_served);
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_the_response_in_flight() {
    within(async {
        let (listener, addr) = bind().await;
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let (in_flight_tx, in_flight_rx) = oneshot::channel::<()>();
        let (go_tx, go_rx) = oneshot::channel::<()>();
        let server = async {
            let socket = accept(&listener).await;
            let mut in_flight = Some(in_flight_tx);
            let mut go = Some(go_rx);
            let mut calls = 0;
            let shutdown = async {
                let _ = shutdown_rx.await;
            };
            let served = serve_with_shutdown(socket, Config::default(), shutdown, |_req, conn| {
                calls += 1;
                let signals = (in_flight.take(), go.take());
                async move {
                    let res = response(200)
                        .header("content-length", 11)
                        .body(())
                        .expect("response");
                    conn.send_response(res).await?;
                    conn.send_data("first".into()).await?;
                    conn.flush().await?;
                    if let (Some(tx), Some(rx)) = signals {
                        let _ = tx.send(());
                        let _ = rx.await;
                    }
                    conn.send_data("second".into()).await?;
                    conn.send_end().await
                }
            })
            .await;
            (served, calls)
        };
        let control = async {
            in_flight_rx.await.expect("a response in flight");
            shutdown_tx.send(()).expect("signal shutdown");
            tokio::task::yield_now().await;
            go_tx.send(()).expect("let the response finish");
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            raw.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
            let received = raw.until_eof().await;
            assert_eq!(
                String::from_utf8_lossy(&received),
                format!("HTTP/1.1 200 OK\r\ndate: {DATE}\r\ncontent-length: 11\r\n\r\nfirstsecond")
            );
        };
        let ((served, calls), (), ()) = tokio::join!(server, control, client);
        assert_closed(served);
        assert_eq!(calls, 1);
    })
    .await;
}

#[tokio::test]
async fn graceful_shutdown_closes_an_idle_connection() {
    within(async {
        let (listener, addr) = bind().await;
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let server = async {
            let socket = accept(&listener).await;
            let shutdown = async {
                let _ = shutdown_rx.await;
            };
            serve_with_shutdown(socket, Config::default(), shutdown, hello).await
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            raw.send(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").await;
            let (head, body) = raw.response().await;
            assert_eq!(head.status(), 200);
            assert_eq!(body, b"hello");
            // Kept alive: nothing happens until the shutdown signal.
            assert!(raw.quiet_for(Duration::from_millis(100)).await);
            let signalled = Instant::now();
            shutdown_tx.send(()).expect("signal shutdown");
            assert!(raw.until_eof().await.is_empty());
            assert!(signalled.elapsed() < Duration::from_secs(1));
        };
        let (served, ()) = tokio::join!(server, client);
        assert_closed(served);
    })
    .await;
}

/// The keep-alive deadline counts from the end of the last response, not
/// the first: a request that comes after the first response's deadline
/// would have passed, but within the deadline of the one before it, is
/// served; then an idle connection is closed once its deadline passes.
#[tokio::test]
async fn keep_alive_deadline_moves_with_each_request() {
    within(async {
        let (listener, addr) = bind().await;
        let keep_alive = Duration::from_millis(400);
        let server = async {
            let socket = accept(&listener).await;
            let mut config = Config::default();
            config.timeouts.keep_alive = Some(keep_alive);
            serve(socket, config, async |req, conn| {
                answer(&conn, 200, req.uri().path().as_bytes()).await
            })
            .await
        };
        let client = async {
            let mut raw = Raw::connect(addr).await;
            let start = Instant::now();
            for path in ["/1", "/2", "/3"] {
                raw.send(format!("GET {path} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes())
                    .await;
                let (head, body) = raw.response().await;
                assert_eq!(head.status(), 200, "{path}");
                assert_eq!(body, path.as_bytes());
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            // /3 went out at about 500 ms, past the first response's
            // deadline (about 400 ms). Idle since /3's response: closed
            // about 400 ms after it.
            let idle_from = Instant::now() - Duration::from_millis(250);
            assert!(raw.until_eof().await.is_empty(), "closed without a response");
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
        let (served, ()) = tokio::join!(server, client);
        assert!(matches!(served, Ok(Served::Closed)), "{served:?}");
    })
    .await;
}
