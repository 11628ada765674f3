//! Faults and load for h1-blocking over loopback (127.0.0.1), one server
//! thread per connection:
//!
//! 1. 500 concurrent keep-alive clients (a thread each), a tenth of them
//!    aborting mid-body (by FIN or by RST), every other response checked
//!    byte for byte;
//! 2. 200 connections dribbling a head one byte per second, closed by the
//!    head-read timeout while a normal client keeps its latency;
//! 3. a peer that pipelines requests for large responses and never reads:
//!    the server stops reading instead of queueing responses;
//! 4. a client vanishing right after a 101, and a CONNECT tunnel whose
//!    target closes first.
//!
//! Every server connection thread holds a guard on a live counter; each
//! scenario ends by waiting (bounded) for it to return to 0. Every loop is
//! bounded in count and every socket read and wait in time. The scenarios
//! run one at a time (a lock), since they load the machine.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h1::http::{header, Method, Request, Response};
use h1::Config;
use h1_blocking::{serve, Error, Parts, Served, ServerConnection};

type Conn = ServerConnection<TcpStream>;

/// A fixed `date`, so that responses can be compared byte for byte.
const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
/// Generous margin for timing on a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(1500);
/// Longest wait for a single socket read, in the clients and (as the
/// socket's own read timeout) on the server.
const READ_LIMIT: Duration = Duration::from_secs(15);
/// Stack size of the client threads.
const CLIENT_STACK: usize = 256 * 1024;

// ---- harness -------------------------------------------------------------------

/// One scenario at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
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

/// A listener on 127.0.0.1 (backlog 1024: hundreds of clients connect at
/// once, and an overflowing accept queue drops SYNs, retried after a
/// second) whose connections each run on their own thread, holding a
/// [`Live`] guard on `live` for as long as the thread runs. Each accepted
/// socket has [`READ_LIMIT`] as its read timeout.
struct Server {
    addr: SocketAddr,
    live: Arc<AtomicUsize>,
    accept_errors: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    fn start<F>(conn: F) -> Server
    where
        F: Fn(TcpStream) + Send + Sync + 'static,
    {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
        socket
            .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
            .expect("bind");
        socket.listen(1024).expect("listen");
        let listener: TcpListener = socket.into();
        let addr = listener.local_addr().expect("local addr");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let live = Arc::new(AtomicUsize::new(0));
        let accept_errors = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let conn = Arc::new(conn);
        let accept = thread::spawn({
            let (live, accept_errors, stop) =
                (Arc::clone(&live), Arc::clone(&accept_errors), Arc::clone(&stop));
            move || {
                // Ends once `stop` is raised.
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((socket, _)) => {
                            let guard = Live::enter(&live);
                            let conn = Arc::clone(&conn);
                            let spawned = thread::Builder::new().spawn(move || {
                                let _guard = guard;
                                socket.set_nonblocking(false).expect("blocking socket");
                                socket.set_read_timeout(Some(READ_LIMIT)).expect("read timeout");
                                conn(socket);
                            });
                            if spawned.is_err() {
                                accept_errors.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            thread::sleep(Duration::from_millis(1));
                        }
                        Err(_) => {
                            accept_errors.fetch_add(1, Ordering::SeqCst);
                            thread::sleep(Duration::from_millis(5));
                        }
                    }
                }
            }
        });
        Server {
            addr,
            live,
            accept_errors,
            stop,
            accept: Some(accept),
        }
    }

    /// Waits until exactly `n` connection threads are alive.
    fn wait_live(&self, n: usize, limit: Duration) {
        wait_count(&self.live, n, limit, "live server connection threads");
        assert_eq!(self.accept_errors.load(Ordering::SeqCst), 0, "accept errors");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Waits until `counter` reads `n`, failing after `limit`.
fn wait_count(counter: &AtomicUsize, n: usize, limit: Duration, what: &str) {
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
        thread::sleep(Duration::from_millis(10));
    }
}

