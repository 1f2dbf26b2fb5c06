//! Reports for Snuffer run directories: a self-contained HTML page with SVG
//! charts, side-by-side comparisons of runs, and sweeps ([`SweepComparison`]: every run
//! of a sweep directory, its total energy, the forecast saving of its stops, its best run
//! and one chart of all its curves).
//!
//! A run directory (see [`snuffer_rundir`]) is read in one streaming pass:
//! every plotted series goes through a min/max [`Downsampler`], so a
//! million-step run reports in bounded memory and the charts keep its spikes.
//!
//! ```
//! use snuffer_report::{synthetic::SyntheticRun, Report};
//!
//! let tmp = tempfile::tempdir()?;
//! let run_dir = tmp.path().join("run");
//! SyntheticRun { steps: 1_500, stopped: true, ..SyntheticRun::default() }.write(&run_dir)?;
//!
//! let report = Report::from_dir(&run_dir)?;
//! let files = report.write(tmp.path().join("report"))?;
//! assert!(files.html.ends_with("report.html"));
//! assert_eq!(files.svgs.len(), 4);
//! assert!(report.html().contains("Stop reason"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod charts;
mod compare;
mod downsample;
mod error;
mod html;
mod load;
pub mod output;
mod sweep;
pub mod synthetic;
mod table;

pub use charts::replayed::{replayed_chart, replayed_page, PageChart, ReplayedRun};
pub use charts::{CHART_SIZE, PLOT_MARGIN};
pub use compare::{CompareRow, Comparison, OVERLAY_FILE};
pub use downsample::Downsampler;
pub use error::ReportError;
pub use load::{DomainSeries, EvalPoint, Oracle, RunData, StopPoint, DEFAULT_BUCKETS};
pub use sweep::{FullLength, SweepComparison, SweepRow, SWEEP_CHART_FILE};
pub use table::{distinct_names, footprint_details, Row};

use charts::MetricAxis;
use std::path::{Path, PathBuf};

/// File name of the HTML page inside the output directory.
pub const HTML_FILE: &str = "report.html";
/// File name of the main chart (metric over steps, with forecast, stop, best and oracle).
pub const MAIN_CHART_FILE: &str = "metric_steps.svg";

/// One chart of a report.
#[derive(Debug, Clone)]
pub struct Chart {
    /// File name the SVG is written to.
    pub file: &'static str,
    /// Caption shown under it.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// What [`Report::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// The HTML page.
    pub html: PathBuf,
    /// The SVG files, main chart first.
    pub svgs: Vec<PathBuf>,
}

/// A report of one run: its data, charts and summary table.
#[derive(Debug, Clone)]
pub struct Report {
    run: RunData,
    charts: Vec<Chart>,
}

impl Report {
    /// Reads a run directory and draws its charts.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Report, ReportError> {
        Report::new(RunData::load(dir)?)
    }

    /// Draws the charts of a run already read.
    pub fn new(run: RunData) -> Result<Report, ReportError> {
        let mut charts = Vec::new();
        if run.lines > 0 {
            let metric = run.metric_name.as_deref().unwrap_or("metric").to_string();
            charts.push(Chart {
                file: MAIN_CHART_FILE,
                caption: format!(
                    "{metric} over optimizer steps: evaluations, the forecast median and band as \
                     they stood at the stop, the stop, the best point and (runs that went to \
                     their end) the hindsight oracle"
                ),
                svg: charts::metric_chart(&run, MetricAxis::Steps)?,
            });
            charts.push(Chart {
                file: "metric_energy.svg",
                caption: format!(
                    "{metric} over cumulative energy (in the unit on the axis); the forecast is \
                     placed on the energy axis at the run's own forecast of its energy, ending at \
                     the table's forecast energy of the full run"
                ),
                svg: charts::metric_chart(&run, MetricAxis::Energy)?,
            });
            charts.push(Chart {
                file: "power.svg",
                caption: "Mean power per domain between log lines; estimates are dashed, \
                          measurements (counters, integrated power) solid"
                    .into(),
                svg: charts::domain_chart(&run, true)?,
            });
            charts.push(Chart {
                file: "energy.svg",
                caption: "Cumulative energy per domain; estimates are dashed".into(),
                svg: charts::domain_chart(&run, false)?,
            });
        }
        Ok(Report { run, charts })
    }

    /// The run's data.
    pub fn run(&self) -> &RunData {
        &self.run
    }

    /// The charts, main chart first.
    pub fn charts(&self) -> &[Chart] {
        &self.charts
    }

    /// The summary table rows.
    pub fn rows(&self) -> Vec<Row> {
        table::rows(&self.run)
    }

    /// The self-contained HTML page.
    pub fn html(&self) -> String {
        let subtitle = format!(
            "{} — {}",
            self.run.dir.display(),
            self.run
                .summary
                .as_ref()
                .map(|s| format!("started {}", s.started_at))
                .unwrap_or_else(|| "start time unknown (no summary.json)".into())
        );
        let figures: Vec<html::Figure<'_>> = self
            .charts
            .iter()
            .map(|c| html::Figure {
                file: c.file,
                caption: &c.caption,
                svg: &c.svg,
            })
            .collect();
        html::page(
            &format!("Snuffer report: {}", self.run.run_name),
            &subtitle,
            &self.run.notes,
            &self.rows(),
            &figures,
        )
    }

    /// Writes `report.html` and the SVG files into `out_dir` (created if needed); refuses
    /// before writing anything when one of them is a symbolic link or one of the run's own
    /// files ([`output`]).
    pub fn write(&self, out_dir: impl AsRef<Path>) -> Result<ReportFiles, ReportError> {
        let out = out_dir.as_ref();
        std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
        let mut inputs = output::Inputs::new();
        inputs.add(&self.run.dir);
        let html = out.join(HTML_FILE);
        let svgs: Vec<PathBuf> = self.charts.iter().map(|c| out.join(c.file)).collect();
        let mut all = svgs.clone();
        all.push(html.clone());
        output::check_outputs(&all, &inputs)?;
        for (c, path) in self.charts.iter().zip(&svgs) {
            output::write_output(path, c.svg.as_bytes(), &inputs)?;
        }
        output::write_output(&html, self.html().as_bytes(), &inputs)?;
        Ok(ReportFiles { html, svgs })
    }
}

/// Writes the comparison overlay (metric against energy) to `path`.
pub fn write_overlay(comparison: &Comparison, path: impl AsRef<Path>) -> Result<(), ReportError> {
    let path = path.as_ref();
    let svg = comparison.overlay_svg()?;
    let mut inputs = output::Inputs::new();
    for run in comparison.runs() {
        inputs.add(&run.dir);
    }
    output::write_output(path, svg.as_bytes(), &inputs)
}
