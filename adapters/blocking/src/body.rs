//! A received body as a `std::io::Read`.

use std::io::{self, Read, Write};

use bytes::{Buf, Bytes};

use crate::driver::Driver;
use crate::{Error, Socket};

/// The current message's body as a [`Read`], from
/// `ServerConnection::body_reader` or `ClientConnection::body_reader`.
/// Reads only as fast as it is read (backpressure); it holds at most one
/// received chunk. A read returns 0 at the end of the body.
pub struct BodyReader<'a, IO> {
    driver: &'a mut Driver<IO>,
    chunk: Bytes,
}

impl<'a, IO> BodyReader<'a, IO> {
    pub(crate) fn new(driver: &'a mut Driver<IO>) -> Self {
        BodyReader {
            driver,
            chunk: Bytes::new(),
        }
    }
}

impl<IO: Read + Write + Socket> Read for BodyReader<'_, IO> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        while self.chunk.is_empty() {
            match self.driver.body_chunk() {
                Ok(Some(chunk)) => self.chunk = chunk,
                Ok(None) => return Ok(0),
                Err(Error::Io(e)) => return Err(e),
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
        let n = self.chunk.len().min(buf.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}
