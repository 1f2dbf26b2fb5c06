//! Make real learning curves: train a grid of small models with candle on this
//! CPU and write every run's validation curve as a curves CSV (the format of
//! `snuffer forecast --curves` and `snuffer replay --curves`), with the energy
//! of each evaluation interval from Snuffer's CPU-time estimate meter.
//!
//! ```text
//! cargo run --release --example make_curves -- --out data/curves/candle_cpu.csv
//! cargo run --release --example make_curves -- --quick --out /tmp/quick.csv   # smoke test, seconds
//! cargo run --release --example make_curves -- --only iris,boston --out /tmp/part.csv
//! ```
//!
//! Ten tasks (datasets that ship inside crates: smartcore's digits, iris,
//! breast cancer, diabetes and Boston housing; lipsum's *Liber Primus*), each a
//! small sweep over optimiser, learning rate, schedule, batch size, width,
//! depth, initialisation scale, training-set size and label noise. Every run
//! trains to its full plan (no stopping), with seeds fixed per configuration,
//! so the metric values are reproducible; times and energies are not (they
//! are measured). Runs that diverge keep training and log `NaN`.
//!
//! Energy is an ESTIMATE (provenance `estimated`): this process's CPU time ×
//! a per-thread power figure, plus a resident-memory term
//! (`snuffer::energy::EstimateMeter`), read at every evaluation.
//!
//! The run list goes to `<out stem>_runs.csv` (one row per run: config as JSON,
//! points, final and best metric) and a per-task summary (how many runs improve,
//! start late, jump late, overfit, collapse or diverge) to stdout.
//!
//! `RAYON_NUM_THREADS` is set to 1 first thing in `main`, before any thread
//! starts, whatever the environment says: the grid is sized for one core and
//! one thread keeps the arithmetic order, hence the curves, reproducible.
#[path = "../common/mod.rs"]
mod common;
mod data;
mod grid;
mod shape;
mod train;

use anyhow::{bail, Context, Result};
use grid::{data_for, tasks, Config, DataCache, Task};
use shape::summarise;
use snuffer::energy::{CpuSource, EstimateMeter, Meter};
use snuffer_replay::curves::REQUIRED_COLUMNS;
use std::path::{Path, PathBuf};
use std::time::Instant;
use train::RunResult;

/// The `source` column of every row.
const SOURCE: &str = "candle_cpu";

/// The machine's 1-, 5- and 15-minute load averages (the machine may be shared:
/// wall times are then longer than the CPU time that the energy estimate uses).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// A metric with 7 significant digits (`NaN`, `inf`, `-inf` as such).
fn fmt_metric(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        let rounded: f64 = format!("{x:.6e}").parse().unwrap_or(x);
        format!("{rounded}")
    }
}

/// Columns of the runs file (as the shared `*_runs.csv`, plus energy and CPU time).
const RUN_COLUMNS: [&str; 14] = [
    "source",
    "task",
    "run_id",
    "metric_name",
    "higher_is_better",
    "step_unit",
    "n_points",
    "first_step",
    "last_step",
    "final_metric",
    "best_metric",
    "energy_j_total",
    "cpu_s",
    "config_json",
];

/// The two files being written: curves (one row per evaluation) and runs.
struct Output {
    curves: csv::Writer<std::fs::File>,
    runs: csv::Writer<std::fs::File>,
    runs_path: PathBuf,
}

impl Output {
    /// Create `out` and `<out stem>_runs.csv` beside it, with their headers.
    fn create(out: &Path) -> Result<Self> {
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("curves");
        let runs_path = out.with_file_name(format!("{stem}_runs.csv"));
        anyhow::ensure!(
            runs_path != out,
            "--out {} would be overwritten by its own runs file; give it another name",
            out.display()
        );
        let mut curves =
            csv::Writer::from_path(out).with_context(|| format!("writing {}", out.display()))?;
        // The format's required columns, in its order, then the two optional ones.
        curves.write_record(REQUIRED_COLUMNS.iter().chain(&["epoch_time_s", "energy_j"]))?;
        let mut runs = csv::Writer::from_path(&runs_path)
            .with_context(|| format!("writing {}", runs_path.display()))?;
        runs.write_record(RUN_COLUMNS)?;
        Ok(Self {
            curves,
            runs,
            runs_path,
        })
    }

