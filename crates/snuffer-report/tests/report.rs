//! End-to-end: synthetic run directories → report files that parse and draw.

use anyhow::Context;
use resvg::{tiny_skia, usvg};
use snuffer_report::synthetic::SyntheticRun;
use snuffer_report::{Comparison, Report, ReportError, RunData, CHART_SIZE, PLOT_MARGIN};
use std::path::Path;

/// Renders an SVG with no fonts at all (text is skipped, lines must still
/// draw) and counts non-white pixels inside the plot area.
fn inked_pixels(svg: &str) -> anyhow::Result<usize> {
    let tree = usvg::Tree::from_str(svg, &usvg::Options::default()).context("usvg parse")?;
    let size = tree.size().to_int_size();
    assert_eq!((size.width(), size.height()), CHART_SIZE);
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).context("pixmap")?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let (w, h) = (size.width(), size.height());
    let mut inked = 0;
    for y in PLOT_MARGIN..h - PLOT_MARGIN {
        for x in PLOT_MARGIN..w - PLOT_MARGIN {
            let p = pixmap.pixel(x, y).context("pixel")?;
            if p.alpha() > 0 && (p.red() < 200 || p.green() < 200 || p.blue() < 200) {
                inked += 1;
            }
        }
    }
    Ok(inked)
}

fn parse_xml(text: &str, what: &str) -> anyhow::Result<()> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, opts)
        .with_context(|| format!("{what} is not well-formed"))?;
    Ok(())
}

fn write(run: SyntheticRun, dir: &Path) -> anyhow::Result<()> {
    run.write(dir).context("writing synthetic run")
}

#[test]
fn finished_run_reports_every_chart_and_the_oracle() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let run_dir = tmp.path().join("finished");
    write(
        SyntheticRun {
            name: "finished & <checked>".into(),
            ..SyntheticRun::default()
        },
        &run_dir,
    )?;
    let report = Report::from_dir(&run_dir)?;
    let oracle = report
        .run()
        .oracle
        .as_ref()
        .context("a finished run with τ has an oracle")?;
    assert!(oracle.utility >= oracle.utility_at_end);
    assert!(
        oracle.at.step < 3_000,
        "with τ = 50/kWh the oracle stops before the end"
    );
    let files = report.write(tmp.path().join("out"))?;
    let html = std::fs::read_to_string(&files.html)?;
    parse_xml(&html, "report.html")?;
    assert!(
        html.contains("finished &amp; &lt;checked&gt;"),
        "run name is escaped"
    );
    assert!(html.contains("Hindsight oracle"));
    assert!(html.contains("Energy — gpu:0"));
    assert!(
        !html.contains("http://") || !html.contains("<script"),
        "no scripts"
    );
    assert!(
        !html.contains("<link") && !html.contains("src=\"http"),
        "no network resources"
    );
    assert_eq!(html.matches("<svg").count(), 4, "four inline charts");
    for svg_path in &files.svgs {
        let svg = std::fs::read_to_string(svg_path)?;
        parse_xml(&svg, &svg_path.display().to_string())?;
        let inked = inked_pixels(&svg)?;
        assert!(
            inked > 500,
            "{} draws only {inked} pixels in its plot area",
            svg_path.display()
        );
    }
    let power = std::fs::read_to_string(tmp.path().join("out/power.svg"))?;
    assert!(
        power.contains("cpu-estimate — estimated (dashed)"),
        "legend names the estimate"
    );
    assert!(power.contains("gpu:0 — counter"));
    let main = std::fs::read_to_string(tmp.path().join("out/metric_steps.svg"))?;
    assert!(main.contains("hindsight oracle"));
    // Issue 19: a run that went to its end has no forecast ahead of it: no band or median
    // is drawn, and the legend names none.
    assert!(
        !main.contains("forecast 80 % band"),
        "legend lists an undrawn band"
    );
    assert!(
        !main.contains("forecast median"),
        "legend lists an undrawn median"
    );
    let html = std::fs::read_to_string(tmp.path().join("out/report.html"))?;
    assert!(
        !html.contains("Forecast of the full run") && html.contains("recorded, not forecast"),
        "a finished run's full run is recorded, not forecast"
    );
    Ok(())
}

