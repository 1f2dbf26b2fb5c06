//! Learning-curve forecasting: where is the validation metric heading, and how sure are we?
//!
//! A [`Forecaster`] fits an ensemble of eleven parametric learning-curve families (pow3, pow4,
//! log_power, vapor_pressure, loglog_linear, hill3, mmf, exp4, janoschek, weibull, ilog2; Domhan
//! et al. 2015) with Levenberg–Marquardt, weights them by how well they predict held-back
//! recent points, and returns a [`Forecast`]: a predictive distribution of the metric at any
//! step (mean, median, quantiles, intervals), the asymptote, and the gain between two steps
//! in the good direction. Refits warm-start from the previous parameters.
//!
//! ```
//! use snuffer_forecast::{Bounds, Direction, ForecastConfig, Forecaster};
//!
//! // Validation accuracy after each of the first 12 epochs of a run planned for 60.
//! let steps: Vec<f64> = (1..=12).map(f64::from).collect();
//! let acc: Vec<f64> = steps.iter().map(|e| 0.8 - 0.5 * e.powf(-0.7)).collect();
//!
//! let config = ForecastConfig::new(Direction::HigherIsBetter)
//!     .with_bounds(Bounds { lower: Some(0.0), upper: Some(1.0) });
//! let mut forecaster = Forecaster::new(config);
//! let forecast = forecaster.fit(&steps, &acc)?;
//!
//! let (lo, hi) = forecast.interval(60.0, 0.8);
//! assert!(lo <= forecast.median(60.0) && forecast.median(60.0) <= hi);
//! // Still improving, but never beyond the ceiling.
//! assert!(forecast.median(60.0) > acc[11] && hi <= 1.0);
//! let gain = forecast.gain(12.0, 60.0, 0.8);
//! assert!(gain.upper >= gain.expected && gain.expected >= gain.lower);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How the forecast is made
//!
//! * **Coordinates.** Steps are rescaled so the first observation sits at `x = 1` (curves
//!   starting at step 0 are shifted by one spacing). The metric is oriented (higher is better)
//!   and, when the bound on its good side is known (a loss ≥ 0, an accuracy ≤ 1), modelled as
//!   the log of the distance to that bound (`−ln(loss)`, `−ln(1 − accuracy)`); then rescaled so
//!   the observations span `[0, 1]`. A constant curve gives an exact flat forecast.
//! * **Fits.** Each family is fitted by Levenberg–Marquardt from data-driven starts (a second
//!   start only if the first fails; the previous optimum when warm); sign-constrained
//!   parameters are fitted as logarithms since LM has no bounds. Fits that are non-finite,
//!   worse than a constant, run off beyond 50 observed ranges within ten times the observed
//!   horizon, or whose asymptote violates the bounds are dropped. Beyond 32 points the
//!   solver sees the 16 most recent points and an even sample of the older ones (speed; old
//!   points describe an earlier regime anyway).
//! * **Weights.** Every family is refitted without the most recent 20 % of the points; its
//!   weight is `1 / (holdout MSE + max(noise², 10⁻¹²))`, the noise estimated model-free from
//!   each point's distance to the line through its neighbours. A warm refit reuses the holdout
//!   errors until the curve has grown by a tenth, so it solves only the eleven full fits.
//! * **Level and cap.** Extrapolation starts from the observed level (the weighted fit plus a
//!   robust Theil–Sen line through its last residuals, so a spike or a recent turn is handled),
//!   and each member's gain is capped by the recent slope against `ln x` plus one standard
//!   error (a tangent bounds a curve that is concave in `ln x`, as learning curves mostly are).
//! * **Uncertainty.** Each member contributes a split-normal component whose variance adds
//!   the observation noise, its parameter uncertainty (delta method, `σ²(JᵀJ)⁻¹`), 0.3 × its
//!   predicted gain and 0.3 × the recent trend continued; the mixture adds the members'
//!   disagreement. On top, the spread grows with the horizon `d = ln(step / last step)` as
//!   `d^2.5`: upwards by 0.43 and downwards by 0.2 units of surprise, a unit being the recent
//!   trend per e-fold of steps or, for log-scaled metrics, 0.4 e-folds of the distance to the
//!   bound if larger. The power above 1 says that over a short horizon a curve mostly continues
//!   (a slope is known), while far out the unknown is how it bends (a learning-rate decay, a
//!   late start, a plateau that breaks), an error that grows with the square of the log
//!   horizon or faster (with a linear law, 40–60 % observed stayed over-covered, 0.9–0.99,
//!   for every constant that kept 20 % calibrated).
//!   Such surprises are rare but large, so each member also carries a second component of
//!   weight 0.1 with the same mode whose upper side grows linearly, by 1.75 whole e-folds (or
//!   trends) per unit of `d`: the central 80 % interval follows the regular component, while
//!   the far quantiles that an optimistic stop rule reads (97.5 %) keep room for a late jump.
//!   Real curves surprise upwards far more often than downwards, so the median leans
//!   optimistic the further out it looks. All standard deviations are multiplied by
//!   [`DEFAULT_INTERVAL_SCALE`]; the constants were calibrated so the 80 % interval of the
//!   final value covers 75–85 % of the project's real curves (OPDA, Pythia, MLPerf) at 20 and
//!   40 % observed (10 % and 60 % reach 0.88–0.89) while the stop policy keeps its capture.
//!   See the crate README for the scores.
//! * **Exact fits.** All of the above except noise and parameter uncertainty is an
//!   allowance for not knowing the curve's shape. When the ensemble predicted its held-back
//!   points to within 1 % of the recent trend per e-fold of steps (on the project's real
//!   curves the 1st percentile is 1.5–4 % per source, the median 11–21 %), some family
//!   describes the curve
//!   exactly, and those allowances shrink in proportion to the error, to at most 1/100 (only
//!   while the curve still moves: a flat stretch is predicted exactly by any flat member). A
//!   noiseless `m∞(1 − e^(−t/k))` is then forecast to within its noise-free tail, and the stop
//!   policy stops at its analytic optimum.
//! * **Baselines.** [`Method::LastValue`] and [`Method::BestSoFar`] are flat, with a spread
//!   from the noise and the recent trend; [`Method::Pow3`] is the naive single fit (no level
//!   correction, cap or asymmetric spread).
#![deny(missing_docs)]

