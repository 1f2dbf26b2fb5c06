//! The run's own recent trend, and how well such trends have predicted this run so far.
//!
//! Everything here is in the metric's own units, oriented so that higher is better, against
//! raw steps: the stop rule weighs gains in metric units against energy, which is close to
//! proportional to steps.
//!
//! [`local_trend`] fits a straight line through the most recent points (a third of the
//! curve, 4 to 12 points). [`backtest`] replays that fit from earlier origins of the same
//! run (rolling-origin backtests: fit on the points up to `k`, compare with the points seen
//! since) and returns how far the run strayed from such continuations, in units of the
//! continuation's own uncertainty. That is the run calibrating its forecast on itself:
//! a curve that bent away from its trends gets wide intervals, a steady one narrow ones.

use crate::stats::{ls_factor, noise_sd, recent_slope};

/// Fewest points a local trend is fitted on.
pub(crate) const MIN_WINDOW: usize = 4;
/// Most points a local trend is fitted on.
pub(crate) const MAX_WINDOW: usize = 12;
/// Most backtest origins per fit (older origins are thinned evenly).
const MAX_ORIGINS: usize = 24;
/// Most later points scored per origin.
const MAX_TARGETS: usize = 12;
/// Largest standardised residual counted (one absurd jump must not dominate).
const MAX_ABS_Z: f64 = 10.0;

/// A straight-line continuation of the recent points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Local {
    /// Step of the last point.
    pub step: f64,
    /// The line's value at the last step (oriented metric units).
    pub level: f64,
    /// Slope per step (oriented metric units; may be negative).
    pub slope: f64,
    /// Standard error of the slope.
    pub se: f64,
    /// Observation noise (standard deviation), model-free.
    pub noise: f64,
}

impl Local {
    /// Standard deviation of the continuation `ahead` steps past the last point, before
    /// calibration: noise plus the slope's uncertainty carried forward.
    pub fn sd(&self, ahead: f64) -> f64 {
        (self.noise.powi(2) + (self.se * ahead.max(0.0)).powi(2)).sqrt()
    }
}

/// Number of recent points a local trend uses for a curve of `n` points.
pub(crate) fn window(n: usize) -> usize {
    (n / 3).clamp(MIN_WINDOW, MAX_WINDOW).min(n)
}

/// Fit the local trend of oriented values `g` at `steps` (at least one point).
pub(crate) fn local_trend(steps: &[f64], g: &[f64]) -> Local {
    local_trend_of(steps.len(), steps, g)
}

/// Most recent points the noise level is measured on.
const NOISE_WINDOW: usize = 30;

/// How many of the last points of a curve of `n` points [`local_trend`] reads.
pub(crate) fn local_span(n: usize) -> usize {
    n.min((NOISE_WINDOW + 1).max(MAX_WINDOW))
}

/// [`local_trend`] of a curve of `n` points from its last ones only: `steps` and `g` are
/// its last [`local_span`]`(n)` points (or more), and the result is the same, to the bit.
pub(crate) fn local_trend_of(n: usize, steps: &[f64], g: &[f64]) -> Local {
    let window_n = n;
    let n = steps.len();
    let last = n - 1;
    let noise = noise_sd(steps, g, NOISE_WINDOW);
    if n < 2 {
        return Local {
            step: steps[last],
            level: g[last],
            slope: 0.0,
            se: 0.0,
            noise,
        };
    }
    let m = window(window_n);
    let (slope, se) = recent_slope(steps, g, m);
    let xs = &steps[n - m..];
    let ys = &g[n - m..];
    let mx = xs.iter().sum::<f64>() / m as f64;
    let my = ys.iter().sum::<f64>() / m as f64;
    let level = my + slope * (steps[last] - mx);
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    Local {
        step: steps[last],
        level: if level.is_finite() { level } else { g[last] },
        slope: finite(slope),
        se: finite(se).abs(),
        noise: finite(noise),
    }
}

/// One backtest comparison: from an earlier origin, the trend continued to a later point
/// (`cont`, oriented units beyond the origin's level), what the curve actually did there
/// (`came`, beyond the same level), and the continuation's own standard deviation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pair {
    pub cont: f64,
    pub came: f64,
    pub sd: f64,
}

/// What the run's own backtests say about its local continuations.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Backtest {
    /// Every scored (origin, later point) comparison.
    pub pairs: Vec<Pair>,
    /// Number of origins.
    pub origins: usize,
}

impl Backtest {
    /// Least-squares factor on the continued trend that best explains the later points
    /// (1: the trend went on; 0: the curve stayed at its level), and its variance (from the
    /// misses around it); `None` without evidence. Each pair weighs by its precision.
    pub fn trend_factor(&self) -> Option<(f64, f64)> {
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for p in &self.pairs {
            let w = 1.0 / p.sd.powi(2);
            sxy += w * p.cont * p.came;
            sxx += w * p.cont * p.cont;
            syy += w * p.came * p.came;
        }
        if self.pairs.len() < 2 {
            return None;
        }
        // Precision weights: the misses are in units of each pair's own spread.
        let (f, rel) = ls_factor(sxy, sxx, syy)?;
        Some((f, rel / (self.pairs.len() as f64 - 1.0)))
    }

