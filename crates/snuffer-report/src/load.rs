//! Reading a run directory in one streaming pass, with bounded memory.

use crate::downsample::Downsampler;
use crate::error::ReportError;
use crate::line::LineView;
use snuffer::format::{
    DecisionRecord, ForecastRecord, RecordKind, Summary, STEPS_FILE, SUMMARY_FILE,
};
use snuffer_energy::{Provenance, JOULES_PER_KWH};
use std::io::{BufRead, BufReader};
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

/// The hindsight optimum of a run that went to its end: argmax of M − τ·E.
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
    /// Lines read from `steps.jsonl` (including a torn one).
    pub lines: u64,
    /// The last line was torn (the run crashed while writing it).
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
    /// Things the reader of the report should know (torn line, missing summary, …).
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
        let summary_path = dir.join(SUMMARY_FILE);
        if !dir.is_dir() || (!steps_path.is_file() && !summary_path.is_file()) {
            return Err(ReportError::NotARunDir { path: dir });
        }
        let summary = if summary_path.is_file() {
            let text = std::fs::read_to_string(&summary_path)
                .map_err(|e| ReportError::io(&summary_path, e))?;
            Some(serde_json::from_str::<Summary>(&text).map_err(|source| {
                ReportError::BadSummary {
                    path: summary_path.clone(),
                    source,
                }
            })?)
        } else {
            None
        };
        let mut data = RunData::empty(dir.clone(), summary, buckets);
        if steps_path.is_file() {
            data.read_steps(&steps_path, buckets)?;
        } else {
            data.notes.push(
                "steps.jsonl is missing: only the summary can be reported, without plots".into(),
            );
        }
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
            notes: Vec::new(),
            dir,
        }
    }

    fn read_steps(&mut self, path: &Path, buckets: usize) -> Result<(), ReportError> {
        let file = std::fs::File::open(path).map_err(|e| ReportError::io(path, e))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        // Bytes, not `String`: a crash can cut a line inside a multi-byte
        // character, which must read as a torn line, not as an I/O error.
        let mut line: Vec<u8> = Vec::new();
        let mut pending: Option<(u64, serde_json::Error)> = None;
        let mut oracle = OracleScan::default();
        let mut line_no = 0u64;
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| ReportError::io(path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let text = line.trim_ascii();
            if text.is_empty() {
                continue;
            }
            // A bad line is only forgivable if nothing follows it.
            if let Some((bad, source)) = pending.take() {
                return Err(ReportError::BadLine {
                    path: path.to_path_buf(),
                    line: bad,
                    source,
                });
            }
            self.lines += 1;
            match serde_json::from_slice::<LineView<'_>>(text) {
                Ok(rec) => self.absorb(rec, buckets, &mut oracle),
                Err(e) => pending = Some((line_no, e)),
            }
        }
        if let Some((bad, _)) = pending {
            self.truncated = true;
            self.notes.push(format!(
                "line {bad} of steps.jsonl is torn: the run did not finish (it crashed or was \
                 killed while writing); the report covers the {} complete lines before it",
                self.lines - 1
            ));
        }
        if self.stop.is_none() && (self.ended || self.summary.as_ref().is_some_and(|s| s.finished))
        {
            self.oracle = oracle.result(self.tau_per_kwh);
        }
        Ok(())
    }

    fn absorb(&mut self, rec: LineView<'_>, buckets: usize, oracle: &mut OracleScan) {
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
                        provenance: d.provenance.to_owned(),
                        uncertainty: d.uncertainty,
                        last_joules: 0.0,
                        energy: Downsampler::new(buckets),
                        power: Downsampler::new(buckets),
                        last: None,
                    });
                    let last = self.domains.len() - 1;
                    &mut self.domains[last]
                }
            };
            if !d.provenance.same_as(&series.provenance) {
                series.provenance = d.provenance.to_owned();
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
            self.absorb_eval(&rec, oracle);
        }
    }

    fn absorb_eval(&mut self, rec: &LineView<'_>, oracle: &mut OracleScan) {
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
        let value = name.and_then(|n| rec.metrics.get(n.as_str()).copied().flatten());
        let stopping = rec.decision.as_ref().is_some_and(|d| d.action == "stop");
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
            self.tau_per_kwh = rec
                .decision
                .as_ref()
                .and_then(|d| {
                    d.evidence
                        .get("tau_per_kwh")
                        .or_else(|| d.evidence.get("tau"))
                })
                .copied()
                .filter(|t| t.is_finite());
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

    /// Reads the keys the run tracker writes on the start line (several
    /// spellings are accepted so older and hand-written runs report too).
    fn read_meta(&mut self, meta: &serde_json::Value) {
        let get = |keys: &[&str]| keys.iter().find_map(|k| meta.get(*k));
        if self.summary.is_none() {
            if let Some(n) = get(&["run_name", "name"]).and_then(|v| v.as_str()) {
                self.run_name = n.to_string();
            }
            if let Some(m) = get(&["metric", "metric_name"]).and_then(|v| v.as_str()) {
                self.metric_name = Some(m.to_string());
            }
            if let Some(h) = get(&["higher_is_better"]).and_then(|v| v.as_bool()) {
                self.higher_is_better = h;
            } else if let Some(d) = get(&["direction"]).and_then(|v| v.as_str()) {
                self.higher_is_better = !d.to_ascii_lowercase().starts_with("lower");
            }
        }
        if self.planned_steps.is_none() {
            self.planned_steps = get(&["planned_steps"]).and_then(|v| v.as_u64());
        }
        self.tau_per_kwh = get(&["tau_per_kwh", "tau"])
            .and_then(|v| v.as_f64())
            .filter(|t| t.is_finite());
    }

    fn finish(&mut self) {
        if let Some(s) = &self.summary {
            if !s.finished {
                self.notes.push(
                    "summary.json says the run did not finish (it was dropped before finish())"
                        .into(),
                );
            }
            // A stop recorded only in the summary (e.g. an older log without
            // decisions on eval lines): place it at the run's last step.
            if self.stop.is_none() {
                if let Some(d) = &s.stop {
                    self.stop = Some(StopPoint {
                        at: EvalPoint {
                            step: s.steps,
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
        } else if self.lines > 0 && !self.truncated {
            self.notes.push(
                "no summary.json: the run did not finish (still running, or it crashed); \
                 totals come from the last line of steps.jsonl"
                    .into(),
            );
        }
        if self.oracle.is_none() && self.stop.is_none() && self.evals > 0 {
            if self.tau_per_kwh.is_none() {
                self.notes.push(
                    "no τ on the start line: the hindsight oracle (argmax M − τ·E) is not drawn"
                        .into(),
                );
            } else if !(self.ended || self.summary.as_ref().is_some_and(|s| s.finished)) {
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

    /// Mean joules per step so far (to place step-indexed forecasts on the energy axis).
    pub fn joules_per_step(&self) -> Option<f64> {
        (self.last_step > 0 && self.last_energy_j > 0.0)
            .then(|| self.last_energy_j / self.last_step as f64)
    }
}

/// Running argmax of U = best-so-far − τ·E (kWh) over evaluations; O(1) memory.
#[derive(Debug, Default)]
struct OracleScan {
    best_signed: Option<f64>,
    argmax: Option<(EvalPoint, f64)>,
    end: Option<f64>,
}

impl OracleScan {
    fn push(&mut self, p: EvalPoint, higher_is_better: bool, tau: Option<f64>) {
        let Some(tau) = tau else { return };
        // Losses are sign-flipped so that "more is better" holds for U.
        let signed = if higher_is_better {
            p.metric
        } else {
            -p.metric
        };
        let best = self.best_signed.map_or(signed, |b| b.max(signed));
        self.best_signed = Some(best);
        let u = best - tau * p.kwh();
        if self.argmax.is_none_or(|(_, top)| u > top) {
            let metric = if higher_is_better { best } else { -best };
            self.argmax = Some((EvalPoint { metric, ..p }, u));
        }
        self.end = Some(u);
    }

    fn result(&self, tau: Option<f64>) -> Option<Oracle> {
        let (at, utility) = self.argmax?;
        Some(Oracle {
            at,
            tau_per_kwh: tau?,
            utility,
            utility_at_end: self.end?,
        })
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
        let r = o.result(Some(0.2)).unwrap();
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
        let r = o.result(Some(0.01)).unwrap();
        assert_eq!(r.at.step, 3);
        assert_eq!(r.at.metric, 0.4);
    }

    #[test]
    fn no_tau_no_oracle() {
        let mut o = OracleScan::default();
        o.push(p(1, 1.0, 1.0), true, None);
        assert!(o.result(None).is_none());
    }
}
