//! The lines of `steps.jsonl` as typed records.

use serde::{Deserialize, Serialize};
use snuffer_energy::Provenance;
use std::collections::BTreeMap;

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

/// Per-domain totals in the summary: the same fields as a step's [`DomainRecord`]
/// (the joules a domain used over the whole run).
pub type DomainTotal = DomainRecord;

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

impl EnergyRecord {
    /// Provenance of the total: the weakest of the domains' (`None` without domains).
    pub fn provenance(&self) -> Option<Provenance> {
        self.domains
            .iter()
            .map(|d| d.provenance.clone())
            .reduce(|a, b| a.combine(&b))
    }
}

/// What kind of line a [`StepRecord`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// The first line: run metadata in `meta` (see [`StartMeta`](crate::StartMeta)).
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

/// What the policy said at an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Keep training.
    Continue,
    /// Stop now.
    Stop,
}

/// A policy's advice that did not stop the run (e.g. "the plan will not fit the budget").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningRecord {
    /// The policy that warns.
    pub policy: String,
    /// One sentence with the numbers.
    pub message: String,
    /// The numbers (see [`DecisionRecord::evidence`]).
    #[serde(default)]
    pub evidence: serde_json::Map<String, serde_json::Value>,
}

/// The policy's decision at an evaluation (and, in the summary, the stop).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// `continue` or `stop`.
    pub action: Action,
    /// Policy that decided (for stops), or that made the gain-per-kWh check (continues).
    #[serde(default)]
    pub policy: Option<String>,
    /// Human sentence.
    #[serde(default)]
    pub message: Option<String>,
    /// The numbers behind it. Format 2: the policy's typed evidence as one flat object
    /// tagged by `kind` (`{"kind": "marginal_gain", "tau_per_kwh": 0.5, …}`, see
    /// `snuffer_policy::Evidence`), non-finite numbers as `"NaN"`/`"inf"`. Format 1: finite
    /// numbers by name, with the same names.
    #[serde(default)]
    pub evidence: serde_json::Map<String, serde_json::Value>,
    /// Advice that did not stop the run (format 2; format 1 folded it into `message`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<WarningRecord>,
}

impl DecisionRecord {
    /// A decision to keep training, with nothing to say.
    pub fn proceed() -> DecisionRecord {
        DecisionRecord {
            action: Action::Continue,
            policy: None,
            message: None,
            evidence: serde_json::Map::new(),
            warnings: Vec::new(),
        }
    }

    /// Whether the policy said stop.
    pub fn is_stop(&self) -> bool {
        self.action == Action::Stop
    }

    /// A finite number of the evidence by name (`tau_per_kwh`, `gain_rate_per_kwh`,
    /// …), in either format.
    ///
    /// ```
    /// use snuffer_rundir::DecisionRecord;
    /// let d: DecisionRecord = serde_json::from_str(
    ///     r#"{"action":"stop","evidence":{"kind":"marginal_gain","tau_per_kwh":0.5,"energy_share":"NaN"}}"#,
    /// )?;
    /// assert_eq!(d.number("tau_per_kwh"), Some(0.5));
    /// assert_eq!(d.number("energy_share"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn number(&self, name: &str) -> Option<f64> {
        self.evidence
            .get(name)
            .and_then(serde_json::Value::as_f64)
            .filter(|v| v.is_finite())
    }

    /// The evidence read as a typed record `T` (format 2: the policy's typed evidence,
    /// `snuffer_policy::Evidence`); `None` when it does not read as one.
    ///
    /// ```
    /// use snuffer_rundir::DecisionRecord;
    /// #[derive(serde::Deserialize)]
    /// struct Wait { wait: u32 }
    /// let d: DecisionRecord = serde_json::from_str(r#"{"action":"stop","evidence":{"kind":"patience","wait":3}}"#)?;
    /// assert_eq!(d.evidence_as::<Wait>().map(|w| w.wait), Some(3));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evidence_as<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        T::deserialize(serde_json::Value::Object(self.evidence.clone())).ok()
    }

    /// The evidence as `(name, value)` text pairs for display, nested objects flattened as
    /// `limit.energy.used_j`; the `kind` tag is left out. Numbers go through the one
    /// formatter (four significant digits); counts stay whole.
    ///
    /// ```
    /// use snuffer_rundir::DecisionRecord;
    /// let d: DecisionRecord = serde_json::from_str(
    ///     r#"{"action":"stop","evidence":{"kind":"marginal_gain","consecutive":2,"tau_per_kwh":0.51234}}"#,
    /// )?;
    /// assert_eq!(
    ///     d.evidence_pairs(),
    ///     [("consecutive".to_string(), "2".to_string()), ("tau_per_kwh".to_string(), "0.5123".to_string())]
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn evidence_pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        flatten("", &self.evidence, &mut out);
        out
    }
}

fn flatten(
    prefix: &str,
    map: &serde_json::Map<String, serde_json::Value>,
    out: &mut Vec<(String, String)>,
) {
    use serde_json::Value;
    for (k, v) in map {
        if prefix.is_empty() && k == "kind" {
            continue;
        }
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Object(m) => flatten(&key, m, out),
            // Counts (`consecutive`, `agreeing`) read as integers, not `2.000`.
            Value::Number(n) if n.is_i64() || n.is_u64() => out.push((key, n.to_string())),
            Value::Number(n) => out.push((
                key,
                n.as_f64()
                    .map_or(n.to_string(), |x| snuffer_energy::significant(x, 4)),
            )),
            Value::String(s) => out.push((key, s.clone())),
            Value::Null => {}
            other => out.push((key, other.to_string())),
        }
    }
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
    /// Decision, on eval lines (and the stop on the end line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRecord>,
    /// Metadata: on the start line the run's settings ([`StartMeta`](crate::StartMeta) reads them), on the
    /// end line `finished` and `stop_step`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}
