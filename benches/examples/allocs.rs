//! Allocation report: a counting global allocator measures, for h1 and
//! hyper on the same inputs,
//!
//! 1. allocations per head through the core (a keep-alive connection up to
//!    its head event, then the `http` head built by the connection, as the
//!    drivers do, and dropped) beside the head built the
//!    hyper way (`h1_benches::hyper_way`); and up to the head event alone
//!    (the wire view, no `http` types);
//! 2. allocations per body chunk while the core decodes a chunked body;
//! 3. allocations per request in steady state, end to end in memory: the
//!    `h1-tokio` server and hyper's http1 server over `tokio::io::duplex`,
//!    after a warm-up, on the small and the browser-like GET (the `raw`
//!    canned-response server shows what the harness itself costs: 0);
//! 4. memory held per idle keep-alive connection after one request, and
//!    with one partial head (the first half of the browser-like GET)
//!    buffered: bytes live in the heap, per connection, over many
//!    connections (the duplex pipes are made and warmed before counting).
//!
//! Everything runs on one thread (a current-thread tokio runtime), so the
//! counts are deterministic up to the runtime's own bookkeeping. Prints
//! markdown. Figures are counts, not timings: a loaded machine does not
//! change them.
//!
//! ```sh
//! cargo run --release -p h1-benches --example allocs -- [--requests N] [--conns N]
//! ```

#![allow(unsafe_code)] // the counting allocator below; nothing else

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use h1::{Connection, Event};
use h1_benches::{
    body_bytes, chunked_post, hyper_way, read_buffer, response_with_body, warm_client_after, warm_server,
    warm_server_after, BROWSER_GET, NO_CONTENT, RESPONSE_HEAD, SMALL_GET,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use h1_benches::servers;

use servers::Server;

/// Counts allocations and live bytes, then defers to the system allocator.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicI64 = AtomicI64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the counters are plain atomics
// (they neither allocate nor touch the memory handed out).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        LIVE.fetch_add(layout.size() as i64, Relaxed);
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        LIVE.fetch_add(layout.size() as i64, Relaxed);
        // SAFETY: forwarded as is; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Relaxed);
        // SAFETY: forwarded as is; `ptr` came from `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Relaxed);
        // SAFETY: forwarded as is; `ptr` came from `System` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.load(Relaxed)
}

fn live() -> i64 {
    LIVE.load(Relaxed)
}

/// Allocations made by `f` (its argument is built before counting, its
/// result dropped after).
fn count<S, O>(input: S, f: impl FnOnce(S) -> O) -> (u64, O) {
    let before = allocs();
    let out = f(input);
    (allocs() - before, out)
}

fn arg(name: &str, default: usize) -> usize {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next().and_then(|v| v.parse().ok()).unwrap_or(default);
        }
    }
    default
}

