//! End-to-end tests of the run tracker: the files a run leaves, stops with
//! reasons, NaN metrics, dropped runs, bounded logs and torn lines.

use anyhow::{ensure, Context, Result};
use snuffer::energy::{ConstantMeter, Meter, Provenance, Watts};
use snuffer::forecast::Direction;
use snuffer::policy::{
    AnyOf, Decision, Divergence, MarginalGain, MarginalGainConfig, Observation, StopPolicy, Target,
    Tau,
};
use snuffer::rundir::{
    read_steps, RecordKind, StepRecord, Summary, EMISSIONS_FILE, STEPS_FILE, SUMMARY_FILE,
};
use snuffer::sink::Sink;
use snuffer::{Progress, Run, RunBuilder};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn meter(watts: f64) -> Result<Box<dyn Meter>> {
    Ok(Box::new(ConstantMeter::new("gpu:0", Watts(watts))?))
}

/// A quiet run in `dir` with a constant meter polled every 5 ms.
fn builder(dir: &Path, watts: f64) -> Result<RunBuilder> {
    Ok(Run::builder("test")
        .out_dir(dir)
        .meters(vec![meter(watts)?])
        .sample_interval(Duration::from_millis(5))
        .progress(Progress::Quiet))
}

fn read_summary(dir: &Path) -> Result<Summary> {
    let text = std::fs::read_to_string(dir.join(SUMMARY_FILE))?;
    Ok(serde_json::from_str(&text)?)
}

/// A saturating accuracy curve.
fn acc(step: u64) -> f64 {
    0.9 * (1.0 - (-(step as f64) / 300.0).exp())
}

#[test]
fn short_run_writes_parseable_steps_and_a_consistent_summary() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("run");
    let mut run = builder(&dir, 100.0)?
        .planned_steps(200)
        .metric("val_acc", Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .log_every(10)
        .build()?;
    for step in 1..=200u64 {
        std::thread::sleep(Duration::from_micros(500));
        run.record_loss(1.0 / step as f64);
        run.step();
        if step % 20 == 0 {
            let action = run.eval(acc(step))?;
            ensure!(!action.should_stop(), "no policy: never stops");
            ensure!(
                action.is_new_best(),
                "a rising curve is a new best every time"
            );
        }
    }
    ensure!(run.best() == Some((200, acc(200))), "best {:?}", run.best());
    let summary = run.finish()?;

    // steps.jsonl: every line parses, start first, end last, 20 step lines, 10 evals.
    let text = std::fs::read_to_string(dir.join(STEPS_FILE))?;
    for (i, line) in text.lines().enumerate() {
        serde_json::from_str::<StepRecord>(line).with_context(|| format!("line {}", i + 1))?;
    }
    let log = read_steps(dir.join(STEPS_FILE))?;
    ensure!(!log.truncated);
    ensure!(log.records.first().map(|r| r.kind) == Some(RecordKind::Start));
    ensure!(log.has_end());
    let meta = log.meta().context("start meta")?;
    ensure!(
        meta["metric_name"] == "val_acc" && meta["planned_steps"] == 200,
        "{meta}"
    );
    ensure!(meta["meters"][0] == "constant", "{meta}");
    let count = |k| log.records.iter().filter(|r| r.kind == k).count();
    ensure!(
        count(RecordKind::Step) == 20,
        "step lines: {}",
        count(RecordKind::Step)
    );
    ensure!(count(RecordKind::Eval) == 10);
    let evals: Vec<_> = log.evals().collect();
    ensure!(
        evals
            .windows(2)
            .all(|w| w[1].energy.total_j >= w[0].energy.total_j),
        "energy is cumulative"
    );
    ensure!(evals
        .iter()
        .all(|e| e.metrics.get("loss").is_some_and(|l| l.is_some())));
    ensure!(
        evals
            .iter()
            .any(|e| e.forecast.as_ref().is_some_and(|f| !f.path.is_empty())),
        "forecasts logged"
    );
    let last = evals.last().context("evals")?;
    ensure!(last.energy.domains[0].name == "gpu:0");
    ensure!(last.energy.domains[0].provenance.is_estimate());

    // summary.json: energy ≈ power × time, provenance kept, best right.
    let on_disk = read_summary(&dir)?;
    // serde_json parses floats to within an ulp, so compare the exact fields.
    ensure!(on_disk.steps == summary.steps && on_disk.best_step == summary.best_step);
    ensure!((on_disk.energy_j - summary.energy_j).abs() <= 1e-9 * summary.energy_j);
    ensure!(
        on_disk.provenance == summary.provenance && on_disk.domains.len() == summary.domains.len()
    );
    ensure!(summary.finished && summary.steps == 200 && summary.planned_steps == Some(200));
    let expected = 100.0 * summary.duration_s;
    ensure!(
        (summary.energy_j - expected).abs() <= 0.05 * expected + 1.0,
        "energy {} J vs 100 W × {} s",
        summary.energy_j,
        summary.duration_s
    );
    ensure!(
        summary.provenance
            == Provenance::Estimated {
                model: "constant 100 W (user-given)".into()
            }
    );
    ensure!(summary.domains.len() == 1 && (summary.energy_uncertainty - 0.4).abs() < 1e-9);
    ensure!(summary.best_step == Some(200) && summary.best_metric == Some(acc(200)));
    ensure!(summary.stop.is_none(), "ran to the end");
    ensure!(
        summary.forecast_saved_j == Some(0.0),
        "nothing saved by running to the end"
    );
    ensure!(summary.forecast_full_metric.is_some());
    ensure!(summary
        .footprint
        .as_ref()
        .is_some_and(|f| f.operational.value.0 > 0.0));
    let emissions = std::fs::read_to_string(dir.join(EMISSIONS_FILE))?;
    ensure!(
        emissions.lines().count() == 2 && emissions.starts_with("timestamp,"),
        "{emissions}"
    );
    // The emissions column comes from the summary's footprint block (kg, operational only).
    let mut csv = csv::Reader::from_reader(emissions.as_bytes());
    let header = csv.headers()?.clone();
    let row = csv.records().next().context("emissions row")??;
    let col = header
        .iter()
        .position(|h| h == "emissions")
        .context("emissions column")?;
    let kg: f64 = row.get(col).context("emissions value")?.parse()?;
    let grams = summary
        .footprint
        .as_ref()
        .map(|f| f.operational.value.0)
        .context("co2e_g")?;
    ensure!(
        (kg * 1000.0 - grams).abs() <= 1e-9 * grams.max(1.0),
        "{kg} kg vs {grams} g"
    );
    Ok(())
}

