//! [`StepEnergy`]: the one estimate of energy per step and of a planned run's total energy,
//! from the cumulative energy read at each evaluation. The stop policy (its share of the
//! planned energy spent, the energy of its horizons), the run's stop line and
//! `summary.json` (forecast full-run energy and forecast saving), and so the report and
//! `compare`, all use it, so their figures agree: the share spent and the forecast saving
//! add up to the whole.

/// Cumulative energy at evaluations, `(step, joules)`, and the energy per step they imply.
///
/// The rate is measured over the later half of the run so far — from the latest evaluation
/// at or before half the steps to now — which leaves out a costly start (compilation,
/// caches, a warm-up) yet averages over many evaluations; with no evaluation that early, it
/// is the mean since step 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepEnergy {
    points: Vec<(f64, f64)>,
}

/// A planned run's energy as [`StepEnergy::full_run`] forecasts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FullRunEnergy {
    /// Energy so far, J (measured or estimated, as the meters give it).
    pub spent_j: f64,
    /// Forecast energy of the rest of the plan, J (≥ 0).
    pub remaining_j: f64,
    /// The energy per step the forecast uses, J.
    pub per_step_j: f64,
}

impl FullRunEnergy {
    /// Forecast energy of the whole planned run, J.
    pub fn full_j(&self) -> f64 {
        self.spent_j + self.remaining_j
    }

    /// Share of the forecast full run spent so far (1 when nothing is left).
    pub fn spent_share(&self) -> f64 {
        let full = self.full_j();
        if full > 0.0 {
            self.spent_j / full
        } else {
            1.0
        }
    }

    /// Share of the forecast full run a stop now saves: `1 − spent_share()`.
    pub fn saved_share(&self) -> f64 {
        1.0 - self.spent_share()
    }
}

impl StepEnergy {
    /// No evaluation yet.
    pub fn new() -> StepEnergy {
        StepEnergy::default()
    }

    /// Record the cumulative energy `joules` at `step`. Non-finite figures and steps that
    /// go back are ignored; a repeated step replaces its figure.
    pub fn push(&mut self, step: f64, joules: f64) {
        if !(step.is_finite() && joules.is_finite()) {
            return;
        }
        match self.points.last_mut() {
            Some(last) if step < last.0 => {}
            Some(last) if step == last.0 => last.1 = joules,
            _ => self.points.push((step, joules)),
        }
    }

    /// Forget every evaluation.
    pub fn clear(&mut self) {
        self.points.clear();
    }

