//! Message bodies: receiving ([`decode`]), sending ([`encode`]) and the
//! queue of bytes waiting to be written ([`Output`]).

pub(crate) mod decode;
pub(crate) mod encode;

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

/// Bytes waiting for the IO side to write them, in order: a queue of
/// `Bytes` suited to vectored writes, then a tail that grows in place.
/// Heads and chunk framing are written into the tail, and so are body
/// pieces shorter than [`COPY_BELOW`] (copying a few bytes costs less
/// than writing them apart); larger body pieces are queued as handed in,
/// never copied. A pipelined batch of small responses is thus one
/// contiguous run of bytes.
#[derive(Debug, Default)]
pub(crate) struct Output {
    queue: VecDeque<Bytes>,
    /// Bytes in `queue`.
    queued: usize,
    tail: BytesMut,
}

/// Body pieces shorter than this are copied into the output's tail.
pub(crate) const COPY_BELOW: usize = 512;

impl Output {
    /// Queues body bytes: copied into the tail when short, else queued as
    /// they are.
    pub(crate) fn push(&mut self, bytes: Bytes) {
        if bytes.len() < COPY_BELOW {
            self.tail.extend_from_slice(&bytes);
        } else {
            self.seal_tail();
            self.queued += bytes.len();
            self.queue.push_back(bytes);
        }
    }

    /// Where heads and framing are written: the end of the output.
    pub(crate) fn tail(&mut self) -> &mut BytesMut {
        &mut self.tail
    }

    /// Moves the tail onto the queue, so that what is queued next follows it.
    fn seal_tail(&mut self) {
        if !self.tail.is_empty() {
            let bytes = self.tail.split().freeze();
            self.queued += bytes.len();
            self.queue.push_back(bytes);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.queued + self.tail.len()
    }

    /// The first piece: a queued one, or else the whole tail.
    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        match self.queue.pop_front() {
            Some(b) => {
                self.queued -= b.len();
                Some(b)
            }
            None if !self.tail.is_empty() => Some(self.tail.split().freeze()),
            None => None,
        }
    }

    pub(crate) fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        let tail = (!self.tail.is_empty()).then_some(&self.tail[..]);
        self.queue.iter().map(|b| &b[..]).chain(tail)
    }

    /// Drops the first `n` bytes (they were written).
    pub(crate) fn advance(&mut self, mut n: usize) {
        n = n.min(self.len());
        while n > 0 {
            let Some(front) = self.queue.front_mut() else {
                // The rest is in the tail.
                self.tail.advance(n);
                return;
            };
            if front.len() <= n {
                n -= front.len();
                self.queued -= front.len();
                self.queue.pop_front();
            } else {
                let _ = front.split_to(n);
                self.queued -= n;
                n = 0;
            }
        }
    }

    /// Moves everything from `other` to the end of this output.
    pub(crate) fn append(&mut self, other: &mut Output) {
        while let Some(b) = other.pop() {
            self.push(b);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.queue.clear();
        self.queued = 0;
        self.tail.clear();
    }
}
