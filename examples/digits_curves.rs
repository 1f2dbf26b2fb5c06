//! Makes `data/digits-curves.csv`, the small curves file the README's `snuffer forecast`
//! and `snuffer replay` commands read: eight full runs of the quickstart's digits MLP (four
//! learning rates × two seeds, 64 → 256 → 10, 6 000 steps, validation accuracy every 100
//! steps, energy sampled every 10 ms), trained as
//! one sweep under `runs/digits-curves-<timestamp>/` and exported from their run
//! directories with `snuffer::rundir::Sweep`.
//!
//! `cargo run --release --example digits_curves [-- OUT.csv]`
//!
//! Every row's `energy_j` is the energy Snuffer recorded since the row before (on machines
//! without RAPL or NVML a labelled estimate: the `energy_provenance` column says which), and
//! `epoch_time_s` the wall time since then. Energy and times differ from machine to machine;
//! the accuracies depend only on the seeds.
mod common;

use anyhow::{Context, Result};
use candle_core::Device;
use common::{setup_threads, train_digits_in, Digits, DigitsConfig};
use snuffer::rundir::Sweep;
use snuffer::Progress;
use std::io::Write;
use std::path::PathBuf;

fn main() -> Result<()> {
    println!("{}", setup_threads()); // first, before any thread starts
    let out = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("data/digits-curves.csv"), PathBuf::from);
    let data = Digits::load(500, 7, &Device::Cpu)?;
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    let sweep = Sweep::create(format!("runs/digits-curves-{stamp}"))?;
    for lr in [3e-4, 1e-3, 3e-3, 1e-2] {
        for seed in [1, 2] {
            let cfg = DigitsConfig {
                lr,
                hidden: 256,
                seed,
                steps: 6_000,
                eval_every: 100,
                batch: 64,
            };
            let name = format!("lr{lr}-seed{seed}");
            let dir = sweep.new_run_dir(&name)?;
            let r = train_digits_in(&data, cfg, &name, Some(&dir), None, Progress::Quiet, |b| {
                b.sample_interval(std::time::Duration::from_millis(10))
            })?;
            println!(
                "{name}: {} steps, best val_acc {}, {}",
                r.outcome.summary.steps,
                r.outcome.best.map_or("-".into(), |(step, m)| format!(
                    "{} at step {step}",
                    snuffer::energy::significant(m, 4)
                )),
                snuffer::energy::Joules(r.outcome.summary.energy_j)
            );
        }
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut csv = std::io::BufWriter::new(
        std::fs::File::create(&out).with_context(|| format!("creating {}", out.display()))?,
    );
    writeln!(
        csv,
        "source,task,run_id,step,metric,metric_name,higher_is_better,epoch_time_s,energy_j,energy_provenance"
    )?;
    let mut rows = 0;
    for curve in sweep.curves()? {
        anyhow::ensure!(curve.issues.is_empty(), "{:?}", curve.issues);
        let run_id = &curve.run.name;
        let (mut t0, mut e0) = (0.0, 0.0);
        for p in &curve.points {
            writeln!(
                csv,
                "snuffer-digits,digits-mlp,{run_id},{},{},val_acc,true,{},{},{}",
                p.step,
                p.metric,
                p.time_s - t0,
                p.energy_j - e0,
                p.provenance.label()
            )?;
            (t0, e0) = (p.time_s, p.energy_j);
            rows += 1;
        }
    }
    csv.flush()?;
    println!("wrote {rows} rows to {}", out.display());
    Ok(())
}
