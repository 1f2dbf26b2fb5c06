//! Read the training logs people already have — Hugging Face `trainer_state.json`,
//! TensorBoard event files, CSV histories (Lightning `metrics.csv`, Keras `CSVLogger`, W&B
//! exports) and Snuffer run directories — as learning curves that Snuffer's replay can run
//! its stop policy on.
//!
//! [`discover`] finds the runs under a set of paths, [`Candidate::read`] reads one into an
//! [`ImportedRun`] (the chosen metric's evaluations, sorted by step, with the time and energy
//! the log recorded), and [`ImportedRun::to_curve`] turns that into the
//! [`CurveRun`](snuffer_replay::curves::CurveRun) that
//! [`replay_run`](snuffer_replay::replay::replay_run) reads, together with the
//! [`EnergyBasis`] that says where its energy comes from: recorded by the run, wall time × a
//! power ([`Power`], an estimate), or proportional to steps (an estimate). Where a log records
//! the learning rate, [`ImportedRun::learning_rate`] holds it, and
//! [`learning_rate::change_points`] gives its schedule's change points.
//!
//! ```
//! use snuffer_import::{discover, ImportOptions};
//! use snuffer_energy::Joules;
//!
//! let tmp = tempfile::tempdir()?;
//! let out = tmp.path().join("bert-finetune");
//! std::fs::create_dir_all(&out)?;
//! std::fs::write(out.join("trainer_state.json"), r#"{"max_steps": 300, "log_history": [
//!     {"eval_loss": 0.9, "eval_accuracy": 0.61, "step": 100},
//!     {"loss": 0.7, "learning_rate": 2e-5, "step": 150},
//!     {"eval_loss": 0.6, "eval_accuracy": 0.74, "step": 200},
//!     {"eval_loss": NaN, "eval_accuracy": 0.75, "step": 300},
//!     {"train_runtime": 120.0, "step": 300}]}"#)?;
//!
//! let options = ImportOptions::default();
//! let found = discover(&[tmp.path().to_path_buf()], &options)?;
//! let run = found.candidates[0].read(&options)?;
//! assert_eq!(run.run_id, "bert-finetune");
//! assert_eq!(run.metric_name, "eval_loss"); // the default: the validation loss
//! assert_eq!(run.steps, vec![100.0, 200.0, 300.0]);
//! assert!(run.metrics[2].is_nan());
//!
//! // No power given: energy is proportional to steps, and labelled as an estimate.
//! let (curve, basis) = run.to_curve(None, Joules(1.0));
//! assert_eq!(curve.metrics.len(), 3);
//! assert!(basis.is_estimate());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod csv_history;
mod discover;
mod energy;
mod error;
pub mod learning_rate;
pub mod metric;
mod run;
pub mod rundir;
pub mod tensorboard;
pub mod trainer_state;

pub use discover::{discover, Candidate, Discovery};
pub use energy::{EnergyBasis, GpuPreset, Power, GPU_PRESETS, GPU_SOURCE};
pub use error::ImportError;
pub use run::{Format, ImportedRun, RecordedEnergy, Timing};

use snuffer_forecast::Direction;

/// How to read the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// The metric to replay (`--metric`): a series name, exactly or without a usual validation
    /// prefix (`eval_`, `val_`, `eval/`, `val/`, …). `None` takes the log's own choice where it
    /// records one, else the validation loss.
    pub metric: Option<String>,
    /// The step column of CSV histories (`--step-column`).
    pub step_column: Option<String>,
    /// Which way the metric is better, when its name does not tell.
    pub direction: Option<Direction>,
}