#[test]
fn measured_provenance_is_kept_through_the_summary() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let counter: Box<dyn Meter> = Box::new(
        ConstantMeter::new("cpu-package:0", Watts(30.0))?
            .with_provenance(Provenance::Counter)
            .with_uncertainty(0.02),
    );
    let mut run = builder(tmp.path(), 0.0)?.meters(vec![counter]).build()?;
    run.step();
    run.eval(0.5)?;
    let s = run.finish()?;
    ensure!(s.provenance == Provenance::Counter && s.domains[0].provenance == Provenance::Counter);
    ensure!((s.energy_uncertainty - 0.02).abs() < 1e-12);
    ensure!(
        s.planned_steps.is_none() && s.forecast_saved_j.is_none(),
        "no plan, no savings claim"
    );
    Ok(())
}

#[test]
fn a_policy_stop_is_reported_with_its_reason() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut run = builder(tmp.path(), 50.0)?
        .planned_steps(1000)
        .metric("val_acc", Direction::HigherIsBetter)
        .policy(Target::new(0.5)?)
        .build()?;
    let mut stopped = None;
    for step in 1..=1000u64 {
        run.step();
        if step % 10 == 0 {
            // Energy must accrue between evaluations: the constant meter counts wall time,
            // and a run that ends within one sampler poll would have spent nothing.
            std::thread::sleep(Duration::from_millis(1));
        }
        if step % 50 == 0 {
            let action = run.eval(acc(step))?;
            if action.should_stop() {
                let reason = action.reason().context("a stop has a reason")?;
                ensure!(reason.policy == "target", "{reason:?}");
                stopped = Some(step);
                break;
            }
        }
    }
    let stop_step = stopped.context("the target is reached at 0.5")?;
    ensure!(acc(stop_step) >= 0.5 && acc(stop_step - 50) < 0.5);
    ensure!(run.stop_reason().is_some_and(|r| r.policy == "target"));
    let summary = run.finish()?;
    let stop = summary.stop.context("summary has the stop")?;
    ensure!(stop.is_stop() && stop.policy.as_deref() == Some("target"));
    ensure!(stop.message.is_some_and(|m| !m.is_empty()));
    ensure!(summary.steps == stop_step);
    ensure!(
        summary.forecast_saved_j.is_some_and(|s| s > 0.0),
        "stopping early saves energy"
    );
    ensure!(summary
        .forecast_full_energy_j
        .is_some_and(|f| f > summary.energy_j));
    let log = read_steps(tmp.path().join(STEPS_FILE))?;
    let end = log.records.last().context("end line")?;
    ensure!(end.kind == RecordKind::End && end.decision.as_ref().is_some_and(|d| d.is_stop()));
    Ok(())
}

#[test]
fn nan_metric_stops_with_divergence_and_is_written_as_null() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut run = builder(tmp.path(), 50.0)?
        .planned_steps(100)
        .metric("val_loss", Direction::LowerIsBetter)
        .policy(
            AnyOf::new()
                .with(Divergence::non_finite())
                .with(Target::new(0.0)?),
        )
        .build()?;
    run.step();
    ensure!(!run.eval(2.0)?.should_stop());
    run.step();
    let action = run.eval(f64::NAN)?;
    ensure!(action.should_stop() && !action.is_new_best());
    ensure!(
        action.reason().is_some_and(|r| r.policy == "divergence"),
        "{:?}",
        action.reason()
    );
    ensure!(run.best() == Some((1, 2.0)), "NaN never becomes the best");
    run.step();
    ensure!(!run.eval(f64::INFINITY)?.is_new_best(), "nor does infinity");
    let summary = run.finish()?;
    ensure!(summary.stop.and_then(|s| s.policy).as_deref() == Some("divergence"));
    ensure!(summary.best_metric == Some(2.0));
    let log = read_steps(tmp.path().join(STEPS_FILE))?;
    let evals: Vec<_> = log.evals().collect();
    ensure!(
        evals[1].metrics.get("val_loss") == Some(&None),
        "NaN is null: {:?}",
        evals[1].metrics
    );
    Ok(())
}

