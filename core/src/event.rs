//! What a connection reports about the bytes it received.

use bytes::Bytes;

use crate::head::heads::{RequestHead, ResponseHead};
use crate::head::lines::FieldLines;

/// One step of what the peer sent, returned by
/// [`Connection::poll_event`](crate::Connection::poll_event). Each
/// variant means one thing.
///
/// A message arrives as a head ([`Request`](Event::Request) or
/// [`Response`](Event::Response)), then zero or more [`Data`](Event::Data),
/// at most one [`Trailers`](Event::Trailers), then [`End`](Event::End).
/// The last four variants say why nothing more can be reported now: read
/// ([`NeedData`](Event::NeedData)), answer ([`Paused`](Event::Paused)),
/// or stop reading for good ([`Finished`](Event::Finished),
/// [`Closed`](Event::Closed)).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// Server role: a request head. Its body events follow.
    Request(RequestHead),
    /// Client role: an informational (1xx) response other than 101, such
    /// as `100 Continue` or `103 Early Hints`. The final response follows.
    Informational(ResponseHead),
    /// Client role: the final response head (or a 101). Its body events
    /// follow (none after a switch).
    Response(ResponseHead),
    /// Body bytes: a slice of the received buffer, never a copy.
    Data(Bytes),
    /// The trailer section of a chunked body, when it had fields.
    Trailers(FieldLines),
    /// The message is complete.
    End,
    /// The connection left HTTP/1.1 (a 101 to an upgrade request or a 2xx
    /// to CONNECT). `leftover` holds every byte received past the last HTTP
    /// message; they belong to the new protocol. Emitted exactly once;
    /// [`Finished`](Event::Finished) follows it and the connection takes
    /// no more input.
    Upgrade {
        /// Bytes received after the last HTTP message.
        leftover: Bytes,
    },
    /// Read more input (or signal its end), then poll again. Returned only
    /// while reading is wanted
    /// ([`Connection::is_read_wanted`](crate::Connection::is_read_wanted)).
    NeedData,
    /// Server role: the request is complete and must be answered before
    /// anything more is read (the answer may close or switch the
    /// connection). Send the response, then poll again.
    Paused,
    /// Nothing more will ever be read on this connection: it closes once
    /// the output is written (see
    /// [`Connection::close_reason`](crate::Connection::close_reason)), or it
    /// switched protocols after its [`Upgrade`](Event::Upgrade). Returned
    /// again on every later poll.
    Finished,
    /// The peer closed its end of the connection at a message boundary (or
    /// after a close-delimited body, which first gets its
    /// [`End`](Event::End)). Returned again on every later poll.
    Closed,
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
/// the `http::Response` that
/// [`ResponseHead::into_response`](crate::ResponseHead::into_response)
/// builds, when it differs from the status code's canonical one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonPhrase(pub Bytes);
