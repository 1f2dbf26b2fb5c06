//! Reading a run directory in one streaming pass, with bounded memory, through
//! [`snuffer_rundir`]'s one reader.

use crate::downsample::Downsampler;
use crate::error::ReportError;
use snuffer_energy::{Provenance, JOULES_PER_KWH};
use snuffer_rundir::{
    DecisionRecord, ForecastRecord, LogFacts, RecordKind, RunStatus, StartMeta, StepView, Summary,
    STEPS_FILE, SUMMARY_FILE,
};
use std::path::{Path, PathBuf};

/// Buckets per plotted series (each keeps up to 4 points): enough for a
/// chart a few thousand pixels wide, small enough for any run length.
pub const DEFAULT_BUCKETS: usize = 1_000;

/// An evaluation as plotted: where it happened and the metric it reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalPoint {
    /// Optimizer steps done.
    pub step: u64,
    /// Seconds since the start.
    pub time_s: f64,
    /// Cumulative joules at that point.
    pub energy_j: f64,
    /// Metric value (for the oracle: the best metric reached by then).
    pub metric: f64,
}

impl EvalPoint {
    /// Cumulative energy in kWh.
    pub fn kwh(&self) -> f64 {
        self.energy_j / JOULES_PER_KWH
    }
}

/// Where and why the run stopped early.
#[derive(Debug, Clone, PartialEq)]
pub struct StopPoint {
    /// The evaluation at which the policy said stop.
    pub at: EvalPoint,
    /// The decision with its evidence.
    pub decision: DecisionRecord,
}

/// The hindsight optimum of a run that went to its end: the earliest argmax of
/// best-so-far − τ·E ([`snuffer_replay::Oracle`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Oracle {
    /// The step, energy and best metric reached there.
    pub at: EvalPoint,
    /// τ in metric units per kWh.
    pub tau_per_kwh: f64,
    /// Utility M − τ·E at the oracle (metric sign-flipped for losses).
    pub utility: f64,
    /// Utility at the end of the run.
    pub utility_at_end: f64,
}

/// One energy domain's series over time.
#[derive(Debug, Clone)]
pub struct DomainSeries {
    /// Domain name (`cpu-package:0`, `gpu:0`, `cpu-estimate`, …).
    pub name: String,
    /// Provenance of the latest record of this domain.
    pub provenance: Provenance,
    /// Relative uncertainty of the latest record.
    pub uncertainty: f64,
    /// Cumulative joules at the last record.
    pub last_joules: f64,
    /// Cumulative energy (time_s, J), downsampled.
    pub energy: Downsampler,
    /// Mean power between consecutive records (time_s, W), downsampled.
    pub power: Downsampler,
    last: Option<(f64, f64)>,
    /// The provenance as last written, to parse it only when it changes.
    provenance_text: String,
}

/// Everything a report needs from a run directory, gathered in one pass.
#[derive(Debug, Clone)]
pub struct RunData {
    /// The run directory.
    pub dir: PathBuf,
    /// `summary.json`, if the run wrote one.
    pub summary: Option<Summary>,
    /// Metadata of the start line.
    pub meta: Option<serde_json::Value>,
    /// Run name (summary, start meta, or the directory name).
    pub run_name: String,
    /// Monitored metric, if known.
    pub metric_name: Option<String>,
    /// Whether higher metric values are better.
    pub higher_is_better: bool,
    /// Stop threshold τ (metric units per kWh), from the start meta.
    pub tau_per_kwh: Option<f64>,
    /// Planned steps, if known.
    pub planned_steps: Option<u64>,
    /// Whole lines read from `steps.jsonl`.
    pub lines: u64,
    /// The last line was torn (the run crashed while writing it, or is writing it).
    pub truncated: bool,
    /// An `end` line was seen.
    pub ended: bool,
    /// Steps at the last record.
    pub last_step: u64,
    /// Seconds at the last record.
    pub last_time_s: f64,
    /// Cumulative joules at the last record.
    pub last_energy_j: f64,
    /// Relative uncertainty of the total at the last record.
    pub last_energy_uncertainty: f64,
    /// Number of evaluations with a finite metric.
    pub evals: u64,
    /// Evaluations whose metric was missing or not finite (diverged runs).
    pub non_finite_evals: u64,
    /// Metric over steps, downsampled.
    pub metric_by_step: Downsampler,
    /// Metric over energy (kWh), downsampled.
    pub metric_by_kwh: Downsampler,
    /// Best evaluation.
    pub best: Option<EvalPoint>,
    /// Early stop, if the policy stopped the run.
    pub stop: Option<StopPoint>,
    /// Latest forecast at or before the stop, with the step it was made at.
    pub forecast: Option<(u64, ForecastRecord)>,
    /// Hindsight oracle (only for runs that went to their end and recorded τ).
    pub oracle: Option<Oracle>,
    /// Total cumulative energy (time_s, J), downsampled.
    pub total_energy: Downsampler,
    /// Per-domain series.
    pub domains: Vec<DomainSeries>,
    /// How the run ended, told once from all its files ([`RunStatus`]).
    pub status: RunStatus,
    /// What `steps.jsonl` said about how the run went.
    pub log: LogFacts,
    /// Things the reader of the report should know (a file that disagrees with the
    /// status, a left-over temp file, no τ for the oracle, …).
    pub notes: Vec<String>,
}

