//! Faults and load for h1-tokio over loopback (127.0.0.1):
//!
//! 1. 500 concurrent keep-alive clients, a tenth of them aborting mid-body
//!    (by FIN or by RST), every other response checked byte for byte;
//! 2. 200 connections dribbling a head one byte per second, closed by the
//!    head-read timeout while a normal client keeps its latency;
//! 3. a peer that pipelines requests for large responses and never reads:
//!    the server stops reading instead of queueing responses;
//! 4. the heap held by each idle keep-alive connection (10,000 of them, or
//!    as many as the fd limit allows), and by one with a partial head;
//! 5. a client vanishing right after a 101, and a CONNECT tunnel whose
//!    target closes first.
//!
//! Every server connection task holds a guard on a live counter; each
//! scenario ends by waiting (bounded) for it to return to 0. Every loop is
//! bounded in count and every wait in time. The scenarios run one at a
//! time (a lock): they load the machine, and one of them counts the heap.

// The counting global allocator below needs `unsafe impl GlobalAlloc`, and
// raising the fd limit calls libc; test-only code, each use explained.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h1::http::{header, Method, Request, Response};
use h1::Config;
use h1_tokio::{serve, Error, Parts, Served, ServerConnection};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Barrier;
use tokio::time::{sleep, timeout};

type Conn = ServerConnection<TcpStream>;

/// A fixed `date`, so that responses can be compared byte for byte.
const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
/// Generous margin for timing on a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(1500);
/// Longest wait for a single socket read in the clients.
const READ_LIMIT: Duration = Duration::from_secs(15);

// ---- the counting allocator --------------------------------------------------

/// Heap bytes currently allocated by the whole test binary.
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

/// `System`, counting the bytes it hands out and takes back.
struct Counting;

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds the `GlobalAlloc` contract; the only addition is an update of an
// atomic counter, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract; forwarded as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc_zeroed`'s contract; forwarded as is.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator (so from `System`) with
        // `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract; forwarded as is.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_bytes() -> isize {
    LIVE_BYTES.load(Ordering::SeqCst)
}

/// The process's resident set size in bytes (`VmRSS`).
fn rss() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        .map_or(0, |kb| kb * 1024)
}

// ---- harness -------------------------------------------------------------------

/// One scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs `scenario` on a fresh 2-worker runtime, alone, within `limit`.
fn run<F: Future<Output = ()>>(limit: Duration, scenario: F) {
    let _serial = serial();
    runtime().block_on(async {
        timeout(limit, scenario)
            .await
            .unwrap_or_else(|_| panic!("scenario did not finish within {limit:?}"))
    });
}

/// Counts itself in a live counter while it exists.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn enter(counter: &Arc<AtomicUsize>) -> Live {
        counter.fetch_add(1, Ordering::SeqCst);
        Live(Arc::clone(counter))
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A connection task with its [`Live`] guard. Not an `async` block that
/// captures the task and awaits it: that would lay the task's future out
/// twice (captured, and being awaited), doubling what the idle-connection
/// measurement sees.
struct Guarded<F> {
    task: Pin<Box<F>>,
    _guard: Live,
}

impl<F: Future> Future for Guarded<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.task.as_mut().poll(cx)
    }
}

/// A listener on 127.0.0.1 whose connections each run in their own task,
/// holding a [`Live`] guard on `live` for as long as the task runs.
struct Server {
    addr: SocketAddr,
    live: Arc<AtomicUsize>,
    accept_errors: Arc<AtomicUsize>,
    accept: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start<F, Fut>(conn: F) -> Server
    where
        F: Fn(TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        // A backlog of 1024, not the default 128: hundreds of clients
        // connect at once, and an overflowing accept queue drops SYNs
        // (retried after a second).
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind(([127, 0, 0, 1], 0).into()).expect("bind");
        let listener = socket.listen(1024).expect("listen");
        let addr = listener.local_addr().expect("local addr");
        let live = Arc::new(AtomicUsize::new(0));
        let accept_errors = Arc::new(AtomicUsize::new(0));
        let accept = tokio::spawn({
            let live = Arc::clone(&live);
            let accept_errors = Arc::clone(&accept_errors);
            async move {
                // Ends when the server is dropped (the task is aborted).
                loop {
                    match listener.accept().await {
                        Ok((socket, _)) => {
                            let guard = Live::enter(&live);
                            tokio::spawn(Guarded {
                                task: Box::pin(conn(socket)),
                                _guard: guard,
                            });
                        }
                        Err(_) => {
                            accept_errors.fetch_add(1, Ordering::SeqCst);
                            sleep(Duration::from_millis(5)).await;
                        }
                    }
                }
            }
        });
        Server {
            addr,
            live,
            accept_errors,
            accept,
        }
    }

