//! Full duplex over loopback sockets, directly against h1-tokio's server
//! and client: both directions at once from one task (`join`) and from two
//! tasks (body handles), a server that answers before the request body has
//! arrived, a client that sees that early answer while it uploads (also
//! when the server resets the connection), a handler that does not read
//! the body (drained, or refused with the server lingering), and the write
//! deadline closing a peer that never reads.
//!
//! Every test runs under a time limit; every loop is bounded.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h1::http::{HeaderMap, Request, Response, StatusCode};
use h1::Config;
use h1_tokio::{serve, ClientConnection, Deadline, Error, ServerConnection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

type Conn = ServerConnection<TcpStream>;

const LIMIT: Duration = Duration::from_secs(30);
/// Body pieces sent by the tests, and how many of them.
const BLOCK: usize = 64 * 1024;
const BLOCKS: usize = 256; // 16 MiB

async fn within<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(LIMIT, test).await.expect("test timed out")
}

async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    (listener, addr)
}

async fn accept(listener: &TcpListener) -> TcpStream {
    listener.accept().await.expect("accept").0
}

async fn client(addr: SocketAddr) -> ClientConnection<TcpStream> {
    ClientConnection::new(TcpStream::connect(addr).await.expect("connect"))
}

/// Byte `i` of the test stream.
fn byte_at(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 13)) as u8
}

/// Block `n` of the test stream.
fn block(n: usize) -> Bytes {
    (n * BLOCK..(n + 1) * BLOCK)
        .map(byte_at)
        .collect::<Vec<u8>>()
        .into()
}

/// Checks received bytes against the test stream, where they fall.
#[derive(Default)]
struct Checker {
    at: usize,
}

impl Checker {
    fn check(&mut self, chunk: &[u8]) {
        for (i, &b) in chunk.iter().enumerate() {
            assert_eq!(b, byte_at(self.at + i), "byte {} differs", self.at + i);
        }
        self.at += chunk.len();
    }
}

/// Streams the request body back as it arrives, one task: read a chunk,
/// send it. The response starts before any of the body is read.
async fn stream_back(_req: Request<()>, conn: Conn) -> Result<(), Error> {
    conn.send_response(Response::new(())).await?;
    while let Some(chunk) = conn.read_body().await? {
        conn.send_data(chunk).await?;
    }
    conn.send_end().await
}

fn chunked_post(path: &str) -> Request<()> {
    Request::post(path)
        .header("host", "a")
        .header("transfer-encoding", "chunked")
        .body(())
        .expect("request")
}

/// `PUT /big` of `len` bytes, Content-Length framed.
fn put_big(len: usize) -> Request<()> {
    Request::put("/big")
        .header("host", "a")
        .header("content-length", len)
        .body(())
        .expect("request")
}

/// Refuses the body at once, nothing read: 413 with `connection: close`.
async fn refuse_too_big(_req: Request<()>, conn: Conn) -> Result<(), Error> {
    let res = Response::builder()
        .status(413)
        .header("connection", "close")
        .body(())
        .expect("413");
    conn.send_full(res, "too big\n".into()).await
}

/// A raw server: reads the request head off the next connection and answers
/// 413 (`connection: close`) without reading the body. The socket, to hold
/// or to close.
async fn answer_413_after_the_head(listener: &TcpListener) -> TcpStream {
    let mut socket = accept(listener).await;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await.expect("read");
        assert!(n > 0, "the request head");
        head.extend_from_slice(&buf[..n]);
    }
    socket
        .write_all(b"HTTP/1.1 413 Content Too Large\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope")
        .await
        .expect("write 413");
    socket
}

