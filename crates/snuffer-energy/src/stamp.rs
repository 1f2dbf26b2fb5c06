//! Step stamps: what the training loop records in its hot path.
//!
//! A stamp is an `Instant` and a step index — reading the monotonic clock is
//! a vDSO call on Linux, no system call, and nothing is allocated or locked.
//! Energy is attributed later, by the sampler, from two stamps.

use std::time::Instant;

/// A step boundary: when it happened and which step it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp {
    /// Step index (0 for the first stamp of a [`StepClock`]).
    pub step: u64,
    /// When the stamp was taken.
    pub at: Instant,
}

impl Stamp {
    /// A stamp for `step` taken now.
    #[inline]
    pub fn now(step: u64) -> Stamp {
        Stamp {
            step,
            at: Instant::now(),
        }
    }
}

/// Hands out stamps with increasing step indices.
#[derive(Debug, Clone, Default)]
pub struct StepClock {
    next: u64,
}

impl StepClock {
    /// A clock whose first stamp has step 0.
    pub fn new() -> StepClock {
        StepClock::default()
    }

    /// Stamp the next step boundary: one clock read, one increment.
    #[inline]
    pub fn stamp(&mut self) -> Stamp {
        let s = Stamp::now(self.next);
        self.next += 1;
        s
    }

    /// Number of stamps taken.
    pub fn count(&self) -> u64 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_count_and_order() {
        let mut c = StepClock::new();
        let a = c.stamp();
        let b = c.stamp();
        assert_eq!((a.step, b.step, c.count()), (0, 1, 2));
        assert!(b.at >= a.at);
    }
}
