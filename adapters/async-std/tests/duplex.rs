//! Full duplex over loopback sockets, directly against h1-async-std's
//! server and client, under async-std and under smol: both directions at
//! once from one task (`zip`) and from two tasks (body handles), a client
//! that sees an early final response while it uploads (also when the
//! server resets the connection), and the write deadline closing a peer
//! that never reads.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{sleep, Net};
use futures_lite::future::zip;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use h1::http::{HeaderMap, Request, Response, StatusCode};
use h1_async_std::{serve, ClientConnection, Deadline, Error, ServerConnection};

both!(
    one_task_each_side_streams_both_ways,
    two_tasks_each_side_stream_both_ways,
    early_final_response_stops_the_upload,
    early_response_then_reset_still_reaches_the_client,
    early_response_while_the_server_stops_reading,
    write_deadline_closes_a_peer_that_never_reads,
);

const BLOCK: usize = 64 * 1024;
const BLOCKS: usize = 64; // 4 MiB
/// Enough to fill the loopback socket buffers both ways, so that the
/// upload has to wait while the response comes.
const MANY_BLOCKS: usize = 256; // 16 MiB

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

/// `PUT /big` of `len` bytes, Content-Length framed.
fn put_big(len: usize) -> Request<()> {
    Request::put("/big")
        .header("host", "a")
        .header("content-length", len)
        .body(())
        .expect("request")
}

/// A raw server: reads the request head off the next connection and answers
/// 413 (`connection: close`) without reading the body. The socket, to hold
/// or to close.
async fn answer_413_after_the_head<N: Net>(listener: &N::Listener) -> N::Stream {
    let mut socket = N::accept(listener).await;
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

/// Sends block 0 until `total` bytes are offered or sending stops; the
/// bytes offered.
async fn offer_until_stopped<IO>(conn: &ClientConnection<IO>, total: usize) -> usize
where
    IO: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    let mut offered = 0;
    while offered < total && !conn.is_sending_stopped() {
        conn.send_data(block(0)).await.expect("send_data");
        offered += BLOCK;
    }
    offered
}

/// Reads the response body, checking it against the test stream; the bytes
/// read.
async fn read_checked<IO>(conn: &ClientConnection<IO>) -> usize
where
    IO: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    let mut checker = Checker::default();
    while let Some(chunk) = conn.read_body().await.expect("body") {
        checker.check(&chunk);
    }
    checker.at
}

/// Streams the request body back as it arrives, one task.
async fn stream_back<IO>(_req: Request<()>, conn: ServerConnection<IO>) -> Result<(), Error>
where
    IO: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin,
{
    conn.send_response(Response::new(())).await?;
    while let Some(chunk) = conn.read_body().await? {
        conn.send_data(chunk).await?;
    }
    conn.send_end().await
}

