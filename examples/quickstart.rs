//! Snuffer's headline example: a small MLP on the UCI handwritten digits
//! (1 797 8×8 images, 10 classes, embedded in the `smartcore` crate), trained
//! twice — to its full planned length, then with Snuffer's marginal-gain
//! policy — and compared side by side.
//!
//! `cargo run --release --example quickstart [-- --repeats N]`
//!
//! After a warm-up (untracked steps, then a short tracked run thrown away) it runs N pairs
//! (default 3) in alternating order, so neither run is favoured by going second, and judges
//! the saving against the spread of the pairs.
//!
//! The only change Snuffer needs in a candle loop is wrapping the optimizer:
//! `let opt = run.wrap(AdamW::new(varmap.all_vars(), params)?);` (see
//! `examples/common/mod.rs::train_digits` and `examples/custom_loop.rs`).
mod common;

use anyhow::{Context, Result};
use candle_core::Device;
use common::{comparison_table, setup_threads, train_digits_in, Digits, DigitsConfig};
use snuffer::Progress;
use std::path::{Path, PathBuf};
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

    // A fair comparison: a warm-up first (the first run in a process costs about twice the
    // CPU time of the next), then pairs in alternating order (full first, then Snuffer
    // first, …); the spread over the pairs is the noise the saving is judged against.
    let repeats = common::repeats_from_args(3)?;
    println!(
        "warm-up: {} untracked steps, then a short tracked run",
        cfg.steps / 10
    );
    common::warm_up(&data, cfg, cfg.steps / 10)?;
    let mut pairs = common::PairSavings::default();
    let mut first = None;
    for pair in 0..repeats {
        // Stable directories, so `snuffer report runs/quickstart-snuffer` works as printed;
        // later pairs go to runs/quickstart-repeats.
        let (full_dir, snuffer_dir) = if pair == 0 {
            (
                PathBuf::from("runs/quickstart-full"),
                PathBuf::from("runs/quickstart-snuffer"),
            )
        } else {
            let d = Path::new("runs/quickstart-repeats");
            (
                d.join(format!("full-{}", pair + 1)),
                d.join(format!("snuffer-{}", pair + 1)),
            )
        };
        let progress = if pair == 0 {
            Progress::Auto
        } else {
            Progress::Quiet
        };
        let run_full = || {
            train_digits_in(
                &data,
                cfg,
                "quickstart-full",
                Some(&full_dir),
                None,
                progress,
                |b| b,
            )
        };
        let run_snuffer = || -> Result<_> {
            let policy = common::marginal_policy(tau)?;
            train_digits_in(
                &data,
                cfg,
                "quickstart-snuffer",
                Some(&snuffer_dir),
                Some(policy),
                progress,
                |b| b,
            )
        };
        let (full, snuffed) = if pair % 2 == 0 {
            println!(
                "[pair {}/{repeats}] full planned run, then with Snuffer",
                pair + 1
            );
            let f = run_full()?;
            (f, run_snuffer()?)
        } else {
            println!(
                "[pair {}/{repeats}] with Snuffer, then the full run",
                pair + 1
            );
            let s = run_snuffer()?;
            (run_full()?, s)
        };
        let (f, s) = (&full.outcome.summary, &snuffed.outcome.summary);
        pairs.shares.push((f.energy_j - s.energy_j) / f.energy_j);
        if first.is_none() {
            first = Some((full, snuffed));
        }
    }
    let (full, snuffed) = first.context("no pair was run")?;

    println!();
    print!("{}", comparison_table(&full, &snuffed));
    println!("\n{}", pairs.summary(common::saving_row(&full, &snuffed)));
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
        "\"{}\" compares the two runs' energy (the table: the first pair); \"{}\" is Snuffer's own forecast, made at the stop, of what the rest of the plan would have cost (also in the stop line, summary.json and the report).",
        common::saving_row(&full, &snuffed),
        common::FORECAST_ROW
    );
    println!("\nopen the runs with (cargo run --release -p snuffer-cli -- report …):");
    for r in [&full, &snuffed] {
        println!("  snuffer report {}", r.outcome.dir.display());
    }
    println!("total wall time: {:.1} s", total.elapsed().as_secs_f64());
    Ok(())
}
