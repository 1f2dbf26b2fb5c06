//! Train the digits MLP once (a real candle run on this CPU, no stop policy) and write its
//! learning curve the way other tools log training runs, as fixtures for `snuffer whatif`
//! and the `snuffer-import` readers:
//!
//! * `runs/snuffer/digits-mlp/` — a Snuffer run directory (energy with its provenance);
//! * `runs/tensorboard/digits-mlp/events.out.tfevents.*` — TensorBoard scalars as the Hugging
//!   Face Trainer's TensorBoard callback names them (`train/loss`, `eval/loss`,
//!   `eval/accuracy`), written with `snuffer_import::tensorboard::EventWriter`, real wall times;
//! * `runs/hf/digits-mlp/trainer_state.json` — the Trainer's state file schema (`log_history`
//!   with training and evaluation entries and the final `train_runtime` entry, `max_steps`,
//!   `best_metric`, `best_global_step`, …);
//! * `runs/lightning/version_0/metrics.csv` — Lightning's `CSVLogger` layout;
//! * `runs/keras/digits-mlp/history.csv` — Keras' `CSVLogger` layout (one row per
//!   "epoch", here one evaluation interval, counted from 0);
//! * `runs/wandb/digits-mlp/wandb_history.csv` — a W&B `run.history()` export (`_step`,
//!   `_runtime`, `_timestamp`, `train/global_step`, …);
//! * `truth.csv` — the values as computed, for the tests to compare each reader against.
//!
//! `cargo run --release --example export_logs -- [OUT_DIR]`
//! (default `crates/snuffer-import/tests/data/digits`).
mod common;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use common::{accuracy, batch_loss, seeded_init, setup_threads, Batches, Digits, Mlp};
use snuffer::{forecast::Direction, Progress, Run};
use snuffer_import::tensorboard::EventWriter;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const STEPS: u64 = 3_000;
const EVAL_EVERY: u64 = 100;
const LOG_EVERY: u64 = 50;
const BATCH: usize = 64;
const LR: f64 = 1e-3;

/// One evaluation, as computed.
struct Eval {
    step: u64,
    unix_time: f64,
    elapsed_s: f64,
    val_accuracy: f64,
    val_loss: f64,
    train_accuracy: f64,
    train_loss: f64,
    eval_runtime_s: f64,
}

