//! `snuffer compare`: runs side by side, and (when asked) metric against energy for all
//! of them. Given one sweep directory (a directory of run directories, such as the one
//! given to `RunBuilder::sweep`), it prints the sweep's table instead: every run, the
//! sweep's total energy, the forecast saving of its stops and its best run; `--html DIR`
//! writes the sweep's page with one chart of every run's curve and its stop.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// Arguments of `snuffer compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directories to compare; a directory of run directories (a sweep, or `runs`)
    /// stands for all of its runs, and one such directory alone is compared as a sweep.
    #[arg(value_name = "RUN_DIR", required = true, num_args = 1..)]
    run_dirs: Vec<PathBuf>,
    /// Print JSON instead of a table (one object per run, or the sweep's object).
    #[arg(long)]
    json: bool,
    /// Also write the overlay plot (metric against energy, SVG) to FILE; for a sweep, the
    /// sweep's chart (every run's metric over steps, with its stop).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Write the sweep's page (report.html and its chart) into DIR; needs one sweep
    /// directory.
    #[arg(long, value_name = "DIR")]
    html: Option<PathBuf>,
}

/// Whether `dir` is a run directory (it holds `steps.jsonl` or `summary.json`).
fn is_run(dir: &Path) -> bool {
    dir.join(snuffer_rundir::STEPS_FILE).is_file()
        || dir.join(snuffer_rundir::SUMMARY_FILE).is_file()
}

/// A run directory holds `steps.jsonl` or `summary.json`; any other directory is read as
/// a sweep of run directories.
fn expand(dirs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in dirs {
        if is_run(d) || !d.is_dir() {
            out.push(d.clone());
            continue;
        }
        let runs = snuffer_rundir::Sweep::open(d)?.list_runs()?;
        anyhow::ensure!(
            !runs.is_empty(),
            "{} holds no run directories (no steps.jsonl or summary.json in it or below it)",
            d.display()
        );
        out.extend(runs.into_iter().map(|r| r.dir));
    }
    Ok(out)
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if let [dir] = args.run_dirs.as_slice() {
        if dir.is_dir() && !is_run(dir) {
            return sweep(dir, &args);
        }
    }
    anyhow::ensure!(
        args.html.is_none(),
        "--html writes a sweep's page: pass one sweep directory (a directory of run \
         directories), not {} run directories",
        args.run_dirs.len()
    );
    let dirs = expand(&args.run_dirs)?;
    let cmp = snuffer_report::Comparison::load(&dirs).context("reading run directories")?;
    if let Some(plot) = &args.plot {
        snuffer_report::write_overlay(&cmp, plot)
            .with_context(|| format!("writing the overlay plot {}", plot.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cmp.rows)?);
    } else {
        print!("{}", cmp.table());
        if let Some(plot) = &args.plot {
            println!("overlay plot: {}", plot.display());
        }
    }
    for run in cmp.runs() {
        for note in &run.notes {
            eprintln!("note: {}: {note}", run.run_name);
        }
    }
    Ok(0)
}

/// `snuffer compare SWEEP_DIR`: the sweep's table, JSON, chart and page.
fn sweep(dir: &Path, args: &Args) -> anyhow::Result<u8> {
    let cmp = snuffer_report::SweepComparison::load(dir)
        .with_context(|| format!("reading the sweep {}", dir.display()))?;
    if let Some(plot) = &args.plot {
        let svg = cmp.chart_svg()?;
        snuffer_report::output::write_output(plot, svg.as_bytes(), &cmp.inputs())
            .with_context(|| format!("writing the sweep chart {}", plot.display()))?;
    }
    let files = match &args.html {
        Some(out) => Some(
            cmp.write(out)
                .with_context(|| format!("writing the sweep's page to {}", out.display()))?,
        ),
        None => None,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cmp.to_json())?);
    } else {
        print!("{}", cmp.table());
        if let Some(plot) = &args.plot {
            println!("sweep chart: {}", plot.display());
        }
        if let Some(f) = &files {
            println!("sweep page: {}", f.html.display());
        }
    }
    for note in &cmp.notes {
        eprintln!("note: {note}");
    }
    // The runs' own notes, each said once with the runs it concerns (in a sweep most runs
    // share them).
    let mut notes: Vec<(&str, Vec<&str>)> = Vec::new();
    for run in cmp.runs() {
        for note in &run.notes {
            match notes.iter_mut().find(|(n, _)| n == note) {
                Some((_, runs)) => runs.push(&run.run_name),
                None => notes.push((note, vec![&run.run_name])),
            }
        }
    }
    for (note, runs) in notes {
        match runs.as_slice() {
            [one] => eprintln!("note: {one}: {note}"),
            many => eprintln!("note: {} runs ({}): {note}", many.len(), many.join(", ")),
        }
    }
    Ok(0)
}
