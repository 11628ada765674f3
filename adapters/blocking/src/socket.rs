//! What the driver needs of a blocking socket besides `Read` and `Write`:
//! read timeouts, to arm the core's deadlines, and closing the write half.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A blocking socket the driver can put deadlines on.
///
/// The core's deadlines (head read, keep-alive idle, 100-continue) are
/// armed as the socket's read timeout, set to the time remaining before
/// each read. The driver owns the read timeout while it runs: the one the
/// socket had when the connection was created is kept as a limit on each
/// read (a read that waits longer fails with an IO error) and is set again
/// when the socket is handed over with `into_parts`.
///
/// Implemented for [`TcpStream`] and `&TcpStream`, for `UnixStream` and
/// `&UnixStream` on unix, and for `&mut T` of any of them. The socket must
/// be in blocking mode.
pub trait Socket {
    /// The read timeout currently set (`None`: reads block indefinitely).
    fn read_timeout(&self) -> io::Result<Option<Duration>>;

    /// Sets the read timeout: a read waiting longer fails with
    /// `WouldBlock` or `TimedOut`. Never called with a zero duration.
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;

    /// Closes the write half: the peer reads the end of input once the
    /// bytes already written are delivered.
    fn shutdown_write(&self) -> io::Result<()>;
}

impl Socket for TcpStream {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        TcpStream::read_timeout(self)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl Socket for &TcpStream {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        TcpStream::read_timeout(self)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

#[cfg(unix)]
impl Socket for std::os::unix::net::UnixStream {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        std::os::unix::net::UnixStream::read_timeout(self)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

#[cfg(unix)]
impl Socket for &std::os::unix::net::UnixStream {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        std::os::unix::net::UnixStream::read_timeout(self)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

impl<T: Socket + ?Sized> Socket for &mut T {
    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        (**self).read_timeout()
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        (**self).shutdown_write()
    }
}
