//! Socket handover after a switch: the concrete IO value and the bytes
//! already received for the new protocol. Shared by the three adapters
//! through `#[path]`; each implements its runtime's IO traits for
//! [`Upgraded`] on top of [`Upgraded::take_leftover`].

use bytes::Bytes;

/// The connection taken apart after a 101 or a 2xx to CONNECT: the IO
/// value, as its own concrete type (no boxing, no downcast), and every
/// byte received past the last HTTP message.
#[derive(Debug)]
pub struct Parts<IO> {
    /// The socket (or whatever IO the connection ran over).
    pub io: IO,
    /// Bytes the peer already sent in the new protocol.
    pub leftover: Bytes,
}

impl<IO> Parts<IO> {
    /// An IO value that replays `leftover` before reading from `io`.
    pub fn into_upgraded(self) -> Upgraded<IO> {
        Upgraded {
            io: self.io,
            leftover: self.leftover,
        }
    }
}

/// The IO after a switch: reads return the leftover bytes first, then
/// whatever the socket delivers; writes go straight to the socket.
#[derive(Debug)]
pub struct Upgraded<IO> {
    pub(crate) io: IO,
    leftover: Bytes,
}

impl<IO> Upgraded<IO> {
    /// The socket and any leftover bytes not yet read.
    pub fn into_parts(self) -> Parts<IO> {
        Parts {
            io: self.io,
            leftover: self.leftover,
        }
    }

    /// The socket.
    pub fn get_ref(&self) -> &IO {
        &self.io
    }

    /// Up to `max` leftover bytes not yet read, if any remain: what a read
    /// returns before it reaches the socket.
    pub(crate) fn take_leftover(&mut self, max: usize) -> Option<Bytes> {
        if self.leftover.is_empty() || max == 0 {
            return None;
        }
        let n = self.leftover.len().min(max);
        Some(self.leftover.split_to(n))
    }
}
