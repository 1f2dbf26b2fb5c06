//! A recorded run as a reference of the later runs of its sweep ([`ReferenceRun::from_recorded`]):
//! the one alignment that live runs (through the run directories of a sweep) and replays
//! share.

use crate::ReferenceRun;
use snuffer_forecast::Direction;

impl ReferenceRun {
    /// What a later run of the sweep knows of a recorded run: its evaluations at `steps`
    /// with values `metrics` (in the metric's own units), as far as they were recorded, by
    /// share of its `planned` steps (`step / planned`), oriented so that higher is better,
    /// a non-finite value counting as the worst finite value (as the scorers do).
    ///
    /// This is how `snuffer replay --sweep` turns each replayed run (up to its stop, with
    /// its last step as the plan) into a reference, and how a live run of a sweep turns
    /// the other runs' recorded curves into references. `None` without a positive finite
    /// plan or without a finite value.
    ///
    /// ```
    /// use snuffer_forecast::Direction;
    /// use snuffer_policy::ReferenceRun;
    ///
    /// // A loss recorded at steps 100, 200 and 300 of 1 000 planned; it diverged at 300.
    /// let r = ReferenceRun::from_recorded(
    ///     &[100.0, 200.0, 300.0],
    ///     &[2.0, 1.5, f64::NAN],
    ///     1_000.0,
    ///     Direction::LowerIsBetter,
    /// )
    /// .expect("finite values");
    /// assert_eq!(r.known(), 0.3);
    /// assert_eq!(r.final_best(), -1.5); // oriented: higher is better
    /// assert_eq!(r.best_at(0.35), None); // never beyond what was recorded
    /// ```
    pub fn from_recorded(
        steps: &[f64],
        metrics: &[f64],
        planned: f64,
        direction: Direction,
    ) -> Option<ReferenceRun> {
        if !(planned.is_finite() && planned > 0.0) {
            return None;
        }
        let shares: Vec<f64> = steps.iter().map(|s| s / planned).collect();
        let oriented: Vec<f64> = metrics.iter().map(|&m| direction.orient(m)).collect();
        ReferenceRun::from_values(&shares, &oriented)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What, steps, metrics, plan, direction, and the expected (known share, final best,
    /// first value).
    type Row = (
        &'static str,
        Vec<f64>,
        Vec<f64>,
        f64,
        Direction,
        Option<(f64, f64, f64)>,
    );

    #[test]
    fn recorded_runs_align_by_share_of_plan() {
        let rows: [Row; 6] = [
            (
                "accuracy, half of the plan recorded",
                vec![10.0, 20.0, 50.0],
                vec![0.2, 0.5, 0.4],
                100.0,
                Direction::HigherIsBetter,
                Some((0.5, 0.5, 0.2)),
            ),
            (
                "loss: oriented",
                vec![10.0, 20.0],
                vec![3.0, 2.0],
                20.0,
                Direction::LowerIsBetter,
                Some((1.0, -2.0, -3.0)),
            ),
            (
                "a NaN counts as the worst finite value",
                vec![10.0, 20.0, 30.0],
                vec![f64::NAN, 0.3, 0.6],
                30.0,
                Direction::HigherIsBetter,
                Some((1.0, 0.6, 0.3)),
            ),
            (
                "no finite value",
                vec![10.0],
                vec![f64::INFINITY],
                30.0,
                Direction::HigherIsBetter,
                None,
            ),
            (
                "no plan",
                vec![10.0],
                vec![0.5],
                0.0,
                Direction::HigherIsBetter,
                None,
            ),
            (
                "ran past its plan",
                vec![100.0, 150.0],
                vec![0.5, 0.6],
                100.0,
                Direction::HigherIsBetter,
                Some((1.5, 0.6, 0.5)),
            ),
        ];
        for (what, steps, metrics, planned, dir, want) in rows {
            let got = ReferenceRun::from_recorded(&steps, &metrics, planned, dir)
                .map(|r| (r.known(), r.final_best(), r.first()));
            assert_eq!(got, want, "{what}");
        }
    }

    proptest! {
        /// Whatever was recorded, a reference is a best-so-far curve known exactly as far as
        /// the last recorded step, and never better than the best finite value recorded.
        #[test]
        fn references_never_know_more_than_was_recorded(
            values in proptest::collection::vec(
                prop_oneof![(-10.0f64..10.0), Just(f64::NAN), Just(f64::INFINITY)], 1..40),
            planned in 1.0f64..1e6,
            lower in any::<bool>(),
        ) {
            let steps: Vec<f64> = (1..=values.len()).map(|i| i as f64 * 7.0).collect();
            let dir = if lower { Direction::LowerIsBetter } else { Direction::HigherIsBetter };
            let r = ReferenceRun::from_recorded(&steps, &values, planned, dir);
            let finite: Vec<f64> = values.iter().map(|&v| dir.orient(v)).filter(|v| v.is_finite()).collect();
            match r {
                None => prop_assert!(finite.is_empty()),
                Some(r) => {
                    prop_assert!((r.known() - steps[steps.len() - 1] / planned).abs() < 1e-12);
                    let top = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    prop_assert_eq!(r.final_best(), top);
                    prop_assert!(r.best_at(r.known() * 1.01 + 1e-9).is_none());
                }
            }
        }
    }
}
