//! Step boundaries kept for the step lines of `steps.jsonl`.
//!
//! The hot path only copies a stamp into a buffer allocated once at build
//! time; energy is attributed to the stamps later (at the next evaluation, or
//! when the buffer fills), when the sampler is asked for the cumulative energy
//! at each stamp's instant.

use std::time::Instant;

/// One logged step boundary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogStamp {
    /// Steps done at the stamp.
    pub(crate) step: u64,
    /// When the step ended.
    pub(crate) at: Instant,
    /// The latest training loss then, if one was recorded.
    pub(crate) loss: Option<f64>,
}

/// A fixed-capacity buffer of stamps waiting to be written.
#[derive(Debug)]
pub(crate) struct StampBuffer {
    buf: Vec<LogStamp>,
}

impl StampBuffer {
    /// A buffer that holds `capacity` stamps without reallocating.
    pub(crate) fn with_capacity(capacity: usize) -> StampBuffer {
        StampBuffer {
            buf: Vec::with_capacity(capacity.max(1)),
        }
    }

    /// Add a stamp; returns true when the buffer is now full (the caller
    /// drains it). Never allocates: a full buffer is drained before the next push.
    #[inline]
    pub(crate) fn push(&mut self, s: LogStamp) -> bool {
        debug_assert!(self.buf.len() < self.buf.capacity());
        self.buf.push(s);
        self.buf.len() == self.buf.capacity()
    }

    /// Take the pending stamps, oldest first (capacity is kept).
    pub(crate) fn drain(&mut self) -> std::vec::Drain<'_, LogStamp> {
        self.buf.drain(..)
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.buf.capacity() * std::mem::size_of::<LogStamp>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_then_drains_without_growing() {
        let mut b = StampBuffer::with_capacity(3);
        let cap = b.buf.capacity();
        let now = Instant::now();
        let s = |step| LogStamp {
            step,
            at: now,
            loss: None,
        };
        assert!(!b.push(s(1)), "one of three is not full");
        assert!(!b.push(s(2)), "two of three is not full");
        assert!(b.push(s(3)), "three of three is full");
        let steps: Vec<u64> = b.drain().map(|s| s.step).collect();
        assert_eq!(steps, vec![1, 2, 3]);
        assert!(!b.push(s(4)), "drained buffer accepts again");
        assert_eq!(b.buf.capacity(), cap, "capacity unchanged");
    }
}
