//! The `proxy` example (the reverse proxy of `shared/contracts.md`) as a
//! child process, in front of the `demo` and `echo` examples or of
//! hand-written upstreams: an early 413 reaching the client, a WebSocket
//! (Python `websockets`) with a clean close, CONNECT with `curl -p -x`,
//! 500 concurrent clients of which a tenth abort mid-body, the fields it
//! forwards, its pool, and its 502 and 504.

// Raising the fd limit calls libc (test-only code, explained at the call).
#![allow(unsafe_code)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{
    curl_through_tunnel, dead_addr, require_curl, require_python_websockets, tunnel_to_nothing_gets_502,
    websocket_echo_closes_cleanly, within, Server,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Barrier;

async fn proxy_to(upstream: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--upstream", upstream];
    args.extend_from_slice(extra);
    Server::start_with("proxy", &args).await
}

/// Reads until `end` is seen in what was read, or the peer closes.
async fn read_until(io: &mut (impl AsyncRead + Unpin), end: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !got.windows(end.len()).any(|w| w == end) {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

/// A request of 10 MiB to the echo server (which takes 1 MiB at most)
/// through the proxy: the upstream's early 413 reaches the client as a
/// 413, while the client is still sending.
#[tokio::test]
async fn early_413_reaches_the_client() {
    within(async {
        let echo = Server::start("echo").await;
        let proxy = proxy_to(&echo.addr, &[]).await;
        let socket = TcpStream::connect(&proxy.addr).await.expect("connect");
        let (mut read, mut write) = socket.into_split();
        let total = 10 * 1024 * 1024;
        let writer = tokio::spawn(async move {
            let head = format!("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {total}\r\n\r\n");
            write.write_all(head.as_bytes()).await?;
            let chunk = vec![b'a'; 65536];
            for _ in 0..total / chunk.len() {
                write.write_all(&chunk).await?;
            }
            Ok::<_, std::io::Error>(())
        });
        let got = read_until(&mut read, b"\r\n").await;
        let line = String::from_utf8_lossy(&got);
        assert!(line.starts_with("HTTP/1.1 413 "), "{line}");
        let _ = writer.await;
    })
    .await;
}

/// A WebSocket through the proxy to the demo: the upgrade is forwarded,
/// the sockets spliced, 100 messages echoed, and the close is clean.
#[tokio::test]
async fn websocket_through_the_proxy_closes_cleanly() {
    require_python_websockets();
    within(async {
        let mut demo = Server::start("demo").await;
        let mut proxy = proxy_to(&demo.addr, &[]).await;
        websocket_echo_closes_cleanly(format!("ws://{}/ws", proxy.addr)).await;
        let line = proxy.log_line("GET /ws").await;
        assert!(line.ends_with("-> 101"), "{line}");
        let line = demo.log_line("websocket /ws closed").await;
        assert!(line.ends_with("(code 1000)"), "{line}");
    })
    .await;
}

/// `curl -p -x`: the proxy opens the tunnel itself; 502 when the target
/// cannot be reached.
#[tokio::test]
async fn curl_connect_through_the_proxy() {
    require_curl();
    within(async {
        let echo = Server::start("echo").await;
        let mut proxy = proxy_to(&echo.addr, &[]).await;
        let via = format!("http://{}", proxy.addr);
        let out = curl_through_tunnel(via.clone(), format!("http://{}/plaintext", echo.addr)).await;
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, b"Hello, World!");
        let line = proxy.log_line("CONNECT").await;
        assert!(line.ends_with("-> 200"), "{line}");

        tunnel_to_nothing_gets_502(via).await;
    })
    .await;
}

fn raise_fd_limit(want: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 || limit.rlim_cur >= want {
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: want.min(limit.rlim_max),
        rlim_max: limit.rlim_max,
    };
    // SAFETY: `raised` is a valid `rlimit`; a soft limit up to the hard
    // limit is allowed (the call fails cleanly otherwise). The child
    // processes (the examples) inherit it.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) };
}

/// Test bytes for client `id`.
fn body_of(id: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + id * 13 + i / 251) as u8).collect()
}

/// How a client ends: it completes its requests, or aborts one mid-body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Client {
    Complete,
    AbortFin,
    AbortRst,
}

