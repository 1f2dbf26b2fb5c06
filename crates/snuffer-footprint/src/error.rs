//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while turning energy into a footprint.
///
/// Each message says what was wrong and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FootprintError {
    /// A region code that is not in the embedded table.
    #[error(
        "unknown region `{code}`; closest known: {}; give an ISO 3166 alpha-2 code \
         (e.g. FR, DE, US) or a number of g/kWh instead",
        if suggestions.is_empty() { "none".to_string() } else { suggestions.join(", ") }
    )]
    UnknownRegion {
        /// What the user typed.
        code: String,
        /// Known codes that look closest, best first.
        suggestions: Vec<String>,
    },

    /// A number outside its valid domain (negative, NaN, infinite, PUE < 1, …).
    #[error("invalid {what}: {} ({expected})", short(*value))]
    InvalidValue {
        /// Which quantity (e.g. `energy (kWh)`, `PUE`).
        what: &'static str,
        /// The offending value.
        value: f64,
        /// What a valid value looks like.
        expected: &'static str,
    },

    /// A malformed row in an intensity CSV file.
    #[error("{}line {line}: {message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Csv {
        /// File, when read from a path.
        path: Option<PathBuf>,
        /// 1-based line number in the file.
        line: u64,
        /// What is wrong with the row and how it should look.
        message: String,
    },

    /// An intensity series that cannot be used (too short, empty, …).
    #[error("intensity series: {0}")]
    Series(String),

    /// The run or window asked for lies (partly) outside the intensity series.
    #[error(
        "the intensity series covers {series_start} to {series_end}, but {what} needs \
         {needed_start} to {needed_end}; extend the series or shorten the window"
    )]
    OutsideSeries {
        /// What needed the coverage (`the run`, `the planning window`).
        what: &'static str,
        /// First instant covered by the series.
        series_start: String,
        /// End of the series' coverage.
        series_end: String,
        /// First instant needed.
        needed_start: String,
        /// Last instant needed.
        needed_end: String,
    },

    /// The run or window asked for spans a stretch where the series has no data (a spacing
    /// longer than [`crate::GAP_STEPS`] typical steps).
    #[error(
        "the intensity series has no data from {gap_start} to {gap_end} ({hours:.1} h, more \
         than {} typical steps of {step_min:.0} min without a value), but {what} needs \
         {needed}; fill the gap in the series, or choose a time outside it",
        crate::GAP_STEPS
    )]
    Gap {
        /// What needed the coverage (`the run`, `the run starting now`).
        what: &'static str,
        /// Where the value before the gap stops holding (RFC 3339).
        gap_start: String,
        /// The first timestamp after the gap (RFC 3339).
        gap_end: String,
        /// Length of the gap, hours.
        hours: f64,
        /// The series' typical (median) spacing, minutes.
        step_min: f64,
        /// The stretch needed, `START to END` (RFC 3339).
        needed: String,
    },

    /// A result too large for a 64-bit float: the inputs multiply beyond ±1.8e308.
    #[error("{what} overflows: {detail}; check the units of the inputs")]
    Overflow {
        /// Which figure (e.g. `the operational CO2e`).
        what: &'static str,
        /// The inputs that made it, with their values.
        detail: String,
    },

    /// A configuration that needs information the caller did not give.
    #[error("{0}")]
    MissingInput(String),

    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Shorthand for results of this crate.
pub type Result<T, E = FootprintError> = std::result::Result<T, E>;

/// Checks that `value` is finite and ≥ 0.
pub(crate) fn non_negative(what: &'static str, value: f64) -> Result<f64> {
    finite_non_negative(what, value, "expected a finite number ≥ 0")
}

/// Checks that a relative uncertainty is finite and ≥ 0.
pub(crate) fn rel_uncertainty(what: &'static str, value: f64) -> Result<f64> {
    finite_non_negative(
        what,
        value,
        "expected a relative uncertainty ≥ 0 (0.1 = ±10 %)",
    )
}

/// The one check behind both: finite and ≥ 0, else `expected` says what was wanted.
fn finite_non_negative(what: &'static str, value: f64, expected: &'static str) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(FootprintError::InvalidValue {
            what,
            value,
            expected,
        })
    }
}

/// A number as people write it: plain for ordinary magnitudes, `1e300` (not 301 digits) for
/// huge or tiny ones.
pub(crate) fn short(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-4..1e9).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}
