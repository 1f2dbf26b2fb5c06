//! The typed records of a run's settings and bookkeeping: the start line's `meta`
//! ([`StartMeta`]), the end line's ([`EndMeta`]) and `summary.json`'s `extra`
//! ([`SummaryExtra`]). Written with serde, read leniently: every field is optional and a
//! field of the wrong type reads as missing, so older and hand-written files read too.
//!
//! Fields are declared in alphabetical order: the JSON they write has the keys in the
//! order the run tracker has always written them.

use serde::{Deserialize, Deserializer, Serialize};
use snuffer_energy::Skipped;
use std::path::PathBuf;

/// A field that reads as its default when it has the wrong type.
fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned + Default,
{
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

/// The metric's bounds as recorded (`{lower, upper}`, either may be `null`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BoundsRecord {
    /// Smallest possible value.
    #[serde(default, deserialize_with = "lenient")]
    pub lower: Option<f64>,
    /// Largest possible value.
    #[serde(default, deserialize_with = "lenient")]
    pub upper: Option<f64>,
}

/// The settings a run records on its start line (`meta` of the `start` record).
///
/// Read leniently (every field optional, a field of the wrong type read as missing);
/// `name` and `metric` are accepted for `run_name` and `metric_name`, `tau_per_kwh` for
/// `tau`, and `higher_is_better` falls back on `direction` ([`StartMeta::from_value`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StartMeta {
    /// The metric's bounds the forecaster was given (or `{null, null}`: inferred later).
    #[serde(default, deserialize_with = "lenient")]
    pub bounds: Option<BoundsRecord>,
    /// `higher_is_better` or `lower_is_better`.
    #[serde(default, deserialize_with = "lenient")]
    pub direction: Option<String>,
    /// Energy domains, in report order.
    #[serde(default, deserialize_with = "lenient")]
    pub domains: Vec<String>,
    /// Format version of the run directory.
    #[serde(default, deserialize_with = "lenient")]
    pub format_version: Option<u32>,
    /// Whether higher values are better.
    #[serde(default, deserialize_with = "lenient")]
    pub higher_is_better: Option<bool>,
    /// The writing machine's host name (format 2).
    #[serde(default, deserialize_with = "lenient")]
    pub host: Option<String>,
    /// Steps between step lines at the start.
    #[serde(default, deserialize_with = "lenient")]
    pub log_every: Option<u64>,
    /// Whether `log_every` doubles after each 1 000 step lines (no plan).
    #[serde(default, deserialize_with = "lenient")]
    pub log_every_doubles: Option<bool>,
    /// Names of the meters polled.
    #[serde(default, deserialize_with = "lenient")]
    pub meters: Vec<String>,
    /// Name of the monitored metric.
    #[serde(default, alias = "metric", deserialize_with = "lenient")]
    pub metric_name: Option<String>,
    /// The writing process's id (format 2).
    #[serde(default, deserialize_with = "lenient")]
    pub pid: Option<u32>,
    /// Planned steps.
    #[serde(default, deserialize_with = "lenient")]
    pub planned_steps: Option<u64>,
    /// The stop policy's name or description.
    #[serde(default, deserialize_with = "lenient")]
    pub policy: Option<String>,
    /// The forecast's refit cadence, in words.
    #[serde(default, deserialize_with = "lenient")]
    pub refit: Option<String>,
    /// Run name.
    #[serde(default, alias = "name", deserialize_with = "lenient")]
    pub run_name: Option<String>,
    /// Seconds between meter polls.
    #[serde(default, deserialize_with = "lenient")]
    pub sample_interval_s: Option<f64>,
    /// Sources the automatic meter choice skipped, with why.
    #[serde(default, deserialize_with = "lenient")]
    pub skipped: Vec<Skipped>,
    /// RFC 3339 start time.
    #[serde(default, deserialize_with = "lenient")]
    pub started_at: Option<String>,
    /// The sweep directory the run joined.
    #[serde(default, deserialize_with = "lenient")]
    pub sweep: Option<PathBuf>,
    /// τ in metric units per kWh, when the policy states one (written as `tau`).
    #[serde(
        default,
        rename = "tau",
        alias = "tau_per_kwh",
        deserialize_with = "lenient"
    )]
    pub tau_per_kwh: Option<f64>,
}

