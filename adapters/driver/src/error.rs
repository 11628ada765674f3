//! One error type for every driver: IO failures apart from HTTP errors
//! (the core's error inside, with its origin and suggested status), the
//! driver's own deadlines, and a handler's error.

use std::{fmt, io};

/// A boxed error, as handlers return them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An error from a connection: the socket failed, HTTP went wrong, a
/// deadline passed, or a handler failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the socket failed (over blocking IO, this includes
    /// a read that waited longer than the socket's own read timeout:
    /// `TimedOut` or `WouldBlock`).
    Io(io::Error),
    /// HTTP went wrong: the peer broke the protocol, a limit or one of the
    /// core's deadlines was exceeded, or the caller misused the API. See
    /// [`h1::Error`].
    Protocol(h1::Error),
    /// A deadline the driver applies itself passed.
    Timeout(Deadline),
    /// The handler given to `serve` failed.
    Handler(BoxError),
}

/// The deadlines a driver applies itself (the core's own are
/// [`h1::TimerKind`]s). Their durations are [`h1::Timeouts::write`] and
/// [`h1::Timeouts::connect`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Deadline {
    /// The peer stopped reading what the connection writes.
    Write,
    /// A client's connection was not established in time.
    Connect,
}

impl Error {
    /// A handler's error: this type's own errors as they are (a handler
    /// that returns what a connection method gave it keeps its kind), any
    /// other as [`Error::Handler`].
    pub fn from_handler(e: impl Into<BoxError>) -> Error {
        match e.into().downcast::<Error>() {
            Ok(e) => *e,
            Err(e) => Error::Handler(e),
        }
    }

    /// The HTTP error, if this is one.
    pub fn protocol(&self) -> Option<&h1::Error> {
        match self {
            Error::Protocol(e) => Some(e),
            _ => None,
        }
    }

    /// A copy for a second report of the same failure (the IO error keeps
    /// its kind and message, not its source).
    pub(crate) fn again(&self) -> Error {
        match self {
            Error::Io(e) => Error::Io(io::Error::new(e.kind(), e.to_string())),
            Error::Protocol(e) => Error::Protocol(e.clone()),
            Error::Timeout(d) => Error::Timeout(*d),
            Error::Handler(e) => Error::Io(io::Error::other(e.to_string())),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "io error: {e}"),
            Error::Protocol(e) => write!(f, "http error: {e}"),
            Error::Timeout(d) => write!(f, "timed out: {d}"),
            Error::Handler(e) => write!(f, "handler failed: {e}"),
        }
    }
}

impl fmt::Display for Deadline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Deadline::Write => "the peer stopped reading",
            Deadline::Connect => "connection not established in time",
        })
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Protocol(e) => Some(e),
            Error::Timeout(_) => None,
            Error::Handler(e) => Some(&**e),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<h1::Error> for Error {
    fn from(e: h1::Error) -> Self {
        Error::Protocol(e)
    }
}

impl From<h1::Misuse> for Error {
    fn from(e: h1::Misuse) -> Self {
        Error::Protocol(e.into())
    }
}