/// One keep-alive client of the demo's `/echo` through the proxy: two
/// requests whose bodies must come back byte for byte, or an abort in the
/// middle of the second body. Returns the responses checked.
async fn echo_client(addr: String, id: usize, kind: Client, start: Arc<Barrier>) -> usize {
    let mut io = TcpStream::connect(&addr).await.expect("connect");
    start.wait().await;
    let mut checked = 0;
    for round in 0..2 {
        let body = body_of(id + round, 1000 + (id * 977 + round * 131) % 40_000);
        let head = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        io.write_all(head.as_bytes()).await.expect("head");
        if round == 1 && kind != Client::Complete {
            io.write_all(&body[..body.len() / 2]).await.expect("half a body");
            if kind == Client::AbortRst {
                socket2::SockRef::from(&io)
                    .set_linger(Some(Duration::ZERO))
                    .expect("linger");
            } else {
                io.shutdown().await.expect("FIN");
            }
            return checked;
        }
        io.write_all(&body).await.expect("body");
        // The answer: a chunked echo of the body.
        let got = read_until(&mut io, b"\r\n0\r\n\r\n").await;
        let text_end = got.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
        assert!(
            got.starts_with(b"HTTP/1.1 200 OK\r\n"),
            "client {id} round {round}: {}",
            String::from_utf8_lossy(&got[..got.len().min(300)])
        );
        let mut rest = &got[text_end..];
        let mut echoed = Vec::new();
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").expect("chunk line");
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).expect("hex"), 16)
                .expect("size");
            if size == 0 {
                break;
            }
            echoed.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        assert!(
            echoed == body,
            "client {id} round {round}: the body came back changed"
        );
        checked += 1;
    }
    checked
}

/// 500 concurrent keep-alive clients through the proxy to the demo, a
/// tenth aborting mid-body (half with FIN, half with RST): every other
/// response comes back byte for byte, and the proxy serves a fresh client
/// afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_with_aborts_through_the_proxy() {
    raise_fd_limit(4096);
    within(async {
        let demo = Server::start("demo").await;
        let proxy = proxy_to(&demo.addr, &[]).await;
        const CLIENTS: usize = 500;
        let start = Arc::new(Barrier::new(CLIENTS));
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|id| {
                let kind = match id % 20 {
                    0 => Client::AbortFin,
                    10 => Client::AbortRst,
                    _ => Client::Complete,
                };
                let (addr, start) = (proxy.addr.clone(), Arc::clone(&start));
                tokio::spawn(async move { (kind, echo_client(addr, id, kind, start).await) })
            })
            .collect();
        let mut checked = 0;
        let mut aborted = 0;
        for task in tasks {
            let (kind, n) = task.await.expect("client task");
            checked += n;
            aborted += usize::from(kind != Client::Complete);
            let want = if kind == Client::Complete { 2 } else { 1 };
            assert_eq!(n, want);
        }
        assert_eq!(aborted, CLIENTS / 10);
        assert_eq!(checked, (CLIENTS - aborted) * 2 + aborted);
        // Still serving.
        let fresh = echo_client(
            proxy.addr.clone(),
            9999,
            Client::Complete,
            Arc::new(Barrier::new(1)),
        )
        .await;
        assert_eq!(fresh, 2);
    })
    .await;
}

/// Whether `got` holds a whole chunked message: its head, the last chunk
/// and the end of the trailer section.
fn is_whole_chunked(got: &[u8]) -> bool {
    let find = |from: usize, what: &[u8]| {
        got.get(from..)?
            .windows(what.len())
            .position(|w| w == what)
            .map(|i| from + i + what.len())
    };
    find(0, b"\r\n\r\n")
        .and_then(|body| find(body - 2, b"\r\n0\r\n"))
        .and_then(|last| find(last - 2, b"\r\n\r\n"))
        .is_some()
}

