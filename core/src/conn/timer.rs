//! Deadlines as data: the connection says which one applies and for how
//! long; the IO side arms it and reports expiry. The core never reads a
//! clock.

use std::fmt;
use std::time::Duration;

/// What a deadline guards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimerKind {
    /// Server: a request head must arrive in full, however slowly it is
    /// dribbled. Expiry fails the request with 408.
    HeadRead,
    /// Server: a kept-alive connection sits idle between requests. Expiry
    /// closes it.
    KeepAlive,
    /// Client: a request with `Expect: 100-continue` holds its body. Expiry
    /// sends the body anyway.
    ExpectContinue,
}

impl fmt::Display for TimerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimerKind::HeadRead => "request head not received in time",
            TimerKind::KeepAlive => "keep-alive idle",
            TimerKind::ExpectContinue => "no 100 continue in time",
        })
    }
}

/// A deadline the connection wants armed, from
/// [`Connection::timer`](crate::Connection::timer).
///
/// Each new deadline gets a new `id`: arm a timer for `duration` whenever
/// the id differs from the one armed, and hand the `Timer` back to
/// [`Connection::handle_timeout`](crate::Connection::handle_timeout) when
/// it fires. A deadline that keeps its id keeps running (a head dribbled
/// byte by byte does not restart it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timer {
    /// What the deadline guards.
    pub kind: TimerKind,
    /// How long after arming it fires.
    pub duration: Duration,
    /// Identifies this deadline; a stale id is ignored on expiry.
    pub id: u64,
}
