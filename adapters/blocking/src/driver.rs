//! The IO loop shared by both roles: read into the core, write what it
//! queued with vectored writes, arm the deadline it asks for as the
//! socket's read timeout. No HTTP decisions live here.

use std::io::{self, IoSlice, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use h1::http::HeaderMap;
use h1::{Connection, Event, Timer};

use crate::{Error, Socket};

/// Size of the zero-initialized region each read fills.
const READ_CHUNK: usize = 8 * 1024;
/// Queued output that makes a body write wait for the socket.
const HIGH_WATER: usize = 64 * 1024;
/// Most slices handed to one vectored write.
const MAX_SLICES: usize = 16;
/// How often a read waiting for a request looks at the shutdown flag.
const STOP_POLL: Duration = Duration::from_millis(100);

/// What [`Driver::step`] found.
// Moved out at once, like the `Event` it wraps.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Step {
    /// The core reported an event.
    Event(Event),
    /// Nothing more will be read: the connection must close, or it
    /// switched protocols after its `Upgrade` event.
    Done,
    /// The shutdown flag was raised while waiting for input.
    Stopped,
}

pub(crate) struct Driver<IO> {
    pub(crate) io: IO,
    pub(crate) conn: Connection,
    /// Bytes past `len()` are spare; `..len()` is zeroed space to read into.
    read_buf: BytesMut,
    /// The core's deadline being timed, and when it passes.
    armed: Option<(Timer, Instant)>,
    /// The socket's own read timeout, found at creation: a limit on each read.
    base_timeout: Option<Duration>,
    /// The read timeout last set on the socket, when known.
    socket_timeout: Option<Option<Duration>>,
    /// Whether the current message's body is still being read.
    pub(crate) reading_body: bool,
    /// Trailers of the last body read.
    pub(crate) trailers: Option<HeaderMap>,
    /// Bytes for the new protocol, once the switch was reported.
    pub(crate) leftover: Option<Bytes>,
}

impl<IO: Read + Write + Socket> Driver<IO> {
    pub(crate) fn new(io: IO, conn: Connection) -> Self {
        let base_timeout = io.read_timeout().ok().flatten();
        Driver {
            io,
            conn,
            read_buf: BytesMut::new(),
            armed: None,
            base_timeout,
            socket_timeout: Some(base_timeout),
            reading_body: false,
            trailers: None,
            leftover: None,
        }
    }

