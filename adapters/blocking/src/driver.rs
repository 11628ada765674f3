//! The blocking IO loop over the driver's sans-IO [`Session`]: it writes
//! what the session queued and reads as it says, without holding the
//! session while a read or write blocks, so that one thread may read while
//! another writes. A thread alone does both: a write that waits for the
//! socket gives way to a short read every [`SLICE`], so that what the peer
//! sends keeps being read (full duplex) and a client sees an early
//! response. Deadlines become the socket's read and write timeouts.
//! No HTTP decisions live here: those are the session's.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use h1_driver::{ReadMode, Session};

use crate::Socket;

/// Size of the zero-initialized region each read fills.
const READ_CHUNK: usize = 8 * 1024;
/// Room on the stack for a read between messages.
const SMALL_READ: usize = 4 * 1024;
/// Most slices handed to one vectored write.
const MAX_SLICES: usize = 16;
/// How long a write that waits for the socket blocks before the thread
/// reads what the peer sent meanwhile (and how long that read waits).
pub(crate) const SLICE: Duration = Duration::from_millis(10);
/// How often a wait for a request looks at a shutdown flag.
const STOP_POLL: Duration = Duration::from_millis(100);
/// Longest wait for another thread's read or write before looking again.
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// Socket timeouts cannot be zero.
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

pub(crate) struct State {
    pub(crate) session: Session,
    read_buf: BytesMut,
    /// Output taken from the session and not yet written.
    in_flight: VecDeque<Bytes>,
    /// A thread is reading from (or writing to) the socket.
    reading: bool,
    writing: bool,
    /// The last write waited for the socket: read before writing again.
    write_waited: bool,
    /// The socket's own read timeout, found at creation: a limit on each
    /// wait for the peer.
    pub(crate) base_timeout: Option<Duration>,
    /// The timeouts last set on the socket, when known.
    read_timeout: Option<Option<Duration>>,
    write_timeout: Option<Option<Duration>>,
}

