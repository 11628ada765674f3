//! The echo server of `shared/contracts.md` over tokio.
//!
//! It answers on the wire path (`serve_heads`: each request head as it
//! arrived, no `http` types built), the project's recommended way; the
//! routing and the answers are `h1_driver::echo`'s.
//!
//! `cargo run --release -p h1-tokio --example echo -- [--addr HOST:PORT]`

use h1_driver::echo;
use h1_tokio::{serve_heads, Served};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind(echo::addr_arg()).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::Write::flush(&mut std::io::stdout())?;
    loop {
        let (socket, _) = listener.accept().await?;
        tokio::spawn(async move {
            let _ = connection(socket).await;
        });
    }
}

async fn connection(socket: TcpStream) -> Result<(), h1_tokio::Error> {
    socket.set_nodelay(true)?;
    let served = serve_heads(socket, echo::config(), echo::handle).await?;
    if let Served::Upgraded { parts, .. } = served {
        // Raw echo: the leftover bytes first, then everything until EOF.
        let (mut reader, mut writer) = tokio::io::split(parts.into_upgraded());
        tokio::io::copy(&mut reader, &mut writer).await?;
        writer.shutdown().await?;
    }
    Ok(())
}
