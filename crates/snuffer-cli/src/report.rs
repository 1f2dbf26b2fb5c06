//! `snuffer report`: a self-contained HTML report (inline SVG) of a run directory, or of a
//! sweep directory (its runs' table and one chart of all their curves, as
//! `snuffer compare SWEEP --html DIR` writes it).

use anyhow::Context;
use std::path::PathBuf;

/// Arguments of `snuffer report`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snuffer report                               # the newest run (runs/latest)\n  \
    snuffer report runs/quickstart-snuffer --open\n  \
    snuffer report runs/lr-search --out lr-page/   # a sweep's page")]
pub struct Args {
    /// Run directory (holds steps.jsonl and, once finished, summary.json); runs/latest is
    /// the latest run started without an output directory. A sweep directory (a directory
    /// of run directories) gets the sweep's page.
    #[arg(value_name = "RUN_DIR", default_value = "runs/latest")]
    run_dir: PathBuf,
    /// Where to write report.html and the SVG charts [default: RUN_DIR/report].
    #[arg(long, value_name = "DIR", visible_alias = "html")]
    out: Option<PathBuf>,
    /// Open report.html in the default browser afterwards.
    #[arg(long)]
    open: bool,
}

/// The default run directory, the newest run started without an output directory.
const LATEST: &str = "runs/latest";

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.run_dir == std::path::Path::new(LATEST) && !args.run_dir.exists() {
        let cwd = std::env::current_dir().map_or_else(|_| ".".into(), |d| d.display().to_string());
        anyhow::bail!(
            "no run directory given, and there is no {LATEST} in {cwd} (it points at the newest \
             run started here without an output directory). Pass a run directory (one holding \
             steps.jsonl), e.g. `snuffer report runs/quickstart-snuffer` after \
             `cargo run --release --example quickstart`, or run this where your runs/ is"
        );
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run_dir.join("report"));
    let is_run = args.run_dir.join(snuffer_rundir::STEPS_FILE).is_file()
        || args.run_dir.join(snuffer_rundir::SUMMARY_FILE).is_file();
    let holds_runs = || {
        snuffer_rundir::Sweep::open(&args.run_dir)
            .and_then(|s| s.list_runs())
            .is_ok_and(|runs| !runs.is_empty())
    };
    if args.run_dir.is_dir() && !is_run && holds_runs() {
        // A directory of run directories: the sweep's page.
        let sweep = snuffer_report::SweepComparison::load(&args.run_dir)
            .with_context(|| format!("reading the sweep {}", args.run_dir.display()))?;
        let files = sweep
            .write(&out)
            .with_context(|| format!("writing the sweep's page to {}", out.display()))?;
        for note in &sweep.notes {
            eprintln!("note: {note}");
        }
        println!("{}", files.html.display());
        for svg in &files.svgs {
            println!("{}", svg.display());
        }
        if args.open {
            open(&files.html);
        }
        return Ok(0);
    }
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