    /// Waits until exactly `n` connection tasks are alive.
    async fn wait_live(&self, n: usize, limit: Duration) {
        wait_count(&self.live, n, limit, "live server connection tasks").await;
        assert_eq!(self.accept_errors.load(Ordering::SeqCst), 0, "accept errors");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Waits until `counter` reads `n`, failing after `limit`.
async fn wait_count(counter: &AtomicUsize, n: usize, limit: Duration, what: &str) {
    let start = Instant::now();
    loop {
        let now = counter.load(Ordering::SeqCst);
        if now == n {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: {now}, expected {n} within {limit:?}"
        );
        sleep(Duration::from_millis(10)).await;
    }
}

/// How served connections ended.
#[derive(Default)]
struct Outcomes {
    closed: AtomicUsize,
    failed: AtomicUsize,
    upgraded: AtomicUsize,
}

impl Outcomes {
    fn record<T>(&self, served: &Result<Served<TcpStream, T>, Error>) {
        let counter = match served {
            Ok(Served::Closed) => &self.closed,
            Ok(Served::Upgraded { .. }) => &self.upgraded,
            Err(_) => &self.failed,
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }

    fn get(&self) -> (usize, usize, usize) {
        (
            self.closed.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst),
            self.upgraded.load(Ordering::SeqCst),
        )
    }
}

/// Deterministic test bytes (every byte value occurs).
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + seed * 7) % 256) as u8).collect()
}

/// Sets SO_LINGER to 0, so that dropping the socket sends RST.
fn linger_zero(socket: &TcpStream) {
    socket2::SockRef::from(socket)
        .set_linger(Some(Duration::ZERO))
        .expect("SO_LINGER 0");
}

/// Reads exactly `n` bytes (bounded in time).
async fn read_n(io: &mut (impl AsyncRead + Unpin), n: usize, what: &str) -> Vec<u8> {
    let mut out = vec![0; n];
    timeout(READ_LIMIT, io.read_exact(&mut out))
        .await
        .unwrap_or_else(|_| panic!("{what}: no {n} bytes within {READ_LIMIT:?}"))
        .unwrap_or_else(|e| panic!("{what}: reading {n} bytes: {e}"));
    out
}

/// Everything until EOF (bounded in time and size); `Err` on a read error.
async fn read_to_eof(io: &mut (impl AsyncRead + Unpin), what: &str) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    for _ in 0..1024 {
        let n = timeout(READ_LIMIT, io.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{what}: no EOF within {READ_LIMIT:?}"))?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
    panic!("{what}: more than 4 MiB before EOF");
}

/// Compares bytes, reporting the first difference instead of both buffers.
fn check_bytes(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let at = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        let lo = at.saturating_sub(40);
        panic!(
            "{what}: {} bytes, expected {}; first difference at {at}: got {:?}, want {:?}",
            got.len(),
            want.len(),
            String::from_utf8_lossy(&got[lo..(at + 40).min(got.len())]),
            String::from_utf8_lossy(&want[lo..(at + 40).min(want.len())]),
        );
    }
}

/// The `p`th percentile (0..=100) of `samples`.
fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

// ---- handlers and the bytes they produce ------------------------------------------

/// Answers with the request body: Content-Length framed when the request
/// was, one chunk (then the last chunk) otherwise; the fixed date.
async fn echo(req: Request<()>, conn: Conn) -> Result<(), Error> {
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    let mut body = Vec::new();
    while let Some(chunk) = conn.read_body().await? {
        body.extend_from_slice(&chunk);
    }
    let res = Response::builder().header(header::DATE, DATE);
    let res = if chunked {
        res.header(header::TRANSFER_ENCODING, "chunked")
    } else {
        res.header(header::CONTENT_LENGTH, body.len())
    };
    conn.send_response(res.body(()).expect("response")).await?;
    if !body.is_empty() {
        conn.send_data(body.into()).await?;
    }
    conn.send_end().await
}