impl RunData {
    /// Reads `dir` with the default number of plot buckets.
    ///
    /// Errors: [`ReportError::NotARunDir`] when neither `steps.jsonl` nor
    /// `summary.json` is there; a damaged line other than the last is an error,
    /// a torn last line is a note.
    pub fn load(dir: impl AsRef<Path>) -> Result<RunData, ReportError> {
        Self::load_with(dir, DEFAULT_BUCKETS)
    }

    /// Reads `dir`, keeping at most `buckets` buckets per plotted series.
    pub fn load_with(dir: impl AsRef<Path>, buckets: usize) -> Result<RunData, ReportError> {
        let dir = dir.as_ref().to_path_buf();
        let steps_path = dir.join(STEPS_FILE);
        if !dir.is_dir() || (!steps_path.is_file() && !dir.join(SUMMARY_FILE).is_file()) {
            return Err(ReportError::NotARunDir { path: dir });
        }
        let summary = snuffer_rundir::read_summary(&dir)?;
        let mut data = RunData::empty(dir.clone(), summary, buckets);
        let mut oracle = OracleScan::default();
        let has_log = steps_path.is_file();
        if has_log {
            let end = snuffer_rundir::read_steps_with(&steps_path, |line| {
                data.absorb(&line, buckets, &mut oracle);
            })?;
            data.log.torn_line = end.torn_line;
            data.truncated = end.torn_line.is_some();
            if data.stop.is_none()
                && (data.ended || data.summary.as_ref().is_some_and(|s| s.finished))
            {
                data.oracle = oracle.result();
            }
        }
        if let (Some(summary), Some(meta)) = (&data.summary, &data.meta) {
            if let Some(log_run) = StartMeta::from_value(meta).run_name {
                if log_run != summary.run_name {
                    return Err(ReportError::ForeignSummary {
                        path: dir,
                        summary_run: summary.run_name.clone(),
                        log_run,
                    });
                }
            }
        }
        let energy_j = data.energy_j();
        if !(energy_j.is_finite() && energy_j >= 0.0) {
            return Err(ReportError::BadEnergy {
                path: dir,
                energy_j,
            });
        }
        data.status = RunStatus::assess(&dir, data.summary.as_ref(), has_log.then_some(&data.log));
        data.finish();
        if data.lines == 0 && data.summary.is_none() {
            return Err(ReportError::Empty { path: dir });
        }
        Ok(data)
    }