impl StartMeta {
    /// Reads the settings out of a start line's `meta` (see the type's docs); a `meta`
    /// that is not an object (or names a field twice) reads as empty.
    ///
    /// ```
    /// use snuffer_rundir::StartMeta;
    /// let meta = serde_json::json!({"name": "r", "direction": "lower_is_better", "planned_steps": 10});
    /// let m = StartMeta::from_value(&meta);
    /// assert_eq!((m.run_name.as_deref(), m.higher_is_better, m.planned_steps), (Some("r"), Some(false), Some(10)));
    /// ```
    pub fn from_value(meta: &serde_json::Value) -> StartMeta {
        let mut m = StartMeta::deserialize(meta).unwrap_or_default();
        if m.higher_is_better.is_none() {
            m.higher_is_better = m
                .direction
                .as_deref()
                .map(|d| !d.to_ascii_lowercase().starts_with("lower"));
        }
        m.tau_per_kwh = m.tau_per_kwh.filter(|t| t.is_finite());
        m
    }

    /// The start line's `meta` value.
    pub fn to_value(&self) -> serde_json::Value {
        to_value(self)
    }

    /// The start time, parsed (`None` when missing or not RFC 3339).
    pub fn started(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let t = chrono::DateTime::parse_from_rfc3339(self.started_at.as_deref()?).ok()?;
        Some(t.with_timezone(&chrono::Utc))
    }
}

/// A typed record as a JSON value (a struct of plain fields always serialises).
fn to_value(record: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(record).unwrap_or_default()
}

/// The end line's `meta`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EndMeta {
    /// False when the run was dropped without `finish()`.
    #[serde(default, deserialize_with = "lenient")]
    pub finished: bool,
    /// The step a policy stopped the run at.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub stop_step: Option<u64>,
}

impl EndMeta {
    /// The end line's `meta` value.
    ///
    /// ```
    /// use snuffer_rundir::EndMeta;
    /// let m = EndMeta { finished: true, stop_step: None };
    /// assert_eq!(m.to_value().to_string(), r#"{"finished":true}"#);
    /// ```
    pub fn to_value(&self) -> serde_json::Value {
        to_value(self)
    }
}

/// The `sweep` block of [`SummaryExtra`]: the sweep joined, how often its runs were read,
/// how many were references at the last read, and what was said about the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SweepExtra {
    /// The sweep directory.
    #[serde(default, deserialize_with = "lenient")]
    pub dir: PathBuf,
    /// Sentences about runs left out (or why none could be used).
    #[serde(default, deserialize_with = "lenient")]
    pub notes: Vec<String>,
    /// Times the other runs were read.
    #[serde(default, deserialize_with = "lenient")]
    pub reads: u64,
    /// Runs used as references at the last read.
    #[serde(default, deserialize_with = "lenient")]
    pub references: u64,
}

