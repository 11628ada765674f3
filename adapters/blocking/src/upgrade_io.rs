//! The runtime's IO traits for [`Upgraded`]: reads replay the leftover
//! bytes first.

use std::io::{self, Read, Write};

use crate::Upgraded;

impl<IO: Read> Read for Upgraded<IO> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(bytes) = self.take_leftover(buf.len()) {
            buf[..bytes.len()].copy_from_slice(&bytes);
            return Ok(bytes.len());
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