    fn empty(dir: PathBuf, summary: Option<Summary>, buckets: usize) -> RunData {
        let run_name = summary
            .as_ref()
            .map(|s| s.run_name.clone())
            .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "run".to_string());
        RunData {
            metric_name: summary.as_ref().map(|s| s.metric_name.clone()),
            higher_is_better: summary.as_ref().map(|s| s.higher_is_better).unwrap_or(true),
            planned_steps: summary.as_ref().and_then(|s| s.planned_steps),
            status: RunStatus::assess(&dir, summary.as_ref(), None),
            summary,
            meta: None,
            run_name,
            tau_per_kwh: None,
            lines: 0,
            truncated: false,
            ended: false,
            last_step: 0,
            last_time_s: 0.0,
            last_energy_j: 0.0,
            last_energy_uncertainty: 0.0,
            evals: 0,
            non_finite_evals: 0,
            metric_by_step: Downsampler::new(buckets),
            metric_by_kwh: Downsampler::new(buckets),
            best: None,
            stop: None,
            forecast: None,
            oracle: None,
            total_energy: Downsampler::new(buckets),
            domains: Vec::new(),
            log: LogFacts::default(),
            notes: Vec::new(),
            dir,
        }
    }

    fn absorb(&mut self, rec: &StepView<'_>, buckets: usize, oracle: &mut OracleScan) {
        self.lines += 1;
        self.log.absorb(rec);
        if rec.kind == RecordKind::Start {
            if let Some(meta) = &rec.meta {
                self.read_meta(meta);
            }
            self.meta = rec.meta.clone();
        }
        if rec.kind == RecordKind::End {
            self.ended = true;
        }
        self.last_step = self.last_step.max(rec.step);
        self.last_time_s = rec.time_s;
        self.last_energy_j = rec.energy.total_j;
        self.last_energy_uncertainty = rec.energy.total_uncertainty;
        self.total_energy.push(rec.time_s, rec.energy.total_j);
        for d in &rec.energy.domains {
            let series = match self.domains.iter_mut().position(|s| s.name == d.name) {
                Some(i) => &mut self.domains[i],
                None => {
                    self.domains.push(DomainSeries {
                        name: d.name.to_string(),
                        provenance: Provenance::Estimated {
                            model: "unknown (unreadable provenance)".into(),
                        },
                        uncertainty: d.uncertainty,
                        last_joules: 0.0,
                        energy: Downsampler::new(buckets),
                        power: Downsampler::new(buckets),
                        last: None,
                        provenance_text: String::new(),
                    });
                    let last = self.domains.len() - 1;
                    &mut self.domains[last]
                }
            };
            // Compare the text: parsing (and allocating) only when it changes.
            if series.provenance_text != d.provenance.get() {
                series.provenance_text = d.provenance.get().to_string();
                if let Ok(p) = d.provenance() {
                    series.provenance = p;
                }
            }
            series.uncertainty = d.uncertainty;
            series.last_joules = d.joules;
            series.energy.push(rec.time_s, d.joules);
            if let Some((t0, j0)) = series.last {
                let dt = rec.time_s - t0;
                // Records closer than a millisecond say nothing about power.
                if dt > 1e-3 {
                    series.power.push(rec.time_s, (d.joules - j0) / dt);
                }
            }
            if series.last.is_none_or(|(t0, _)| rec.time_s - t0 > 1e-3) {
                series.last = Some((rec.time_s, d.joules));
            }
        }
        if rec.kind == RecordKind::Eval || rec.kind == RecordKind::End {
            self.absorb_eval(rec, oracle);
        }
    }

    fn absorb_eval(&mut self, rec: &StepView<'_>, oracle: &mut OracleScan) {
        let name = match &self.metric_name {
            Some(n) => Some(n.clone()),
            // No declared metric: the first non-loss metric of the first eval.
            None => rec
                .metrics
                .keys()
                .find(|k| k.as_ref() != "loss")
                .or_else(|| rec.metrics.keys().next())
                .map(|k| k.to_string()),
        };
        if self.metric_name.is_none() {
            self.metric_name = name.clone();
        }
        let value = name.and_then(|n| rec.metric(&n));
        let stopping = rec.decision.as_ref().is_some_and(DecisionRecord::is_stop);
        // Keep the latest forecast of an evaluation up to (and including) the
        // stop. The end line repeats the full-run forecast: it only counts
        // when no evaluation carried one.
        if self.stop.is_none() && (rec.kind == RecordKind::Eval || self.forecast.is_none()) {
            if let Some(f) = &rec.forecast {
                self.forecast = Some((rec.step, f.clone()));
            }
        }
        // Runs whose start line lacks τ may still state it in the evidence
        // of their decisions (the marginal-gain policy does).
        if self.tau_per_kwh.is_none() {
            self.tau_per_kwh = rec.decision.as_ref().and_then(decision_tau);
        }
        let at = |metric: f64| EvalPoint {
            step: rec.step,
            time_s: rec.time_s,
            energy_j: rec.energy.total_j,
            metric,
        };
        match value {
            Some(m) if m.is_finite() && rec.kind == RecordKind::Eval => {
                self.evals += 1;
                self.metric_by_step.push(rec.step as f64, m);
                self.metric_by_kwh
                    .push(rec.energy.total_j / JOULES_PER_KWH, m);
                let better = match self.best {
                    None => true,
                    Some(b) if self.higher_is_better => m > b.metric,
                    Some(b) => m < b.metric,
                };
                if better {
                    self.best = Some(at(m));
                }
                oracle.push(at(m), self.higher_is_better, self.tau_per_kwh);
            }
            _ if rec.kind == RecordKind::Eval => self.non_finite_evals += 1,
            _ => {}
        }
        if stopping && self.stop.is_none() {
            if let Some(d) = &rec.decision {
                self.stop = Some(StopPoint {
                    at: at(value.unwrap_or(f64::NAN)),
                    decision: d.clone(),
                });
            }
        }
    }

    /// Reads the settings the run tracker writes on the start line ([`StartMeta`]
    /// accepts older spellings too).
    fn read_meta(&mut self, meta: &serde_json::Value) {
        let m = StartMeta::from_value(meta);
        if self.summary.is_none() {
            if let Some(n) = m.run_name {
                self.run_name = n;
            }
            if m.metric_name.is_some() {
                self.metric_name = m.metric_name;
            }
            if let Some(h) = m.higher_is_better {
                self.higher_is_better = h;
            }
        }
        if self.planned_steps.is_none() {
            self.planned_steps = m.planned_steps;
        }
        self.tau_per_kwh = m.tau_per_kwh;
    }

    fn finish(&mut self) {
        self.notes.extend(self.status.notes().cloned());
        if self.truncated && !self.status.disagreements.iter().any(|d| d.contains("torn")) {
            self.notes.push(format!(
                "steps.jsonl ends in a torn line: the run did not finish (it crashed or was \
                 killed while writing, or is writing now); the report covers the {} whole \
                 lines before it",
                self.lines
            ));
        }
        if let Some(s) = &self.summary {
            // A stop recorded only in the summary (e.g. an older log without
            // decisions on eval lines): place it at the run's last step.
            if self.stop.is_none() {
                if let Some(d) = &s.stop {
                    self.stop = Some(StopPoint {
                        at: EvalPoint {
                            step: s.stop_step().unwrap_or(s.steps),
                            time_s: s.duration_s,
                            energy_j: s.energy_j,
                            metric: f64::NAN,
                        },
                        decision: d.clone(),
                    });
                }
            }
            // The oracle is for runs that went to their end, not stopped ones.
            if self.stop.is_some() {
                self.oracle = None;
            }
        }
        if self.oracle.is_none() && self.stop.is_none() && self.evals > 0 {
            if self.tau_per_kwh.is_none() {
                self.notes.push(
                    "no τ on the start line: the hindsight oracle (argmax M − τ·E) is not drawn"
                        .into(),
                );
            } else if !self.status.state.is_finished() {
                self.notes
                    .push("the run did not reach its end, so no hindsight oracle is drawn".into());
            }
        }
        if self.non_finite_evals > 0 {
            self.notes.push(format!(
                "{} evaluation(s) had a missing or non-finite metric (divergence?) and are not plotted",
                self.non_finite_evals
            ));
        }
    }

    /// Total energy: the summary's if present, else the last record's.
    pub fn energy_j(&self) -> f64 {
        self.summary
            .as_ref()
            .map(|s| s.energy_j)
            .unwrap_or(self.last_energy_j)
    }

    /// Provenance of the total energy: the summary's if present, else the weakest of the
    /// domains recorded; `None` when nothing says.
    pub fn energy_provenance(&self) -> Option<Provenance> {
        match &self.summary {
            Some(s) => Some(s.provenance.clone()),
            None => self
                .domains
                .iter()
                .map(|d| d.provenance.clone())
                .reduce(|a, b| a.combine(&b)),
        }
    }

    /// Relative uncertainty of the total energy: the summary's if present, else the last
    /// record's.
    pub fn energy_uncertainty(&self) -> f64 {
        self.summary
            .as_ref()
            .map_or(self.last_energy_uncertainty, |s| s.energy_uncertainty)
    }

    /// Duration in seconds: the summary's if present, else the last record's.
    pub fn duration_s(&self) -> f64 {
        self.summary
            .as_ref()
            .map(|s| s.duration_s)
            .unwrap_or(self.last_time_s)
    }

    /// Steps done: the summary's if present, else the last record's.
    pub fn steps(&self) -> u64 {
        self.summary
            .as_ref()
            .map(|s| s.steps)
            .unwrap_or(self.last_step)
    }

    /// Best (step, metric): the summary's if present, else the best evaluation read.
    pub fn best_metric(&self) -> Option<(u64, f64)> {
        if let Some(s) = &self.summary {
            if let (Some(step), Some(m)) = (s.best_step, s.best_metric) {
                return Some((step, m));
            }
        }
        self.best.map(|b| (b.step, b.metric))
    }

    /// Mean joules per step so far.
    pub fn joules_per_step(&self) -> Option<f64> {
        (self.last_step > 0 && self.last_energy_j > 0.0)
            .then(|| self.last_energy_j / self.last_step as f64)
    }

    /// Cumulative energy (J) the run forecast for `step` (to place step-indexed forecasts
    /// on the energy axis): along the line from the stop (or the run's end) to
    /// `summary.json`'s forecast energy of the full run at the planned end — the run's one
    /// estimate ([`snuffer_energy::StepEnergy`]), the figure of its stop line and of the
    /// report's table, so the chart ends where the table says. Without those figures (no
    /// summary, no plan), at the mean energy per step so far.
    pub fn forecast_energy_at(&self, step: f64) -> Option<f64> {
        let from_summary = self.summary.as_ref().and_then(|s| {
            let full = s.forecast_full_energy_j?;
            let planned = s.planned_steps? as f64;
            let (at_step, at_j) = match &self.stop {
                Some(stop) => (stop.at.step as f64, stop.at.energy_j),
                None => (s.steps as f64, s.energy_j),
            };
            (planned > at_step && full.is_finite() && at_j.is_finite())
                .then(|| at_j + (step - at_step) * (full - at_j) / (planned - at_step))
        });
        from_summary.or_else(|| self.joules_per_step().map(|j| step * j))
    }
}

