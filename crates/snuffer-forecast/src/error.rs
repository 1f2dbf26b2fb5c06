//! The crate's error type.

/// Why a forecast could not be made. Every message names the offending point and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ForecastError {
    /// Not enough points for the method.
    #[error("need at least {needed} points to forecast, got {got}: evaluate more often or wait for more evaluations")]
    TooFewPoints {
        /// Minimum the method needs.
        needed: usize,
        /// Points given.
        got: usize,
    },
    /// `steps` and `values` differ in length.
    #[error("got {steps} steps but {values} values: pass one value per step")]
    LengthMismatch {
        /// Number of steps.
        steps: usize,
        /// Number of values.
        values: usize,
    },
    /// A step is NaN or infinite.
    #[error("step at index {index} is {value}: steps must be finite numbers")]
    NonFiniteStep {
        /// Index of the point.
        index: usize,
        /// The step.
        value: f64,
    },
    /// A metric value is NaN or infinite (a diverged run).
    #[error("metric at index {index} (step {step}) is {value}: drop the point, or stop the run as diverged")]
    NonFiniteValue {
        /// Index of the point.
        index: usize,
        /// Its step.
        step: f64,
        /// The value.
        value: f64,
    },
    /// Steps must be strictly increasing.
    #[error("step at index {index} is {step}, not after the previous step {previous}: sort the points and merge duplicate steps (e.g. average them)")]
    NonIncreasingStep {
        /// Index of the point.
        index: usize,
        /// Its step.
        step: f64,
        /// The step before it.
        previous: f64,
    },
    /// The configured bounds are inconsistent.
    #[error(
        "bounds are inconsistent (lower {}, upper {}): the lower bound must be below the \
         upper one, and each at most {} in magnitude",
        short(*lower),
        short(*upper),
        short(crate::MAX_ABS_VALUE)
    )]
    InvalidBounds {
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// A step or metric value too large in magnitude for the forecaster's arithmetic.
    #[error(
        "{what} at index {index} is {}: beyond ±{} the forecaster's arithmetic would overflow; \
         rescale it (e.g. forecast its logarithm, or count steps in thousands)",
        short(*value),
        short(*limit)
    )]
    TooLarge {
        /// `metric` or `step`.
        what: &'static str,
        /// Index of the point.
        index: usize,
        /// The value.
        value: f64,
        /// The largest magnitude accepted ([`crate::MAX_ABS_VALUE`]).
        limit: f64,
    },
    /// The interval scale is not a number in `[0, MAX_INTERVAL_SCALE]`.
    #[error(
        "interval scale {} is outside [0, {}]: it multiplies every predictive standard \
         deviation (1 leaves them as modelled, the default is {}); fit it on finished runs",
        short(*value),
        short(*max),
        crate::DEFAULT_INTERVAL_SCALE
    )]
    InvalidIntervalScale {
        /// The scale given.
        value: f64,
        /// The largest accepted ([`crate::MAX_INTERVAL_SCALE`]).
        max: f64,
    },
    /// A value lies outside the configured bounds.
    #[error("metric at index {index} is {value}, outside the configured bounds [{lower}, {upper}]: fix the bounds or the metric")]
    OutOfBounds {
        /// Index of the point.
        index: usize,
        /// The value.
        value: f64,
        /// Lower bound (−∞ when none).
        lower: f64,
        /// Upper bound (+∞ when none).
        upper: f64,
    },
}

/// A number as people write it: plain for ordinary magnitudes, `1e308` (not 309 digits) for
/// huge or tiny ones.
fn short(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e6).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
