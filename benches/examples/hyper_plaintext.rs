//! hyper 1.x http1 server with the echo server's benchmark route: `GET
//! /plaintext` → `Hello, World!` (`content-type: text/plain`), anything
//! else an empty 404. For the loopback comparison (`benches/loopback.sh`).
//!
//! ```sh
//! cargo run --release -p h1-benches --example hyper_plaintext -- [--addr HOST:PORT] [--pipeline-flush]
//! ```
//!
//! Default settings (hyper's `http1::Builder::new()`, no timer), or with
//! `pipeline_flush(true)`. Like the h1-tokio echo example: a multi-thread
//! tokio runtime, `TCP_NODELAY`, a task per connection, and a first stdout
//! line `listening on HOST:PORT`.

use h1_benches::servers;

use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .iter()
        .position(|a| a == "--addr")
        .and_then(|i| args.get(i + 1))
        .map_or("127.0.0.1:8080", String::as_str);
    let pipeline_flush = args.iter().any(|a| a == "--pipeline-flush");
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::Write::flush(&mut std::io::stdout())?;
    loop {
        let (socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        tokio::spawn(servers::hyper_plaintext(socket, pipeline_flush));
    }
}
