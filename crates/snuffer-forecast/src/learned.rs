//! A learned curve predictor, seen from the forecast crate: the [`CurvePredictor`] trait a
//! population prior (e.g. `snuffer-prior`'s transformer) implements, and the
//! [`Predicted`] distribution it answers with. The trait keeps this crate, and the policy
//! crate that asks it, free of any neural-network dependency.

use crate::{Bounds, Direction};

/// What a [`CurvePredictor`] is asked about one run.
#[derive(Debug, Clone, Copy)]
pub struct PredictorQuery<'a> {
    /// Steps of the evaluations seen so far (increasing).
    pub steps: &'a [f64],
    /// The metric at each, in its own units (non-finite values are skipped).
    pub values: &'a [f64],
    /// Which way is better.
    pub direction: Direction,
    /// Known bounds of the metric.
    pub bounds: Bounds,
    /// The planned last step of the run.
    pub planned_steps: f64,
    /// Steps at which the learning rate is scheduled to change, when fixed in advance
    /// (empty when unknown).
    pub schedule: &'a [f64],
    /// Steps to predict the metric at (past the last seen step, at most 16).
    pub horizons: &'a [f64],
}

/// A predictive distribution of the metric at one step: weighted atoms in the metric's own
/// units, sorted ascending.
///
/// ```
/// use snuffer_forecast::{Direction, Predicted};
/// // Three equally likely accuracies at one horizon.
/// let p = Predicted::new(vec![0.7, 0.8, 0.9], vec![1.0, 1.0, 1.0]).unwrap();
/// assert!((p.mean() - 0.8).abs() < 1e-12);
/// // E[(Y − 0.75)⁺] = (0.05 + 0.15) / 3.
/// let e = p.expected_excess(Direction::HigherIsBetter, 0.75);
/// assert!((e - 0.2 / 3.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Predicted {
    values: Vec<f64>,
    weights: Vec<f64>,
}

impl Predicted {
    /// From atoms and non-negative weights (normalised here); `None` when the lengths
    /// differ, nothing is left, or a value or weight is not finite.
    pub fn new(values: Vec<f64>, weights: Vec<f64>) -> Option<Predicted> {
        if values.len() != weights.len()
            || values.iter().chain(&weights).any(|v| !v.is_finite())
            || weights.iter().any(|&w| w < 0.0)
        {
            return None;
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return None;
        }
        let mut pairs: Vec<(f64, f64)> = values
            .into_iter()
            .zip(weights.into_iter().map(|w| w / total))
            .filter(|p| p.1 > 0.0)
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (values, weights) = pairs.into_iter().unzip();
        Some(Predicted { values, weights })
    }
    /// The mean.
    pub fn mean(&self) -> f64 {
        self.values
            .iter()
            .zip(&self.weights)
            .map(|(v, w)| v * w)
            .sum()
    }
    /// The `q`-quantile (the smallest atom whose cumulative weight reaches `q`).
    pub fn quantile(&self, q: f64) -> f64 {
        let mut acc = 0.0;
        for (v, w) in self.values.iter().zip(&self.weights) {
            acc += w;
            if acc >= q - 1e-12 {
                return *v;
            }
        }
        self.values.last().copied().unwrap_or(f64::NAN)
    }
    /// `E[(M − threshold)⁺]` in the good direction: `M` and `threshold` oriented so that
    /// higher is better (a loss's threshold is its negated best).
    pub fn expected_excess(&self, direction: Direction, threshold: f64) -> f64 {
        self.values
            .iter()
            .zip(&self.weights)
            .map(|(v, w)| w * (direction.orient(*v) - threshold).max(0.0))
            .sum()
    }
    /// The probability that the metric beats `value` (strictly, in the good direction).
    pub fn prob_better(&self, direction: Direction, value: f64) -> f64 {
        self.values
            .iter()
            .zip(&self.weights)
            .filter(|(v, _)| direction.orient(**v) > direction.orient(value))
            .map(|(_, w)| w)
            .sum()
    }
}

impl Predicted {
    /// The distribution with every atom that beats `best` (oriented: a loss's best negated)
    /// moved `factor` times as far past it, then clamped to `bounds`: `E[(M − best)⁺]`
    /// scales by `factor` (less where a bound cuts it off), and nothing at or below the best
    /// moves.
    ///
    /// ```
    /// use snuffer_forecast::{Bounds, Direction, Predicted};
    /// let p = Predicted::new(vec![0.7, 0.8, 0.9], vec![1.0, 1.0, 1.0]).unwrap();
    /// let s = p.stretched_above(Direction::HigherIsBetter, 0.75, 2.0, Bounds::default());
    /// let e = |d: &Predicted| d.expected_excess(Direction::HigherIsBetter, 0.75);
    /// assert!((e(&s) - 2.0 * e(&p)).abs() < 1e-12);
    /// ```
    pub fn stretched_above(
        &self,
        direction: Direction,
        best: f64,
        factor: f64,
        bounds: Bounds,
    ) -> Predicted {
        let values = self
            .values
            .iter()
            .map(|&v| {
                let g = direction.orient(v);
                let moved = if g > best {
                    direction.orient(best + factor * (g - best))
                } else {
                    v
                };
                let moved = bounds.lower.map_or(moved, |l| moved.max(l));
                bounds.upper.map_or(moved, |u| moved.min(u))
            })
            .collect();
        Predicted::new(values, self.weights.clone()).unwrap_or_else(|| self.clone())
    }
}

