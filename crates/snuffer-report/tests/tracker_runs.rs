//! Reports of run directories written by the real run tracker (`snuffer::Run`),
//! so the reader and the writer cannot drift apart.

use anyhow::Context;
use snuffer::energy::{ConstantMeter, Meter, Provenance, Watts};
use snuffer::forecast::Direction;
use snuffer::policy::{Decision, Observation, StopPolicy, StopReason, Tau};
use snuffer::{Progress, Run};
use snuffer_report::Report;
use std::path::Path;

/// Stops once the metric reaches a target (never without one); states τ = 10⁶ per kWh,
/// which the tracker records on the start line.
struct Reach(Option<f64>);

impl StopPolicy for Reach {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        match (obs.metric, self.0) {
            (Some(m), Some(t)) if m >= t => Decision::Stop(StopReason::other(
                "target",
                format!("val_acc {m:.3} reached {t:.2}"),
                &[("metric", m)],
            )),
            _ => Decision::Continue,
        }
    }

    fn tau(&self) -> Option<Tau> {
        Some(Tau::PerKwh(1e6))
    }
}

/// A run of up to 400 steps with an evaluation every 20, on two meters: a
/// measured GPU and an estimated CPU.
fn train(dir: &Path, target: Option<f64>) -> anyhow::Result<()> {
    let gpu: Box<dyn Meter> =
        Box::new(ConstantMeter::new("gpu:0", Watts(200.0))?.with_provenance(Provenance::Counter));
    let cpu: Box<dyn Meter> = Box::new(
        ConstantMeter::new("cpu-estimate", Watts(30.0))?.with_provenance(Provenance::Estimated {
            model: "test model".into(),
        }),
    );
    let builder = Run::builder("tracker-test")
        .out_dir(dir)
        .planned_steps(400)
        .metric("val_acc", Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .meters(vec![gpu, cpu])
        .log_every(5)
        .progress(Progress::Quiet);
    let mut run = builder.policy(Reach(target)).build()?;
    for step in 1..=400u64 {
        run.step();
        // Let the wall clock (and so the constant meters) move a little.
        if step % 10 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if step % 20 == 0 {
            let m = 0.95 - 0.8 * (step as f64 / 20.0).powf(-0.7);
            if run.eval(m)?.should_stop() {
                break;
            }
        }
    }
    run.finish()?;
    Ok(())
}

#[test]
fn a_stopped_tracker_run_reports_its_stop_and_writes_codecarbon_columns() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("stopped");
    train(&dir, Some(0.8))?;
    let report = Report::from_dir(&dir)?;
    let run = report.run();
    assert!(
        run.notes.is_empty(),
        "a finished run needs no notes: {:?}",
        run.notes
    );
    let stop = run.stop.as_ref().context("stop point")?;
    assert!(stop.at.step < 400);
    assert_eq!(stop.decision.policy.as_deref(), Some("target"));
    assert!(run.oracle.is_none());
    assert_eq!(run.metric_name.as_deref(), Some("val_acc"));
    assert_eq!(run.domains.len(), 2);
    assert!(run.domains.iter().any(|d| d.provenance.is_estimate()));
    let html = report.html();
    assert!(html.contains("val_acc 0.8") && html.contains("Energy — gpu:0"));
    let csv = std::fs::read_to_string(dir.join("emissions.csv"))?;
    assert_eq!(
        csv.lines().next(),
        Some(snuffer::rundir::emissions::COLUMNS.join(",").as_str())
    );
    Ok(())
}

#[test]
fn a_tracker_run_that_went_to_its_end_has_a_hindsight_oracle() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("full");
    train(&dir, None)?;
    let report = Report::from_dir(&dir)?;
    let run = report.run();
    assert!(run.stop.is_none());
    assert_eq!(run.steps(), 400);
    assert_eq!(run.evals, 20);
    let oracle = run
        .oracle
        .as_ref()
        .context("oracle (τ is on the start line)")?;
    assert_eq!(oracle.tau_per_kwh, 1e6);
    assert!(oracle.utility >= oracle.utility_at_end);
    assert!(report.charts()[0].svg.contains("hindsight oracle"));
    Ok(())
}

/// Issue 19: the energy chart places the forecast with the run's own full-run estimate, so
/// the chart ends at the table's "Forecast energy of the full run" (it used to use the mean
/// energy per step and end 10 % away).
#[test]
fn the_forecast_ends_on_the_chart_where_the_table_says() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("stopped");
    train(&dir, Some(0.8))?;
    let report = Report::from_dir(&dir)?;
    let run = report.run();
    let summary = run.summary.as_ref().context("summary")?;
    let full = summary
        .forecast_full_energy_j
        .context("a stopped run forecasts its full energy")?;
    let (_, f) = run.forecast.as_ref().context("a forecast")?;
    let end = f.path.last().context("a forecast path")?[0];
    assert_eq!(end, 400.0, "the path reaches the plan");
    let at_end = run.forecast_energy_at(end).context("an energy")?;
    assert!(
        (at_end - full).abs() <= 1e-9 * full,
        "chart ends at {at_end} J, the table says {full} J"
    );
    let stop = run.stop.as_ref().context("stop")?;
    let at_stop = run
        .forecast_energy_at(stop.at.step as f64)
        .context("energy")?;
    assert!((at_stop - stop.at.energy_j).abs() <= 1e-9 * full);
    Ok(())
}

/// A run directory written before the tracker's records were typed (the quickstart's
/// early-stopped run, shared with snuffer-rundir's format tests) still reports: its
/// settings from the start line, τ from the typed evidence of its decisions (a relative τ
/// is not on the start line), the stop and the summary's bookkeeping.
#[test]
fn a_run_written_by_the_untyped_tracker_reports() -> anyhow::Result<()> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../snuffer-rundir/tests/data/v2-untyped-run");
    let report = Report::from_dir(&dir)?;
    let run = report.run();
    assert_eq!(run.run_name, "quickstart-snuffer");
    assert_eq!(run.metric_name.as_deref(), Some("val_acc"));
    assert_eq!(run.planned_steps, Some(6000));
    // The τ the fixture's first evaluation resolved (a relative τ changes at each check).
    let tau = run.tau_per_kwh.context("τ from the evidence")?;
    assert!((tau - 67_530.744).abs() < 1e-3, "{tau}");
    let stop = run.stop.as_ref().context("the stop")?;
    assert_eq!(stop.decision.policy.as_deref(), Some("marginal_gain"));
    let summary = run.summary.as_ref().context("summary")?;
    assert_eq!(summary.stop_step(), Some(1100));
    assert!(report.html().contains("quickstart-snuffer"));
    Ok(())
}
