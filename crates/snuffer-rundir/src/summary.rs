//! `summary.json`: the run's totals, written once (temp file + rename) when it ends.

use crate::error::RunDirError;
use crate::meta::SummaryExtra;
use crate::records::{DecisionRecord, DomainTotal, ForecastRecord};
use crate::{FORMAT_VERSION, SUMMARY_FILE};
use serde::{Deserialize, Deserializer, Serialize};
use snuffer_energy::Provenance;
use snuffer_footprint::RunFootprint;
use std::path::{Path, PathBuf};

/// `summary.json`.
///
/// Format 2 renamed `estimated_saved_j` to [`Summary::forecast_saved_j`] (a forecast, not
/// a measurement) and types the footprint; format 1 files read with the old name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Format version ([`FORMAT_VERSION`] when written by this crate).
    pub format_version: u32,
    /// Run name.
    pub run_name: String,
    /// RFC 3339 start time.
    pub started_at: String,
    /// Seconds from start to end.
    pub duration_s: f64,
    /// Steps done.
    pub steps: u64,
    /// Planned steps, if known.
    #[serde(default)]
    pub planned_steps: Option<u64>,
    /// Whether the run ended through `finish()` (stopped or completed) rather than being
    /// dropped on an error or a panic.
    pub finished: bool,
    /// Total energy in joules.
    pub energy_j: f64,
    /// Relative uncertainty of the total.
    pub energy_uncertainty: f64,
    /// Provenance of the total (weakest of the domains).
    pub provenance: Provenance,
    /// Per-domain totals.
    pub domains: Vec<DomainTotal>,
    /// Name of the monitored metric.
    pub metric_name: String,
    /// Whether higher is better.
    pub higher_is_better: bool,
    /// Best evaluation: step.
    #[serde(default)]
    pub best_step: Option<u64>,
    /// Best evaluation: metric value.
    #[serde(default)]
    pub best_metric: Option<f64>,
    /// Why the run stopped (`None` when no policy stopped it).
    #[serde(default)]
    pub stop: Option<DecisionRecord>,
    /// Forecast of the full planned run: metric at the planned end.
    #[serde(default)]
    pub forecast_full_metric: Option<ForecastRecord>,
    /// Forecast energy of the full planned run (joules): the energy so far plus the
    /// remaining planned steps at the recent energy per step.
    #[serde(default)]
    pub forecast_full_energy_j: Option<f64>,
    /// Forecast saving: `forecast_full_energy_j` minus the energy used (joules). A
    /// forecast, never a measurement: only a run to the end measures the full run.
    #[serde(default, alias = "estimated_saved_j")]
    pub forecast_saved_j: Option<f64>,
    /// The footprint (CO2e, water, embodied carbon), if it could be computed. A block this
    /// version cannot read (from another version of the footprint crate) reads as `None`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_footprint"
    )]
    pub footprint: Option<RunFootprint>,
    /// The run tracker's bookkeeping ([`SummaryExtra`]); an `extra` that is not an object
    /// reads as `None`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_extra"
    )]
    pub extra: Option<SummaryExtra>,
}

impl Summary {
    /// The forecast saving as a share of the forecast full run (0–1), when both are known
    /// and the full run used energy.
    pub fn forecast_saved_share(&self) -> Option<f64> {
        let full = self.forecast_full_energy_j.filter(|e| *e > 0.0)?;
        Some(self.forecast_saved_j? / full)
    }

    /// The step the policy stopped at, when it stopped the run (`extra.stop_step`, else the
    /// steps done).
    pub fn stop_step(&self) -> Option<u64> {
        self.stop.as_ref()?;
        Some(
            self.extra
                .as_ref()
                .and_then(|e| e.stop_step)
                .unwrap_or(self.steps),
        )
    }
}

fn lenient_extra<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SummaryExtra>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}

fn lenient_footprint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RunFootprint>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}

/// Parses `summary.json` text of any supported format version.
pub fn parse_summary(bytes: &[u8], path: &Path) -> Result<Summary, RunDirError> {
    let summary: Summary =
        serde_json::from_slice(bytes).map_err(|source| RunDirError::BadSummary {
            path: path.to_path_buf(),
            source,
        })?;
    if summary.format_version > FORMAT_VERSION {
        return Err(RunDirError::NewerFormat {
            path: path.to_path_buf(),
            found: summary.format_version,
            supported: FORMAT_VERSION,
        });
    }
    Ok(summary)
}

/// Reads `<dir>/summary.json`; `Ok(None)` when there is none (the run has not ended, or
/// crashed).
pub fn read_summary(dir: impl AsRef<Path>) -> Result<Option<Summary>, RunDirError> {
    let path = dir.as_ref().join(SUMMARY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => parse_summary(&bytes, &path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RunDirError::read(&path, e)),
    }
}

/// Writes `<dir>/summary.json` atomically (a temp file renamed over it); returns its path.
pub fn write_summary(dir: impl AsRef<Path>, summary: &Summary) -> Result<PathBuf, RunDirError> {
    let path = dir.as_ref().join(SUMMARY_FILE);
    let mut text = serde_json::to_vec_pretty(summary)
        .map_err(|e| RunDirError::write(&path, std::io::Error::other(e)))?;
    text.push(b'\n');
    crate::write_atomically(&path, &text)?;
    Ok(path)
}
