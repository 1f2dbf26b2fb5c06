//! Each reader reads its fixture back to the curve the training run computed.
//!
//! The fixtures in `tests/data/digits/runs/` were written by `examples/export_logs.rs` from one
//! real candle run (see `tests/data/README.md`); `tests/data/digits/truth.csv` holds the
//! values as the run computed them (f64).

use anyhow::{ensure, Context, Result};
use snuffer_import::{discover, Format, ImportOptions, ImportedRun};
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits")
}

struct Truth {
    steps: Vec<f64>,
    elapsed_s: Vec<f64>,
    val_accuracy: Vec<f64>,
    val_loss: Vec<f64>,
}

fn truth() -> Result<Truth> {
    let mut rdr = csv::Reader::from_path(data().join("truth.csv"))?;
    let mut t = Truth {
        steps: vec![],
        elapsed_s: vec![],
        val_accuracy: vec![],
        val_loss: vec![],
    };
    for rec in rdr.records() {
        let rec = rec?;
        let f = |i: usize| -> Result<f64> { Ok(rec.get(i).context("short row")?.parse()?) };
        t.steps.push(f(0)?);
        t.elapsed_s.push(f(1)?);
        t.val_accuracy.push(f(2)?);
        t.val_loss.push(f(3)?);
    }
    ensure!(t.steps.len() == 30, "the fixture run evaluated 30 times");
    Ok(t)
}

fn read(format: Format, file_name: &str, metric: Option<&str>) -> Result<ImportedRun> {
    let options = ImportOptions {
        metric: metric.map(str::to_string),
        ..ImportOptions::default()
    };
    let found = discover(&[data().join("runs")], &options)?;
    let c = found
        .candidates
        .iter()
        .find(|c| c.format == format && c.path.to_string_lossy().contains(file_name))
        .with_context(|| format!("no {format} run named {file_name}"))?;
    Ok(c.read(&options)?)
}

/// Values stored as f32 (TensorBoard scalars) compare to the f64 truth rounded to f32.
fn as_f32(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x as f32)).collect()
}

#[test]
fn the_tree_holds_one_run_per_format() -> Result<()> {
    let found = discover(&[data().join("runs")], &ImportOptions::default())?;
    let mut formats: Vec<Format> = found.candidates.iter().map(|c| c.format).collect();
    formats.sort();
    assert_eq!(
        formats,
        vec![
            Format::SnufferRun,
            Format::TrainerState,
            Format::TensorBoard,
            Format::CsvHistory,
            Format::CsvHistory,
            Format::CsvHistory
        ]
    );
    assert!(found.passed_over.is_empty(), "{:?}", found.passed_over);
    Ok(())
}

#[test]
fn snuffer_run_directory() -> Result<()> {
    let t = truth()?;
    let r = read(Format::SnufferRun, "snuffer/digits-mlp", None)?;
    assert_eq!(
        r.metric_name, "val_accuracy",
        "the metric the run monitored"
    );
    assert_eq!((r.steps, r.metrics), (t.steps, t.val_accuracy));
    let e = r.energy.context("a Snuffer run records energy")?;
    assert!(
        e.provenance.is_estimate(),
        "no RAPL here: the run's energy is an estimate"
    );
    assert!(e.cumulative_j.windows(2).all(|w| w[0] <= w[1]) && e.cumulative_j[29] > 0.0);
    assert_eq!(r.planned_steps, Some(3000));
    Ok(())
}

#[test]
fn trainer_state() -> Result<()> {
    let t = truth()?;
    let r = read(Format::TrainerState, "hf/digits-mlp", None)?;
    assert_eq!(
        r.metric_name, "eval_accuracy",
        "the metric behind best_metric"
    );
    assert!(r.higher_is_better);
    assert_eq!(
        (r.steps.clone(), r.metrics),
        (t.steps.clone(), t.val_accuracy)
    );
    assert_eq!(r.planned_steps, Some(3000));
    let loss = read(Format::TrainerState, "hf/digits-mlp", Some("eval_loss"))?;
    assert_eq!((loss.steps, loss.metrics), (t.steps, t.val_loss));
    assert!(!loss.higher_is_better);
    Ok(())
}

#[test]
fn tensorboard() -> Result<()> {
    let t = truth()?;
    let r = read(Format::TensorBoard, "tensorboard/digits-mlp", None)?;
    assert_eq!(
        r.metric_name, "eval/loss",
        "the default: the validation loss"
    );
    assert_eq!(
        (r.steps.clone(), r.metrics),
        (t.steps.clone(), as_f32(&t.val_loss))
    );
    let acc = read(
        Format::TensorBoard,
        "tensorboard/digits-mlp",
        Some("accuracy"),
    )?;
    assert_eq!((acc.steps, acc.metrics), (t.steps, as_f32(&t.val_accuracy)));
    // Wall time since the writer's first event, against the loop's own clock.
    let timing = acc.timing.context("TensorBoard events carry wall_time")?;
    for (got, want) in timing.elapsed_s.iter().zip(&t.elapsed_s) {
        assert!((got - want).abs() < 0.05, "elapsed {got} vs {want}");
    }
    Ok(())
}

#[test]
fn lightning_metrics_csv() -> Result<()> {
    let t = truth()?;
    let r = read(Format::CsvHistory, "lightning/version_0", Some("accuracy"))?;
    assert_eq!(r.metric_name, "val_accuracy");
    assert_eq!((r.steps, r.metrics), (t.steps, t.val_accuracy));
    assert!(r.timing.is_none(), "Lightning's CSV has no time");
    Ok(())
}

#[test]
fn keras_csv_logger() -> Result<()> {
    let t = truth()?;
    let r = read(Format::CsvHistory, "keras/digits-mlp", Some("val_accuracy"))?;
    // One Keras "epoch" per evaluation interval of 100 steps, counted from 0.
    let epochs: Vec<f64> = t.steps.iter().map(|s| s / 100.0).collect();
    assert_eq!((r.steps, r.metrics), (epochs, t.val_accuracy));
    Ok(())
}

#[test]
fn wandb_history_export() -> Result<()> {
    let t = truth()?;
    let r = read(Format::CsvHistory, "wandb/digits-mlp", Some("accuracy"))?;
    assert_eq!(r.metric_name, "eval/accuracy");
    assert_eq!(
        (r.steps, r.metrics),
        (t.steps, t.val_accuracy),
        "steps from train/global_step, not _step"
    );
    let timing = r.timing.context("_runtime is the time")?;
    for (got, want) in timing.elapsed_s.iter().zip(&t.elapsed_s) {
        assert!((got - want).abs() < 0.05, "elapsed {got} vs {want}");
    }
    Ok(())
}
