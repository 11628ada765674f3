//! Socket handover after a switch: the concrete IO value and the bytes
//! already received for the new protocol.

use std::io::{self, Read, Write};

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
        Upgraded { parts: self }
    }

    /// Up to `max` leftover bytes not yet read, if any remain: what a read
    /// returns before it reaches the socket.
    pub fn take_leftover(&mut self, max: usize) -> Option<Bytes> {
        if self.leftover.is_empty() || max == 0 {
            return None;
        }
        let n = self.leftover.len().min(max);
        Some(self.leftover.split_to(n))
    }
}

/// The IO after a switch: reads return the leftover bytes first, then
/// whatever the socket delivers; writes go straight to the socket.
///
/// It implements [`std::io::Read`] and [`Write`], and, with this crate's
/// `tokio` or `futures-io` feature (which `h1-tokio` and `h1-async-std`
/// turn on), that runtime's IO traits.
#[derive(Debug)]
pub struct Upgraded<IO> {
    pub(crate) parts: Parts<IO>,
}

impl<IO> Upgraded<IO> {
    /// The socket and any leftover bytes not yet read.
    pub fn into_parts(self) -> Parts<IO> {
        self.parts
    }

    /// The socket.
    pub fn get_ref(&self) -> &IO {
        &self.parts.io
    }

    /// The socket, mutably (bytes read from it directly skip the leftover).
    pub fn get_mut(&mut self) -> &mut IO {
        &mut self.parts.io
    }
}

impl<IO: Read> Read for Upgraded<IO> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(bytes) = self.parts.take_leftover(buf.len()) {
            buf[..bytes.len()].copy_from_slice(&bytes);
            return Ok(bytes.len());
        }
        self.parts.io.read(buf)
    }
}

impl<IO: Write> Write for Upgraded<IO> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.parts.io.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.parts.io.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.parts.io.flush()
    }
}
