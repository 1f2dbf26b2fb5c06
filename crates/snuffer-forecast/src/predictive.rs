//! The predictive distribution in normalised coordinates: a weighted mixture of Gaussians,
//! one per ensemble member (a single one for the flat baselines).
//!
//! Each member's mean is the observed level plus the member's own extrapolated gain, shrunk
//! and capped (see [`Core::member_mean`]); its variance adds observation noise, the member's
//! parameter uncertainty (delta method) and an extrapolation term that grows with the
//! predicted gain. The members' disagreement enters through the mixture itself. A single
//! calibration factor multiplies every standard deviation.

use crate::families::{Family, Params, MAX_PARAMS};
use crate::fit::gradient;

/// One fitted member of the ensemble.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    pub family: Family,
    pub params: Params,
    /// Mixture weight (the weights sum to one).
    pub weight: f64,
    /// Covariance of the parameters (delta-method parameter uncertainty).
    pub cov: [[f64; MAX_PARAMS]; MAX_PARAMS],
    /// The member's own value at the last observed x.
    pub fit_level: f64,
}

/// Everything needed to answer queries at any step, in normalised coordinates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Core {
    /// Members; empty for a flat forecast.
    pub members: Vec<Member>,
    /// Normalised level at the last observed point, where extrapolation starts.
    pub level: f64,
    /// Normalised x of the last observation.
    pub x_last: f64,
    /// Observation noise (standard deviation, normalised units).
    pub noise: f64,
    /// Largest gain per unit of `ln x` the recent data support (≥ 0); `None` = no cap.
    pub slope_cap: Option<f64>,
    /// Magnitude of the recent trend per unit of `ln x` (|slope| + its standard error): the
    /// scale of what a continuation of the recent trend would add.
    pub trend: f64,
    /// Standard deviation per unit of trend continuation.
    pub trend_sd: f64,
    /// Relative extrapolation uncertainty: standard deviation per unit of predicted gain.
    pub gain_sd: f64,
    /// For flat forecasts: standard deviation growth per unit of `ln x`.
    pub drift: f64,
    /// Calibration factor on every standard deviation.
    pub width: f64,
    /// Extra standard deviation above / below the mean per unit of the horizon
    /// `ln(x / x_last)^horizon_power`, in units of `up_unit`: learning curves surprise
    /// upwards (a learning-rate decay, a late start) far more often than downwards.
    pub up: f64,
    /// See `up`.
    pub down: f64,
    /// Exponent of `ln(x / x_last)` in the regular horizon spread (above 1: the spread is
    /// dominated by an unknown bend of the curve in `ln x`, not by an unknown slope).
    pub horizon_power: f64,
    /// Unit of the regular horizon spread in normalised units: the recent trend, or a share
    /// of one e-fold of the distance to the bound when that is larger (see
    /// [`crate::scale::Scale::up_unit`]).
    pub up_unit: f64,
    /// Weight of the rare-surprise component in each member's mixture (0 = none).
    pub tail_weight: f64,
    /// Upward / downward standard deviation of the rare-surprise component per unit of
    /// `ln(x / x_last)` (linear: a surprise that can come at any time), in units of
    /// `tail_unit`.
    pub tail_up: f64,
    /// See `tail_up`.
    pub tail_down: f64,
    /// Unit of the rare-surprise spread: the recent trend, or one whole e-fold of the
    /// distance to the bound when that is larger.
    pub tail_unit: f64,
}

/// One mixture component: weight, mean (mode), and the standard deviations below and above
/// it (a split normal).
pub(crate) type Component = (f64, f64, f64, f64);

/// Standard normal CDF (Abramowitz–Stegun 7.1.26 based erf, |error| < 1.5e-7).
pub(crate) fn norm_cdf(z: f64) -> f64 {
    let t = z / std::f64::consts::SQRT_2;
    let s = t.signum();
    let a = t.abs();
    let k = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly = k
        * (0.254_829_592
            + k * (-0.284_496_736
                + k * (1.421_413_741 + k * (-1.453_152_027 + k * 1.061_405_429))));
    let erf = 1.0 - poly * (-a * a).exp();
    0.5 * (1.0 + s * erf)
}

