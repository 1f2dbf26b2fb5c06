//! The one error type of this crate: reading a curves CSV.

use std::path::PathBuf;

/// Everything that can go wrong reading recorded curves; each message names the file, the
/// line and the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CurvesError {
    /// The curves file could not be opened or read.
    #[error("cannot read curves file {path}: {source}; check the path and its permissions")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The CSV itself is malformed (unbalanced quotes, a row with the wrong number of fields, bad UTF-8).
    #[error("{origin}, line {line}: malformed CSV ({message}); every row needs as many fields as the header")]
    Csv {
        /// The file, or `<input>` for a reader.
        origin: String,
        /// 1-based line number (0 when unknown).
        line: u64,
        /// What the CSV parser reported.
        message: String,
    },
    /// The header lacks required columns.
    #[error("{origin}: missing required column(s) {missing:?}; a curves CSV needs source,task,run_id,step,metric,metric_name,higher_is_better")]
    MissingColumns {
        /// The file, or `<input>` for a reader.
        origin: String,
        /// The required columns that are absent.
        missing: Vec<String>,
    },
    /// One field could not be understood.
    #[error("{origin}, line {line}, column `{column}`: {problem} (got {value:?})")]
    BadValue {
        /// The file, or `<input>` for a reader.
        origin: String,
        /// 1-based line number.
        line: u64,
        /// The column name.
        column: String,
        /// The raw field.
        value: String,
        /// What is wrong, and what is expected instead.
        problem: String,
    },
    /// The file changed between the two passes of a [`crate::curves::CurvesFile`].
    #[error("{origin} changed while it was read (line {line}: {what}); leave it alone during a replay or forecast, or work on a copy")]
    Changed {
        /// The file.
        origin: String,
        /// 1-based line number where the second pass disagreed with the first.
        line: u64,
        /// What disagreed.
        what: String,
    },
}
