//! `summary.json` from a run's state (the sinks write it).

use super::Run;
use snuffer_energy::{EnergyReport, Joules};
use snuffer_footprint::{RunFootprint, RunUsage};
use snuffer_rundir::{Summary, FORMAT_VERSION};
use std::time::{Duration, Instant};

/// The summary of `run` ending at `end` with `total` energy.
pub(super) fn build(run: &mut Run, total: &EnergyReport, end: Instant, finished: bool) -> Summary {
    let duration = end.saturating_duration_since(run.energy.origin());
    // A last fit with every point, so the full-run forecast uses them all.
    run.curve.maybe_refit(true);
    let energy_j = total.total.0;
    // The stop sentence's figures when a policy stopped the run, so every output agrees.
    let savings = match &run.stop {
        Some(stop) => stop.savings,
        None => run.savings(run.steps, energy_j),
    };
    let stop = run
        .stop
        .as_ref()
        .map(|s| super::decision_record(&snuffer_policy::Decision::Stop(s.reason.clone())));
    let forecast_full_metric = run.planned.and_then(|p| run.curve.record(p as f64));
    let footprint = footprint(run, total, duration, savings).map_err(|e| e.to_string());
    let (sampler_errors, last_sampler_error) = run.energy.errors();
    let extra = serde_json::json!({
        "stop_step": run.stop.as_ref().map(|s| s.step),
        "evaluations": run.evaluations,
        "forecast_fits": run.curve.fits,
        "forecast_points": run.curve.len(),
        "forecast_error": run.curve.last_error,
        "forecast_bounds_inferred": run.curve.inferred,
        "policy": run.policy_name,
        "policy_note": run.policy.as_ref().and_then(|p| p.note()),
        // The τ per kWh the run was judged by: the one set, else the one a relative τ
        // resolved to at the policy's last check (not `null` when τ is relative).
        "tau": run.tau.or_else(|| run.latest_marginal().map(|m| m.tau_per_kwh)),
        "tau_basis": match (run.tau, run.latest_marginal()) {
            (Some(_), _) => Some("set per kWh"),
            (None, Some(_)) => Some("resolved by the policy at its last check (relative τ)"),
            (None, None) => None,
        },
        "meters": run.energy.meters,
        "skipped": run.energy.skipped,
        "sample_interval_s": run.energy.interval().as_secs_f64(),
        "sampler_errors": sampler_errors,
        "last_sampler_error": last_sampler_error,
        "footprint_error": footprint.as_ref().err(),
        "log_every": run.log_every,
        "step_lines": run.lines,
        "steps_file": run.dir.join(snuffer_rundir::STEPS_FILE),
        "energy_at_stop_j": run.stop.as_ref().map(|s| s.energy_j),
        "too_short_to_measure": run.unmeasured_said,
        "sweep": sweep_extra(run),
    });
    Summary {
        format_version: FORMAT_VERSION,
        run_name: run.name.clone(),
        started_at: run.started_at.clone(),
        duration_s: duration.as_secs_f64(),
        steps: run.steps,
        planned_steps: run.planned,
        finished,
        energy_j,
        energy_uncertainty: total.uncertainty,
        provenance: total.provenance.clone(),
        domains: super::records::domain_records(total),
        metric_name: run.metric_name.clone(),
        higher_is_better: run.direction == snuffer_forecast::Direction::HigherIsBetter,
        best_step: run.best.map(|(s, _)| s),
        best_metric: run.best.map(|(_, m)| m),
        stop,
        forecast_full_metric,
        forecast_full_energy_j: savings.map(|(full, _)| full),
        forecast_saved_j: savings.map(|(_, saved)| saved),
        footprint: footprint.ok(),
        extra: Some(extra),
    }
}

/// The run's footprint: the meters' uncertainty and the start time travel with
/// the energy, so a time-series intensity is applied to when the run happened.
fn footprint(
    run: &Run,
    total: &EnergyReport,
    duration: Duration,
    savings: Option<(f64, f64)>,
) -> Result<RunFootprint, snuffer_footprint::FootprintError> {
    let mut usage =
        RunUsage::new(total.total, duration).with_energy_uncertainty(total.uncertainty)?;
    if let Ok(t0) = chrono::DateTime::parse_from_rfc3339(&run.started_at) {
        usage = usage.starting_at(t0.with_timezone(&chrono::Utc));
    }
    let full = savings
        .filter(|(_, saved)| *saved > 0.0)
        .map(|(full, _)| Joules(full));
    snuffer_footprint::run_footprint_with(&run.footprint, &usage, full)
}

/// The `sweep` block of `summary.json` `extra`: the sweep joined, how often its runs were
/// read, how many were references at the last read, and what was said about the others.
fn sweep_extra(run: &Run) -> serde_json::Value {
    match (&run.sweep, &run.sweep_unusable) {
        (Some(w), _) => serde_json::json!({
            "dir": w.dir(),
            "reads": w.reads,
            "references": w.references().len(),
            "notes": w.notes,
        }),
        (None, Some((dir, why))) => serde_json::json!({
            "dir": dir,
            "reads": 0,
            "references": 0,
            "notes": [why],
        }),
        (None, None) => serde_json::Value::Null,
    }
}
