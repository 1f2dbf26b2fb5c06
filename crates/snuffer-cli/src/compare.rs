//! `snuffer compare`: runs side by side, and (when asked) metric against energy for all
//! of them.

use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `snuffer compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directories to compare; a directory of run directories (a sweep, or `runs`)
    /// stands for all of its runs.
    #[arg(value_name = "RUN_DIR", required = true, num_args = 1..)]
    run_dirs: Vec<PathBuf>,
    /// Print one JSON object per run (an array) instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the overlay plot (metric against energy, SVG) to FILE.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
}

/// A run directory holds `steps.jsonl` or `summary.json`; any other directory is read as
/// a sweep of run directories.
fn expand(dirs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in dirs {
        let is_run = d.join(snuffer_rundir::STEPS_FILE).is_file()
            || d.join(snuffer_rundir::SUMMARY_FILE).is_file();
        if is_run || !d.is_dir() {
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
