//! Guards the committed learning curves in `data/curves/` (made by
//! `examples/make_curves`): they must keep parsing with the project's own
//! curves reader, keep every column the format promises, and keep the shape
//! the README describes, so the file cannot rot unnoticed.

use anyhow::{ensure, Context, Result};
use snuffer_replay::curves::{read_curves, EnergyBasis, REQUIRED_COLUMNS};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/curves")
}

#[test]
fn candle_cpu_curves_parse_and_keep_their_shape() -> Result<()> {
    let path = data_dir().join("candle_cpu.csv");
    let size = std::fs::metadata(&path)
        .with_context(|| format!("{} is missing", path.display()))?
        .len();
    ensure!(size < 5_000_000, "{} grew to {size} bytes", path.display());

    let header = std::fs::read_to_string(&path)?
        .lines()
        .next()
        .context("empty file")?
        .to_string();
    let columns: Vec<&str> = header.split(',').collect();
    for c in REQUIRED_COLUMNS.iter().chain(&["epoch_time_s", "energy_j"]) {
        ensure!(columns.contains(c), "column {c} missing from {header}");
    }

    let runs = read_curves(&path)?;
    ensure!(runs.len() >= 100, "only {} runs", runs.len());
    let mut per_task: BTreeMap<&str, usize> = BTreeMap::new();
    let mut directions = BTreeSet::new();
    let mut non_finite_runs = 0;
    for run in &runs {
        let id = format!("{} / {}", run.task, run.run_id);
        ensure!(run.source == "candle_cpu", "{id}: source {}", run.source);
        ensure!(
            (15..=250).contains(&run.len()),
            "{id}: {} points, outside 15–250",
            run.len()
        );
        ensure!(
            run.steps.windows(2).all(|w| w[0] < w[1]) && run.steps[0] >= 1.0,
            "{id}: steps are not optimizer steps counted from 1, strictly increasing"
        );
        ensure!(
            run.energy_basis() == EnergyBasis::Recorded,
            "{id}: energy_j missing on some row"
        );
        let energy = run.energy_j.as_deref().unwrap_or_default();
        let times = run.epoch_time_s.as_deref().unwrap_or_default();
        ensure!(
            energy
                .iter()
                .chain(times)
                .all(|v| v.is_finite() && *v >= 0.0),
            "{id}: a negative or non-finite energy or time"
        );
        ensure!(energy.iter().sum::<f64>() > 0.0, "{id}: no energy recorded");
        if run.metrics.iter().any(|m| !m.is_finite()) {
            non_finite_runs += 1;
        }
        directions.insert(run.higher_is_better);
        *per_task.entry(&run.task).or_default() += 1;
    }
    ensure!(per_task.len() >= 6, "only {} tasks", per_task.len());
    for (task, n) in &per_task {
        ensure!((12..=40).contains(n), "{task}: {n} runs, not a 12–40 sweep");
    }
    ensure!(directions.len() == 2, "both metric directions must occur");
    ensure!(
        non_finite_runs > 0,
        "the diverged runs (NaN metrics) must be kept"
    );
    Ok(())
}

#[test]
fn candle_cpu_runs_file_matches_the_curves() -> Result<()> {
    let curves = read_curves(&data_dir().join("candle_cpu.csv"))?;
    let mut expected: BTreeMap<(String, String), usize> = curves
        .iter()
        .map(|r| ((r.task.clone(), r.run_id.clone()), r.len()))
        .collect();
    let mut rdr = csv::Reader::from_path(data_dir().join("candle_cpu_runs.csv"))?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("runs file lacks column {name}"))
    };
    let (task, run_id, n_points, config) = (
        col("task")?,
        col("run_id")?,
        col("n_points")?,
        col("config_json")?,
    );
    for row in rdr.records() {
        let row = row?;
        let key = (row[task].to_string(), row[run_id].to_string());
        let n = expected
            .remove(&key)
            .with_context(|| format!("{key:?} is in the runs file but not in the curves"))?;
        ensure!(
            row[n_points].parse::<usize>()? == n,
            "{key:?}: n_points disagrees"
        );
        let cfg: serde_json::Value = serde_json::from_str(&row[config])?;
        for field in ["optimizer", "lr", "schedule", "steps", "eval_every", "seed"] {
            ensure!(cfg.get(field).is_some(), "{key:?}: config lacks {field}");
        }
    }
    ensure!(
        expected.is_empty(),
        "runs missing from the runs file: {:?}",
        expected.keys().collect::<Vec<_>>()
    );
    Ok(())
}
