//! A hyperparameter sweep on the digits set (3 learning rates × 2 widths × 2
//! seeds = 12 configurations), each trained to its planned length and again
//! under Snuffer's marginal-gain policy. Prints the energy of every run, the
//! total saved, and whether the sweep still picks the same best configuration
//! with the same metric.
//!
//! `cargo run --release --example sweep`                 one sweep
//! `cargo run --release --example sweep -- --savings 3`  repeat on 3 data splits
//!                                                        and report mean ± sd
mod common;

use anyhow::{Context, Result};
use candle_core::Device;
use common::{mean_sd, setup_threads, train_digits, Digits, DigitsConfig, DigitsResult};
use snuffer::energy::Joules;
use snuffer::Progress;

const LRS: [f64; 3] = [3e-4, 1e-3, 3e-3];
const WIDTHS: [usize; 2] = [32, 128];
const SEEDS: [u64; 2] = [1, 2];

/// One sweep's totals.
struct SweepTotals {
    full_j: f64,
    snuffer_j: f64,
    same_best: bool,
    regret: f64,
}

fn configs(steps: u64, seed_offset: u64) -> Vec<DigitsConfig> {
    let mut v = Vec::new();
    for &lr in &LRS {
        for &hidden in &WIDTHS {
            for &seed in &SEEDS {
                v.push(DigitsConfig {
                    lr,
                    hidden,
                    seed: seed + seed_offset,
                    steps,
                    eval_every: 50,
                    batch: 32,
                });
            }
        }
    }
    v
}

fn best(results: &[DigitsResult]) -> Option<(usize, f64)> {
    results
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r.val_acc))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

fn run_sweep(rep: u64, steps: u64, tau: f64, verbose: bool) -> Result<SweepTotals> {
    let data = Digits::load(500, 7 + rep, &Device::Cpu)?;
    let cfgs = configs(steps, 10 * rep);
    let (mut full, mut snuffed) = (Vec::new(), Vec::new());
    if verbose {
        println!(
            "{:>7} {:>5} {:>4} | {:>6} {:>9} {:>7} | {:>6} {:>9} {:>7} {:>6}",
            "lr",
            "width",
            "seed",
            "steps",
            "energy",
            "val_acc",
            "steps",
            "energy",
            "val_acc",
            "saved"
        );
        println!("{:>19} | {:^24} | {:^31}", "", "full", "with Snuffer");
    }
    for (i, cfg) in cfgs.iter().enumerate() {
        let f = train_digits(
            &data,
            *cfg,
            &format!("sweep-r{rep}-c{i}-full"),
            None,
            Progress::Quiet,
        )?;
        let policy = common::marginal_policy(tau)?;
        let s = train_digits(
            &data,
            *cfg,
            &format!("sweep-r{rep}-c{i}-snuffer"),
            Some(policy),
            Progress::Quiet,
        )?;
        if verbose {
            let (fe, se) = (f.outcome.summary.energy_j, s.outcome.summary.energy_j);
            println!(
                "{:>7} {:>5} {:>4} | {:>6} {:>9} {:>7.4} | {:>6} {:>9} {:>7.4} {:>5.0}%",
                cfg.lr,
                cfg.hidden,
                cfg.seed,
                f.outcome.steps,
                Joules(fe),
                f.val_acc,
                s.outcome.steps,
                Joules(se),
                s.val_acc,
                100.0 * (fe - se) / fe
            );
        }
        full.push(f);
        snuffed.push(s);
    }
    let total = |rs: &[DigitsResult]| rs.iter().map(|r| r.outcome.summary.energy_j).sum::<f64>();
    let (bf, bs) = (
        best(&full).context("empty sweep")?,
        best(&snuffed).context("empty sweep")?,
    );
    let totals = SweepTotals {
        full_j: total(&full),
        snuffer_j: total(&snuffed),
        same_best: bf.0 == bs.0,
        regret: bf.1 - bs.1,
    };
    if verbose {
        let describe = |(i, acc): (usize, f64)| {
            let c = &cfgs[i];
            format!(
                "lr {} width {} seed {} → val_acc {acc:.4}",
                c.lr, c.hidden, c.seed
            )
        };
        println!(
            "\ntotal energy: full {} | with Snuffer {} | saved {} ({:.0}%)",
            Joules(totals.full_j),
            Joules(totals.snuffer_j),
            Joules(totals.full_j - totals.snuffer_j),
            100.0 * (totals.full_j - totals.snuffer_j) / totals.full_j
        );
        println!("best configuration, full sweep:    {}", describe(bf));
        println!("best configuration, Snuffer sweep: {}", describe(bs));
        println!(
            "best configuration preserved: {} ; metric regret of the sweep's winner: {:+.4}",
            if totals.same_best { "yes" } else { "no" },
            totals.regret
        );
        println!(
            "(energy: per-run totals from each run's summary.json; provenance: {})",
            full[0].outcome.summary.provenance
        );
        println!(
            "open any run with: snuffer report {}",
            snuffed[0].outcome.dir.display()
        );
    }
    Ok(totals)
}

fn main() -> Result<()> {
    let threads = setup_threads();
    let tau = common::tau_from_args()?;
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| -> Result<Option<u64>> {
        match args.iter().position(|a| a == name) {
            Some(i) => Ok(Some(
                args.get(i + 1)
                    .and_then(|v| v.parse().ok())
                    .with_context(|| format!("{name} needs a number"))?,
            )),
            None => Ok(None),
        }
    };
    let steps = flag("--steps")?.unwrap_or(2_000);
    let savings = flag("--savings")?;
    println!("{threads}");
    println!("{}", common::tau_explanation(tau, "validation accuracy"));
    let Some(reps) = savings else {
        println!("\n12 configurations on the digits set, {steps} planned steps each\n");
        run_sweep(0, steps, tau, true)?;
        return Ok(());
    };
    anyhow::ensure!(reps >= 1, "--savings needs at least 1 repetition");
    let mut rows = Vec::new();
    for rep in 0..reps {
        let t = run_sweep(rep, steps, tau, false)?;
        println!(
            "sweep {}: saved {:.1}% of {} ; best preserved: {} ; regret {:+.4}",
            rep + 1,
            100.0 * (t.full_j - t.snuffer_j) / t.full_j,
            Joules(t.full_j),
            t.same_best,
            t.regret
        );
        rows.push(t);
    }
    let saved: Vec<f64> = rows
        .iter()
        .map(|t| 100.0 * (t.full_j - t.snuffer_j) / t.full_j)
        .collect();
    let regret: Vec<f64> = rows.iter().map(|t| t.regret).collect();
    let (sm, ss) = mean_sd(&saved);
    let (rm, rs) = mean_sd(&regret);
    let kept = rows.iter().filter(|t| t.same_best).count();
    println!(
        "\n{:<32} {:>10} {:>10}",
        format!("over {reps} sweeps (12 configs each)"),
        "mean",
        "sd"
    );
    println!("{:<32} {:>9.1}% {:>9.1}%", "energy saved", sm, ss);
    println!(
        "{:<32} {:>10.4} {:>10.4}",
        "metric regret (val_acc)", rm, rs
    );
    println!(
        "{:<32} {:>10}",
        "best configuration preserved",
        format!("{kept}/{reps}")
    );
    Ok(())
}
