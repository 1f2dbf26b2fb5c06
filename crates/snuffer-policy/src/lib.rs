//! Stop policies for training runs.
//!
//! A policy looks at each [`Observation`] of a run (step, cumulative energy, the metric if
//! this step was evaluated, the latest forecast) and answers a [`Decision`]; every stop
//! carries a [`StopReason`] with the numbers that justified it, typed per policy
//! ([`Evidence`]). The heart is
//! [`MarginalGain`]: stop when the forecast, calibrated on the run's own history, expects the
//! rest of the run to buy less than τ metric units per kWh, which maximises
//! `U = best metric − τ · energy`; in a sweep ([`SweepReferences`]), also when the run is not
//! expected to beat the sweep's best by enough to pay for its remaining energy. [`Patience`], [`Target`], [`Divergence`] and [`Budget`]
//! are the classic rules, with Snuffer's semantics or exactly those of Keras, Lightning or
//! the Hugging Face Trainer ([`Compat`], differences tabled in [`compat`]); [`AnyOf`]
//! composes them. Policies are pure functions of observations and know nothing of files:
//! the `snuffer-replay` crate runs the same code over recorded curves and scores it against
//! the hindsight oracle.
//!
//! ```
//! use snuffer_energy::{Joules, Provenance};
//! use snuffer_forecast::{Direction, ForecastConfig, Forecaster};
//! use snuffer_policy::{AnyOf, Decision, Divergence, MarginalGain, MarginalGainConfig,
//!                      Observation, StopPolicy, Tau};
//!
//! // Stop when the rest of the run buys less than 0.02 accuracy per kWh.
//! let marginal = MarginalGain::new(
//!     MarginalGainConfig::new(Tau::PerKwh(0.02)).with_warmup_fraction(0.1),
//! )?;
//! let mut policy = AnyOf::new().with(Divergence::non_finite()).with(marginal);
//! let mut forecaster = Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter));
//! let provenance = Provenance::Counter;
//! let (mut steps, mut values) = (Vec::new(), Vec::new());
//! let mut stopped_at = None;
//! for epoch in 1..=100u64 {
//!     // A saturating curve, 0.1 kWh per epoch.
//!     let acc = 0.9 * (1.0 - (-(epoch as f64) / 8.0).exp());
//!     steps.push(epoch as f64);
//!     values.push(acc);
//!     let forecast = forecaster.fit(&steps, &values).ok();
//!     let obs = Observation {
//!         step: epoch,
//!         planned_steps: Some(100),
//!         elapsed: std::time::Duration::from_secs(60 * epoch),
//!         energy: Joules::from_kwh(0.1 * epoch as f64),
//!         provenance: &provenance,
//!         recent_power: None,
//!         metric: Some(acc),
//!         loss: None,
//!         direction: Direction::HigherIsBetter,
//!         forecast: forecast.as_ref(),
//!         sweep: None,
//!     };
//!     if let Decision::Stop(reason) = policy.observe(&obs) {
//!         println!("{}", reason.message);
//!         stopped_at = Some(epoch);
//!         break;
//!     }
//! }
//! assert!(stopped_at.is_some_and(|e| e < 100));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! API CONTRACT (the run tracker in the `snuffer` facade codes against these names;
//! extend, do not rename): `Observation`, `Decision`, `StopReason`, `StopPolicy`.
#![deny(missing_docs)]

mod any_of;
mod budget;
pub mod compat;
mod divergence;
mod error;
mod evidence;
mod history;
mod marginal;
mod patience;
mod policy;
mod reference;
mod rule_tuning;
mod sweep;
mod target;
mod tau;

pub use any_of::AnyOf;
pub use budget::Budget;
pub use compat::{Compat, MinSteps, WithDirection};
pub use divergence::Divergence;
pub use error::PolicyError;
pub use evidence::{
    BudgetEvidence, BudgetLimit, DivergenceCause, DivergenceEvidence, Evidence, GainCheck,
    MarginalEvidence, PatienceEvidence, SweepEvidence, TargetEvidence,
};
pub use marginal::{
    Check, Expectation, GainScale, Horizon, MarginalGain, MarginalGainConfig, PredictorRole,
    SharedPredictor, Warmup, DEFAULT_AGREE_SPAN_FRACTION, DEFAULT_BEST_LOSS_SHARE,
    DEFAULT_CONSECUTIVE, DEFAULT_IDLE_DECAY, DEFAULT_MIN_EVALUATIONS, DEFAULT_MIN_REFERENCES,
    DEFAULT_SWEEP_WARMUP_FRACTION, DEFAULT_WARMUP_FRACTION,
};
pub use patience::{MinDelta, Patience, PatienceConfig};
pub use policy::{Decision, Never, Observation, StopPolicy, StopReason, Warning};
pub use rule_tuning::RuleTuning;
pub use sweep::{Outlook, ReferenceRun, SweepReferences};
pub use target::Target;
pub use tau::Tau;
