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

/// One name per run, all different: the run's name, and where several runs share it, the
/// name with its directory (`char-lm-full (char-lm-full-20261204-101500)`), or its whole path
/// when even that repeats.
pub fn distinct_names(runs: &[RunData]) -> Vec<String> {
    let count = |f: &dyn Fn(&RunData) -> String, v: &str| runs.iter().filter(|r| f(r) == v).count();
    let dir_name = |r: &RunData| {
        r.dir.file_name().map_or_else(
            || r.dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let with_dir = |r: &RunData| format!("{} ({})", r.run_name, dir_name(r));
    runs.iter()
        .map(|r| {
            if count(&|x| x.run_name.clone(), &r.run_name) == 1 {
                r.run_name.clone()
            } else if count(&with_dir, &with_dir(r)) == 1 {
                with_dir(r)
            } else {
                format!("{} ({})", r.run_name, r.dir.display())
            }
        })
        .collect()
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
    // A run that went to its planned end has nothing left to forecast: its full run is
    // the one recorded.
    let ran_to_end = matches!(run.status.state, snuffer_rundir::RunState::Completed { .. })
        && run.planned_steps.is_none_or(|p| run.steps() >= p);
    if ran_to_end {
        let last = run
            .metric_by_step
            .points()
            .last()
            .copied()
            .filter(|p| p.1.is_finite());
        rows.push(Row::new(
            "Full run",
            match last {
                Some((step, m)) => format!(
                    "recorded, not forecast: the run went to its planned end ({metric} = {} at \
                     step {step:.0}, its last evaluation)",
                    number(m)
                ),
                None => "recorded, not forecast: the run went to its planned end".to_string(),
            },
        ));
    } else if let Some(f) = full {
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
    if let Some(s) = run.summary.as_ref().filter(|_| !ran_to_end) {
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
                "{} operational ({}; {})",
                fp.operational, fp.intensity.source, fp.intensity.data
            ),
        );
        row.details = footprint_details(fp);
        rows.push(row);
    }
    rows
}

/// The footprint's figures as labelled lines, each with its unit and ± (not the JSON's
/// dotted keys); the avoided figures are a forecast and say so.
pub fn footprint_details(fp: &snuffer_footprint::RunFootprint) -> Vec<(String, String)> {
    let kwh = |k: f64| energy(Joules::from_kwh(k).0);
    let i = &fp.intensity;
    let place = i.region.clone().or_else(|| i.country_name.clone());
    let mut out = vec![
        (
            "grid intensity".to_string(),
            format!(
                "{} ± {} g CO2e/kWh{}",
                significant(i.intensity.0, 3),
                significant(i.sd.0, 2),
                place.map_or(String::new(), |p| format!(" ({p})"))
            ),
        ),
        (
            "energy from the grid".to_string(),
            format!(
                "{} (IT {} × PUE {})",
                kwh(fp.facility_energy_kwh),
                kwh(fp.it_energy_kwh),
                significant(fp.pue, 3)
            ),
        ),
        ("operational".to_string(), fp.operational.to_string()),
    ];
    if !fp.embodied.devices.is_empty() {
        out.push((
            "embodied".to_string(),
            format!(
                "{} (amortised over {} years)",
                fp.embodied.co2e,
                significant(fp.embodied.service_life_years, 2)
            ),
        ));
        out.push((
            "operational + embodied".to_string(),
            fp.operational_plus_embodied.to_string(),
        ));
    }
    let water = if fp.water.wue_l_per_kwh.is_some() || fp.water.grid_l_per_kwh.is_some() {
        format!(
            "{} (on site {}, grid {})",
            fp.water.total, fp.water.on_site_l, fp.water.grid_l
        )
    } else {
        "not estimated (no WUE or grid water intensity was given)".to_string()
    };
    out.push(("water".to_string(), water));
    if let Some(a) = &fp.avoided {
        out.push((
            "avoided by stopping (forecast)".to_string(),
            format!(
                "{} and {} of water, against a forecast full run of {}",
                a.co2e,
                a.water,
                kwh(a.forecast_full_energy_kwh)
            ),
        ));
    }
    out
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
    fn footprint_details_are_labelled_lines_not_dotted_keys() {
        let cfg = snuffer_footprint::FootprintConfig::default()
            .with_region("FR")
            .unwrap();
        let fp = snuffer_footprint::run_footprint(
            &cfg,
            Joules::from_kwh(12.0),
            std::time::Duration::from_secs(3600),
            None,
        )
        .unwrap();
        let details = footprint_details(&fp);
        for (label, value) in &details {
            assert!(!label.contains('.') && !label.contains('_'), "{label}");
            assert!(!value.contains(".000"), "{label}: {value}");
        }
        let get = |l: &str| details.iter().find(|d| d.0 == l).map(|d| d.1.clone());
        assert_eq!(get("operational").as_deref(), Some("672 ± 101 g CO2e"));
        assert!(get("water").is_some_and(|w| w.starts_with("not estimated")));
        assert!(get("energy from the grid").is_some_and(|e| e.starts_with("12.0 kWh")));
    }
}