/// What [`echo`] sends for `body`.
fn echo_response(body: &[u8], chunked: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 200 OK\r\ndate: {DATE}\r\n").into_bytes();
    if chunked {
        out.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
        if !body.is_empty() {
            out.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    }
    out
}

/// A request carrying `body`: its head, and its body as sent (chunked in
/// pieces of at most 1000 bytes, or as is).
fn echo_request(path: &str, body: &[u8], chunked: bool) -> (Vec<u8>, Vec<u8>) {
    if chunked {
        let head = format!("POST {path} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
        let mut wire = Vec::new();
        for piece in body.chunks(1000) {
            wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            wire.extend_from_slice(piece);
            wire.extend_from_slice(b"\r\n");
        }
        wire.extend_from_slice(b"0\r\n\r\n");
        (head.into_bytes(), wire)
    } else {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        (head.into_bytes(), body.to_vec())
    }
}

/// Answers `hello` with the fixed date.
async fn hello(_req: Request<()>, conn: Conn) -> Result<(), Error> {
    let res = Response::builder()
        .header(header::DATE, DATE)
        .header(header::CONTENT_LENGTH, 5)
        .body(())
        .expect("response");
    conn.send_response(res).await?;
    conn.send_data(Bytes::from_static(b"hello")).await?;
    conn.send_end().await
}

const HELLO_REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";

fn hello_response() -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ndate: {DATE}\r\ncontent-length: 5\r\n\r\nhello").into_bytes()
}

/// One request on a kept-alive connection; its latency.
async fn timed_hello(io: &mut TcpStream, what: &str) -> Duration {
    let started = Instant::now();
    io.write_all(HELLO_REQUEST).await.expect("write");
    let want = hello_response();
    let got = read_n(io, want.len(), what).await;
    let took = started.elapsed();
    check_bytes(&got, &want, what);
    took
}

// ---- 1. many clients, some aborting mid-body -----------------------------------------

const CLIENTS: usize = 500;
const REQUESTS: usize = 4;
const SIZES: [usize; 8] = [0, 1, 17, 700, 1000, 4096, 9000, 30_000];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Abort {
    Fin,
    Rst,
}

/// One client in ten aborts mid-body: half by FIN, half by RST.
fn abort_of(id: usize) -> Option<Abort> {
    match id % 20 {
        3 => Some(Abort::Fin),
        13 => Some(Abort::Rst),
        _ => None,
    }
}

/// A keep-alive client: [`REQUESTS`] echo requests (both framings, sizes
/// from [`SIZES`]), each response checked byte for byte; or, for an
/// aborting client, fewer complete requests and then half a body.
/// Returns the number of responses checked.
async fn keep_alive_client(addr: SocketAddr, id: usize, start: Arc<Barrier>) -> usize {
    let mut io = TcpStream::connect(addr).await.expect("connect");
    start.wait().await;
    let abort = abort_of(id);
    let complete = if abort.is_some() { id / 20 % 3 } else { REQUESTS };
    for k in 0..complete {
        let chunked = (id + k) % 2 == 1;
        let body = pattern(SIZES[(id * 3 + k * 5) % SIZES.len()], id * 8 + k);
        let (head, wire) = echo_request(&format!("/c{id}/r{k}"), &body, chunked);
        io.write_all(&head).await.expect("write head");
        io.write_all(&wire).await.expect("write body");
        let want = echo_response(&body, chunked);
        let what = format!("client {id} request {k}");
        let got = read_n(&mut io, want.len(), &what).await;
        check_bytes(&got, &want, &what);
    }
    let Some(abort) = abort else {
        io.shutdown().await.expect("shutdown");
        let rest = read_to_eof(&mut io, "after the last response")
            .await
            .expect("read to EOF");
        assert!(
            rest.is_empty(),
            "client {id}: bytes after the last response: {:?}",
            String::from_utf8_lossy(&rest)
        );
        return complete;
    };
    // Half a body: 5000 of 20000 bytes, by either framing.
    let body = pattern(5000, id);
    let head = if id % 40 < 20 {
        format!("POST /abort{id} HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\n\r\n")
    } else {
        format!("POST /abort{id} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4e20\r\n")
    };
    io.write_all(head.as_bytes()).await.expect("write head");
    io.write_all(&body).await.expect("write part of the body");
    sleep(Duration::from_millis(20)).await;
    match abort {
        Abort::Fin => {
            io.shutdown().await.expect("shutdown");
            // The server gives up on the body: a 400, then EOF.
            let rest = read_to_eof(&mut io, "after a FIN mid-body")
                .await
                .expect("read to EOF");
            let text = String::from_utf8_lossy(&rest);
            assert!(
                without_date(&text)
                    == "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                "client {id}: after a FIN mid-body: {text:?}"
            );
        }
        Abort::Rst => {
            linger_zero(&io);
            drop(io);
        }
    }
    complete
}

#[test]
fn many_keep_alive_clients_with_aborts_mid_body() {
    run(Duration::from_secs(60), async {
        let outcomes = Arc::new(Outcomes::default());
        let server = Server::start({
            let outcomes = Arc::clone(&outcomes);
            move |socket| {
                let outcomes = Arc::clone(&outcomes);
                async move {
                    let served = serve(socket, Config::default(), echo).await;
                    outcomes.record(&served);
                }
            }
        })
        .await;
        let started = Instant::now();
        let start = Arc::new(Barrier::new(CLIENTS + 1));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|id| tokio::spawn(keep_alive_client(server.addr, id, Arc::clone(&start))))
            .collect();
        // All 500 are connected (and each has its server task) at once.
        server.wait_live(CLIENTS, Duration::from_secs(20)).await;
        start.wait().await;
        let mut checked = 0;
        for client in clients {
            checked += client.await.expect("client task");
        }
        let aborted = (0..CLIENTS).filter(|&id| abort_of(id).is_some()).count();
        assert_eq!(aborted, CLIENTS / 10);
        let elapsed = started.elapsed();

        // The server still answers a fresh client.
        let mut fresh = TcpStream::connect(server.addr).await.expect("connect");
        let body = pattern(3000, 99);
        let (head, wire) = echo_request("/fresh", &body, true);
        fresh.write_all(&head).await.expect("write");
        fresh.write_all(&wire).await.expect("write");
        let want = echo_response(&body, true);
        let got = read_n(&mut fresh, want.len(), "fresh client").await;
        check_bytes(&got, &want, "fresh client");
        drop(fresh);

        server.wait_live(0, Duration::from_secs(10)).await;
        let (closed, failed, upgraded) = outcomes.get();
        eprintln!(
            "faults: {CLIENTS} clients ({aborted} aborted mid-body), {checked} responses \
             checked byte for byte in {elapsed:?}; served: {closed} closed, {failed} failed"
        );
        assert_eq!(upgraded, 0);
        assert_eq!(closed, CLIENTS - aborted + 1, "connections that ended cleanly");
        assert_eq!(failed, aborted, "connections that ended with an error");
    });
}

