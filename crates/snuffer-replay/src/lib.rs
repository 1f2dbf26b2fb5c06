//! Recorded learning curves, and the stop policies of `snuffer-policy` replayed over them.
//!
//! * [`curves`]: the curves CSV (one row per evaluation: `source,task,run_id,step,metric,
//!   metric_name,higher_is_better`, optional `epoch_time_s`/`energy_j`), read whole
//!   ([`curves::read_curves`]) or streamed in two passes ([`curves::CurvesFile`]), each run a
//!   [`curves::CurveRun`] with its energy per evaluation.
//! * [`replay`]: the *same* policy code a live run uses, fed one observation per recorded
//!   evaluation ([`replay::replay_run`]), or a task's runs in order as one sweep
//!   ([`replay::replay_sweep`]), and scored against the hindsight oracle.
//! * [`Oracle`]: the earliest stop maximising `best − τ·energy` on a finished run, in O(1)
//!   memory; the replay and the report score against it.
//!
//! The policy crate holds the policies and knows nothing of files; this crate reads files and
//! drives policies. `snuffer replay`, `snuffer whatif` (through `snuffer-import`'s curves) and
//! the report use it.
//!
//! ```
//! use snuffer_policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, Tau};
//! use snuffer_replay::curves::read_curves_from;
//! use snuffer_replay::replay::{replay_run, ReplayConfig};
//!
//! // A saturating accuracy curve, 36 s per epoch at the default 1000 W: 0.01 kWh an epoch.
//! let mut csv = String::from("source,task,run_id,step,metric,metric_name,higher_is_better,epoch_time_s\n");
//! for epoch in 1..=60 {
//!     let acc = 0.9 * (1.0 - (-(epoch as f64) / 8.0).exp());
//!     csv += &format!("doc,toy,r1,{epoch},{acc:.6},acc,true,36\n");
//! }
//! let runs = read_curves_from(csv.as_bytes())?;
//! let mut policy = AnyOf::new()
//!     .with(Divergence::non_finite())
//!     .with(MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(0.5)))?);
//! let config = ReplayConfig { tau_per_kwh: Some(0.5), ..ReplayConfig::default() };
//! let replayed = replay_run(&runs[0], &mut policy, &config);
//! assert!(replayed.stop_step < 60.0, "stops before the plateau's end");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod curves;
mod error;
mod oracle;
pub mod replay;

pub use error::CurvesError;
pub use oracle::{Oracle, OracleStop};
