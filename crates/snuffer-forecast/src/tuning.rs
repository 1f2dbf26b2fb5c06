//! [`Tuning`]: the forecaster's cold-start priors, and [`Calibration`]: what the run's own
//! backtests made of them.

use serde::{Deserialize, Serialize};

/// The forecaster's cold-start priors and fixed allowances.
///
/// Every number here is a *prior*: what the forecaster assumes before the run has shown
/// anything. The run's own rolling-origin backtests and its holdout replace the priors in
/// proportion to the evidence (each prior counts as `*_weight` observations), so on a run
/// with a long history the priors hardly matter. Each field says what its default was
/// chosen on: recorded curves, left one source out (`surprise`), or "engineering bound, not
/// fitted". The stop rule's constants are `snuffer_policy::RuleTuning`'s (the CLI's
/// `--tuning` takes both).
///
/// ```
/// use snuffer_forecast::{Direction, ForecastConfig, Tuning};
/// let tuning = Tuning { surprise: 0.0, ..Tuning::default() }; // no allowance for late jumps
/// let config = ForecastConfig::new(Direction::HigherIsBetter).with_tuning(tuning);
/// assert_eq!(config.tuning.surprise, 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tuning {
    /// Prior trust (0–1) in the ensemble's extrapolated gain: the share of the gain the
    /// families predict beyond the current level that the point forecast keeps. Default 0.5.
    /// Engineering bound, not fitted: set by hand with the self-calibrating forecaster (commit
    /// 0ee96c3), never changed since; the holdout and the run's earlier forecasts replace it.
    pub extrapolation_trust_prior: f64,
    /// Standard deviation of that prior; the holdout's estimate, with its own variance, is
    /// combined with it by precision. Default 0.3. Engineering bound, not fitted: set by hand
    /// with the self-calibrating forecaster (commit 0ee96c3), never changed since; a weak
    /// prior.
    pub extrapolation_trust_sd: f64,
    /// Prior trust (0–1.5) in the linear continuation of the recent trend. Default 1 (the trend
    /// as it is). Engineering bound, not fitted: set by hand with the self-calibrating
    /// forecaster (commit 0ee96c3), never changed since; the backtests replace it.
    pub trend_trust_prior: f64,
    /// Standard deviation of that prior (combined with the backtests' estimate by precision).
    /// Default 0.3. Engineering bound, not fitted: set by hand with the self-calibrating
    /// forecaster (commit 0ee96c3), never changed since; a weak prior.
    pub trend_trust_sd: f64,
    /// Prior factor on the local continuation's own standard deviation (noise and slope
    /// uncertainty): 1 trusts it as it is. Default 1.5. Engineering bound, not fitted: set by
    /// hand with the self-calibrating forecaster (commit 0ee96c3), never changed since; the
    /// backtests' misses replace it.
    pub spread_prior: f64,
    /// Weight of [`Tuning::spread_prior`] in backtest residuals. Default 8. Engineering bound,
    /// not fitted: set by hand with the self-calibrating forecaster (commit 0ee96c3), never
    /// changed since; it counts as 8 misses.
    pub spread_weight: f64,
    /// Prior standard deviation per unit of extrapolated gain (how wrong a predicted gain may
    /// be); the holdout's relative misses replace it in proportion to their count. Default 0.3.
    /// Engineering bound, not fitted: set by hand with the self-calibrating forecaster (commit
    /// 0ee96c3), never changed since; a weak prior.
    pub gain_sd: f64,
    /// Weight of [`Tuning::gain_sd`] in held-back points. Default 4. Engineering bound, not
    /// fitted: set by hand with the self-calibrating forecaster (commit 0ee96c3), never changed
    /// since; it counts as 4 held-back points.
    pub gain_sd_weight: f64,
    /// Allowance for a late surprise on the good side (a learning-rate decay, a late start): a
    /// standard deviation of this share of the distance between the current level and the
    /// metric's known good-side bound, reached as the horizon grows by
    /// [`Tuning::surprise_efolds`] e-folds of steps. Zero without a known bound. Default 1.5.
    /// Chosen leave one source out with `tools/loso.py` on `../shared/data/curves` (MLPerf
    /// v1.0, OPDA, Pythia; for each source the value scoring best on the other two), scored by
    /// the stop rule's captured utility (`../shared/tools/policy_eval.py --mode single`, τ_n
    /// 0.1 and 0.3), with the rule's `idle_decay` (commit 2d3c306; it was 0.15, then 1.0 in
    /// 54e28bf). `data/curves/candle_cpu.csv` took no part.
    pub surprise: f64,
    /// Log-step horizon over which the surprise allowance builds up (e-folds). Default 1.
    /// Engineering bound, not fitted: set by hand with the self-calibrating forecaster (commit
    /// 0ee96c3), never changed since.
    pub surprise_efolds: f64,
}

