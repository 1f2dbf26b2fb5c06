//! A sweep directory as one table and one page: every run (how it ended, steps, energy with
//! provenance, best metric), the sweep's total energy, the energy its stops saved against
//! the runs' full planned length — a forecast, since a stopped run's full length was never
//! run — and the sweep's best run; the page adds one chart of every run's curve with its
//! stop.

use crate::charts;
use crate::error::ReportError;
use crate::html::{page_with_table, Figure, Table};
use crate::load::RunData;
use crate::table::{self, Row};
use serde::Serialize;
use snuffer_energy::{percent, significant, Joules, Provenance};
use snuffer_rundir::{RunState, FORECAST_SAVING};
use std::path::{Path, PathBuf};

/// File name of the sweep chart inside the output directory.
pub const SWEEP_CHART_FILE: &str = "sweep_curves.svg";

/// Where a run's full-length energy comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FullLength {
    /// The run went to its end: its energy, measured (with its provenance).
    Measured,
    /// The run was stopped: its own forecast of the full plan, made at the stop
    /// (`summary.json` `forecast_full_energy_j`).
    Forecast,
    /// The run was stopped and recorded no forecast: its energy per step so far × its
    /// planned steps (a forecast too).
    PlannedSteps,
}

impl FullLength {
    /// In words, for the table and the page.
    pub fn describe(self) -> &'static str {
        match self {
            FullLength::Measured => "ran to its end (its own energy, with its provenance)",
            FullLength::Forecast => "its forecast at the stop",
            FullLength::PlannedSteps => "energy per step × planned steps",
        }
    }
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    /// Run name.
    pub run: String,
    /// Run directory.
    pub dir: PathBuf,
    /// How it ended: `stopped early by … at step …`, `ran to its end`, … ([`RunState`]).
    pub status: String,
    /// The policy that stopped it (`marginal_gain`, `sweep`, …), if one did.
    pub stop_policy: Option<String>,
    /// The stop decision's sentence, if one stopped it.
    pub stop_reason: Option<String>,
    /// Whether it ended through `finish()`, so its energy is complete.
    pub finished: bool,
    /// Steps done.
    pub steps: u64,
    /// Planned steps, when known.
    pub planned_steps: Option<u64>,
    /// Energy used (J).
    pub energy_j: f64,
    /// Relative uncertainty of that energy.
    pub energy_uncertainty: f64,
    /// Provenance of that energy (`counter`, `integrated_power`, `estimated`).
    pub provenance: String,
    /// The monitored metric.
    pub metric: Option<String>,
    /// Whether higher is better.
    pub higher_is_better: bool,
    /// Best metric value.
    pub best_metric: Option<f64>,
    /// Step of the best metric.
    pub best_step: Option<u64>,
    /// Energy of the run's full planned length (J): measured for a run that went to its
    /// end, forecast for a stopped one; `None` for a run that did not finish.
    pub full_length_j: Option<f64>,
    /// Where `full_length_j` comes from.
    pub full_length: Option<FullLength>,
    /// The run's saving against its full length (J): 0 for a run that went to its end, the
    /// run's own forecast saving (`summary.json` `forecast_saved_j`, the figure of its stop
    /// line and its report) for a stopped one; `None` when not in the saving.
    pub saved_j: Option<f64>,
}

/// A sweep directory read for its table and page.
#[derive(Debug, Clone)]
pub struct SweepComparison {
    /// The sweep directory.
    pub dir: PathBuf,
    /// One row per run, in the order the runs started.
    pub rows: Vec<SweepRow>,
    /// The sweep's metric (the one most of its runs monitor) and whether higher is better.
    pub metric: Option<(String, bool)>,
    /// Total energy of every run (J), finished or not.
    pub total_energy_j: f64,
    /// Its relative uncertainty (the runs' uncertainties added linearly: runs measured the
    /// same way share their systematic error).
    pub total_uncertainty: f64,
    /// Its provenance: the weakest of the runs'.
    pub total_provenance: Option<Provenance>,
    /// Energy of the finished runs' full planned lengths (J): measured for runs that went
    /// to their end, forecast for stopped ones ([`FullLength`]).
    pub forecast_full_j: Option<f64>,
    /// That minus what the finished runs used (J): the **forecast** saving of the sweep's
    /// stops.
    pub forecast_saved_j: Option<f64>,
    /// Number of finished runs in the saving.
    pub saving_runs: usize,
    /// Index of the best run (best metric among the runs of the sweep's metric).
    pub best: Option<usize>,
    /// What the reader should know (runs left out of the saving or of the best, …).
    pub notes: Vec<String>,
    runs: Vec<RunData>,
}