#[test]
fn marginal_gain_stops_a_saturated_run_and_logs_gain_against_tau() -> Result<()> {
    let marginal =
        || MarginalGain::new(MarginalGainConfig::new(Tau::Relative(0.5)).with_warmup_fraction(0.1));
    // Alone, and inside an `AnyOf`: the eval lines carry its gain per kWh either way.
    for wrapped in [false, true] {
        let tmp = tempfile::tempdir()?;
        let builder = builder(tmp.path(), 200.0)?
            .planned_steps(3000)
            .metric("val_acc", Direction::HigherIsBetter)
            .bounds(Some(0.0), Some(1.0));
        let builder = if wrapped {
            builder.policy(
                AnyOf::new()
                    .with(Divergence::non_finite())
                    .with(marginal()?),
            )
        } else {
            builder.policy(marginal()?)
        };
        let mut run = builder.build()?;
        let mut stop = None;
        for step in 1..=3000u64 {
            run.step();
            if step % 10 == 0 {
                // Energy must accrue between evaluations: the constant meter counts wall time.
                std::thread::sleep(Duration::from_millis(1));
            }
            if step % 60 == 0 && run.eval(acc(step))?.should_stop() {
                stop = Some(step);
                break;
            }
        }
        let summary = run.finish()?;
        let stop_step = stop.context("the curve saturates long before 3000 steps")?;
        ensure!(stop_step < 3000, "stopped at {stop_step}");
        ensure!(summary.stop.as_ref().and_then(|s| s.policy.as_deref()) == Some("marginal_gain"));
        ensure!(summary.forecast_saved_j.is_some_and(|s| s > 0.0));
        // Issue 19: a relative τ is recorded as the τ per kWh it resolved to, not `null`.
        let extra = summary.extra.clone().unwrap_or_default();
        ensure!(
            extra.tau.is_some_and(|t| t.is_finite() && t > 0.0)
                && extra
                    .tau_basis
                    .as_deref()
                    .is_some_and(|b| b.contains("relative")),
            "summary.json's tau: {extra:?}"
        );
        let log = read_steps(tmp.path().join(STEPS_FILE))?;
        ensure!(
            log.evals()
                .any(|e| e.decision.as_ref().is_some_and(|d| !d.is_stop()
                    && d.number("tau_per_kwh").is_some()
                    && d.number("gain_rate_per_kwh").is_some())),
            "continue lines carry the gain per kWh against τ (wrapped: {wrapped})"
        );
    }
    Ok(())
}

#[test]
fn a_dropped_run_leaves_parseable_logs_and_an_unfinished_summary() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    {
        let mut run = builder(tmp.path(), 80.0)?
            .planned_steps(1000)
            .log_every(5)
            .build()?;
        for step in 1..=300u64 {
            run.step();
            if step % 100 == 0 {
                run.eval(acc(step))?;
            }
        }
        // Dropped here without finish(), as when a training loop errors out.
    }
    let log = read_steps(tmp.path().join(STEPS_FILE))?;
    ensure!(!log.truncated && log.has_end());
    ensure!(
        log.records
            .iter()
            .filter(|r| r.kind == RecordKind::Step)
            .count()
            == 60
    );
    let summary = read_summary(tmp.path())?;
    ensure!(!summary.finished && summary.steps == 300);
    ensure!(summary.energy_j > 0.0);
    Ok(())
}

#[test]
fn step_lines_stay_bounded_on_a_long_run_and_memory_does_not_grow_with_steps() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut planned = builder(&tmp.path().join("planned"), 10.0)?
        .planned_steps(100_000)
        .refit_every(20)
        .build()?;
    let mut unplanned = builder(&tmp.path().join("unplanned"), 10.0)?
        .refit_every(20)
        .build()?;
    let mut heap_at_10k = 0;
    for step in 1..=100_000u64 {
        planned.step();
        unplanned.step();
        if step % 1000 == 0 {
            planned.eval(acc(step / 100))?;
            unplanned.eval(acc(step / 100))?;
        }
        if step == 10_000 {
            heap_at_10k = planned.heap_bytes();
        }
    }
    let heap = planned.heap_bytes();
    ensure!(heap < 64 << 20, "tracker heap {heap} B");
    ensure!(
        heap < heap_at_10k + (256 << 10),
        "heap grew from {heap_at_10k} to {heap} B over 90 000 steps"
    );
    for (run, max_steps) in [(planned, 1_000), (unplanned, 2_000)] {
        let dir = run.dir().to_path_buf();
        run.finish()?;
        let log = read_steps(dir.join(STEPS_FILE))?;
        let steps = log
            .records
            .iter()
            .filter(|r| r.kind == RecordKind::Step)
            .count();
        ensure!(
            steps <= max_steps && steps >= 100,
            "{}: {steps} step lines",
            dir.display()
        );
        let bytes = std::fs::metadata(dir.join(STEPS_FILE))?.len();
        ensure!(bytes < 2 << 20, "{}: {bytes} bytes", dir.display());
    }
    Ok(())
}