impl Default for Tuning {
    /// The documented defaults (see each field and the crate README for how they were
    /// chosen).
    fn default() -> Self {
        Tuning {
            extrapolation_trust_prior: 0.5,
            extrapolation_trust_sd: 0.3,
            trend_trust_prior: 1.0,
            trend_trust_sd: 0.3,
            spread_prior: 1.5,
            spread_weight: 8.0,
            gain_sd: 0.3,
            gain_sd_weight: 4.0,
            surprise: 1.5,
            surprise_efolds: 1.0,
        }
    }
}

impl Tuning {
    /// The first field that is not a finite number in its range, as `(name, value, range)`.
    pub fn invalid(&self) -> Option<(&'static str, f64, &'static str)> {
        let checks: [(&'static str, f64, f64, f64); 10] = [
            (
                "extrapolation_trust_prior",
                self.extrapolation_trust_prior,
                0.0,
                1.0,
            ),
            (
                "extrapolation_trust_sd",
                self.extrapolation_trust_sd,
                1e-9,
                1e6,
            ),
            ("trend_trust_prior", self.trend_trust_prior, 0.0, 1.5),
            ("trend_trust_sd", self.trend_trust_sd, 1e-9, 1e6),
            ("spread_prior", self.spread_prior, 0.0, 1e6),
            ("spread_weight", self.spread_weight, 0.0, f64::MAX),
            ("gain_sd", self.gain_sd, 0.0, 1e6),
            ("gain_sd_weight", self.gain_sd_weight, 0.0, f64::MAX),
            ("surprise", self.surprise, 0.0, 1e6),
            ("surprise_efolds", self.surprise_efolds, 1e-9, 1e6),
        ];
        checks
            .into_iter()
            .find(|(_, v, lo, hi)| !(v.is_finite() && *v >= *lo && *v <= *hi))
            .map(|(n, v, lo, hi)| {
                let range = if hi == f64::MAX {
                    if lo == 0.0 {
                        "a finite number ≥ 0"
                    } else {
                        "a finite positive number"
                    }
                } else if hi == 1.5 {
                    "a number in [0, 1.5]"
                } else if hi == 1.0 {
                    "a number in [0, 1]"
                } else if lo > 0.0 {
                    "a positive number up to 1e6"
                } else {
                    "a number in [0, 1e6]"
                };
                (n, v, range)
            })
    }
}

/// What a fit learned from the run's own history (see [`crate::Forecast::calibration`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Backtest pairs of the local continuation: (earlier origin, later point) comparisons of
    /// the recent trend continued in a straight line with what came.
    pub backtests: usize,
    /// Backtest origins.
    pub origins: usize,
    /// Trust in the linear continuation of the recent trend (0–1.5).
    pub trend_trust: f64,
    /// Factor on the local continuation's standard deviation above its median.
    pub continuation_upper: f64,
    /// Same below.
    pub continuation_lower: f64,
    /// Points scored against this forecaster's own earlier forecasts of the run.
    pub forecast_checks: usize,
    /// Factor on the forecast's spread above its median (prior and earlier forecasts'
    /// misses combined).
    pub upper: f64,
    /// Same below the median.
    pub lower: f64,
    /// Trust in the ensemble's extrapolated gain (0–1) at the longest horizon the earlier
    /// forecasts were checked at (see [`crate::Forecast::calibration`]; further out it falls
    /// back towards the prior).
    pub extrapolation_trust: f64,
    /// Standard deviation per unit of extrapolated gain.
    pub gain_sd: f64,
    /// Held-back points behind [`Calibration::extrapolation_trust`].
    pub holdout_points: usize,
}
