//! # h1-blocking: the h1 HTTP/1.1 core over blocking `std::io`
//!
//! A blocking IO loop over the sans-IO half of `h1-driver`
//! ([`h1_driver::Session`], which makes every HTTP decision with the
//! [`h1`] core), sharing that crate's error, [`Parts`] and [`Upgraded`]. It
//! reads into the core, writes what the core queues with vectored writes,
//! arms the deadlines as the socket's read and write timeouts (see
//! [`Socket`]), and hands the socket over after an upgrade as its own
//! concrete type.
//!
//! - [`ServerConnection`] and [`ClientConnection`] drive one connection,
//!   in full duplex: a write that waits for the socket gives way to reads
//!   every few milliseconds, so what the peer sends keeps being read (up to
//!   [`READ_AHEAD`] bytes of body data) and a client sees an early
//!   response; the socket is never held while a read or write blocks, so
//!   one thread may read while another writes;
//! - [`serve`] runs a handler per request, so a server is a few lines (one
//!   thread per connection); the handler is given an `http::Request`, or
//!   with [`serve_heads`] the head as received (the wire path: no `http`
//!   types built, the way the `echo` example answers);
//! - [`BodyReceiver`] and [`BodySender`] hand one direction to another
//!   thread;
//! - after a 101 or a 2xx to CONNECT, [`Parts`] gives back the IO value and
//!   the bytes already received, and [`Upgraded`] replays them first.
//!
//! Every limit and deadline, with its default, is listed in the
//! [`h1_driver`] crate docs: the core's [`h1::Limits`] and
//! [`h1::Timeouts`] (the write and connect deadlines included), and
//! [`READ_AHEAD`], [`HIGH_WATER`], [`DRAIN_LIMIT`], [`LINGER`].
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
mod server;
mod socket;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::task::Poll;

use h1::http::{HeaderMap, Request};
use h1::{Config, RequestHead};

pub use body::{BodyReceiver, BodySender};
pub use client::ClientConnection;
pub use h1_driver::{
    BoxError, Deadline, Error, Parts, Served, Upgraded, DRAIN_LIMIT, HIGH_WATER, LINGER, READ_AHEAD,
};
pub use server::ServerConnection;
pub use socket::Socket;

use driver::Shared;
use h1_driver::Session;

/// Serves requests on `io` until the connection closes or switches
/// protocols, calling `handler` for each request with the request head and
/// a handle on the connection. The handler answers through the connection
/// (reading the body if it wants it) and returns a value, used when it
/// switched protocols (see [`Served::Upgraded`]), or an error of its own. A
/// handler that sends no response gets a 500 sent for it; a body it left
/// open is ended (unless a [`BodySender`] still streams it: that is waited
/// for). A handler's error closes the connection (after a 500 if nothing
/// was sent) and is returned (as [`Error::Handler`] unless it is an
/// [`Error`] itself). [`serve_heads`] is the same with the request head as
/// received.
pub fn serve<IO, H, T, E>(io: IO, config: Config, handler: H) -> Result<Served<IO, T>, Error>
where
    IO: Socket,
    H: FnMut(Request<()>, ServerConnection<IO>) -> Result<T, E>,
    E: Into<BoxError>,
{
    serve_each(io, config, None, Session::poll_read_request, handler)
}

/// [`serve`] with graceful shutdown: once `shutdown` is raised, a response
/// sent from then on carries `connection: close`, the response in flight
/// is finished and the connection closes instead of waiting for another
/// request. A connection waiting for a request looks at the flag every
/// 100 ms.
pub fn serve_with_shutdown<IO, H, T, E>(
    io: IO,
    config: Config,
    shutdown: &AtomicBool,
    handler: H,
) -> Result<Served<IO, T>, Error>
where
    IO: Socket,
    H: FnMut(Request<()>, ServerConnection<IO>) -> Result<T, E>,
    E: Into<BoxError>,
{
    serve_each(io, config, Some(shutdown), Session::poll_read_request, handler)
}

/// [`serve`] on the wire path: the handler is given each request head as
/// it arrived ([`RequestHead`]: method, target and field lines byte for
/// byte, names in their case), with no `http` types built for it
/// ([`ServerConnection::http_request`] builds them if it wants them).
pub fn serve_heads<IO, H, T, E>(io: IO, config: Config, handler: H) -> Result<Served<IO, T>, Error>
where
    IO: Socket,
    H: FnMut(RequestHead, ServerConnection<IO>) -> Result<T, E>,
    E: Into<BoxError>,
{
    serve_each(io, config, None, Session::poll_read_request_head, handler)
}

/// [`serve_heads`] with graceful shutdown, as [`serve_with_shutdown`].
pub fn serve_heads_with_shutdown<IO, H, T, E>(
    io: IO,
    config: Config,
    shutdown: &AtomicBool,
    handler: H,
) -> Result<Served<IO, T>, Error>
where
    IO: Socket,
    H: FnMut(RequestHead, ServerConnection<IO>) -> Result<T, E>,
    E: Into<BoxError>,
{
    serve_each(
        io,
        config,
        Some(shutdown),
        Session::poll_read_request_head,
        handler,
    )
}

/// The serving loop, for requests read by `read` (as heads or as `http`
/// types).
fn serve_each<IO, Req, H, T, E>(
    io: IO,
    config: Config,
    shutdown: Option<&AtomicBool>,
    read: fn(&mut Session) -> Poll<Result<Option<Req>, Error>>,
    mut handler: H,
) -> Result<Served<IO, T>, Error>
where
    IO: Socket,
    H: FnMut(Req, ServerConnection<IO>) -> Result<T, E>,
    E: Into<BoxError>,
{
    let conn = ServerConnection::with_config(io, config);
    loop {
        let Some(req) = conn.shared.run(shutdown, read)? else {
            return Ok(Served::Closed);
        };
        match handler(req, conn.handle()) {
            Ok(value) => {
                if conn.is_switched() {
                    return Ok(Served::Upgraded {
                        parts: conn.into_parts()?,
                        value,
                    });
                }
                // A sender still streaming the body (another thread): wait for it.
                conn.shared.run(shutdown, |s| match s.is_sender_attached() {
                    true => Poll::Pending,
                    false => Poll::Ready(()),
                });
                conn.shared.with(|s| s.finish_response(false))?;
            }
            Err(e) => {
                let _ = conn.shared.with(|s| s.finish_response(true));
                conn.shared.run(None, Session::poll_close);
                return Err(Error::from_handler(e));
            }
        }
    }
}

/// The trailers of the body read last, as a header map.
fn trailer_map(s: &Session) -> Result<Option<HeaderMap>, Error> {
    Ok(s.trailers().map(h1::FieldLines::to_header_map).transpose()?)
}

/// Flushes, then takes the IO and the leftover out of the connection,
/// with the socket's own read timeout back and no write timeout.
fn into_parts<IO: Socket>(shared: Arc<Shared<IO>>) -> Result<Parts<IO>, Error> {
    shared.run(None, Session::poll_flush)?;
    let Ok(shared) = Arc::try_unwrap(shared) else {
        return Err(h1::Misuse::WrongState {
            call: "into_parts",
            state: h1::State::SwitchedProtocol,
        }
        .into());
    };
    let mut state = shared
        .state
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    shared.io.set_read_timeout(state.base_timeout)?;
    shared.io.set_write_timeout(None)?;
    state.session.into_parts(shared.io)
}