    /// Root mean square of the standardised misses above and below a continuation scaled
    /// by `factor`, with their counts: `((up_rms, up_n), (down_rms, down_n))`.
    pub fn misses(&self, factor: f64) -> ((Option<f64>, usize), (Option<f64>, usize)) {
        let (mut up2, mut up_n, mut dn2, mut dn_n) = (0.0, 0, 0.0, 0);
        for p in &self.pairs {
            let z = ((p.came - factor * p.cont) / p.sd).clamp(-MAX_ABS_Z, MAX_ABS_Z);
            if !z.is_finite() {
                continue;
            }
            if z > 0.0 {
                up2 += z * z;
                up_n += 1;
            } else {
                dn2 += z * z;
                dn_n += 1;
            }
        }
        let rms = |s: f64, n: usize| (n > 0).then(|| (s / n as f64).sqrt());
        ((rms(up2, up_n), up_n), (rms(dn2, dn_n), dn_n))
    }
}

/// Rolling-origin backtests of [`local_trend`] on oriented values `g` at `steps`.
pub(crate) fn backtest(steps: &[f64], g: &[f64]) -> Backtest {
    let n = steps.len();
    let mut out = Backtest::default();
    // An origin needs a local fit (MIN_WINDOW points) and at least one later point.
    if n < MIN_WINDOW + 1 {
        return out;
    }
    let first = MIN_WINDOW - 1;
    let last = n - 2;
    let span = last - first + 1;
    let origins: Vec<usize> = if span <= MAX_ORIGINS {
        (first..=last).collect()
    } else {
        let mut v: Vec<usize> = (0..MAX_ORIGINS)
            .map(|i| first + i * (span - 1) / (MAX_ORIGINS - 1))
            .collect();
        v.dedup();
        v
    };
    for &k in &origins {
        let loc = local_trend(&steps[..=k], &g[..=k]);
        let later = n - 1 - k;
        let targets: Vec<usize> = if later <= MAX_TARGETS {
            (k + 1..n).collect()
        } else {
            // The nearest points all, then an even sample out to the last one.
            let near = MAX_TARGETS / 2;
            let mut v: Vec<usize> = (k + 1..=k + near).collect();
            let rest = MAX_TARGETS - near;
            let from = k + near + 1;
            let far = n - from;
            v.extend((0..rest).map(|i| from + (i * (far - 1)) / (rest - 1).max(1)));
            v.dedup();
            v
        };
        out.origins += 1;
        for j in targets {
            let ahead = steps[j] - loc.step;
            let cont = loc.slope * ahead;
            let came = g[j] - loc.level;
            // A noiseless prefix has (almost) no uncertainty of its own; its misses are then
            // measured against a millionth of what it continued, so rounding is not a miss.
            let sd = loc
                .sd(ahead)
                .max(1e-6 * cont.abs())
                .max(1e-12 * (1.0 + loc.level.abs()));
            if cont.is_finite() && came.is_finite() && sd.is_finite() {
                out.pairs.push(Pair { cont, came, sd });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_line_is_its_own_trend() {
        let s: Vec<f64> = (1..=20).map(f64::from).collect();
        let g: Vec<f64> = s.iter().map(|x| 0.1 + 0.01 * x).collect();
        let l = local_trend(&s, &g);
        assert!((l.slope - 0.01).abs() < 1e-12 && l.se < 1e-9 && l.noise < 1e-12);
        assert!((l.level - 0.3).abs() < 1e-12);
        let b = backtest(&s, &g);
        // Every continuation was exact: the trend factor is one, no residual is large.
        let (f, v) = b.trend_factor().expect("a factor");
        assert!((f - 1.0).abs() < 1e-9 && v < 1e-12, "{f} {v}");
        let ((up, _), (down, _)) = b.misses(1.0);
        assert!(up.unwrap_or(0.0) < 1e-3 && down.unwrap_or(0.0) < 1e-3);
    }

    #[test]
    fn a_curve_that_bends_away_from_its_trends_gets_large_residuals() {
        // Rises, then flattens abruptly: earlier trends over-predict the plateau.
        let s: Vec<f64> = (1..=40).map(f64::from).collect();
        let g: Vec<f64> = s
            .iter()
            .map(|&x| if x < 15.0 { 0.05 * x } else { 0.75 } + 0.002 * (x * 7.3).sin())
            .collect();
        let b = backtest(&s, &g);
        let (f, _) = b.trend_factor().expect("a factor");
        assert!(f < 0.7, "trend factor {f}");
        let (_, (down, _)) = b.misses(1.0);
        assert!(down.unwrap_or(0.0) > 2.0, "{down:?}");
    }

    #[test]
    fn short_curves_have_no_backtest() {
        let b = backtest(&[1.0, 2.0, 3.0], &[0.1, 0.2, 0.3]);
        assert!(b.pairs.is_empty());
        assert!(b.trend_factor().is_none());
    }
}
