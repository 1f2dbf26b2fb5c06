//! The ensemble's extrapolation in normalised coordinates, and the predictive distribution
//! it feeds: a two-piece normal in the metric's own units.
//!
//! The ensemble ([`Core`]) supplies the shape of the curve ahead: each member's gain over
//! the observed level, capped by the recent slope. [`TwoPiece`] is the distribution of one
//! future value: its median is the point forecast and stays there however wide either side
//! is (a split normal whose two halves each hold half the mass), so an allowance for late
//! surprises widens the optimistic side without dragging the forecast along.

use crate::families::{Family, Params};

/// One fitted member of the ensemble.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    pub family: Family,
    pub params: Params,
    /// Mixture weight (the weights sum to one).
    pub weight: f64,
    /// The member's own value at the last observed x.
    pub fit_level: f64,
}

/// The ensemble's extrapolation, in normalised coordinates (see [`crate::scale::Scale`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Core {
    /// Members; empty for a flat forecast.
    pub members: Vec<Member>,
    /// Normalised level at the last observed point, where extrapolation starts.
    pub level: f64,
    /// Normalised x of the last observation.
    pub x_last: f64,
    /// Largest gain per unit of `ln x` the recent data support (≥ 0); `None` = no cap.
    pub slope_cap: Option<f64>,
}

impl Core {
    /// A core without members: the curve stays at `level`.
    pub fn flat(level: f64, x_last: f64) -> Core {
        Core {
            members: Vec::new(),
            level,
            x_last,
            slope_cap: Some(0.0),
        }
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

    /// Every member's normalised value at `x` with its weight (the level alone when flat).
    pub fn member_values(&self, x: f64) -> Vec<(f64, f64)> {
        if self.members.is_empty() {
            return vec![(1.0, self.level)];
        }
        self.members
            .iter()
            .map(|m| (m.weight, self.member_mean(m, x).0))
            .collect()
    }

    /// Limit of the mean for `x → ∞` where every member has a finite limit.
    pub fn asymptote(&self) -> Option<f64> {
        if self.members.is_empty() {
            return Some(self.level);
        }
        let mut acc = 0.0;
        for m in &self.members {
            let a = m.family.asymptote(&m.params)?;
            let gain = if self.slope_cap == Some(0.0) {
                0.0
            } else {
                a - m.fit_level
            };
            acc += m.weight * (self.level + gain);
        }
        acc.is_finite().then_some(acc)
    }
}

/// A two-piece normal: median `median`, standard deviation `lower` below it and `upper`
/// above it, each half holding half of the mass. Values are oriented (higher is better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TwoPiece {
    pub median: f64,
    pub lower: f64,
    pub upper: f64,
}

impl TwoPiece {
    /// The `q`-quantile (`q` clamped into (0, 1)).
    pub fn quantile(&self, q: f64) -> f64 {
        let q = if q.is_nan() {
            0.5
        } else {
            q.clamp(1e-12, 1.0 - 1e-12)
        };
        let z = inv_norm_cdf(q);
        let v = if z < 0.0 {
            self.median + self.lower * z
        } else {
            self.median + self.upper * z
        };
        if v.is_finite() {
            v
        } else {
            self.median
        }
    }

    /// Mean: the median shifted by half the difference of the half-normal means.
    pub fn mean(&self) -> f64 {
        self.median + 0.5 * (2.0 / std::f64::consts::PI).sqrt() * (self.upper - self.lower)
    }

    /// `E[(Y − t)⁺]`: the expected amount by which the value exceeds `t`.
    pub fn expected_excess(&self, t: f64) -> f64 {
        let (m, a, b) = (self.median, self.lower.max(0.0), self.upper.max(0.0));
        if !(m.is_finite() && t.is_finite()) {
            return 0.0;
        }
        let above = |z: f64, s: f64| -> f64 {
            // ∫_{m+zs}^∞ (y − m − zs) φ((y − m)/s)/s dy = s (φ(z) − z (1 − Φ(z)))
            if s <= 0.0 {
                0.0
            } else {
                s * (norm_pdf(z) - z * (1.0 - norm_cdf(z)))
            }
        };
        let v = if t >= m {
            if b <= 0.0 {
                0.0
            } else {
                above((t - m) / b, b)
            }
        } else {
            let d = m - t;
            // Upper half: 0.5·d + b·φ(0); lower half, from t up to the median.
            let upper_half = 0.5 * d + b * norm_pdf(0.0);
            let lower_half = if a <= 0.0 {
                0.0
            } else {
                let za = -d / a;
                d * (0.5 - norm_cdf(za)) + a * (norm_pdf(za) - norm_pdf(0.0))
            };
            upper_half + lower_half
        };
        if v.is_finite() {
            v.max(0.0)
        } else {
            0.0
        }
    }
}

/// Standard normal density.
pub(crate) fn norm_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal CDF (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7).
pub(crate) fn norm_cdf(z: f64) -> f64 {
    if z.is_nan() {
        return 0.5;
    }
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

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error
/// below 1.2e-9 over (0, 1)).
pub(crate) fn inv_norm_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    if p.is_nan() {
        return 0.0;
    }
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let low = 0.024_25;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_and_its_inverse_match_known_values() {
        for (z, p) in [(0.0, 0.5), (1.0, 0.841_344_7), (-1.281_551_6, 0.1)] {
            assert!((norm_cdf(z) - p).abs() < 1e-6, "{z}");
            assert!((inv_norm_cdf(p) - z).abs() < 1e-5, "{p}");
        }
        for p in [1e-10, 0.001, 0.3, 0.7, 0.999, 1.0 - 1e-10] {
            assert!((norm_cdf(inv_norm_cdf(p)) - p).abs() < 2e-7, "{p}");
        }
    }

    #[test]
    fn the_median_stays_put_however_wide_one_side_is() {
        for upper in [0.0, 0.1, 10.0, 1e6] {
            let d = TwoPiece {
                median: 0.4,
                lower: 0.05,
                upper,
            };
            assert!((d.quantile(0.5) - 0.4).abs() < 1e-12);
            assert!(d.quantile(0.9) >= d.quantile(0.5) && d.quantile(0.1) < 0.4);
        }
    }

    #[test]
    fn expected_excess_matches_numerical_integration() {
        let d = TwoPiece {
            median: 1.0,
            lower: 0.3,
            upper: 0.8,
        };
        for t in [-1.0, 0.5, 0.9, 1.0, 1.3, 3.0] {
            // Integrate (Q(q) − t)⁺ over q by the midpoint rule.
            let n = 200_000;
            let num: f64 = (0..n)
                .map(|i| (d.quantile((i as f64 + 0.5) / n as f64) - t).max(0.0))
                .sum::<f64>()
                / n as f64;
            let closed = d.expected_excess(t);
            assert!((num - closed).abs() < 2e-4, "t = {t}: {num} vs {closed}");
        }
        // Far below the distribution the excess is the mean minus t.
        assert!((d.expected_excess(-100.0) - (d.mean() + 100.0)).abs() < 1e-9);
    }
}