#[test]
fn a_torn_last_line_is_skipped_and_a_damaged_middle_line_is_an_error() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut run = builder(tmp.path(), 20.0)?.log_every(1).build()?;
    for _ in 0..10 {
        run.step();
    }
    run.eval(0.3)?;
    run.finish()?;
    let path = tmp.path().join(STEPS_FILE);
    let text = std::fs::read_to_string(&path)?;
    let whole = read_steps(&path)?.records.len();

    // Cut the file in the middle of its last line, as a kill -9 mid-write would.
    let last_start = text
        .trim_end_matches('\n')
        .rfind('\n')
        .context("several lines")?
        + 1;
    let cut = last_start + (text.len() - last_start) / 2;
    std::fs::write(&path, &text[..cut])?;
    let torn = read_steps(&path)?;
    ensure!(torn.truncated && torn.records.len() == whole - 1 && !torn.has_end());

    // A cut exactly at a line boundary loses nothing and is not torn.
    std::fs::write(&path, &text[..last_start])?;
    let clean = read_steps(&path)?;
    ensure!(!clean.truncated && clean.records.len() == whole - 1);

    // Damage in the middle is not a crash artefact: it is reported with its line.
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "{\"kind\":\"step\",\"step\":";
    std::fs::write(&path, lines.join("\n") + "\n")?;
    match read_steps(&path) {
        Err(snuffer::rundir::RunDirError::BadLine { line, .. }) => {
            ensure!(line == 4, "line {line}")
        }
        other => anyhow::bail!("expected BadRecord, got {other:?}"),
    }
    Ok(())
}

#[test]
fn invalid_settings_are_named() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    for (b, name) in [
        (builder(tmp.path(), 1.0)?.planned_steps(0), "planned_steps"),
        (builder(tmp.path(), 1.0)?.log_every(0), "log_every"),
        (builder(tmp.path(), 1.0)?.refit_every(0), "refit_every"),
        (
            builder(tmp.path(), 1.0)?.bounds(Some(1.0), Some(0.0)),
            "bounds",
        ),
        (
            builder(tmp.path(), 1.0)?.sample_interval(Duration::ZERO),
            "sample_interval",
        ),
        (builder(tmp.path(), 1.0)?.meters(Vec::new()), "meters"),
    ] {
        match b.build() {
            Err(snuffer::Error::InvalidSetting { name: n, .. }) if name != "meters" => {
                ensure!(n == name, "expected {name}, got {n}")
            }
            Err(snuffer::Error::NoMeter { .. }) if name == "meters" => {}
            other => anyhow::bail!("{name}: expected an error, got {other:?}"),
        }
    }
    Ok(())
}

#[cfg(feature = "prometheus")]
#[test]
fn prometheus_exporter_serves_the_run_state() -> Result<()> {
    use std::io::{Read, Write};
    let tmp = tempfile::tempdir()?;
    let mut run = builder(tmp.path(), 40.0)?
        .metric("val_acc", Direction::HigherIsBetter)
        .prometheus("127.0.0.1:0")
        .build()?;
    for _ in 0..7 {
        run.step();
    }
    run.eval(0.75)?;
    let addr = run.prometheus_addr().context("exporter address")?;
    let mut conn = std::net::TcpStream::connect(addr)?;
    conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut body = String::new();
    conn.read_to_string(&mut body)?;
    ensure!(body.contains("gpu:0"), "{body}");
    ensure!(body.contains(" 7\n") && body.contains("0.75"), "{body}");
    run.finish()?;
    Ok(())
}

#[test]
fn plain_and_bar_progress_run_without_disturbing_the_logs() -> Result<()> {
    // Output goes to stderr (captured by the test harness); the run's files
    // must be the same whatever the display.
    for progress in [Progress::Plain, Progress::Bar] {
        let tmp = tempfile::tempdir()?;
        let mut run = builder(tmp.path(), 60.0)?
            .planned_steps(500)
            .metric("val_acc", Direction::HigherIsBetter)
            .policy(Target::new(0.6)?)
            .progress(progress)
            .build()?;
        for step in 1..=500u64 {
            run.record_loss(2.0 / (step as f64).sqrt());
            run.step();
            if step % 25 == 0 && run.eval(acc(step))?.should_stop() {
                let sentence = run.stop_sentence().context("a stop sentence")?;
                ensure!(
                    sentence.contains("by target")
                        && ["J used", "kWh used"].iter().any(|u| sentence.contains(u)),
                    "{sentence}"
                );
                break;
            }
        }
        let summary = run.finish()?;
        ensure!(summary.stop.is_some(), "{progress:?}");
        ensure!(read_steps(tmp.path().join(STEPS_FILE))?.has_end());
    }
    Ok(())
}

#[test]
fn default_meters_come_from_auto_and_record_what_was_skipped() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut run = Run::builder("auto")
        .out_dir(tmp.path())
        .sample_interval(Duration::from_millis(5))
        .progress(Progress::Quiet)
        .build()?;
    let mut x = 0u64;
    for i in 0..200_000u64 {
        x = std::hint::black_box(x ^ i.wrapping_mul(0x9E37_79B9));
    }
    run.step();
    run.eval(x as f64 % 1.0)?;
    let summary = run.finish()?;
    let log = read_steps(tmp.path().join(STEPS_FILE))?;
    let meta = log.meta().context("start meta")?;
    let meters = meta["meters"].as_array().context("meters")?;
    ensure!(
        !meters.is_empty(),
        "auto() always has at least the estimate: {meta}"
    );
    ensure!(meta["skipped"].is_array(), "{meta}");
    ensure!(!summary.domains.is_empty() && summary.energy_j >= 0.0);
    Ok(())
}