impl Core {
    /// Every mixture component at normalised `x`.
    ///
    /// Each member contributes a regular split normal and, with weight `tail_weight`, a
    /// rare-surprise one with the same mode and a much wider upper side: the central 80 %
    /// interval follows the regular one, while the far quantiles an optimistic stop rule reads
    /// keep room for the occasional late jump.
    pub fn components(&self, x: f64) -> Vec<Component> {
        let du = (x / self.x_last).ln().max(0.0);
        let dh = du.powf(self.horizon_power);
        let regular = |var: f64| -> (f64, f64) {
            let lo = (var + (self.down * self.up_unit * dh).powi(2)).sqrt();
            let hi = (var + (self.up * self.up_unit * dh).powi(2)).sqrt();
            (self.width * lo, self.width * hi)
        };
        let tail = |var: f64| -> (f64, f64) {
            let lo = (var + (self.tail_down * self.tail_unit * du).powi(2)).sqrt();
            let hi = (var + (self.tail_up * self.tail_unit * du).powi(2)).sqrt();
            (self.width * lo, self.width * hi)
        };
        if self.members.is_empty() {
            let (lo, hi) = regular(self.noise.powi(2) + (self.drift * du).powi(2));
            return vec![(1.0, self.level, lo, hi)];
        }
        let eps = self.tail_weight.clamp(0.0, 1.0);
        let mut out = Vec::with_capacity(2 * self.members.len());
        for m in &self.members {
            let (mean, gain) = self.member_mean(m, x);
            let g = gradient(m.family, &m.params, x);
            let n = m.family.n_params();
            let mut var_p = 0.0;
            for i in 0..n {
                for j in 0..n {
                    var_p += g[i] * m.cov[i][j] * g[j];
                }
            }
            // Parameter uncertainty is never allowed to exceed the gain itself plus noise
            // (ill-determined fits would otherwise make the interval meaningless).
            let var_p = var_p.max(0.0).min(gain * gain + self.noise * self.noise);
            let var = self.noise.powi(2)
                + var_p
                + (self.gain_sd * gain).powi(2)
                + (self.trend_sd * self.trend * du).powi(2);
            let (lo, hi) = regular(var);
            if eps > 0.0 {
                let (tlo, thi) = tail(var);
                out.push((m.weight * (1.0 - eps), mean, lo, hi));
                out.push((m.weight * eps, mean, tlo, thi));
            } else {
                out.push((m.weight, mean, lo, hi));
            }
        }
        out
    }

    /// Mean of one member at `x`, and the gain over the level it adds.
    pub fn member_mean(&self, m: &Member, x: f64) -> (f64, f64) {
        let raw = m.family.eval(&m.params, x) - m.fit_level;
        if x <= self.x_last {
            return (self.level + raw, 0.0);
        }
        let mut gain = raw;
        if let Some(cap) = self.slope_cap {
            let c = cap * (x / self.x_last).ln();
            gain = gain.max(-c).min(c);
        }
        if !gain.is_finite() {
            gain = 0.0;
        }
        (self.level + gain, gain)
    }

    /// The `q`-quantile of the mixture at `x` (normalised, higher is better).
    pub fn quantile(&self, x: f64, q: f64) -> f64 {
        let comps = self.components(x);
        quantile_of(&comps, q)
    }

    /// Limit of the mean for `x → ∞` where every member has a finite limit.
    pub fn asymptote(&self) -> Option<f64> {
        if self.members.is_empty() {
            return (self.drift == 0.0 || self.slope_cap == Some(0.0)).then_some(self.level);
        }
        let mut acc = 0.0;
        for m in &self.members {
            let a = m.family.asymptote(&m.params)?;
            let mut gain = a - m.fit_level;
            if let Some(cap) = self.slope_cap {
                if cap == 0.0 {
                    gain = 0.0;
                }
            }
            acc += m.weight * (self.level + gain);
        }
        acc.is_finite().then_some(acc)
    }
}

/// CDF of a split normal with mode `m` and standard deviations `a` (below) and `b` (above).
pub(crate) fn split_cdf(v: f64, m: f64, a: f64, b: f64) -> f64 {
    let t = a + b;
    if t <= 0.0 {
        return if v >= m { 1.0 } else { 0.0 };
    }
    if v < m {
        if a <= 0.0 {
            0.0
        } else {
            2.0 * a / t * norm_cdf((v - m) / a)
        }
    } else if b <= 0.0 {
        1.0
    } else {
        a / t + 2.0 * b / t * (norm_cdf((v - m) / b) - 0.5)
    }
}

/// Mean of a split normal: `m + √(2/π)(b − a)`.
pub(crate) fn split_mean(m: f64, a: f64, b: f64) -> f64 {
    m + (2.0 / std::f64::consts::PI).sqrt() * (b - a)
}

/// Quantile of a mixture of split normals by bisection on its CDF.
pub(crate) fn quantile_of(comps: &[Component], q: f64) -> f64 {
    let q = q.clamp(1e-9, 1.0 - 1e-9);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &(_, m, a, b) in comps {
        lo = lo.min(m - 9.0 * a);
        hi = hi.max(m + 9.0 * b);
    }
    if !(lo.is_finite() && hi.is_finite()) || hi - lo <= 0.0 {
        // Degenerate (zero-width) mixture: the weighted median of the means.
        return weighted_median(comps);
    }
    let cdf = |v: f64| -> f64 {
        comps
            .iter()
            .map(|&(w, m, a, b)| w * split_cdf(v, m, a, b))
            .sum()
    };
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-10 * (1.0 + mid.abs()) {
            break;
        }
    }
    0.5 * (lo + hi)
}

