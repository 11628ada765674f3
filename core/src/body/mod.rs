//! Message bodies: receiving ([`decode`]), sending ([`encode`]) and the
//! queue of bytes waiting to be written ([`Output`]).

pub(crate) mod decode;
pub(crate) mod encode;

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

/// Bytes waiting for the IO side to write them: a queue of `Bytes`
/// suited to vectored writes. Heads and chunk framing are written into a
/// reused scratch buffer; body bytes are queued as handed in.
#[derive(Debug, Default)]
pub(crate) struct Output {
    queue: VecDeque<Bytes>,
    len: usize,
    scratch: BytesMut,
}

impl Output {
    pub(crate) fn push(&mut self, bytes: Bytes) {
        if !bytes.is_empty() {
            self.len += bytes.len();
            self.queue.push_back(bytes);
        }
    }

    pub(crate) fn scratch(&mut self) -> &mut BytesMut {
        &mut self.scratch
    }

    /// Moves what was written into the scratch buffer onto the queue.
    pub(crate) fn flush_scratch(&mut self) {
        let bytes = self.scratch.split().freeze();
        self.push(bytes);
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        let b = self.queue.pop_front()?;
        self.len -= b.len();
        Some(b)
    }

    pub(crate) fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        self.queue.iter().map(|b| &b[..])
    }

    /// Drops the first `n` bytes (they were written).
    pub(crate) fn advance(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(front) = self.queue.front_mut() else {
                break;
            };
            if front.len() <= n {
                n -= front.len();
                self.queue.pop_front();
            } else {
                let _ = front.split_to(n);
                n = 0;
            }
        }
    }

    /// Moves everything from `other` to the end of this queue.
    pub(crate) fn append(&mut self, other: &mut Output) {
        while let Some(b) = other.pop() {
            self.push(b);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.queue.clear();
        self.len = 0;
    }
}