/// A raw client: connects and sends the head of a `POST /` of `total` bytes.
async fn raw_post_head(addr: SocketAddr, total: usize) -> TcpStream {
    let mut raw = TcpStream::connect(addr).await.expect("connect");
    raw.write_all(format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {total}\r\n\r\n").as_bytes())
        .await
        .expect("head");
    raw
}

/// Sends block 0 until `total` bytes are offered or sending stops; the
/// bytes offered.
async fn offer_until_stopped(conn: &ClientConnection<TcpStream>, total: usize) -> usize {
    let mut offered = 0;
    while offered < total && !conn.is_sending_stopped() {
        conn.send_data(block(0)).await.expect("send_data");
        offered += BLOCK;
    }
    offered
}

/// Reads the response body, checking it against the test stream; the bytes
/// read.
async fn read_checked(conn: &ClientConnection<TcpStream>) -> usize {
    let mut checker = Checker::default();
    while let Some(chunk) = conn.read_body().await.expect("body") {
        checker.check(&chunk);
    }
    checker.at
}

/// One task on each side: the server's handler reads and sends in turn;
/// the client joins its upload and its download in one task. 16 MiB each
/// way, and the response arrives while the upload is still going.
#[tokio::test]
async fn one_task_each_side_streams_both_ways() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async { serve(accept(&listener).await, Config::default(), stream_back).await };
        let client = async {
            let conn = client(addr).await;
            conn.send_request(chunked_post("/echo")).await.expect("head");
            let sent = AtomicUsize::new(0);
            let upload = async {
                for n in 0..BLOCKS {
                    conn.send_data(block(n)).await.expect("send_data");
                    sent.fetch_add(BLOCK, Ordering::SeqCst);
                }
                conn.send_end().await.expect("send_end");
            };
            let download = async {
                let res = conn.read_response().await.expect("response");
                assert_eq!(res.status(), StatusCode::OK);
                let sent_at_head = sent.load(Ordering::SeqCst);
                (sent_at_head, read_checked(&conn).await)
            };
            let ((), (sent_at_head, received)) = tokio::join!(upload, download);
            assert_eq!(received, BLOCK * BLOCKS, "every byte came back");
            assert!(
                sent_at_head < BLOCK * BLOCKS,
                "the response arrived before the upload ended ({sent_at_head} bytes sent)"
            );
            assert!(conn.is_reusable());
        };
        let (served, ()) = tokio::join!(server, client);
        assert!(served.is_ok(), "{served:?}");
    })
    .await;
}

/// One task on the server, its handler joining two futures on the one
/// connection: one reads the request body, the other sends the response
/// head at once, then waits for the first to finish before it streams the
/// body. The client uploads slowly, so the reader waits for each piece
/// from the socket alone: nothing else moves meanwhile. (Two futures on
/// one connection in one task each keep their own wake-up.)
#[tokio::test]
async fn one_handler_joins_its_reading_and_its_answer() {
    within(async {
        let (listener, addr) = bind().await;
        // A task of its own: nothing the client does wakes it.
        let server = tokio::spawn(async move {
            serve(accept(&listener).await, Config::default(), async |_req, conn| {
                let (done_tx, done_rx) = tokio::sync::oneshot::channel();
                let reading = async {
                    let mut checker = Checker::default();
                    while let Some(chunk) = conn.read_body().await? {
                        checker.check(&chunk);
                    }
                    let _ = done_tx.send(checker.at);
                    Ok::<_, Error>(())
                };
                let answering = async {
                    conn.send_response(Response::new(())).await?;
                    conn.flush().await?;
                    let read = done_rx.await.unwrap_or_default();
                    for n in 0..4 {
                        conn.send_data(block(n)).await?;
                    }
                    let mut trailers = HeaderMap::new();
                    trailers.insert("x-received", read.into());
                    conn.send_trailers(trailers).await
                };
                let (read, answered) = tokio::join!(reading, answering);
                read.and(answered)
            })
            .await
        });
        let client = async {
            let conn = client(addr).await;
            conn.send_request(chunked_post("/both")).await.expect("head");
            let upload = async {
                for n in 0..8 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    conn.send_data(block(n)).await.expect("send_data");
                }
                conn.send_end().await.expect("send_end");
            };
            let download = async {
                let res = conn.read_response().await.expect("response");
                assert_eq!(res.status(), StatusCode::OK);
                read_checked(&conn).await
            };
            let ((), received) = tokio::join!(upload, download);
            assert_eq!(received, 4 * BLOCK);
            let trailers = conn.trailers().expect("a header map").expect("trailers");
            assert_eq!(trailers["x-received"], (8 * BLOCK).to_string().as_str());
        };
        let ((), served) = tokio::join!(client, server);
        let served = served.expect("server task");
        assert!(served.is_ok(), "{served:?}");
    })
    .await;
}

