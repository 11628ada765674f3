//! The IO loop shared by both roles: read into the core, write what it
//! queued with vectored writes, arm the deadline it asks for. No HTTP
//! decisions live here.
//!
//! Shared by the async adapters through `#[path]`; each crate's `rt`
//! module supplies its runtime's traits, one read, a sleep and shutdown.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use h1::http::HeaderMap;
use h1::{Connection, Event, Timer};

use crate::rt::{self, AsyncRead, AsyncWrite, Sleep};
use crate::Error;

/// Queued output that makes a body write wait for the socket.
const HIGH_WATER: usize = 64 * 1024;
/// Most slices handed to one vectored write.
const MAX_SLICES: usize = 16;

pub(crate) struct Driver<IO> {
    pub(crate) io: IO,
    pub(crate) conn: Connection,
    read_buf: BytesMut,
    /// The core's deadline being watched, and when it falls.
    armed: Option<(Timer, Instant)>,
    /// A sleep set no later than the armed deadline (see `arm_timer`), and
    /// when it fires.
    sleep: Option<(Sleep, Instant)>,
    /// Whether the current message's body is still being read.
    pub(crate) reading_body: bool,
    /// Trailers of the last body read.
    pub(crate) trailers: Option<HeaderMap>,
    /// Bytes for the new protocol, once the switch was reported.
    pub(crate) leftover: Option<Bytes>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Driver<IO> {
    pub(crate) fn new(io: IO, conn: Connection) -> Self {
        Driver {
            io,
            conn,
            read_buf: BytesMut::new(),
            armed: None,
            sleep: None,
            reading_body: false,
            trailers: None,
            leftover: None,
        }
    }

    /// The next chunk of the current body; `None` at its end. A server
    /// first sends `100 Continue` if the client waits for it.
    pub(crate) fn poll_body_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Error>> {
        if !self.reading_body {
            return Poll::Ready(Ok(None));
        }
        self.conn.send_continue_if_expected()?;
        loop {
            match ready!(self.poll_event(cx))? {
                Some(Event::Data(data)) => return Poll::Ready(Ok(Some(data))),
                Some(Event::Trailers(trailers)) => self.trailers = Some(trailers.to_header_map()?),
                Some(Event::Upgrade { leftover }) => {
                    self.leftover = Some(leftover);
                    self.reading_body = false;
                    return Poll::Ready(Ok(None));
                }
                _ => {
                    self.reading_body = false;
                    return Poll::Ready(Ok(None));
                }
            }
        }
    }

    /// Takes the connection apart after a switch: flushes what is queued
    /// (the 101 itself, on a server) and collects the leftover bytes.
    pub(crate) async fn into_parts(mut self) -> Result<crate::Parts<IO>, Error> {
        self.flush().await?;
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
        Ok(crate::Parts {
            io: self.io,
            leftover: self.leftover.unwrap_or_default(),
        })
    }

    /// Queues body bytes; writes once enough is queued (backpressure).
    pub(crate) async fn send_data(&mut self, data: Bytes) -> Result<(), Error> {
        self.conn.send_data(data)?;
        if self.conn.output_len() >= HIGH_WATER {
            self.flush().await?;
        }
        Ok(())
    }

    /// The next event, flushing output and reading when the core needs
    /// data. `None`: nothing more will be read (the connection must close,
    /// or it switched protocols after its `Upgrade` event).
    pub(crate) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Event>, Error>> {
        loop {
            match self.conn.poll_event() {
                Ok(Event::Finished) => return Poll::Ready(Ok(None)),
                Ok(Event::NeedData) => {
                    ready!(self.poll_flush(cx))?;
                    ready!(self.poll_read(cx))?;
                }
                Ok(event) => return Poll::Ready(Ok(Some(event))),
                Err(e) => return Poll::Ready(Err(Error::Protocol(e))),
            }
        }
    }

    /// Reads once into the core, or reports the armed deadline's expiry.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.arm_timer();
        if self.is_idle() {
            return self.poll_read_idle(cx);
        }
        match rt::poll_read(Pin::new(&mut self.io), cx, &mut self.read_buf) {
            Poll::Ready(Ok(read)) if read.is_empty() => {
                self.conn.receive_eof()?;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Ok(read)) => {
                self.conn.receive_buf(read)?;
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(Error::Io(e))),
            Poll::Pending => self.poll_expiry(cx),
        }
    }