// ---- 2. dribbled heads against the head-read timeout -----------------------------------

const DRIBBLERS: usize = 200;
const HEAD_READ: Duration = Duration::from_secs(1);

/// How a dribbling connection ended.
#[derive(Debug)]
struct Dribbled {
    /// Since just before connecting.
    after: Duration,
    received: Vec<u8>,
    end: Result<(), String>,
}

/// Sends a head one byte per second (first at 0.5 s, away from the
/// timeout's second boundaries) while reading, until EOF.
async fn dribble(addr: SocketAddr) -> Dribbled {
    let head = b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n";
    let started = Instant::now();
    let mut io = TcpStream::connect(addr).await.expect("connect");
    let (mut reader, mut writer) = io.split();
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::from_std(started) + Duration::from_millis(500),
        Duration::from_secs(1),
    );
    let give_up = sleep(HEAD_READ + SLACK + Duration::from_secs(5));
    tokio::pin!(give_up);
    let mut sent = 0;
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    // At most one turn per byte sent or read, and per second.
    for _ in 0..10_000 {
        tokio::select! {
            _ = tick.tick(), if sent < head.len() => {
                if let Err(e) = writer.write_all(&head[sent..sent + 1]).await {
                    let end = Err(format!("write: {e}"));
                    return Dribbled { after: started.elapsed(), received, end };
                }
                sent += 1;
            }
            read = reader.read(&mut buf) => {
                let end = match read {
                    Ok(0) => Ok(()),
                    Ok(n) => {
                        received.extend_from_slice(&buf[..n]);
                        continue;
                    }
                    Err(e) => Err(format!("read: {e}")),
                };
                return Dribbled { after: started.elapsed(), received, end };
            }
            () = &mut give_up => {
                let end = Err("still open".to_string());
                return Dribbled { after: started.elapsed(), received, end };
            }
        }
    }
    panic!("dribbler: too many turns");
}

#[test]
fn dribbled_heads_time_out_while_normal_clients_are_served() {
    run(Duration::from_secs(40), async {
        let mut config = Config::default();
        config.timeouts.head_read = Some(HEAD_READ);
        let server = Server::start(move |socket| {
            let config = config.clone();
            async move {
                let _ = serve(socket, config, hello).await;
            }
        })
        .await;
        let mut normal = TcpStream::connect(server.addr).await.expect("connect");
        let mut before = Vec::new();
        for i in 0..200 {
            before.push(timed_hello(&mut normal, &format!("before, request {i}")).await);
            sleep(Duration::from_millis(2)).await;
        }

        let done = Arc::new(AtomicUsize::new(0));
        let addr = server.addr;
        let dribblers: Vec<_> = (0..DRIBBLERS)
            .map(|_| {
                let done = Arc::clone(&done);
                tokio::spawn(async move {
                    let dribbled = dribble(addr).await;
                    done.fetch_add(1, Ordering::SeqCst);
                    dribbled
                })
            })
            .collect();
        // Normal requests while any dribbler is still open.
        server.wait_live(DRIBBLERS + 1, Duration::from_secs(10)).await;
        let mut during = Vec::new();
        for i in 0..100_000 {
            if done.load(Ordering::SeqCst) == DRIBBLERS {
                break;
            }
            during.push(timed_hello(&mut normal, &format!("during, request {i}")).await);
            sleep(Duration::from_millis(2)).await;
        }
        let mut ends = Vec::new();
        for dribbler in dribblers {
            ends.push(dribbler.await.expect("dribbler task"));
        }
        drop(normal);
        server.wait_live(0, Duration::from_secs(10)).await;

        let timeout_response =
            "HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        let mut with_408 = 0;
        for (i, end) in ends.iter().enumerate() {
            assert_eq!(end.end, Ok(()), "dribbler {i}: {end:?}");
            let text = String::from_utf8_lossy(&end.received);
            assert!(
                text.is_empty() || without_date(&text) == timeout_response,
                "dribbler {i} received {text:?}"
            );
            with_408 += usize::from(!text.is_empty());
            assert!(
                end.after >= HEAD_READ - Duration::from_millis(50),
                "dribbler {i} closed early: {:?}",
                end.after
            );
            assert!(
                end.after <= HEAD_READ + SLACK,
                "dribbler {i} closed late: {:?}",
                end.after
            );
        }
        let closed_at: Vec<Duration> = ends.iter().map(|e| e.after).collect();
        let (p50_before, p99_before) = (percentile(&before, 50), percentile(&before, 99));
        let (p50_during, p99_during) = (percentile(&during, 50), percentile(&during, 99));
        eprintln!(
            "faults: {DRIBBLERS} dribblers closed after {:?}..{:?} (head_read {HEAD_READ:?}), \
             {with_408} with a 408; normal latency before: p50 {p50_before:?} p99 {p99_before:?} \
             ({} requests), during: p50 {p50_during:?} p99 {p99_during:?} ({} requests)",
            closed_at.iter().min().expect("dribblers"),
            closed_at.iter().max().expect("dribblers"),
            before.len(),
            during.len(),
        );
        assert!(
            during.len() >= 20,
            "only {} requests during the dribble",
            during.len()
        );
        assert!(
            p99_during < Duration::from_millis(500),
            "p99 latency during the dribble: {p99_during:?}"
        );
    });
}

