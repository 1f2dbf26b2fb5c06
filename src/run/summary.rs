//! `summary.json` from a run's state (the sinks write it).

use super::Run;
use snuffer_energy::{EnergyReport, Joules};
use snuffer_footprint::{RunFootprint, RunUsage};
use snuffer_rundir::{BoundsRecord, Summary, SummaryExtra, FORMAT_VERSION};
use std::time::{Duration, Instant};

/// The summary of `run` ending at `end` with `total` energy.
pub(super) fn build(run: &mut Run, total: &EnergyReport, end: Instant, finished: bool) -> Summary {
    let duration = end.saturating_duration_since(run.energy.origin());
    // A last fit with every point, so the full-run forecast uses them all.
    run.curve.maybe_refit(true);
    let energy_j = total.total.0;
    // The stop sentence's figures when a policy stopped the run, so every output agrees.
    let savings = match &run.stop.stop {
        Some(stop) => stop.savings,
        None => run.savings(run.clock.steps, energy_j),
    };
    let stop = run.stop.stop.as_ref().map(|s| {
        super::records::decision_record(&snuffer_policy::Decision::Stop(s.reason.clone()))
    });
    let forecast_full_metric = run.info.planned.and_then(|p| run.curve.record(p as f64));
    let footprint = footprint(run, total, duration, savings).map_err(|e| e.to_string());
    let extra = extra(run, footprint.as_ref().err().cloned());
    Summary {
        format_version: FORMAT_VERSION,
        run_name: run.info.name.clone(),
        started_at: run.info.started_at.clone(),
        duration_s: duration.as_secs_f64(),
        steps: run.clock.steps,
        planned_steps: run.info.planned,
        finished,
        energy_j,
        energy_uncertainty: total.uncertainty,
        provenance: total.provenance.clone(),
        domains: super::records::domain_records(total),
        metric_name: run.info.metric_name.clone(),
        higher_is_better: run.info.direction == snuffer_forecast::Direction::HigherIsBetter,
        best_step: run.best.best.map(|(s, _)| s),
        best_metric: run.best.best.map(|(_, m)| m),
        stop,
        forecast_full_metric,
        forecast_full_energy_j: savings.map(|(full, _)| full),
        forecast_saved_j: savings.map(|(_, saved)| saved),
        footprint: footprint.ok(),
        extra: Some(extra),
    }
}

/// `summary.json`'s `extra`: the tracker's bookkeeping.
fn extra(run: &Run, footprint_error: Option<String>) -> SummaryExtra {
    let (sampler_errors, last_sampler_error) = run.energy.errors();
    let tau = run.stop.tau_per_kwh();
    SummaryExtra {
        energy_at_stop_j: run.stop.stop.as_ref().map(|s| s.energy_j),
        evaluations: Some(run.clock.evaluations),
        footprint_error,
        forecast_bounds_inferred: run.curve.inferred.map(|b| BoundsRecord {
            lower: b.lower,
            upper: b.upper,
        }),
        forecast_error: run.curve.last_error.clone(),
        forecast_fits: Some(u64::from(run.curve.fits)),
        forecast_points: Some(run.curve.len() as u64),
        last_sampler_error,
        log_every: Some(run.clock.log_every),
        meters: run.energy.meters.clone(),
        policy: run.stop.name.clone(),
        policy_note: run.stop.policy.as_ref().and_then(|p| p.note()),
        project: None,
        sample_interval_s: Some(run.energy.interval().as_secs_f64()),
        sampler_errors: Some(sampler_errors),
        skipped: run.energy.skipped.clone(),
        step_lines: Some(run.clock.lines),
        steps_file: Some(run.info.dir.join(snuffer_rundir::STEPS_FILE)),
        stop_step: run.stop.stop.as_ref().map(|s| s.step),
        sweep: run.sweep.extra(),
        // The τ per kWh the run was judged by: the policy's fixed one, else the one a
        // relative τ resolved to at the policy's last check.
        tau: tau.map(|(t, _)| t),
        tau_basis: tau.map(|(_, basis)| basis.to_string()),
        too_short_to_measure: Some(run.stop.unmeasured_said),
        other: serde_json::Map::new(),
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
    if let Ok(t0) = chrono::DateTime::parse_from_rfc3339(&run.info.started_at) {
        usage = usage.starting_at(t0.with_timezone(&chrono::Utc));
    }
    let full = savings
        .filter(|(_, saved)| *saved > 0.0)
        .map(|(full, _)| Joules(full));
    snuffer_footprint::run_footprint_with(&run.info.footprint, &usage, full)
}
