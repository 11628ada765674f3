//! Full duplex over loopback sockets, directly against h1-blocking's
//! server and client: a server thread that streams its answer while the
//! request arrives, a body on a second thread on each side, a one-thread
//! client that sees an early final response while its upload waits for a
//! server that stopped reading (and one that reset the connection), a
//! refused body drained while lingering, the write deadline, and the
//! connect deadline.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{connect, server};
use h1::http::{HeaderMap, Request, Response, StatusCode};
use h1_blocking::{serve, ClientConnection, Deadline, Error, ServerConnection};

const BLOCK: usize = 64 * 1024;
const BLOCKS: usize = 256; // 16 MiB

fn byte_at(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 13)) as u8
}

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

fn chunked_post(path: &str) -> Request<()> {
    Request::post(path)
        .header("host", "a")
        .header("transfer-encoding", "chunked")
        .body(())
        .expect("request")
}

/// Streams the request body back as it arrives, on the connection's thread.
fn stream_back(_req: Request<()>, conn: ServerConnection<TcpStream>) -> Result<(), Error> {
    conn.send_response(Response::new(()))?;
    while let Some(chunk) = conn.read_body()? {
        conn.send_data(chunk)?;
    }
    conn.send_end()
}

/// Reads the head of a request off a raw socket.
fn read_head(socket: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).expect("read");
        assert!(n > 0, "the request head");
        head.extend_from_slice(&buf[..n]);
    }
}

/// A raw server: reads the request head and answers 413 (`connection:
/// close`) without reading the body.
fn answer_413_after_the_head(socket: &mut TcpStream) {
    read_head(socket);
    socket
        .write_all(b"HTTP/1.1 413 Content Too Large\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope")
        .expect("write 413");
}

/// Reads the answer of [`answer_413_after_the_head`]: the 413 and its body.
fn read_the_413(conn: &ClientConnection<TcpStream>) {
    let res = conn.read_response().expect("the 413");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = conn.read_body().expect("body").expect("chunk");
    assert_eq!(&body[..], b"nope");
}

/// `PUT /big` of `len` bytes, Content-Length framed.
fn put_big(len: usize) -> Request<()> {
    Request::put("/big")
        .header("host", "a")
        .header("content-length", len)
        .body(())
        .expect("request")
}

/// Reads the response body, checking it against the test stream; the bytes
/// read.
fn read_checked(conn: &ClientConnection<TcpStream>) -> usize {
    let mut checker = Checker::default();
    while let Some(chunk) = conn.read_body().expect("body") {
        checker.check(&chunk);
    }
    checker.at
}

#[test]
fn one_thread_server_streams_back_while_the_request_arrives() {
    let (addr, handle) = server(1, |socket| serve(socket, h1::Config::default(), stream_back));
    let conn = ClientConnection::new(connect(addr));
    conn.send_request(chunked_post("/echo")).expect("head");
    let sender = conn.body_sender();
    let sent = Arc::new(AtomicUsize::new(0));
    let upload = thread::spawn({
        let sent = Arc::clone(&sent);
        move || {
            for n in 0..BLOCKS {
                sender.send_data(block(n))?;
                sent.fetch_add(BLOCK, Ordering::SeqCst);
            }
            sender.send_end()
        }
    });
    let res = conn.read_response().expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        sent.load(Ordering::SeqCst) < BLOCK * BLOCKS,
        "the response came during the upload"
    );
    assert_eq!(read_checked(&conn), BLOCK * BLOCKS);
    upload.join().expect("upload thread").expect("upload");
    assert!(conn.is_reusable());
    drop(conn);
    let served = handle.join().expect("server").remove(0);
    assert!(served.is_ok(), "{served:?}");
}

#[test]
fn two_threads_each_side_stream_both_ways() {
    let (addr, handle) = server(1, |socket| {
        serve(socket, h1::Config::default(), |_req, conn| {
            let mut body = conn.body_receiver();
            let reader = thread::spawn(move || {
                let mut checker = Checker::default();
                while let Some(chunk) = body.read_body()? {
                    checker.check(&chunk);
                }
                Ok::<_, Error>(checker.at)
            });
            conn.send_response(Response::new(()))?;
            for n in 0..BLOCKS {
                conn.send_data(block(n))?;
            }
            let received = reader.join().expect("reader thread")?;
            let mut trailers = HeaderMap::new();
            trailers.insert("x-received", received.into());
            conn.send_trailers(trailers)
        })
    });
    let conn = ClientConnection::new(connect(addr));
    conn.send_request(chunked_post("/both")).expect("head");
    let sender = conn.body_sender();
    let upload = thread::spawn(move || {
        for n in 0..BLOCKS {
            sender.send_data(block(n))?;
        }
        sender.send_end()
    });
    let res = conn.read_response().expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(read_checked(&conn), BLOCK * BLOCKS);
    upload.join().expect("upload thread").expect("upload");
    let trailers = conn.trailers().expect("a header map").expect("trailers");
    assert_eq!(trailers["x-received"], (BLOCK * BLOCKS).to_string().as_str());
    drop(conn);
    let served = handle.join().expect("server").remove(0);
    assert!(served.is_ok(), "{served:?}");
}

