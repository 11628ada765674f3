//! What the driver needs of a blocking socket: reading and writing
//! through a shared reference (so that one thread may read while another
//! writes), read and write timeouts to arm deadlines, and closing the
//! write half.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A blocking socket the driver can read and write at the same time and
/// put deadlines on.
///
/// The core's deadlines (head read, keep-alive idle, 100-continue) and the
/// driver's write deadline are armed as the socket's read and write
/// timeouts, set before each read and write. The driver owns both
/// timeouts while it runs: the read timeout the socket had when the
/// connection was created is kept as a limit on each wait for the peer (a
/// read that waits longer fails with an IO error) and is set again when
/// the socket is handed over with `into_parts`.
///
/// Implemented for [`TcpStream`], for `UnixStream` on unix, and for a
/// shared reference to any of them. The socket must be in blocking mode.
pub trait Socket {
    /// Reads once (as [`Read::read`]).
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;

    /// Writes once from `bufs` (as [`Write::write_vectored`]).
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;

    /// The read timeout currently set (`None`: reads block indefinitely).
    fn read_timeout(&self) -> io::Result<Option<Duration>>;

    /// Sets the read timeout: a read waiting longer fails with
    /// `WouldBlock` or `TimedOut`. Never called with a zero duration.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;

    /// Sets the write timeout: a write waiting longer fails with
    /// `WouldBlock` or `TimedOut`. Never called with a zero duration.
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;

    /// Closes the write half: the peer reads the end of input once the
    /// bytes already written are delivered.
    fn shutdown_write(&self) -> io::Result<()>;

    /// Moves the socket in or out of non-blocking mode (for a look at the
    /// socket that must not wait, such as `ClientConnection::is_reusable`).
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()>;
}

/// Implements [`Socket`] for a std socket type whose shared reference
/// reads and writes.
macro_rules! std_socket {
    ($ty:ty) => {
        impl Socket for $ty {
            fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
                Read::read(&mut &*self, buf)
            }

            fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                Write::write_vectored(&mut &*self, bufs)
            }

            fn read_timeout(&self) -> io::Result<Option<Duration>> {
                <$ty>::read_timeout(self)
            }

            fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
                <$ty>::set_read_timeout(self, timeout)
            }

            fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
                <$ty>::set_write_timeout(self, timeout)
            }

            fn shutdown_write(&self) -> io::Result<()> {
                self.shutdown(Shutdown::Write)
            }

            fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
                <$ty>::set_nonblocking(self, nonblocking)
            }
        }
    };
}

std_socket!(TcpStream);
#[cfg(unix)]
std_socket!(std::os::unix::net::UnixStream);

impl<T: Socket + ?Sized> Socket for &T {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read(buf)
    }

    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (**self).write_vectored(bufs)
    }

    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        (**self).read_timeout()
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_write_timeout(timeout)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        (**self).shutdown_write()
    }

    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        (**self).set_nonblocking(nonblocking)
    }
}
