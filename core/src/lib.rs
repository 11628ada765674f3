//! # h1: a sans-IO HTTP/1.1 protocol core
//!
//! `h1` is the HTTP/1.1 state machine without the IO: bytes in, events
//! out. It does no IO, reads no clock, spawns nothing and has no global
//! state, so the same core runs under tokio, async-std, smol or blocking
//! sockets (the `h1-tokio`, `h1-async-std` and `h1-blocking` crates are thin
//! drivers over it). One [`Connection`] type plays either [`Role`].
//!
//! Parsing is strict RFC 9110/9112 by default, hardened against request
//! smuggling: Content-Length and Transfer-Encoding together, differing or
//! malformed lengths, chunked not last, bare CR or LF, obs-fold, whitespace
//! before a colon, more than one Host: all rejected, with the status a
//! server should answer ([`Error::status`]). Where the RFC lets a recipient
//! be lenient, [`Leniency`] has a switch, off by default.
//!
//! ## The sans-IO contract
//!
//! **Buffers.** Received bytes are handed in with [`Connection::receive`]
//! (copied), [`Connection::receive_bytes`] or [`Connection::receive_buf`]
//! (taken without copying when the connection holds nothing else). The
//! connection owns them from then on. Body data comes back out as
//! [`Event::Data`] holding `Bytes` that are slices of those buffers: the
//! core never copies body bytes it received. Heads come out as `http`
//! types whose field values are slices of the received head.
//!
//! **After each input**, call [`Connection::poll_event`] until it returns
//! [`Event::NeedData`] (read more, or signal the end) or [`Event::Paused`]
//! (act first: a server must finish its response before the next pipelined
//! request is parsed). Any split of the input gives the same events, with
//! body data possibly split differently.
//!
//! **Sending.** [`Connection::send_request`] or [`Connection::send_response`],
//! then [`Connection::send_data`] and [`Connection::send_end`] (or
//! [`Connection::send_trailers`]); or, for a server with the whole body at
//! hand, [`Connection::send_full_response`]. The core chooses and enforces framing:
//! writes that would break the protocol are refused with [`Misuse`] and
//! nothing is queued. Output is a queue of `Bytes` to write in order:
//! [`Connection::poll_transmit`], or [`Connection::output_chunks`] and
//! [`Connection::advance_output`] for vectored writes. Body bytes handed
//! in go out as they are, without a copy; only pieces shorter than 512
//! bytes are copied, next to the head or framing they follow, since that
//! costs less than writing them apart.
//!
//! **End of input.** [`Connection::receive_eof`] says the peer closed its
//! end. At a message boundary this gives [`Event::Closed`]; a body
//! delimited by the close first gets its [`Event::End`]; anywhere else it
//! is [`Error::Incomplete`].
//!
//! **Timers.** [`Connection::timer`] says which deadline applies now (head
//! read, keep-alive idle, 100-continue wait) and for how long. The IO side
//! arms it and reports expiry with [`Connection::handle_timeout`]; the core
//! decides what expiry means.
//!
//! **Closing.** [`Connection::close_reason`] says why the connection will
//! close; [`Connection::wants_close`] says the IO side should close it once
//! the output is written. [`Connection::wants_read`] says whether to read:
//! reading only then keeps the bytes held within the [`Limits`].
//!
//! **Upgrade.** After a 101 to a request that asked to upgrade, or a 2xx
//! to CONNECT (sent by a server, received by a client), the connection
//! emits exactly one [`Event::Upgrade`] whose `leftover` holds every byte
//! received past the last HTTP message, however the input was split.
//! Nothing follows it; further input is refused. Write out the pending
//! output (the 101 itself, on a server), then hand the socket and the
//! leftover to the new protocol.
//!
//! **Errors** are split by origin ([`Error`]): the peer broke the protocol,
//! a limit was exceeded, the input ended mid-message, a deadline passed,
//! or the caller misused the API. Receive errors are sticky; a server can
//! still send one response (the suggested status) before closing.
//!
//! ## Example
//!
//! A server connection receives a request and answers it:
//!
//! ```
//! use h1::{Connection, Event};
//! use http::Response;
//!
//! let mut conn = Connection::server();
//! conn.receive(b"POST /echo HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello")?;
//!
//! let mut body = Vec::new();
//! loop {
//!     match conn.poll_event()? {
//!         Event::Request(req) => assert_eq!(req.uri().path(), "/echo"),
//!         Event::Data(data) => body.extend_from_slice(&data),
//!         Event::End => break,
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! assert_eq!(body, b"hello");
//!
//! let res = Response::builder().header("content-length", "5").body(())?;
//! conn.send_response(res)?;
//! conn.send_data(body.into())?;
//! conn.send_end()?;
//!
//! let mut wire = Vec::new();
//! while let Some(bytes) = conn.poll_transmit() {
//!     wire.extend_from_slice(&bytes);
//! }
//! assert_eq!(wire, b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello");
//! assert!(matches!(conn.poll_event()?, Event::NeedData)); // ready for the next request
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod body;
mod config;
mod conn;
mod date;
mod error;
mod event;
mod head;

pub use config::{Config, Leniency, Limits, Timeouts};
pub use conn::state::{CloseReason, Role, State};
pub use conn::timer::{Timer, TimerKind};
pub use conn::Connection;
pub use date::http_date;
pub use error::{Error, Incomplete, LimitError, Misuse, ProtocolError};
pub use event::{Event, ReasonPhrase};
pub use head::requested_upgrade;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

// The `http` crate's types appear throughout the API.
pub use bytes;
pub use http;