async fn one_task_each_side_streams_both_ways<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async { serve(N::accept(&listener).await, h1::Config::default(), stream_back).await };
    let client = async {
        let conn = ClientConnection::new(N::connect(addr).await);
        conn.send_request(chunked_post("/echo")).await.expect("head");
        let sent = AtomicUsize::new(0);
        let upload = async {
            for n in 0..MANY_BLOCKS {
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
        let ((), (sent_at_head, received)) = zip(upload, download).await;
        assert_eq!(received, BLOCK * MANY_BLOCKS);
        assert!(
            sent_at_head < BLOCK * MANY_BLOCKS,
            "the response came during the upload"
        );
        assert!(conn.is_reusable());
    };
    let (served, ()) = zip(server, client).await;
    assert!(served.is_ok(), "{served:?}");
}

async fn two_tasks_each_side_stream_both_ways<N: Net>() {
    let (listener, addr) = N::bind().await;
    let (socket, client_socket) = zip(N::accept(&listener), N::connect(addr)).await;
    let server = {
        N::spawn(serve(socket, h1::Config::default(), async |_req, conn| {
            let mut body = conn.body_receiver();
            let reader = N::spawn(async move {
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
            let received = reader.await?;
            let mut trailers = HeaderMap::new();
            trailers.insert("x-received", received.into());
            conn.send_trailers(trailers).await
        }))
    };
    let conn = ClientConnection::new(client_socket);
    conn.send_request(chunked_post("/both")).await.expect("head");
    let sender = conn.body_sender();
    let uploaded = Arc::new(AtomicUsize::new(0));
    let upload = N::spawn({
        let uploaded = Arc::clone(&uploaded);
        async move {
            for n in 0..MANY_BLOCKS {
                sender.send_data(block(n)).await?;
                uploaded.fetch_add(BLOCK, Ordering::SeqCst);
            }
            sender.send_end().await
        }
    });
    let res = conn.read_response().await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        uploaded.load(Ordering::SeqCst) < BLOCK * MANY_BLOCKS,
        "the response came during the upload"
    );
    assert_eq!(read_checked(&conn).await, BLOCK * BLOCKS);
    upload.await.expect("upload");
    let trailers = conn.trailers().expect("a header map").expect("trailers");
    assert_eq!(trailers["x-received"], (BLOCK * MANY_BLOCKS).to_string().as_str());
    drop(conn);
    let served = server.await;
    assert!(served.is_ok(), "{served:?}");
}

async fn early_final_response_stops_the_upload<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        serve(
            N::accept(&listener).await,
            h1::Config::default(),
            async |_req, conn| {
                let res = Response::builder()
                    .status(413)
                    .header("connection", "close")
                    .body(())
                    .expect("413");
                conn.send_full(res, "too big\n".into()).await
            },
        )
        .await
    };
    let client = async {
        let conn = ClientConnection::new(N::connect(addr).await);
        let total = 64 * 1024 * 1024;
        conn.send_request(put_big(total)).await.expect("head");
        let offered = offer_until_stopped(&conn, total).await;
        assert!(conn.is_sending_stopped());
        assert!(offered < total, "stopped early: {offered}");
        conn.send_end().await.expect("end");
        let res = conn.read_response().await.expect("the early response");
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = conn.read_body().await.expect("body").expect("chunk");
        assert_eq!(&body[..], b"too big\n");
    };
    let (served, ()) = zip(server, client).await;
    assert!(served.is_ok(), "{served:?}");
}

async fn early_response_then_reset_still_reaches_the_client<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let socket = answer_413_after_the_head::<N>(&listener).await;
        sleep(50).await;
        // Closing with unread data resets the connection.
        drop(socket);
    };
    let client = async {
        let conn = ClientConnection::new(N::connect(addr).await);
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
        let body = conn.read_body().await.expect("body").expect("chunk");
        assert_eq!(&body[..], b"nope");
    };
    zip(server, client).await;
}

/// The server answers 413 and stops reading, without closing: the upload
/// is stuck in a write and still sees the answer.
async fn early_response_while_the_server_stops_reading<N: Net>() {
    let (listener, addr) = N::bind().await;
    let server = async {
        let socket = answer_413_after_the_head::<N>(&listener).await;
        sleep(3000).await;
        socket
    };
    let client = async {
        let conn = ClientConnection::new(N::connect(addr).await);
        let total = 1024 * BLOCK;
        conn.send_request(put_big(total)).await.expect("head");
        let started = Instant::now();
        offer_until_stopped(&conn, total).await;
        assert!(conn.is_sending_stopped());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let res = conn.read_response().await.expect("the 413");
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    };
    zip(server, client).await;
}

async fn write_deadline_closes_a_peer_that_never_reads<N: Net>() {
    let (listener, addr) = N::bind().await;
    let deadline = Duration::from_millis(300);
    let server = async {
        let mut config = h1::Config::default();
        config.timeouts.write = Some(deadline);
        let started = Instant::now();
        let served = serve(N::accept(&listener).await, config, async |_req, conn| {
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
        let mut raw = N::connect(addr).await;
        raw.write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .expect("request");
        sleep(2000).await;
        raw
    };
    let ((served, after), _raw) = zip(server, client).await;
    match served {
        Err(Error::Timeout(Deadline::Write)) => {}
        other => panic!("expected the write deadline, got {other:?}"),
    }
    assert!(
        after >= deadline && after < deadline + Duration::from_millis(1500),
        "{after:?}"
    );
}
