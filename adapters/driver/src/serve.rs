//! The serve helpers: a handler per request, until the connection closes
//! or switches protocols. [`serve`] hands the handler an
//! `http::Request<()>`, [`serve_heads`] the request head as received.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use h1::http::Request;
use h1::{Config, RequestHead};

use crate::error::{BoxError, Error};
use crate::rt::Transport;
use crate::server::ServerConnection;
use crate::session::Session;
use crate::Parts;

/// How a served connection ended.
#[derive(Debug)]
pub enum Served<IO, T = ()> {
    /// The connection closed (or must close) after its last exchange.
    Closed,
    /// The handler switched protocols: `parts` hold the socket and the
    /// bytes already received for the new protocol, `value` is what the
    /// handler returned for the request it switched on (a proxy returns
    /// the upstream's socket, for instance).
    Upgraded {
        /// The socket and the leftover bytes.
        parts: Parts<IO>,
        /// The handler's value for the switching request.
        value: T,
    },
}

/// Serves requests on `io` until the connection closes or switches
/// protocols, calling `handler` for each request with the request as an
/// `http::Request<()>` and a handle on the connection (an owned value, so
/// the handler's future borrows nothing from `serve` and can be `Send`).
///
/// The handler answers through the connection (reading the body if it
/// wants it) and returns a value, used when it switched protocols (see
/// [`Served::Upgraded`]), or an error of its own. A handler that sends no
/// response gets a 500 sent for it; a body it left open is ended (unless
/// a [`BodySender`](crate::BodySender) still streams it: that is waited
/// for). A handler's error closes the connection (after a 500 if nothing
/// was sent) and is returned (as [`Error::Handler`] unless it is an
/// [`Error`] itself).
///
/// [`serve_heads`] is the same with the request head as received, and no
/// `http` types built.
pub async fn serve<IO, Rt, H, Fut, T, E>(io: IO, config: Config, handler: H) -> Result<Served<IO, T>, Error>
where
    IO: Unpin,
    Rt: Transport<IO>,
    H: FnMut(Request<()>, ServerConnection<IO, Rt>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    serve_with_shutdown(io, config, std::future::pending(), handler).await
}

/// [`serve`] with graceful shutdown: once `shutdown` completes, a response
/// sent from then on carries `connection: close`, the response in flight
/// is finished, and the connection closes instead of waiting for another
/// request.
pub async fn serve_with_shutdown<IO, Rt, H, Fut, T, E, S>(
    io: IO,
    config: Config,
    shutdown: S,
    handler: H,
) -> Result<Served<IO, T>, Error>
where
    IO: Unpin,
    Rt: Transport<IO>,
    H: FnMut(Request<()>, ServerConnection<IO, Rt>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    S: Future<Output = ()>,
{
    serve_each(io, config, shutdown, Session::poll_read_request, handler).await
}

/// [`serve`] on the wire path: the handler is given each request head as
/// it arrived ([`RequestHead`]: method, target and field lines byte for
/// byte, names in their case), with no `http` types built for it. It
/// answers with an [`h1::ResponseHead`] or an `http::Response<()>`
/// alike; [`ServerConnection::http_request`] builds the `http` types from
/// the head when a handler wants them after all.
pub async fn serve_heads<IO, Rt, H, Fut, T, E>(
    io: IO,
    config: Config,
    handler: H,
) -> Result<Served<IO, T>, Error>
where
    IO: Unpin,
    Rt: Transport<IO>,
    H: FnMut(RequestHead, ServerConnection<IO, Rt>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    serve_heads_with_shutdown(io, config, std::future::pending(), handler).await
}

/// [`serve_heads`] with graceful shutdown, as [`serve_with_shutdown`].
pub async fn serve_heads_with_shutdown<IO, Rt, H, Fut, T, E, S>(
    io: IO,
    config: Config,
    shutdown: S,
    handler: H,
) -> Result<Served<IO, T>, Error>
where
    IO: Unpin,
    Rt: Transport<IO>,
    H: FnMut(RequestHead, ServerConnection<IO, Rt>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    S: Future<Output = ()>,
{
    serve_each(io, config, shutdown, Session::poll_read_request_head, handler).await
}

/// The serving loop, for requests read by `read` (as heads or as `http`
/// types).
async fn serve_each<IO, Rt, Req, H, Fut, T, E, S>(
    io: IO,
    config: Config,
    shutdown: S,
    read: fn(&mut Session) -> Poll<Result<Option<Req>, Error>>,
    mut handler: H,
) -> Result<Served<IO, T>, Error>
where
    IO: Unpin,
    Rt: Transport<IO>,
    H: FnMut(Req, ServerConnection<IO, Rt>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    S: Future<Output = ()>,
{
    let conn = ServerConnection::with_config(io, config);
    let mut shutdown = pin!(shutdown);
    let mut shut = false;
    // Runs `work`, starting the graceful shutdown when `shutdown` completes.
    macro_rules! watching_shutdown {
        ($work:expr) => {{
            let mut work = pin!($work);
            poll_fn(|cx| {
                if !shut && shutdown.as_mut().poll(cx).is_ready() {
                    shut = true;
                    conn.begin_shutdown();
                }
                work.as_mut().poll(cx)
            })
            .await
        }};
    }
    loop {
        let Some(req) = watching_shutdown!(conn.shared.wait(read))? else {
            return Ok(Served::Closed);
        };
        let answered = watching_shutdown!(handler(req, conn.handle()));
        match answered {
            Ok(value) => {
                if conn.is_switched() {
                    return Ok(Served::Upgraded {
                        parts: conn.into_parts().await?,
                        value,
                    });
                }
                // A sender still streaming the body: wait for it, then
                // complete what the handler left.
                watching_shutdown!(conn.shared.wait(|s| match s.is_sender_attached() {
                    true => Poll::Pending,
                    false => Poll::Ready(s.finish_response(false)),
                }))?;
            }
            Err(e) => {
                let _ = conn.shared.with(|s| s.finish_response(true));
                conn.shared.wait(Session::poll_close).await;
                return Err(Error::from_handler(e));
            }
        }
    }
}
