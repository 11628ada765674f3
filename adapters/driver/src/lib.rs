//! # h1-driver: the h1 core driven over IO, written once
//!
//! The runtime-independent driver of the [`h1`] sans-IO HTTP/1.1 core:
//! connection types for both roles, `serve`, the socket handover after a
//! switch, and the error type. It does no IO of its own: a runtime crate
//! supplies a few small traits ([`Runtime`], [`Sleep`], [`Transport`]) on a
//! marker type and re-exports these types with the runtime fixed. Use it
//! through one of them:
//!
//! - `h1-tokio`: tokio;
//! - `h1-async-std`: anything built on the `futures-io` traits (async-std,
//!   smol);
//! - `h1-blocking` shares this crate's error, [`Parts`]/[`Upgraded`] and
//!   [`Session`] (the sans-IO half of the driver) with its own blocking IO
//!   loop.
//!
//! ## Full duplex
//!
//! A connection reads and writes at the same time. Whoever waits on a
//! connection drives its IO: a body write that waits for the socket keeps
//! reading what the peer sends, into the core and into a bounded
//! read-ahead ([`READ_AHEAD`] bytes of body data); body data nobody consumes
//! stops the reading (backpressure), so memory never grows with the body.
//! A server may answer, and stream its answer, while the request body still
//! arrives; a client watches for an early final response while it uploads
//! (RFC 9112 section 9.5).
//!
//! Both directions can be driven at once:
//!
//! - **from one task**: every method takes `&self`, and the body handles
//!   are owned values, so a request body and a response body can be pumped
//!   by two futures joined in one task (a proxy's loop);
//! - **from two tasks**: [`BodyReceiver`] and [`BodySender`] (from
//!   `body_receiver()` and `body_sender()` on either connection type) are
//!   `Send` when the IO is, and move to another task.
//!
//! ## Bounds and deadlines
//!
//! Every connection's memory is bounded: the core's [`h1::Limits`] for
//! heads, [`READ_AHEAD`] for received body data, [`HIGH_WATER`] for queued
//! output. The deadlines: the core's (head read, keep-alive idle,
//! expect-continue: [`h1::Timeouts`]), a write deadline for a peer that
//! stops reading and a connect deadline for clients ([`Config`]). A server
//! that closes while the client may still be sending lingers for up to
//! [`LINGER`] (reading and discarding) so that the client reads the last
//! response; an unread request body of up to [`DRAIN_LIMIT`] is discarded
//! to keep the connection.
//!
//! ## Writing a runtime crate
//!
//! Implement [`Runtime`] (with a [`Sleep`]) and [`Transport`] on a marker
//! type, then alias the connection types with it, as `h1-tokio` does:
//!
//! ```ignore
//! pub struct Tokio;
//! impl h1_driver::Runtime for Tokio { type Sleep = TokioSleep; }
//! impl<IO: AsyncRead + AsyncWrite> h1_driver::Transport<IO> for Tokio { /* read, write, shutdown */ }
//! pub type ServerConnection<IO> = h1_driver::ServerConnection<IO, Tokio>;
//! ```
//!
//! The runtime IO traits of the types users hold ([`Upgraded`],
//! [`BodyReceiver`]) must be implemented where the types are, by Rust's
//! orphan rule: this crate's `tokio` and `futures-io` features do that.

#![deny(missing_docs)]

mod body;
mod client;
mod config;
pub mod echo;
mod error;
mod io;
mod parts;
mod rt;
mod serve;
mod server;
mod session;
mod shared;

#[cfg(feature = "futures-io")]
mod futures_io;
#[cfg(feature = "tokio")]
mod tokio_io;

pub use body::{BodyReceiver, BodySender};
pub use client::ClientConnection;
pub use config::{
    Config, DEFAULT_CONNECT_TIMEOUT, DEFAULT_WRITE_TIMEOUT, DRAIN_LIMIT, HIGH_WATER, LINGER, READ_AHEAD,
};
pub use error::{BoxError, Deadline, Error};
pub use parts::{Parts, Upgraded};
pub use rt::{Runtime, Sleep, Transport};
pub use serve::{serve, serve_with_shutdown, Served};
pub use server::ServerConnection;
pub use session::{ReadMode, Reader, Session};
