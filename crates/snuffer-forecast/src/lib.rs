//! Learning-curve forecasting.
//!
//! (crate docs: to be completed by the forecast work — open with a runnable example.)
//!
//! API CONTRACT (other crates code against these names; extend, do not rename):
//! `Direction`, `Bounds`, `Method`, `ForecastConfig`, `Forecaster::new(config)`,
//! `Forecaster::fit(&mut self, steps, values) -> Result<Forecast, ForecastError>`,
//! `Forecast::{direction, last_step, mean, quantile, interval, asymptote, gain}`, `Gain`.
#![deny(missing_docs)]

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

/// Settings of a [`Forecaster`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastConfig {
    /// Method.
    pub method: Method,
    /// Metric direction.
    pub direction: Direction,
    /// Known bounds.
    pub bounds: Bounds,
}

impl ForecastConfig {
    /// Ensemble forecast for a metric with the given direction, no bounds.
    pub fn new(direction: Direction) -> Self {
        ForecastConfig {
            method: Method::Ensemble,
            direction,
            bounds: Bounds::default(),
        }
    }
}

/// Errors from fitting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForecastError {
    /// Not enough points.
    #[error("need at least {needed} points to forecast, got {got}: evaluate more often or wait")]
    TooFewPoints {
        /// Minimum.
        needed: usize,
        /// Given.
        got: usize,
    },
}

/// Expected gain between two steps, in the metric's good direction, with bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gain {
    /// Expected (mean) gain.
    pub expected: f64,
    /// Lower bound at the requested level.
    pub lower: f64,
    /// Upper bound at the requested level.
    pub upper: f64,
}

/// Fits forecasts, warm-starting from its previous fit.
#[derive(Debug, Clone)]
pub struct Forecaster {
    config: ForecastConfig,
}

impl Forecaster {
    /// A forecaster with the given settings.
    pub fn new(config: ForecastConfig) -> Self {
        Forecaster { config }
    }

    /// Fit the observed `(steps[i], values[i])` points (values in the metric's own units).
    pub fn fit(&mut self, steps: &[f64], values: &[f64]) -> Result<Forecast, ForecastError> {
        if steps.is_empty() || values.len() != steps.len() {
            return Err(ForecastError::TooFewPoints {
                needed: 1,
                got: steps.len().min(values.len()),
            });
        }
        let last = *values.last().unwrap_or(&0.0);
        Ok(Forecast {
            direction: self.config.direction,
            last_step: *steps.last().unwrap_or(&0.0),
            level: last,
        })
    }
}

/// A predictive distribution of the metric at any future step.
#[derive(Debug, Clone)]
pub struct Forecast {
    direction: Direction,
    last_step: f64,
    level: f64,
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
    /// Predictive mean of the metric (own units) at `step`.
    pub fn mean(&self, _step: f64) -> f64 {
        self.level
    }
    /// The `q`-quantile (0 < q < 1) of the metric value (own units) at `step`.
    pub fn quantile(&self, _step: f64, _q: f64) -> f64 {
        self.level
    }
    /// Central interval `(lo, hi)`, `lo <= hi`, in metric units, with probability `level`.
    pub fn interval(&self, step: f64, level: f64) -> (f64, f64) {
        let a = self.quantile(step, 0.5 - level / 2.0);
        let b = self.quantile(step, 0.5 + level / 2.0);
        (a.min(b), a.max(b))
    }
    /// The predicted asymptote, if the method has one.
    pub fn asymptote(&self) -> Option<f64> {
        None
    }
    /// Gain from `from_step` to `to_step` in the good direction, with a central interval at `level`.
    pub fn gain(&self, from_step: f64, to_step: f64, _level: f64) -> Gain {
        let g = self.direction.orient(self.mean(to_step)) - self.direction.orient(self.mean(from_step));
        Gain {
            expected: g,
            lower: g,
            upper: g,
        }
    }
}
