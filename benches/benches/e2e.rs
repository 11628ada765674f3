//! End to end in memory: the `h1-tokio` server (`h1_tokio`: `serve_heads`,
//! answering as the echo example does; `h1_tokio_http`: `serve`, with
//! `http` types both ways) and hyper's http1 server, each over
//! `tokio::io::duplex`, answering keep-alive GETs from a simple client
//! loop (write a request, read its whole response). One
//! iteration is one request, so criterion's time is the time per request;
//! the requests run on connections of 10,000 requests each (the clock runs
//! from each connection's second request: the first, and the connection's
//! setup, are excluded). Targets: `h1_tokio` ≤ 0.8× `hyper`, `h1_tokio_http`
//! ≤ 1.0×.
//!
//! `raw` (a server that only counts request ends and writes canned
//! responses) is the floor of this harness: transport, runtime and client.
//! Everything runs on one current-thread tokio runtime.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use h1_benches::{BROWSER_GET, SMALL_GET};

use h1_benches::servers;

use servers::Server;

/// Requests per connection.
const PER_CONNECTION: u64 = 10_000;

async fn run(server: Server, request: &[u8], iters: u64) -> Duration {
    let mut buf = Vec::with_capacity(4096);
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(PER_CONNECTION);
        let (mut client, server_io) = tokio::io::duplex(64 * 1024);
        let task = tokio::spawn(server.serve(server_io));
        servers::client(&mut client, request, 1, &mut buf).await;
        let start = Instant::now();
        servers::client(&mut client, request, n as usize, &mut buf).await;
        total += start.elapsed();
        drop(client);
        task.await.expect("server task");
        left -= n;
    }
    total
}

fn e2e(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for (name, request) in [("small_get", SMALL_GET), ("browser_get", BROWSER_GET)] {
        let mut group = c.benchmark_group(format!("e2e/{name}"));
        group.throughput(Throughput::Bytes(request.len() as u64));
        for server in [Server::H1, Server::H1Http, Server::Hyper, Server::Raw] {
            group.bench_function(server.name(), |b| {
                b.iter_custom(|iters| rt.block_on(run(server, request, iters)))
            });
        }
        group.finish();
    }
}

// criterion_group! makes an undocumented `pub fn`: keep it in a private module.
mod group {
    criterion::criterion_group!(benches, super::e2e);
}
/// `cargo bench` passes `--bench`; `cargo test` (which builds this target
/// so that it cannot rot) runs it without: then nothing runs.
fn main() {
    if std::env::args().any(|a| a == "--bench") {
        group::benches();
        criterion::Criterion::default()
            .configure_from_args()
            .final_summary();
    }
}