    /// Between messages with nothing buffered: a connection that waits
    /// here (a kept-alive one, mostly) should hold no read buffer.
    fn is_idle(&self) -> bool {
        self.conn.buffered_len() == 0 && self.conn.their_state() == h1::State::Idle
    }

    /// Reads the start of the next message into a buffer on the stack, so
    /// that nothing is held while waiting, and hands it to the core (one
    /// small copy per message; bodies still take the zero-copy path).
    fn poll_read_idle(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.read_buf = BytesMut::new();
        let conn = &mut self.conn;
        let handed = rt::poll_read_idle(Pin::new(&mut self.io), cx, |read| {
            if read.is_empty() {
                conn.receive_eof()
            } else {
                conn.receive(read)
            }
        });
        match handed {
            Poll::Ready(Ok(taken)) => Poll::Ready(taken.map_err(Error::Protocol)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(Error::Io(e))),
            Poll::Pending => self.poll_expiry(cx),
        }
    }

    /// Whether the armed deadline passed while a read was pending. A sleep
    /// that fires before the deadline (it was set for an earlier one) is
    /// set again for the deadline.
    fn poll_expiry(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let (Some((timer, deadline)), Some((sleep, fires))) = (self.armed, self.sleep.as_mut()) else {
            return Poll::Pending;
        };
        loop {
            if sleep.poll_elapsed(cx).is_pending() {
                return Poll::Pending;
            }
            if Instant::now() >= deadline {
                self.armed = None;
                // Some runtimes' sleeps never fire twice: start afresh.
                self.sleep = None;
                // A failing deadline makes the core's errors sticky; the
                // next poll_event reports it.
                let _ = self.conn.handle_timeout(timer);
                return Poll::Ready(Ok(()));
            }
            sleep.reset_at(deadline);
            *fires = deadline;
        }
    }

    /// Watches the core's deadline when it is a new one. The sleep is
    /// only set again when the new deadline falls before it fires: a
    /// keep-alive deadline that moves later with each request costs a
    /// clock read, not a timer update (an early firing is caught in
    /// `poll_expiry`).
    fn arm_timer(&mut self) {
        let wanted = self.conn.timer();
        if wanted.map(|t| t.id) == self.armed.map(|(t, _)| t.id) {
            return;
        }
        self.armed = wanted.map(|timer| (timer, Instant::now() + timer.duration));
        let Some((_, deadline)) = self.armed else {
            return;
        };
        match self.sleep.as_mut() {
            Some((_, fires)) if *fires <= deadline => {}
            Some((sleep, fires)) => {
                sleep.reset_at(deadline);
                *fires = deadline;
            }
            None => self.sleep = Some((Sleep::at(deadline), deadline)),
        }
    }

    /// Writes everything the core queued, with vectored writes.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        while self.conn.output_len() > 0 {
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            let mut n = 0;
            for (slot, chunk) in slices.iter_mut().zip(self.conn.output_chunks()) {
                *slot = IoSlice::new(chunk);
                n += 1;
            }
            let written = ready!(Pin::new(&mut self.io).poll_write_vectored(cx, &slices[..n]))?;
            if written == 0 {
                return Poll::Ready(Err(Error::Io(std::io::ErrorKind::WriteZero.into())));
            }
            self.conn.advance_output(written);
        }
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        Poll::Ready(Ok(()))
    }

    pub(crate) async fn flush(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_flush(cx)).await
    }

    pub(crate) async fn next_event(&mut self) -> Result<Option<Event>, Error> {
        std::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Flushes, then shuts the write side down.
    pub(crate) async fn shutdown(&mut self) -> Result<(), Error> {
        self.flush().await?;
        std::future::poll_fn(|cx| rt::poll_shutdown(Pin::new(&mut self.io), cx)).await?;
        Ok(())
    }
}
