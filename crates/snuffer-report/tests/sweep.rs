//! `SweepComparison`: a sweep directory written by the real run tracker (`snuffer::Run` with
//! `.sweep(dir)`) as one table and one page.

use anyhow::{ensure, Context, Result};
use snuffer::energy::{ConstantMeter, Joules, Meter, Watts};
use snuffer::forecast::Direction;
use snuffer::policy::{Decision, Observation, StopPolicy, StopReason};
use snuffer::rundir::{read_summary, MEASURED_SAVING};
use snuffer::{Progress, Run};
use snuffer_report::synthetic::SyntheticRun;
use snuffer_report::{FullLength, ReportError, SweepComparison, SWEEP_CHART_FILE};
use std::path::Path;

/// Stops once the metric reaches a target.
struct Reach(f64);

impl StopPolicy for Reach {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        match obs.metric {
            Some(m) if m >= self.0 => Decision::Stop(StopReason::other(
                "target",
                format!("val_acc {m:.3} reached {:.2}", self.0),
                &[("metric", m)],
            )),
            _ => Decision::Continue,
        }
    }
}

/// A run of the sweep: up to 200 planned steps, an evaluation every 20, a curve that
/// saturates at `top`; stopped by [`Reach`] when `target` is given.
fn train(sweep: &Path, name: &str, top: f64, target: Option<f64>) -> Result<()> {
    let meter: Box<dyn Meter> = Box::new(ConstantMeter::new("gpu:0", Watts(100.0))?);
    let b = Run::builder(name)
        .sweep(sweep)
        .planned_steps(200)
        .metric("val_acc", Direction::HigherIsBetter)
        .meters(vec![meter])
        // Polled often, so the energy follows the wall clock even on a run this short.
        .sample_interval(std::time::Duration::from_millis(2))
        .progress(Progress::Quiet);
    let mut run = match target {
        Some(t) => b.policy(Reach(t)).build()?,
        None => b.build()?,
    };
    for step in 1..=200u64 {
        run.step();
        if step % 10 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        if step % 20 == 0
            && run
                .eval(top * (1.0 - (-(step as f64) / 60.0).exp()))?
                .should_stop()
        {
            break;
        }
    }
    run.finish()?;
    std::thread::sleep(std::time::Duration::from_millis(5)); // distinct start times
    Ok(())
}

/// The sweep: a run to its end, the best run stopped early, a run of another metric and a
/// crashed run.
fn sweep(dir: &Path) -> Result<()> {
    train(dir, "full", 0.8, None)?;
    train(dir, "stopped", 0.95, Some(0.8))?;
    // A crashed run (a torn last line, no summary): not in the saving.
    SyntheticRun {
        name: "crashed".into(),
        steps: 300,
        crash: true,
        ..SyntheticRun::default()
    }
    .write(&dir.join("crashed"))?;
    Ok(())
}