#[test]
fn stopped_run_shows_stop_evidence_forecast_and_savings() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    write(
        SyntheticRun {
            steps: 1_200,
            stopped: true,
            ..SyntheticRun::default()
        },
        tmp.path(),
    )?;
    let report = Report::from_dir(tmp.path())?;
    let stop = report.run().stop.as_ref().context("stop point")?;
    assert_eq!(stop.at.step, 1_200);
    assert!(
        report.run().oracle.is_none(),
        "a stopped run has no hindsight oracle"
    );
    let (fstep, _) = report
        .run()
        .forecast
        .as_ref()
        .context("forecast at the stop")?;
    assert_eq!(*fstep, 1_200);
    let html = report.html();
    for needle in [
        "Stop reason",
        "marginal_gain at step 1200",
        "gain_rate_per_kwh",
        "Forecast of the full run",
        "Forecast saving",
        "of the forecast full run",
    ] {
        assert!(html.contains(needle), "missing {needle:?}");
    }
    let main = &report.charts()[0].svg;
    assert!(main.contains("stop at step 1200"));
    assert!(inked_pixels(main)? > 500);
    Ok(())
}

#[test]
fn crashed_run_with_torn_last_line_still_reports() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    write(
        SyntheticRun {
            steps: 800,
            crash: true,
            ..SyntheticRun::default()
        },
        tmp.path(),
    )?;
    let report = Report::from_dir(tmp.path())?;
    assert!(report.run().truncated);
    assert!(report.run().summary.is_none());
    assert_eq!(report.run().last_step, 800);
    let html = report.html();
    parse_xml(&html, "report.html")?;
    assert!(
        html.contains("the run did not finish"),
        "note about the crash"
    );
    assert!(
        html.contains("crashed at step 800 (steps.jsonl ends in a torn line)"),
        "one status for the crash"
    );
    Ok(())
}

#[test]
fn a_directory_that_is_not_a_run_is_a_clear_error() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let err = Report::from_dir(tmp.path()).expect_err("empty dir");
    assert!(matches!(err, ReportError::NotARunDir { .. }), "{err:?}");
    assert!(err.to_string().contains("not a Snuffer run directory"));
    let err = Report::from_dir(tmp.path().join("missing")).expect_err("missing dir");
    assert!(matches!(err, ReportError::NotARunDir { .. }), "{err:?}");
    Ok(())
}

#[test]
fn a_damaged_middle_line_names_its_line_number() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    write(
        SyntheticRun {
            steps: 300,
            ..SyntheticRun::default()
        },
        tmp.path(),
    )?;
    let path = tmp.path().join("steps.jsonl");
    let text = std::fs::read_to_string(&path)?;
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "{not json";
    std::fs::write(&path, lines.join("\n"))?;
    let err = RunData::load(tmp.path()).expect_err("damaged file");
    match err {
        ReportError::RunDir(snuffer_rundir::RunDirError::BadLine { line, .. }) => {
            assert_eq!(line, 4)
        }
        other => anyhow::bail!("wrong error {other:?}"),
    }
    Ok(())
}