/// The JSON form of a [`SweepComparison`] (`snuffer compare SWEEP --json`).
#[derive(Debug, Clone, Serialize)]
struct SweepJson<'a> {
    sweep: &'a Path,
    metric: Option<&'a str>,
    higher_is_better: Option<bool>,
    runs: &'a [SweepRow],
    total_energy_j: f64,
    total_energy_uncertainty: f64,
    total_energy_provenance: Option<&'a Provenance>,
    forecast_full_sweep_j: Option<f64>,
    forecast_saved_j: Option<f64>,
    forecast_saved_share: Option<f64>,
    forecast_saving_runs: usize,
    best_run: Option<&'a str>,
    notes: &'a [String],
}

impl SweepComparison {
    /// Reads every run of the sweep directory `dir` (in the order they started).
    ///
    /// A run that cannot be read ([`RunData::load`]: a damaged log, a `summary.json` of
    /// another run, negative energy) or whose `summary.json` is a copy of another's is left
    /// out and named in the notes. Errors: `dir` cannot be listed, holds no run
    /// directories, or none of its runs can be read (the first one's error).
    pub fn load(dir: impl AsRef<Path>) -> Result<SweepComparison, ReportError> {
        let dir = dir.as_ref();
        let runs = snuffer_rundir::Sweep::open(dir)?.list_runs()?;
        if runs.is_empty() {
            return Err(ReportError::NotASweep {
                path: dir.to_path_buf(),
            });
        }
        // A damaged run is left out and named; the others are still compared.
        let mut loaded = Vec::new();
        let mut left_out = Vec::new();
        let mut first_error = None;
        for r in runs {
            match RunData::load_with(&r.dir, 500) {
                Ok(data) => loaded.push(data),
                Err(e) => {
                    left_out.push(format!("{} ({e})", r.dir.display()));
                    first_error.get_or_insert(e);
                }
            }
        }
        // Two directories holding the same summary (one copied from the other): the
        // second is not another run.
        let mut seen = std::collections::HashSet::new();
        loaded.retain(|d| match &d.summary {
            Some(s) if !seen.insert((s.run_name.clone(), s.started_at.clone())) => {
                left_out.push(format!(
                    "{} (its summary.json is a copy of run {:?}'s, started {})",
                    d.dir.display(),
                    s.run_name,
                    s.started_at
                ));
                false
            }
            _ => true,
        });
        if loaded.is_empty() {
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        let mut cmp = SweepComparison::from_runs(dir, loaded);
        if !left_out.is_empty() {
            cmp.notes.insert(
                0,
                format!(
                    "{} run(s) left out, unreadable: {}",
                    left_out.len(),
                    left_out.join("; ")
                ),
            );
        }
        Ok(cmp)
    }

    /// The comparison of runs already read, as the sweep `dir`.
    pub fn from_runs(dir: impl Into<PathBuf>, runs: Vec<RunData>) -> SweepComparison {
        let mut notes = Vec::new();
        let rows: Vec<SweepRow> = runs
            .iter()
            .zip(table::distinct_names(&runs))
            .map(|(r, name)| SweepRow {
                run: name,
                ..row(r)
            })
            .collect();
        let metric = sweep_metric(&rows);
        let total_energy_j: f64 = rows.iter().map(|r| r.energy_j).sum();
        let total_uncertainty = if total_energy_j > 0.0 {
            rows.iter()
                .map(|r| r.energy_uncertainty * r.energy_j)
                .sum::<f64>()
                / total_energy_j
        } else {
            0.0
        };
        let total_provenance = runs
            .iter()
            .filter_map(RunData::energy_provenance)
            .reduce(|a, b| a.combine(&b));
        let unfinished: Vec<&str> = rows
            .iter()
            .filter(|r| !r.finished)
            .map(|r| r.run.as_str())
            .collect();
        if !unfinished.is_empty() {
            notes.push(format!(
                "{} run(s) did not finish ({}): their energy so far is in the total, but not \
                 in the saving",
                unfinished.len(),
                unfinished.join(", ")
            ));
        }
        let no_plan: Vec<&str> = rows
            .iter()
            .filter(|r| r.finished && r.full_length.is_none())
            .map(|r| r.run.as_str())
            .collect();
        if !no_plan.is_empty() {
            notes.push(format!(
                "{} stopped run(s) recorded neither a forecast of their full length nor a plan \
                 ({}): they are left out of the saving",
                no_plan.len(),
                no_plan.join(", ")
            ));
        }
        let in_saving: Vec<&SweepRow> = rows.iter().filter(|r| r.full_length_j.is_some()).collect();
        let forecast_full_j = (!in_saving.is_empty()).then(|| {
            in_saving
                .iter()
                .filter_map(|r| r.full_length_j)
                .sum::<f64>()
        });
        // The sum of each run's own saving: a one-run sweep's saving is its report's.
        let forecast_saved_j = forecast_full_j.map(|_| {
            in_saving
                .iter()
                .map(|r| r.saved_j.unwrap_or(0.0))
                .sum::<f64>()
        });
        let best = metric.as_ref().and_then(|(name, hib)| {
            let others: Vec<&str> = rows
                .iter()
                .filter(|r| r.metric.as_ref() != Some(name) || r.higher_is_better != *hib)
                .map(|r| r.run.as_str())
                .collect();
            if !others.is_empty() {
                notes.push(format!(
                    "{} run(s) monitor another metric than {name} ({}): they are not \
                     candidates for the best run",
                    others.len(),
                    others.join(", ")
                ));
            }
            rows.iter()
                .enumerate()
                .filter(|(_, r)| r.metric.as_ref() == Some(name) && r.higher_is_better == *hib)
                .filter_map(|(i, r)| r.best_metric.filter(|m| m.is_finite()).map(|m| (i, m)))
                .reduce(|a, b| {
                    let better = if *hib { b.1 > a.1 } else { b.1 < a.1 };
                    if better {
                        b
                    } else {
                        a
                    }
                })
                .map(|(i, _)| i)
        });
        SweepComparison {
            dir: dir.into(),
            saving_runs: in_saving.len(),
            rows,
            metric,
            total_energy_j,
            total_uncertainty,
            total_provenance,
            forecast_full_j,
            forecast_saved_j,
            best,
            notes,
            runs,
        }
    }

    /// The runs read.
    pub fn runs(&self) -> &[RunData] {
        &self.runs
    }

    /// The forecast saving as a share of the forecast full sweep (0..1).
    pub fn forecast_saved_share(&self) -> Option<f64> {
        match (self.forecast_saved_j, self.forecast_full_j) {
            (Some(s), Some(f)) if f > 0.0 => Some(s / f),
            _ => None,
        }
    }

    /// The energy total with its uncertainty and provenance: `4.36 J ±40 % (estimated)`.
    pub fn total_energy(&self) -> String {
        energy_with(
            self.total_energy_j,
            self.total_uncertainty,
            self.total_provenance
                .as_ref()
                .map_or("unknown", Provenance::label),
        )
    }

    /// `4.73 J (52.1 % of the forecast full sweep)`: the forecast saving's figures.
    pub fn forecast_saving(&self) -> Option<String> {
        let saved = self.forecast_saved_j?;
        Some(match self.forecast_saved_share() {
            Some(share) => format!(
                "{} ({} of the forecast full sweep)",
                Joules(saved),
                percent(share)
            ),
            None => Joules(saved).to_string(),
        })
    }

    /// The best run in words: `c12 — val_acc 0.9840 at step 800`.
    pub fn best_run(&self) -> Option<String> {
        let r = &self.rows[self.best?];
        let metric = r.metric.as_deref().unwrap_or("metric");
        Some(format!(
            "{} — {metric} {} at step {}",
            r.run,
            significant(r.best_metric?, 4),
            r.best_step.map_or("?".into(), |s| s.to_string())
        ))
    }

    /// The lines under the table: total, forecast saving (labelled as one), best run.
    fn totals(&self) -> Vec<(String, String)> {
        let mut out = vec![(
            format!("total energy ({} runs)", self.rows.len()),
            self.total_energy(),
        )];
        let stopped = self
            .rows
            .iter()
            .filter(|r| r.full_length.is_some_and(|f| f != FullLength::Measured))
            .count();
        if self.forecast_full_j.is_some() && stopped == 0 {
            out.push((
                FORECAST_SAVING.to_string(),
                "none: every finished run went to its end".into(),
            ));
        } else if let (Some(full), Some(saving)) = (self.forecast_full_j, self.forecast_saving()) {
            let to_end = self.saving_runs - stopped;
            out.push((
                format!(
                    "forecast full sweep ({} runs: {to_end} ran to their end, {stopped} stopped early)",
                    self.saving_runs
                ),
                format!(
                    "{} — runs that went to their end as recorded, stopped runs as forecast \
                     at their stop (or energy per step × planned steps)",
                    Joules(full)
                ),
            ));
            out.push((
                FORECAST_SAVING.to_string(),
                format!(
                    "{saving} — a forecast, not a measurement: the stopped runs' full length \
                     was never run"
                ),
            ));
        }
        out.push((
            "best run".into(),
            self.best_run()
                .unwrap_or_else(|| "none (no finite metric recorded)".into()),
        ));
        out
    }

    /// A plain-text table for a terminal: one line per run, then the sweep's totals.
    pub fn table(&self) -> String {
        let (header, cells) = self.cells();
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
        let mut out = format!("sweep {}", self.dir.display());
        if let Some((m, hib)) = &self.metric {
            let how = if *hib {
                "higher is better"
            } else {
                "lower is better"
            };
            out.push_str(&format!(": {} runs, {m} ({how})", self.rows.len()));
        }
        out.push_str("\n\n");
        out.push_str(&line(&header.map(String::from)));
        out.push('\n');
        for row in &cells {
            out.push_str(&line(row));
            out.push('\n');
        }
        out.push('\n');
        let totals = self.totals();
        let w = totals
            .iter()
            .map(|t| t.0.chars().count())
            .max()
            .unwrap_or(0);
        for (label, value) in totals {
            out.push_str(&format!("{label:<w$}  {value}\n"));
        }
        out
    }

    /// Header and cells of the runs table.
    fn cells(&self) -> ([&'static str; 6], Vec<[String; 6]>) {
        let header = ["run", "status", "steps", "energy", "best", "full length"];
        let cells = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                [
                    if Some(i) == self.best {
                        format!("{} (best)", r.run)
                    } else {
                        r.run.clone()
                    },
                    r.status.clone(),
                    match r.planned_steps {
                        Some(p) => format!("{} of {p}", r.steps),
                        None => r.steps.to_string(),
                    },
                    energy_with(r.energy_j, r.energy_uncertainty, &r.provenance),
                    match (r.best_metric, r.best_step) {
                        (Some(m), Some(s)) => format!("{} @ {s}", significant(m, 4)),
                        _ => "-".into(),
                    },
                    match (r.full_length_j, r.full_length) {
                        // The run's own energy: "measured" only when it is a measurement.
                        (Some(j), Some(FullLength::Measured)) if r.provenance == "estimated" => {
                            format!("~{} (ran to its end; estimated)", Joules(j))
                        }
                        (Some(j), Some(FullLength::Measured)) => {
                            format!("{} (ran to its end; measured)", Joules(j))
                        }
                        (Some(j), Some(how)) => format!("~{} ({})", Joules(j), how.describe()),
                        _ => "-".into(),
                    },
                ]
            })
            .collect();
        (header, cells)
    }

