//! [`Forecast`]: the predictive distribution of the metric at any step, in the metric's units.

use crate::local::Local;
use crate::predictive::{Core, TwoPiece};
use crate::scale::{Scale, VALUE_LIMIT};
use crate::stats::ls_factor;
use crate::{Bounds, Calibration, Direction, Method, Tuning};
use serde::{Deserialize, Serialize};

/// Expected gain between two steps, in the metric's good direction, with bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gain {
    /// Central estimate of the gain: the predictive median at `to_step` minus the median at
    /// `from_step`.
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
///
/// At each step the distribution is a two-piece normal: its median is the point forecast
/// (the current level plus the trusted share of the ensemble's extrapolated gain), its lower
/// and upper halves have their own spreads (the run's noise and trend uncertainty scaled by
/// its backtests, the uncertainty of the extrapolated gain, and on the good side an
/// allowance for late surprises). Values are clamped to the known bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub(crate) direction: Direction,
    pub(crate) bounds: Bounds,
    pub(crate) last_step: f64,
    pub(crate) method: Method,
    pub(crate) scale: Scale,
    pub(crate) core: Core,
    pub(crate) local: Local,
    pub(crate) calibration: Calibration,
    pub(crate) tuning: Tuning,
    /// User calibration factor on every spread.
    pub(crate) width: f64,
    /// Whether the user asked for a flat baseline (no allowance for surprises).
    pub(crate) baseline: bool,
    /// Misses of this forecaster's earlier forecasts of the run: `(log-step horizon,
    /// standardised miss, weight)`.
    pub(crate) misses: Vec<(f64, f64, f64)>,
    /// The earlier forecasts' extrapolated gains against what came: `(log-step horizon,
    /// predicted gain, observed change, weight)`, oriented metric units.
    pub(crate) gains: Vec<(f64, f64, f64, f64)>,
    /// The holdout's trust factor and its variance, if it had enough points.
    pub(crate) holdout: Option<(f64, f64)>,
    /// Log-step horizon of the holdout.
    pub(crate) holdout_horizon: f64,
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

    /// What the fit learned from the run's own history: backtest counts, the spread
    /// factors, and how far it trusts extrapolation.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// The recent trend in the metric's own units per step (positive: the metric grows),
    /// with its standard error, and the observation noise (standard deviation).
    pub fn recent_trend(&self) -> (f64, f64, f64) {
        (
            self.direction.orient(self.local.slope),
            self.local.se,
            self.local.noise,
        )
    }

    /// The same forecast with `share` (0–1) of its allowance for late surprises: a stop rule
    /// that has other evidence about surprises (a run that has not started learning after a
    /// long while rarely starts) scales the prior allowance down.
    pub fn with_surprise_share(&self, share: f64) -> Forecast {
        let mut f = self.clone();
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            1.0
        };
        f.tuning.surprise *= share;
        f
    }

    /// Oriented value of a normalised ensemble value.
    fn metric(&self, z: f64) -> f64 {
        self.direction.orient(self.scale.value(z))
    }

    /// The known bound on the metric's good side (the upper bound of an accuracy, the lower
    /// bound of a loss), in the metric's own units.
    pub fn good_side_bound(&self) -> Option<f64> {
        match self.direction {
            Direction::HigherIsBetter => self.bounds.upper,
            Direction::LowerIsBetter => self.bounds.lower,
        }
    }

    /// Oriented good-side bound, if known.
    fn good_bound(&self) -> Option<f64> {
        match self.direction {
            Direction::HigherIsBetter => self.bounds.upper,
            Direction::LowerIsBetter => self.bounds.lower.map(|b| -b),
        }
    }

    /// Oriented bad-side bound, if known.
    fn bad_bound(&self) -> Option<f64> {
        match self.direction {
            Direction::HigherIsBetter => self.bounds.lower,
            Direction::LowerIsBetter => self.bounds.upper.map(|b| -b),
        }
    }

    /// The current level (oriented) where the forecast starts.
    fn level(&self) -> f64 {
        self.metric(self.core.level)
    }

    /// Log-step horizon of `step` from the last observation.
    pub(crate) fn log_horizon(&self, step: f64) -> f64 {
        (self.scale.x(step) / self.core.x_last).ln().max(0.0)
    }

    /// Factor on the spread above (`upper`) or below the median at log-step horizon `d`:
    /// the root mean square of the earlier forecasts' misses on that side at horizons of at
    /// least half of `d` (or of the longest one checked), pooled with the prior.
    pub(crate) fn spread_factor(&self, d: f64, upper: bool) -> f64 {
        let from = self.horizon_from(d);
        let (mut s2, mut n) = (0.0, 0.0);
        for &(h, z, w) in &self.misses {
            if h >= from && (z > 0.0) == upper {
                s2 += w * z * z;
                n += w;
            }
        }
        let rms = (n > 0.0).then(|| (s2 / n).sqrt());
        crate::forecaster::spread_factor(&self.tuning, rms, n)
    }

    /// Shortest horizon of the misses that speak for log-step horizon `d`.
    fn horizon_from(&self, d: f64) -> f64 {
        let longest = self.misses.iter().map(|m| m.0).fold(0.0, f64::max);
        0.5 * d.min(longest)
    }

    /// Trust (0–1) in the ensemble's extrapolated gain at log-step horizon `d`: the prior,
    /// the holdout and the earlier forecasts of this run (those checked at horizons of at
    /// least half of `d`), each by its precision; evidence from shorter horizons than `d`
    /// counts less the further `d` reaches beyond them (its variance grows with the square
    /// of the ratio), so a far extrapolation falls back towards the prior.
    pub(crate) fn trust_at(&self, d: f64) -> f64 {
        if self.baseline || self.method != Method::Ensemble {
            return self.calibration.extrapolation_trust;
        }
        let t = &self.tuning;
        let (mut num, mut den) = (
            t.extrapolation_trust_prior / t.extrapolation_trust_sd.powi(2),
            1.0 / t.extrapolation_trust_sd.powi(2),
        );
        let mut add = |f: f64, var: f64, reach: f64| {
            if f.is_finite() && var.is_finite() {
                let stretch = if reach > 0.0 {
                    (d / reach).max(1.0)
                } else {
                    1e3
                };
                let p = 1.0 / (var.max(1e-12) * stretch * stretch);
                num += p * f.clamp(0.0, 1.0);
                den += p;
            }
        };
        if let Some((f, var)) = self.holdout {
            add(f, var, self.holdout_horizon);
        }
        let longest = self.gains.iter().map(|g| g.0).fold(0.0, f64::max);
        let from = 0.5 * d.min(longest);
        let (mut sxy, mut sxx, mut syy, mut n) = (0.0, 0.0, 0.0, 0.0);
        let mut count = 0usize;
        for &(h, gain, came, w) in &self.gains {
            if h >= from {
                sxy += w * gain * came;
                sxx += w * gain * gain;
                syy += w * came * came;
                n += w;
                count += 1;
            }
        }
        if count >= 3 {
            if let Some((f, rel)) = ls_factor(sxy, sxx, syy) {
                // Recency weights, not precisions: the degrees of freedom are the weight's,
                // scaled back to the number of checks.
                add(f, rel / (n - 1.0).max(1.0) * n / count as f64, longest);
            }
        }
        let v = num / den;
        if v.is_finite() {
            v.clamp(0.0, 1.0)
        } else {
            t.extrapolation_trust_prior.clamp(0.0, 1.0)
        }
    }

    /// Allowance for a late surprise at `step` (oriented units, standard deviation).
    fn surprise(&self, step: f64, level: f64) -> f64 {
        let Some(bound) = self.good_bound() else {
            return 0.0;
        };
        let room = (bound - level).max(0.0);
        let d = self.log_horizon(step);
        if !d.is_finite() {
            return 0.0;
        }
        let t = &self.tuning;
        t.surprise * room * (1.0 - (-d / t.surprise_efolds).exp())
    }

    /// The level (oriented) where the ensemble's extrapolation starts and the ensemble's
    /// untrusted value at `step`; `None` for baselines.
    pub(crate) fn path(&self, step: f64) -> Option<(f64, f64)> {
        if self.baseline || self.core.members.is_empty() {
            return None;
        }
        let (zbar, _) = self.members_at(step)?;
        let (level, full) = (self.level(), self.metric(zbar));
        (level.is_finite() && full.is_finite()).then_some((level, full))
    }

    /// The members' weighted mean at `step`, where they were fitted (normalised, possibly
    /// log-scaled distance to the bound), with every member's `(weight, value)`; `None`
    /// without weight.
    fn members_at(&self, step: f64) -> Option<(f64, Vec<(f64, f64)>)> {
        let vals = self.core.member_values(self.scale.x(step));
        let total: f64 = vals.iter().map(|(w, _)| w).sum();
        (total > 0.0).then(|| (vals.iter().map(|(w, z)| w * z).sum::<f64>() / total, vals))
    }

    /// The median (oriented) at `step` and the regular spreads below and above it, before
    /// any calibration factor, allowance or user width.
    pub(crate) fn raw(&self, step: f64) -> (f64, f64, f64) {
        let level = self.level();
        let ahead = (step - self.last_step).max(0.0);
        if self.method == Method::LastValue || self.method == Method::BestSoFar {
            // Baselines stay exactly where they are; their spread is the run's noise and
            // trend uncertainty carried forward.
            let sd = self.local.sd(ahead);
            return (level, sd, sd);
        }
        // The ensemble's own uncertainty: noise, the extrapolated gain's, the members'
        // disagreement (the local slope's uncertainty belongs to a straight continuation).
        let base2 = self.local.noise.powi(2);
        let cal = &self.calibration;
        let (zbar, vals) = self
            .members_at(step)
            .unwrap_or_else(|| (self.core.level, Vec::new()));
        let total: f64 = vals.iter().map(|(w, _)| w).sum();
        // The trusted share of the ensemble's gain, in the metric's own units: at most all of
        // it (an extrapolation is never amplified), less the further it reaches beyond what
        // the run has checked.
        let trust = self.trust_at(self.log_horizon(step));
        let full = self.metric(zbar);
        let median = level + trust * (full - level);
        let (median, full) = if median.is_finite() && full.is_finite() {
            (median, full)
        } else {
            (level, level)
        };
        let var = if total > 0.0 {
            vals.iter()
                .map(|&(w, z)| {
                    let v = self.metric(z);
                    if v.is_finite() {
                        w * (v - full).powi(2)
                    } else {
                        0.0
                    }
                })
                .sum::<f64>()
                / total
        } else {
            0.0
        };
        let gain = full - level;
        let sd = (base2 + (cal.gain_sd * trust * gain).powi(2) + trust * trust * var).sqrt();
        (median, sd, sd)
    }

    /// The distribution of the (oriented) metric at `step`.
    fn at(&self, step: f64) -> TwoPiece {
        let (median, lo, hi) = self.raw(step);
        let d = self.log_horizon(step);
        let (f_up, f_down) = (self.spread_factor(d, true), self.spread_factor(d, false));
        let surprise = if self.baseline {
            0.0
        } else {
            self.surprise(step, self.level())
        };
        bounded(TwoPiece {
            median,
            lower: f_down * lo * self.width,
            upper: (f_up * hi).hypot(surprise) * self.width,
        })
    }

    /// Clamp an oriented value to the known bounds (and to ±[`VALUE_LIMIT`]).
    fn clamp_oriented(&self, v: f64) -> f64 {
        let mut v = if v.is_nan() {
            0.0
        } else {
            v.clamp(-VALUE_LIMIT, VALUE_LIMIT)
        };
        if let Some(b) = self.good_bound() {
            v = v.min(b);
        }
        if let Some(b) = self.bad_bound() {
            v = v.max(b);
        }
        v
    }

    /// Predictive mean of the metric (own units) at `step`.
    pub fn mean(&self, step: f64) -> f64 {
        let d = self.at(step);
        let m = d.mean();
        let m = if m.is_finite() {
            m.clamp(-VALUE_LIMIT, VALUE_LIMIT)
        } else {
            d.median
        };
        self.direction.orient(self.clamp_oriented(m))
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
        self.direction
            .orient(self.quantile_oriented(step, q_oriented))
    }

    /// The `q`-quantile of the metric *oriented so that higher is better*
    /// (`direction.orient(value)`) at `step`.
    ///
    /// `quantile_oriented(step, 0.9)` is an optimistic value for either direction: the 90 %
    /// quantile of an accuracy, minus the 10 % quantile of a loss.
    pub fn quantile_oriented(&self, step: f64, q: f64) -> f64 {
        let q = if q.is_nan() { 0.5 } else { q };
        self.clamp_oriented(self.at(step).quantile(q))
    }

    /// Central interval `(lo, hi)`, `lo <= hi`, in metric units, with probability `level`.
    pub fn interval(&self, step: f64, level: f64) -> (f64, f64) {
        let a = self.quantile(step, 0.5 - level / 2.0);
        let b = self.quantile(step, 0.5 + level / 2.0);
        (a.min(b), a.max(b))
    }

    /// The predicted asymptote (own units), if every member has a finite limit.
    pub fn asymptote(&self) -> Option<f64> {
        let a = self.metric(self.core.asymptote()?);
        let level = self.level();
        let v = level + self.trust_at(f64::INFINITY) * (a - level);
        v.is_finite()
            .then(|| self.direction.orient(self.clamp_oriented(v)))
    }

    /// Gain from `from_step` to `to_step` in the good direction, with a central interval at
    /// `level`.
    ///
    /// `expected` is the difference of the predictive medians; the bounds are the quantiles at
    /// `to_step` minus the median at `from_step` (the value at `from_step` is treated as known,
    /// which is exact when it is the last observed step, the usual case).
    pub fn gain(&self, from_step: f64, to_step: f64, level: f64) -> Gain {
        let base = self.quantile_oriented(from_step, 0.5);
        let expected = self.quantile_oriented(to_step, 0.5) - base;
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
    pub fn max_gain_upper(&self, best_so_far: f64, to_step: f64, level: f64) -> f64 {
        self.quantile_oriented(to_step, 0.5 + level / 2.0) - self.direction.orient(best_so_far)
    }

    /// Expected improvement of the value at `step` over `threshold` (own units), in the good
    /// direction: `E[(orient(Y) − orient(threshold))⁺]`, never beyond the known good-side
    /// bound. This is what a stop rule weighs against the energy to reach `step`.
    pub fn expected_excess(&self, step: f64, threshold: f64) -> f64 {
        self.excess_of(&self.at(step), self.direction.orient(threshold))
    }

    /// Like [`Forecast::expected_excess`], for the run's recent trend continued linearly
    /// (with the trust its backtests earned, their spread, and the surprise allowance) instead
    /// of the ensemble's shape: a curve that has not bent yet is not assumed to bend.
    pub fn continuation_excess(&self, step: f64, threshold: f64) -> f64 {
        let ahead = (step - self.last_step).max(0.0);
        let cal = &self.calibration;
        let base = self.local.sd(ahead);
        let level = self.local.level;
        let median = level + cal.trend_trust * self.local.slope.max(0.0) * ahead;
        let surprise = self.surprise(step, level);
        let dist = bounded(TwoPiece {
            median,
            lower: cal.continuation_lower * base * self.width,
            upper: (cal.continuation_upper * base).hypot(surprise) * self.width,
        });
        self.excess_of(&dist, self.direction.orient(threshold))
    }

    fn excess_of(&self, dist: &TwoPiece, t: f64) -> f64 {
        let raw = dist.expected_excess(t);
        match self.good_bound() {
            // Nothing beyond the bound counts: E[(min(Y, b) − t)⁺] = E[(Y − t)⁺] − E[(Y − b)⁺].
            Some(b) if b > t => (raw - dist.expected_excess(b)).max(0.0),
            Some(_) => 0.0,
            None => raw,
        }
    }
}

/// A distribution whose numbers stay finite: the median within ±[`VALUE_LIMIT`], each spread
/// at most [`VALUE_LIMIT`] (a NaN spread is none), so that quantiles, means and gains of
/// forecasts of values near the ends of the `f64` range stay finite and ordered.
fn bounded(d: TwoPiece) -> TwoPiece {
    let spread = |s: f64| {
        if s.is_nan() {
            0.0
        } else {
            s.clamp(0.0, VALUE_LIMIT)
        }
    };
    TwoPiece {
        median: if d.median.is_nan() {
            0.0
        } else {
            d.median.clamp(-VALUE_LIMIT, VALUE_LIMIT)
        },
        lower: spread(d.lower),
        upper: spread(d.upper),
    }
}