#[test]
fn a_nan_training_loss_stops_with_divergence_even_when_the_metric_is_finite() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut run = builder(tmp.path(), 50.0)?
        .planned_steps(100)
        .policy(Target::new(2.0)?)
        .build()?;
    run.record_loss(0.7);
    run.step();
    ensure!(!run.eval(0.3)?.should_stop(), "a finite loss does not stop");
    run.record_loss(f64::NAN);
    run.step();
    let action = run.eval(0.31)?;
    let reason = action.reason().context("a NaN loss stops")?;
    ensure!(
        reason.policy == "divergence"
            && matches!(
                &reason.evidence,
                snuffer::policy::Evidence::Divergence(d) if d.step == 2 && d.value.is_nan()
            ),
        "{reason:?}"
    );
    ensure!(action.is_new_best(), "the finite metric is still tracked");
    run.finish()?;

    // Opted out: the run goes on.
    let tmp = tempfile::tempdir()?;
    let mut run = builder(tmp.path(), 50.0)?
        .policy(Target::new(2.0)?)
        .stop_on_nonfinite_loss(false)
        .build()?;
    run.record_loss(f64::INFINITY);
    run.step();
    ensure!(!run.eval(0.3)?.should_stop());
    run.finish()?;

    // Opted out of the tracker's check, but the policy has a `Divergence`: it sees the loss
    // and names it.
    let tmp = tempfile::tempdir()?;
    let mut run = builder(tmp.path(), 50.0)?
        .policy(
            AnyOf::new()
                .with(Divergence::non_finite())
                .with(Target::new(2.0)?),
        )
        .stop_on_nonfinite_loss(false)
        .build()?;
    run.record_loss(f64::NAN);
    run.step();
    let action = run.eval(0.3)?;
    let reason = action.reason().context("Divergence stops on the loss")?;
    ensure!(
        reason.policy == "divergence" && reason.message.contains("training loss"),
        "{reason:?}"
    );
    run.finish()?;
    Ok(())
}

/// Runs that join one sweep get a directory each and read back in the order they started.
#[test]
fn runs_join_a_sweep_and_read_back_in_start_order() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let sweep = tmp.path().join("sweep");
    for (name, evals) in [("same-name", 3u64), ("same-name", 5)] {
        let mut run = Run::builder(name)
            .sweep(&sweep)
            .meters(vec![meter(10.0)?])
            .metric("val_acc", Direction::HigherIsBetter)
            .progress(Progress::Quiet)
            .build()?;
        for i in 1..=evals {
            run.step();
            run.eval(0.1 * i as f64)?;
        }
        run.finish()?;
        std::thread::sleep(Duration::from_millis(5)); // distinct start times
    }
    let curves = snuffer::rundir::Sweep::open(&sweep)?.curves()?;
    let got: Vec<(String, usize)> = curves
        .iter()
        .map(|c| (c.run.name.clone(), c.points.len()))
        .collect();
    ensure!(
        got == [("same-name".to_string(), 3), ("same-name-2".to_string(), 5)],
        "{got:?}"
    );
    ensure!(curves
        .iter()
        .all(|c| c.status.state.is_finished() && c.metric_name.as_deref() == Some("val_acc")));
    Ok(())
}

/// What a policy was shown of the sweep at one evaluation: the references' known shares of
/// their plan and the sweep's best so far (oriented), or `None` without a sweep.
type SweepSeen = Option<(Vec<f64>, Option<f64>)>;

/// A policy that never stops and records [`Observation::sweep`] at each evaluation.
#[derive(Clone, Default)]
struct SeesSweep(Arc<Mutex<Vec<SweepSeen>>>);

impl StopPolicy for SeesSweep {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        if obs.metric.is_some() {
            let seen = obs
                .sweep
                .map(|s| (s.runs().iter().map(|r| r.known()).collect(), s.incumbent()));
            if let Ok(mut v) = self.0.lock() {
                v.push(seen);
            }
        }
        Decision::Continue
    }
}

impl SeesSweep {
    fn seen(&self) -> Vec<SweepSeen> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// Keeps every sentence a run says.
#[derive(Clone, Default)]
struct Said(Arc<Mutex<Vec<String>>>);

impl Sink for Said {
    fn say(&mut self, sentence: &str) {
        if let Ok(mut v) = self.0.lock() {
            v.push(sentence.to_string());
        }
    }
}

impl Said {
    fn matching(&self, needle: &str) -> Vec<String> {
        self.0
            .lock()
            .map(|v| v.iter().filter(|s| s.contains(needle)).cloned().collect())
            .unwrap_or_default()
    }
}

/// A quiet run of the sweep in `sweep` with a constant meter.
fn sweep_builder(sweep: &Path, name: &str) -> Result<RunBuilder> {
    Ok(Run::builder(name)
        .sweep(sweep)
        .meters(vec![meter(50.0)?])
        .sample_interval(Duration::from_millis(5))
        .progress(Progress::Quiet))
}

/// A run of the sweep: `evals` evaluations of a falling loss, every `every` steps.
fn loss_run(sweep: &Path, name: &str, planned: u64, every: u64, evals: u64) -> Result<()> {
    let mut run = sweep_builder(sweep, name)?
        .planned_steps(planned)
        .metric("val_loss", Direction::LowerIsBetter)
        .build()?;
    for i in 1..=evals * every {
        run.step();
        if i % every == 0 {
            run.eval(2.0 / (i as f64).sqrt())?;
        }
    }
    run.finish()?;
    Ok(())
}

/// Issue 13: the second run of a sweep sees the first as a reference, known as far as it was
/// recorded (half of its plan), by share of its plan and oriented; a run of another metric is
/// not a reference, said once.
#[test]
fn a_run_sees_the_earlier_runs_of_its_sweep() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let sweep = tmp.path().join("sweep");
    let mut other = sweep_builder(&sweep, "accuracy-run")?
        .planned_steps(100)
        .metric("val_acc", Direction::HigherIsBetter)
        .build()?;
    other.step();
    other.eval(0.5)?;
    other.finish()?;
    // Planned 100, stopped by its loop at step 50: known up to half of its plan.
    loss_run(&sweep, "first", 100, 10, 5)?;

