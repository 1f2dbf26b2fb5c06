//! Several runs side by side.

use crate::charts;
use crate::error::ReportError;
use crate::html::{page_with_table, Figure, Table};
use crate::load::RunData;
use crate::table;
use serde::Serialize;
use snuffer_energy::{Joules, JOULES_PER_KWH};
use std::path::{Path, PathBuf};

/// File name of the overlay chart inside a comparison page's directory.
pub const OVERLAY_FILE: &str = "overlay.svg";

/// One run in a comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareRow {
    /// Run name.
    pub run: String,
    /// Run directory.
    pub dir: PathBuf,
    /// Steps done.
    pub steps: u64,
    /// Energy used (joules).
    pub energy_j: f64,
    /// Energy used (kWh).
    pub energy_kwh: f64,
    /// Wall time (seconds).
    pub duration_s: f64,
    /// Monitored metric.
    pub metric: Option<String>,
    /// Best metric value.
    pub best_metric: Option<f64>,
    /// Step of the best metric.
    pub best_step: Option<u64>,
    /// What happened: `stopped early by …`, `ran to its end`, `crashed at step …`
    /// ([`snuffer_rundir::RunState`]).
    pub status: String,
    /// Whether the run ended through `finish()`, so its energy is complete.
    pub finished: bool,
    /// The stop decision's message, if the run was stopped.
    pub stop_reason: Option<String>,
    /// Energy saved, measured: the longest finished run's energy minus this run's
    /// (joules; 0 for that run itself; `None` for a run that did not finish, whose energy
    /// is incomplete).
    pub saved_vs_longest_j: Option<f64>,
    /// The same as a share of the longest finished run's energy (0..1).
    pub saved_vs_longest_share: Option<f64>,
    /// The run's own forecast saving versus its planned length (from its summary).
    pub forecast_saved_j: Option<f64>,
}

/// A comparison of run directories.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// One row per run, in the order given (a directory given twice, or through a link
    /// such as `runs/latest`, once).
    pub rows: Vec<CompareRow>,
    /// Index of the longest finished run (most steps; energy breaks ties), the reference
    /// of the measured savings; `None` when no run finished.
    pub longest: Option<usize>,
    runs: Vec<RunData>,
}