#[test]
fn bad_summary_is_a_clear_error() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    write(
        SyntheticRun {
            steps: 200,
            ..SyntheticRun::default()
        },
        tmp.path(),
    )?;
    std::fs::write(tmp.path().join("summary.json"), "{}")?;
    let err = RunData::load(tmp.path()).expect_err("bad summary");
    assert!(
        matches!(
            err,
            ReportError::RunDir(snuffer_rundir::RunDirError::BadSummary { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("delete it"));
    Ok(())
}

#[test]
fn long_runs_are_downsampled_with_bounded_output() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    write(
        SyntheticRun {
            steps: 60_000,
            planned_steps: 60_000,
            log_every: 1,
            eval_every: 20,
            step_seconds: 0.01,
            ..SyntheticRun::default()
        },
        tmp.path(),
    )?;
    let run = RunData::load_with(tmp.path(), 200)?;
    assert_eq!(run.evals, 3_000);
    assert!(run.metric_by_step.points().len() <= 800);
    for d in &run.domains {
        assert!(
            d.power.points().len() <= 800 && d.energy.points().len() <= 800,
            "{}",
            d.name
        );
    }
    let report = Report::new(run)?;
    for c in report.charts() {
        assert!(c.svg.len() < 400_000, "{} is {} bytes", c.file, c.svg.len());
    }
    Ok(())
}

#[test]
fn compare_puts_runs_side_by_side() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let full = tmp.path().join("full");
    let early = tmp.path().join("early");
    write(
        SyntheticRun {
            name: "full".into(),
            ..SyntheticRun::default()
        },
        &full,
    )?;
    write(
        SyntheticRun {
            name: "early".into(),
            steps: 1_000,
            stopped: true,
            ..SyntheticRun::default()
        },
        &early,
    )?;
    let cmp = Comparison::load(&[&early, &full])?;
    assert_eq!(cmp.longest, Some(1));
    let (e, f) = (&cmp.rows[0], &cmp.rows[1]);
    assert_eq!((e.steps, f.steps), (1_000, 3_000));
    assert_eq!(f.saved_vs_longest_j, Some(0.0));
    let share = e.saved_vs_longest_share.context("share")?;
    assert!((share - 2.0 / 3.0).abs() < 0.02, "saved share {share}");
    assert!(e.status.starts_with("stopped early"));
    assert_eq!(f.status, "ran to its end");
    let table = cmp.table();
    assert!(table.lines().count() == 3 && table.contains("early") && table.contains("%"));
    // Issue 19: the synthetic runs' totals include a CPU estimate, so the saving is worded
    // as estimated, never as measured.
    assert!(
        table.contains("saved (estimated vs. longest finished run)") && !table.contains("measured"),
        "{table}"
    );
    // Joule-sized runs read in J, kJ or Wh, never "0.000000 kWh".
    assert!(!table.contains("0.000000"), "{table}");
    let svg = cmp.overlay_svg()?;
    parse_xml(&svg, "overlay")?;
    assert!(inked_pixels(&svg)? > 500);
    assert!(matches!(
        Comparison::load::<&Path>(&[]),
        Err(ReportError::NoRuns)
    ));
    Ok(())
}

/// Issue 19: two runs of one name (a `char_lm` run made twice) get distinct rows, and two
/// runs get a comparison page like a sweep does.
#[test]
fn compared_runs_have_distinct_names_and_a_page() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (a, b) = (tmp.path().join("lm-1"), tmp.path().join("lm-2"));
    for (dir, stopped) in [(&a, true), (&b, false)] {
        write(
            SyntheticRun {
                name: "char-lm-full".into(),
                steps: if stopped { 1_000 } else { 3_000 },
                stopped,
                ..SyntheticRun::default()
            },
            dir,
        )?;
    }
    let cmp = Comparison::load(&[&a, &b])?;
    let names: Vec<&str> = cmp.rows.iter().map(|r| r.run.as_str()).collect();
    assert_eq!(names, ["char-lm-full (lm-1)", "char-lm-full (lm-2)"]);
    let files = cmp.write(tmp.path().join("page"))?;
    let html = std::fs::read_to_string(&files.html)?;
    parse_xml(&html, "comparison page")?;
    assert!(html.contains("char-lm-full (lm-2)") && html.contains("<svg"));
    Ok(())
}

mod torn_logs {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// A log cut at any byte (a crash mid-write) still reports, and says
        /// so whenever the cut left a partial line; it never panics.
        #[test]
        fn any_cut_still_reports(cut in 0.0f64..1.0) {
            let tmp = tempfile::tempdir().unwrap();
            SyntheticRun { steps: 200, crash: true, ..SyntheticRun::default() }.write(tmp.path()).unwrap();
            let path = tmp.path().join("steps.jsonl");
            let bytes = std::fs::read(&path).unwrap();
            let at = ((bytes.len() as f64) * cut) as usize;
            std::fs::write(&path, &bytes[..at]).unwrap();
            let whole_lines = bytes[..at].iter().filter(|&&b| b == b'\n').count();
            match RunData::load(tmp.path()) {
                Ok(run) => {
                    let partial = !bytes[..at].ends_with(b"\n") && at > 0;
                    let tail = &bytes[bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)..at];
                    let tail_parses = serde_json::from_slice::<serde_json::Value>(tail).is_ok();
                    prop_assert_eq!(run.truncated, partial && !tail_parses);
                    prop_assert!(run.lines as usize >= whole_lines);
                    if run.truncated {
                        prop_assert!(run.notes.iter().any(|n| n.contains("did not finish")));
                    }
                    prop_assert!(Report::new(run).is_ok());
                }
                Err(ReportError::Empty { .. }) => prop_assert_eq!(whole_lines, 0),
                Err(e) => prop_assert!(false, "cut at {} of {}: {}", at, bytes.len(), e),
            }
        }
    }
}