/// One training-loss log.
struct TrainLog {
    step: u64,
    unix_time: f64,
    loss: f64,
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn main() -> Result<()> {
    println!("{}", setup_threads()); // before any thread starts
    let out = std::env::args().nth(1).map_or_else(
        || PathBuf::from("crates/snuffer-import/tests/data/digits"),
        PathBuf::from,
    );
    let runs = out.join("runs");
    if runs.exists() {
        std::fs::remove_dir_all(&runs).with_context(|| format!("clearing {}", runs.display()))?;
    }
    let dev = Device::Cpu;
    let data = Digits::load(500, 7, &dev)?;
    let varmap = VarMap::new();
    let model = Mlp::new(
        VarBuilder::from_varmap(&varmap, DType::F32, &dev),
        64,
        128,
        10,
    )?;
    seeded_init(&varmap, 3)?;
    let mut opt = AdamW::new(
        varmap.all_vars(),
        ParamsAdamW {
            lr: LR,
            ..Default::default()
        },
    )?;
    let mut run = Run::builder("digits-mlp")
        .out_dir(runs.join("snuffer/digits-mlp"))
        .planned_steps(STEPS)
        .metric("val_accuracy", Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .log_every(LOG_EVERY)
        .progress(Progress::Plain)
        .build()?;

    // TensorBoard: the writer's first event names the file version, as PyTorch's does.
    let tb_dir = runs.join("tensorboard/digits-mlp");
    std::fs::create_dir_all(&tb_dir)?;
    let start_unix = unix_now();
    let tb_path = tb_dir.join(format!(
        "events.out.tfevents.{}.snuffer-example",
        start_unix as u64
    ));
    let mut tb = EventWriter::new(
        std::io::BufWriter::new(std::fs::File::create(&tb_path)?),
        start_unix,
    )?;

    let start = Instant::now();
    let mut batches = Batches::new(data.n_train(), BATCH, 3, &dev);
    let (mut evals, mut logs) = (Vec::new(), Vec::new());
    for step in 1..=STEPS {
        let loss = batch_loss(
            &model,
            &data.train_x,
            &data.train_y,
            &batches.next_indices()?,
        )?;
        opt.backward_step(&loss)?;
        run.step();
        if step % LOG_EVERY == 0 {
            let l = f64::from(loss.to_scalar::<f32>()?);
            run.record_loss(l);
            let t = TrainLog {
                step,
                unix_time: unix_now(),
                loss: l,
            };
            tb.scalar("train/loss", step as i64, t.unix_time, l as f32)?;
            tb.scalar("train/learning_rate", step as i64, t.unix_time, LR as f32)?;
            logs.push(t);
        }
        if step % EVAL_EVERY == 0 {
            let eval_start = Instant::now();
            let val_accuracy = accuracy(&model, &data.val_x, &data.val_y)?;
            let val_loss = cross_entropy(&model, &data.val_x, &data.val_y)?;
            let train_accuracy = accuracy(&model, &data.train_x, &data.train_y)?;
            let train_loss = cross_entropy(&model, &data.train_x, &data.train_y)?;
            run.eval(val_accuracy)?;
            let e = Eval {
                step,
                unix_time: unix_now(),
                elapsed_s: start.elapsed().as_secs_f64(),
                val_accuracy,
                val_loss,
                train_accuracy,
                train_loss,
                eval_runtime_s: eval_start.elapsed().as_secs_f64(),
            };
            tb.scalar("eval/loss", step as i64, e.unix_time, val_loss as f32)?;
            tb.scalar(
                "eval/accuracy",
                step as i64,
                e.unix_time,
                val_accuracy as f32,
            )?;
            evals.push(e);
        }
    }
    tb.into_inner()?;
    let train_runtime = start.elapsed().as_secs_f64();
    let summary = run.finish()?;
    let n_train = data.n_train() as f64;

    write_trainer_state(
        &runs.join("hf/digits-mlp"),
        &evals,
        &logs,
        train_runtime,
        n_train,
    )?;
    write_lightning(&runs.join("lightning/version_0"), &evals, &logs, n_train)?;
    write_keras(&runs.join("keras/digits-mlp"), &evals)?;
    write_wandb(&runs.join("wandb/digits-mlp"), &evals, &logs, start_unix)?;
    write_truth(&out.join("truth.csv"), &evals)?;
    println!(
        "{} steps in {:.1} s, {} ({}), best val_accuracy {}; wrote {}",
        summary.steps,
        train_runtime,
        snuffer::energy::Joules(summary.energy_j),
        summary.provenance,
        summary
            .best_metric
            .map_or("-".into(), |m| snuffer::energy::significant(m, 4)),
        out.display()
    );
    Ok(())
}

/// Mean cross-entropy of `model` on `(x, y)`.
fn cross_entropy(model: &Mlp, x: &Tensor, y: &Tensor) -> Result<f64> {
    let logits = model.forward(x)?;
    Ok(f64::from(
        candle_nn::loss::cross_entropy(&logits, y)?.to_scalar::<f32>()?,
    ))
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn epoch(step: u64, n_train: f64) -> f64 {
    (step as f64 * BATCH as f64 / n_train * 1e4).round() / 1e4
}

/// The Trainer's `trainer_state.json`: log entries merged in step order, training entries
/// before the evaluation of the same step, then the final summary entry.
fn write_trainer_state(
    dir: &Path,
    evals: &[Eval],
    logs: &[TrainLog],
    runtime: f64,
    n_train: f64,
) -> Result<()> {
    use serde_json::json;
    let mut history = Vec::new();
    let mut e = evals.iter().peekable();
    for l in logs {
        history.push(json!({"epoch": epoch(l.step, n_train), "learning_rate": LR, "loss": l.loss, "step": l.step}));
        while let Some(ev) = e.next_if(|ev| ev.step <= l.step) {
            history.push(
                json!({"epoch": epoch(ev.step, n_train), "eval_accuracy": ev.val_accuracy,
                "eval_loss": ev.val_loss, "eval_runtime": ev.eval_runtime_s,
                "eval_samples_per_second": 500.0 / ev.eval_runtime_s.max(1e-9),
                "eval_steps_per_second": 1.0 / ev.eval_runtime_s.max(1e-9), "step": ev.step}),
            );
        }
    }
    let total_loss = logs.iter().map(|l| l.loss).sum::<f64>() / logs.len().max(1) as f64;
    history.push(
        json!({"epoch": epoch(STEPS, n_train), "step": STEPS, "total_flos": 0.0,
        "train_loss": total_loss, "train_runtime": runtime,
        "train_samples_per_second": STEPS as f64 * BATCH as f64 / runtime,
        "train_steps_per_second": STEPS as f64 / runtime}),
    );
    let best = evals
        .iter()
        .fold(None::<&Eval>, |b, e| match b {
            Some(b) if b.val_accuracy >= e.val_accuracy => Some(b),
            _ => Some(e),
        })
        .context("no evaluations")?;
    let state = json!({
        "best_global_step": best.step,
        "best_metric": best.val_accuracy,
        "best_model_checkpoint": format!("digits-mlp/checkpoint-{}", best.step),
        "epoch": epoch(STEPS, n_train),
        "eval_steps": EVAL_EVERY,
        "global_step": STEPS,
        "is_hyper_param_search": false,
        "is_local_process_zero": true,
        "is_world_process_zero": true,
        "log_history": history,
        "logging_steps": LOG_EVERY,
        "max_steps": STEPS,
        "num_input_tokens_seen": 0,
        "num_train_epochs": (STEPS as f64 * BATCH as f64 / n_train).ceil(),
        "save_steps": 500,
        "stateful_callbacks": {"TrainerControl": {"args": {"should_epoch_stop": false,
            "should_evaluate": false, "should_log": false, "should_save": true,
            "should_training_stop": true}, "attributes": {}}},
        "total_flos": 0.0,
        "train_batch_size": BATCH,
        "trial_name": null,
        "trial_params": null
    });
    write(
        &dir.join("trainer_state.json"),
        &(serde_json::to_string_pretty(&state)? + "\n"),
    )
}

/// Lightning's `metrics.csv`: every logged key a column, empty where a row did not log it.
fn write_lightning(dir: &Path, evals: &[Eval], logs: &[TrainLog], n_train: f64) -> Result<()> {
    let mut text = String::from("epoch,step,train_loss,val_accuracy,val_loss\n");
    let mut e = evals.iter().peekable();
    for l in logs {
        let ep = (l.step as f64 * BATCH as f64 / n_train).floor();
        writeln!(text, "{ep},{},{},,", l.step, l.loss)?;
        while let Some(ev) = e.next_if(|ev| ev.step <= l.step) {
            writeln!(
                text,
                "{ep},{},,{},{}",
                ev.step, ev.val_accuracy, ev.val_loss
            )?;
        }
    }
    write(&dir.join("metrics.csv"), &text)
}

/// Keras' `CSVLogger`: one row per epoch, counted from 0.
fn write_keras(dir: &Path, evals: &[Eval]) -> Result<()> {
    let mut text = String::from("epoch,accuracy,loss,val_accuracy,val_loss\n");
    for (i, e) in evals.iter().enumerate() {
        writeln!(
            text,
            "{i},{},{},{},{}",
            e.train_accuracy, e.train_loss, e.val_accuracy, e.val_loss
        )?;
    }
    write(&dir.join("history.csv"), &text)
}

/// A W&B history export, as the Trainer's W&B callback logs: `_step` counts log calls, the
/// training step is `train/global_step`.
fn write_wandb(dir: &Path, evals: &[Eval], logs: &[TrainLog], start_unix: f64) -> Result<()> {
    let mut text = String::from(
        "_step,_runtime,_timestamp,train/global_step,train/loss,eval/loss,eval/accuracy\n",
    );
    let mut n = 0;
    let mut e = evals.iter().peekable();
    for l in logs {
        let runtime = l.unix_time - start_unix;
        writeln!(
            text,
            "{n},{runtime},{},{},{},,",
            l.unix_time, l.step, l.loss
        )?;
        n += 1;
        while let Some(ev) = e.next_if(|ev| ev.step <= l.step) {
            let runtime = ev.unix_time - start_unix;
            writeln!(
                text,
                "{n},{runtime},{},{},,{},{}",
                ev.unix_time, ev.step, ev.val_loss, ev.val_accuracy
            )?;
            n += 1;
        }
    }
    write(&dir.join("wandb_history.csv"), &text)
}

fn write_truth(path: &Path, evals: &[Eval]) -> Result<()> {
    let mut text = String::from("step,elapsed_s,val_accuracy,val_loss\n");
    for e in evals {
        writeln!(
            text,
            "{},{},{},{}",
            e.step, e.elapsed_s, e.val_accuracy, e.val_loss
        )?;
    }
    write(path, &text)
}