    /// Write one run's rows and its line in the runs file, and print a line.
    fn write_run(&mut self, task: &Task, id: &str, cfg: &Config, r: &RunResult) -> Result<()> {
        let higher = if task.metric.higher_is_better() {
            "true"
        } else {
            "false"
        };
        for p in &r.points {
            self.curves.write_record([
                SOURCE,
                task.name,
                id,
                &p.step.to_string(),
                &fmt_metric(p.metric),
                task.metric.name(),
                higher,
                &format!("{:.6}", p.seconds),
                &format!("{:.6}", p.joules),
            ])?;
        }
        let vals: Vec<f64> = r.points.iter().map(|p| p.metric).collect();
        let best = vals
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(|a, b| {
                if task.metric.higher_is_better() {
                    a.max(b)
                } else {
                    a.min(b)
                }
            })
            .unwrap_or(f64::NAN);
        let (first, last) = (
            vals.first().copied().unwrap_or(f64::NAN),
            vals.last().copied().unwrap_or(f64::NAN),
        );
        let energy: f64 = r.points.iter().map(|p| p.joules).sum();
        let mut config = serde_json::to_value(cfg)?;
        if cfg.hidden.is_empty() {
            if let Some(fields) = config.as_object_mut() {
                fields.remove("act"); // no hidden layer, no activation
            }
        }
        if let Some(at) = r.nonfinite_train_loss_at {
            config["nonfinite_train_loss_at_step"] = at.into();
        }
        self.runs.write_record([
            SOURCE,
            task.name,
            id,
            task.metric.name(),
            higher,
            "optimizer step",
            &r.points.len().to_string(),
            &r.points.first().map_or(0, |p| p.step).to_string(),
            &r.points.last().map_or(0, |p| p.step).to_string(),
            &fmt_metric(last),
            &fmt_metric(best),
            &format!("{energy:.3}"),
            &format!("{:.3}", r.cpu_s),
            &config.to_string(),
        ])?;
        println!(
            "{:<32} {:<40} {:>4} pts  first {:>10}  best {:>10}  final {:>10}  {:>6.2} s CPU  {:>7.2} J (est.)",
            task.name,
            id,
            r.points.len(),
            fmt_metric(first),
            fmt_metric(best),
            fmt_metric(last),
            r.cpu_s,
            energy
        );
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.curves.flush()?;
        self.runs.flush()?;
        Ok(())
    }
}

struct Args {
    out: PathBuf,
    quick: bool,
    only: Option<Vec<String>>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        out: PathBuf::from("data/curves/candle_cpu.csv"),
        quick: false,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => args.out = it.next().context("--out needs a path")?.into(),
            "--quick" => args.quick = true,
            "--only" => {
                args.only = Some(
                    it.next()
                        .context("--only needs comma-separated task-name fragments")?
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                )
            }
            "-h" | "--help" => {
                println!(
                    "make_curves [--out PATH] [--quick] [--only FRAGMENT,...]\n\
                     trains the grid and writes PATH (curves CSV) and PATH's *_runs.csv"
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(args)
}

fn main() -> Result<()> {
    // First, before any thread starts (edition 2021: set_var is safe while the
    // process is single-threaded). One core, and a fixed arithmetic order.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let args = parse_args()?;
    let wall0 = Instant::now();
    let cpu0 = snuffer::energy::cputime::self_cpu_time()?;
    let mut tasks = tasks();
    if let Some(only) = &args.only {
        tasks.retain(|t| only.iter().any(|o| t.name.contains(o.as_str())));
        anyhow::ensure!(!tasks.is_empty(), "--only matched no task");
    }
    if args.quick {
        for t in &mut tasks {
            t.runs.truncate(1);
            for (_, c) in &mut t.runs {
                c.steps = (c.steps / 10).max(15);
                c.eval_every = (c.steps / 15).max(1);
            }
        }
    }
    let provenance = EstimateMeter::new(CpuSource::SelfProcess)?
        .read()?
        .iter()
        .map(|d| format!("{}: {}", d.domain, d.provenance))
        .collect::<Vec<_>>()
        .join("; ");
    println!("candle CPU threads: 1 (RAYON_NUM_THREADS set by this program)");
    println!("load average at start: {}", load_average());
    println!("energy (ESTIMATE): {provenance}");
    let mut output = Output::create(&args.out)?;
    let mut cache = DataCache::default();
    let mut summary = Vec::new();
    for task in &tasks {
        let task_cpu0 = snuffer::energy::cputime::self_cpu_time()?;
        println!(
            "\n== {} ({} runs): {}",
            task.name,
            task.runs.len(),
            task.what
        );
        let mut results = Vec::new();
        for (id, cfg) in &task.runs {
            let data = data_for(task, cfg, &mut cache)?;
            let r = train::train(task, cfg, &data, &cache)
                .with_context(|| format!("training {} / {id}", task.name))?;
            let n = r.points.len();
            anyhow::ensure!(
                args.quick || (15..=250).contains(&n),
                "{} / {id}: {n} evaluations, outside 15–250",
                task.name
            );
            output.write_run(task, id, cfg, &r)?;
            results.push((cfg.steps, r));
        }
        output.flush()?;
        let task_cpu = snuffer::energy::cputime::self_cpu_time()?.saturating_sub(task_cpu0);
        summary.push(summarise(task, &results, task_cpu.as_secs_f64()));
    }
    println!("\n| task | metric | runs | points/run | improve | late start | late jump | turn down | ends ≤ first | non-finite | improving at end | CPU s |");
    println!("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for line in &summary {
        println!("{line}");
    }
    let cpu = snuffer::energy::cputime::self_cpu_time()?.saturating_sub(cpu0);
    println!("load average at the end: {}", load_average());
    println!(
        "\nwrote {} and {}; {} runs; CPU {:.1} s, wall {:.1} s",
        args.out.display(),
        output.runs_path.display(),
        tasks.iter().map(|t| t.runs.len()).sum::<usize>(),
        cpu.as_secs_f64(),
        wall0.elapsed().as_secs_f64()
    );
    Ok(())
}
