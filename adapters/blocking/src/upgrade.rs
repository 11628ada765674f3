//! Socket handover after a switch: the concrete IO value and the bytes
//! already received for the new protocol.

use std::io::{self, Read, Write};

use bytes::{Buf, Bytes};

/// The connection taken apart after a 101 or a 2xx to CONNECT: the IO
/// value, as its own concrete type, and every byte received past the last
/// HTTP message.
#[derive(Debug)]
pub struct Parts<IO> {
    /// The socket (or whatever IO the connection ran over), with the read
    /// timeout it had before the connection was created.
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
    io: IO,
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
}

impl<IO: Read> Read for Upgraded<IO> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.leftover.is_empty() {
            let n = self.leftover.len().min(buf.len());
            buf[..n].copy_from_slice(&self.leftover[..n]);
            self.leftover.advance(n);
            return Ok(n);
        }
        self.io.read(buf)
    }
}

impl<IO: Write> Write for Upgraded<IO> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.io.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.io.flush()
    }
}
