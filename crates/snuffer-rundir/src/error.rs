//! The crate's one error type.

use std::path::{Path, PathBuf};

/// What can go wrong reading or writing a run directory. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunDirError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file could not be written (disk full, permissions, a directory that vanished).
    #[error("cannot write {path}: {source} (check the disk space and the permissions of the run directory)")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line of `steps.jsonl` other than the last is damaged (a torn last line is
    /// skipped, not an error).
    #[error("{path}, line {line}: not a Snuffer record ({message}); the file was damaged after it was written")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The parser's message.
        message: String,
    },
    /// `summary.json` does not parse.
    #[error("{path} is not a Snuffer summary ({source}); fix or delete it to read the run from steps.jsonl alone")]
    BadSummary {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// The file was written by a newer Snuffer.
    #[error("{path} has format version {found}, newer than the {supported} this Snuffer reads: upgrade Snuffer to read it")]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The newest version this crate reads.
        supported: u32,
    },
    /// The directory holds neither `steps.jsonl` nor `summary.json`.
    #[error("{path} is not a run directory (no steps.jsonl or summary.json): pass a directory that a Snuffer run wrote, e.g. runs/latest")]
    NotARunDir {
        /// The directory.
        path: PathBuf,
    },
    /// A sweep directory could not be listed.
    #[error("cannot list the sweep directory {path}: {source}")]
    ListSweep {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl RunDirError {
    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        RunDirError::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn write(path: &Path, source: std::io::Error) -> Self {
        RunDirError::Write {
            path: path.to_path_buf(),
            source,
        }
    }
}
