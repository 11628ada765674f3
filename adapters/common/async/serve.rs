//! The serve helpers: a handler per request, until the connection closes
//! or switches protocols. Shared by the async adapters through `#[path]`.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use h1::http::{header, Request, Response, StatusCode};
use h1::{Config, State};

use crate::rt::{AsyncRead, AsyncWrite};
use crate::{Error, Parts, ServerConnection};

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
