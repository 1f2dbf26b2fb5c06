//! The crate's one error type.

use std::path::PathBuf;

/// Errors from reading run directories and writing reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The directory holds neither `steps.jsonl` nor `summary.json`.
    #[error(
        "{} is not a Snuffer run directory (no steps.jsonl or summary.json in it); \
         pass the directory a run wrote, e.g. runs/latest",
        path.display()
    )]
    NotARunDir {
        /// The directory given.
        path: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{}: {source}; check that the path exists and is readable/writable", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Reading the run directory failed: a damaged line of `steps.jsonl` (other than a
    /// torn last one), a `summary.json` that does not parse or is newer than this
    /// version, a file that cannot be read. The message names the file.
    #[error(transparent)]
    RunDir(#[from] snuffer_rundir::RunDirError),
    /// The run directory has no records to plot.
    #[error("{}: the run has no step or evaluation records yet; report it once it has logged something", path.display())]
    Empty {
        /// The run directory.
        path: PathBuf,
    },
    /// Drawing a chart failed.
    #[error("drawing {chart}: {message}")]
    Plot {
        /// Which chart.
        chart: String,
        /// The plotting library's message.
        message: String,
    },
    /// A directory read as a sweep holds no run directories.
    #[error(
        "{} holds no run directories (no subdirectory with steps.jsonl or summary.json); \
         pass a sweep directory, such as the one given to RunBuilder::sweep",
        path.display()
    )]
    NotASweep {
        /// The directory given.
        path: PathBuf,
    },
    /// An output file would overwrite an input or write through a symbolic link
    /// (see [`crate::output`]).
    #[error("refusing to write {}: {why}", path.display())]
    OutputConflict {
        /// The output file.
        path: PathBuf,
        /// Why, and what to do.
        why: String,
    },
    /// `summary.json` names another run than the directory's `steps.jsonl` (a file copied
    /// from a sibling): its figures are not this run's.
    #[error(
        "{}: summary.json is run {summary_run:?}'s but steps.jsonl is run {log_run:?}'s; \
         the summary belongs to another run (copied?): restore this run's own summary.json \
         or remove it",
        path.display()
    )]
    ForeignSummary {
        /// The run directory.
        path: PathBuf,
        /// The run named by `summary.json`.
        summary_run: String,
        /// The run named by the start line of `steps.jsonl`.
        log_run: String,
    },
    /// The run's energy is negative or not a number: no saving can be computed from it.
    #[error(
        "{}: the run's energy is {energy_j} J; energy is a finite number ≥ 0, so its \
         summary.json or steps.jsonl is damaged (restore them from the run, or leave it out)",
        path.display()
    )]
    BadEnergy {
        /// The run directory.
        path: PathBuf,
        /// The energy read.
        energy_j: f64,
    },
    /// `compare` was given no run directories.
    #[error("no run directories to compare; pass at least one RUN_DIR")]
    NoRuns,
}

impl ReportError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn plot(chart: &str, err: impl std::fmt::Display) -> Self {
        ReportError::Plot {
            chart: chart.to_string(),
            message: err.to_string(),
        }
    }
}