mod ensemble;
mod error;
mod families;
mod fit;
mod forecast;
mod forecaster;
mod predictive;
mod scale;
mod stats;

pub use error::ForecastError;
pub use families::{Family, ALL_FAMILIES};
pub use forecast::{Forecast, Gain};
pub use forecaster::Forecaster;

use serde::{Deserialize, Serialize};

/// Whether larger metric values are better (accuracy) or worse (loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Accuracy-like metrics.
    HigherIsBetter,
    /// Loss-like metrics.
    LowerIsBetter,
}

impl Direction {
    /// Map a metric value to "higher is better" orientation.
    pub fn orient(self, v: f64) -> f64 {
        match self {
            Direction::HigherIsBetter => v,
            Direction::LowerIsBetter => -v,
        }
    }
}

/// Known bounds of the metric in its own units (accuracy in [0, 1], loss ≥ 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// Smallest possible value.
    pub lower: Option<f64>,
    /// Largest possible value.
    pub upper: Option<f64>,
}

/// Which forecasting method to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The weighted ensemble of parametric curve families (default).
    Ensemble,
    /// A single pow3 fit (baseline).
    Pow3,
    /// The last observed value (baseline).
    LastValue,
    /// The best value so far (baseline).
    BestSoFar,
}

/// Default calibration factor on the predictive standard deviations (see
/// [`ForecastConfig::with_interval_scale`]): with the horizon constants, calibrated for 80 %
/// coverage of the final value on the project's real curves at 10–60 % observed.
pub const DEFAULT_INTERVAL_SCALE: f64 = 1.5;

/// Largest accepted [`ForecastConfig::interval_scale`]: a hundred times the modelled spread
/// is already an interval that says nothing, and far beyond it the spreads overflow.
pub const MAX_INTERVAL_SCALE: f64 = 100.0;

/// Largest magnitude of a step or metric value that [`Forecaster::fit`] accepts. The fit
/// works on differences and ratios of the observations, and its forecasts extrapolate many
/// observed ranges beyond them; up to 1e300 that leaves a factor of 1e8 before `f64`
/// overflows (at ±1.8e308). Larger values are an error naming the point, not a forecast of
/// `inf`.
pub const MAX_ABS_VALUE: f64 = 1e300;

/// Settings of a [`Forecaster`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastConfig {
    /// Method.
    pub method: Method,
    /// Metric direction.
    pub direction: Direction,
    /// Known bounds.
    pub bounds: Bounds,
    /// Model the distance to the bound on the metric's good side on a log scale when that
    /// bound is known (default `true`).
    pub log_scale: bool,
    /// Calibration factor on every predictive standard deviation (default
    /// [`DEFAULT_INTERVAL_SCALE`]); [`Forecaster::fit`] rejects values outside
    /// `[0, MAX_INTERVAL_SCALE]`.
    pub interval_scale: f64,
}

impl ForecastConfig {
    /// Ensemble forecast for a metric with the given direction, no bounds.
    pub fn new(direction: Direction) -> Self {
        ForecastConfig {
            method: Method::Ensemble,
            direction,
            bounds: Bounds::default(),
            log_scale: true,
            interval_scale: DEFAULT_INTERVAL_SCALE,
        }
    }

    /// Use another method (a baseline, or the single pow3 fit).
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Declare known bounds of the metric (own units).
    pub fn with_bounds(mut self, bounds: Bounds) -> Self {
        self.bounds = bounds;
        self
    }

    /// Whether to model the distance to a known good-side bound on a log scale.
    pub fn with_log_scale(mut self, log_scale: bool) -> Self {
        self.log_scale = log_scale;
        self
    }

    /// Multiply every predictive standard deviation by `scale` (wider intervals above 1).
    /// [`Forecaster::fit`] rejects a scale that is not a number in
    /// `[0, MAX_INTERVAL_SCALE]` ([`ForecastError::InvalidIntervalScale`]).
    pub fn with_interval_scale(mut self, scale: f64) -> Self {
        self.interval_scale = scale;
        self
    }
}
