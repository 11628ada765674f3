//! What a connection reports about the bytes it received.

use bytes::Bytes;
use http::{HeaderMap, Request, Response};

/// One step of what the peer sent, returned by
/// [`Connection::poll_event`](crate::Connection::poll_event).
///
/// A message arrives as a head ([`Request`](Event::Request) or
/// [`Response`](Event::Response)), then zero or more [`Data`](Event::Data),
/// at most one [`Trailers`](Event::Trailers), then [`End`](Event::End).
/// [`NeedData`](Event::NeedData) and [`Paused`](Event::Paused) say why
/// nothing more can be reported yet.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// Server role: a request head. Its body events follow.
    Request(Request<()>),
    /// Client role: an informational (1xx) response other than 101, such
    /// as `100 Continue` or `103 Early Hints`. The final response follows.
    Informational(Response<()>),
    /// Client role: the final response head (or a 101). Its body events follow.
    Response(Response<()>),
    /// Body bytes: a slice of the received buffer, never a copy.
    Data(Bytes),
    /// The trailer section of a chunked body, when it had fields.
    Trailers(HeaderMap),
    /// The message is complete.
    End,
    /// The connection left HTTP/1.1 (a 101 to an upgrade request or a 2xx
    /// to CONNECT). `leftover` holds every byte received past the last HTTP
    /// message; they belong to the new protocol. Emitted exactly once;
    /// nothing follows it and the connection takes no more input.
    Upgrade {
        /// Bytes received after the last HTTP message.
        leftover: Bytes,
    },
    /// The peer closed the connection at a message boundary (or ended a
    /// close-delimited body, which first gets its [`End`](Event::End)).
    /// Returned again on every later poll.
    Closed,
    /// Nothing more can be reported until more input (or end of input)
    /// arrives.
    NeedData,
    /// Nothing more will be reported until we act: a server must finish its
    /// response before the next pipelined request is parsed; after a switch
    /// or a close, the connection has nothing more to read.
    Paused,
}

impl Event {
    /// Whether this event carries a message head.
    pub fn is_head(&self) -> bool {
        matches!(
            self,
            Event::Request(_) | Event::Response(_) | Event::Informational(_)
        )
    }
}

/// The reason phrase of a received response, attached as an extension to
/// the [`Response`] when it differs from the status code's canonical one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonPhrase(pub Bytes);