/// A [`CurvePredictor`] calibrated on the run in front of it: before answering, the inner
/// predictor is asked about the run's own past — cut at half and at two thirds of the
/// points seen, it predicts the points seen after each cut — and its expected gains over
/// the best at the cut (`P`, summed) are set against the gains that came (`R`). Every
/// answer's gains past the best are then stretched by `k = (R + P) / (2P)`, kept in
/// `[0.5, 4]`: the run's evidence and the predictor's weigh equally, a run that beat its
/// predictions gets more room and one that fell short less, and an answer's gain is never
/// cut below half (a stop that loses the run's improvement costs more than the energy it
/// saves). With fewer than [`SelfCalibrated::MIN_POINTS`] points, or nothing expected in
/// the backtests, the answer is the inner predictor's.
///
/// The cut points, the equal weight and the range are engineering choices, not fitted to
/// any source.
#[derive(Debug)]
pub struct SelfCalibrated<P> {
    inner: P,
}

impl<P: CurvePredictor> SelfCalibrated<P> {
    /// Fewest finite points before the run's past is used.
    pub const MIN_POINTS: usize = 8;
    /// Most horizons per backtest.
    const HORIZONS: usize = 8;

    /// Around `inner`.
    pub fn new(inner: P) -> Self {
        SelfCalibrated { inner }
    }

    /// The stretch factor `k` for this run, `None` when the run's past cannot tell.
    pub fn factor(&self, q: &PredictorQuery<'_>) -> Option<f64> {
        let finite: Vec<usize> = (0..q.values.len().min(q.steps.len()))
            .filter(|&i| q.values[i].is_finite())
            .collect();
        let n = finite.len();
        if n < Self::MIN_POINTS {
            return None;
        }
        let (mut predicted, mut realised) = (0.0, 0.0);
        for cut in [n / 2, 2 * n / 3] {
            // Everything up to the cut-th finite point is seen; the later points are asked.
            let end = finite[cut - 1] + 1;
            let later = &finite[cut..];
            let pick: Vec<usize> = (0..later.len().min(Self::HORIZONS))
                .map(|j| later[(j + 1) * later.len() / later.len().min(Self::HORIZONS) - 1])
                .collect();
            let horizons: Vec<f64> = pick.iter().map(|&i| q.steps[i]).collect();
            let best = finite[..cut]
                .iter()
                .map(|&i| q.direction.orient(q.values[i]))
                .fold(f64::NEG_INFINITY, f64::max);
            let answer = self.inner.predict(&PredictorQuery {
                steps: &q.steps[..end],
                values: &q.values[..end],
                horizons: &horizons,
                ..*q
            })?;
            if answer.len() != pick.len() {
                return None;
            }
            for (p, &i) in answer.iter().zip(&pick) {
                predicted += p.expected_excess(q.direction, best);
                realised += (q.direction.orient(q.values[i]) - best).max(0.0);
            }
        }
        (predicted > 0.0 && predicted.is_finite() && realised.is_finite())
            .then(|| ((realised + predicted) / (2.0 * predicted)).clamp(0.5, 4.0))
    }
}

impl<P: CurvePredictor> CurvePredictor for SelfCalibrated<P> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn predict(&self, q: &PredictorQuery<'_>) -> Option<Vec<Predicted>> {
        let answer = self.inner.predict(q)?;
        let Some(k) = self.factor(q) else {
            return Some(answer);
        };
        let best = q
            .values
            .iter()
            .filter(|v| v.is_finite())
            .map(|&v| q.direction.orient(v))
            .fold(f64::NEG_INFINITY, f64::max);
        Some(
            answer
                .into_iter()
                .map(|p| p.stretched_above(q.direction, best, k, q.bounds))
                .collect(),
        )
    }
}

impl<P: CurvePredictor + ?Sized> CurvePredictor for std::sync::Arc<P> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn predict(&self, q: &PredictorQuery<'_>) -> Option<Vec<Predicted>> {
        (**self).predict(q)
    }
}

/// A learned predictor of a run's metric at later steps, conditioned on what it has seen.
pub trait CurvePredictor: Send + Sync + std::fmt::Debug {
    /// A short name for logs and reports.
    fn name(&self) -> &str;
    /// One distribution per horizon, in the order asked; `None` when the predictor cannot
    /// answer (no finite value seen, no plan, too many horizons), in which case the caller
    /// falls back to the fitted forecast.
    fn predict(&self, query: &PredictorQuery<'_>) -> Option<Vec<Predicted>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bad_atoms_are_refused() {
        assert!(Predicted::new(vec![1.0], vec![]).is_none());
        assert!(Predicted::new(vec![f64::NAN], vec![1.0]).is_none());
        assert!(Predicted::new(vec![1.0], vec![0.0]).is_none());
        assert!(Predicted::new(vec![1.0, 2.0], vec![1.0, -1.0]).is_none());
    }