/// Reads one whole chunked message (see [`is_whole_chunked`]).
async fn read_chunked(io: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !is_whole_chunked(&got) {
        match io.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

/// An upstream written by hand: records the requests it reads, answers
/// each with a chunked body, trailers and hop-by-hop fields of its own.
async fn recording_upstream(
    listener: TcpListener,
    accepted: Arc<AtomicUsize>,
    heads: tokio::sync::mpsc::UnboundedSender<String>,
) {
    loop {
        let Ok((mut io, _)) = listener.accept().await else {
            return;
        };
        accepted.fetch_add(1, Ordering::SeqCst);
        let heads = heads.clone();
        tokio::spawn(async move {
            loop {
                let all = read_chunked(&mut io).await;
                if !is_whole_chunked(&all) {
                    return;
                }
                let _ = heads.send(String::from_utf8_lossy(&all).into_owned());
                let answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\nX-Kept: yes\r\nTrailer: x-sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 42\r\n\r\n";
                if io.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// Fields on both hops: the field lines as received (order, name case),
/// hop-by-hop fields removed (and the ones `connection` names), `via`
/// added, the body's framing chosen afresh, trailers forwarded as received;
/// two requests of one client share one pooled upstream connection.
#[tokio::test]
async fn forwarded_fields_trailers_and_the_pool() {
    within(async {
        let upstream = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream_addr: SocketAddr = upstream.local_addr().expect("addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let (heads_tx, mut heads) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(recording_upstream(upstream, Arc::clone(&accepted), heads_tx));
        let proxy = proxy_to(&upstream_addr.to_string(), &[]).await;
        let mut io = TcpStream::connect(&proxy.addr).await.expect("connect");
        for round in 0..2 {
            let request = "POST /t HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=9\r\nTE: trailers\r\nTrailer: x-check\r\nX-End: e2e\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Check: 7\r\n\r\n";
            io.write_all(request.as_bytes()).await.expect("request");
            let raw = String::from_utf8(read_chunked(&mut io).await).expect("ascii");
            // The upstream's lines as it sent them: reason, name case.
            assert!(raw.starts_with("HTTP/1.1 200 OK\r\n"), "round {round}: {raw}");
            assert!(raw.contains("\r\nX-Kept: yes\r\n"), "round {round}: {raw}");
            assert!(raw.contains("\r\nX-Sum: 42\r\n"), "round {round}: {raw}");
            let answer = raw.to_ascii_lowercase();
            assert!(answer.starts_with("http/1.1 200 ok\r\n"), "round {round}: {answer}");
            for gone in ["x-secret", "keep-alive:", "\r\ntrailer:"] {
                assert!(!answer.contains(gone), "round {round}: {gone} forwarded: {answer}");
            }
            assert!(answer.contains("\r\nx-kept: yes\r\n"), "{answer}");
            assert!(answer.contains("\r\nvia: 1.1 h1\r\n"), "{answer}");
            assert!(answer.contains("\r\ntransfer-encoding: chunked\r\n"), "{answer}");
            assert!(answer.contains("\r\n5\r\nhello\r\n"), "{answer}");
            assert!(answer.contains("\r\nx-sum: 42\r\n"), "the trailers: {answer}");

            let raw = heads.recv().await.expect("the upstream saw a request");
            // The client's lines as it sent them, in order and case.
            let host = raw.find("\r\nHost: example.com\r\n").expect("Host as sent");
            let end = raw.find("\r\nX-End: e2e\r\n").expect("X-End as sent");
            assert!(host < end, "round {round}: order kept: {raw}");
            assert!(raw.contains("\r\nX-Check: 7\r\n"), "round {round}: trailer as sent: {raw}");
            let seen = raw.to_ascii_lowercase();
            assert!(seen.starts_with("post /t http/1.1\r\n"), "{seen}");
            for gone in ["x-hop", "keep-alive", "\r\nte:", "\r\ntrailer:", "\r\nconnection:"] {
                assert!(!seen.contains(gone), "round {round}: {gone} forwarded upstream: {seen}");
            }
            assert!(seen.contains("\r\nhost: example.com\r\n"), "{seen}");
            assert!(seen.contains("\r\nx-end: e2e\r\n"), "{seen}");
            assert!(seen.contains("\r\nvia: 1.1 h1\r\n"), "{seen}");
            assert!(seen.contains("\r\ntransfer-encoding: chunked\r\n"), "{seen}");
            assert!(seen.contains("\r\n3\r\nabc\r\n0\r\nx-check: 7\r\n\r\n"), "body and trailers: {seen}");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "one pooled upstream connection");
    })
    .await;
}

/// 502 when the upstream cannot be reached or closes before answering,
/// 504 when it does not answer in time.
#[tokio::test]
async fn upstream_failures_get_502_and_504() {
    within(async {
        let ask = |addr: String| async move {
            let mut io = TcpStream::connect(&addr).await.expect("connect");
            io.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("request");
            String::from_utf8_lossy(&read_until(&mut io, b"\r\n").await).into_owned()
        };

        // Nothing listens there.
        let proxy = proxy_to(&dead_addr().to_string(), &[]).await;
        let line = ask(proxy.addr.clone()).await;
        assert!(line.starts_with("HTTP/1.1 502 "), "{line}");

        // An upstream that reads the request and closes.
        let closing = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let closing_addr = closing.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut io, _)) = closing.accept().await {
                let _ = read_until(&mut io, b"\r\n\r\n").await;
            }
        });
        let proxy = proxy_to(&closing_addr.to_string(), &[]).await;
        let line = ask(proxy.addr.clone()).await;
        assert!(line.starts_with("HTTP/1.1 502 "), "{line}");

        // An upstream that never answers.
        let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let silent_addr = silent.local_addr().expect("addr");
        let held = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((io, _)) = silent.accept().await {
                held.push(io);
            }
        });
        let proxy = proxy_to(&silent_addr.to_string(), &["--response-timeout", "0.5"]).await;
        let started = std::time::Instant::now();
        let line = ask(proxy.addr.clone()).await;
        assert!(line.starts_with("HTTP/1.1 504 "), "{line}");
        assert!(started.elapsed() >= Duration::from_millis(500));
        held.abort();
    })
    .await;
}