/// The hindsight oracle over evaluations as they stream by (O(1) memory): the policy
/// crate's [`snuffer_replay::Oracle`], created once τ is known, plus the point it chose.
#[derive(Debug, Default)]
struct OracleScan {
    scan: Option<snuffer_replay::Oracle>,
    pushed: usize,
    at: Option<EvalPoint>,
}

impl OracleScan {
    fn push(&mut self, p: EvalPoint, higher_is_better: bool, tau: Option<f64>) {
        let Some(tau) = tau else { return };
        let scan = self
            .scan
            .get_or_insert_with(|| snuffer_replay::Oracle::new(tau));
        scan.push_metric(p.metric, higher_is_better, p.kwh());
        self.pushed += 1;
        if let Some(top) = scan.result().filter(|t| t.index + 1 == self.pushed) {
            let metric = if higher_is_better {
                top.best
            } else {
                -top.best
            };
            self.at = Some(EvalPoint { metric, ..p });
        }
    }

    fn result(&self) -> Option<Oracle> {
        let scan = self.scan.as_ref()?;
        let top = scan.result()?;
        Some(Oracle {
            at: self.at?,
            tau_per_kwh: scan.tau_per_kwh(),
            utility: top.utility,
            utility_at_end: top.utility_at_end,
        })
    }
}

