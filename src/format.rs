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

/// Per-domain totals in the summary: the same fields as a step's [`DomainRecord`]
/// (the joules a domain used over the whole run).
pub type DomainTotal = DomainRecord;

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

/// The records of a `steps.jsonl` file, as read back by [`read_steps`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepsLog {
    /// Every whole record, in file order.
    pub records: Vec<StepRecord>,
    /// True when the file ended in a torn line (the process was killed while
    /// writing it); that partial line is not in `records`.
    pub truncated: bool,
}

impl StepsLog {
    /// The first line's metadata (run name, metric, planned steps, …), if any.
    pub fn meta(&self) -> Option<&serde_json::Value> {
        self.records
            .first()
            .filter(|r| r.kind == RecordKind::Start)
            .and_then(|r| r.meta.as_ref())
    }

    /// Whether the log has its End line (the run finished or was dropped cleanly).
    pub fn has_end(&self) -> bool {
        self.records
            .last()
            .is_some_and(|r| r.kind == RecordKind::End)
    }

    /// The evaluation lines only.
    pub fn evals(&self) -> impl Iterator<Item = &StepRecord> {
        self.records.iter().filter(|r| r.kind == RecordKind::Eval)
    }
}

/// Reads `steps.jsonl`, skipping a torn last line.
///
/// The run tracker writes each line with one write of the complete
/// `json + "\n"` buffer, so a crash (even `kill -9`) can only leave a partial
/// *last* line, never a damaged one in the middle. A last line without its
/// newline that does not parse is that torn line: it is skipped and
/// [`StepsLog::truncated`] is set. Any other line that does not parse is an
/// error naming the line.
///
/// ```
/// use snuffer::format::{read_steps, STEPS_FILE};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join(STEPS_FILE);
/// std::fs::write(&path, "{\"kind\":\"step\",\"step\":10,\"time_s\":1.5}\n{\"kind\":\"ev")?;
/// let log = read_steps(&path)?;
/// assert_eq!(log.records.len(), 1);
/// assert!(log.truncated);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_steps(path: impl AsRef<std::path::Path>) -> Result<StepsLog, crate::Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| crate::Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_steps(&bytes).map_err(|(line, message)| crate::Error::BadRecord {
        path: path.to_path_buf(),
        line,
        message,
    })
}

/// Parses the bytes of a `steps.jsonl` file (see [`read_steps`]); an error is
/// `(1-based line number, parser message)`.
pub fn parse_steps(bytes: &[u8]) -> Result<StepsLog, (u64, String)> {
    let mut log = StepsLog::default();
    let complete = bytes.ends_with(b"\n");
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    let mut number = 0u64;
    while let Some(line) = lines.next() {
        number += 1;
        // `split` yields an empty piece after the final newline.
        let is_last = lines.peek().is_none();
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<StepRecord>(line) {
            Ok(r) => log.records.push(r),
            Err(_) if is_last && !complete => log.truncated = true,
            Err(e) => return Err((number, e.to_string())),
        }
    }
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(step: u64, metric: Option<f64>) -> StepRecord {
        StepRecord {
            kind: if metric.is_some() {
                RecordKind::Eval
            } else {
                RecordKind::Step
            },
            step,
            time_s: step as f64 * 0.01,
            energy: EnergyRecord {
                total_j: step as f64 * 2.5,
                total_uncertainty: 0.4,
                domains: vec![DomainRecord {
                    name: "cpu-estimate".into(),
                    joules: step as f64 * 2.5,
                    provenance: Provenance::Estimated {
                        model: "test, \"quoted\"\n".into(),
                    },
                    uncertainty: 0.4,
                }],
            },
            metrics: metric
                .map(|m| ("val".to_string(), Some(m)))
                .into_iter()
                .collect(),
            forecast: None,
            decision: None,
            meta: None,
        }
    }

    proptest! {
        /// A file cut at any byte (a crash mid-write) reads back as a prefix of
        /// what was written, flagged as truncated exactly when a line was cut.
        #[test]
        fn any_cut_reads_back_a_prefix(
            rows in proptest::collection::vec((0u64..1_000_000, proptest::option::of(-1e6f64..1e6)), 1..20),
            cut_at in 0.0f64..1.0,
        ) {
            let records: Vec<StepRecord> = rows.iter().map(|(s, m)| record(*s, *m)).collect();
            let mut bytes = Vec::new();
            let mut ends = Vec::new();
            for r in &records {
                serde_json::to_writer(&mut bytes, r).unwrap();
                bytes.push(b'\n');
                ends.push(bytes.len());
            }
            let cut = ((bytes.len() as f64) * cut_at) as usize;
            let log = parse_steps(&bytes[..cut]).unwrap();
            // A cut just before a newline leaves a complete object: kept, not torn.
            let whole = ends.iter().filter(|&&e| e <= cut + 1).count();
            prop_assert_eq!(log.records.len(), whole);
            for (got, want) in log.records.iter().zip(&records) {
                prop_assert_eq!(got.step, want.step);
                prop_assert_eq!(&got.energy.domains[0].provenance, &want.energy.domains[0].provenance);
            }
            let mid_line = cut > 0 && !ends.contains(&cut) && !ends.contains(&(cut + 1));
            prop_assert_eq!(log.truncated, mid_line);
        }
    }

    #[test]
    fn nan_metrics_round_trip_as_null() {
        let mut r = record(3, None);
        r.metrics.insert("val".into(), None);
        let line = serde_json::to_string(&r).unwrap();
        assert!(line.contains("\"val\":null"), "{line}");
        let back = parse_steps(format!("{line}\n").as_bytes()).unwrap();
        assert_eq!(back.records[0].metrics.get("val"), Some(&None));
    }
}
