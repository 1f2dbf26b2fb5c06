//! A learned learning-curve prior for Snuffer.
//!
//! * [`generator`]: the synthetic prior — learning curves like real training produces, with
//!   the share of each kind explicit ([`generator::Mixture`]).
//! * [`model`]: a small PFN-style transformer (candle) that reads the points of a run seen so
//!   far and returns a bar distribution ([`bars`]) of the metric at later shares of its plan.
//! * [`train`]: training examples and the negative log-likelihood the model is trained on
//!   (the `train_prior` example is the one reproducible training command).
//! * [`LearnedPrior`]: the trained model as a [`snuffer_forecast::CurvePredictor`], which the
//!   marginal stop rule can decide on instead of the fitted forecast.
#![deny(missing_docs)]

pub mod bars;
pub mod encode;
pub mod generator;
mod infer;
pub mod model;
mod predictor;
pub mod train;

pub use predictor::{LearnedPrior, PriorError, SHIPPED_MIXTURE};
