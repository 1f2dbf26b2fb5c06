//! `snuffer report`: a self-contained HTML report (inline SVG) of a run directory.

use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `snuffer report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run directory (holds steps.jsonl and, once finished, summary.json); runs/latest is
    /// the latest run started without an output directory.
    #[arg(value_name = "RUN_DIR", default_value = "runs/latest")]
    run_dir: PathBuf,
    /// Where to write report.html and the SVG charts [default: RUN_DIR/report].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Open report.html in the default browser afterwards.
    #[arg(long)]
    open: bool,
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run_dir.join("report"));
    let report = snuffer_report::Report::from_dir(&args.run_dir)
        .with_context(|| format!("reading run directory {}", args.run_dir.display()))?;
    let files = report
        .write(&out)
        .with_context(|| format!("writing the report to {}", out.display()))?;
    for note in &report.run().notes {
        eprintln!("note: {note}");
    }
    println!("{}", files.html.display());
    for svg in &files.svgs {
        println!("{}", svg.display());
    }
    if args.open {
        open(&files.html);
    }
    Ok(0)
}

/// Opens a file with the desktop's handler; failing to is a warning, since
/// the report itself was written.
fn open(path: &std::path::Path) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(target_os = "windows") {
        "explorer"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(opener).arg(path).status() {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!(
            "warning: {opener} exited with {s}; open {} yourself",
            path.display()
        ),
        Err(e) => eprintln!(
            "warning: cannot run {opener} ({e}); open {} yourself",
            path.display()
        ),
    }
}
