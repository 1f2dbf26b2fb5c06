//! Synthetic run directories, written with the real format types.
//!
//! Tests, benches and documentation need run directories of any size and
//! shape (stopped early, finished, crashed, a million steps) without training
//! anything. The curve is a saturating power law, `a − b·(step/s + 1)^−α`,
//! with deterministic pseudo-noise; power is a constant per domain with a
//! slow wobble, so the charts look like a real run.

use snuffer_energy::Provenance;
use snuffer_footprint::RunFootprint;
use snuffer_rundir::{
    Action, DecisionRecord, DomainRecord, DomainTotal, EnergyRecord, ForecastRecord, RecordKind,
    RunDirError, StepRecord, StepsWriter, Summary, FORMAT_VERSION, STEPS_FILE,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// Shape of a synthetic run.
#[derive(Debug, Clone)]
pub struct SyntheticRun {
    /// Run name.
    pub name: String,
    /// Steps actually done.
    pub steps: u64,
    /// Planned steps (the forecast targets this).
    pub planned_steps: u64,
    /// A step line every this many steps.
    pub log_every: u64,
    /// An evaluation every this many steps.
    pub eval_every: u64,
    /// Seconds per step.
    pub step_seconds: f64,
    /// Stop decision at the last evaluation (a policy stopped the run).
    pub stopped: bool,
    /// τ written on the start line (metric units per kWh).
    pub tau_per_kwh: Option<f64>,
    /// Add a measured GPU domain next to the CPU estimate.
    pub gpu: bool,
    /// Leave a torn last line and no summary (a crash).
    pub crash: bool,
    /// Footprint block in the summary.
    pub footprint: Option<RunFootprint>,
}

impl Default for SyntheticRun {
    fn default() -> Self {
        SyntheticRun {
            name: "synthetic".into(),
            steps: 3_000,
            planned_steps: 3_000,
            log_every: 10,
            eval_every: 100,
            step_seconds: 0.05,
            stopped: false,
            tau_per_kwh: Some(50.0),
            gpu: true,
            crash: false,
            footprint: None,
        }
    }
}

const CPU_W: f64 = 35.0;
const GPU_W: f64 = 240.0;

impl SyntheticRun {
    /// Metric (accuracy-like, higher is better) at `step`, with noise.
    pub fn metric(&self, step: u64) -> f64 {
        let x = step as f64 / (self.planned_steps as f64 / 20.0).max(1.0) + 1.0;
        let noise = ((step as f64 * 12.9898).sin() * 43_758.545).fract() * 0.01;
        0.95 - 0.85 * x.powf(-0.9) + noise
    }

    fn noiseless(&self, step: f64) -> f64 {
        let x = step / (self.planned_steps as f64 / 20.0).max(1.0) + 1.0;
        0.95 - 0.85 * x.powf(-0.9)
    }

    fn energy(&self, step: u64) -> EnergyRecord {
        let t = step as f64 * self.step_seconds;
        // A slow wobble so power is not a flat line.
        let wobble = |w: f64, p: f64| w * t + w * 0.05 * (t / p).sin() * p;
        let mut domains = vec![DomainRecord {
            name: "cpu-estimate".into(),
            joules: wobble(CPU_W, 7.0),
            provenance: Provenance::Estimated {
                model: "cpu-time × 8.8 W/core (synthetic)".into(),
            },
            uncertainty: 0.4,
        }];
        if self.gpu {
            domains.push(DomainRecord {
                name: "gpu:0".into(),
                joules: wobble(GPU_W, 3.0),
                provenance: Provenance::Counter,
                uncertainty: 0.05,
            });
        }
        let total_j = domains.iter().map(|d| d.joules).sum();
        EnergyRecord {
            total_j,
            total_uncertainty: if self.gpu { 0.08 } else { 0.4 },
            domains,
        }
    }

    fn forecast(&self, step: u64) -> ForecastRecord {
        let target = self.planned_steps as f64;
        let width = 0.08 * (1.0 - step as f64 / target).max(0.05);
        let path = (0..=24)
            .map(|i| {
                let s = step as f64 + (target - step as f64) * i as f64 / 24.0;
                let m = self.noiseless(s);
                let w = width * i as f64 / 24.0;
                [s, m, m - w, m + w]
            })
            .collect();
        let m = self.noiseless(target);
        ForecastRecord {
            target_step: target,
            median: m,
            lo: m - width,
            hi: m + width,
            level: 0.8,
            asymptote: Some(0.95),
            path,
        }
    }

    fn record(&self, kind: RecordKind, step: u64) -> StepRecord {
        StepRecord {
            kind,
            step,
            time_s: step as f64 * self.step_seconds,
            energy: self.energy(step),
            metrics: BTreeMap::new(),
            forecast: None,
            decision: None,
            meta: None,
        }
    }

    fn stop_decision(&self) -> DecisionRecord {
        let evidence = serde_json::json!({
            "kind": "marginal_gain",
            "gain_rate_per_kwh": 3.2,
            "tau_per_kwh": self.tau_per_kwh.unwrap_or(0.0),
        });
        DecisionRecord {
            action: Action::Stop,
            policy: Some("marginal_gain".into()),
            message: Some("forecast gain per kWh below τ within the horizon".into()),
            evidence: evidence.as_object().cloned().unwrap_or_default(),
            warnings: Vec::new(),
        }
    }

    /// Writes `steps.jsonl` (streaming, with the run tracker's writer) and, unless
    /// crashed, `summary.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), RunDirError> {
        std::fs::create_dir_all(dir).map_err(|source| RunDirError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut out = StepsWriter::create(dir.join(STEPS_FILE))?;
        fn line(out: &mut StepsWriter, rec: &StepRecord) -> Result<(), RunDirError> {
            out.append(rec)
        }
        let mut start = self.record(RecordKind::Start, 0);
        start.meta = Some(serde_json::json!({
            "run_name": self.name,
            "metric": "val_acc",
            "higher_is_better": true,
            "planned_steps": self.planned_steps,
            "tau_per_kwh": self.tau_per_kwh,
        }));
        line(&mut out, &start)?;
        let mut best: Option<(u64, f64)> = None;
        let last_eval = self.steps - self.steps % self.eval_every.max(1);
        for step in 1..=self.steps {
            let eval = step % self.eval_every.max(1) == 0;
            if eval {
                let m = self.metric(step);
                if best.is_none_or(|b| m > b.1) {
                    best = Some((step, m));
                }
                let mut rec = self.record(RecordKind::Eval, step);
                rec.metrics.insert("val_acc".into(), Some(m));
                rec.metrics.insert("loss".into(), Some(1.0 - m));
                if step % (self.eval_every * 5).max(1) == 0 || step == last_eval {
                    rec.forecast = Some(self.forecast(step));
                }
                rec.decision = Some(if self.stopped && step == last_eval {
                    self.stop_decision()
                } else {
                    DecisionRecord::proceed()
                });
                line(&mut out, &rec)?;
            } else if step % self.log_every.max(1) == 0 {
                let mut rec = self.record(RecordKind::Step, step);
                rec.metrics
                    .insert("loss".into(), Some(1.0 - self.metric(step)));
                line(&mut out, &rec)?;
            }
        }
        if self.crash {
            out.flush()?;
            let path = dir.join(STEPS_FILE);
            let torn = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(br#"{"kind":"step","step":"#));
            return torn.map_err(|source| RunDirError::Write { path, source });
        }
        line(&mut out, &self.record(RecordKind::End, self.steps))?;
        out.flush()?;
        let energy = self.energy(self.steps);
        let full = self.energy(self.planned_steps).total_j;
        let summary = Summary {
            format_version: FORMAT_VERSION,
            run_name: self.name.clone(),
            started_at: "2026-11-23T18:00:00Z".into(),
            duration_s: self.steps as f64 * self.step_seconds,
            steps: self.steps,
            planned_steps: Some(self.planned_steps),
            finished: true,
            energy_j: energy.total_j,
            energy_uncertainty: energy.total_uncertainty,
            provenance: energy
                .domains
                .iter()
                .map(|d| d.provenance.clone())
                .reduce(|a, b| a.combine(&b))
                .unwrap_or(Provenance::Counter),
            domains: energy
                .domains
                .iter()
                .map(|d| DomainTotal {
                    name: d.name.clone(),
                    joules: d.joules,
                    provenance: d.provenance.clone(),
                    uncertainty: d.uncertainty,
                })
                .collect(),
            metric_name: "val_acc".into(),
            higher_is_better: true,
            best_step: best.map(|b| b.0),
            best_metric: best.map(|b| b.1),
            stop: self.stopped.then(|| self.stop_decision()),
            forecast_full_metric: Some(self.forecast(last_eval)),
            forecast_full_energy_j: Some(full),
            forecast_saved_j: Some(full - energy.total_j),
            footprint: self.footprint.clone(),
            extra: None,
        };
        snuffer_rundir::write_summary(dir, &summary).map(|_| ())
    }
}
