//! The hindsight oracle of a finished run: the one stop no policy can beat on that run.
//!
//! With `B(k)` the best metric reached by evaluation `k` (in the good direction: a loss is
//! negated) and `E(k)` the energy spent by then in kWh, the utility of stopping at `k` is
//! `U(k) = B(k) − τ·E(k)`, and the oracle is the **earliest** `k` that maximises it (as the
//! project's scorers define it in `tools/curves.py`). [`Oracle`] scans evaluations one at a
//! time in O(1) memory, so a report can find it while streaming a long log; replay and the
//! report crate both use it.

/// Where the oracle stops, and the utilities that score a policy against it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OracleStop {
    /// Index of the oracle's evaluation among those pushed (0-based).
    pub index: usize,
    /// Best-so-far there, good direction (negated for a loss).
    pub best: f64,
    /// Energy spent there, kWh.
    pub energy_kwh: f64,
    /// `U` at the oracle: the most any stop on this run can reach.
    pub utility: f64,
    /// `U` at the last evaluation pushed (what never stopping reaches).
    pub utility_at_end: f64,
}

/// A running argmax of `U(k) = B(k) − τ·E(k)` (see the module docs).
///
/// ```
/// use snuffer_replay::Oracle;
/// // Accuracy 0.5, 0.6, 0.65 after 1, 2 and 3 kWh with τ = 0.08 per kWh:
/// // U = 0.42, 0.44, 0.41, so the oracle stops at the second evaluation.
/// let mut oracle = Oracle::new(0.08);
/// for (kwh, acc) in [(1.0, 0.5), (2.0, 0.6), (3.0, 0.65)] {
///     oracle.push_metric(acc, true, kwh);
/// }
/// let stop = oracle.result().unwrap();
/// assert_eq!(stop.index, 1);
/// assert!((stop.utility - 0.44).abs() < 1e-12 && (stop.utility_at_end - 0.41).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Oracle {
    tau_per_kwh: f64,
    pushed: usize,
    best: f64,
    top: Option<OracleStop>,
    end: f64,
}

impl Oracle {
    /// An oracle for τ in metric units per kWh.
    pub fn new(tau_per_kwh: f64) -> Self {
        Oracle {
            tau_per_kwh,
            pushed: 0,
            best: f64::NEG_INFINITY,
            top: None,
            end: f64::NAN,
        }
    }

    /// τ in metric units per kWh.
    pub fn tau_per_kwh(&self) -> f64 {
        self.tau_per_kwh
    }

    /// `U = best − τ·kWh`.
    pub fn utility(&self, best: f64, energy_kwh: f64) -> f64 {
        best - self.tau_per_kwh * energy_kwh
    }

    /// The next evaluation, given as its best-so-far `B(k)` in the good direction (the
    /// caller decides how to treat non-finite values) and the energy spent by then; returns
    /// its utility.
    pub fn push_best(&mut self, best: f64, energy_kwh: f64) -> f64 {
        let u = self.utility(best, energy_kwh);
        let index = self.pushed;
        self.pushed += 1;
        // Strictly greater: ties keep the earliest evaluation.
        if self.top.is_none_or(|t| u > t.utility) {
            self.top = Some(OracleStop {
                index,
                best,
                energy_kwh,
                utility: u,
                utility_at_end: u,
            });
        }
        self.end = u;
        u
    }

    /// The next evaluation, given as its metric value in its own units: the best-so-far is
    /// kept here (a loss is negated first). A non-finite value keeps the previous best.
    pub fn push_metric(&mut self, metric: f64, higher_is_better: bool, energy_kwh: f64) -> f64 {
        let good = if higher_is_better { metric } else { -metric };
        if good.is_finite() {
            self.best = self.best.max(good);
        }
        self.push_best(self.best, energy_kwh)
    }

    /// The oracle's stop so far (`None` before the first evaluation).
    pub fn result(&self) -> Option<OracleStop> {
        self.top.map(|t| OracleStop {
            utility_at_end: self.end,
            ..t
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn losses_are_negated_and_the_best_so_far_counts() {
        // Loss 1.0, 0.5, 0.9 (worse), 0.4 with τ = 0.01/kWh at 0, 1, 2, 3 kWh: the last wins.
        let mut o = Oracle::new(0.01);
        for (i, m) in [1.0, 0.5, 0.9, 0.4].into_iter().enumerate() {
            o.push_metric(m, false, i as f64);
        }
        let r = o.result().unwrap();
        assert_eq!(r.index, 3);
        assert_eq!(r.best, -0.4);
    }

    #[test]
    fn ties_keep_the_earliest_and_nothing_pushed_is_none() {
        assert!(Oracle::new(1.0).result().is_none());
        let mut o = Oracle::new(0.0);
        for kwh in [1.0, 2.0, 3.0] {
            o.push_best(0.7, kwh);
        }
        assert_eq!(o.result().unwrap().index, 0);
    }

    proptest! {
        /// The scan agrees with the definition: the earliest index of the maximum utility.
        #[test]
        fn scan_is_the_earliest_argmax(
            rows in proptest::collection::vec((-5.0f64..5.0, 0.0f64..2.0), 1..40),
            tau in 0.0f64..10.0,
        ) {
            let mut o = Oracle::new(tau);
            let (mut best, mut kwh) = (f64::NEG_INFINITY, 0.0);
            let mut us = Vec::new();
            for (m, de) in &rows {
                best = best.max(*m);
                kwh += de;
                us.push(o.push_best(best, kwh));
            }
            let top = us.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let want = us.iter().position(|u| *u == top).unwrap();
            let r = o.result().unwrap();
            prop_assert_eq!(r.index, want);
            prop_assert_eq!(r.utility_at_end, *us.last().unwrap());
        }
    }
}