    #[test]
    fn a_loss_is_oriented() {
        let p = Predicted::new(vec![0.5, 1.0], vec![1.0, 1.0]).unwrap();
        // Best loss 0.8: half the mass at 0.5 beats it by 0.3.
        assert!((p.expected_excess(Direction::LowerIsBetter, -0.8) - 0.15).abs() < 1e-12);
        assert!((p.prob_better(Direction::LowerIsBetter, 0.8) - 0.5).abs() < 1e-12);
        assert_eq!(p.quantile(0.5), 0.5);
        assert_eq!(p.quantile(0.9), 1.0);
    }

    /// Predicts the last seen value plus `jump` at every horizon (half the mass there, half
    /// at the last value).
    #[derive(Debug)]
    struct LastPlus(f64);

    impl CurvePredictor for LastPlus {
        fn name(&self) -> &str {
            "last plus"
        }
        fn predict(&self, q: &PredictorQuery<'_>) -> Option<Vec<Predicted>> {
            let last = *q.values.last()?;
            q.horizons
                .iter()
                .map(|_| Predicted::new(vec![last, last + self.0], vec![1.0, 1.0]))
                .collect()
        }
    }

    fn query<'a>(steps: &'a [f64], values: &'a [f64], horizons: &'a [f64]) -> PredictorQuery<'a> {
        PredictorQuery {
            steps,
            values,
            direction: Direction::HigherIsBetter,
            bounds: Bounds {
                lower: Some(0.0),
                upper: Some(1.0),
            },
            planned_steps: 100.0,
            schedule: &[],
            horizons,
        }
    }

    #[test]
    fn a_run_that_beats_its_predictions_gets_more_room_and_a_flat_one_less() {
        let steps: Vec<f64> = (1..=20).map(f64::from).collect();
        // Rises 0.01 per step; the predictor expects half of 0.002 per horizon.
        let rising: Vec<f64> = steps.iter().map(|s| 0.2 + 0.01 * s).collect();
        let cal = SelfCalibrated::new(LastPlus(0.002));
        let k = cal.factor(&query(&steps, &rising, &[50.0])).unwrap();
        assert_eq!(k, 4.0, "capped at 4");
        // Flat: nothing came of what the predictor expected.
        let flat = vec![0.5; 20];
        let k = cal.factor(&query(&steps, &flat, &[50.0])).unwrap();
        assert_eq!(k, 0.5);
        let raw = LastPlus(0.002)
            .predict(&query(&steps, &flat, &[50.0]))
            .unwrap();
        let got = cal.predict(&query(&steps, &flat, &[50.0])).unwrap();
        let e = |p: &Predicted| p.expected_excess(Direction::HigherIsBetter, 0.5);
        assert!((e(&got[0]) - 0.5 * e(&raw[0])).abs() < 1e-12);
        // Too few points: the inner answer unchanged.
        assert!(cal
            .factor(&query(&steps[..7], &flat[..7], &[50.0]))
            .is_none());
        let short = cal
            .predict(&query(&steps[..7], &flat[..7], &[50.0]))
            .unwrap();
        assert_eq!(
            short,
            LastPlus(0.002)
                .predict(&query(&steps[..7], &flat[..7], &[50.0]))
                .unwrap()
        );
    }

    #[test]
    fn a_stretch_respects_the_bounds_and_leaves_the_rest() {
        let p = Predicted::new(vec![0.2, 0.6, 0.95], vec![1.0, 1.0, 1.0]).unwrap();
        let b = Bounds {
            lower: Some(0.0),
            upper: Some(1.0),
        };
        let s = p.stretched_above(Direction::HigherIsBetter, 0.5, 4.0, b);
        assert_eq!(s.quantile(0.0), 0.2);
        assert!((s.quantile(0.5) - 0.9).abs() < 1e-12);
        assert_eq!(s.quantile(1.0), 1.0);
        // A loss: atoms below the best loss move further down, not below 0.
        let l = Predicted::new(vec![0.1, 0.4, 0.9], vec![1.0, 1.0, 1.0]).unwrap();
        let s = l.stretched_above(Direction::LowerIsBetter, -0.5, 2.0, b);
        assert_eq!(s.quantile(0.0), 0.0);
        assert!((s.quantile(0.5) - 0.3).abs() < 1e-12);
        assert_eq!(s.quantile(1.0), 0.9);
    }

    proptest! {
        #[test]
        fn excess_is_non_negative_and_falls_with_the_threshold(
            atoms in proptest::collection::vec((-10.0f64..10.0, 0.0f64..1.0), 1..50),
            t in -20.0f64..20.0,
        ) {
            let (v, w): (Vec<f64>, Vec<f64>) = atoms.into_iter().unzip();
            if let Some(p) = Predicted::new(v, w) {
                let a = p.expected_excess(Direction::HigherIsBetter, t);
                let b = p.expected_excess(Direction::HigherIsBetter, t + 1.0);
                prop_assert!(a >= 0.0 && b <= a + 1e-12);
                prop_assert!(p.quantile(0.1) <= p.quantile(0.9));
            }
        }
    }
}
