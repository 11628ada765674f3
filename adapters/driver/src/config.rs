//! What a driver is configured with: the core's [`h1::Config`] and the
//! deadlines the driver applies itself, plus the fixed sizes that bound
//! each connection's memory.

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

/// Default of [`Config::write_timeout`].
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Default of [`Config::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a driven connection is configured: the core's configuration
/// (limits, leniency, the head-read, keep-alive and expect-continue
/// deadlines) and the deadlines the driver applies itself.
///
/// Every function that takes a configuration takes `impl Into<Config>`, so
/// an [`h1::Config`] works as it is:
///
/// ```
/// let mut config = h1_driver::Config::from(h1::Config::default());
/// config.write_timeout = Some(std::time::Duration::from_secs(5));
/// config.core.limits.body_size = Some(1024 * 1024);
/// ```
///
/// # Defaults
///
/// Every limit and deadline a connection runs with, by default (the core's
/// are set in [`Config::core`], the driver's in this type's fields and the
/// constants of this crate):
///
/// | what | default | where |
/// | --- | --- | --- |
/// | message head (start line, fields, empty line) | 64 KiB (431 past it) | [`h1::Limits::head_size`] |
/// | field lines in a head or trailer section | 100 (431) | [`h1::Limits::header_count`] |
/// | request-target | 8 KiB (414) | [`h1::Limits::request_target`] |
/// | chunk-size line | 4 KiB | [`h1::Limits::chunk_line`] |
/// | chunk extensions, per message | 16 KiB | [`h1::Limits::chunk_extensions`] |
/// | trailer section | 16 KiB (431) | [`h1::Limits::trailer_size`] |
/// | body size | none | [`h1::Limits::body_size`] |
/// | received body data waiting for a reader | 64 KiB | [`READ_AHEAD`] |
/// | queued output before a write waits | 64 KiB | [`HIGH_WATER`] |
/// | unread request body drained to keep the connection | 256 KiB | [`DRAIN_LIMIT`] |
/// | server: a whole request head (408 after) | 30 s | [`h1::Timeouts::head_read`] |
/// | server: idle between requests | 60 s | [`h1::Timeouts::keep_alive`] |
/// | client: waiting for `100 Continue` | 1 s | [`h1::Timeouts::expect_continue`] |
/// | a write waiting for a peer that stops reading | 30 s | [`Config::write_timeout`] |
/// | client: establishing the connection | 10 s | [`Config::connect_timeout`] |
/// | reading on after a close, the peer may still be sending | 2 s | [`LINGER`] |
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The core's configuration.
    pub core: h1::Config,
    /// How long a write may wait for a peer that stops reading. Once it
    /// passes, the connection fails with
    /// [`Error::Timeout`](crate::Error::Timeout)`(`[`Deadline::Write`](crate::Deadline::Write)`)`
    /// and closes. `None`: writes wait as long as the peer takes.
    pub write_timeout: Option<Duration>,
    /// Client: how long [`ClientConnection::connect`](crate::ClientConnection::connect)
    /// waits for the connection to be established.
    pub connect_timeout: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Config::from(h1::Config::default())
    }
}

impl From<h1::Config> for Config {
    fn from(core: h1::Config) -> Self {
        Config {
            core,
            write_timeout: Some(DEFAULT_WRITE_TIMEOUT),
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
        }
    }
}
