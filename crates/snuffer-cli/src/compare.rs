//! `snuffer compare`: runs side by side, and metric against energy for all of them.

use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `snuffer compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directories to compare.
    #[arg(value_name = "RUN_DIR", required = true, num_args = 1..)]
    run_dirs: Vec<PathBuf>,
    /// Print one JSON object per run (an array) instead of a table.
    #[arg(long)]
    json: bool,
    /// Where to write the overlay plot (metric against energy, SVG).
    #[arg(long, value_name = "FILE", default_value = "compare.svg")]
    plot: PathBuf,
    /// Do not write the overlay plot.
    #[arg(long, conflicts_with = "plot")]
    no_plot: bool,
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let cmp =
        snuffer_report::Comparison::load(&args.run_dirs).context("reading run directories")?;
    if !args.no_plot {
        snuffer_report::write_overlay(&cmp, &args.plot)
            .with_context(|| format!("writing the overlay plot {}", args.plot.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cmp.rows)?);
    } else {
        print!("{}", cmp.table());
        if !args.no_plot {
            println!("overlay plot: {}", args.plot.display());
        }
    }
    for run in cmp.runs() {
        for note in &run.notes {
            eprintln!("note: {}: {note}", run.run_name);
        }
    }
    Ok(0)
}
