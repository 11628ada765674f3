//! One connection, used from several places at once: the connection value
//! and its body handles share the driver behind a mutex (never held across
//! an await: every operation is a poll that locks, works and unlocks).
//!
//! Whoever waits drives the IO. The socket and the sleep are polled with
//! a waker that fans out to every waiter (one slot per kind of waiter), so
//! that readiness wakes whoever may need it, whichever task registered it;
//! and an operation that moves anything wakes the other waiters, since
//! what it read or wrote may be what they wait for.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use crate::io::Driver;
use crate::rt::Transport;
use crate::session::Session;

/// Who waits: the connection's receiving or sending calls, a body
/// receiver or a body sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    ConnRecv = 0,
    ConnSend = 1,
    Receiver = 2,
    Sender = 3,
}

const SLOTS: usize = 4;
/// Rounds of IO one operation makes before yielding to other tasks.
const OP_ROUNDS: usize = 4;

/// The waiters, and the fan-out waker over them.
#[derive(Default)]
pub(crate) struct Wakers {
    slots: Mutex<[Option<Waker>; SLOTS]>,
}

impl Wakers {
    fn register(&self, slot: Slot, waker: &Waker) {
        let mut slots = lock(&self.slots);
        match &slots[slot as usize] {
            Some(w) if w.will_wake(waker) => {}
            _ => slots[slot as usize] = Some(waker.clone()),
        }
    }

    fn clear(&self, slot: Slot) {
        lock(&self.slots)[slot as usize] = None;
    }

    /// Wakes every waiter but `except` (woken outside the lock).
    pub(crate) fn wake_others(&self, except: Option<Slot>) {
        let mut woken: [Option<Waker>; SLOTS] = Default::default();
        {
            let mut slots = lock(&self.slots);
            for (i, (slot, out)) in slots.iter_mut().zip(&mut woken).enumerate() {
                if except.is_none_or(|s| s as usize != i) {
                    *out = slot.take();
                }
            }
        }
        woken.into_iter().flatten().for_each(Waker::wake);
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let woken: [Option<Waker>; SLOTS] = lock(&self.slots).clone();
        woken.into_iter().flatten().for_each(Waker::wake);
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The driver and its waiters.
pub(crate) struct Shared<IO, Rt: Transport<IO>> {
    pub(crate) driver: Mutex<Driver<IO, Rt>>,
    pub(crate) wakers: Arc<Wakers>,
}

impl<IO: Unpin, Rt: Transport<IO>> Shared<IO, Rt> {
    pub(crate) fn new(io: IO, session: Session) -> Arc<Self> {
        Arc::new(Shared {
            driver: Mutex::new(Driver::new(io, session)),
            wakers: Arc::default(),
        })
    }

    /// Runs `op` on the session, driving the IO while it cannot complete.
    pub(crate) fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        slot: Slot,
        mut op: impl FnMut(&mut Session) -> Poll<R>,
    ) -> Poll<R> {
        let mut driver = lock(&self.driver);
        if let Poll::Ready(r) = op(&mut driver.session) {
            drop(driver);
            self.done(slot);
            return Poll::Ready(r);
        }
        // Registered before the IO is polled, so no readiness is missed.
        self.wakers.register(slot, cx.waker());
        let fan_out = Waker::from(self.wakers.clone());
        let mut io_cx = Context::from_waker(&fan_out);
        let mut moved = false;
        // IO, then the operation again, while the IO moves: what the
        // operation changes (a close begun, output queued) is acted on by
        // the next round before waiting.
        for _ in 0..OP_ROUNDS {
            let progress = driver.poll_io(&mut io_cx);
            moved |= progress.moved;
            if let Poll::Ready(r) = op(&mut driver.session) {
                drop(driver);
                self.done(slot);
                return Poll::Ready(r);
            }
            if !progress.moved {
                drop(driver);
                if moved {
                    self.wakers.wake_others(Some(slot));
                }
                return Poll::Pending;
            }
        }
        // Still moving: let other tasks run, and come back.
        drop(driver);
        self.wakers.wake_others(None);
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// An operation completed: it no longer waits, and what it changed
    /// may be what others wait for.
    fn done(&self, slot: Slot) {
        self.wakers.clear(slot);
        self.wakers.wake_others(Some(slot));
    }

    /// Runs `f` on the session (no IO), then wakes the waiters.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Session) -> R) -> R {
        let r = f(&mut lock(&self.driver).session);
        self.wakers.wake_others(None);
        r
    }

    /// Reads the session (no IO, nobody woken).
    pub(crate) fn inspect<R>(&self, f: impl FnOnce(&Session) -> R) -> R {
        f(&lock(&self.driver).session)
    }

    /// Polls the IO once without waiting (a close the peer sent while
    /// nobody was reading is noticed here).
    pub(crate) fn poll_io_now(&self) {
        let fan_out = Waker::from(self.wakers.clone());
        lock(&self.driver).poll_io(&mut Context::from_waker(&fan_out));
    }

    /// Waits for `op`.
    pub(crate) async fn wait<R>(&self, slot: Slot, mut op: impl FnMut(&mut Session) -> Poll<R>) -> R {
        std::future::poll_fn(|cx| self.poll_op(cx, slot, &mut op)).await
    }
}
