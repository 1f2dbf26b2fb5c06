//! Renders a report's chart to PNG (e.g. for a README) with resvg.
//!
//! ```text
//! cargo run -p snuffer-report --example report_png -- RUN_DIR OUT.png [CHART.svg]
//! cargo run -p snuffer-report --example report_png -- SWEEP_DIR OUT.png
//! cargo run -p snuffer-report --example report_png -- --synthetic OUT.png
//! ```
//!
//! With `--synthetic` it first writes a replay-like synthetic run directory
//! (stopped early by the marginal-gain policy) to a temporary directory, or
//! to `$SNUFFER_SYNTHETIC_DIR` when that is set (to look at it afterwards).
//! System fonts are loaded so the axis labels and legend show.

use anyhow::Context;
use resvg::{tiny_skia, usvg};
use snuffer_report::synthetic::SyntheticRun;
use snuffer_report::{Report, SweepComparison, MAIN_CHART_FILE};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (source, out) = match args.as_slice() {
        [s, o, ..] => (s.clone(), o.clone()),
        _ => anyhow::bail!("usage: report_png RUN_DIR|--synthetic OUT.png [CHART.svg]"),
    };
    let chart = args.get(2).map_or(MAIN_CHART_FILE, String::as_str);
    let tmp = tempfile::tempdir()?;
    let run_dir = if source == "--synthetic" {
        let dir = match std::env::var_os("SNUFFER_SYNTHETIC_DIR") {
            Some(d) => std::path::PathBuf::from(d),
            None => tmp.path().join("synthetic-mlp"),
        };
        SyntheticRun {
            name: "synthetic-mlp".into(),
            steps: 1_800,
            planned_steps: 3_000,
            stopped: true,
            ..SyntheticRun::default()
        }
        .write(&dir)?;
        dir
    } else {
        source.into()
    };
    let is_run = run_dir.join(snuffer_rundir::STEPS_FILE).is_file()
        || run_dir.join(snuffer_rundir::SUMMARY_FILE).is_file();
    let svg = if run_dir.is_dir() && !is_run {
        // A sweep directory: its chart of every run's curve.
        SweepComparison::load(&run_dir)?.chart_svg()?
    } else {
        let report = Report::from_dir(&run_dir)?;
        report
            .charts()
            .iter()
            .find(|c| c.file == chart)
            .with_context(|| format!("no chart named {chart}"))?
            .svg
            .clone()
    };
    let svg = &svg;
    let mut opt = usvg::Options::default();
    let db = opt.fontdb_mut();
    db.load_system_fonts();
    // plotters writes font-family="sans-serif"; fontdb maps that generic
    // family to Arial, which Linux machines rarely have: point it at a
    // family that is installed.
    let families: Vec<String> = db
        .faces()
        .filter_map(|f| f.families.first().map(|(name, _)| name.clone()))
        .collect();
    let preferred = [
        "DejaVu Sans",
        "Liberation Sans",
        "Noto Sans",
        "Arial",
        "Helvetica",
    ];
    match preferred
        .iter()
        .find(|p| families.iter().any(|f| f == *p))
        .map(|p| p.to_string())
        .or_else(|| families.first().cloned())
    {
        Some(family) => db.set_sans_serif_family(family),
        None => eprintln!("no system fonts found: the PNG will have no text"),
    }
    let tree = usvg::Tree::from_str(svg, &opt)?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).context("pixmap")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap
        .save_png(&out)
        .with_context(|| format!("writing {out}"))?;
    println!(
        "wrote {out} ({}x{}) from {}",
        size.width(),
        size.height(),
        run_dir.display()
    );
    Ok(())
}