/// The server answers 413 and stops reading, without closing: the client,
/// alone on its thread, is blocked in a write, and still sees the answer
/// (its write gives way to reads), stops sending and reads it.
#[test]
fn one_thread_client_sees_an_early_response_while_its_write_waits() {
    let (addr, handle) = server(1, |mut socket| {
        answer_413_after_the_head(&mut socket);
        // Holds the connection without reading.
        thread::sleep(Duration::from_secs(3));
    });
    let conn = ClientConnection::new(connect(addr));
    let total = 1024 * BLOCK; // 64 MiB: far more than the socket buffers hold
    conn.send_request(put_big(total)).expect("head");
    let started = Instant::now();
    let mut offered = 0;
    while offered < total && !conn.is_sending_stopped() {
        conn.send_data(block(0)).expect("send_data");
        offered += BLOCK;
    }
    assert!(conn.is_sending_stopped(), "the upload stopped");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "seen while the server held the connection: {:?}",
        started.elapsed()
    );
    conn.send_end().expect("end");
    read_the_413(&conn);
    handle.join().expect("server");
}

#[test]
fn early_response_then_reset_still_reaches_the_client() {
    let (addr, handle) = server(1, |mut socket| {
        answer_413_after_the_head(&mut socket);
        thread::sleep(Duration::from_millis(50));
        // Closing with unread data resets the connection.
    });
    let conn = ClientConnection::new(connect(addr));
    conn.send_request(put_big(256 * BLOCK)).expect("head");
    for _ in 0..256 {
        conn.send_data(block(0)).expect("send_data never fails here");
    }
    conn.send_end().expect("send_end");
    assert!(conn.is_sending_stopped());
    read_the_413(&conn);
    handle.join().expect("server");
}

/// A handler that refuses a body it did not read with a response that
/// closes the connection: the server lingers, reading and discarding, so
/// that a client which sends its whole body before it reads gets the 413,
/// not a reset.
#[test]
fn refused_unread_body_lingers_for_a_client_that_reads_last() {
    let (addr, handle) = server(1, |socket| {
        serve(socket, h1::Config::default(), |_req, conn| {
            let res = Response::builder()
                .status(413)
                .header("connection", "close")
                .body(())
                .expect("413");
            conn.send_full(res, "too big\n".into())
        })
    });
    let mut client = connect(addr);
    let total = 8 * 1024 * 1024;
    client
        .write_all(format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {total}\r\n\r\n").as_bytes())
        .expect("head");
    let chunk = vec![b'x'; BLOCK];
    for _ in 0..total / BLOCK {
        client
            .write_all(&chunk)
            .expect("the server reads (and drops) the body");
    }
    let mut got = Vec::new();
    client.read_to_end(&mut got).expect("the answer, then the end");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 413 Payload Too Large\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\ntoo big\n"), "{text}");
    assert!(handle.join().expect("server")[0].is_ok());
}

#[test]
fn write_deadline_closes_a_peer_that_never_reads() {
    let deadline = Duration::from_millis(300);
    let (addr, handle) = server(1, move |socket| {
        let mut config = h1::Config::default();
        config.timeouts.write = Some(deadline);
        let started = Instant::now();
        let served = serve(socket, config, |_req, conn| {
            conn.send_response(Response::new(()))?;
            for _ in 0..4096 {
                conn.send_data(block(0))?;
            }
            conn.send_end()
        });
        (served, started.elapsed())
    });
    let mut raw = connect(addr);
    raw.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .expect("request");
    let (served, after) = handle.join().expect("server").remove(0);
    match served {
        Err(Error::Timeout(Deadline::Write)) => {}
        other => panic!("expected the write deadline, got {other:?}"),
    }
    assert!(after >= deadline, "closed early: {after:?}");
    assert!(
        after < deadline + Duration::from_millis(1500),
        "closed late: {after:?}"
    );
    drop(raw);
}

/// A listener whose accept queue is full: a connection attempt waits
/// (its SYN is dropped) until the connect deadline.
#[test]
fn connect_deadline() {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    socket.bind(&any.into()).expect("bind");
    socket.listen(0).expect("listen");
    let listener: TcpListener = socket.into();
    let addr = listener.local_addr().expect("local addr");
    // Fill the accept queue (never accepted).
    let mut held = Vec::new();
    for _ in 0..4 {
        if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            held.push(s);
        }
    }
    let mut config = h1::Config::default();
    config.timeouts.connect = Some(Duration::from_millis(300));
    let started = Instant::now();
    match ClientConnection::connect(addr, config) {
        Err(Error::Timeout(Deadline::Connect)) => {}
        Err(other) => panic!("expected the connect deadline, got {other:?}"),
        Ok(_) => panic!("connected to a full accept queue"),
    }
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(300) && after < Duration::from_secs(3),
        "{after:?}"
    );
    drop((held, listener));
}

/// A server that closes an idle connection: the client notices without
/// sending anything.
#[test]
fn idle_client_notices_the_server_closing() {
    let (addr, handle) = server(1, |socket| {
        let mut config = h1::Config::default();
        config.timeouts.keep_alive = Some(Duration::from_millis(200));
        serve(socket, config, |_req, conn| {
            conn.send_full(Response::new(()), "ok".into())
        })
    });
    let conn = ClientConnection::new(connect(addr));
    let req = Request::get("/").header("host", "a").body(()).expect("request");
    conn.send_request(req).expect("send");
    conn.send_end().expect("end");
    assert_eq!(conn.read_response().expect("response").status(), StatusCode::OK);
    while conn.read_body().expect("body").is_some() {}
    assert!(conn.is_reusable(), "right after the exchange");
    thread::sleep(Duration::from_millis(600));
    assert!(!conn.is_reusable(), "the server closed the idle connection");
    let served = handle.join().expect("server").remove(0);
    assert!(served.is_ok(), "{served:?}");
}