fn weighted_median(comps: &[Component]) -> f64 {
    let mut v: Vec<(f64, f64)> = comps.iter().map(|&(w, m, _, _)| (m, w)).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = v.iter().map(|p| p.1).sum();
    let mut acc = 0.0;
    for (m, w) in &v {
        acc += w;
        if acc >= 0.5 * total {
            return *m;
        }
    }
    v.last().map_or(0.0, |p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_known_values() {
        for (z, p) in [(0.0, 0.5), (1.0, 0.841_344_7), (-1.281_551_6, 0.1)] {
            assert!((norm_cdf(z) - p).abs() < 1e-6, "{z}");
        }
    }

    #[test]
    fn single_gaussian_quantiles() {
        let c = [(1.0, 2.0, 0.5, 0.5)];
        assert!((quantile_of(&c, 0.5) - 2.0).abs() < 1e-6);
        assert!((quantile_of(&c, 0.9) - (2.0 + 0.5 * 1.281_551_6)).abs() < 1e-5);
    }

    #[test]
    fn zero_width_mixture_is_its_median() {
        let c = [(0.3, 1.0, 0.0, 0.0), (0.7, 2.0, 0.0, 0.0)];
        assert!((quantile_of(&c, 0.1) - 1.0).abs() < 1e-8);
        assert!((quantile_of(&c, 0.5) - 2.0).abs() < 1e-8);
        assert_eq!(quantile_of(&[(1.0, 3.0, 0.0, 0.0)], 0.9), 3.0);
    }

    fn core_with_tail(tail_weight: f64) -> Core {
        Core {
            members: vec![Member {
                family: Family::Pow3,
                // pow3 a − b·x^(−c) with b = c = 1 (log-parametrised): gains slowly.
                params: [1.0, 0.0, 0.0, 0.0],
                weight: 1.0,
                cov: [[0.0; MAX_PARAMS]; MAX_PARAMS],
                fit_level: 0.9,
            }],
            level: 0.9,
            x_last: 10.0,
            noise: 0.01,
            slope_cap: None,
            trend: 0.05,
            trend_sd: 0.3,
            gain_sd: 0.3,
            drift: 0.0,
            width: 1.5,
            up: 0.43,
            down: 0.2,
            horizon_power: 2.5,
            up_unit: 0.05,
            tail_weight,
            tail_up: 1.75,
            tail_down: 0.2,
            tail_unit: 0.05,
        }
    }

    #[test]
    fn rare_surprise_widens_the_far_tail_more_than_the_central_interval() {
        let (plain, tailed) = (core_with_tail(0.0), core_with_tail(0.1));
        assert_eq!(plain.components(20.0).len(), 1);
        assert_eq!(tailed.components(20.0).len(), 2);
        let far = |c: &Core| c.quantile(20.0, 0.975) - c.quantile(20.0, 0.5);
        let central = |c: &Core| c.quantile(20.0, 0.9) - c.quantile(20.0, 0.5);
        let (far_gain, central_gain) = (
            far(&tailed) / far(&plain),
            central(&tailed) / central(&plain),
        );
        assert!(
            far_gain > central_gain && far_gain > 1.2,
            "{far_gain} vs {central_gain}"
        );
        // No horizon, no surprise: at the last observation both agree.
        assert!((plain.quantile(10.0, 0.975) - tailed.quantile(10.0, 0.975)).abs() < 1e-6);
    }

    #[test]
    fn regular_horizon_spread_grows_faster_than_the_log_horizon() {
        let c = core_with_tail(0.0);
        let w = |x: f64| c.quantile(x, 0.9) - c.quantile(x, 0.1);
        // Doubling ln(x / x_last) more than doubles the spread beyond the noise floor.
        let base = w(10.0);
        let (w1, w2) = (w(10.0 * 2f64.exp()), w(10.0 * 4f64.exp()));
        assert!(w2 - base > 2.5 * (w1 - base), "{base} {w1} {w2}");
    }

    #[test]
    fn split_normal_puts_mass_by_width() {
        // Below the mode: a / (a + b) of the mass.
        assert!((split_cdf(0.0, 0.0, 1.0, 3.0) - 0.25).abs() < 1e-8);
        assert!((split_cdf(1e9, 0.0, 1.0, 3.0) - 1.0).abs() < 1e-9);
        let med = quantile_of(&[(1.0, 0.0, 1.0, 3.0)], 0.5);
        assert!(med > 0.0, "the median moves towards the wide side: {med}");
    }
}