// ---- 3. a peer that never reads --------------------------------------------------------

/// Size of each response the never-reading peer asks for.
const BIG: usize = 64 * 1024;
/// Requests written per write call.
const BATCH: usize = 16;
/// Most requests the never-reading peer writes.
const MAX_PIPELINED: usize = 50_000;

/// A pipelined request, padded to about 4 KiB so that the peer's writes
/// fill the socket buffers quickly.
fn padded_request() -> Vec<u8> {
    format!(
        "GET /big HTTP/1.1\r\nHost: a\r\nx-pad: {}\r\n\r\n",
        "p".repeat(4000)
    )
    .into_bytes()
}

/// Requests seen by [`big`] (one scenario runs at a time).
static SEEN: AtomicUsize = AtomicUsize::new(0);

/// Answers with [`BIG`] bytes, counting the requests in [`SEEN`].
async fn big(_req: Request<()>, conn: Conn) -> Result<(), Error> {
    SEEN.fetch_add(1, Ordering::SeqCst);
    let res = Response::builder()
        .header(header::CONTENT_LENGTH, BIG)
        .body(())
        .expect("response");
    conn.send_response(res).await?;
    // A fresh allocation each time: queued responses would show on the heap.
    conn.send_data(Bytes::from(vec![b'x'; BIG])).await?;
    conn.send_end().await
}

/// Waits until `counter` stays put for `quiet`, at most `limit`; its value.
async fn settled(counter: &AtomicUsize, quiet: Duration, limit: Duration) -> usize {
    let start = Instant::now();
    let mut last = counter.load(Ordering::SeqCst);
    let mut since = Instant::now();
    while start.elapsed() < limit {
        sleep(Duration::from_millis(50)).await;
        let now = counter.load(Ordering::SeqCst);
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return now;
        }
    }
    panic!("counter still moving after {limit:?}: {last}");
}

#[test]
fn a_peer_that_never_reads_stops_the_server_reading() {
    run(Duration::from_secs(60), async {
        SEEN.store(0, Ordering::SeqCst);
        let server = Server::start(|socket| async move {
            let _ = serve(socket, Config::default(), big).await;
        })
        .await;
        let heap_before = live_bytes();
        let mut io = TcpStream::connect(server.addr).await.expect("connect");
        let batch = padded_request().repeat(BATCH);
        let started = Instant::now();
        let mut sent = 0;
        let mut blocked = false;
        while sent < MAX_PIPELINED {
            match timeout(Duration::from_secs(2), io.write_all(&batch)).await {
                Ok(Ok(())) => sent += BATCH,
                Ok(Err(e)) => panic!("write after {sent} requests: {e}"),
                Err(_) => {
                    blocked = true;
                    break;
                }
            }
        }
        let blocked_after = started.elapsed();
        assert!(
            blocked,
            "all {sent} requests were written: the server kept reading"
        );
        let handled = settled(&SEEN, Duration::from_secs(1), Duration::from_secs(15)).await;
        let heap = live_bytes() - heap_before;
        eprintln!(
            "faults: never-reading peer: writes blocked after {sent} requests ({} KiB, {blocked_after:?}); \
             the handler saw {handled} requests ({} KiB of responses); heap growth {} KiB",
            sent * batch.len() / BATCH / 1024,
            handled * BIG / 1024,
            heap / 1024
        );
        assert!(handled < 1000, "the handler saw {handled} requests");
        assert!(
            handled * 4 < sent,
            "the handler saw {handled} of {sent} requests: the server kept reading"
        );
        assert!(heap < 16 << 20, "heap grew by {heap} bytes");

        // Cleanup: the peer goes away with unread data (RST); the blocked
        // write fails and the connection task ends.
        linger_zero(&io);
        drop(io);
        server.wait_live(0, Duration::from_secs(10)).await;
    });
}

