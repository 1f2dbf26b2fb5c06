//! The one error type of the `snuffer` facade crate.

use std::path::PathBuf;

/// Everything that can go wrong while setting up, running or reading back a run.
///
/// Every variant names what it was working on (a path, a setting, an address)
/// and its message says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A builder setting is out of its domain.
    #[error("invalid run setting `{name}` = {value}: {expected}")]
    InvalidSetting {
        /// The builder method.
        name: &'static str,
        /// The offending value, as text.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// The run directory could not be created or used.
    #[error("cannot create run directory {path}: {source}; choose another `out_dir` or fix its permissions")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A run file could not be written.
    #[error(
        "cannot write {path}: {source}; check free disk space and the directory's permissions"
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing or reading the run directory failed (the message names the file).
    #[error(transparent)]
    RunDir(#[from] snuffer_rundir::RunDirError),
    /// No energy meter could be started.
    #[error("no energy meter is available ({reasons}); pass meters explicitly with `.meters(...)`, e.g. a `ConstantMeter` with your hardware's power")]
    NoMeter {
        /// Why each source was skipped.
        reasons: String,
    },
    /// The energy sampler failed to start (a meter's first reading failed, or a bad setting).
    #[error("cannot start energy sampling: {source}")]
    Energy {
        /// The underlying error (its message carries the fix).
        #[from]
        source: snuffer_energy::EnergyError,
    },
    /// The Prometheus exporter could not listen.
    #[cfg(feature = "prometheus")]
    #[error("cannot start the Prometheus exporter on {addr}: {source}")]
    Prometheus {
        /// The address asked for.
        addr: String,
        /// The underlying error (names the address and the fix).
        source: std::io::Error,
    },
    /// The user's training or evaluation closure, or the optimizer, returned an error
    /// (candle integration).
    #[cfg(feature = "candle")]
    #[error("candle failed during {phase} at step {step}: {source} (check the model code; Snuffer only wraps it)")]
    Candle {
        /// `train step`, `optimizer step`, `evaluation`, `reading the loss`.
        phase: &'static str,
        /// Optimizer steps done when it failed.
        step: u64,
        /// The candle error.
        #[source]
        source: candle_core::Error,
    },
    /// Saving or restoring the best weights failed (candle integration).
    #[cfg(feature = "candle")]
    #[error("could not {action} best weights at {path}: {source} (check that the run directory is writable and has free space)")]
    Weights {
        /// `save`, `rename`, `restore`.
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// What failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The candle trainer was configured with no step count and the run has no planned
    /// length.
    #[cfg(feature = "candle")]
    #[error("the trainer does not know how many steps to run: call `Trainer::max_steps(n)` or give the run `planned_steps(n)`")]
    NoStepCount,
}

impl Error {
    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Write {
            path: path.into(),
            source,
        }
    }
}
