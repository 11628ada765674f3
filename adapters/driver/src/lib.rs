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
//! ## Heads as received, or `http` types
//!
//! Each message head can be had two ways. The **wire path** hands out the
//! core's heads as they arrived ([`h1::RequestHead`], [`h1::ResponseHead`],
//! trailers as [`h1::FieldLines`]): the method, target or reason phrase and
//! every field line byte for byte, in order, names in the case the peer
//! sent, with nothing built for them. It is the recommended way where a
//! handler answers from the head itself (see [`echo`], whose `GET
//! /plaintext` answer is a [`h1::ResponseHead`] built once and cloned per
//! response), and the way a proxy forwards heads. The **`http` path**
//! builds `http::Request<()>` / `http::Response<()>` and `HeaderMap`
//! trailers from those heads, with the connection's
//! [`h1::Connection::http_request`] / [`h1::Connection::http_response`]:
//! building them is its only extra cost.
//!
//! | | wire path | `http` path |
//! | --- | --- | --- |
//! | server, next request | [`ServerConnection::read_request_head`] | [`ServerConnection::read_request`] |
//! | server, a request per handler call | [`serve_heads`] | [`serve`] |
//! | client, next response | [`ClientConnection::read_response_head`] | [`ClientConnection::read_response`] |
//! | trailers received | `trailer_fields()` | `trailers()` |
//!
//! Sending takes either: `send_request` any [`h1::OutgoingRequest`],
//! `send_response` and `send_full` any [`h1::OutgoingResponse`],
//! `send_trailers` any [`h1::OutgoingFields`]; field lines of h1 heads go
//! out in their order and case.
//!
//! ## Bounds and deadlines
//!
//! Every connection's memory is bounded: the core's [`h1::Limits`] for
//! heads, [`READ_AHEAD`] for received body data, [`HIGH_WATER`] for queued
//! output. Every deadline is one of the core's [`h1::Timeouts`]: the core
//! times the head read, keep-alive idle and expect-continue deadlines; the
//! driver applies the write deadline (a peer that stops reading) and the
//! connect deadline (clients). A server that closes while the client may
//! still be sending lingers for up to [`LINGER`] (reading and discarding)
//! so that the client reads the last response; an unread request body of up
//! to [`DRAIN_LIMIT`] is discarded to keep the connection.
//!
//! Every limit and deadline a connection runs with, by default (set them
//! in the [`h1::Config`] every connection and `serve` takes):
//!
//! | what | default | where |
//! | --- | --- | --- |
//! | message head (start line, fields, empty line) | 64 KiB (431 past it) | [`h1::Limits::head_size`] |
//! | field lines in a head or trailer section | 1000 (431) | [`h1::Limits::header_count`] |
//! | request-target | 16 KiB (414) | [`h1::Limits::request_target`] |
//! | chunk-size line | 16 KiB | [`h1::Limits::chunk_line`] |
//! | chunk extensions beyond what the data pays for | 16 KiB | [`h1::Limits::chunk_extensions`] |
//! | trailer section | 16 KiB (431) | [`h1::Limits::trailer_size`] |
//! | body size | none | [`h1::Limits::body_size`] |
//! | received body data waiting for a reader | 64 KiB | [`READ_AHEAD`] |
//! | queued output before a write waits | 64 KiB | [`HIGH_WATER`] |
//! | unread request body drained to keep the connection | 256 KiB | [`DRAIN_LIMIT`] |
//! | server: a whole request head (408 after) | 30 s | [`h1::Timeouts::head_read`] |
//! | server: idle between requests | 60 s | [`h1::Timeouts::keep_alive`] |
//! | client: waiting for `100 Continue` | 1 s | [`h1::Timeouts::expect_continue`] |
//! | a write waiting for a peer that stops reading | 60 s | [`h1::Timeouts::write`] |
//! | client: establishing the connection | 30 s | [`h1::Timeouts::connect`] |
//! | reading on after a close, the peer may still be sending | 2 s | [`LINGER`] |
//!
//! (A test of this crate checks the table against the code.)
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
mod bounds;
mod client;
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
pub use bounds::{DRAIN_LIMIT, HIGH_WATER, LINGER, READ_AHEAD};
pub use client::ClientConnection;
pub use error::{BoxError, Deadline, Error};
pub use parts::{Parts, Upgraded};
pub use rt::{Runtime, Sleep, Transport};
pub use serve::{serve, serve_heads, serve_heads_with_shutdown, serve_with_shutdown, Served};
pub use server::ServerConnection;
pub use session::{ReadMode, Reader, Session};

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// The defaults table of the crate docs says what the code does: each
    /// row's default is the value its field or constant has.
    #[test]
    fn the_defaults_table_is_true() {
        let config = h1::Config::default();
        let (l, t) = (&config.limits, &config.timeouts);
        let kib = |n: usize| format!("{} KiB", n / 1024);
        let secs = |d: Option<Duration>| d.map_or("none".into(), |d| format!("{} s", d.as_secs()));
        let rows = [
            ("message head", kib(l.head_size)),
            ("field lines in a head", l.header_count.to_string()),
            ("request-target", kib(l.request_target)),
            ("chunk-size line", kib(l.chunk_line)),
            ("chunk extensions", kib(l.chunk_extensions)),
            ("trailer section", kib(l.trailer_size)),
            ("body size", l.body_size.map_or("none".into(), |n| n.to_string())),
            ("received body data", kib(super::READ_AHEAD)),
            ("queued output", kib(super::HIGH_WATER)),
            ("unread request body", kib(super::DRAIN_LIMIT as usize)),
            ("server: a whole request head", secs(t.head_read)),
            ("server: idle between requests", secs(t.keep_alive)),
            ("client: waiting for `100 Continue`", secs(t.expect_continue)),
            ("a write waiting", secs(t.write)),
            ("client: establishing the connection", secs(t.connect)),
            ("reading on after a close", secs(Some(super::LINGER))),
        ];
        let table: Vec<&str> = include_str!("lib.rs")
            .lines()
            .skip_while(|line| *line != "//! | what | default | where |")
            .skip(2)
            .take_while(|line| line.starts_with("//! | "))
            .collect();
        assert_eq!(
            table.len(),
            rows.len(),
            "a row without a check, or a check without a row"
        );
        for (what, value) in rows {
            let line = table
                .iter()
                .find(|line| line.starts_with(&format!("//! | {what}")))
                .expect(what);
            let default = line.split('|').nth(2).expect("a default column").trim();
            assert!(
                default == value || default.starts_with(&format!("{value} (")),
                "{what}: the docs say {default}, the code {value}"
            );
        }
    }
}