// ---- 4. memory of idle connections -------------------------------------------------------

/// Idle connections wanted.
const IDLE: usize = 10_000;
/// Connections left with a partial head.
const PARTIAL: usize = 100;

/// Raises the soft fd limit towards `want` (at most to the hard limit);
/// returns the soft limit in force.
fn raise_fd_limit(want: u64) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    if limit.rlim_cur >= want {
        return limit.rlim_cur;
    }
    let raised = libc::rlimit {
        rlim_cur: want.min(limit.rlim_max),
        rlim_max: limit.rlim_max,
    };
    // SAFETY: `raised` is a valid `rlimit`; a soft limit up to the hard
    // limit is always allowed (the call fails cleanly otherwise).
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        raised.rlim_cur
    } else {
        limit.rlim_cur
    }
}

/// Opens `n` connections from 4 blocking threads; each makes one request
/// and reads its response, then stays open.
fn open_idle(addr: SocketAddr, n: usize) -> Vec<std::net::TcpStream> {
    let want = hello_response();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let want = &want;
                scope.spawn(move || {
                    let count = n / 4 + usize::from(t < n % 4);
                    let mut out = Vec::with_capacity(count);
                    for i in 0..count {
                        let mut io = std::net::TcpStream::connect(addr).expect("connect");
                        io.set_read_timeout(Some(READ_LIMIT)).expect("read timeout");
                        io.write_all(HELLO_REQUEST).expect("write");
                        let mut got = vec![0; want.len()];
                        io.read_exact(&mut got).expect("read response");
                        check_bytes(&got, want, &format!("idle connection {t}/{i}"));
                        out.push(io);
                    }
                    out
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("client thread"))
            .collect()
    })
}

#[test]
fn idle_keep_alive_connections_memory() {
    let _serial = serial();
    let limit = raise_fd_limit(2 * (IDLE + PARTIAL) as u64 + 256);
    let n = IDLE.min((limit.saturating_sub(256) / 2) as usize - PARTIAL);
    if n < 1000 {
        eprintln!("faults: SKIPPED idle connections: the fd limit is {limit}");
        return;
    }
    if n < IDLE {
        eprintln!(
            "faults: the fd limit is {limit} (hard limit reached): {n} idle connections instead of {IDLE}"
        );
    }
    let rt = runtime();
    let mut config = Config::default();
    config.timeouts.keep_alive = Some(Duration::from_secs(300));
    config.timeouts.head_read = Some(Duration::from_secs(300));
    let server = rt.block_on(Server::start(move |socket| {
        let config = config.clone();
        async move {
            let _ = serve(socket, config, hello).await;
        }
    }));
    let started = Instant::now();
    // Warm-up: the runtime's and the timer wheel's first allocations.
    drop(open_idle(server.addr, 500));
    rt.block_on(server.wait_live(0, Duration::from_secs(20)));
    let settle = || std::thread::sleep(Duration::from_millis(500));

    let mut clients: Vec<std::net::TcpStream> = Vec::with_capacity(n + PARTIAL);
    settle();
    let (heap0, rss0) = (live_bytes(), rss());
    clients.extend(open_idle(server.addr, n));
    rt.block_on(server.wait_live(n, Duration::from_secs(30)));
    settle();
    let (heap1, rss1) = (live_bytes(), rss());

    // Connections with about 1 KiB of a head buffered.
    let partial = format!("GET /partial HTTP/1.1\r\nHost: a\r\nx-pad: {}", "p".repeat(1000));
    for _ in 0..PARTIAL {
        let mut io = std::net::TcpStream::connect(server.addr).expect("connect");
        io.write_all(partial.as_bytes()).expect("write");
        clients.push(io);
    }
    rt.block_on(server.wait_live(n + PARTIAL, Duration::from_secs(10)));
    settle();
    let (heap2, rss2) = (live_bytes(), rss());

    let per_idle = (heap1 - heap0) / n as isize;
    let rss_per_idle = (rss1 - rss0) / n as i64;
    let per_partial = (heap2 - heap1) / PARTIAL as isize;
    let rss_per_partial = (rss2 - rss1) / PARTIAL as i64;

    drop(clients);
    rt.block_on(server.wait_live(0, Duration::from_secs(30)));
    settle();
    let leftover = live_bytes() - heap0;
    let report = format!(
        "h1-tokio idle keep-alive connections: {n}\n\
         heap per idle connection: {per_idle} bytes (RSS: {rss_per_idle} bytes)\n\
         heap per connection with a partial head ({} bytes buffered): {per_partial} bytes \
         (RSS: {rss_per_partial} bytes)\n\
         heap left after all closed: {leftover} bytes\n\
         elapsed: {:?}\n",
        partial.len(),
        started.elapsed()
    );
    eprint!("faults: {report}");
    let _ = std::fs::write(
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("h1-tokio-idle-memory.txt"),
        &report,
    );
    assert!(per_idle > 0, "no heap per idle connection? {per_idle}");
    assert!(per_idle < 64 * 1024, "{per_idle} bytes per idle connection");
    assert!(
        per_partial < 64 * 1024,
        "{per_partial} bytes per connection with a partial head"
    );
    assert!(
        leftover < 1 << 20,
        "{leftover} bytes still allocated after all connections closed"
    );
}

