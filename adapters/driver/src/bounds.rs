//! The fixed sizes and durations that bound each driven connection beyond
//! the core's own [`Limits`](h1::Limits) and [`Timeouts`](h1::Timeouts).

use std::time::Duration;

/// Queued output at which a body write waits for the socket: a sender is
/// held back once this much is waiting to be written.
pub const HIGH_WATER: usize = 64 * 1024;

/// Read-ahead for body data: received body bytes nobody has consumed yet.
/// Once this much waits, the connection stops reading (backpressure), so
/// memory never grows with the body. Heads are bounded by the core's
/// [`Limits`](h1::Limits) instead.
pub const READ_AHEAD: usize = 64 * 1024;

/// Unread request body a server reads and discards after its response so
/// that the connection can stay open (RFC 9112 section 9.6). A longer
/// remainder closes the connection instead.
pub const DRAIN_LIMIT: u64 = 256 * 1024;

/// How long a connection that closes in the middle of the peer's message
/// keeps reading (and discarding) after shutting down its write side, so
/// that the peer reads the last response before it sees a reset.
pub const LINGER: Duration = Duration::from_secs(2);
