//! Two processes write runs into one sweep directory at once; a reader polling the sweep
//! meanwhile never fails, never reads beyond what was written, and at the end loses
//! nothing.
//!
//! The writers are this test binary started again (`current_exe`) with an environment
//! variable that turns `child_writes_one_run` into a writer: separate processes, as runs of
//! a sweep are, writing with the crate's own `StepsWriter`.

use snuffer_energy::Provenance;
use snuffer_rundir::{
    write_summary, DecisionRecord, DomainRecord, EnergyRecord, RecordKind, RunState, StepRecord,
    StepsWriter, Summary, Sweep, FORMAT_VERSION, STEPS_FILE,
};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const CHILD: &str = "SNUFFER_RUNDIR_SWEEP_CHILD";
const EVALS: u64 = 400;

fn metric(run: &str, i: u64) -> f64 {
    let lr = if run.ends_with('a') { 8.0 } else { 20.0 };
    0.9 * (1.0 - (-(i as f64) / lr).exp())
}

fn line(
    kind: RecordKind,
    step: u64,
    metric: Option<f64>,
    meta: Option<serde_json::Value>,
) -> StepRecord {
    let j = step as f64 * 1.5;
    StepRecord {
        kind,
        step,
        time_s: step as f64 * 0.01,
        energy: EnergyRecord {
            total_j: j,
            total_uncertainty: 0.4,
            domains: vec![DomainRecord {
                name: "cpu-estimate".into(),
                joules: j,
                provenance: Provenance::Estimated {
                    model: "test".into(),
                },
                uncertainty: 0.4,
            }],
        },
        metrics: metric
            .map(|m| ("acc".to_string(), Some(m)))
            .into_iter()
            .collect(),
        forecast: None,
        decision: Some(DecisionRecord::proceed()).filter(|_| kind == RecordKind::Eval),
        meta,
    }
}

/// Writes one run of `EVALS` evaluations, flushing each line, with a padding step line
/// between evaluations so lines of many sizes cross the reader's reads.
fn write_run(dir: &Path, name: &str, started_at: &str) -> anyhow::Result<()> {
    let mut w = StepsWriter::create(dir.join(STEPS_FILE))?;
    let meta = serde_json::json!({"format_version": FORMAT_VERSION, "run_name": name,
        "started_at": started_at, "metric_name": "acc", "higher_is_better": true,
        "planned_steps": EVALS * 10, "padding": "x".repeat(3000)});
    w.append(&line(RecordKind::Start, 0, None, Some(meta)))?;
    w.flush()?;
    for i in 1..=EVALS {
        w.append(&line(RecordKind::Step, i * 10 - 5, None, None))?;
        w.append(&line(RecordKind::Eval, i * 10, Some(metric(name, i)), None))?;
        w.flush()?;
        if i % 10 == 0 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let mut end = line(
        RecordKind::End,
        EVALS * 10,
        None,
        Some(serde_json::json!({"finished": true})),
    );
    end.decision = None;
    w.append(&end)?;
    w.flush()?;
    write_summary(
        dir,
        &Summary {
            format_version: FORMAT_VERSION,
            run_name: name.into(),
            started_at: started_at.into(),
            duration_s: EVALS as f64 * 0.1,
            steps: EVALS * 10,
            planned_steps: Some(EVALS * 10),
            finished: true,
            energy_j: EVALS as f64 * 15.0,
            energy_uncertainty: 0.4,
            provenance: Provenance::Estimated {
                model: "test".into(),
            },
            domains: Vec::new(),
            metric_name: "acc".into(),
            higher_is_better: true,
            best_step: None,
            best_metric: None,
            stop: None::<DecisionRecord>,
            forecast_full_metric: None,
            forecast_full_energy_j: None,
            forecast_saved_j: None,
            footprint: None,
            extra: None,
        },
    )?;
    Ok(())
}

/// Not a test on its own: the writer process of `two_processes_write_one_sweep`.
#[test]
fn child_writes_one_run() -> anyhow::Result<()> {
    let Ok(spec) = std::env::var(CHILD) else {
        return Ok(());
    };
    let mut parts = spec.splitn(3, '|');
    let (Some(sweep), Some(name), Some(started)) = (parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("bad {CHILD}: {spec}");
    };
    let dir = Sweep::open(sweep)?.new_run_dir(name)?;
    write_run(&dir, name, started)
}

#[test]
fn two_processes_write_one_sweep() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let sweep = Sweep::create(tmp.path().join("sweep"))?;
    let exe = std::env::current_exe()?;
    // Run b starts first by its recorded start time, though both start together.
    let specs = [
        ("run-a", "2026-11-30T10:00:02Z"),
        ("run-b", "2026-11-30T10:00:01Z"),
    ];
    let mut children = specs
        .iter()
        .map(|(name, started)| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "child_writes_one_run",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env(CHILD, format!("{}|{name}|{started}", sweep.dir().display()))
                .stdout(std::process::Stdio::null())
                .spawn()
        })
        .collect::<Result<Vec<_>, _>>()?;

    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = [0usize; 2];
    let mut reads = 0;
    let mut partial = 0;
    loop {
        let done = children
            .iter_mut()
            .map(|c| c.try_wait().map(|s| s.is_some()))
            .collect::<Result<Vec<_>, _>>()?;
        for curve in sweep.curves()? {
            reads += 1;
            assert!(curve.issues.is_empty(), "{:?}", curve.issues);
            let k = usize::from(curve.run.name == "run-b");
            assert!(curve.points.len() >= seen[k], "a later read lost points");
            seen[k] = curve.points.len();
            partial += usize::from((1..EVALS as usize).contains(&seen[k]));
            for (i, p) in curve.points.iter().enumerate() {
                let i = i as u64 + 1;
                assert_eq!(
                    p.step,
                    i * 10,
                    "{}: points in order, none invented",
                    curve.run.name
                );
                assert_eq!(p.metric, metric(&curve.run.name, i));
                assert_eq!(p.energy_j, p.step as f64 * 1.5);
                assert!(p.provenance.is_estimate());
            }
        }
        if done.iter().all(|d| *d) {
            break;
        }
        assert!(Instant::now() < deadline, "writers did not finish in time");
    }
    for c in &mut children {
        assert!(c.wait()?.success(), "a writer failed");
    }
    let curves = sweep.curves()?;
    let names: Vec<&str> = curves.iter().map(|c| c.run.name.as_str()).collect();
    assert_eq!(names, ["run-b", "run-a"], "ordered by recorded start time");
    for c in &curves {
        assert_eq!(c.points.len() as u64, EVALS, "{} lost nothing", c.run.name);
        assert_eq!(c.status.state, RunState::Completed { steps: EVALS * 10 });
        assert!(
            c.status.disagreements.is_empty(),
            "{:?}",
            c.status.disagreements
        );
        assert_eq!(
            (c.metric_name.as_deref(), c.planned_steps),
            (Some("acc"), Some(EVALS * 10))
        );
    }
    eprintln!("{partial} partial reads of {reads}");
    assert!(
        partial > 0,
        "the reader saw runs in progress ({partial} partial reads of {reads})"
    );
    Ok(())
}

#[test]
fn concurrent_claims_get_distinct_directories() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let sweep = Sweep::create(tmp.path())?;
    let dirs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| sweep.new_run_dir("same name")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let mut names: Vec<String> = dirs
        .iter()
        .map(|d| {
            d.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(names.contains(&"same_name".to_string()) && names.contains(&"same_name-8".to_string()));
    Ok(())
}