    /// Evaluations recorded.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.points.capacity() * std::mem::size_of::<(f64, f64)>()
    }

    /// Whether no evaluation was recorded.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Energy per step (J) at `step` with `joules` so far, over the later half of the run
    /// (see the type's docs); `None` before the first step or when the figures are not
    /// usable (negative, not finite).
    ///
    /// ```
    /// use snuffer_energy::StepEnergy;
    /// let mut e = StepEnergy::new();
    /// e.push(10.0, 50.0); // a costly start: 5 J per step
    /// e.push(50.0, 90.0); // then 1 J per step
    /// e.push(100.0, 140.0);
    /// assert_eq!(e.per_step_at(100.0, 140.0), Some(1.0));
    /// ```
    pub fn per_step_at(&self, step: f64, joules: f64) -> Option<f64> {
        let half = step / 2.0;
        // Steps only grow (see `push`), so the points before both bounds are a prefix:
        // its last one is found by bisection, and a long run's queries stay O(log n).
        let anchor = self
            .points
            .partition_point(|p| p.0 <= half && p.0 < step)
            .checked_sub(1)
            .map(|i| &self.points[i]);
        let rate = match anchor {
            Some(&(s, j)) if step > s => (joules - j) / (step - s),
            _ if step > 0.0 => joules / step,
            _ => return None,
        };
        (rate.is_finite() && rate >= 0.0).then_some(rate)
    }

    /// The planned run's energy at `step` with `joules` so far: the rest of the plan at
    /// [`per_step_at`](Self::per_step_at). A run at or past its plan has nothing left.
    ///
    /// ```
    /// use snuffer_energy::StepEnergy;
    /// let mut e = StepEnergy::new();
    /// e.push(100.0, 100.0);
    /// let f = e.full_run(200.0, 200.0, 1000.0).unwrap();
    /// assert_eq!((f.full_j(), f.remaining_j), (1000.0, 800.0));
    /// assert!((f.spent_share() + f.saved_share() - 1.0).abs() < 1e-12);
    /// ```
    pub fn full_run(&self, step: f64, joules: f64, planned: f64) -> Option<FullRunEnergy> {
        if !(joules.is_finite() && planned.is_finite()) {
            return None;
        }
        if step >= planned {
            return Some(FullRunEnergy {
                spent_j: joules,
                remaining_j: 0.0,
                per_step_j: self.per_step_at(step, joules).unwrap_or(0.0),
            });
        }
        let per_step = self.per_step_at(step, joules)?;
        Some(FullRunEnergy {
            spent_j: joules,
            remaining_j: per_step * (planned - step),
            per_step_j: per_step,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn later_half_rate_and_edges() {
        let mut e = StepEnergy::new();
        assert_eq!(e.per_step_at(0.0, 0.0), None, "no steps, no rate");
        assert_eq!(e.per_step_at(10.0, 5.0), Some(0.5), "from the start");
        for (s, j) in [(100.0, 1000.0), (200.0, 1100.0), (400.0, 1300.0)] {
            e.push(s, j);
        }
        e.push(300.0, f64::NAN);
        e.push(150.0, 0.0); // goes back: ignored
        assert_eq!(e.len(), 3);
        assert_eq!(e.per_step_at(400.0, 1300.0), Some(1.0));
        assert_eq!(e.full_run(400.0, 1300.0, 1000.0).unwrap().full_j(), 1900.0);
        let done = e.full_run(1000.0, 2000.0, 1000.0).unwrap();
        assert_eq!((done.remaining_j, done.saved_share()), (0.0, 0.0));
        e.clear();
        assert!(e.is_empty());
    }

    proptest! {
        /// Spent and saved shares always make the whole, and the full run is never below
        /// the energy so far.
        #[test]
        fn shares_make_the_whole(
            incs in proptest::collection::vec((1u32..500, 0.0f64..1e6), 1..30),
            extra in 0u32..10_000,
        ) {
            let mut e = StepEnergy::new();
            let (mut s, mut j) = (0.0, 0.0);
            for (ds, dj) in incs {
                s += f64::from(ds);
                j += dj;
                e.push(s, j);
            }
            let f = e.full_run(s, j, s + f64::from(extra)).unwrap();
            prop_assert!(f.full_j() >= j && f.remaining_j >= 0.0);
            prop_assert!((f.spent_share() + f.saved_share() - 1.0).abs() < 1e-12);
        }
        /// The bisection finds the same anchor as a scan back from the newest point,
        /// whatever the pushes (repeats, steps that go back, non-finite figures).
        #[test]
        fn bisection_equals_the_scan(
            pushes in proptest::collection::vec((0u32..40, 0.0f64..100.0, proptest::bool::weighted(0.1)), 0..60),
            query in 0.0f64..2000.0,
        ) {
            let mut e = StepEnergy::new();
            let (mut s, mut j) = (0.0, 0.0);
            for (ds, dj, back) in pushes {
                s = if back { (s - f64::from(ds)).max(0.0) } else { s + f64::from(ds) };
                j += dj;
                e.push(s, j);
                for q in [s, s + 1.0, query, 0.0] {
                    let half = q / 2.0;
                    let scanned = match e.points.iter().rev().find(|p| p.0 <= half && p.0 < q) {
                        Some(&(ps, pj)) if q > ps => Some((j + 1.0 - pj) / (q - ps)),
                        _ if q > 0.0 => Some((j + 1.0) / q),
                        _ => None,
                    }
                    .filter(|r| r.is_finite() && *r >= 0.0);
                    prop_assert_eq!(
                        e.per_step_at(q, j + 1.0).map(f64::to_bits),
                        scanned.map(f64::to_bits)
                    );
                }
            }
        }
    }
}
