//! The echo server of `shared/contracts.md` over async-std.
//!
//! It answers on the wire path (`serve_heads`: each request head as it
//! arrived, no `http` types built), the project's recommended way; the
//! routing and the answers are `h1_driver::echo`'s.
//!
//! `cargo run --release -p h1-async-std --example echo -- [--addr HOST:PORT]`

use async_std::net::{TcpListener, TcpStream};
use futures_lite::{io, AsyncWriteExt};
use h1_async_std::{serve_heads, Served};
use h1_driver::echo;

#[async_std::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind(echo::addr_arg()).await?;
    println!("listening on {}", listener.local_addr()?);
    std::io::Write::flush(&mut std::io::stdout())?;
    loop {
        let (socket, _) = listener.accept().await?;
        async_std::task::spawn(async move {
            let _ = connection(socket).await;
        });
    }
}

async fn connection(socket: TcpStream) -> Result<(), h1_async_std::Error> {
    socket.set_nodelay(true)?;
    let served = serve_heads(socket, echo::config(), echo::handle).await?;
    if let Served::Upgraded { parts, .. } = served {
        // Raw echo: the leftover bytes first, then everything until EOF.
        let (reader, mut writer) = io::split(parts.into_upgraded());
        io::copy(reader, &mut writer).await?;
        writer.close().await?;
    }
    Ok(())
}