/// Two tasks on each side: the server reads the request body in a task of
/// its own (through a body receiver) while the handler streams a response
/// that owes nothing to it, then reports what it read in the trailers; the
/// client uploads from a spawned task (through a body sender) while it
/// reads the response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tasks_each_side_stream_both_ways() {
    within(async {
        let (listener, addr) = bind().await;
        let server = tokio::spawn(async move {
            serve(accept(&listener).await, Config::default(), async |_req, conn| {
                let body = conn.body_receiver();
                let reader = tokio::spawn(async move {
                    let mut body = body;
                    let mut checker = Checker::default();
                    while let Some(chunk) = body.read_body().await? {
                        checker.check(&chunk);
                    }
                    Ok::<_, Error>(checker.at)
                });
                conn.send_response(Response::new(())).await?;
                for n in 0..BLOCKS {
                    conn.send_data(block(n)).await?;
                }
                let received = reader.await.expect("reader task")?;
                let mut trailers = HeaderMap::new();
                trailers.insert("x-received", received.into());
                conn.send_trailers(trailers).await
            })
            .await
        });
        let conn = client(addr).await;
        conn.send_request(chunked_post("/both")).await.expect("head");
        let sender = conn.body_sender();
        let uploaded = Arc::new(AtomicUsize::new(0));
        let upload = tokio::spawn({
            let uploaded = Arc::clone(&uploaded);
            async move {
                for n in 0..BLOCKS {
                    sender.send_data(block(n)).await?;
                    uploaded.fetch_add(BLOCK, Ordering::SeqCst);
                }
                sender.send_end().await
            }
        });
        let res = conn.read_response().await.expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            uploaded.load(Ordering::SeqCst) < BLOCK * BLOCKS,
            "the response arrived before the upload ended"
        );
        assert_eq!(read_checked(&conn).await, BLOCK * BLOCKS);
        upload.await.expect("upload task").expect("upload");
        let trailers = conn.trailers().expect("a header map").expect("trailers");
        assert_eq!(trailers["x-received"], (BLOCK * BLOCKS).to_string().as_str());
        assert!(conn.is_reusable());
        drop(conn);
        let served = server.await.expect("server task");
        assert!(served.is_ok(), "{served:?}");
    })
    .await;
}

/// A server that refuses the body at once (413, `connection: close`,
/// nothing read): the uploading client stops sending, and reads the 413.
#[tokio::test]
async fn early_final_response_stops_the_upload() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async { serve(accept(&listener).await, Config::default(), refuse_too_big).await };
        let client = async {
            let conn = client(addr).await;
            let total = 64 * 1024 * 1024;
            conn.send_request(put_big(total)).await.expect("head");
            let started = Instant::now();
            let offered = offer_until_stopped(&conn, total).await;
            assert!(conn.is_sending_stopped(), "the upload stopped");
            assert!(offered < total, "stopped before the end: {offered} bytes offered");
            // The rest goes nowhere, without an error.
            conn.send_data(block(1)).await.expect("dropped");
            conn.send_end().await.expect("end");
            let res = conn.read_response().await.expect("the early response");
            assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
            let mut body = Vec::new();
            while let Some(chunk) = conn.read_body().await.expect("body") {
                body.extend_from_slice(&chunk);
            }
            assert_eq!(body, b"too big\n");
            assert!(!conn.is_reusable());
            assert!(started.elapsed() < Duration::from_secs(10));
        };
        let (served, ()) = tokio::join!(server, client);
        assert!(served.is_ok(), "{served:?}");
    })
    .await;
}

/// A server that answers 413 and stops reading, without closing: the
/// client's upload is stuck in a write, and still sees the answer (a write
/// that waits keeps reading), stops sending and reads it.
#[tokio::test]
async fn early_response_while_the_server_stops_reading() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = answer_413_after_the_head(&listener).await;
            // Holds the connection without reading.
            tokio::time::sleep(Duration::from_secs(3)).await;
            socket
        };
        let client = async {
            let conn = client(addr).await;
            let total = 1024 * BLOCK; // far more than the socket buffers hold
            conn.send_request(put_big(total)).await.expect("head");
            let started = Instant::now();
            offer_until_stopped(&conn, total).await;
            assert!(conn.is_sending_stopped(), "the upload stopped");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{:?}",
                started.elapsed()
            );
            conn.send_end().await.expect("end");
            let res = conn.read_response().await.expect("the 413");
            assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
            let body = conn.read_body().await.expect("body").expect("chunk");
            assert_eq!(&body[..], b"nope");
        };
        tokio::join!(server, client);
    })
    .await;
}