// ---- 5. upgrades and tunnels whose peers vanish --------------------------------------------

/// Switches protocols: a 101 to an upgrade request, a 200 to CONNECT; the
/// request is handed back with the socket.
async fn switch(req: Request<()>, conn: Conn) -> Result<Request<()>, Error> {
    let res = if req.method() == Method::CONNECT {
        Response::builder().header(header::DATE, DATE)
    } else {
        Response::builder()
            .status(101)
            .header(header::DATE, DATE)
            .header(header::UPGRADE, "foo")
            .header(header::CONNECTION, "upgrade")
    };
    conn.send_response(res.body(()).expect("response")).await?;
    Ok(req)
}

const UPGRADE_REQUEST: &[u8] = b"GET /up HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n";

fn switching_response() -> String {
    format!("HTTP/1.1 101 Switching Protocols\r\ndate: {DATE}\r\nupgrade: foo\r\nconnection: upgrade\r\n\r\n")
}

/// How upgraded connections ended on the server.
#[derive(Default)]
struct Drained {
    eof: AtomicUsize,
    error: AtomicUsize,
    stuck: AtomicUsize,
}

/// Reads the upgraded connection until EOF or an error (the client is
/// gone), at most 10 s per read.
async fn drain(parts: Parts<TcpStream>, drained: &Drained) {
    let mut io = parts.into_upgraded();
    let mut buf = [0u8; 1024];
    for _ in 0..1000 {
        match timeout(Duration::from_secs(10), io.read(&mut buf)).await {
            Ok(Ok(0)) => {
                drained.eof.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Ok(Ok(_)) => {}
            Ok(Err(_)) => {
                drained.error.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Err(_) => break,
        }
    }
    drained.stuck.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn client_vanishing_after_101_ends_the_upgraded_task() {
    const UPGRADES: usize = 30;
    run(Duration::from_secs(30), async {
        let outcomes = Arc::new(Outcomes::default());
        let drained = Arc::new(Drained::default());
        let server = Server::start({
            let (outcomes, drained) = (Arc::clone(&outcomes), Arc::clone(&drained));
            move |socket| {
                let (outcomes, drained) = (Arc::clone(&outcomes), Arc::clone(&drained));
                async move {
                    let served = serve(socket, Config::default(), switch).await;
                    outcomes.record(&served);
                    if let Ok(Served::Upgraded { parts, .. }) = served {
                        drain(parts, &drained).await;
                    }
                }
            }
        })
        .await;
        let addr = server.addr;
        let clients: Vec<_> = (0..UPGRADES)
            .map(|i| {
                tokio::spawn(async move {
                    let mut io = TcpStream::connect(addr).await.expect("connect");
                    io.write_all(UPGRADE_REQUEST).await.expect("write");
                    if i % 3 == 2 {
                        // Gone before the 101 arrives.
                        return;
                    }
                    let want = switching_response();
                    let got = read_n(&mut io, want.len(), "101").await;
                    check_bytes(&got, want.as_bytes(), "101");
                    if i % 3 == 1 {
                        linger_zero(&io);
                    }
                    drop(io);
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client task");
        }
        // Every connection accepted and served (the accept loop may still
        // be behind the clients, which are done), then none left.
        let started = Instant::now();
        while {
            let (closed, failed, upgraded) = outcomes.get();
            closed + failed + upgraded < UPGRADES
        } && started.elapsed() < Duration::from_secs(15)
        {
            sleep(Duration::from_millis(5)).await;
        }
        server.wait_live(0, Duration::from_secs(15)).await;
        let (closed, failed, upgraded) = outcomes.get();
        let (eof, error, stuck) = (
            drained.eof.load(Ordering::SeqCst),
            drained.error.load(Ordering::SeqCst),
            drained.stuck.load(Ordering::SeqCst),
        );
        eprintln!(
            "faults: {UPGRADES} clients vanished around a 101: {upgraded} upgraded ({eof} ended at EOF, \
             {error} with an error, {stuck} stuck), {failed} failed before the switch, {closed} closed"
        );
        assert_eq!(closed + failed + upgraded, UPGRADES);
        assert!(upgraded >= UPGRADES * 2 / 3, "upgraded: {upgraded}");
        assert_eq!(stuck, 0, "upgraded tasks still reading");
        assert_eq!(eof + error, upgraded);
    });
}

/// Carries bytes both ways between the upgraded connection and the target
/// in the CONNECT request; when either side ends, both are dropped.
/// Returns which side ended first.
async fn tunnel(request: &Request<()>, parts: Parts<TcpStream>) -> &'static str {
    let authority = request.uri().authority().expect("CONNECT authority").to_string();
    let Ok(mut target) = TcpStream::connect(authority).await else {
        return "no target";
    };
    let (mut target_read, mut target_write) = target.split();
    let (mut client_read, mut client_write) = tokio::io::split(parts.into_upgraded());
    tokio::select! {
        _ = tokio::io::copy(&mut client_read, &mut target_write) => "client",
        _ = tokio::io::copy(&mut target_read, &mut client_write) => "target",
        () = sleep(Duration::from_secs(10)) => "stuck",
    }
}

#[test]
fn connect_tunnel_whose_target_closes_first_is_torn_down() {
    const TUNNELS: usize = 20;
    run(Duration::from_secs(30), async {
        let target_got = Arc::new(AtomicUsize::new(0));
        let target = Server::start({
            let target_got = Arc::clone(&target_got);
            move |mut socket| {
                let target_got = Arc::clone(&target_got);
                async move {
                    // Reads a little, then closes.
                    let mut buf = [0u8; 5];
                    if let Ok(Ok(_)) = timeout(Duration::from_secs(10), socket.read_exact(&mut buf)).await {
                        if &buf == b"hello" {
                            target_got.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            }
        })
        .await;
        let first = Arc::new(Mutex::new(Vec::new()));
        let proxy = Server::start({
            let first = Arc::clone(&first);
            move |socket| {
                let first = Arc::clone(&first);
                async move {
                    let served = serve(socket, Config::default(), switch).await;
                    let ended = match served {
                        Ok(Served::Upgraded {
                            value: request,
                            parts,
                        }) => tunnel(&request, parts).await,
                        Ok(Served::Closed) => "closed",
                        Err(_) => "failed",
                    };
                    first.lock().unwrap_or_else(PoisonError::into_inner).push(ended);
                }
            }
        })
        .await;
        let (proxy_addr, target_addr) = (proxy.addr, target.addr);
        let clients: Vec<_> = (0..TUNNELS)
            .map(|i| {
                tokio::spawn(async move {
                    let mut io = TcpStream::connect(proxy_addr).await.expect("connect");
                    let connect = format!("CONNECT {target_addr} HTTP/1.1\r\nHost: {target_addr}\r\n\r\n");
                    let want = format!("HTTP/1.1 200 OK\r\ndate: {DATE}\r\n\r\n");
                    if i % 2 == 0 {
                        // The tunnel's first bytes in the same write: leftover.
                        io.write_all(format!("{connect}hello").as_bytes())
                            .await
                            .expect("write");
                        let got = read_n(&mut io, want.len(), "200 to CONNECT").await;
                        check_bytes(&got, want.as_bytes(), "200 to CONNECT");
                    } else {
                        io.write_all(connect.as_bytes()).await.expect("write");
                        let got = read_n(&mut io, want.len(), "200 to CONNECT").await;
                        check_bytes(&got, want.as_bytes(), "200 to CONNECT");
                        io.write_all(b"hello").await.expect("write");
                    }
                    // The target closes: the tunnel ends, the client sees EOF.
                    let rest = read_to_eof(&mut io, "tunnel").await.expect("EOF, not an error");
                    assert!(
                        rest.is_empty(),
                        "tunnel {i}: {:?}",
                        String::from_utf8_lossy(&rest)
                    );
                    // Kept open, to show the server tore the tunnel down itself.
                    io
                })
            })
            .collect();
        let mut open = Vec::new();
        for client in clients {
            open.push(client.await.expect("client task"));
        }
        proxy.wait_live(0, Duration::from_secs(10)).await;
        target.wait_live(0, Duration::from_secs(10)).await;
        let first = first.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let target_first = first.iter().filter(|&&side| side == "target").count();
        eprintln!(
            "faults: {TUNNELS} CONNECT tunnels, target closed first: {target_first} torn down; \
             ends: {first:?}"
        );
        assert_eq!(target_first, TUNNELS, "tunnel ends: {first:?}");
        assert_eq!(
            target_got.load(Ordering::SeqCst),
            TUNNELS,
            "bytes through the tunnels"
        );
        drop(open);
    });
}

/// A response without its `date` line (the server adds the current date).
fn without_date(text: &str) -> String {
    text.split_inclusive("\r\n")
        .filter(|line| !line.starts_with("date: "))
        .collect()
}
