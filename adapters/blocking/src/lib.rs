//! # h1-blocking: the h1 HTTP/1.1 core over blocking `std::io`
//!
//! A thin driver: it reads into the [`h1`] core, writes what the core
//! queues with vectored writes, arms the deadlines the core asks for as the
//! socket's read timeout (see [`Socket`]), and hands the socket over after
//! an upgrade as its own concrete type. Every HTTP decision (parsing,
//! framing, persistence) is the core's.
//!
//! - [`ServerConnection`] and [`ClientConnection`] drive one connection;
//! - [`serve`] runs a handler per request, so a server is a few lines (one
//!   thread per connection);
//! - after a 101 or a 2xx to CONNECT, [`Parts`] gives back the IO value and
//!   the bytes already received, and [`Upgraded`] replays them first.
//!
//! ```no_run
//! use std::net::TcpListener;
//!
//! use h1::http::Response;
//! use h1_blocking::{serve, Served};
//!
//! let listener = TcpListener::bind("127.0.0.1:8080")?;
//! for socket in listener.incoming() {
//!     let socket = socket?;
//!     std::thread::spawn(move || {
//!         let served = serve(socket, h1::Config::default(), |_req, conn| {
//!             let mut res = Response::new(());
//!             res.headers_mut().insert("content-length", 5.into());
//!             conn.send_response(res)?;
//!             conn.send_data("hello".into())?;
//!             conn.send_end()
//!         });
//!         if let Ok(Served::Upgraded { parts, .. }) = served {
//!             drop(parts); // hand `parts.io` and `parts.leftover` to the new protocol
//!         }
//!     });
//! }
//! # Ok::<(), std::io::Error>(())
//! ```

#![deny(missing_docs)]

mod body;
mod client;
mod driver;
#[path = "../../common/error.rs"]
mod error;
mod server;
mod socket;
#[path = "../../common/upgrade.rs"]
mod upgrade;
mod upgrade_io;

use std::io::{Read, Write};
use std::sync::atomic::AtomicBool;

use h1::http::{header, Request, Response, StatusCode};
use h1::{Config, State};

pub use body::BodyReader;
pub use client::ClientConnection;
pub use error::Error;
pub use server::ServerConnection;
pub use socket::Socket;
pub use upgrade::{Parts, Upgraded};

/// How a served connection ended.
#[derive(Debug)]
// Returned once per connection; boxing the request would cost an
// allocation to save a move.
#[allow(clippy::large_enum_variant)]
pub enum Served<IO> {
    /// The connection closed (or must close) after its last exchange.
    Closed,
    /// The handler switched protocols: `request` asked for it, `parts` hold
    /// the socket and the bytes already received for the new protocol.
    Upgraded {
        /// The request that was answered with the switch.
        request: Request<()>,
        /// The socket and the leftover bytes.
        parts: Parts<IO>,
    },
}

/// Serves requests on `io` until the connection closes or switches
/// protocols, calling `handler` for each request. The handler answers
/// through the connection it is given (reading the body if it wants it);
/// a handler that sends no response gets a 500 sent for it.
pub fn serve<IO, H>(io: IO, config: Config, handler: H) -> Result<Served<IO>, Error>
where
    IO: Read + Write + Socket,
    H: FnMut(&Request<()>, &mut ServerConnection<IO>) -> Result<(), Error>,
{
    serve_until(io, config, None, handler)
}

/// [`serve`] with graceful shutdown: once `shutdown` is raised, the
/// response in flight is finished and the connection closes instead of
/// waiting for another request. A connection waiting for a request looks
/// at the flag every 100 ms.
pub fn serve_with_shutdown<IO, H>(
    io: IO,
    config: Config,
    shutdown: &AtomicBool,
    handler: H,
) -> Result<Served<IO>, Error>
where
    IO: Read + Write + Socket,
    H: FnMut(&Request<()>, &mut ServerConnection<IO>) -> Result<(), Error>,
{
    serve_until(io, config, Some(shutdown), handler)
}

fn serve_until<IO, H>(
    io: IO,
    config: Config,
    shutdown: Option<&AtomicBool>,
    mut handler: H,
) -> Result<Served<IO>, Error>
where
    IO: Read + Write + Socket,
    H: FnMut(&Request<()>, &mut ServerConnection<IO>) -> Result<(), Error>,
{
    let mut conn = ServerConnection::with_config(io, config);
    loop {
        let Some(req) = conn.next_request(shutdown)? else {
            if conn.is_switched() {
                return Err(h1::Misuse::WrongState {
                    call: "serve",
                    state: State::SwitchedProtocol,
                }
                .into());
            }
            let _ = conn.shutdown();
            return Ok(Served::Closed);
        };
        handler(&req, &mut conn)?;
        if conn.is_switched() {
            return Ok(Served::Upgraded {
                request: req,
                parts: conn.into_parts()?,
            });
        }
        finish_response(&mut conn)?;
    }
}

/// Completes what a handler left unanswered: a 500 if no response was
/// sent, the end of a body that was not ended.
fn finish_response<IO: Read + Write + Socket>(conn: &mut ServerConnection<IO>) -> Result<(), Error> {
    match conn.connection().our_state() {
        State::SendResponse => {
            let res = Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .header(header::CONTENT_LENGTH, "0")
                .body(())
                .unwrap_or_default();
            conn.send_response(res)?;
            conn.send_end()
        }
        State::SendBody => conn.send_end(),
        _ => Ok(()),
    }
}