/// A server that answers 413 after reading part of the body, then resets
/// the connection (it closes with unread data): the client's writes fail
/// with a reset or a broken pipe, and it still reads the 413.
#[tokio::test]
async fn early_response_then_reset_still_reaches_the_client() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = answer_413_after_the_head(&listener).await;
            // Closing with unread data resets the connection.
            tokio::time::sleep(Duration::from_millis(50)).await;
            drop(socket);
        };
        let client = async {
            let conn = client(addr).await;
            conn.send_request(put_big(256 * BLOCK)).await.expect("head");
            for _ in 0..256 {
                conn.send_data(block(0))
                    .await
                    .expect("send_data never fails here");
            }
            conn.send_end().await.expect("send_end");
            assert!(conn.is_sending_stopped());
            let res = conn.read_response().await.expect("the 413");
            assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
            let body = conn.read_body().await.expect("body").expect("a chunk");
            assert_eq!(&body[..], b"nope");
        };
        tokio::join!(server, client);
    })
    .await;
}

/// A handler that answers without reading a short body: the rest is read
/// and discarded, and the connection serves the next request.
#[tokio::test]
async fn unread_short_body_is_drained_and_the_connection_kept() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            serve(accept(&listener).await, Config::default(), async |req, conn| {
                let path = req.uri().path().to_owned();
                conn.send_full(Response::new(()), path.into()).await
            })
            .await
        };
        let client = async {
            let conn = client(addr).await;
            for path in ["/first", "/second"] {
                let req = Request::post(path)
                    .header("host", "a")
                    .header("content-length", 100_000)
                    .body(())
                    .expect("request");
                conn.send_request(req).await.expect("head");
                conn.send_data(vec![b'x'; 100_000].into()).await.expect("body");
                conn.send_end().await.expect("end");
                let res = conn.read_response().await.expect("response");
                assert_eq!(res.status(), StatusCode::OK);
                assert!(!res.headers().contains_key("connection"));
                let body = conn.read_body().await.expect("body").expect("chunk");
                assert_eq!(&body[..], path.as_bytes());
                assert_eq!(conn.read_body().await.expect("end"), None);
                assert!(conn.is_reusable(), "{path}: the connection persists");
            }
        };
        let (served, ()) = tokio::join!(server, client);
        assert!(served.is_ok(), "{served:?}");
    })
    .await;
}

/// A handler that answers without reading a long body: the connection
/// closes after the response (RFC 9112 section 9.6), and the client,
/// still sending, reads the whole response first.
#[tokio::test]
async fn unread_long_body_closes_after_the_response() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            serve(accept(&listener).await, Config::default(), async |_req, conn| {
                conn.send_full(Response::new(()), "ok".into()).await
            })
            .await
        };
        let client = async {
            let total = 8 * 1024 * 1024;
            let mut raw = raw_post_head(addr, total).await;
            let (mut read, mut write) = raw.split();
            let writer = async {
                let chunk = vec![b'x'; BLOCK];
                let mut sent = 0;
                while sent < total {
                    if write.write_all(&chunk).await.is_err() {
                        break;
                    }
                    sent += chunk.len();
                }
            };
            let reader = async {
                let mut got = Vec::new();
                let _ = read.read_to_end(&mut got).await;
                got
            };
            let ((), got) = tokio::join!(writer, reader);
            let text = String::from_utf8_lossy(&got);
            assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
            assert!(
                text.ends_with("\r\n\r\nok"),
                "the whole response, then the end: {text}"
            );
        };
        let (served, ()) = tokio::join!(server, client);
        assert!(served.is_ok(), "{served:?}");
    })
    .await;
}

