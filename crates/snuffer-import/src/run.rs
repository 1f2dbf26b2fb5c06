//! An imported run: one metric's curve with what the log said about time and energy.

use crate::energy::{EnergyBasis, Power};
use crate::learning_rate::LearningRate;
use serde::Serialize;
use snuffer_energy::{Joules, Provenance};
use snuffer_replay::curves::CurveRun;
use std::fmt;
use std::path::PathBuf;

/// The log formats this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A Snuffer run directory (`steps.jsonl`).
    SnufferRun,
    /// A Hugging Face Trainer `trainer_state.json`.
    TrainerState,
    /// TensorBoard event files (`events.out.tfevents.*`) in one directory.
    TensorBoard,
    /// A CSV history with a step column (Lightning `metrics.csv`, Keras `CSVLogger`, W&B
    /// history exports).
    CsvHistory,
}

impl Format {
    /// The name used in output: `snuffer_run`, `trainer_state`, `tensorboard`, `csv`.
    pub fn name(self) -> &'static str {
        match self {
            Format::SnufferRun => "snuffer_run",
            Format::TrainerState => "trainer_state",
            Format::TensorBoard => "tensorboard",
            Format::CsvHistory => "csv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Energy a log recorded, cumulative at each evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEnergy {
    /// Joules since the run started, at each point.
    pub cumulative_j: Vec<f64>,
    /// How the run obtained the figures.
    pub provenance: Provenance,
    /// Relative uncertainty the run recorded.
    pub uncertainty: f64,
}

/// Time a log recorded, cumulative at each evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Seconds since the run started, at each point (non-decreasing).
    pub elapsed_s: Vec<f64>,
    /// Which field it comes from (`TensorBoard wall_time`, `train_runtime spread over steps`, …).
    pub source: String,
}

/// One run read from a log: the chosen metric's evaluations, sorted by step.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRun {
    /// The file or directory the run was read from.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// A short name (the run's own name where the log records one, else its directory's).
    pub run_id: String,
    /// The metric replayed.
    pub metric_name: String,
    /// Whether higher values of it are better.
    pub higher_is_better: bool,
    /// Steps of the evaluations, ascending.
    pub steps: Vec<f64>,
    /// Metric values (NaN where the log recorded a non-number).
    pub metrics: Vec<f64>,
    /// Time since the start at each evaluation, when the log has it.
    pub timing: Option<Timing>,
    /// Energy the log recorded, when it did.
    pub energy: Option<RecordedEnergy>,
    /// The planned length, when the log records it (`max_steps`, Snuffer's `planned_steps`).
    pub planned_steps: Option<u64>,
    /// Every metric name the log holds (for `--metric`).
    pub available_metrics: Vec<String>,
    /// The learning rate the log records, when it does (see [`crate::learning_rate`]).
    pub learning_rate: Option<LearningRate>,
    /// What the reader had to decide or drop, in words.
    pub notes: Vec<String>,
}

/// Per-point increments of a cumulative series (the first from zero), never negative.
fn deltas(cumulative: &[f64]) -> Vec<f64> {
    let mut prev = 0.0;
    cumulative
        .iter()
        .map(|&c| {
            let d = (c - prev).max(0.0);
            prev = prev.max(c);
            d
        })
        .collect()
}

impl ImportedRun {
    /// The curve the replay reads, and where its energy comes from: the recorded energy if
    /// any; else the recorded time × `power` when both exist; else energy proportional to
    /// steps at `step_energy` per step (the replay's [`EnergyAssumptions`] must carry the same
    /// power and step energy).
    ///
    /// `source` is the format's name, `task` the path (so two runs never share a key in a
    /// curves CSV) and `run_id` the run's name.
    ///
    /// [`EnergyAssumptions`]: snuffer_replay::curves::EnergyAssumptions
    pub fn to_curve(&self, power: Option<&Power>, step_energy: Joules) -> (CurveRun, EnergyBasis) {
        let mut curve = CurveRun {
            source: self.format.name().to_string(),
            task: self.path.display().to_string(),
            run_id: self.run_id.clone(),
            metric_name: self.metric_name.clone(),
            higher_is_better: self.higher_is_better,
            steps: self.steps.clone(),
            metrics: self.metrics.clone(),
            epoch_time_s: None,
            energy_j: None,
        };
        let basis = match (&self.energy, &self.timing, power) {
            (Some(e), _, _) => {
                curve.energy_j = Some(deltas(&e.cumulative_j));
                EnergyBasis::Recorded {
                    provenance: e.provenance.clone(),
                    uncertainty: e.uncertainty,
                }
            }
            (None, Some(t), Some(p)) => {
                curve.epoch_time_s = Some(deltas(&t.elapsed_s));
                EnergyBasis::WallTimeTimesPower {
                    power: p.clone(),
                    time_source: t.source.clone(),
                }
            }
            (None, timing, power) => EnergyBasis::Steps {
                step_energy,
                has_time: timing.is_some(),
                power_given: power.is_some(),
            },
        };
        (curve, basis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snuffer_energy::Watts;

    fn run() -> ImportedRun {
        ImportedRun {
            path: PathBuf::from("logs/a"),
            format: Format::TensorBoard,
            run_id: "a".into(),
            metric_name: "eval/loss".into(),
            higher_is_better: false,
            steps: vec![10.0, 20.0, 30.0],
            metrics: vec![1.0, 0.5, 0.4],
            timing: Some(Timing {
                elapsed_s: vec![5.0, 9.0, 15.0],
                source: "TensorBoard wall_time".into(),
            }),
            energy: None,
            planned_steps: None,
            available_metrics: vec!["eval/loss".into()],
            learning_rate: None,
            notes: vec![],
        }
    }

    #[test]
    fn energy_follows_recorded_then_time_times_power_then_steps() {
        let p = Power {
            watts: Watts(100.0),
            source: "test".into(),
        };
        let r = run();
        let (c, b) = r.to_curve(None, Joules(2.0));
        assert_eq!(b.label(), "steps");
        assert_eq!((c.epoch_time_s, c.energy_j), (None, None));
        let (c, b) = r.to_curve(Some(&p), Joules(2.0));
        assert_eq!(b.label(), "wall_time_x_power");
        assert_eq!(c.epoch_time_s, Some(vec![5.0, 4.0, 6.0]));
        let recorded = ImportedRun {
            energy: Some(RecordedEnergy {
                cumulative_j: vec![3.0, 2.0, 10.0],
                provenance: Provenance::Counter,
                uncertainty: 0.05,
            }),
            ..r
        };
        let (c, b) = recorded.to_curve(Some(&p), Joules(2.0));
        assert_eq!(b.label(), "recorded");
        assert_eq!(
            c.energy_j,
            Some(vec![3.0, 0.0, 7.0]),
            "a dip never counts twice"
        );
        assert_eq!(
            (c.task.as_str(), c.source.as_str()),
            ("logs/a", "tensorboard")
        );
    }
}
