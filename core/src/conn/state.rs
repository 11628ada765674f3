//! Per-side states of a connection, in the manner of h11. The state
//! diagram is on [`State`].

/// The state of one side of a connection, in the manner of h11.
///
/// Each side of a connection (the client's messages, the server's
/// messages) is in one [`State`]; [`Connection::our_state`] and
/// [`Connection::their_state`] report them. The server's diagram:
///
/// ```text
///   client side (requests)                server side (responses)
///
///        +------+  request head             +------+  request head received
///        | Idle |------------+              | Idle |-----------------+
///        +------+            v              +------+                 v
///           ^          +----------+            ^            +--------------+  1xx
///           |          | SendBody |            |            | SendResponse |<----+
///           |          +----------+            |            +--------------+-----+
///           |     end of   |   end of body,    |     final      |        |
///           |     body     |   upgrade or      |     response   |        | 101 / 2xx to
///           |              v   CONNECT asked   |     head       v        | CONNECT
///           |         +------+   +---------------------+   +----------+  |
///           |         | Done |   | MightSwitchProtocol |   | SendBody |  |
///           |         +------+   +---------------------+   +----------+  |
///           |            |          |             |            | end     |
///           |            |   any other final      |            v         |
///           |            |   response: Done       |        +------+      |
///           |            |                        |        | Done |      |
///           |            |                        |        +------+      |
///           +------------+------------------------|------------+         |
///          both Done and the connection persists  |                      |
///          (otherwise both become MustClose)       v                      v
///                                         +------------------+-----------------+
///                                         |         SwitchedProtocol           |
///                                         +------------------------------------+
///
///   MustClose --(peer's end of input)--> Closed      any side --(error)--> Error
/// ```
///
/// The client's own requests follow the left column, except that a client
/// may pipeline: its side returns from Done to Idle at once when the
/// connection persists and no switch was proposed, so it can send the next
/// request before the response arrives. Responses are matched to requests
/// in order. The server parses no pipelined request before its response
/// to the previous one is complete ([`Event::Paused`](crate::Event::Paused)),
/// since that response may close or switch the connection.
///
/// [`Connection::our_state`]: crate::Connection::our_state
/// [`Connection::their_state`]: crate::Connection::their_state
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Between messages.
    Idle,
    /// Server side: a request head arrived and its response has not
    /// started (1xx responses may be sent).
    SendResponse,
    /// A head was sent or received; its body is in progress.
    SendBody,
    /// This side's message is complete; waiting for the other side.
    Done,
    /// This side's message is complete and the connection will close.
    MustClose,
    /// This side closed its half of the connection.
    Closed,
    /// The request asked to switch protocols and is complete; the response
    /// decides.
    MightSwitchProtocol,
    /// The connection left HTTP/1.1.
    SwitchedProtocol,
    /// This side broke the protocol; nothing more will be exchanged.
    Error,
}

/// Which side of the connection this state machine plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Reads requests, writes responses.
    Server,
    /// Writes requests, reads responses.
    Client,
}

/// Why a connection must close once its current exchange is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer sent `Connection: close`.
    PeerAskedClose,
    /// We sent `Connection: close`.
    WeAskedClose,
    /// HTTP/1.0 without `Connection: keep-alive`.
    Http10,
    /// A body delimited by the end of the connection.
    CloseDelimitedBody,
    /// A server answered before reading a body it was asked (with
    /// `Expect: 100-continue`) to wait for, or a client dropped a body its
    /// server answered before accepting.
    UnsentBody,
    /// The peer closed its end.
    PeerClosed,
    /// The keep-alive idle deadline passed.
    IdleTimeout,
    /// A protocol error, by either side, or a deadline that failed a message.
    Error,
}