/// A handler that refuses a body it did not read with a response that
/// closes the connection (413, `connection: close`): the server lingers,
/// reading and discarding, so that a client which sends its whole body
/// before it reads (as simple clients do) gets the 413, not a reset.
#[tokio::test]
async fn refused_unread_body_lingers_for_a_client_that_reads_last() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async { serve(accept(&listener).await, Config::default(), refuse_too_big).await };
        let client = async {
            let total = 8 * 1024 * 1024;
            let mut raw = raw_post_head(addr, total).await;
            // The whole body first, then the answer.
            let chunk = vec![b'x'; BLOCK];
            for _ in 0..total / BLOCK {
                raw.write_all(&chunk)
                    .await
                    .expect("the server reads (and drops) the body");
            }
            let mut got = Vec::new();
            raw.read_to_end(&mut got).await.expect("the answer, then the end");
            let text = String::from_utf8_lossy(&got);
            assert!(text.starts_with("HTTP/1.1 413 Payload Too Large\r\n"), "{text}");
            assert!(text.ends_with("\r\n\r\ntoo big\n"), "{text}");
        };
        let (served, ()) = tokio::join!(server, client);
        assert!(served.is_ok(), "{served:?}");
    })
    .await;
}

/// A peer that never reads: the server's write waits, and the write
/// deadline closes the connection.
#[tokio::test]
async fn write_deadline_closes_a_peer_that_never_reads() {
    within(async {
        let (listener, addr) = bind().await;
        let deadline = Duration::from_millis(300);
        let server = async {
            let mut config = h1::Config::default();
            config.timeouts.write = Some(deadline);
            let started = Instant::now();
            let served = serve(accept(&listener).await, config, async |_req, conn| {
                conn.send_response(Response::new(())).await?;
                for _ in 0..4096 {
                    conn.send_data(block(0)).await?;
                }
                conn.send_end().await
            })
            .await;
            (served, started.elapsed())
        };
        let client = async {
            let mut raw = TcpStream::connect(addr).await.expect("connect");
            raw.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                .await
                .expect("request");
            // Never reads; keeps the socket until the server gave up.
            tokio::time::sleep(Duration::from_secs(3)).await;
            raw
        };
        let ((served, after), mut raw) = tokio::join!(server, client);
        match served {
            Err(Error::Timeout(Deadline::Write)) => {}
            other => panic!("expected the write deadline, got {other:?}"),
        }
        assert!(after >= deadline, "closed early: {after:?}");
        assert!(
            after < deadline + Duration::from_millis(1500),
            "closed late: {after:?}"
        );
        // The connection is gone: reading drains what was sent, then ends.
        let mut sink = vec![0u8; 1 << 20];
        let mut total = 0usize;
        loop {
            match tokio::time::timeout(Duration::from_secs(5), raw.read(&mut sink)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(n)) => total += n,
                Err(_) => panic!("the connection stayed open"),
            }
        }
        assert!(total < 4096 * BLOCK, "only what the socket buffers held: {total}");
    })
    .await;
}

/// The client side of the write deadline: an upload to a server that
/// never reads fails with it.
#[tokio::test]
async fn client_write_deadline() {
    within(async {
        let (listener, addr) = bind().await;
        let server = async {
            let socket = accept(&listener).await;
            tokio::time::sleep(Duration::from_secs(3)).await;
            socket
        };
        let client = async {
            let mut config = h1::Config::default();
            config.timeouts.write = Some(Duration::from_millis(300));
            let conn =
                ClientConnection::with_config(TcpStream::connect(addr).await.expect("connect"), config);
            conn.send_request(chunked_post("/up")).await.expect("head");
            let started = Instant::now();
            let mut result = Ok(());
            for _ in 0..4096 {
                result = conn.send_data(block(0)).await;
                if result.is_err() {
                    break;
                }
            }
            match result {
                Err(Error::Timeout(Deadline::Write)) => {}
                other => panic!("expected the write deadline, got {other:?}"),
            }
            assert!(started.elapsed() < Duration::from_secs(2));
        };
        tokio::join!(server, client);
    })
    .await;
}

/// The connect deadline.
#[tokio::test]
async fn connect_deadline() {
    within(async {
        let mut config = h1::Config::default();
        config.timeouts.connect = Some(Duration::from_millis(200));
        let started = Instant::now();
        let never = std::future::pending::<std::io::Result<TcpStream>>();
        match ClientConnection::connect(never, config).await {
            Err(Error::Timeout(Deadline::Connect)) => {}
            Err(other) => panic!("expected the connect deadline, got {other:?}"),
            Ok(_) => panic!("connected to nothing"),
        }
        let after = started.elapsed();
        assert!(
            after >= Duration::from_millis(200) && after < Duration::from_secs(2),
            "{after:?}"
        );
    })
    .await;
}
