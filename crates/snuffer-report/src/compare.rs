//! Several runs side by side.

use crate::charts;
use crate::error::ReportError;
use crate::load::RunData;
use crate::table;
use serde::Serialize;
use snuffer_energy::JOULES_PER_KWH;
use std::path::{Path, PathBuf};

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
    /// What happened: `stopped early by …`, `ran to its end`, `did not finish …`.
    pub status: String,
    /// The stop decision's message, if the run was stopped.
    pub stop_reason: Option<String>,
    /// Energy saved versus the longest run (joules; 0 for the longest itself).
    pub saved_vs_longest_j: f64,
    /// The same as a share of the longest run's energy (0..1), if it used any.
    pub saved_vs_longest_share: Option<f64>,
}

/// A comparison of run directories.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// One row per run, in the order given.
    pub rows: Vec<CompareRow>,
    /// Index of the longest run (most steps; energy breaks ties).
    pub longest: usize,
    runs: Vec<RunData>,
}

impl Comparison {
    /// Reads every directory (streaming, bounded memory each).
    pub fn load<P: AsRef<Path>>(dirs: &[P]) -> Result<Comparison, ReportError> {
        if dirs.is_empty() {
            return Err(ReportError::NoRuns);
        }
        let runs = dirs
            .iter()
            .map(|d| RunData::load_with(d, 500))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::from_runs(runs))
    }

    /// Builds the comparison from runs already read.
    pub fn from_runs(runs: Vec<RunData>) -> Comparison {
        let longest = runs
            .iter()
            .enumerate()
            .max_by(|(_, a), (_, b)| {
                a.steps()
                    .cmp(&b.steps())
                    .then(a.energy_j().total_cmp(&b.energy_j()))
            })
            .map_or(0, |(i, _)| i);
        let longest_j = runs.get(longest).map_or(0.0, |r| r.energy_j());
        let rows = runs
            .iter()
            .map(|r| {
                let best = r.best_metric();
                let saved = longest_j - r.energy_j();
                CompareRow {
                    run: r.run_name.clone(),
                    dir: r.dir.clone(),
                    steps: r.steps(),
                    energy_j: r.energy_j(),
                    energy_kwh: r.energy_j() / JOULES_PER_KWH,
                    duration_s: r.duration_s(),
                    metric: r.metric_name.clone(),
                    best_metric: best.map(|b| b.1),
                    best_step: best.map(|b| b.0),
                    status: table::status(r),
                    stop_reason: r.stop.as_ref().map(|s| {
                        s.decision
                            .message
                            .clone()
                            .or_else(|| s.decision.policy.clone())
                            .unwrap_or_else(|| "stop".into())
                    }),
                    saved_vs_longest_j: saved,
                    saved_vs_longest_share: (longest_j > 0.0).then(|| saved / longest_j),
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

    /// A plain-text table for a terminal.
    pub fn table(&self) -> String {
        let header = [
            "run",
            "steps",
            "energy",
            "time",
            "best",
            "status",
            "saved vs longest",
        ];
        let cells: Vec<[String; 7]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.run.clone(),
                    r.steps.to_string(),
                    format!("{:.6} kWh", r.energy_kwh),
                    table::duration(r.duration_s),
                    match (r.best_metric, r.best_step) {
                        (Some(m), Some(s)) => format!("{m:.4} @ {s}"),
                        _ => "-".into(),
                    },
                    r.status.clone(),
                    match r.saved_vs_longest_share {
                        Some(s) => format!(
                            "{:.6} kWh ({:.1} %)",
                            r.saved_vs_longest_j / JOULES_PER_KWH,
                            s * 100.0
                        ),
                        None => "-".into(),
                    },
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
}
