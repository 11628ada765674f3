//! The ceiling for the loopback comparison (`benches/loopback.sh`): reads,
//! counts request ends (`\r\n\r\n`), and writes one canned `Hello, World!`
//! response per request end, all of a read's in one write. No HTTP beyond
//! that: no parsing, no `http` types, no bodies.
//!
//! ```sh
//! cargo run --release -p h1-benches --example raw_plaintext -- [--addr HOST:PORT]
//! ```
//!
//! The same runtime set-up as the other servers (multi-thread tokio,
//! `TCP_NODELAY`, a task per connection, `listening on HOST:PORT`).

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
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::Write::flush(&mut std::io::stdout())?;
    loop {
        let (socket, _) = listener.accept().await?;
        socket.set_nodelay(true)?;
        tokio::spawn(servers::raw_plaintext(socket));
    }
}