/// A client thread with a small stack.
fn client_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    thread::Builder::new()
        .stack_size(CLIENT_STACK)
        .spawn(f)
        .expect("client thread")
}

/// A client socket whose reads give up after [`READ_LIMIT`].
fn connect(addr: SocketAddr) -> TcpStream {
    let socket = TcpStream::connect(addr).expect("connect");
    socket.set_read_timeout(Some(READ_LIMIT)).expect("read timeout");
    socket
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

/// Reads exactly `n` bytes (each read bounded by the read timeout).
fn read_n(io: &mut TcpStream, n: usize, what: &str) -> Vec<u8> {
    let mut out = vec![0; n];
    io.read_exact(&mut out)
        .unwrap_or_else(|e| panic!("{what}: reading {n} bytes: {e}"));
    out
}

/// Everything until EOF (bounded in size, each read by the read timeout).
fn read_to_eof(io: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    io.take(4 << 20).read_to_end(&mut out)?;
    Ok(out)
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
fn echo(req: Request<()>, conn: Conn) -> Result<(), Error> {
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    let mut body = Vec::new();
    while let Some(chunk) = conn.read_body()? {
        body.extend_from_slice(&chunk);
    }
    let res = Response::builder().header(header::DATE, DATE);
    let res = if chunked {
        res.header(header::TRANSFER_ENCODING, "chunked")
    } else {
        res.header(header::CONTENT_LENGTH, body.len())
    };
    conn.send_response(res.body(()).expect("response"))?;
    if !body.is_empty() {
        conn.send_data(body.into())?;
    }
    conn.send_end()
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
fn hello(_req: Request<()>, conn: Conn) -> Result<(), Error> {
    let res = Response::builder()
        .header(header::DATE, DATE)
        .header(header::CONTENT_LENGTH, 5)
        .body(())
        .expect("response");
    conn.send_response(res)?;
    conn.send_data(Bytes::from_static(b"hello"))?;
    conn.send_end()
}

const HELLO_REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";

fn hello_response() -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ndate: {DATE}\r\ncontent-length: 5\r\n\r\nhello").into_bytes()
}

/// One request on a kept-alive connection; its latency.
fn timed_hello(io: &mut TcpStream, what: &str) -> Duration {
    let started = Instant::now();
    io.write_all(HELLO_REQUEST).expect("write");
    let want = hello_response();
    let got = read_n(io, want.len(), what);
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
/// aborting client, fewer complete requests and then half a body. Waits
/// for `go` (raised once all clients are connected) before its first
/// request. Returns the number of responses checked.
fn keep_alive_client(addr: SocketAddr, id: usize, connected: &AtomicUsize, go: &AtomicBool) -> usize {
    let mut io = connect(addr);
    connected.fetch_add(1, Ordering::SeqCst);
    for _ in 0..3000 {
        if go.load(Ordering::SeqCst) {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert!(go.load(Ordering::SeqCst), "client {id}: no go");
    let abort = abort_of(id);
    let complete = if abort.is_some() { id / 20 % 3 } else { REQUESTS };
    for k in 0..complete {
        let chunked = (id + k) % 2 == 1;
        let body = pattern(SIZES[(id * 3 + k * 5) % SIZES.len()], id * 8 + k);
        let (head, wire) = echo_request(&format!("/c{id}/r{k}"), &body, chunked);
        io.write_all(&head).expect("write head");
        io.write_all(&wire).expect("write body");
        let want = echo_response(&body, chunked);
        let what = format!("client {id} request {k}");
        let got = read_n(&mut io, want.len(), &what);
        check_bytes(&got, &want, &what);
    }
    let Some(abort) = abort else {
        io.shutdown(Shutdown::Write).expect("shutdown");
        let rest = read_to_eof(&mut io).expect("read to EOF after the last response");
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
    io.write_all(head.as_bytes()).expect("write head");
    io.write_all(&body).expect("write part of the body");
    thread::sleep(Duration::from_millis(20));
    match abort {
        Abort::Fin => {
            io.shutdown(Shutdown::Write).expect("shutdown");
            // The server gives up on the body: a 400, then EOF.
            let rest = read_to_eof(&mut io).expect("read to EOF after a FIN mid-body");
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

/// 500 client threads and 500 server threads: about 1000 threads at once,
/// which Linux handles without trouble (small client stacks).
#[test]
fn many_keep_alive_clients_with_aborts_mid_body() {
    let _serial = serial();
    let outcomes = Arc::new(Outcomes::default());
    let server = Server::start({
        let outcomes = Arc::clone(&outcomes);
        move |socket| {
            let served = serve(socket, Config::default(), echo);
            outcomes.record(&served);
        }
    });
    let started = Instant::now();
    let connected = Arc::new(AtomicUsize::new(0));
    let go = Arc::new(AtomicBool::new(false));
    let addr = server.addr;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let (connected, go) = (Arc::clone(&connected), Arc::clone(&go));
            client_thread(move || keep_alive_client(addr, id, &connected, &go))
        })
        .collect();
    // All 500 are connected (and each has its server thread) at once.
    wait_count(&connected, CLIENTS, Duration::from_secs(30), "connected clients");
    server.wait_live(CLIENTS, Duration::from_secs(30));
    go.store(true, Ordering::SeqCst);
    let mut checked = 0;
    for client in clients {
        checked += client.join().expect("client thread");
    }
    let aborted = (0..CLIENTS).filter(|&id| abort_of(id).is_some()).count();
    assert_eq!(aborted, CLIENTS / 10);
    let elapsed = started.elapsed();

    // The server still answers a fresh client.
    let mut fresh = connect(server.addr);
    let body = pattern(3000, 99);
    let (head, wire) = echo_request("/fresh", &body, true);
    fresh.write_all(&head).expect("write");
    fresh.write_all(&wire).expect("write");
    let want = echo_response(&body, true);
    let got = read_n(&mut fresh, want.len(), "fresh client");
    check_bytes(&got, &want, "fresh client");
    drop(fresh);

    server.wait_live(0, Duration::from_secs(10));
    let (closed, failed, upgraded) = outcomes.get();
    eprintln!(
        "faults: {CLIENTS} clients ({aborted} aborted mid-body), {checked} responses \
         checked byte for byte in {elapsed:?}; served: {closed} closed, {failed} failed"
    );
    assert_eq!(upgraded, 0);
    assert_eq!(closed, CLIENTS - aborted + 1, "connections that ended cleanly");
    assert_eq!(failed, aborted, "connections that ended with an error");
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
fn dribble(addr: SocketAddr) -> Dribbled {
    let head = b"GET /slow HTTP/1.1\r\nHost: a\r\n\r\n";
    let started = Instant::now();
    let mut io = TcpStream::connect(addr).expect("connect");
    let give_up = started + HEAD_READ + SLACK + Duration::from_secs(5);
    let mut sent = 0;
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    let end = |received, end| Dribbled {
        after: started.elapsed(),
        received,
        end,
    };
    // At most one turn per byte sent or read, and per wake-up.
    for _ in 0..10_000 {
        let now = Instant::now();
        if now >= give_up {
            return end(received, Err("still open".to_string()));
        }
        let next = started + Duration::from_millis(500) + Duration::from_secs(sent as u64);
        if sent < head.len() && now >= next {
            if let Err(e) = io.write_all(&head[sent..sent + 1]) {
                return end(received, Err(format!("write: {e}")));
            }
            sent += 1;
            continue;
        }
        let until = if sent < head.len() {
            next.min(give_up)
        } else {
            give_up
        };
        let wait = until.saturating_duration_since(now).max(Duration::from_millis(1));
        io.set_read_timeout(Some(wait)).expect("read timeout");
        match io.read(&mut buf) {
            Ok(0) => return end(received, Ok(())),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return end(received, Err(format!("read: {e}"))),
        }
    }
    panic!("dribbler: too many turns");
}

#[test]
fn dribbled_heads_time_out_while_normal_clients_are_served() {
    let _serial = serial();
    let mut config = Config::default();
    config.timeouts.head_read = Some(HEAD_READ);
    let server = Server::start(move |socket| {
        let _ = serve(socket, config.clone(), hello);
    });
    let mut normal = connect(server.addr);
    let mut before = Vec::new();
    for i in 0..200 {
        before.push(timed_hello(&mut normal, &format!("before, request {i}")));
        thread::sleep(Duration::from_millis(2));
    }

    let done = Arc::new(AtomicUsize::new(0));
    let addr = server.addr;
    let dribblers: Vec<_> = (0..DRIBBLERS)
        .map(|_| {
            let done = Arc::clone(&done);
            client_thread(move || {
                let dribbled = dribble(addr);
                done.fetch_add(1, Ordering::SeqCst);
                dribbled
            })
        })
        .collect();
    // Normal requests while any dribbler is still open.
    server.wait_live(DRIBBLERS + 1, Duration::from_secs(10));
    let mut during = Vec::new();
    for i in 0..100_000 {
        if done.load(Ordering::SeqCst) == DRIBBLERS {
            break;
        }
        during.push(timed_hello(&mut normal, &format!("during, request {i}")));
        thread::sleep(Duration::from_millis(2));
    }
    let ends: Vec<Dribbled> = dribblers
        .into_iter()
        .map(|d| d.join().expect("dribbler thread"))
        .collect();
    drop(normal);
    server.wait_live(0, Duration::from_secs(10));

    let timeout_response = "HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
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

/// Waits until `counter` stays put for `quiet`, at most `limit`; its value.
fn settled(counter: &AtomicUsize, quiet: Duration, limit: Duration) -> usize {
    let start = Instant::now();
    let mut last = counter.load(Ordering::SeqCst);
    let mut since = Instant::now();
    while start.elapsed() < limit {
        thread::sleep(Duration::from_millis(50));
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
    let _serial = serial();
    let seen = Arc::new(AtomicUsize::new(0));
    let server = Server::start({
        let seen = Arc::clone(&seen);
        move |socket| {
            let _ = serve(socket, Config::default(), |_req, conn| {
                seen.fetch_add(1, Ordering::SeqCst);
                let res = Response::builder()
                    .header(header::CONTENT_LENGTH, BIG)
                    .body(())
                    .expect("response");
                conn.send_response(res)?;
                conn.send_data(Bytes::from(vec![b'x'; BIG]))?;
                conn.send_end()
            });
        }
    });
    let mut io = connect(server.addr);
    io.set_write_timeout(Some(Duration::from_secs(2)))
        .expect("write timeout");
    let batch = padded_request().repeat(BATCH);
    let started = Instant::now();
    let mut sent = 0;
    let mut blocked = false;
    while sent < MAX_PIPELINED {
        match io.write_all(&batch) {
            Ok(()) => sent += BATCH,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                blocked = true;
                break;
            }
            Err(e) => panic!("write after {sent} requests: {e}"),
        }
    }
    let blocked_after = started.elapsed();
    assert!(
        blocked,
        "all {sent} requests were written: the server kept reading"
    );
    let handled = settled(&seen, Duration::from_secs(1), Duration::from_secs(15));
    eprintln!(
        "faults: never-reading peer: writes blocked after {sent} requests ({} KiB, {blocked_after:?}); \
         the handler saw {handled} requests ({} KiB of responses)",
        sent * batch.len() / BATCH / 1024,
        handled * BIG / 1024,
    );
    assert!(handled < 1000, "the handler saw {handled} requests");
    assert!(
        handled * 4 < sent,
        "the handler saw {handled} of {sent} requests: the server kept reading"
    );

    // Cleanup: the peer goes away with unread data (RST); the blocked
    // write fails and the connection thread ends.
    linger_zero(&io);
    drop(io);
    server.wait_live(0, Duration::from_secs(10));
}

// ---- 4. upgrades and tunnels whose peers vanish --------------------------------------------

/// Switches protocols: a 101 to an upgrade request, a 200 to CONNECT.
fn switch(req: Request<()>, conn: Conn) -> Result<Request<()>, Error> {
    let res = if req.method() == Method::CONNECT {
        Response::builder().header(header::DATE, DATE)
    } else {
        Response::builder()
            .status(101)
            .header(header::DATE, DATE)
            .header(header::UPGRADE, "foo")
            .header(header::CONNECTION, "upgrade")
    };
    conn.send_response(res.body(()).expect("response"))?;
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
/// gone). The socket's own read timeout ([`READ_LIMIT`]) is back after the
/// handover: a read that times out means the task would be stuck.
fn drain(parts: Parts<TcpStream>, drained: &Drained) {
    let mut io = parts.into_upgraded();
    let mut buf = [0u8; 1024];
    for _ in 0..1000 {
        match io.read(&mut buf) {
            Ok(0) => {
                drained.eof.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(_) => {
                drained.error.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
    }
    drained.stuck.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn client_vanishing_after_101_ends_the_upgraded_task() {
    const UPGRADES: usize = 30;
    let _serial = serial();
    let outcomes = Arc::new(Outcomes::default());
    let drained = Arc::new(Drained::default());
    let server = Server::start({
        let (outcomes, drained) = (Arc::clone(&outcomes), Arc::clone(&drained));
        move |socket| {
            let served = serve(socket, Config::default(), switch);
            outcomes.record(&served);
            if let Ok(Served::Upgraded { parts, .. }) = served {
                drain(parts, &drained);
            }
        }
    });
    let addr = server.addr;
    let clients: Vec<_> = (0..UPGRADES)
        .map(|i| {
            client_thread(move || {
                let mut io = connect(addr);
                io.write_all(UPGRADE_REQUEST).expect("write");
                if i % 3 == 2 {
                    // Gone before the 101 arrives.
                    return;
                }
                let want = switching_response();
                let got = read_n(&mut io, want.len(), "101");
                check_bytes(&got, want.as_bytes(), "101");
                if i % 3 == 1 {
                    linger_zero(&io);
                }
                drop(io);
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client thread");
    }
    // Every connection accepted and served (the accept loop may still be
    // behind the clients, which are done), then none left.
    let started = Instant::now();
    while {
        let (closed, failed, upgraded) = outcomes.get();
        closed + failed + upgraded < UPGRADES
    } && started.elapsed() < Duration::from_secs(15)
    {
        thread::sleep(Duration::from_millis(5));
    }
    server.wait_live(0, Duration::from_secs(15));
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
    assert_eq!(stuck, 0, "upgraded threads still reading");
    assert_eq!(eof + error, upgraded);
}

/// Both ends of a tunnel, to shut down together.
struct Teardown {
    client: TcpStream,
    target: TcpStream,
    /// The side whose direction ended first.
    first: Mutex<Option<&'static str>>,
}

impl Teardown {
    fn end(&self, side: &'static str) {
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(side);
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.target.shutdown(Shutdown::Both);
    }
}

/// Carries bytes both ways between the upgraded connection and the target
/// in the CONNECT request (a thread per direction); when either side
/// ends, both sockets are shut down, which ends the other direction.
/// Returns which side ended first.
fn tunnel(request: &Request<()>, parts: Parts<TcpStream>) -> &'static str {
    let authority = request.uri().authority().expect("CONNECT authority").to_string();
    let Ok(target) = TcpStream::connect(authority) else {
        return "no target";
    };
    target.set_read_timeout(Some(READ_LIMIT)).expect("read timeout");
    let teardown = Arc::new(Teardown {
        client: parts.io.try_clone().expect("clone"),
        target: target.try_clone().expect("clone"),
        first: Mutex::new(None),
    });
    let (mut target_read, mut client_write) = (
        target.try_clone().expect("clone"),
        parts.io.try_clone().expect("clone"),
    );
    let back = thread::spawn({
        let teardown = Arc::clone(&teardown);
        move || {
            let side = match io::copy(&mut target_read, &mut client_write) {
                Ok(_) => "target",
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => "stuck",
                Err(_) => "target error",
            };
            teardown.end(side);
        }
    });
    // Replays the bytes that came with the CONNECT first.
    let mut client_read = parts.into_upgraded();
    let mut target_write = target;
    let side = match io::copy(&mut client_read, &mut target_write) {
        Ok(_) => "client",
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => "stuck",
        Err(_) => "client error",
    };
    teardown.end(side);
    back.join().expect("tunnel thread");
    let first = *teardown.first.lock().unwrap_or_else(PoisonError::into_inner);
    first.unwrap_or("none")
}

#[test]
fn connect_tunnel_whose_target_closes_first_is_torn_down() {
    const TUNNELS: usize = 20;
    let _serial = serial();
    let target_got = Arc::new(AtomicUsize::new(0));
    let target = Server::start({
        let target_got = Arc::clone(&target_got);
        move |mut socket| {
            // Reads a little, then closes.
            let mut buf = [0u8; 5];
            if socket.read_exact(&mut buf).is_ok() && &buf == b"hello" {
                target_got.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let first = Arc::new(Mutex::new(Vec::new()));
    let proxy = Server::start({
        let first = Arc::clone(&first);
        move |socket| {
            let served = serve(socket, Config::default(), switch);
            let ended = match served {
                Ok(Served::Upgraded {
                    value: request,
                    parts,
                }) => tunnel(&request, parts),
                Ok(Served::Closed) => "closed",
                Err(_) => "failed",
            };
            first.lock().unwrap_or_else(PoisonError::into_inner).push(ended);
        }
    });
    let (proxy_addr, target_addr) = (proxy.addr, target.addr);
    let clients: Vec<_> = (0..TUNNELS)
        .map(|i| {
            client_thread(move || {
                let mut io = connect(proxy_addr);
                let connect = format!("CONNECT {target_addr} HTTP/1.1\r\nHost: {target_addr}\r\n\r\n");
                let want = format!("HTTP/1.1 200 OK\r\ndate: {DATE}\r\n\r\n");
                if i % 2 == 0 {
                    // The tunnel's first bytes in the same write: leftover.
                    io.write_all(format!("{connect}hello").as_bytes()).expect("write");
                    let got = read_n(&mut io, want.len(), "200 to CONNECT");
                    check_bytes(&got, want.as_bytes(), "200 to CONNECT");
                } else {
                    io.write_all(connect.as_bytes()).expect("write");
                    let got = read_n(&mut io, want.len(), "200 to CONNECT");
                    check_bytes(&got, want.as_bytes(), "200 to CONNECT");
                    io.write_all(b"hello").expect("write");
                }
                // The target closes: the tunnel ends, the client sees EOF.
                let rest = read_to_eof(&mut io).expect("EOF, not an error");
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
    let open: Vec<TcpStream> = clients
        .into_iter()
        .map(|c| c.join().expect("client thread"))
        .collect();
    proxy.wait_live(0, Duration::from_secs(10));
    target.wait_live(0, Duration::from_secs(10));
    let first = first.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let target_first = first.iter().filter(|&&side| side == "target").count();
    eprintln!(
        "faults: {TUNNELS} CONNECT tunnels, target closed first: {target_first} torn down; ends: {first:?}"
    );
    assert_eq!(target_first, TUNNELS, "tunnel ends: {first:?}");
    assert_eq!(
        target_got.load(Ordering::SeqCst),
        TUNNELS,
        "bytes through the tunnels"
    );
    drop(open);
}

/// A response without its `date` line (the server adds the current date).
fn without_date(text: &str) -> String {
    text.split_inclusive("\r\n")
        .filter(|line| !line.starts_with("date: "))
        .collect()
}
