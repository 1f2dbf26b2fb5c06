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
use common::{fmt_energy, setup_threads, train_digits, Digits, DigitsConfig, DigitsResult};
use snuffer::Progress;
use std::time::Instant;

fn main() -> Result<()> {
    let threads = setup_threads(); // first, before any thread starts
    let total = Instant::now();
    let tau = common::tau_from_args()?;
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

    println!("[1/2] full planned run (no stop policy)");
    let full = train_digits(&data, cfg, "quickstart-full", None, Progress::Auto)?;
    println!("[2/2] the same run with Snuffer's marginal-gain policy");
    let policy = common::marginal_policy(tau)?;
    let snuffed = train_digits(
        &data,
        cfg,
        "quickstart-snuffer",
        Some(policy),
        Progress::Auto,
    )?;

    print_table(&full, &snuffed);
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
    println!("\nopen the runs with:");
    for r in [&full, &snuffed] {
        println!("  snuffer report {}", r.outcome.dir.display());
    }
    println!("total wall time: {:.1} s", total.elapsed().as_secs_f64());
    Ok(())
}

fn print_table(full: &DigitsResult, snuffed: &DigitsResult) {
    let (f, s) = (&full.outcome.summary, &snuffed.outcome.summary);
    let energy = |r: &DigitsResult| {
        let s = &r.outcome.summary;
        format!(
            "{} ±{:.0}% ({})",
            fmt_energy(s.energy_j),
            100.0 * s.energy_uncertainty,
            s.provenance.label()
        )
    };
    let best = |r: &DigitsResult| match r.outcome.best {
        Some((step, m)) => format!("{m:.4} @ {step}"),
        None => "-".into(),
    };
    println!("\n{:<26} {:>26} {:>26}", "", "full run", "with Snuffer");
    println!("{:<26} {:>26} {:>26}", "steps", f.steps, s.steps);
    println!(
        "{:<26} {:>26} {:>26}",
        "energy",
        energy(full),
        energy(snuffed)
    );
    println!(
        "{:<26} {:>25.1}s {:>25.1}s",
        "wall time",
        full.wall.as_secs_f64(),
        snuffed.wall.as_secs_f64()
    );
    println!(
        "{:<26} {:>26} {:>26}",
        "best val_acc @ step",
        best(full),
        best(snuffed)
    );
    println!(
        "{:<26} {:>26.4} {:>26.4}",
        "final val_acc (restored)", full.val_acc, snuffed.val_acc
    );
    let saved = f.energy_j - s.energy_j;
    println!(
        "{:<26} {:>26} {:>26}",
        "energy saved",
        "-",
        format!("{} ({:.0}%)", fmt_energy(saved), 100.0 * saved / f.energy_j)
    );
    println!(
        "{:<26} {:>26} {:>26}",
        "accuracy cost",
        "-",
        format!("{:+.4}", snuffed.val_acc - full.val_acc)
    );
}