    let policy = SeesSweep::default();
    let said = Said::default();
    let mut second = sweep_builder(&sweep, "second")?
        .planned_steps(400)
        .metric("val_loss", Direction::LowerIsBetter)
        .policy(policy.clone())
        .sink(said.clone())
        .refit_every(4)
        .build()?;
    let evals = 12;
    for i in 1..=evals * 20 {
        second.step();
        if i % 20 == 0 {
            second.eval(1.0 / (i as f64))?;
        }
    }
    let dir = second.dir().to_path_buf();
    second.finish()?;

    let seen = policy.seen();
    ensure!(seen.len() == evals as usize, "{seen:?}");
    let best_of_first = -2.0 / 50f64.sqrt();
    for s in &seen {
        let (known, incumbent) = s.clone().context("a run of a sweep sees the sweep")?;
        ensure!(known.len() == 1, "only `first` is a reference: {known:?}");
        ensure!(
            (known[0] - 0.5).abs() < 1e-12,
            "known to 50 of 100: {known:?}"
        );
        ensure!(
            incumbent.is_some_and(|b| (b - best_of_first).abs() < 1e-12),
            "oriented best of `first`: {incumbent:?} vs {best_of_first}"
        );
    }
    let notes = said.matching("accuracy-run");
    ensure!(
        notes.len() == 1 && notes[0].contains("val_acc"),
        "said once: {notes:?}"
    );
    let summary = read_summary(&dir)?;
    let extra = summary.extra.context("extra")?;
    let block = extra.sweep.context("a sweep block")?;
    ensure!(block.references == 1, "{block:?}");
    let reads = block.reads;
    // The first evaluation and then the refit cadence (every 4th evaluation): never every
    // evaluation.
    ensure!(
        (1..=1 + evals / 4).contains(&reads),
        "{reads} reads for {evals} evaluations"
    );
    Ok(())
}

/// Two runs of one sweep written side by side: each sees the other exactly as far as it was
/// recorded when the sweep was read, never beyond.
#[test]
fn a_run_sees_a_sibling_only_as_far_as_it_was_recorded() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let sweep = tmp.path().join("sweep");
    let mut first = sweep_builder(&sweep, "first")?
        .planned_steps(100)
        .metric("val_loss", Direction::LowerIsBetter)
        .build()?;
    let policy = SeesSweep::default();
    let mut second = sweep_builder(&sweep, "second")?
        .planned_steps(100)
        .metric("val_loss", Direction::LowerIsBetter)
        .policy(policy.clone())
        .build()?;
    let mut recorded = Vec::new();
    for i in 1..=100u64 {
        first.step();
        second.step();
        if i % 10 == 0 {
            first.eval(1.0 / i as f64)?;
            recorded.push(i as f64 / 100.0);
            // Time for the next read within the reads' share of the run's time.
            std::thread::sleep(Duration::from_millis(20));
            second.eval(1.0 / i as f64)?;
        }
    }
    first.finish()?;
    second.finish()?;
    let seen = policy.seen();
    let mut fresh = 0;
    for (s, &now) in seen.iter().zip(&recorded) {
        let (known, _) = s.clone().context("a sweep")?;
        ensure!(known.len() <= 1, "{known:?}");
        if let Some(&k) = known.first() {
            ensure!(
                k <= now + 1e-12,
                "known to {k}, recorded to {now}: never beyond"
            );
            fresh += usize::from((k - now).abs() < 1e-12);
        }
    }
    ensure!(fresh >= 2, "the sibling's progress is seen: {seen:?}");
    Ok(())
}

/// A sibling whose `steps.jsonl` is damaged in the middle is left out, said once, and the
/// run goes on with the others.
#[test]
fn a_damaged_sibling_is_skipped_and_said_once() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let sweep = tmp.path().join("sweep");
    loss_run(&sweep, "good", 100, 10, 10)?;
    let good = std::fs::read_to_string(sweep.join("good").join(STEPS_FILE))?;
    let mut lines: Vec<&str> = good.lines().collect();
    lines.insert(3, "{\"kind\": \"eval\", this is not json");
    let broken = sweep.join("broken");
    std::fs::create_dir_all(&broken)?;
    std::fs::write(broken.join(STEPS_FILE), lines.join("\n") + "\n")?;

    let policy = SeesSweep::default();
    let said = Said::default();
    let mut run = sweep_builder(&sweep, "third")?
        .planned_steps(100)
        .metric("val_loss", Direction::LowerIsBetter)
        .policy(policy.clone())
        .sink(said.clone())
        .build()?;
    for i in 1..=100u64 {
        run.step();
        if i % 10 == 0 {
            std::thread::sleep(Duration::from_millis(5));
            run.eval(1.0 / i as f64)?;
        }
    }
    let dir = run.dir().to_path_buf();
    run.finish()?;
    let seen = policy.seen();
    ensure!(
        seen.iter()
            .all(|s| s.as_ref().is_some_and(|(k, _)| k == &[1.0])),
        "only `good`, known to its end: {seen:?}"
    );
    let notes = said.matching("broken");
    ensure!(
        notes.len() == 1 && notes[0].contains("damaged"),
        "said once: {notes:?}"
    );
    let extra = read_summary(&dir)?.extra.context("extra")?;
    let block = extra.sweep.context("a sweep block")?;
    ensure!(block.reads > 1, "{block:?}");
    ensure!(block.notes.len() == 1, "{block:?}");
    Ok(())
}