    /// The JSON object `snuffer compare SWEEP --json` prints.
    pub fn to_json(&self) -> serde_json::Value {
        let json = SweepJson {
            sweep: &self.dir,
            metric: self.metric.as_ref().map(|m| m.0.as_str()),
            higher_is_better: self.metric.as_ref().map(|m| m.1),
            runs: &self.rows,
            total_energy_j: self.total_energy_j,
            total_energy_uncertainty: self.total_uncertainty,
            total_energy_provenance: self.total_provenance.as_ref(),
            forecast_full_sweep_j: self.forecast_full_j,
            forecast_saved_j: self.forecast_saved_j,
            forecast_saved_share: self.forecast_saved_share(),
            forecast_saving_runs: self.saving_runs,
            best_run: self.best.map(|i| self.rows[i].run.as_str()),
            notes: &self.notes,
        };
        serde_json::to_value(json).unwrap_or(serde_json::Value::Null)
    }

    /// The chart of every run's metric over optimizer steps, with each stop and the best
    /// run's best point marked (SVG).
    pub fn chart_svg(&self) -> Result<String, ReportError> {
        charts::sweep_chart(&self.runs, self.best)
    }

    /// The self-contained HTML page: the sweep's totals, the runs table (with each stop's
    /// sentence) and the chart.
    pub fn html(&self) -> Result<String, ReportError> {
        let svg = self.chart_svg()?;
        Ok(self.page(&svg))
    }

