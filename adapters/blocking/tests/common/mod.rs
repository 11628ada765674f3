//! Loopback helpers: a server thread per connection, raw clients with read
//! timeouts, and a small HTTP/1.1 response reader for raw-socket tests.

#![allow(dead_code)] // each test file uses part of it

use std::io::{ErrorKind, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest any socket read in the tests may wait.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A listener on 127.0.0.1:0 whose first `connections` connections each
/// run `f` on their own thread (with a read timeout set on the socket).
/// Joining the handle joins them all and returns their results in accept
/// order; a panic in `f` fails the join.
pub fn server<T, F>(connections: usize, f: F) -> (SocketAddr, JoinHandle<Vec<T>>)
where
    T: Send + 'static,
    F: Fn(TcpStream) -> T + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    listener.set_nonblocking(true).expect("nonblocking listener");
    let f = Arc::new(f);
    let handle = thread::spawn(move || {
        let deadline = Instant::now() + TIMEOUT;
        let mut threads = Vec::new();
        while threads.len() < connections {
            match listener.accept() {
                Ok((socket, _)) => {
                    socket.set_nonblocking(false).expect("blocking socket");
                    socket.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
                    let f = Arc::clone(&f);
                    threads.push(thread::spawn(move || f(socket)));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    assert!(Instant::now() < deadline, "no client connected");
                    thread::sleep(Duration::from_millis(2));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
        threads
            .into_iter()
            .map(|t| t.join().expect("connection thread panicked"))
            .collect()
    });
    (addr, handle)
}

/// A client socket whose reads give up after [`TIMEOUT`].
pub fn connect(addr: SocketAddr) -> TcpStream {
    let socket = TcpStream::connect(addr).expect("connect");
    socket.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    socket
}

/// Everything until the peer closes (bounded by the read timeout).
pub fn read_to_end(socket: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    socket.read_to_end(&mut out).expect("read until EOF");
    out
}

/// Whether the socket stays silent for `wait` (no byte, no EOF).
pub fn silent_for(socket: &TcpStream, wait: Duration) -> bool {
    socket.set_read_timeout(Some(wait)).expect("read timeout");
    let mut byte = [0; 1];
    let silent = matches!(
        (&*socket).read(&mut byte),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
    );
    socket.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    silent
}

/// A response read off a raw socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
}

impl RawResponse {
    /// The value of the first field called `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads HTTP/1.1 responses off a raw socket, keeping what follows one
/// response for the next.
pub struct RawReader {
    pub socket: TcpStream,
    pub buf: Vec<u8>,
}

impl RawReader {
    pub fn new(socket: TcpStream) -> Self {
        RawReader {
            socket,
            buf: Vec::new(),
        }
    }

    /// Reads more bytes; panics at EOF or on timeout.
    fn fill(&mut self) {
        let mut chunk = [0; 4096];
        let n = self.socket.read(&mut chunk).expect("read");
        assert!(
            n > 0,
            "unexpected EOF; have {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// One CRLF-terminated line, without the CRLF.
    fn line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8(self.buf[..i].to_vec()).expect("ascii line");
                self.buf.drain(..i + 2);
                return line;
            }
            self.fill();
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            self.fill();
        }
        self.buf.drain(..n).collect()
    }

    fn fields(&mut self) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        loop {
            let line = self.line();
            if line.is_empty() {
                return fields;
            }
            let (name, value) = line.split_once(':').expect("field line");
            fields.push((name.to_ascii_lowercase(), value.trim().to_string()));
        }
    }

    /// The next response; `bodiless` for responses whose body framing the
    /// request decides (HEAD, a 2xx to CONNECT). A body with neither
    /// length nor chunked framing runs to EOF.
    pub fn response(&mut self, bodiless: bool) -> RawResponse {
        let status_line = self.line();
        let status = status_line
            .strip_prefix("HTTP/1.1 ")
            .and_then(|s| s.get(..3))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let mut res = RawResponse {
            status,
            headers: self.fields(),
            body: Vec::new(),
            trailers: Vec::new(),
        };
        if bodiless || (100..200).contains(&status) || status == 204 || status == 304 {
            return res;
        }
        if res.header("transfer-encoding") == Some("chunked") {
            loop {
                let size_line = self.line();
                let size = usize::from_str_radix(size_line.split(';').next().unwrap_or_default(), 16)
                    .expect("chunk size");
                if size == 0 {
                    res.trailers = self.fields();
                    return res;
                }
                res.body.extend(self.take(size));
                assert_eq!(self.take(2), b"\r\n", "chunk CRLF");
            }
        }
        match res.header("content-length") {
            Some(len) => {
                let len = len.parse().expect("content-length");
                res.body = self.take(len);
            }
            None => {
                res.body = std::mem::take(&mut self.buf);
                self.socket.read_to_end(&mut res.body).expect("read until EOF");
            }
        }
        res
    }

    /// Whether the peer closed with nothing more to read.
    pub fn at_eof(&mut self) -> bool {
        self.buf.is_empty() && read_to_end(&mut self.socket).is_empty()
    }
}
