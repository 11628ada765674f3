//! The async IO loop: writes what the session queued (vectored), shuts
//! the write side when it says so, reads as it says (into the core, a
//! little between messages, or discarding while lingering), and times its
//! deadlines with the runtime's sleep. No HTTP decision lives here: those
//! are the session's.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::Context;
use std::time::Instant;

use bytes::BytesMut;

use crate::rt::{Sleep, Transport};
use crate::session::{ReadMode, Session};

/// Most slices handed to one vectored write.
const MAX_SLICES: usize = 16;

/// What a round of IO changed, so that waiters elsewhere can be woken.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Progress {
    pub(crate) moved: bool,
}

/// A session with its IO and the runtime's timer.
pub(crate) struct Driver<IO, Rt: Transport<IO>> {
    pub(crate) session: Session,
    /// `None` once handed over by `into_parts`.
    pub(crate) io: Option<IO>,
    read_buf: BytesMut,
    /// A sleep set no later than the session's deadline, and when it fires.
    sleep: Option<(Rt::Sleep, Instant)>,
}

impl<IO: Unpin, Rt: Transport<IO>> Driver<IO, Rt> {
    pub(crate) fn new(io: IO, session: Session) -> Self {
        Driver {
            session,
            io: Some(io),
            read_buf: BytesMut::new(),
            sleep: None,
        }
    }

    /// Does a round of IO (writes what is queued, reads once if reading is
    /// wanted) and, when nothing moved, arms what waits (the socket's
    /// readiness, the sleep for the next deadline) on `cx`. The caller
    /// looks at the session and calls again while something moves.
    pub(crate) fn poll_io(&mut self, cx: &mut Context<'_>) -> Progress {
        if self.io.is_none() {
            return Progress::default();
        }
        // A write that emptied the output ends the round: the caller looks
        // at the session first (a flush is then done), and the next round
        // reads. A write that is blocked reads at once (full duplex).
        let wrote = self.poll_write(cx);
        if wrote && self.session.output_len() == 0 {
            return Progress { moved: true };
        }
        let moved = wrote | self.poll_read(cx);
        // Deadlines matter once the connection waits.
        let moved = moved || self.poll_deadline(cx);
        Progress { moved }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>) -> bool {
        let Driver { session, io, .. } = self;
        let Some(io) = io.as_mut() else { return false };
        let mut moved = false;
        while session.is_write_wanted() {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut n = 0;
            for (slot, chunk) in slices.iter_mut().zip(session.output_chunks()) {
                *slot = IoSlice::new(chunk);
                n += 1;
            }
            match Rt::poll_write_vectored(Pin::new(&mut *io), cx, &slices[..n]) {
                std::task::Poll::Ready(Ok(0)) => {
                    session.write_failed(std::io::ErrorKind::WriteZero.into());
                    return true;
                }
                std::task::Poll::Ready(Ok(written)) => {
                    session.advance_output(written);
                    moved = true;
                }
                std::task::Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
                std::task::Poll::Ready(Err(e)) => {
                    session.write_failed(e);
                    return true;
                }
                std::task::Poll::Pending => {
                    session.write_blocked(Instant::now());
                    return moved;
                }
            }
        }
        if moved {
            if let std::task::Poll::Ready(Err(e)) = Rt::poll_flush(Pin::new(&mut *io), cx) {
                session.write_failed(e);
            }
        }
        if session.is_shutdown_due() && Rt::poll_shutdown(Pin::new(&mut *io), cx).is_ready() {
            session.shutdown_done(Instant::now(), Rt::HALF_CLOSE);
            moved = true;
        }
        moved
    }

    fn poll_read(&mut self, cx: &mut Context<'_>) -> bool {
        let Driver {
            session,
            io,
            read_buf,
            ..
        } = self;
        let Some(io) = io.as_mut() else { return false };
        let mut moved = session.pump();
        let read = match session.read_mode() {
            ReadMode::None => return moved,
            ReadMode::Small => Rt::poll_read_small(Pin::new(io), cx, |read| session.receive(read)),
            ReadMode::Buffer => {
                Rt::poll_read(Pin::new(io), cx, read_buf).map_ok(|read| session.receive_buf(read))
            }
            ReadMode::Discard => {
                Rt::poll_read(Pin::new(io), cx, read_buf).map_ok(|read| session.discarded(read.len()))
            }
        };
        match read {
            std::task::Poll::Ready(Ok(())) => moved = true,
            std::task::Poll::Ready(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => moved = true,
            std::task::Poll::Ready(Err(e)) => {
                session.read_failed(e);
                moved = true;
            }
            std::task::Poll::Pending => {}
        }
        if moved {
            // What was read becomes events at once.
            session.pump();
        }
        moved
    }

    /// Watches the session's next deadline with the runtime's sleep. The
    /// sleep is only set again when the deadline falls before it fires: a
    /// keep-alive deadline that moves later with each request costs no
    /// timer update (an early firing is caught in `poll_sleep`).
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.session.deadline(Instant::now) else {
            return false;
        };
        match &mut self.sleep {
            Some((_, fires)) if *fires <= deadline => {}
            Some((sleep, fires)) => {
                sleep.reset(deadline);
                *fires = deadline;
            }
            None => self.sleep = Some((Rt::Sleep::until(deadline), deadline)),
        }
        self.poll_sleep(cx, deadline)
    }

    /// Polls the sleep set for `deadline` (or earlier); acts on the
    /// deadline once it passed, sets the sleep again if it fired early.
    fn poll_sleep(&mut self, cx: &mut Context<'_>, deadline: Instant) -> bool {
        let Some((sleep, fires)) = self.sleep.as_mut() else {
            return false;
        };
        loop {
            if sleep.poll_elapsed(cx).is_pending() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                // Some runtimes' sleeps never fire twice: start afresh.
                self.sleep = None;
                return self.session.handle_deadlines(now);
            }
            sleep.reset(deadline);
            *fires = deadline;
        }
    }
}