/// `summary.json`'s `extra`: the run tracker's bookkeeping (see the fields). Keys this
/// version does not know are kept in [`other`](Self::other).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryExtra {
    /// Energy used when the policy first said stop, J.
    #[serde(default, deserialize_with = "lenient")]
    pub energy_at_stop_j: Option<f64>,
    /// Evaluations recorded.
    #[serde(default, deserialize_with = "lenient")]
    pub evaluations: Option<u64>,
    /// Why the footprint could not be computed.
    #[serde(default, deserialize_with = "lenient")]
    pub footprint_error: Option<String>,
    /// Bounds inferred from the metric's name and first value, when none were given.
    #[serde(default, deserialize_with = "lenient")]
    pub forecast_bounds_inferred: Option<BoundsRecord>,
    /// The last forecast fit's error.
    #[serde(default, deserialize_with = "lenient")]
    pub forecast_error: Option<String>,
    /// Forecast fits made.
    #[serde(default, deserialize_with = "lenient")]
    pub forecast_fits: Option<u64>,
    /// Points the forecast saw.
    #[serde(default, deserialize_with = "lenient")]
    pub forecast_points: Option<u64>,
    /// The sampler's last error.
    #[serde(default, deserialize_with = "lenient")]
    pub last_sampler_error: Option<String>,
    /// Steps between step lines at the end.
    #[serde(default, deserialize_with = "lenient")]
    pub log_every: Option<u64>,
    /// Names of the meters polled.
    #[serde(default, deserialize_with = "lenient")]
    pub meters: Vec<String>,
    /// The stop policy's name or description.
    #[serde(default, deserialize_with = "lenient")]
    pub policy: Option<String>,
    /// Why the policy could not stop the run early, if it could tell.
    #[serde(default, deserialize_with = "lenient")]
    pub policy_note: Option<String>,
    /// The project `emissions.csv` files the run under, when set.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient"
    )]
    pub project: Option<String>,
    /// Seconds between meter polls.
    #[serde(default, deserialize_with = "lenient")]
    pub sample_interval_s: Option<f64>,
    /// Errors the sampler met.
    #[serde(default, deserialize_with = "lenient")]
    pub sampler_errors: Option<u64>,
    /// Sources the automatic meter choice skipped, with why.
    #[serde(default, deserialize_with = "lenient")]
    pub skipped: Vec<Skipped>,
    /// Lines of `steps.jsonl`.
    #[serde(default, deserialize_with = "lenient")]
    pub step_lines: Option<u64>,
    /// Path of `steps.jsonl`.
    #[serde(default, deserialize_with = "lenient")]
    pub steps_file: Option<PathBuf>,
    /// The step the policy stopped the run at.
    #[serde(default, deserialize_with = "lenient")]
    pub stop_step: Option<u64>,
    /// The sweep joined, when the run joined one.
    #[serde(default, deserialize_with = "lenient")]
    pub sweep: Option<SweepExtra>,
    /// τ per kWh the run was judged by.
    #[serde(default, deserialize_with = "lenient")]
    pub tau: Option<f64>,
    /// Where `tau` comes from (set per kWh, or resolved by the policy).
    #[serde(default, deserialize_with = "lenient")]
    pub tau_basis: Option<String>,
    /// Whether the run said it was too short to measure.
    #[serde(default, deserialize_with = "lenient")]
    pub too_short_to_measure: Option<bool>,
    /// Keys this version does not know, kept as read.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_read_as_missing_and_unknown_keys_are_kept() {
        let v = serde_json::json!({
            "evaluations": "many", "stop_step": 40, "sweep": {"dir": "runs/lr", "reads": 3},
            "mine": [1, 2]
        });
        let e: SummaryExtra = serde_json::from_value(v).unwrap_or_default();
        assert_eq!(e.evaluations, None);
        assert_eq!(e.stop_step, Some(40));
        let sweep = e.sweep.unwrap_or_default();
        assert_eq!((sweep.dir, sweep.reads), (PathBuf::from("runs/lr"), 3));
        assert_eq!(e.other.get("mine"), Some(&serde_json::json!([1, 2])));
    }

    #[test]
    fn start_meta_reads_old_spellings_and_round_trips() {
        let m = StartMeta::from_value(&serde_json::json!({
            "metric": "loss", "direction": "lower_is_better", "tau_per_kwh": 0.5, "pid": "x"
        }));
        assert_eq!(m.metric_name.as_deref(), Some("loss"));
        assert_eq!(
            (m.higher_is_better, m.tau_per_kwh, m.pid),
            (Some(false), Some(0.5), None)
        );
        let back = StartMeta::from_value(&m.to_value());
        assert_eq!(back, m);
        assert!(m.to_value().get("tau").is_some(), "written as tau");
        assert_eq!(
            StartMeta::from_value(&serde_json::json!([1])),
            StartMeta::default()
        );
    }
}
