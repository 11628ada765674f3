//! One connection, used from several places at once: the connection value
//! and its body handles share the driver behind a mutex (never held across
//! an await: every operation is a poll that locks, works and unlocks).
//!
//! Whoever waits drives the IO. The socket and the sleep are polled with
//! a waker that fans out to every waiter, so that readiness wakes whoever
//! may need it, whichever operation registered it; and an operation that
//! moves anything wakes the other waiters, since what it read or wrote
//! may be what they wait for. Each waiting operation (each future, each
//! body handle) has its own entry, so two of them in one task (`join`)
//! never take each other's place.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use smallvec::SmallVec;

use crate::io::Driver;
use crate::rt::Transport;
use crate::session::Session;

/// Rounds of IO one operation makes before yielding to other tasks.
const OP_ROUNDS: usize = 16;

/// Identifies one waiting operation among a connection's waiters.
pub(crate) type WaiterId = u64;

/// Wakers taken out to be woken outside the lock (a connection rarely has
/// more than a few waiters).
type Woken = SmallVec<[Waker; 4]>;

/// The waiters, and the fan-out waker over them.
#[derive(Default)]
pub(crate) struct Wakers {
    waiters: Mutex<Vec<(WaiterId, Waker)>>,
    /// How many waiters there are (read without the lock: most operations
    /// complete without waiting, and then nobody is to be woken).
    count: AtomicUsize,
    /// The IO woke the fan-out waker while nobody was registered: the next
    /// waiter to register is woken at once (it may have missed that).
    missed: AtomicBool,
    next: AtomicU64,
}

impl Wakers {
    /// A new waiter identity.
    pub(crate) fn id(&self) -> WaiterId {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// `id` waits, to be woken with `waker`. Waiters register after the IO
    /// they polled returned `Pending`: if the IO became ready in between
    /// while nobody was registered, the waiter is woken at once.
    fn register(&self, id: WaiterId, waker: &Waker) {
        let mut waiters = lock(&self.waiters);
        match waiters.iter_mut().find(|(i, _)| *i == id) {
            Some((_, w)) if w.will_wake(waker) => {}
            Some((_, w)) => *w = waker.clone(),
            None => {
                waiters.push((id, waker.clone()));
                self.count.store(waiters.len(), Ordering::Release);
            }
        }
        if self.missed.swap(false, Ordering::AcqRel) {
            waker.wake_by_ref();
        }
    }

    /// `id` no longer waits.
    pub(crate) fn remove(&self, id: WaiterId) {
        if self.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut waiters = lock(&self.waiters);
        waiters.retain(|(i, _)| *i != id);
        self.count.store(waiters.len(), Ordering::Release);
    }

    /// Wakes every waiter but `except` (they register again when polled).
    pub(crate) fn wake_others(&self, except: Option<WaiterId>) {
        self.take_and_wake(except, true);
    }

    /// `id` completed: it no longer waits, and every other waiter is woken.
    fn finish(&self, id: WaiterId) {
        self.take_and_wake(Some(id), false);
    }

    fn take_and_wake(&self, except: Option<WaiterId>, keep_except: bool) {
        if self.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let woken: Woken = {
            let mut waiters = lock(&self.waiters);
            if let [(only, _)] = waiters.as_slice() {
                // The common case: the one waiter is the one excepted.
                if Some(*only) == except {
                    if !keep_except {
                        waiters.clear();
                        self.count.store(0, Ordering::Release);
                    }
                    return;
                }
            }
            let mut woken = Woken::new();
            waiters.retain(|(i, w)| {
                let excepted = Some(*i) == except;
                if !excepted {
                    woken.push(w.clone());
                }
                excepted && keep_except
            });
            self.count.store(waiters.len(), Ordering::Release);
            woken
        };
        woken.into_iter().for_each(Waker::wake);
    }
}

impl Wake for Wakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    /// Wakes every waiter, taking them out: a waker is used once, and a
    /// woken waiter that still waits registers again when polled.
    fn wake_by_ref(self: &Arc<Self>) {
        let woken: Woken = {
            let mut waiters = lock(&self.waiters);
            if waiters.is_empty() {
                self.missed.store(true, Ordering::Release);
            }
            self.count.store(0, Ordering::Release);
            // Drained, not replaced: the list keeps its room.
            waiters.drain(..).map(|(_, w)| w).collect()
        };
        woken.into_iter().for_each(Waker::wake);
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The driver and its waiters.
pub(crate) struct Shared<IO, Rt: Transport<IO>> {
    pub(crate) driver: Mutex<Driver<IO, Rt>>,
    pub(crate) wakers: Arc<Wakers>,
    /// The waker the IO is polled with: it wakes every waiter.
    fan_out: Waker,
}

impl<IO: Unpin, Rt: Transport<IO>> Shared<IO, Rt> {
    pub(crate) fn new(io: IO, session: Session) -> Arc<Self> {
        let wakers = Arc::<Wakers>::default();
        Arc::new(Shared {
            driver: Mutex::new(Driver::new(io, session)),
            fan_out: Waker::from(Arc::clone(&wakers)),
            wakers,
        })
    }

    /// Runs `op` on the session as waiter `id`, driving the IO while it
    /// cannot complete.
    pub(crate) fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        id: WaiterId,
        mut op: impl FnMut(&mut Session) -> Poll<R>,
    ) -> Poll<R> {
        let mut driver = lock(&self.driver);
        let mut io_cx = Context::from_waker(&self.fan_out);
        let mut moved = false;
        // The operation, then IO while the operation cannot complete and the
        // IO moves: what the operation changes (a close begun, output
        // queued) is acted on by the next round before waiting.
        for round in 0..=OP_ROUNDS {
            if let Poll::Ready(r) = op(&mut driver.session) {
                drop(driver);
                self.wakers.finish(id);
                return Poll::Ready(r);
            }
            if round == OP_ROUNDS {
                break;
            }
            let progress = driver.poll_io(&mut io_cx);
            if !progress.moved {
                // Waiting. Registered while the driver is still locked:
                // nothing else moves meanwhile, and a readiness that came
                // during the IO with nobody registered is not lost (see
                // `Wakers::register`).
                self.wakers.register(id, cx.waker());
                drop(driver);
                if moved {
                    self.wakers.wake_others(Some(id));
                }
                return Poll::Pending;
            }
            moved = true;
        }
        // Still moving: let other tasks run, and come back.
        drop(driver);
        self.wakers.wake_others(Some(id));
        cx.waker().wake_by_ref();
        Poll::Pending
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
        lock(&self.driver).poll_io(&mut Context::from_waker(&self.fan_out));
    }

    /// Waits for `op`, as a waiter of its own.
    pub(crate) async fn wait<R>(&self, mut op: impl FnMut(&mut Session) -> Poll<R>) -> R {
        let id = self.wakers.id();
        let waiting = Waiting {
            wakers: &self.wakers,
            id,
        };
        let r = std::future::poll_fn(|cx| self.poll_op(cx, id, &mut op)).await;
        drop(waiting);
        r
    }
}

/// Removes a waiter whose future is dropped before it completed.
struct Waiting<'a> {
    wakers: &'a Wakers,
    id: WaiterId,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.wakers.remove(self.id);
    }
}