/// A run of a sweep without a plan cannot be aligned with the others: it says so once, and
/// its policy sees no sweep.
#[test]
fn a_sweep_run_without_a_plan_says_so_once() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let sweep = tmp.path().join("sweep");
    loss_run(&sweep, "planned", 100, 10, 10)?;
    let policy = SeesSweep::default();
    let said = Said::default();
    let mut run = sweep_builder(&sweep, "unplanned")?
        .metric("val_loss", Direction::LowerIsBetter)
        .policy(policy.clone())
        .sink(said.clone())
        .build()?;
    for i in 1..=50u64 {
        run.step();
        if i % 10 == 0 {
            run.eval(1.0 / i as f64)?;
        }
    }
    run.finish()?;
    ensure!(policy.seen().iter().all(Option::is_none));
    let notes = said.matching("without planned_steps");
    ensure!(notes.len() == 1, "{notes:?}");
    Ok(())
}

#[test]
fn the_tracker_keeps_the_step_patience_reports_as_best() -> Result<()> {
    use snuffer::policy::{Compat, Patience, PatienceConfig};
    // 0.52 is not an improvement beyond min_delta 0.05 but is the raw best: the tracker and
    // Patience::best (Snuffer's semantics) both name step 2; Keras's best_epoch is step 1.
    let metrics = [0.5, 0.52, 0.51, f64::NAN, 0.52];
    let tmp = tempfile::tempdir()?;
    let mut run = builder(tmp.path(), 50.0)?
        .metric("val_acc", Direction::HigherIsBetter)
        .build()?;
    let cfg = PatienceConfig::new(10).with_min_delta(0.05);
    let mut snuffer_rule = Patience::new(cfg.clone())?;
    let mut keras_rule = Patience::new(cfg.with_compat(Compat::Keras))?;
    let provenance = Provenance::Counter;
    for (i, &m) in metrics.iter().enumerate() {
        run.step();
        let action = run.eval(m)?;
        ensure!(
            action.is_new_best() == (i < 2),
            "step {}: {action:?}",
            i + 1
        );
        let obs = Observation {
            step: i as u64 + 1,
            planned_steps: None,
            elapsed: Duration::ZERO,
            energy: snuffer::energy::Joules(0.0),
            provenance: &provenance,
            recent_power: None,
            metric: Some(m),
            loss: None,
            direction: Direction::HigherIsBetter,
            forecast: None,
            sweep: None,
        };
        ensure!(!snuffer_rule.observe(&obs).is_stop() && !keras_rule.observe(&obs).is_stop());
    }
    ensure!(run.best() == Some((2, 0.52)), "{:?}", run.best());
    ensure!(
        snuffer_rule.best() == run.best(),
        "{:?}",
        snuffer_rule.best()
    );
    ensure!(
        keras_rule.best() == Some((1, 0.5)),
        "{:?}",
        keras_rule.best()
    );
    run.finish()?;
    Ok(())
}

/// A meter whose power swings between 0 and 800 W every 4 ms (a busy shared machine, as
/// the tracker sees it): readings interpolated or held between its samples must still
/// never go down.
struct Swinging {
    start: std::time::Instant,
}

impl Meter for Swinging {
    fn name(&self) -> &str {
        "swinging"
    }
    fn read(&mut self) -> Result<Vec<snuffer::energy::DomainEnergy>, snuffer::energy::EnergyError> {
        let ms = self.start.elapsed().as_secs_f64() * 1e3;
        // ∫ power: 800 W during the even 4 ms windows, nothing during the odd ones.
        let windows = (ms / 4.0).floor();
        let on = (windows / 2.0).ceil() * 4.0
            + if (windows as u64).is_multiple_of(2) {
                ms - windows * 4.0
            } else {
                0.0
            };
        let j = 0.8 * on;
        Ok(vec![
            snuffer::energy::DomainEnergy {
                domain: "cpu-package:0".into(),
                joules: snuffer::energy::Joules(j),
                provenance: Provenance::Counter,
                uncertainty: 0.02,
            },
            snuffer::energy::DomainEnergy {
                domain: "dram:0".into(),
                joules: snuffer::energy::Joules(j / 10.0),
                provenance: Provenance::Counter,
                uncertainty: 0.02,
            },
        ])
    }
}