    fn page(&self, svg: &str) -> String {
        let rows: Vec<Row> = self
            .totals()
            .into_iter()
            .map(|(label, value)| Row {
                label,
                value,
                details: Vec::new(),
            })
            .collect();
        let (header, cells) = self.cells();
        let mut runs = Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        };
        runs.header.push("stop reason".into());
        for (cells, r) in cells.into_iter().zip(&self.rows) {
            let mut row: Vec<String> = cells.into();
            row.push(r.stop_reason.clone().unwrap_or_else(|| "-".into()));
            runs.rows.push(row);
        }
        let caption = format!(
            "{} over optimizer steps for every run of the sweep; × marks where a policy \
             stopped a run, ▲ the best run's best point",
            self.metric.as_ref().map_or("metric", |m| m.0.as_str())
        );
        let figure = Figure {
            file: SWEEP_CHART_FILE,
            caption: &caption,
            svg,
        };
        page_with_table(
            &format!("Snuffer sweep: {}", self.dir.display()),
            &format!("{} runs", self.rows.len()),
            &self.notes,
            &rows,
            Some(&runs),
            &[figure],
        )
    }

    /// The files this comparison read: every run directory's files.
    pub fn inputs(&self) -> crate::output::Inputs {
        let mut inputs = crate::output::Inputs::new();
        for run in &self.runs {
            inputs.add(&run.dir);
        }
        inputs
    }

    /// Writes `report.html` and the chart into `out_dir` (created if needed); refuses before
    /// writing anything when either is a symbolic link or one of the runs' files.
    pub fn write(&self, out_dir: impl AsRef<Path>) -> Result<crate::ReportFiles, ReportError> {
        let out = out_dir.as_ref();
        std::fs::create_dir_all(out).map_err(|e| ReportError::io(out, e))?;
        let svg = self.chart_svg()?;
        let chart = out.join(SWEEP_CHART_FILE);
        let html = out.join(crate::HTML_FILE);
        let inputs = self.inputs();
        crate::output::check_outputs(&[chart.clone(), html.clone()], &inputs)?;
        crate::output::write_output(&chart, svg.as_bytes(), &inputs)?;
        crate::output::write_output(&html, self.page(&svg).as_bytes(), &inputs)?;
        Ok(crate::ReportFiles {
            html,
            svgs: vec![chart],
        })
    }
}