fn heads() {
    println!("## Allocations per head (core, up to the head event, the `http` head built and dropped)\n");
    println!("| input | h1, steady state (after the same head) | h1, a new kind of head (after small GETs / 204s) | hyper way | h1 head event only, steady state |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    // Up to the head event; with `build`, the `http` head built from it too.
    let parse = |mut conn: Connection, bytes: &[u8], build: bool| {
        count(read_buffer(bytes), |buf| {
            conn.receive_buf(buf).expect("input");
            match conn.poll_event() {
                Ok(Event::Request(head)) if build => drop(conn.http_request(head).expect("converts")),
                Ok(Event::Response(head)) if build => drop(conn.http_response(head).expect("converts")),
                Ok(ev) if ev.is_head() => drop(ev),
                other => panic!("no head: {other:?}"),
            }
        })
        .0
    };
    for (name, bytes) in [("small_get", SMALL_GET), ("browser_get", BROWSER_GET)] {
        let steady = || warm_server_after(h1::Config::default(), bytes);
        let ours = parse(steady(), bytes, true);
        let first = parse(warm_server_after(h1::Config::default(), SMALL_GET), bytes, true);
        let (theirs, _buf) = count(read_buffer(bytes), |mut buf| {
            drop(hyper_way::request(&mut buf).expect("parses"));
            buf
        });
        let wire = parse(steady(), bytes, false);
        println!("| {name} | {ours} | {first} | {theirs} | {wire} |");
    }
    let steady = || warm_client_after(&response_with_body());
    let ours = parse(steady(), RESPONSE_HEAD, true);
    let first = parse(warm_client_after(NO_CONTENT), RESPONSE_HEAD, true);
    let (theirs, _buf) = count(read_buffer(RESPONSE_HEAD), |mut buf| {
        drop(hyper_way::response(&mut buf).expect("parses"));
        buf
    });
    let wire = parse(steady(), RESPONSE_HEAD, false);
    println!("| response_10 | {ours} | {first} | {theirs} | {wire} |\n");
}

fn body_chunks() {
    println!("## Allocations per body chunk (core, 1 MiB chunked body)\n");
    println!("| chunks | whole message in one buffer | in 16 KiB reads |");
    println!("| --- | ---: | ---: |");
    let payload = body_bytes(1024 * 1024);
    for chunk in [16 * 1024, 1024] {
        let input = chunked_post(&payload, chunk);
        let chunks = payload.len() / chunk;
        let drain = |conn: &mut h1::Connection| loop {
            match conn.poll_event().expect("parses") {
                Event::Request(_) | Event::Data(_) => {}
                Event::End => return true,
                Event::NeedData => return false,
                other => panic!("unexpected {other:?}"),
            }
        };
        // The head's own allocations are counted apart and taken out.
        let head_only = {
            let head_end = input.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
            count(
                (
                    warm_server(h1::Config::default()),
                    read_buffer(&input[..head_end]),
                ),
                |(mut conn, buf)| {
                    conn.receive_buf(buf).expect("input");
                    drain(&mut conn);
                    conn
                },
            )
            .0
        };
        let (whole, _) = count(
            (warm_server(h1::Config::default()), read_buffer(&input)),
            |(mut conn, buf)| {
                conn.receive_buf(buf).expect("input");
                assert!(drain(&mut conn));
                conn
            },
        );
        let reads: Vec<_> = input.chunks(16 * 1024).map(read_buffer).collect();
        let (split, _) = count(
            (warm_server(h1::Config::default()), reads),
            |(mut conn, reads)| {
                let mut ended = false;
                for read in reads {
                    conn.receive_buf(read).expect("input");
                    ended = drain(&mut conn);
                }
                assert!(ended);
                conn
            },
        );
        let per = |n: u64| n.saturating_sub(head_only) as f64 / chunks as f64;
        println!(
            "| {chunks} × {} KiB | {:.3} | {:.3} |",
            chunk / 1024,
            per(whole),
            per(split)
        );
    }
    println!();
}

async fn steady_state(server: Server, request: &[u8], requests: usize) -> f64 {
    let (mut client, server_io) = tokio::io::duplex(64 * 1024);
    let task = tokio::spawn(server.serve(server_io));
    let mut buf = Vec::with_capacity(4096);
    servers::client(&mut client, request, 1000, &mut buf).await;
    let before = allocs();
    servers::client(&mut client, request, requests, &mut buf).await;
    let per_request = (allocs() - before) as f64 / requests as f64;
    drop(client);
    task.await.expect("server task");
    per_request
}

/// A duplex pair whose pipes already hold capacity in both directions, so
/// that the server's first write costs no allocation of the transport.
async fn warm_pair() -> (DuplexStream, DuplexStream) {
    let (mut a, mut b) = tokio::io::duplex(64 * 1024);
    let mut scratch = [0u8; 1024];
    a.write_all(&scratch).await.expect("warm");
    b.read_exact(&mut scratch).await.expect("warm");
    b.write_all(&scratch).await.expect("warm");
    a.read_exact(&mut scratch).await.expect("warm");
    (a, b)
}

async fn settle() {
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
}

/// Bytes live per connection: idle after one request, then with half a
/// head received.
async fn idle_memory(server: Server, conns: usize) -> (f64, f64) {
    // Let the runtime size its queues for this many tasks beforehand.
    let noop: Vec<_> = (0..conns).map(|_| tokio::spawn(async {})).collect();
    for t in noop {
        t.await.expect("noop");
    }
    let mut pairs = Vec::with_capacity(conns);
    for _ in 0..conns {
        pairs.push(warm_pair().await);
    }
    let mut clients = Vec::with_capacity(conns);
    let mut tasks = Vec::with_capacity(conns);
    let mut buf = Vec::with_capacity(4096);
    let half = &BROWSER_GET[..BROWSER_GET.len() / 2];
    settle().await;

    let base = live();
    for (client, server_io) in pairs {
        tasks.push(tokio::spawn(server.serve(server_io)));
        clients.push(client);
    }
    for client in &mut clients {
        servers::client(client, SMALL_GET, 1, &mut buf).await;
    }
    settle().await;
    let idle = (live() - base) as f64 / conns as f64;
    for client in &mut clients {
        client.write_all(half).await.expect("partial head");
    }
    settle().await;
    let partial = (live() - base) as f64 / conns as f64;

    drop(clients);
    for t in tasks {
        t.await.expect("server task");
    }
    (idle, partial)
}

fn main() {
    let requests = arg("--requests", 10_000);
    let conns = arg("--conns", 1000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");

    heads();
    body_chunks();

    println!(
        "## Allocations per request, steady state, end to end in memory ({requests} requests after 1000)\n"
    );
    println!("| server | small_get | browser_get |");
    println!("| --- | ---: | ---: |");
    for server in [Server::H1, Server::H1Http, Server::Hyper, Server::Raw] {
        let small = rt.block_on(steady_state(server, SMALL_GET, requests));
        let browser = rt.block_on(steady_state(server, BROWSER_GET, requests));
        println!("| {} | {small:.2} | {browser:.2} |", server.name());
    }
    println!();

    println!("## Heap held per idle keep-alive connection ({conns} connections, bytes)\n");
    println!("| server | idle after one request | with half a head buffered |");
    println!("| --- | ---: | ---: |");
    let mut rows = Vec::new();
    for server in [Server::H1, Server::H1Http, Server::Hyper, Server::Raw] {
        let (idle, partial) = rt.block_on(idle_memory(server, conns));
        println!("| {} | {idle:.0} | {partial:.0} |", server.name());
        rows.push((server, idle, partial));
    }
    if let (Some(h1), Some(hyper)) = (
        rows.iter().find(|r| r.0 == Server::H1),
        rows.iter().find(|r| r.0 == Server::Hyper),
    ) {
        println!(
            "\nh1 / hyper: idle {:.2}×, with a partial head {:.2}× (target: idle ≤ 0.5×)",
            h1.1 / hyper.1,
            h1.2 / hyper.2
        );
    }
}
