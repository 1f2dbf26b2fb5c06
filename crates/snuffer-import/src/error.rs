//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while finding and reading training logs. Every variant names
/// the file (or directory) and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A file or directory could not be opened or read.
    #[error("cannot read {path}: {source}; check the path and its permissions")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not what its name says (bad JSON, a broken TFRecord frame, malformed CSV).
    #[error("{path}: not a readable {format} file ({problem})")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The format it was read as (`trainer_state.json`, `TensorBoard event file`, …).
        format: &'static str,
        /// What is wrong, with a line or byte offset where one is known.
        problem: String,
    },
    /// One value could not be understood.
    #[error("{path}, line {line}, column `{column}`: {problem} (got {value:?})")]
    BadValue {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The column or key.
        column: String,
        /// The raw value.
        value: String,
        /// What is wrong and what is expected.
        problem: String,
    },
    /// The log holds no series for the requested metric, or no validation metric to default to.
    #[error("{path}: {problem}; available: {}; pass --metric NAME", list(.available))]
    NoMetric {
        /// The file or run directory.
        path: PathBuf,
        /// What was looked for.
        problem: String,
        /// The metric names the log does hold.
        available: Vec<String>,
    },
    /// A CSV history without a step column.
    #[error("{path}: no step column (looked for {}); pass --step-column NAME", list(.looked_for))]
    NoStepColumn {
        /// The file.
        path: PathBuf,
        /// The column names tried.
        looked_for: Vec<String>,
    },
    /// The chosen metric has no points.
    #[error("{path}: metric `{metric}` has no evaluations; nothing to replay")]
    Empty {
        /// The file or run directory.
        path: PathBuf,
        /// The metric.
        metric: String,
    },
    /// A path given on the command line is neither a run nor a directory holding runs.
    #[error("{path}: not a training log this crate reads (a Snuffer run directory, trainer_state.json, events.out.tfevents.*, or a CSV with a step column)")]
    Unrecognised {
        /// The path.
        path: PathBuf,
    },
    /// An energy assumption is out of its domain (a power that is not a positive number, an
    /// unknown hardware preset).
    #[error("invalid energy assumption `{name}` = {value}: {expected}")]
    InvalidAssumption {
        /// The setting.
        name: String,
        /// The offending value.
        value: String,
        /// What is allowed.
        expected: String,
    },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ImportError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        ImportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn malformed(
        path: &std::path::Path,
        format: &'static str,
        problem: impl Into<String>,
    ) -> Self {
        ImportError::Malformed {
            path: path.to_path_buf(),
            format,
            problem: problem.into(),
        }
    }
}
