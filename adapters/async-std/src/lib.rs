//! # h1-async-std: the h1 HTTP/1.1 core over futures-io (async-std, smol)
//!
//! A thin driver for any IO implementing the `futures-io` traits
//! ([`AsyncRead`](futures_io::AsyncRead), [`AsyncWrite`](futures_io::AsyncWrite)), so the same crate serves async-std,
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
mod rt;
#[path = "../../common/upgrade.rs"]
mod upgrade;
mod upgrade_io;

#[path = "../../common/async/client.rs"]
mod client;
#[path = "../../common/async/driver.rs"]
mod driver;
#[path = "../../common/error.rs"]
mod error;
#[path = "../../common/async/serve.rs"]
mod serve;
#[path = "../../common/async/server.rs"]
mod server;

pub use body::BodyReader;
pub use client::ClientConnection;
pub use error::Error;
pub use serve::{serve, serve_with_shutdown, Served};
pub use server::ServerConnection;
pub use upgrade::{Parts, Upgraded};
