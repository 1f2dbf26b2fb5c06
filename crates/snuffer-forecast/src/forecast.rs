//! [`Forecast`]: the predictive distribution of the metric at any step, in the metric's units.

use crate::predictive::{split_mean, Core};
use crate::scale::{Scale, YMap};
use crate::{Direction, Method};
use serde::{Deserialize, Serialize};

/// Expected gain between two steps, in the metric's good direction, with bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gain {
    /// Central estimate of the gain: the predictive median at `to_step` minus the median at
    /// `from_step` (robust where the mean of a skewed, log-scaled forecast is not).
    pub expected: f64,
    /// Lower bound at the requested level.
    pub lower: f64,
    /// Upper bound at the requested level.
    pub upper: f64,
}

/// A predictive distribution of the metric at any future step.
///
/// Values are in the metric's own units (a loss stays a loss); gains are oriented so that a
/// positive gain is an improvement whatever the direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub(crate) direction: Direction,
    pub(crate) last_step: f64,
    pub(crate) method: Method,
    pub(crate) scale: Scale,
    pub(crate) core: Core,
}

impl Forecast {
    /// Metric direction.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Last observed step.
    pub fn last_step(&self) -> f64 {
        self.last_step
    }

    /// The method that produced this forecast. Differs from the configured one when the
    /// ensemble (or pow3) found no usable fit or the curve was constant: then it is
    /// [`Method::LastValue`], the well-defined degenerate forecast.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Names and mixture weights of the ensemble members (empty for the flat baselines).
    pub fn members(&self) -> Vec<(&'static str, f64)> {
        self.core
            .members
            .iter()
            .map(|m| (m.family.name(), m.weight))
            .collect()
    }

    /// Predictive mean of the metric (own units) at `step`.
    ///
    /// For log-scaled metrics (a loss with a known floor) this is the mean of a skewed
    /// distribution; [`Forecast::median`] is the better point forecast under absolute error.
    pub fn mean(&self, step: f64) -> f64 {
        let x = self.scale.x(step);
        let comps = self.core.components(x);
        let mean: f64 = comps
            .iter()
            .map(|&(w, m, a, b)| w * self.value_mean(m, a, b))
            .sum();
        if mean.is_finite() {
            mean
        } else {
            self.median(step)
        }
    }

    /// Predictive median of the metric (own units) at `step`: the point forecast that
    /// minimises the expected absolute error.
    pub fn median(&self, step: f64) -> f64 {
        self.quantile(step, 0.5)
    }

    /// The `q`-quantile (0 < q < 1, clamped) of the metric value (own units) at `step`.
    pub fn quantile(&self, step: f64, q: f64) -> f64 {
        let q = if q.is_nan() { 0.5 } else { q };
        let q_oriented = match self.direction {
            Direction::HigherIsBetter => q,
            Direction::LowerIsBetter => 1.0 - q,
        };
        self.scale
            .value(self.core.quantile(self.scale.x(step), q_oriented))
    }

    /// The `q`-quantile of the metric *oriented so that higher is better*
    /// (`direction.orient(value)`) at `step`.
    ///
    /// `quantile_oriented(step, 0.9)` is an optimistic value for either direction: the 90 %
    /// quantile of an accuracy, minus the 10 % quantile of a loss. Stop rules compare it with
    /// `direction.orient(best_so_far)`.
    pub fn quantile_oriented(&self, step: f64, q: f64) -> f64 {
        let q = if q.is_nan() { 0.5 } else { q };
        self.direction
            .orient(self.scale.value(self.core.quantile(self.scale.x(step), q)))
    }

    /// Central interval `(lo, hi)`, `lo <= hi`, in metric units, with probability `level`.
    pub fn interval(&self, step: f64, level: f64) -> (f64, f64) {
        let a = self.quantile(step, 0.5 - level / 2.0);
        let b = self.quantile(step, 0.5 + level / 2.0);
        (a.min(b), a.max(b))
    }

    /// The predicted asymptote (own units), if every member has a finite limit.
    pub fn asymptote(&self) -> Option<f64> {
        self.core.asymptote().map(|a| self.scale.value(a))
    }

    /// Gain from `from_step` to `to_step` in the good direction, with a central interval at
    /// `level`.
    ///
    /// `expected` is the difference of the predictive medians; the bounds are the quantiles at
    /// `to_step` minus the median at `from_step` (the value at `from_step` is treated as known,
    /// which is exact when it is the last observed step, the usual case).
    pub fn gain(&self, from_step: f64, to_step: f64, level: f64) -> Gain {
        let base = self.direction.orient(self.median(from_step));
        let expected = self.direction.orient(self.median(to_step)) - base;
        let lower = self.quantile_oriented(to_step, 0.5 - level / 2.0) - base;
        let upper = self.quantile_oriented(to_step, 0.5 + level / 2.0) - base;
        let (lo, hi) = (lower.min(upper), upper.max(lower));
        // `max`/`min` (not `clamp`) so that a NaN never panics.
        let expected = if expected.is_nan() {
            0.5 * (lo + hi)
        } else {
            expected.max(lo).min(hi)
        };
        Gain {
            expected,
            lower: lo,
            upper: hi,
        }
    }

    /// Upper end of the central `level` interval of the improvement at `to_step` over
    /// `best_so_far` (a value in the metric's own units), in the good direction.
    ///
    /// This is the number an optimistic stop rule needs: if even the upper bound says the
    /// run will not beat its best by a worthwhile margin, stop. Negative when the forecast
    /// is confident the run will not get back to its best.
    pub fn max_gain_upper(&self, best_so_far: f64, to_step: f64, level: f64) -> f64 {
        self.quantile_oriented(to_step, 0.5 + level / 2.0) - self.direction.orient(best_so_far)
    }

    /// Mean of the metric for one split-normal component in normalised units (for the log
    /// maps, approximated by a normal with the average spread around the component's mean).
    fn value_mean(&self, m: f64, a: f64, b: f64) -> f64 {
        let sc = &self.scale;
        let s = 0.5 * (a + b);
        let m = split_mean(m, a, b);
        match sc.ymap {
            YMap::Linear => sc.value(m),
            YMap::LogAboveLower(b) | YMap::LogBelowUpper(b) => {
                // v = b ± exp(−z), z ~ N(μ, σ²): E exp(−z) = exp(−μ + σ²/2).
                let mu = sc.z_ref + sc.z_unit * m;
                let sd = sc.z_unit * s;
                let e = (-mu + 0.5 * sd * sd).clamp(-700.0, 700.0).exp();
                let v = if matches!(sc.ymap, YMap::LogAboveLower(_)) {
                    b + e
                } else {
                    b - e
                };
                let lo = sc.bounds.lower.unwrap_or(f64::NEG_INFINITY);
                let hi = sc.bounds.upper.unwrap_or(f64::INFINITY);
                v.clamp(lo, hi)
            }
        }
    }
}
