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
//! The forecast of a run is calibrated on that run: every spread and every trust in
//! extrapolation starts from a documented prior ([`Tuning`]) and is replaced by what the
//! run's own history shows, in proportion to the evidence ([`Calibration`]).
//!
//! * **Shape: an ensemble.** Steps are rescaled so the first observation sits at `x = 1`;
//!   the metric is oriented (higher is better) and, when the bound on its good side is known
//!   (a loss ≥ 0, an accuracy ≤ 1), modelled as the log of the distance to that bound, then
//!   rescaled to `[0, 1]`. Eleven families are fitted by Levenberg–Marquardt from data-driven
//!   starts (the previous optimum when warm) and weighted by their error on the held-back most
//!   recent 20 % of the points (`1 / (holdout MSE + noise²)`). Extrapolation starts from the
//!   observed level (the weighted fit plus a robust Theil–Sen line through its last
//!   residuals) and each member's gain is capped by the recent slope against `ln x` plus one
//!   standard error.
//! * **Trust in extrapolation (holdout).** The holdout fits' extrapolated gain is compared
//!   with what the held-back points did; the least-squares factor (0: the curve stayed at
//!   its level, 1: the gain came true) is pooled with a prior and multiplies the ensemble's
//!   gain. A run whose extrapolations have not come true forecasts close to its current
//!   level.
//! * **Spread (rolling-origin backtests).** The recent trend (a line through the last third
//!   of the points, 4–12 of them) is refitted from up to 24 earlier origins of the same run
//!   and continued to the points seen since; the standardised misses above and below set
//!   two factors on the continuation's own standard deviation (noise and slope
//!   uncertainty), pooled with a prior. The same backtests set the trust in a linear
//!   continuation of the recent trend.
//! * **Distribution.** At any step the metric is a two-piece normal whose median is the
//!   point forecast (level + trusted gain). Below it the spread is the calibrated noise and
//!   trend uncertainty plus the extrapolation's own uncertainty (a share of the predicted
//!   gain, and the members' disagreement); above it, also the linear continuation of the
//!   recent trend where it promises more than the median, and an allowance for a late
//!   surprise: a share of the distance to the known good-side bound that builds up over
//!   about an e-fold of steps. Each half holds half the mass, so an optimistic allowance
//!   never moves the point forecast. Values are clamped to the known bounds.
//! * **For stop rules.** [`Forecast::expected_excess`] is the expected improvement over a
//!   value (the best so far) at a step; [`Forecast::continuation_excess`] the same for the
//!   recent trend continued in a straight line.
//! * **Baselines.** [`Method::LastValue`] and [`Method::BestSoFar`] stay at their value with
//!   the run's calibrated noise; [`Method::Pow3`] is the naive single fit (no level
//!   correction or cap, full trust).
#![deny(missing_docs)]

mod bounds;
mod ensemble;
mod error;
mod families;
mod fit;
mod forecast;
mod forecaster;
mod learned;
mod local;
mod predictive;
mod scale;
mod stats;
mod tuning;

pub use error::ForecastError;
pub use families::{Family, ALL_FAMILIES};
pub use forecast::{Forecast, Gain};
pub use forecaster::Forecaster;
pub use learned::{CurvePredictor, Predicted, PredictorQuery, SelfCalibrated};
pub use tuning::{Calibration, Tuning};

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

/// Default factor on the predictive standard deviations (see
/// [`ForecastConfig::with_interval_scale`]): 1 leaves the spreads as the run's own backtests
/// calibrated them.
pub const DEFAULT_INTERVAL_SCALE: f64 = 1.0;

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
    /// Factor on every predictive standard deviation (default [`DEFAULT_INTERVAL_SCALE`]);
    /// [`Forecaster::fit`] rejects values outside `[0, MAX_INTERVAL_SCALE]`.
    pub interval_scale: f64,
    /// Cold-start priors (see [`Tuning`]).
    pub tuning: Tuning,
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
            tuning: Tuning::default(),
        }
    }

    /// Use other cold-start priors (see [`Tuning`]; check them with [`Tuning::invalid`]).
    pub fn with_tuning(mut self, tuning: Tuning) -> Self {
        self.tuning = tuning;
        self
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