/// `0.349 J ±40 % (estimated)`.
fn energy_with(j: f64, uncertainty: f64, provenance: &str) -> String {
    format!("{} ±{:.0} % ({provenance})", Joules(j), 100.0 * uncertainty)
}

/// The row of one run.
fn row(r: &RunData) -> SweepRow {
    let best = r.best_metric();
    let finished = r.status.state.is_finished();
    let stopped = matches!(r.status.state, RunState::Stopped { .. });
    let summary = r.summary.as_ref();
    let full = if !finished {
        None
    } else if !stopped {
        Some((r.energy_j(), FullLength::Measured))
    } else if let Some(f) = summary.and_then(|s| s.forecast_full_energy_j) {
        Some((f, FullLength::Forecast))
    } else {
        match (r.planned_steps, r.steps()) {
            (Some(p), s) if s > 0 && p >= s => {
                Some((r.energy_j() / s as f64 * p as f64, FullLength::PlannedSteps))
            }
            _ => None,
        }
    };
    SweepRow {
        run: r.run_name.clone(),
        dir: r.dir.clone(),
        status: table::status(r),
        stop_policy: r.stop.as_ref().and_then(|s| s.decision.policy.clone()),
        stop_reason: r.stop.as_ref().map(|s| {
            s.decision
                .message
                .clone()
                .or_else(|| s.decision.policy.clone())
                .unwrap_or_else(|| "stop".into())
        }),
        finished,
        steps: r.steps(),
        planned_steps: r.planned_steps,
        energy_j: r.energy_j(),
        energy_uncertainty: r.energy_uncertainty(),
        provenance: r
            .energy_provenance()
            .map_or("unknown", |p| p.label())
            .to_string(),
        metric: r.metric_name.clone(),
        higher_is_better: r.higher_is_better,
        best_metric: best.map(|b| b.1),
        best_step: best.map(|b| b.0),
        full_length_j: full.map(|f| f.0),
        full_length: full.map(|f| f.1),
        saved_j: full.map(|(j, how)| match how {
            FullLength::Measured => 0.0,
            // The run's own figure (forecast full run minus the energy at the stop), the
            // one its stop line, summary.json and report give.
            FullLength::Forecast => summary
                .and_then(|s| s.forecast_saved_j)
                .unwrap_or(j - r.energy_j()),
            FullLength::PlannedSteps => j - r.energy_j(),
        }),
    }
}

/// The metric most runs monitor (the first run's on a tie).
fn sweep_metric(rows: &[SweepRow]) -> Option<(String, bool)> {
    let mut counts: Vec<((String, bool), usize)> = Vec::new();
    for r in rows {
        let Some(m) = &r.metric else { continue };
        let key = (m.clone(), r.higher_is_better);
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
        .into_iter()
        .reduce(|a, b| if b.1 > a.1 { b } else { a })
        .map(|(k, _)| k)
}
