//! # h1-async-std: the h1 HTTP/1.1 core over futures-io (async-std, smol)
//!
//! A thin driver for any IO implementing the `futures-io` traits
//! ([`AsyncRead`], [`AsyncWrite`]), so the same crate serves async-std,
//! smol and anything else built on them. It reads into the [`h1`] core,
//! writes what the core queues with vectored writes, arms the deadlines the
//! core asks for (`async-io` timers, which run under any executor), and
//! hands the socket over after an upgrade as its own concrete type. Every
//! HTTP decision (parsing, framing, persistence) is the core's.
//!
//! - [`ServerConnection`] and [`ClientConnection`] drive one connection;
//! - [`serve`] runs a handler per request, so a server is a few lines;
//! - after a 101 or a 2xx to CONNECT, [`Parts`] gives back the IO value and
//!   the bytes already received, and [`Upgraded`] replays them first.
//!
//! ```no_run
//! use h1::http::Response;
//! use h1_async_std::{serve, Served};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = async_std::net::TcpListener::bind("127.0.0.1:8080").await?;
//! loop {
//!     let (socket, _) = listener.accept().await?;
//!     async_std::task::spawn(async move {
//!         let served = serve(socket, h1::Config::default(), async |_req, conn| {
//!             let mut res = Response::new(());
//!             res.headers_mut().insert("content-length", 5.into());
//!             conn.send_response(res).await?;
//!             conn.send_data("hello".into()).await?;
//!             conn.send_end().await
//!         })
//!         .await;
//!         if let Ok(Served::Upgraded { parts, .. }) = served {
//!             drop(parts); // hand `parts.io` and `parts.leftover` to the new protocol
//!         }
//!     });
//! }
//! # }
//! ```
//!
//! Under smol, the same code runs with `smol::net::TcpListener` and
//! `smol::spawn(...).detach()`.

#![deny(missing_docs)]

mod body;
mod client;
mod driver;
mod error;
mod server;
mod upgrade;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use futures_io::{AsyncRead, AsyncWrite};
use h1::http::{header, Request, Response, StatusCode};
use h1::{Config, State};

pub use body::BodyReader;
pub use client::ClientConnection;
pub use error::Error;
pub use server::ServerConnection;
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
pub async fn serve<IO, H>(io: IO, config: Config, handler: H) -> Result<Served<IO>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    H: AsyncFnMut(&Request<()>, &mut ServerConnection<IO>) -> Result<(), Error>,
{
    serve_with_shutdown(io, config, std::future::pending(), handler).await
}

/// [`serve`] with graceful shutdown: once `shutdown` completes, the
/// response in flight is finished and the connection closes instead of
/// waiting for another request.
pub async fn serve_with_shutdown<IO, H, S>(
    io: IO,
    config: Config,
    shutdown: S,
    mut handler: H,
) -> Result<Served<IO>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    H: AsyncFnMut(&Request<()>, &mut ServerConnection<IO>) -> Result<(), Error>,
    S: Future<Output = ()>,
{
    let mut conn = ServerConnection::with_config(io, config);
    let mut shutdown = pin!(shutdown);
    loop {
        let next = {
            let mut read = pin!(conn.read_request());
            poll_fn(|cx| {
                if shutdown.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                read.as_mut().poll(cx).map(Some)
            })
            .await
        };
        let Some(req) = next.transpose()?.flatten() else {
            if conn.is_switched() {
                return Err(h1::Misuse::WrongState {
                    call: "serve",
                    state: State::SwitchedProtocol,
                }
                .into());
            }
            let _ = conn.shutdown().await;
            return Ok(Served::Closed);
        };
        handler(&req, &mut conn).await?;
        if conn.is_switched() {
            return Ok(Served::Upgraded {
                request: req,
                parts: conn.into_parts().await?,
            });
        }
        finish_response(&mut conn).await?;
    }
}

/// Completes what a handler left unanswered: a 500 if no response was
/// sent, the end of a body that was not ended.
async fn finish_response<IO: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut ServerConnection<IO>,
) -> Result<(), Error> {
    match conn.connection().our_state() {
        State::SendResponse => {
            let res = Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .header(header::CONTENT_LENGTH, "0")
                .body(())
                .unwrap_or_default();
            conn.send_response(res).await?;
            conn.send_end().await
        }
        State::SendBody => conn.send_end().await,
        _ => Ok(()),
    }
}