/// τ per kWh a decision weighed: read from its typed evidence (format 2,
/// [`snuffer_policy::Evidence`]); format 1 kept the numbers by name, without a `kind`.
fn decision_tau(d: &DecisionRecord) -> Option<f64> {
    if d.evidence.contains_key("kind") {
        d.evidence_as::<snuffer_policy::Evidence>()?.tau_per_kwh()
    } else {
        d.number("tau_per_kwh").or_else(|| d.number("tau"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(step: u64, kwh: f64, metric: f64) -> EvalPoint {
        EvalPoint {
            step,
            time_s: step as f64,
            energy_j: kwh * JOULES_PER_KWH,
            metric,
        }
    }

    #[test]
    fn oracle_is_argmax_of_best_minus_tau_energy() {
        // Metric 0.5, 0.6, 0.65 after 1, 2, 3 kWh with τ = 0.2 per kWh:
        // U = 0.3, 0.2, 0.05, so the first evaluation is the oracle.
        let mut o = OracleScan::default();
        for (i, m) in [0.5, 0.6, 0.65].into_iter().enumerate() {
            o.push(p(i as u64 + 1, i as f64 + 1.0, m), true, Some(0.2));
        }
        let r = o.result().unwrap();
        assert_eq!(r.at.step, 1);
        assert!((r.utility - 0.3).abs() < 1e-12);
        assert!((r.utility_at_end - 0.05).abs() < 1e-12);
    }

    #[test]
    fn oracle_flips_losses_and_uses_best_so_far() {
        // Loss 1.0, 0.5, 0.9 (worse), 0.4 with τ = 0.01/kWh: the last is best.
        let mut o = OracleScan::default();
        for (i, m) in [1.0, 0.5, 0.9, 0.4].into_iter().enumerate() {
            o.push(p(i as u64, i as f64, m), false, Some(0.01));
        }
        let r = o.result().unwrap();
        assert_eq!(r.at.step, 3);
        assert_eq!(r.at.metric, 0.4);
    }

    #[test]
    fn no_tau_no_oracle() {
        let mut o = OracleScan::default();
        o.push(p(1, 1.0, 1.0), true, None);
        assert!(o.result().is_none());
    }
}