/// A connection's socket and session, shared by its handles.
pub(crate) struct Shared<IO> {
    pub(crate) io: IO,
    pub(crate) state: Mutex<State>,
    changed: Condvar,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn min(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl<IO: Socket> Shared<IO> {
    pub(crate) fn new(io: IO, session: Session) -> Self {
        let base_timeout = io.read_timeout().ok().flatten();
        Shared {
            io,
            state: Mutex::new(State {
                session,
                read_buf: BytesMut::new(),
                in_flight: VecDeque::new(),
                reading: false,
                writing: false,
                write_waited: false,
                base_timeout,
                read_timeout: Some(base_timeout),
                write_timeout: None,
            }),
            changed: Condvar::new(),
        }
    }

    /// Runs `op` on the session, doing IO until it completes. With `stop`,
    /// a raised flag starts a graceful shutdown.
    pub(crate) fn run<R>(&self, stop: Option<&AtomicBool>, mut op: impl FnMut(&mut Session) -> Poll<R>) -> R {
        let mut st = lock(&self.state);
        loop {
            if stop.is_some_and(|s| s.load(Ordering::Acquire)) && !st.session.is_shutting_down() {
                st.session.set_shutting_down();
            }
            if let Poll::Ready(r) = op(&mut st.session) {
                drop(st);
                self.changed.notify_all();
                return r;
            }
            st = self.step(st, stop.is_some());
        }
    }

    /// Runs `f` on the session (no IO), then wakes the waiting threads.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Session) -> R) -> R {
        let r = f(&mut lock(&self.state).session);
        self.changed.notify_all();
        r
    }

    /// Looks at the socket without waiting: a close (or bytes) the peer
    /// sent while nobody was reading reaches the session. Skipped while
    /// another thread reads.
    pub(crate) fn read_now(&self) {
        let mut st = lock(&self.state);
        if st.reading || st.session.read_mode() == ReadMode::None {
            return;
        }
        let mut small = [0u8; SMALL_READ];
        if self.io.set_nonblocking(true).is_err() {
            return;
        }
        let result = self.io.read(&mut small);
        let restored = self.io.set_nonblocking(false);
        match result {
            Ok(n) => st.session.receive(&small[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
            Err(e) => st.session.read_failed(e),
        }
        if let Err(e) = restored {
            st.session.read_failed(e);
        }
        st.session.pump();
    }

    /// Reads the session (no IO).
    pub(crate) fn inspect<R>(&self, f: impl FnOnce(&Session) -> R) -> R {
        f(&lock(&self.state).session)
    }

    /// One step of IO: a write, a read, or a wait for another thread's.
    fn step<'a>(&'a self, mut st: MutexGuard<'a, State>, watch_stop: bool) -> MutexGuard<'a, State> {
        let now = Instant::now();
        // Deadlines that passed and events the core already holds change
        // what the operation sees: let it look again first.
        if st.session.handle_deadlines(now) || st.session.pump() {
            self.changed.notify_all();
            return st;
        }
        let deadline = st
            .session
            .deadline(|| now)
            .map(|d| d.saturating_duration_since(now));
        let write = (st.session.is_write_wanted() || st.session.is_shutdown_due()) && !st.writing;
        let read = st.session.read_mode() != ReadMode::None && !st.reading;
        match (write, read) {
            (true, true) if st.write_waited => {
                st.write_waited = false;
                self.read_step(st, min(deadline, Some(SLICE)))
            }
            (true, _) => self.write_step(st, deadline, read),
            (false, true) => {
                let stop = watch_stop.then_some(STOP_POLL);
                self.read_step(st, min(deadline, stop))
            }
            (false, false) => {
                let mut wait = deadline.unwrap_or(IDLE_WAIT).min(IDLE_WAIT);
                if watch_stop {
                    wait = wait.min(STOP_POLL);
                }
                self.changed
                    .wait_timeout(st, wait)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        }
    }

    /// Reads once, without holding the session while the read blocks.
    fn read_step<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        limit: Option<Duration>,
    ) -> MutexGuard<'a, State> {
        let mode = st.session.read_mode();
        // The socket's own timeout limits each wait for the peer.
        let timeout = min(limit, st.base_timeout);
        let over_base = st.base_timeout.is_some() && timeout == st.base_timeout;
        if let Err(e) = self.set_read_timeout(&mut st, timeout) {
            st.session.read_failed(e);
            return st;
        }
        st.reading = true;
        let mut buf = match mode {
            ReadMode::Small => BytesMut::new(),
            _ => std::mem::take(&mut st.read_buf),
        };
        drop(st);
        let mut stack = [0u8; SMALL_READ];
        let result = match mode {
            ReadMode::Small => self.io.read(&mut stack),
            _ => {
                if buf.len() < READ_CHUNK / 2 {
                    buf.resize(READ_CHUNK, 0);
                }
                self.io.read(&mut buf)
            }
        };
        let mut st = lock(&self.state);
        st.reading = false;
        match result {
            Ok(n) => match mode {
                ReadMode::Discard => st.session.discarded(n),
                ReadMode::Small => st.session.receive(&stack[..n]),
                _ => st.session.receive_buf(buf.split_to(n)),
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                if over_base {
                    st.session.read_failed(e);
                }
            }
            Err(e) => st.session.read_failed(e),
        }
        if mode != ReadMode::Small {
            st.read_buf = buf;
        }
        self.changed.notify_all();
        st
    }

    /// Writes once (or shuts the write side), without holding the session
    /// while the write blocks. With `sliced`, the write waits at most
    /// [`SLICE`] so that the thread can read next.
    fn write_step<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        deadline: Option<Duration>,
        sliced: bool,
    ) -> MutexGuard<'a, State> {
        st.writing = true;
        if st.session.is_shutdown_due() && st.in_flight.is_empty() {
            drop(st);
            let half_closed = self.io.shutdown_write().is_ok();
            let mut st = lock(&self.state);
            st.writing = false;
            st.session.shutdown_done(Instant::now(), half_closed);
            self.changed.notify_all();
            return st;
        }
        let epoch = st.session.output_epoch();
        let mut pieces = std::mem::take(&mut st.in_flight);
        while pieces.len() < MAX_SLICES {
            match st.session.take_output() {
                Some(piece) => pieces.push_back(piece),
                None => break,
            }
        }
        let started = Instant::now();
        let timeout = min(
            min(deadline, sliced.then_some(SLICE)),
            st.session.write_wait_limit(started),
        );
        if let Err(e) = self.set_write_timeout(&mut st, timeout) {
            st.writing = false;
            st.session.write_failed(e);
            return st;
        }
        drop(st);
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        for (slot, piece) in slices.iter_mut().zip(&pieces) {
            *slot = IoSlice::new(piece);
        }
        let result = self.io.write_vectored(&slices[..pieces.len().min(MAX_SLICES)]);
        let mut st = lock(&self.state);
        st.writing = false;
        if st.session.output_epoch() == epoch {
            match result {
                Ok(0) => st.session.write_failed(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    let mut rest = n;
                    while let Some(front) = pieces.front_mut() {
                        if rest < front.len() {
                            front.advance(rest);
                            break;
                        }
                        rest -= front.len();
                        pieces.pop_front();
                    }
                    st.session.advance_taken(n);
                    st.in_flight = pieces;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => st.in_flight = pieces,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    st.session.write_blocked(started);
                    st.write_waited = true;
                    st.in_flight = pieces;
                }
                Err(e) => st.session.write_failed(e),
            }
        }
        self.changed.notify_all();
        st
    }

    fn set_read_timeout(&self, st: &mut State, timeout: Option<Duration>) -> io::Result<()> {
        let timeout = timeout.map(|t| t.max(MIN_TIMEOUT));
        if st.read_timeout != Some(timeout) {
            st.read_timeout = None;
            self.io.set_read_timeout(timeout)?;
            st.read_timeout = Some(timeout);
        }
        Ok(())
    }

    fn set_write_timeout(&self, st: &mut State, timeout: Option<Duration>) -> io::Result<()> {
        let timeout = timeout.map(|t| t.max(MIN_TIMEOUT));
        if st.write_timeout != Some(timeout) {
            st.write_timeout = None;
            self.io.set_write_timeout(timeout)?;
            st.write_timeout = Some(timeout);
        }
        Ok(())
    }
}
