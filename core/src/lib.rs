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
//! malformed lengths, chunked not last, bare CR or LF, obs-fold in a
//! request, whitespace before a colon, more than one Host, a target
//! outside the URI grammar: all rejected, with the status a server should
//! answer ([`Error::status`]). Where the RFC lets a recipient be lenient,
//! [`Leniency`] has a switch, off by default.
//!
//! ## Heads as they arrived
//!
//! A received head is a [`RequestHead`] or a [`ResponseHead`]: the method,
//! target or reason phrase and every field line exactly as received, in
//! order, names in the case the peer sent, duplicates apart
//! ([`FieldLines`]), backed by the received bytes without a copy. The
//! `http` types are one call away ([`RequestHead::into_request`],
//! [`ResponseHead::into_response`], or for less on the connection that
//! read the head, [`Connection::http_request`] and
//! [`Connection::http_response`]), built only when asked. The same
//! types are sent: a proxy forwards a received head with its field lines
//! in their order and case, less the hop-by-hop fields
//! ([`FieldLines::remove_hop_by_hop`]). `http::Request<()>` and
//! `http::Response<()>` can be sent as well.
//!
//! ## The sans-IO contract
//!
//! **Buffers.** Received bytes are handed in with [`Connection::receive`]
//! (copied), [`Connection::receive_bytes`] or [`Connection::receive_buf`]
//! (taken without copying when the connection holds nothing else). The
//! connection owns them from then on. Body data comes back out as
//! [`Event::Data`] holding `Bytes` that are slices of those buffers, and
//! heads hold the received head's bytes: the core never copies what it
//! received.
//!
//! **After each input**, and after each send, call
//! [`Connection::poll_event`] until it returns [`Event::NeedData`] (read
//! more, or signal the end: returned only while
//! [`Connection::is_read_wanted`]), [`Event::Paused`] (a server must
//! answer the request before the next is read), [`Event::Finished`]
//! (nothing more will be read: close once the output is written) or
//! [`Event::Closed`] (the peer closed). Any split of the input gives the
//! same events, with body data possibly split differently.
//!
//! **Full duplex.** The two directions are independent: a server may
//! answer before the request body has arrived and keep reading it while
//! it sends; a client keeps reading while it uploads, and a response that
//! closes the connection ends the upload (our state becomes `MustClose`).
//! The states of both sides ([`Connection::our_state`],
//! [`Connection::their_state`]) follow one literal state machine, whose
//! tables and diagram are in the source of `conn/state.rs`.
//!
//! **Sending.** [`Connection::send_request`] or [`Connection::send_response`],
//! then [`Connection::send_data`] and [`Connection::send_end`] (or
//! [`Connection::send_trailers`]); or, for a server with the whole body at
//! hand, [`Connection::send_full_response`]. The core chooses and enforces
//! framing: writes that would break the protocol are refused with
//! [`Misuse`] and nothing is queued. Output is a queue of `Bytes` to write
//! in order: [`Connection::poll_output`], or [`Connection::output_chunks`]
//! and [`Connection::advance_output`] for vectored writes. Body bytes
//! handed in go out as they are, without a copy; only pieces shorter than
//! 512 bytes are copied, next to the head or framing they follow, since
//! that costs less than writing them apart.
//!
//! **End of input.** [`Connection::receive_eof`] says the peer closed its
//! end. At a message boundary this gives [`Event::Closed`]; a body
//! delimited by the close first gets its [`Event::End`]; anywhere else it
//! is [`Error::Incomplete`].
//!
//! **Timers.** [`Connection::timer`] says which deadline applies now (head
//! read, keep-alive idle, 100-continue wait) and for how long. The IO side
//! arms it and reports expiry with [`Connection::handle_timeout`]; the core
//! decides what expiry means. [`Timeouts`] also holds the write and connect
//! deadlines, which only the IO side can apply.
//!
//! **Closing.** [`Connection::close_reason`] says why the connection will
//! close; [`Connection::is_close_wanted`] says the IO side should close it
//! once the output is written. [`Connection::is_read_wanted`] says whether
//! to read: reading only then keeps the bytes held within the [`Limits`].
//!
//! **Upgrade.** After a 101 to a request that asked to upgrade, or a 2xx
//! to CONNECT (sent by a server, received by a client), the connection
//! emits exactly one [`Event::Upgrade`] whose `leftover` holds every byte
//! received past the last HTTP message, however the input was split.
//! Only [`Event::Finished`] follows it; further input is refused. Write out
//! the pending output (the 101 itself, on a server), then hand the socket
//! and the leftover to the new protocol.
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
//! use h1::{Connection, Event, ResponseHead};
//! use h1::http::StatusCode;
//!
//! let mut conn = Connection::server();
//! conn.receive(b"POST /echo HTTP/1.1\r\nHost: example.com\r\nX-Trace: a\r\nContent-Length: 5\r\n\r\nhello")?;
//!
//! let mut body = Vec::new();
//! loop {
//!     match conn.poll_event()? {
//!         Event::Request(head) => {
//!             assert_eq!(head.target(), b"/echo");
//!             assert_eq!(head.fields().get("x-trace"), Some(&b"a"[..]));
//!         }
//!         Event::Data(data) => body.extend_from_slice(&data),
//!         Event::End => break,
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//! assert_eq!(body, b"hello");
//!
//! let mut res = ResponseHead::new(StatusCode::OK);
//! res.fields_mut().append("Content-Length", "5")?;
//! conn.send_response(res)?;
//! conn.send_data(body.into())?;
//! conn.send_end()?;
//!
//! let mut wire = Vec::new();
//! while let Some(bytes) = conn.poll_output() {
//!     wire.extend_from_slice(&bytes);
//! }
//! assert_eq!(wire, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
//! assert!(matches!(conn.poll_event()?, Event::NeedData)); // ready for the next request
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## A blocking server over `std::net`
//!
//! The IO side, written out for one connection (the `h1-blocking` crate
//! does this with deadlines and more):
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use h1::{Connection, Event, ResponseHead};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = std::net::TcpListener::bind("127.0.0.1:8080")?;
//! let (mut socket, _) = listener.accept()?;
//! let mut conn = Connection::server();
//! let mut buf = [0u8; 8192];
//! loop {
//!     match conn.poll_event()? {
//!         Event::NeedData => match socket.read(&mut buf)? {
//!             0 => conn.receive_eof()?,
//!             n => conn.receive(&buf[..n])?,
//!         },
//!         Event::Request(_) | Event::Data(_) | Event::Trailers(_) => {}
//!         Event::End | Event::Paused => {
//!             if conn.our_state() == h1::State::SendResponse {
//!                 conn.send_full_response(ResponseHead::new(h1::http::StatusCode::OK), "hi".into())?;
//!             }
//!         }
//!         _ => break, // Finished, Closed, Upgrade
//!     }
//!     while let Some(bytes) = conn.poll_output() {
//!         socket.write_all(&bytes)?;
//!     }
//!     if conn.is_close_wanted() {
//!         break;
//!     }
//! }
//! # Ok(())
//! # }
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
mod semantics;

pub use config::{Config, Leniency, Limits, ObsFold, Timeouts};
pub use conn::state::{CloseReason, Role, State};
pub use conn::timer::{Timer, TimerKind};
pub use conn::{Connection, OutgoingFields, OutgoingRequest, OutgoingResponse};
pub use date::http_date;
pub use error::{Error, Incomplete, LimitError, Misuse, ProtocolError};
pub use event::{Event, ReasonPhrase};
pub use head::heads::{RequestHead, ResponseHead};
pub use head::lines::{Field, FieldLines, Iter as FieldIter};
pub use head::requested_upgrade;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

// The `http` crate's types appear throughout the API.
pub use bytes;
pub use http;
