//! `snuffer compare`: runs side by side, and (when asked) metric against energy for all
//! of them. Given one sweep directory (a directory of run directories, such as the one
//! given to `RunBuilder::sweep`), it prints the sweep's table instead: every run, the
//! sweep's total energy, the forecast saving of its stops and its best run; `--html DIR`
//! writes the sweep's page with one chart of every run's curve and its stop.

use anyhow::Context;
use std::path::{Path, PathBuf};

/// Arguments of `snuffer compare`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Which directories are what:\n  \
    a run directory (steps.jsonl or summary.json in it) is one run;\n  \
    one directory whose runs sit directly in it and all monitor one metric is a sweep: \
    its table, total energy, forecast saving and best run;\n  \
    any other directory (runs/, or a sweep example's root with its runs further down) \
    stands for every run directory below it, compared side by side, one table per metric.\n\n\
    Examples:\n  \
    snuffer compare runs/quickstart-full runs/quickstart-snuffer\n  \
    snuffer compare runs/*                           # every run, one table per metric\n  \
    snuffer compare runs/lr-search --out lr-page/    # a sweep and its page (--html too)\n  \
    snuffer compare runs/a runs/b --out page/ --plot overlay.svg")]
pub struct Args {
    /// Run directories to compare; a directory of run directories (a sweep, or `runs`)
    /// stands for all of its runs, and one such directory alone is compared as a sweep
    /// when its runs monitor one metric.
    #[arg(value_name = "RUN_DIR", required = true, num_args = 1..)]
    run_dirs: Vec<PathBuf>,
    /// Print JSON instead of a table (one object per run, or the sweep's object).
    #[arg(long)]
    json: bool,
    /// Also write the overlay plot (metric against energy, SVG) to FILE; for a sweep, the
    /// sweep's chart (every run's metric over steps, with its stop).
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Write the page (report.html and its chart) into DIR: the sweep's page for a sweep,
    /// else the runs' comparison (one page per metric, in DIR/<metric>/, when they monitor
    /// several).
    #[arg(long = "out", value_name = "DIR", visible_alias = "html")]
    html: Option<PathBuf>,
}

/// Whether `dir` is a run directory (it holds `steps.jsonl` or `summary.json`).
fn is_run(dir: &Path) -> bool {
    dir.join(snuffer_rundir::STEPS_FILE).is_file()
        || dir.join(snuffer_rundir::SUMMARY_FILE).is_file()
}

/// How deep below a directory argument run directories are looked for (a sweep example's
/// root holds `repeat-N/{full,snuffer}/<run>`: three levels).
const MAX_DEPTH: usize = 4;

/// The run directories at or below `dir` (depth-first, names in order; links followed only
/// when given, so `runs/latest` is not read twice and no link loop is followed).
fn runs_below(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if is_run(dir) {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    if depth == 0 {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    entries.sort();
    for e in entries {
        runs_below(&e, depth - 1, out)?;
    }
    Ok(())
}

/// A run directory stands for itself; any other directory for every run directory below
/// it (up to [`MAX_DEPTH`] levels); a path that is neither is passed on, so reading it
/// names the problem.
fn expand(dirs: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for d in dirs {
        if is_run(d) || !d.is_dir() {
            out.push(d.clone());
            continue;
        }
        let before = out.len();
        runs_below(d, MAX_DEPTH, &mut out)?;
        anyhow::ensure!(
            out.len() > before,
            "{} holds no run directories (no steps.jsonl or summary.json in it or up to \
             {MAX_DEPTH} levels below it)",
            d.display()
        );
    }
    Ok(out)
}

/// Whether `dir` is read as one sweep: it is not a run, its runs sit directly in it, none
/// of its other directories holds runs further down, and its runs monitor one metric.
fn is_sweep(dir: &Path) -> anyhow::Result<bool> {
    if !dir.is_dir() || is_run(dir) {
        return Ok(false);
    }
    let direct = snuffer_rundir::Sweep::open(dir)?.list_runs()?;
    if direct.is_empty() {
        return Ok(false);
    }
    let mut below = Vec::new();
    runs_below(dir, MAX_DEPTH, &mut below)?;
    if below.len() != direct.len() {
        return Ok(false);
    }
    let mut metrics: Vec<Option<String>> = direct
        .iter()
        .map(|r| snuffer_rundir::read_curve(r.clone()).metric_name)
        .collect();
    metrics.sort();
    metrics.dedup();
    Ok(metrics.len() <= 1)
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if let [dir] = args.run_dirs.as_slice() {
        if is_sweep(dir)? {
            return sweep(dir, &args);
        }
    }
    let dirs = expand(&args.run_dirs)?;
    let all = snuffer_report::Comparison::load(&dirs).context("reading run directories")?;
    // Runs of different metrics are never one table: their savings and bests do not compare.
    let groups = by_metric(&all);
    if let Some(plot) = &args.plot {
        snuffer_report::write_overlay(&all, plot)
            .with_context(|| format!("writing the overlay plot {}", plot.display()))?;
    }
    let mut pages = Vec::new();
    if let Some(out) = &args.html {
        for (metric, cmp) in &groups {
            let dir = if groups.len() == 1 {
                out.clone()
            } else {
                out.join(file_safe(metric))
            };
            let files = cmp
                .write(&dir)
                .with_context(|| format!("writing the comparison page to {}", dir.display()))?;
            pages.push(files.html);
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&all.rows)?);
    } else {
        for (i, (metric, cmp)) in groups.iter().enumerate() {
            if groups.len() > 1 {
                if i > 0 {
                    println!();
                }
                println!("{metric} ({} runs)", cmp.rows.len());
            }
            print!("{}", cmp.table());
        }
        if let Some(plot) = &args.plot {
            println!("overlay plot: {}", plot.display());
        }
        for p in &pages {
            println!("page: {}", p.display());
        }
    }
    if groups.len() > 1 {
        eprintln!(
            "note: these runs monitor {} metrics: one table per metric (savings compare runs \
             of one metric only)",
            groups.len()
        );
    }
    for run in all.runs() {
        for note in &run.notes {
            eprintln!("note: {}: {note}", run.run_name);
        }
    }
    Ok(0)
}

/// The runs of `all` grouped by metric, in the order the metrics first appear; each group
/// is its own comparison (its own longest finished run).
fn by_metric(all: &snuffer_report::Comparison) -> Vec<(String, snuffer_report::Comparison)> {
    let mut groups: Vec<(String, Vec<snuffer_report::RunData>)> = Vec::new();
    for r in all.runs() {
        let metric = r
            .metric_name
            .clone()
            .unwrap_or_else(|| "no metric".to_string());
        match groups.iter_mut().find(|(m, _)| *m == metric) {
            Some((_, runs)) => runs.push(r.clone()),
            None => groups.push((metric, vec![r.clone()])),
        }
    }
    groups
        .into_iter()
        .map(|(m, runs)| (m, snuffer_report::Comparison::from_runs(runs)))
        .collect()
}

/// A metric name as a directory name (`val/acc` → `val_acc`).
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
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