#[test]
fn a_sweep_is_one_table_with_its_total_forecast_saving_and_best_run() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("sweep");
    sweep(&dir)?;
    let cmp = SweepComparison::load(&dir)?;
    let names: Vec<&str> = cmp.rows.iter().map(|r| r.run.as_str()).collect();
    ensure!(names.len() == 3, "{names:?}");
    let row = |n: &str| cmp.rows.iter().find(|r| r.run == n).context(n.to_string());
    let (full, stopped, crashed) = (row("full")?, row("stopped")?, row("crashed")?);

    ensure!(full.full_length == Some(FullLength::Measured));
    ensure!(full.full_length_j == Some(full.energy_j));
    let summary = read_summary(&stopped.dir)?.context("summary")?;
    ensure!(
        stopped.stop_policy.as_deref() == Some("target"),
        "{stopped:?}"
    );
    ensure!(stopped.full_length == Some(FullLength::Forecast));
    ensure!(stopped.full_length_j == summary.forecast_full_energy_j);
    ensure!(crashed.full_length.is_none() && !crashed.finished);

    let total = full.energy_j + stopped.energy_j + crashed.energy_j;
    ensure!((cmp.total_energy_j - total).abs() < 1e-9 * total);
    let forecast_full = full.energy_j + summary.forecast_full_energy_j.context("forecast")?;
    ensure!(cmp
        .forecast_full_j
        .is_some_and(|f| (f - forecast_full).abs() < 1e-9));
    // Issue 19: one computation: the sweep's saving is the sum of its runs' own forecast
    // savings (summary.json's, which the run's stop line and report give), not the forecast
    // full length minus the energy at the end.
    let saved = summary
        .forecast_saved_j
        .context("the stopped run's forecast saving")?;
    ensure!(
        cmp.forecast_saved_j
            .is_some_and(|s| (s - saved).abs() < 1e-9),
        "sweep {:?} vs the run's own {saved}",
        cmp.forecast_saved_j
    );
    let report = snuffer_report::Report::from_dir(&stopped.dir)?;
    let report_saving = report
        .rows()
        .into_iter()
        .find(|r| r.label == "Forecast saving")
        .context("the run report's forecast saving")?;
    ensure!(
        report_saving.value.starts_with(&Joules(saved).to_string()),
        "report {:?} vs sweep {}",
        report_saving.value,
        Joules(saved)
    );
    ensure!(cmp.saving_runs == 2);
    ensure!(
        cmp.table()
            .contains("forecast full sweep (2 runs: 1 ran to their end, 1 stopped early)"),
        "{}",
        cmp.table()
    );
    ensure!(
        cmp.best.map(|i| cmp.rows[i].run.as_str()) == Some("stopped"),
        "the best run is the one with the highest val_acc"
    );
    ensure!(
        cmp.notes
            .iter()
            .any(|n| n.contains("crashed") && n.contains("not in the saving")),
        "{:?}",
        cmp.notes
    );

    let table = cmp.table();
    for needle in [
        "full",
        "stopped (best)",
        "crashed",
        "stopped early by target",
        "forecast saving",
        "a forecast, not a measurement",
        &Joules(saved).to_string(),
        &Joules(total).to_string(),
        "±40 % (estimated)",
    ] {
        ensure!(table.contains(needle), "{needle:?} missing in\n{table}");
    }
    ensure!(
        !table.contains(MEASURED_SAVING),
        "a forecast saving is never worded as a measured one:\n{table}"
    );

    let json = cmp.to_json();
    ensure!(json["best_run"] == "stopped", "{json}");
    ensure!(json["runs"].as_array().map(Vec::len) == Some(3), "{json}");
    ensure!(json["forecast_saved_j"].as_f64().is_some(), "{json}");
    Ok(())
}

#[test]
fn the_sweep_page_has_the_table_and_one_chart_with_the_stops() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("sweep");
    sweep(&dir)?;
    let cmp = SweepComparison::load(&dir)?;
    let files = cmp.write(tmp.path().join("page"))?;
    let html = std::fs::read_to_string(&files.html)?;
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(&html, opts)?;
    let cells: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("td"))
        .filter_map(|n| n.text())
        .collect();
    ensure!(
        cells.iter().any(|c| c.contains("reached 0.80")),
        "the stop's sentence: {cells:?}"
    );
    ensure!(
        cells.iter().any(|c| c.starts_with("stopped (best)")),
        "{cells:?}"
    );
    ensure!(files.svgs == [tmp.path().join("page").join(SWEEP_CHART_FILE)]);
    let svg = std::fs::read_to_string(&files.svgs[0])?;
    for needle in ["stopped by a policy", "best run stopped", "full", "crashed"] {
        ensure!(svg.contains(needle), "{needle:?} missing in the chart");
    }
    // The chart renders (resvg parses what plotters wrote).
    resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default())?;
    Ok(())
}

#[test]
fn a_stopped_run_without_a_forecast_counts_its_planned_steps_and_an_empty_dir_is_no_sweep(
) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("sweep");
    SyntheticRun {
        name: "a".into(),
        steps: 1_000,
        planned_steps: 4_000,
        stopped: true,
        ..SyntheticRun::default()
    }
    .write(&dir.join("a"))?;
    // An older summary without the forecast: energy per step × planned steps.
    let path = dir.join("a").join(snuffer::rundir::SUMMARY_FILE);
    let mut v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    v["forecast_full_energy_j"] = serde_json::Value::Null;
    std::fs::write(&path, serde_json::to_string(&v)?)?;
    let cmp = SweepComparison::load(&dir)?;
    let a = &cmp.rows[0];
    ensure!(a.full_length == Some(FullLength::PlannedSteps), "{a:?}");
    ensure!(a
        .full_length_j
        .is_some_and(|f| (f - 4.0 * a.energy_j).abs() < 1e-6 * f));
    ensure!(cmp
        .forecast_saved_share()
        .is_some_and(|s| (s - 0.75).abs() < 1e-9));

    // No stop, no forecast: a sweep whose runs all went to their end saved nothing.
    let full = tmp.path().join("full-sweep");
    SyntheticRun::default().write(&full.join("b"))?;
    let table = SweepComparison::load(&full)?.table();
    ensure!(
        table.contains("none: every finished run went to its end")
            && !table.contains("not a measurement"),
        "{table}"
    );

    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty)?;
    match SweepComparison::load(&empty) {
        Err(ReportError::NotASweep { path }) => ensure!(path == empty),
        other => anyhow::bail!("expected NotASweep, got {other:?}"),
    }
    Ok(())
}
