//! The echo server of `shared/contracts.md` over blocking sockets, one
//! thread per connection.
//!
//! `cargo run --release -p h1-blocking --example echo -- [--addr HOST:PORT]`

use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};

use h1_blocking::{serve_heads, Served};
use h1_driver::echo::{self, Route};

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind(echo::addr_arg())?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    for socket in listener.incoming() {
        // A failed accept (the peer already gone, no file descriptors
        // left) concerns that connection only.
        let Ok(socket) = socket else { continue };
        std::thread::spawn(move || {
            let _ = connection(socket);
        });
    }
    Ok(())
}

fn connection(socket: TcpStream) -> Result<(), h1_blocking::Error> {
    socket.set_nodelay(true)?;
    // The wire path, as `echo::handle` for the async adapters.
    let served = serve_heads(socket, echo::config(), |head, conn| match echo::route(&head) {
        Route::Upgrade(protocol) => conn.send_response(echo::switch_response(&protocol)?),
        Route::Connect => conn.send_response(echo::connect_response()),
        route => {
            let mut body = Vec::new();
            if route == Route::Echo {
                while let Some(chunk) = conn.read_body()? {
                    body.extend_from_slice(&chunk);
                }
            }
            let (res, payload) = echo::answer(&route, &head, &body, conn.trailer_fields().as_ref());
            conn.send_full(res, payload)
        }
    })?;
    if let Served::Upgraded { parts, .. } = served {
        // Raw echo: the leftover bytes first, then everything until EOF.
        let mut writer = parts.io.try_clone()?;
        std::io::copy(&mut parts.into_upgraded(), &mut writer)?;
        writer.shutdown(Shutdown::Write)?;
    }
    Ok(())
}
