//! The evaluated points of a run as a policy sees them, oriented so that higher is better.
//!
//! Every query a policy makes at each evaluation costs O(log n), not O(n): the energy
//! anchor is found by binary search while steps never decrease (a linear scan otherwise),
//! and the noise level's median is kept incrementally. A run of 100 000 evaluations is then
//! replayed in linear time, with the very same figures as a full scan and sort.

use snuffer_energy::StepEnergy;
use snuffer_forecast::Direction;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// One evaluation: step, cumulative energy (J) and oriented metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub step: f64,
    pub energy_j: f64,
    pub value: f64,
}

/// Finite evaluations seen so far, and their best; the energy at every evaluation.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    /// The evaluations, in the order seen; only [`History::push`] adds to them.
    pub points: Vec<Point>,
    pub best: Option<f64>,
    /// Energy at every evaluation (finite metric or not): the one estimate of energy per
    /// step the run tracker uses too.
    pub energy: StepEnergy,
    /// The absolute differences of successive values, for their median.
    diffs: Median,
}

/// `f64` ordered by [`f64::total_cmp`] (the order the median was taken in by sorting).
#[derive(Debug, Clone, Copy)]
struct Total(f64);

impl PartialEq for Total {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Total {}
impl PartialOrd for Total {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Total {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A growing multiset of numbers that yields, in O(1), the element a sort by
/// [`f64::total_cmp`] would put at index `len / 2`; each insertion costs O(log n).
#[derive(Debug, Clone, Default)]
struct Median {
    /// The `len / 2` smallest elements (a max-heap).
    low: BinaryHeap<Total>,
    /// The others (a min-heap): its least element is the one at index `len / 2`.
    high: BinaryHeap<Reverse<Total>>,
}

impl Median {
    fn push(&mut self, x: f64) {
        match self.high.peek() {
            Some(Reverse(h)) if Total(x) >= *h => self.high.push(Reverse(Total(x))),
            _ => self.low.push(Total(x)),
        }
        let half = (self.low.len() + self.high.len()) / 2;
        while self.low.len() > half {
            if let Some(v) = self.low.pop() {
                self.high.push(Reverse(v));
            }
        }
        while self.low.len() < half {
            if let Some(Reverse(v)) = self.high.pop() {
                self.low.push(v);
            }
        }
    }

    /// The element at index `len / 2` of the sorted elements; `None` when there are none.
    fn get(&self) -> Option<f64> {
        self.high.peek().map(|Reverse(v)| v.0)
    }

    fn clear(&mut self) {
        self.low.clear();
        self.high.clear();
    }
}

impl History {
    /// Record one finite evaluation (non-finite values are ignored: the divergence rule
    /// deals with them, and they must not poison the best).
    pub fn push(&mut self, step: f64, energy_j: f64, value: f64, direction: Direction) {
        self.energy.push(step, energy_j);
        let v = direction.orient(value);
        if !v.is_finite() {
            return;
        }
        self.best = Some(self.best.map_or(v, |b| b.max(v)));
        if let Some(last) = self.points.last() {
            self.diffs.push((v - last.value).abs());
        }
        self.points.push(Point {
            step,
            energy_j,
            value: v,
        });
    }

    /// First finite oriented value.
    pub fn first(&self) -> Option<f64> {
        self.points.first().map(|p| p.value)
    }

    /// Energy per step ([`StepEnergy::per_step_at`]: over the later half of the run so far);
    /// `None` when no step has been made.
    pub fn joules_per_step(&self, step: f64, energy_j: f64) -> Option<f64> {
        self.energy.per_step_at(step, energy_j)
    }

    /// Robust noise level: the median absolute difference of successive values, scaled to a
    /// standard deviation (a trend adds to it, which only makes the test below stricter).
    pub fn noise_sd(&self) -> f64 {
        match self.diffs.get() {
            Some(median) => 1.4826 * median / std::f64::consts::SQRT_2,
            None => 0.0,
        }
    }

    /// Whether the run has shown learning: its best beats its first value by more than
    /// `k` noise levels.
    pub fn has_learned(&self, k: f64) -> bool {
        match (self.best, self.first()) {
            (Some(b), Some(f)) => {
                let margin = (k * self.noise_sd()).max(1e-9 * (1.0 + f.abs()));
                b - f > margin
            }
            _ => false,
        }
    }

    pub fn clear(&mut self) {
        self.points.clear();
        self.best = None;
        self.energy.clear();
        self.diffs.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition the incremental median must match exactly.
    fn sorted_noise_sd(h: &History) -> f64 {
        let mut d: Vec<f64> = h
            .points
            .windows(2)
            .map(|w| (w[1].value - w[0].value).abs())
            .collect();
        if d.is_empty() {
            return 0.0;
        }
        d.sort_by(f64::total_cmp);
        1.4826 * d[d.len() / 2] / std::f64::consts::SQRT_2
    }

    proptest! {
        #[test]
        fn incremental_queries_equal_the_full_scan(
            rows in prop::collection::vec(
                (0u32..50, -3.0f64..3.0, prop::bool::weighted(0.05), prop::bool::weighted(0.05)),
                0..80,
            ),
        ) {
            let mut h = History::default();
            let (mut step, mut energy) = (0.0, 0.0);
            for (i, &(dstep, v, back, repeat)) in rows.iter().enumerate() {
                // Mostly increasing steps, with repeats and the odd step back.
                if back {
                    step = (step - f64::from(dstep)).max(0.0);
                } else if !repeat {
                    step += f64::from(dstep);
                }
                energy += 1.5;
                h.push(step, energy, (v * 10.0).round() / 10.0, Direction::LowerIsBetter);
                prop_assert_eq!(h.noise_sd().to_bits(), sorted_noise_sd(&h).to_bits(), "row {}", i);
            }
            h.clear();
            prop_assert_eq!(h.noise_sd(), 0.0);
        }
    }
}
