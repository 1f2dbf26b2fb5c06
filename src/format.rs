//! The files a run directory holds, as typed records.
//!
//! * `steps.jsonl` — one [`StepRecord`] per line, appended and flushed; a crash
//!   leaves only whole lines (a torn last line is skipped by readers).
//! * `summary.json` — one [`Summary`], written (temp file + rename) when the run
//!   stops or finishes.
//! * `emissions.csv` — CodeCarbon-compatible columns (see the report crate).
//! * `best.safetensors` — weights of the best evaluation (candle feature).
//!
//! The report crate and `snuffer report` read these types; the run tracker writes them.
//! Adding optional fields (`#[serde(default)]`) keeps old run directories readable.

use serde::{Deserialize, Serialize};
use snuffer_energy::Provenance;
use std::collections::BTreeMap;

/// File name of the per-step log inside a run directory.
pub const STEPS_FILE: &str = "steps.jsonl";
/// File name of the run summary.
pub const SUMMARY_FILE: &str = "summary.json";
/// File name of the CodeCarbon-compatible emissions log.
pub const EMISSIONS_FILE: &str = "emissions.csv";
/// File name of the best weights.
pub const BEST_WEIGHTS_FILE: &str = "best.safetensors";
/// Version of the run-directory format written by this crate.
pub const FORMAT_VERSION: u32 = 1;

/// One domain's cumulative energy at a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainRecord {
    /// Domain name (`cpu-package:0`, `gpu:0`, `cpu-estimate`, …).
    pub name: String,
    /// Cumulative joules since the run started.
    pub joules: f64,
    /// How the figure was obtained.
    pub provenance: Provenance,
    /// Relative standard uncertainty (0.4 = ±40 %).
    pub uncertainty: f64,
}

/// Cumulative energy at a step: total and per domain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnergyRecord {
    /// Sum over domains (joules since the run started).
    pub total_j: f64,
    /// Relative uncertainty of the total.
    #[serde(default)]
    pub total_uncertainty: f64,
    /// Per-domain figures.
    #[serde(default)]
    pub domains: Vec<DomainRecord>,
}

/// What kind of line a [`StepRecord`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// The first line: run metadata in `meta`.
    Start,
    /// A training step (logged at a cadence, not necessarily every step).
    Step,
    /// An evaluation: `metrics` holds the monitored metric.
    Eval,
    /// The last line, written when the run stops or finishes.
    End,
}

/// A forecast as it stood at an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastRecord {
    /// Step the prediction is for (the planned end of the run, or the horizon).
    pub target_step: f64,
    /// Median prediction at `target_step`.
    pub median: f64,
    /// Lower bound of the central interval.
    pub lo: f64,
    /// Upper bound of the central interval.
    pub hi: f64,
    /// Level of the interval (0.8 = 80 %).
    pub level: f64,
    /// Predicted asymptote, if any.
    #[serde(default)]
    pub asymptote: Option<f64>,
    /// Optional sampled path of the forecast: `(step, median, lo, hi)` rows for plotting.
    #[serde(default)]
    pub path: Vec<[f64; 4]>,
}

/// The policy's decision at an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// `continue` or `stop`.
    pub action: String,
    /// Policy that decided (for stops).
    #[serde(default)]
    pub policy: Option<String>,
    /// Human sentence.
    #[serde(default)]
    pub message: Option<String>,
    /// Numbers behind it (e.g. `gain_per_kwh_upper`, `tau`).
    #[serde(default)]
    pub evidence: BTreeMap<String, f64>,
}

/// One line of `steps.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Line kind.
    pub kind: RecordKind,
    /// Optimizer steps done.
    pub step: u64,
    /// Seconds since the run started.
    pub time_s: f64,
    /// Cumulative energy.
    #[serde(default)]
    pub energy: EnergyRecord,
    /// Metrics by name (`loss`, the monitored metric, …). NaN is written as null.
    #[serde(default)]
    pub metrics: BTreeMap<String, Option<f64>>,
    /// Forecast, when refitted at this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<ForecastRecord>,
    /// Decision, on eval lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRecord>,
    /// Free-form metadata (start line: run name, planned steps, metric name, direction, τ, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

/// Per-domain totals in the summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainTotal {
    /// Domain name.
    pub name: String,
    /// Joules used by the run.
    pub joules: f64,
    /// Provenance.
    pub provenance: Provenance,
    /// Relative uncertainty.
    pub uncertainty: f64,
}

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Format version ([`FORMAT_VERSION`]).
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
    /// Whether the run finished (stopped or completed) rather than being dropped/crashed.
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
    /// Why the run stopped (`None` when it ran to its planned end).
    #[serde(default)]
    pub stop: Option<DecisionRecord>,
    /// Forecast of the full planned run: metric at the planned end.
    #[serde(default)]
    pub forecast_full_metric: Option<ForecastRecord>,
    /// Forecast energy of the full planned run (joules).
    #[serde(default)]
    pub forecast_full_energy_j: Option<f64>,
    /// Estimated energy saved versus the full planned run (joules).
    #[serde(default)]
    pub estimated_saved_j: Option<f64>,
    /// Footprint block (see snuffer-footprint), if computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footprint: Option<serde_json::Value>,
    /// Free-form extras.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<serde_json::Value>,
}