/// Issue 19: cumulative energy in `steps.jsonl` never decreases, per domain (a step line
/// after an eval line used to read lower when the power fell between samples), and the stop
/// line's share of the planned energy spent and its forecast saving add up to 100 %.
#[test]
fn energy_never_decreases_and_the_stop_lines_shares_add_up() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let said = Said::default();
    let meter: Box<dyn Meter> = Box::new(Swinging {
        start: std::time::Instant::now(),
    });
    let mut run = Run::builder("swing")
        .out_dir(tmp.path())
        .meters(vec![meter])
        .sample_interval(Duration::from_millis(3))
        .progress(Progress::Quiet)
        .planned_steps(3000)
        .log_every(1)
        .metric("val_acc", Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .sink(said.clone())
        .policy(MarginalGain::new(
            MarginalGainConfig::new(Tau::Relative(0.5)).with_warmup_fraction(0.1),
        )?)
        .build()?;
    for step in 1..=3000u64 {
        std::thread::sleep(Duration::from_micros(300));
        run.step();
        if step % 60 == 0 && run.eval(acc(step))?.should_stop() {
            break;
        }
    }
    run.finish()?;
    let log = read_steps(tmp.path().join(STEPS_FILE))?;
    let mut last: Option<(u64, Vec<f64>)> = None;
    for rec in &log.records {
        let now: Vec<f64> = rec.energy.domains.iter().map(|d| d.joules).collect();
        if let Some((step, before)) = &last {
            for (b, n) in before.iter().zip(&now) {
                ensure!(
                    n >= b,
                    "energy fell from {b} J (step {step}) to {n} J (step {})",
                    rec.step
                );
            }
        }
        last = Some((rec.step, now));
    }
    let line = said
        .matching("stopped at step")
        .into_iter()
        .next()
        .context("the curve saturates: a stop")?;
    let share = |before: &str| -> Result<f64> {
        let at = line.find(before).context(format!("'{before}' in {line}"))?;
        let head = &line[..at];
        let num = head
            .rsplit(|c: char| !(c.is_ascii_digit() || c == '.'))
            .find(|s| !s.is_empty())
            .context("a number")?;
        Ok(num.parse()?)
    };
    let spent = share(" % of the planned energy spent")?;
    let saved = share(" % of the forecast full run")?;
    ensure!(
        (spent + saved - 100.0).abs() <= 0.11,
        "{spent} % + {saved} % ≠ 100 %: {line}"
    );
    Ok(())
}

/// Issue 19: a run too short to measure (here under three sampler intervals) is never
/// stopped on energy grounds, and says why.
#[test]
fn a_run_too_short_to_measure_is_not_stopped_on_energy_and_says_so() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let said = Said::default();
    let mut run = Run::builder("short")
        .out_dir(tmp.path())
        .meters(vec![meter(100.0)?])
        .sample_interval(Duration::from_secs(1))
        .progress(Progress::Quiet)
        .planned_steps(400)
        .metric("val_acc", Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .sink(said.clone())
        .policy(MarginalGain::new(
            MarginalGainConfig::new(Tau::PerKwh(1e12))
                .with_warmup_fraction(0.0)
                .with_consecutive(1),
        )?)
        .build()?;
    for step in 1..=400u64 {
        run.step();
        if step % 20 == 0 {
            ensure!(
                !run.eval(0.5)?.should_stop(),
                "stopped at {step} on energy it cannot measure"
            );
        }
    }
    let summary = run.finish()?;
    ensure!(summary.stop.is_none());
    ensure!(
        said.matching("too short to measure").len() == 2,
        "said once while running and once at the end: {:?}",
        said.matching("")
    );
    let extra = summary.extra.context("extra")?;
    ensure!(extra.too_short_to_measure == Some(true));
    Ok(())
}

/// τ is asked of the policy: a fixed τ (per kWh, or a price) is on the start line and in
/// the summary as "set per kWh", inside an `AnyOf` too; a policy without one leaves both
/// empty.
#[test]
fn tau_is_the_policy_s_on_the_start_line_and_in_the_summary() -> Result<()> {
    let price = Tau::Price {
        eur_per_kwh: 0.3,
        eur_per_metric_unit: 60.0,
    };
    for (tau, expected) in [
        (Some(Tau::PerKwh(0.5)), Some(0.5)),
        (Some(price), Some(0.005)),
        (None, None),
    ] {
        let tmp = tempfile::tempdir()?;
        let mut policy = AnyOf::new().with(Target::new(0.99)?);
        if let Some(t) = tau {
            policy = policy.with(MarginalGain::new(MarginalGainConfig::new(t))?);
        }
        let mut run = builder(tmp.path(), 50.0)?
            .planned_steps(200)
            .metric("val_acc", Direction::HigherIsBetter)
            .policy(policy)
            .build()?;
        for step in 1..=100u64 {
            run.step();
            if step % 20 == 0 {
                run.eval(acc(step))?;
            }
        }
        let summary = run.finish()?;
        let log = read_steps(tmp.path().join(STEPS_FILE))?;
        let start = snuffer::rundir::StartMeta::from_value(log.meta().context("start meta")?);
        ensure!(
            start.tau_per_kwh == expected,
            "{tau:?}: start line {start:?}"
        );
        let extra = summary.extra.context("extra")?;
        ensure!(extra.tau == expected, "{tau:?}: summary {extra:?}");
        let basis = extra.tau_basis.as_deref();
        ensure!(basis == expected.map(|_| "set per kWh"), "{basis:?}");
    }
    Ok(())
}
