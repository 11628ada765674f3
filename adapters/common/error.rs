//! One error type per adapter: IO failures apart from HTTP errors (the
//! core's error inside, with its origin and suggested status). Shared by the
//! three adapter crates (included with `#[path]`).

use std::{fmt, io};

/// An error from a connection: the socket failed, or HTTP went wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the socket failed (over blocking IO, this includes
    /// a read that waited longer than the socket's own read timeout:
    /// `TimedOut` or `WouldBlock`).
    Io(io::Error),
    /// HTTP went wrong: the peer broke the protocol, a limit or deadline
    /// was exceeded, or the caller misused the API. See [`h1::Error`].
    Protocol(h1::Error),
}

impl Error {
    /// The HTTP error, if this is one.
    pub fn protocol(&self) -> Option<&h1::Error> {
        match self {
            Error::Protocol(e) => Some(e),
            Error::Io(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "io error: {e}"),
            Error::Protocol(e) => write!(f, "http error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Protocol(e) => Some(e),
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

/// The answer to a request the core accepted but the `http` types cannot
/// hold (a target or field name longer than they allow): the error's
/// status with `connection: close`. `None` for an error with no status.
pub(crate) fn unconvertible_response(err: &h1::Error) -> Option<h1::ResponseHead> {
    let mut res = h1::ResponseHead::new(err.status()?);
    res.fields_mut().append("connection", "close").ok()?;
    Some(res)
}
