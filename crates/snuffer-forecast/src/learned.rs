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
