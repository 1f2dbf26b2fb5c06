//! Snuffer's headline example: a small MLP on the UCI handwritten digits
//! (1 797 8×8 images, 10 classes, embedded in the `smartcore` crate), trained
//! twice — to its full planned length, then with Snuffer's marginal-gain
//! policy — and compared side by side.
//!
//! `cargo run --release --example quickstart`
//!
//! The only change Snuffer needs in a candle loop is wrapping the optimizer:
//! `let opt = run.wrap(AdamW::new(varmap.all_vars(), params)?);` (see
//! `examples/common/mod.rs::train_digits` and `examples/custom_loop.rs`).
mod common;

use anyhow::Result;
use candle_core::Device;
use common::{comparison_table, setup_threads, train_digits_in, Digits, DigitsConfig};
use snuffer::Progress;
use std::path::Path;
use std::time::Instant;

fn main() -> Result<()> {
    let threads = setup_threads(); // first, before any thread starts
    let total = Instant::now();
    let tau = common::tau_from_args(common::TAU_RELATIVE)?;
    println!("Snuffer quickstart — digits MLP (64 → 256 → 10), AdamW, CPU");
    println!("{threads}");
    let data = Digits::load(500, 7, &Device::Cpu)?;
    let cfg = DigitsConfig {
        lr: 1e-3,
        hidden: 256,
        seed: 1,
        steps: 6_000,
        eval_every: 100,
        batch: 64,
    };
    println!(
        "data: {} training / 500 validation images; plan: {} steps, validation accuracy every {} steps",
        data.n_train(),
        cfg.steps,
        cfg.eval_every
    );
    println!("{}\n", common::tau_explanation(tau, "validation accuracy"));

    // Stable directories, so `snuffer report runs/quickstart-snuffer` works as printed.
    let (full_dir, snuffer_dir) = (
        Path::new("runs/quickstart-full"),
        Path::new("runs/quickstart-snuffer"),
    );
    println!("[1/2] full planned run (no stop policy)");
    let full = train_digits_in(
        &data,
        cfg,
        "quickstart-full",
        Some(full_dir),
        None,
        Progress::Auto,
        |b| b,
    )?;
    println!("[2/2] the same run with Snuffer's marginal-gain policy");
    let policy = common::marginal_policy(tau)?;
    let snuffed = train_digits_in(
        &data,
        cfg,
        "quickstart-snuffer",
        Some(snuffer_dir),
        Some(policy),
        Progress::Auto,
        |b| b,
    )?;

    println!();
    print!("{}", comparison_table(&full, &snuffed));
    if let Some(stop) = &snuffed.outcome.stop {
        println!("\nwhy it stopped: {}", stop.message);
    } else {
        println!(
            "\nthe policy let the run finish: the forecast still promised gains worth their energy"
        );
    }
    let p = &full.outcome.summary.provenance;
    if p.is_estimate() {
        println!("energy provenance: {p}. No hardware energy counter is readable here (no RAPL/NVML), so this is a model; the ± is its relative uncertainty. Savings compare like with like.");
    } else {
        println!("energy provenance: {p}");
    }
    println!(
        "\"{}\" compares the two runs' energy; \"{}\" is Snuffer's own forecast, made at the stop, of what the rest of the plan would have cost (also in the stop line, summary.json and the report).",
        common::MEASURED_ROW,
        common::FORECAST_ROW
    );
    println!("\nopen the runs with (cargo run --release -p snuffer-cli -- report …):");
    for r in [&full, &snuffed] {
        println!("  snuffer report {}", r.outcome.dir.display());
    }
    println!("total wall time: {:.1} s", total.elapsed().as_secs_f64());
    Ok(())
}