    /// The next chunk of the current body; `None` at its end. A server
    /// first sends `100 Continue` if the client waits for it, and answers
    /// a broken body with the status the core suggests.
    pub(crate) fn body_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        self.next_body_chunk().map_err(|e| self.answer_error(e))
    }

    fn next_body_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        if !self.reading_body {
            return Ok(None);
        }
        self.conn.send_continue_if_expected()?;
        loop {
            match self.next_event()? {
                Some(Event::Data(data)) => return Ok(Some(data)),
                Some(Event::Trailers(trailers)) => self.trailers = Some(trailers.to_header_map()?),
                Some(Event::Upgrade { leftover }) => {
                    self.leftover = Some(leftover);
                    self.reading_body = false;
                    return Ok(None);
                }
                _ => {
                    self.reading_body = false;
                    return Ok(None);
                }
            }
        }
    }

    /// Gives the core the current second, for the `date` field it adds to
    /// responses (the core reads no clock).
    pub(crate) fn set_time(&mut self) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        self.conn.set_time(now.map_or(0, |d| d.as_secs()));
    }

    /// Server: answers a peer's error with its status (if the core still
    /// allows an answer), then closes the write side. Returns the error.
    pub(crate) fn answer_error(&mut self, e: Error) -> Error {
        if let Error::Protocol(err) = &e {
            self.set_time();
            if self.conn.send_error_response(err) {
                let _ = self.shutdown();
            }
        }
        e
    }

    /// Takes the connection apart after a switch: flushes what is queued
    /// (the 101 itself, on a server), collects the leftover bytes and puts
    /// the socket's own read timeout back.
    pub(crate) fn into_parts(mut self) -> Result<crate::Parts<IO>, Error> {
        self.flush()?;
        if self.leftover.is_none() {
            match self.conn.poll_event()? {
                Event::Upgrade { leftover } => self.leftover = Some(leftover),
                _ => {
                    let state = self.conn.our_state();
                    return Err(h1::Misuse::WrongState {
                        call: "into_parts",
                        state,
                    }
                    .into());
                }
            }
        }
        self.set_read_timeout(self.base_timeout)?;
        Ok(crate::Parts {
            io: self.io,
            leftover: self.leftover.unwrap_or_default(),
        })
    }

    /// Queues body bytes; writes once enough is queued (backpressure).
    pub(crate) fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        self.conn.send_data(data)?;
        if self.conn.output_len() >= HIGH_WATER {
            self.flush()?;
        }
        Ok(())
    }

    /// The next event, flushing output and reading when the core needs
    /// data. `None`: nothing more will be read (the connection must close,
    /// or it switched protocols after its `Upgrade` event).
    pub(crate) fn next_event(&mut self) -> Result<Option<Event>, Error> {
        match self.step(None)? {
            Step::Event(event) => Ok(Some(event)),
            Step::Done | Step::Stopped => Ok(None),
        }
    }

    /// [`next_event`](Self::next_event), also giving up once `stop` is
    /// raised while waiting for input.
    pub(crate) fn step(&mut self, stop: Option<&AtomicBool>) -> Result<Step, Error> {
        loop {
            match self.conn.poll_event()? {
                Event::Finished => return Ok(Step::Done),
                Event::NeedData => {
                    self.flush()?;
                    if !self.read(stop)? {
                        return Ok(Step::Stopped);
                    }
                }
                event => return Ok(Step::Event(event)),
            }
        }
    }

    /// Reads once into the core, or reports the armed deadline's expiry to
    /// it. Returns false, having read nothing, once `stop` is raised.
    fn read(&mut self, stop: Option<&AtomicBool>) -> Result<bool, Error> {
        // The socket's own read timeout limits the whole wait.
        let limit = self.base_timeout.map(|t| Instant::now() + t);
        loop {
            if stop.is_some_and(|s| s.load(Ordering::Acquire)) {
                return Ok(false);
            }
            self.arm_timer();
            let now = Instant::now();
            if let Some((timer, deadline)) = self.armed {
                if now >= deadline {
                    self.armed = None;
                    // A failing deadline makes the core's errors sticky;
                    // the next poll_event reports it.
                    let _ = self.conn.handle_timeout(timer);
                    return Ok(true);
                }
            }
            if limit.is_some_and(|at| now >= at) {
                return Err(Error::Io(io::ErrorKind::TimedOut.into()));
            }
            let until = match (self.armed.map(|(_, at)| at), limit) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let mut timeout = until.map(|at| at - now);
            if stop.is_some() {
                timeout = Some(timeout.map_or(STOP_POLL, |t| t.min(STOP_POLL)));
            }
            self.set_read_timeout(timeout)?;
            if self.read_buf.len() < READ_CHUNK / 2 {
                self.read_buf.resize(READ_CHUNK, 0);
            }
            match self.io.read(&mut self.read_buf) {
                Ok(0) => {
                    self.conn.receive_eof()?;
                    return Ok(true);
                }
                Ok(n) => {
                    self.conn.receive_buf(self.read_buf.split_to(n))?;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // No timeout was set: a non-blocking socket, not supported.
                Err(e) if timeout.is_none() => return Err(e.into()),
                // A deadline or the read limit passed (the next turn says
                // which), the shutdown flag is due for a look, or the
                // timeout woke the read early.
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Starts timing the core's deadline when it is a new one.
    fn arm_timer(&mut self) {
        let wanted = self.conn.timer();
        if wanted.map(|t| t.id) != self.armed.map(|(t, _)| t.id) {
            self.armed = wanted.map(|t| (t, Instant::now() + t.duration));
        }
    }

    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        if self.socket_timeout != Some(timeout) {
            self.socket_timeout = None;
            self.io.set_read_timeout(timeout)?;
            self.socket_timeout = Some(timeout);
        }
        Ok(())
    }

    /// Writes everything the core queued, with vectored writes.
    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        while self.conn.output_len() > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut n = 0;
            for (slot, chunk) in slices.iter_mut().zip(self.conn.output_chunks()) {
                *slot = IoSlice::new(chunk);
                n += 1;
            }
            match self.io.write_vectored(&slices[..n]) {
                Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(written) => self.conn.advance_output(written),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.io.flush()?;
        Ok(())
    }

    /// Flushes, then shuts the write side down.
    pub(crate) fn shutdown(&mut self) -> Result<(), Error> {
        self.flush()?;
        self.io.shutdown_write()?;
        Ok(())
    }
}
