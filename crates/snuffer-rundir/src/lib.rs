//! The files of a Snuffer run directory, and sweeps of run directories.
//!
//! A run directory holds:
//! * `steps.jsonl` — one [`StepRecord`] per line (a start line with the run's settings,
//!   step lines at a cadence, one line per evaluation with the decision, an end line),
//!   appended and flushed by the one writer, [`StepsWriter`]; a crash leaves only whole
//!   lines but a possibly torn last one, which the one reader ([`read_steps_with`],
//!   [`read_steps`]) skips;
//! * `summary.json` — one [`Summary`], written last and atomically ([`write_summary`]);
//! * `emissions.csv` — CodeCarbon's columns ([`emissions`]);
//! * `best.safetensors` — the best weights (written by the candle integration).
//!
//! [`RunStatus`] tells how a run ended from these files, once, and which file disagrees;
//! a [`Sweep`] is a directory of run directories written by independent processes.
//! The `snuffer` facade writes these files, `snuffer-report` and the CLI read them; this
//! crate depends on neither (nor on candle).
//!
//! ```
//! use snuffer_rundir::{read_steps_with, RecordKind, StepRecord, StepsWriter, STEPS_FILE};
//! let dir = tempfile::tempdir()?;
//! let mut log = StepsWriter::create(dir.path().join(STEPS_FILE))?;
//! for step in [100, 200] {
//!     log.append(&StepRecord {
//!         kind: RecordKind::Eval,
//!         step,
//!         time_s: step as f64 / 100.0,
//!         energy: Default::default(),
//!         metrics: [("val_acc".to_string(), Some(step as f64 / 400.0))].into(),
//!         forecast: None,
//!         decision: None,
//!         meta: None,
//!     })?;
//! }
//! log.flush()?;
//! let mut best = 0.0f64;
//! let end = read_steps_with(dir.path().join(STEPS_FILE), |line| {
//!     best = best.max(line.metric("val_acc").unwrap_or(0.0));
//! })?;
//! assert_eq!((end.records, best), (2, 0.5));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Format versions
//!
//! [`FORMAT_VERSION`] 2 (this crate) differs from 1 in: decision evidence is the policy's
//! typed evidence (a flat object tagged by `kind`; version 1 had finite numbers by name,
//! under the same names), policy warnings have their own list, the summary's
//! `estimated_saved_j` is `forecast_saved_j`, its footprint is typed, and start lines name
//! the writing process (`pid`, `host`). Version 1 directories read unchanged.
#![deny(missing_docs)]

pub mod emissions;
mod error;
mod meta;
mod records;
mod status;
mod steps;
mod summary;
mod sweep;

pub use error::RunDirError;
pub use meta::{BoundsRecord, EndMeta, StartMeta, SummaryExtra, SweepExtra};
pub use records::{
    Action, DecisionRecord, DomainRecord, DomainTotal, EnergyRecord, ForecastRecord, RecordKind,
    StepRecord, WarningRecord,
};
pub use status::{this_host, LogFacts, RunState, RunStatus, Writer};
pub use steps::{
    parse_steps, read_lines, read_steps, read_steps_with, DomainView, EnergyView, ReadEnd,
    StepView, StepsLog, StepsWriter,
};
pub use summary::{parse_summary, read_summary, write_summary, Summary};
pub use sweep::{read_curve, CurvePoint, RunCurve, Sweep, SweepRun};

use std::path::Path;

/// File name of the per-step log inside a run directory.
pub const STEPS_FILE: &str = "steps.jsonl";
/// File name of the run summary.
pub const SUMMARY_FILE: &str = "summary.json";
/// File name of the CodeCarbon-compatible emissions log.
pub const EMISSIONS_FILE: &str = "emissions.csv";
/// File name of the best weights.
pub const BEST_WEIGHTS_FILE: &str = "best.safetensors";
/// The temp file the best weights are written to before the rename; one left over means a
/// crash during a save.
pub const BEST_WEIGHTS_TMP_FILE: &str = "best.safetensors.tmp";
/// Version of the run-directory format written by this crate (see the crate docs).
pub const FORMAT_VERSION: u32 = 2;

/// How a saving is labelled when it was measured: the energy of a run that went to its end
/// minus this run's.
pub const MEASURED_SAVING: &str = "saved (measured vs. the full run)";
/// How the same difference is labelled when either energy is an estimate (a model such as
/// CPU time × power, not a measurement).
pub const ESTIMATED_SAVING: &str = "saved (estimated vs. the full run)";

/// The label of a saving between a full run's energy and another run's:
/// [`MEASURED_SAVING`] only when both are measurements, else [`ESTIMATED_SAVING`].
///
/// ```
/// use snuffer_energy::Provenance;
/// let est = Provenance::Estimated { model: "cpu-time".into() };
/// assert_eq!(snuffer_rundir::saving_label(&est, &est), snuffer_rundir::ESTIMATED_SAVING);
/// assert_eq!(
///     snuffer_rundir::saving_label(&Provenance::Counter, &Provenance::Counter),
///     snuffer_rundir::MEASURED_SAVING
/// );
/// ```
pub fn saving_label(
    full: &snuffer_energy::Provenance,
    run: &snuffer_energy::Provenance,
) -> &'static str {
    if full.is_estimate() || run.is_estimate() {
        ESTIMATED_SAVING
    } else {
        MEASURED_SAVING
    }
}

/// How a saving is labelled when it was forecast: the energy the full plan was forecast to
/// need minus what the run used.
pub const FORECAST_SAVING: &str = "forecast saving";

/// `1.50 kJ (83.3 % of the forecast full run)`: the one wording of a forecast saving's
/// figures (with [`FORECAST_SAVING`] as its label).
pub fn forecast_saving(saved: snuffer_energy::Joules, full: snuffer_energy::Joules) -> String {
    format!(
        "{saved} ({} of the forecast full run)",
        snuffer_energy::percent(saved.0 / full.0)
    )
}

/// `forecast saving 1.50 kJ (83.3 % of the forecast full run)`, for sentences.
pub fn forecast_saving_phrase(
    saved: snuffer_energy::Joules,
    full: snuffer_energy::Joules,
) -> String {
    format!("{FORECAST_SAVING} {}", forecast_saving(saved, full))
}

/// `6.20 J (82.1 %)`: the one wording of a measured saving's figures (with
/// [`MEASURED_SAVING`] as its label).
pub fn measured_saving(saved: snuffer_energy::Joules, full: snuffer_energy::Joules) -> String {
    format!("{saved} ({})", snuffer_energy::percent(saved.0 / full.0))
}

/// `saved (measured vs. the full run) 6.20 J (82.1 %)`, for sentences.
pub fn measured_saving_phrase(
    saved: snuffer_energy::Joules,
    full: snuffer_energy::Joules,
) -> String {
    format!("{MEASURED_SAVING} {}", measured_saving(saved, full))
}

/// `saved (estimated vs. the full run) 6.20 J (82.1 %)` or the measured wording, by the
/// two energies' provenance ([`saving_label`]).
pub fn saving_phrase(
    saved: snuffer_energy::Joules,
    full: snuffer_energy::Joules,
    full_provenance: &snuffer_energy::Provenance,
    run_provenance: &snuffer_energy::Provenance,
) -> String {
    format!(
        "{} {}",
        saving_label(full_provenance, run_provenance),
        measured_saving(saved, full)
    )
}

/// Writes `bytes` to `path` through a temp file in the same directory and a rename, so
/// readers see the old file or the new one, never a torn one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RunDirError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|e| RunDirError::write(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| RunDirError::write(path, e))
}
