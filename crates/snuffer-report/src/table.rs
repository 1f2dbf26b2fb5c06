//! The summary table: plain rows of text, rendered by the HTML page.

use crate::load::RunData;
use snuffer_energy::{significant, Joules};

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What the row is about.
    pub label: String,
    /// The value, as text.
    pub value: String,
    /// Optional numbers behind the value (shown as a small nested list).
    pub details: Vec<(String, String)>,
}

impl Row {
    fn new(label: impl Into<String>, value: impl Into<String>) -> Row {
        Row {
            label: label.into(),
            value: value.into(),
            details: Vec::new(),
        }
    }
}

/// Energy with the one energy formatter (`1.23 kJ`, `312 Wh`, `1.25 kWh`).
pub fn energy(j: f64) -> String {
    Joules(j).to_string()
}

/// A duration in seconds as `1 h 02 min 03.4 s`.
pub fn duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "unknown".into();
    }
    let h = (s / 3600.0).floor();
    let m = ((s - h * 3600.0) / 60.0).floor();
    let sec = s - h * 3600.0 - m * 60.0;
    if h > 0.0 {
        format!("{h:.0} h {m:02.0} min {sec:04.1} s")
    } else if m > 0.0 {
        format!("{m:.0} min {sec:04.1} s")
    } else {
        format!("{sec:.2} s")
    }
}

/// Metric values and other numbers: four significant digits, the one formatter.
fn number(v: f64) -> String {
    significant(v, 4)
}

/// What happened to the run, in words ([`snuffer_rundir::RunState`]).
pub fn status(run: &RunData) -> String {
    run.status.state.to_string()
}

/// The rows of the summary table.
pub fn rows(run: &RunData) -> Vec<Row> {
    let mut rows = vec![Row::new("Status", status(run))];
    let planned = run
        .planned_steps
        .map(|p| format!(" of {p} planned"))
        .unwrap_or_default();
    rows.push(Row::new("Steps", format!("{}{planned}", run.steps())));
    rows.push(Row::new("Duration", duration(run.duration_s())));
    let total_u = run.energy_uncertainty();
    let provenance = run
        .energy_provenance()
        .map_or_else(|| "unknown".into(), |p| p.to_string());
    rows.push(Row::new(
        "Energy (total)",
        format!(
            "{} ± {:.0} % — {provenance}",
            energy(run.energy_j()),
            total_u * 100.0
        ),
    ));
    // Per-domain totals: the summary's if any, else the last record's.
    let domains: Vec<(String, f64, String, f64)> = match &run.summary {
        Some(s) if !s.domains.is_empty() => s
            .domains
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.joules,
                    d.provenance.to_string(),
                    d.uncertainty,
                )
            })
            .collect(),
        _ => run
            .domains
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.last_joules,
                    d.provenance.to_string(),
                    d.uncertainty,
                )
            })
            .collect(),
    };
    for (name, j, prov, u) in domains {
        rows.push(Row::new(
            format!("Energy — {name}"),
            format!("{} ± {:.0} % — {prov}", energy(j), u * 100.0),
        ));
    }
    match &run.stop {
        Some(s) => {
            let mut row = Row::new(
                "Stop reason",
                format!(
                    "{} at step {}: {}",
                    s.decision.policy.as_deref().unwrap_or("policy"),
                    s.at.step,
                    s.decision.message.as_deref().unwrap_or("(no message)")
                ),
            );
            row.details = s.decision.evidence_pairs();
            rows.push(row);
        }
        None => rows.push(Row::new("Stop reason", "none: the policy never stopped it")),
    }
    let metric = run.metric_name.clone().unwrap_or_else(|| "metric".into());
    rows.push(Row::new(
        "Best metric",
        match run.best_metric() {
            Some((step, m)) => format!("{metric} = {} at step {step}", number(m)),
            None => format!("no finite {metric} recorded"),
        },
    ));
    let full = run
        .summary
        .as_ref()
        .and_then(|s| s.forecast_full_metric.clone())
        .or_else(|| run.forecast.as_ref().map(|(_, f)| f.clone()));
    if let Some(f) = full {
        rows.push(Row::new(
            "Forecast of the full run",
            format!(
                "{metric} ≈ {} [{}, {}] ({:.0} % interval) at step {:.0}",
                number(f.median),
                number(f.lo),
                number(f.hi),
                f.level * 100.0,
                f.target_step
            ),
        ));
    }
    if let Some(s) = &run.summary {
        if let Some(e) = s.forecast_full_energy_j {
            rows.push(Row::new("Forecast energy of the full run", energy(e)));
        }
        match (s.forecast_saved_j, s.forecast_full_energy_j) {
            (Some(saved), Some(full)) if full > 0.0 => rows.push(Row::new(
                "Forecast saving",
                snuffer_rundir::forecast_saving(Joules(saved), Joules(full)),
            )),
            (Some(saved), _) => rows.push(Row::new("Forecast saving", energy(saved))),
            _ => {}
        }
    }
    if let Some(o) = &run.oracle {
        rows.push(Row::new(
            "Hindsight oracle",
            format!(
                "step {}: best {metric} {} for {} — utility M − τ·E = {} vs {} at the end (τ = {} per kWh)",
                o.at.step,
                number(o.at.metric),
                energy(o.at.energy_j),
                number(o.utility),
                number(o.utility_at_end),
                number(o.tau_per_kwh)
            ),
        ));
    }
    if let Some(fp) = run.summary.as_ref().and_then(|s| s.footprint.as_ref()) {
        let mut row = Row::new(
            "Footprint",
            format!(
                "{} g CO2e operational ± {} g ({}; {})",
                number(fp.operational.value.0),
                number(fp.operational.sd.0),
                fp.intensity.source,
                fp.intensity.data
            ),
        );
        if let Ok(v) = serde_json::to_value(fp) {
            flatten("", &v, &mut row.details);
        }
        rows.push(row);
    }
    rows
}

/// Flattens a JSON value into `a.b.c = value` pairs (footprint blocks vary).
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Number(n) => {
            out.push((prefix.to_string(), n.as_f64().map_or(n.to_string(), number)))
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Null => {}
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let rows = [
            (0.5, "0.50 s"),
            (61.0, "1 min 01.0 s"),
            (3723.4, "1 h 02 min 03.4 s"),
            (f64::NAN, "unknown"),
        ];
        for (s, want) in rows {
            assert_eq!(duration(s), want, "duration({s})");
        }
    }

    #[test]
    fn footprint_blocks_flatten() {
        let v = serde_json::json!({"co2e_kg": 0.5, "grid": {"zone": "FR", "g_per_kwh": 56}});
        let mut out = Vec::new();
        flatten("", &v, &mut out);
        assert_eq!(
            out,
            vec![
                ("co2e_kg".to_string(), "0.5000".to_string()),
                ("grid.g_per_kwh".to_string(), "56.00".to_string()),
                ("grid.zone".to_string(), "FR".to_string()),
            ]
        );
    }
}
