//! The error type of the candle integration.

use std::path::PathBuf;

/// What can go wrong while training with the candle helpers.
///
/// Run-tracker failures (logs, meters, policies) arrive as [`Error::Run`];
/// failures inside the user's model arrive as [`Error::Candle`] with the
/// phase they happened in; failures saving or restoring the best weights
/// carry the file path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The run tracker failed (writing logs, reading meters, …).
    #[error("run tracker: {0}")]
    Run(#[from] crate::Error),
    /// The training or evaluation closure, or the optimizer, returned an error.
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
    /// Saving or restoring the best weights failed.
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
    /// The trainer was configured with no step count and the run has no planned length.
    #[error("the trainer does not know how many steps to run: call `Trainer::max_steps(n)` or give the run `planned_steps(n)`")]
    NoStepCount,
}