impl Comparison {
    /// Reads every directory (streaming, bounded memory each).
    pub fn load<P: AsRef<Path>>(dirs: &[P]) -> Result<Comparison, ReportError> {
        if dirs.is_empty() {
            return Err(ReportError::NoRuns);
        }
        let mut seen = std::collections::HashSet::new();
        let runs = dirs
            .iter()
            .filter(|d| seen.insert(std::fs::canonicalize(d).unwrap_or_else(|_| d.as_ref().into())))
            .map(|d| RunData::load_with(d, 500))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_runs(runs))
    }

    /// Builds the comparison from runs already read.
    pub fn from_runs(runs: Vec<RunData>) -> Comparison {
        let longest = runs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.status.state.is_finished())
            .max_by(|(_, a), (_, b)| {
                a.steps()
                    .cmp(&b.steps())
                    .then(a.energy_j().total_cmp(&b.energy_j()))
            })
            .map(|(i, _)| i);
        let longest_j = longest.map(|i| runs[i].energy_j());
        let names = table::distinct_names(&runs);
        let rows = runs
            .iter()
            .zip(names)
            .map(|(r, name)| {
                let best = r.best_metric();
                // Only a finished run's energy is complete: a crash at step 0 saved nothing.
                let saved = longest_j
                    .filter(|_| r.status.state.is_finished())
                    .map(|l| l - r.energy_j());
                CompareRow {
                    run: name,
                    dir: r.dir.clone(),
                    steps: r.steps(),
                    energy_j: r.energy_j(),
                    energy_kwh: r.energy_j() / JOULES_PER_KWH,
                    duration_s: r.duration_s(),
                    metric: r.metric_name.clone(),
                    best_metric: best.map(|b| b.1),
                    best_step: best.map(|b| b.0),
                    status: table::status(r),
                    finished: r.status.state.is_finished(),
                    stop_reason: r.stop.as_ref().map(|s| {
                        s.decision
                            .message
                            .clone()
                            .or_else(|| s.decision.policy.clone())
                            .unwrap_or_else(|| "stop".into())
                    }),
                    saved_vs_longest_j: saved,
                    saved_vs_longest_share: saved
                        .zip(longest_j.filter(|l| *l > 0.0))
                        .map(|(s, l)| s / l),
                    forecast_saved_j: r.summary.as_ref().and_then(|s| s.forecast_saved_j),
                }
            })
            .collect();
        Comparison {
            rows,
            longest,
            runs,
        }
    }

    /// The runs read.
    pub fn runs(&self) -> &[RunData] {
        &self.runs
    }

    /// Header of the saving column when every energy is a measurement.
    pub const SAVED_HEADER: &'static str = "saved (measured vs. longest finished run)";
    /// Header of the saving column when any energy is an estimate.
    pub const ESTIMATED_SAVED_HEADER: &'static str = "saved (estimated vs. longest finished run)";

    /// The saving column's header: measured only when every run's energy is a measurement.
    pub fn saved_header(&self) -> &'static str {
        let estimated = self
            .runs
            .iter()
            .any(|r| r.energy_provenance().is_none_or(|p| p.is_estimate()));
        if estimated {
            Self::ESTIMATED_SAVED_HEADER
        } else {
            Self::SAVED_HEADER
        }
    }

    /// A plain-text table for a terminal. Energies use the one formatter (J, kJ, Wh, kWh);
    /// the measured saving compares with the longest finished run and is `-` for runs
    /// that did not finish.
    pub fn table(&self) -> String {
        let header = [
            "run",
            "steps",
            "energy",
            "time",
            "best",
            "status",
            self.saved_header(),
        ];
        let cells: Vec<[String; 7]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.run.clone(),
                    r.steps.to_string(),
                    Joules(r.energy_j).to_string(),
                    table::duration(r.duration_s),
                    match (r.best_metric, r.best_step) {
                        (Some(m), Some(s)) => {
                            format!("{} @ {s}", snuffer_energy::significant(m, 4))
                        }
                        _ => "-".into(),
                    },
                    r.status.clone(),
                    self.saved_cell(r),
                ]
            })
            .collect();
        let mut widths = header.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cols: &[String]| {
            cols.iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let mut out = line(&header.map(String::from));
        out.push('\n');
        for row in &cells {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    /// The overlay plot of metric against energy for all runs (SVG).
    pub fn overlay_svg(&self) -> Result<String, ReportError> {
        charts::overlay_chart(&self.runs)
    }

    /// The self-contained HTML page of the comparison: the table (with each stop's
    /// sentence) and the overlay chart.
    pub fn html(&self) -> Result<String, ReportError> {
        let svg = self.overlay_svg()?;
        Ok(self.page(&svg))
    }

    fn page(&self, svg: &str) -> String {
        let mut t = Table {
            header: vec![
                "run".into(),
                "directory".into(),
                "steps".into(),
                "energy".into(),
                "best".into(),
                "status".into(),
                self.saved_header().into(),
                "stop reason".into(),
            ],
            rows: Vec::new(),
        };
        // The terminal table's figures, so the page and the terminal agree.
        for r in &self.rows {
            t.rows.push(vec![
                r.run.clone(),
                r.dir.display().to_string(),
                r.steps.to_string(),
                Joules(r.energy_j).to_string(),
                match (r.best_metric, r.best_step) {
                    (Some(m), Some(s)) => format!("{} @ {s}", snuffer_energy::significant(m, 4)),
                    _ => "-".into(),
                },
                r.status.clone(),
                self.saved_cell(r),
                r.stop_reason.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        let metrics: Vec<&str> =
            self.rows
                .iter()
                .filter_map(|r| r.metric.as_deref())
                .fold(Vec::new(), |mut v, m| {
                    if !v.contains(&m) {
                        v.push(m);
                    }
                    v
                });
        let caption = format!(
            "{} over cumulative energy, one line per run",
            if metrics.is_empty() {
                "metric".to_string()
            } else {
                metrics.join(", ")
            }
        );
        let figure = Figure {
            file: OVERLAY_FILE,
            caption: &caption,
            svg,
        };
        page_with_table(
            "Snuffer comparison",
            &format!("{} runs", self.rows.len()),
            &[],
            &[],
            Some(&t),
            &[figure],
        )
    }

    /// Writes `report.html` and the overlay chart into `out_dir` (created if needed).
    pub fn write(&self, out_dir: impl AsRef<Path>) -> Result<crate::ReportFiles, ReportError> {
        let out = out_dir.as_ref();
        std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
        let svg = self.overlay_svg()?;
        let chart = out.join(OVERLAY_FILE);
        std::fs::write(&chart, &svg).map_err(|e| ReportError::io(&chart, e))?;
        let html = out.join(crate::HTML_FILE);
        std::fs::write(&html, self.page(&svg)).map_err(|e| ReportError::io(&html, e))?;
        Ok(crate::ReportFiles {
            html,
            svgs: vec![chart],
        })
    }

    /// The saving cell of one row (measured or estimated by the header).
    fn saved_cell(&self, r: &CompareRow) -> String {
        match (r.saved_vs_longest_j, self.longest) {
            (Some(s), Some(l)) if self.rows[l].energy_j > 0.0 => {
                snuffer_rundir::measured_saving(Joules(s), Joules(self.rows[l].energy_j))
            }
            (Some(s), _) => Joules(s).to_string(),
            _ => "-".into(),
        }
    }
}
