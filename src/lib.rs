//! Snuffer: stop training runs that have stopped paying for their energy.
//!
//! A [`Run`] measures the energy of every optimizer step, forecasts where the
//! validation metric is heading, and asks a stop policy after each
//! evaluation; the run directory keeps `steps.jsonl`, `summary.json` and
//! `emissions.csv`. The manual API works with any training loop:
//!
//! ```
//! use snuffer::energy::{ConstantMeter, Meter, Watts};
//! use snuffer::forecast::Direction;
//! use snuffer::policy::{AnyOf, Divergence, Target};
//! use snuffer::{Progress, Run};
//!
//! let dir = tempfile::tempdir()?;
//! // A 50 W meter stands in for RAPL/NVML, so the example runs anywhere.
//! let meter: Box<dyn Meter> = Box::new(ConstantMeter::new("gpu:0", Watts(50.0))?);
//! let mut run = Run::builder("doc")
//!     .out_dir(dir.path().join("doc"))
//!     .planned_steps(1_000)
//!     .metric("val_acc", Direction::HigherIsBetter)
//!     .bounds(Some(0.0), Some(1.0))
//!     // Stop on NaN, or once the accuracy reaches 0.974 (see snuffer::policy for
//!     // MarginalGain, the energy-aware rule).
//!     .policy(AnyOf::new().with(Divergence::non_finite()).with(Target::new(0.974)?))
//!     .meters(vec![meter])
//!     .progress(Progress::Quiet)
//!     .build()?;
//!
//! for step in 1..=1_000u32 {
//!     // … forward, backward, optimizer …
//!     run.step(); // hot path: a counter, no allocation, no lock
//!     if step % 100 == 0 {
//!         let acc = 1.0 - 0.5 / f64::from(step).sqrt();
//!         let action = run.eval(acc)?; // logs, forecasts, asks the policy
//!         if action.should_stop() {
//!             break;
//!         }
//!     }
//! }
//! let summary = run.finish()?;
//! assert_eq!(summary.steps, 400); // 1 − 0.5/√300 = 0.971, 1 − 0.5/√400 = 0.975
//! assert_eq!(summary.stop.as_ref().and_then(|s| s.policy.as_deref()), Some("target"));
//! assert!(summary.energy_j > 0.0 && summary.provenance.is_estimate());
//! assert!(dir.path().join("doc").join(snuffer::rundir::STEPS_FILE).exists());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules
//!
//! * [`run`]: the tracker ([`Run`], [`RunBuilder`], [`Action`]).
//! * [`sink`]: where the run's events go ([`sink::Sink`]): the log
//!   (`steps.jsonl`, `summary.json`), the progress display ([`progress`]),
//!   `emissions.csv`, and `prometheus` (an exporter of the run's state,
//!   behind the cargo feature `prometheus`, off by default).
//! * Re-exports: [`rundir`] (the run directory's files as types, their reader
//!   and writer, sweeps), [`energy`] (meters and sampler), [`forecast`]
//!   (learning curves), [`policy`] (stop policies), [`footprint`] (CO2e and
//!   water).
//!
//! # Features
//!
//! * `candle` (default): the [`candle`] module (optimizer wrapper,
//!   trainer, best weights).
//! * `prometheus`: `RunBuilder::prometheus` and the `prometheus` module (the
//!   `PrometheusSink` over the `snuffer-prometheus` exporter; brings `prometheus-client`
//!   and `tiny_http`).
#![deny(missing_docs)]

#[cfg(feature = "candle")]
pub mod candle;
mod error;
pub mod progress;
#[cfg(feature = "prometheus")]
pub mod prometheus;
pub mod run;
pub mod sink;

pub use error::Error;
pub use progress::Progress;
pub use run::{Action, Refit, Run, RunBuilder};

pub use snuffer_energy as energy;
pub use snuffer_footprint as footprint;
pub use snuffer_forecast as forecast;
pub use snuffer_policy as policy;
pub use snuffer_rundir as rundir;
