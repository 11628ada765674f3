//! Serves 2,000 keep-alive requests end to end in memory (a client loop and
//! one server over `tokio::io::duplex`, on a current-thread runtime), for
//! instruction counts under callgrind. `h1` answers the way the h1-tokio
//! echo example answers `GET /plaintext` (the wire path: no `http` types
//! built), `h1-http` builds the full `http::Request<()>` and sends an
//! `http::Response<()>` with a `HeaderMap`. `raw` is the canned-response
//! server: subtract it to leave each server's own cost.
//!
//! ```sh
//! cargo build --release -p h1-benches --example e2e_count
//! for s in raw h1 h1-http hyper; do
//!     valgrind --tool=callgrind target/release/examples/e2e_count $s        # browser-like GET
//!     valgrind --tool=callgrind target/release/examples/e2e_count $s small  # small GET
//! done
//! ```

use h1_benches::servers;

use h1_benches::{BROWSER_GET, SMALL_GET};

const REQUESTS: usize = 2000;

fn main() {
    let server = std::env::args().nth(1).unwrap_or_else(|| "h1".into());
    let request = match std::env::args().nth(2).as_deref() {
        Some("small") => SMALL_GET,
        _ => BROWSER_GET,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (mut client, io) = tokio::io::duplex(64 * 1024);
        let task = match server.as_str() {
            "h1" => tokio::spawn(servers::h1_plaintext(io)),
            "h1-http" => tokio::spawn(servers::h1_http_plaintext(io)),
            "hyper" => tokio::spawn(servers::hyper_plaintext(io, false)),
            _ => tokio::spawn(servers::raw_plaintext(io)),
        };
        let mut buf = Vec::new();
        servers::client(&mut client, request, REQUESTS, &mut buf).await;
        drop(client);
        let _ = task.await;
    });
}
