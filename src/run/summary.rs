//! `summary.json` and `emissions.csv` from a run's state.

use super::Run;
use crate::format::{Summary, FORMAT_VERSION, SUMMARY_FILE};
use crate::Error;
use snuffer_energy::{EnergyReport, Joules};
use snuffer_footprint::{RunFootprint, RunUsage};
use std::path::Path;
use std::time::{Duration, Instant};

/// The summary of `run` ending at `end` with `total` energy.
pub(super) fn build(run: &mut Run, total: &EnergyReport, end: Instant, finished: bool) -> Summary {
    let duration = end.saturating_duration_since(run.energy.origin());
    // A last fit with every point, so the full-run forecast uses them all.
    run.curve.maybe_refit(true);
    let energy_j = total.total.0;
    let savings = run.savings(run.steps, energy_j);
    let stop = run
        .stop
        .as_ref()
        .map(|s| super::decision_record(&snuffer_policy::Decision::Stop(s.reason.clone())));
    let forecast_full_metric = run.planned.and_then(|p| run.curve.record(p as f64));
    let footprint = footprint(run, total, duration, savings).map_err(|e| e.to_string());
    let (sampler_errors, last_sampler_error) = run.energy.errors();
    let extra = serde_json::json!({
        "stop_step": run.stop.as_ref().map(|s| s.step),
        "evaluations": run.evals.len(),
        "forecast_fits": run.curve.fits,
        "forecast_points": run.curve.len(),
        "forecast_error": run.curve.last_error,
        "forecast_bounds_inferred": run.curve.inferred,
        "policy": run.policy_name,
        "policy_note": run.policy.as_ref().and_then(|p| p.note()),
        "tau": run.tau,
        "meters": run.energy.meters,
        "skipped": run.energy.skipped,
        "sample_interval_s": run.energy.interval().as_secs_f64(),
        "sampler_errors": sampler_errors,
        "last_sampler_error": last_sampler_error,
        "footprint_error": footprint.as_ref().err(),
        "log_every": run.log_every,
        "step_lines": run.log.lines(),
        "steps_file": run.log.path(),
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
        estimated_saved_j: savings.map(|(_, saved)| saved),
        footprint: footprint.ok().and_then(|f| serde_json::to_value(f).ok()),
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

/// Write `summary.json` atomically (temp file + rename).
pub(super) fn write(dir: &Path, summary: &Summary) -> Result<(), Error> {
    let path = dir.join(SUMMARY_FILE);
    let tmp = dir.join(format!(".{SUMMARY_FILE}.tmp"));
    let mut text = serde_json::to_vec_pretty(summary)
        .map_err(|e| Error::write(&path, std::io::Error::other(e)))?;
    text.push(b'\n');
    std::fs::write(&tmp, text).map_err(|e| Error::write(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::write(&path, e))
}

/// Write `emissions.csv` with the report module's CodeCarbon columns, filled
/// from the summary's footprint block where one could be computed.
pub(super) fn write_emissions(dir: &Path, summary: &Summary) -> Result<(), Error> {
    let run_id = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| summary.run_name.clone());
    let mut ctx = crate::emissions::EmissionsContext::detect(run_id);
    ctx.project_name = Some(summary.run_name.clone());
    let measured = summary.domains.iter().any(|d| !d.provenance.is_estimate());
    ctx.tracking_mode = Some(if measured { "machine" } else { "process" }.to_string());
    let fp = summary
        .footprint
        .as_ref()
        .and_then(|v| serde_json::from_value::<RunFootprint>(v.clone()).ok());
    if let Some(fp) = fp {
        let cc = fp.codecarbon();
        ctx.emissions_kg = Some(cc.emissions);
        // No water intensity configured gives 0 L: leave the column empty rather than claim zero.
        ctx.water_litres = Some(fp.water.total.value.0).filter(|l| *l > 0.0);
        ctx.pue = Some(fp.pue);
        let nonempty = |s: String| (!s.is_empty()).then_some(s);
        ctx.country_iso_code = nonempty(cc.country_iso_code);
        ctx.country_name = nonempty(cc.country_name);
        ctx.region = nonempty(cc.region);
    }
    crate::emissions::write_emissions_csv(dir, summary, &ctx)
        .map(|_| ())
        .map_err(|e| Error::write(dir.join(crate::format::EMISSIONS_FILE), e))
}
