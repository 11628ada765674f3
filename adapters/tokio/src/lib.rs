//! # h1-tokio: the h1 HTTP/1.1 core over tokio IO
//!
//! The [`h1_driver`] connection types with tokio as their runtime: this
//! crate supplies tokio's read, vectored write, shutdown and sleep
//! ([`Tokio`]); everything else (full duplex, `serve`, the handover after
//! a switch, every HTTP decision) is written once in `h1-driver` and the
//! [`h1`] core.
//!
//! - [`ServerConnection`] and [`ClientConnection`] drive one connection,
//!   both directions at once;
//! - [`serve`] runs a handler per request, given as an `http::Request`;
//!   [`serve_heads`] given as the head as received (the wire path: no
//!   `http` types built, the way the `echo` example answers);
//! - [`BodyReceiver`] and [`BodySender`] hand one direction to another
//!   task (or another future of the same task);
//! - after a 101 or a 2xx to CONNECT, [`Parts`] gives back the IO value and
//!   the bytes already received, and [`Upgraded`] replays them first.
//!
//! ## Serving, with shared state
//!
//! The handler gets the request and an owned handle on the connection, so
//! the future it returns borrows nothing and is `Send`: clone the shared
//! state into it, and call your own async functions.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use h1::http::{Request, Response};
//! use h1_tokio::{serve, BoxError, ServerConnection};
//! use tokio::net::TcpStream;
//!
//! struct App {
//!     greeting: String,
//! }
//!
//! async fn hello(app: &App, _req: Request<()>, conn: ServerConnection<TcpStream>) -> Result<(), BoxError> {
//!     conn.send_full(Response::new(()), app.greeting.clone().into()).await?;
//!     Ok(())
//! }
//!
//! # async fn run() -> Result<(), BoxError> {
//! let app = Arc::new(App { greeting: "hello".into() });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! loop {
//!     let (socket, _) = listener.accept().await?;
//!     let app = app.clone();
//!     tokio::spawn(serve(socket, h1::Config::default(), move |req, conn| {
//!         let app = app.clone();
//!         async move { hello(&app, req, conn).await }
//!     }));
//! }
//! # }
//! ```
//!
//! ## Full duplex, one task or two
//!
//! A body write that waits for the socket keeps reading the peer. Both
//! directions can be pumped at once from one task, since every method takes
//! `&self` and body handles are owned (here a server streams a request
//! body back as it arrives, and answers before reading it all):
//!
//! ```no_run
//! # async fn run(conn: h1_tokio::ServerConnection<tokio::net::TcpStream>) -> Result<(), h1_tokio::Error> {
//! conn.send_response(h1::http::Response::new(())).await?;
//! while let Some(chunk) = conn.read_body().await? {
//!     conn.send_data(chunk).await?;
//! }
//! conn.send_end().await
//! # }
//! ```
//!
//! or from two tasks, with a body handle moved to the other one (a client
//! uploading while it reads the response):
//!
//! ```no_run
//! # async fn run(client: h1_tokio::ClientConnection<tokio::net::TcpStream>) -> Result<(), h1_tokio::BoxError> {
//! use h1::http::Request;
//!
//! let req = Request::post("/upload").header("transfer-encoding", "chunked").body(())?;
//! client.send_request(req).await?;
//! let upload = client.body_sender();
//! let task = tokio::spawn(async move {
//!     for _ in 0..1000 {
//!         upload.send_data(vec![b'x'; 65536].into()).await?;
//!     }
//!     upload.send_end().await
//! });
//! let res = client.read_response().await?; // may come before the upload ends
//! while let Some(_chunk) = client.read_body().await? {}
//! # let _ = (res, task);
//! # Ok(())
//! # }
//! ```
//!
//! Every limit and deadline, with its default, is listed in the
//! [`h1_driver`] crate docs: the core's [`h1::Limits`] and
//! [`h1::Timeouts`] (the write and connect deadlines included), and
//! [`READ_AHEAD`], [`HIGH_WATER`], [`DRAIN_LIMIT`], [`LINGER`].

#![deny(missing_docs)]

mod rt;

use std::future::Future;

use h1::http::Request;
use h1::{Config, RequestHead};
use tokio::io::{AsyncRead, AsyncWrite};

pub use h1_driver::{
    BoxError, Deadline, Error, Parts, Served, Upgraded, DRAIN_LIMIT, HIGH_WATER, LINGER, READ_AHEAD,
};
pub use rt::{Sleep, Tokio};

/// A server connection over tokio IO (see [`h1_driver::ServerConnection`]).
pub type ServerConnection<IO> = h1_driver::ServerConnection<IO, Tokio>;
/// A client connection over tokio IO (see [`h1_driver::ClientConnection`]).
pub type ClientConnection<IO> = h1_driver::ClientConnection<IO, Tokio>;
/// A received body as its own handle (see [`h1_driver::BodyReceiver`]);
/// also tokio's `AsyncRead`.
pub type BodyReceiver<IO> = h1_driver::BodyReceiver<IO, Tokio>;
/// A body to send as its own handle (see [`h1_driver::BodySender`]).
pub type BodySender<IO> = h1_driver::BodySender<IO, Tokio>;

/// Serves requests on `io` until the connection closes or switches
/// protocols, calling `handler` for each request (see [`h1_driver::serve`]).
pub async fn serve<IO, H, Fut, T, E>(io: IO, config: Config, handler: H) -> Result<Served<IO, T>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    H: FnMut(Request<()>, ServerConnection<IO>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    h1_driver::serve::<IO, Tokio, H, Fut, T, E>(io, config, handler).await
}

/// [`serve`] with graceful shutdown (see [`h1_driver::serve_with_shutdown`]).
pub async fn serve_with_shutdown<IO, H, Fut, T, E, S>(
    io: IO,
    config: Config,
    shutdown: S,
    handler: H,
) -> Result<Served<IO, T>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    H: FnMut(Request<()>, ServerConnection<IO>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    S: Future<Output = ()>,
{
    h1_driver::serve_with_shutdown::<IO, Tokio, H, Fut, T, E, S>(io, config, shutdown, handler).await
}

/// [`serve`] with each request head as received (see [`h1_driver::serve_heads`]).
pub async fn serve_heads<IO, H, Fut, T, E>(io: IO, config: Config, handler: H) -> Result<Served<IO, T>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    H: FnMut(RequestHead, ServerConnection<IO>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    h1_driver::serve_heads::<IO, Tokio, H, Fut, T, E>(io, config, handler).await
}

/// [`serve_heads`] with graceful shutdown (see [`h1_driver::serve_heads_with_shutdown`]).
pub async fn serve_heads_with_shutdown<IO, H, Fut, T, E, S>(
    io: IO,
    config: Config,
    shutdown: S,
    handler: H,
) -> Result<Served<IO, T>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin,
    H: FnMut(RequestHead, ServerConnection<IO>) -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
    S: Future<Output = ()>,
{
    h1_driver::serve_heads_with_shutdown::<IO, Tokio, H, Fut, T, E, S>(io, config, shutdown, handler).await
}

/// Connects to `addr` within the connect deadline
/// ([`h1::Timeouts::connect`]; see [`h1_driver::ClientConnection::connect`]).
pub async fn connect(
    addr: impl tokio::net::ToSocketAddrs,
    config: Config,
) -> Result<ClientConnection<tokio::net::TcpStream>, Error> {
    let connecting = async {
        let socket = tokio::net::TcpStream::connect(addr).await?;
        socket.set_nodelay(true)?;
        Ok(socket)
    };
    ClientConnection::connect(connecting, config).await
}
