//! The other runs of the sweep a run joined ([`RunBuilder::sweep`](super::RunBuilder::sweep)),
//! read from their run directories and handed to the policy as
//! [`Observation::sweep`](snuffer_policy::Observation::sweep).
//!
//! * **What counts.** Every other run of the sweep directory that monitors the same metric
//!   (name and direction) and knows its plan, as far as it was recorded: its evaluations by
//!   share of its planned steps, oriented, a non-finite value as the worst finite one
//!   ([`ReferenceRun::from_recorded`], the alignment `snuffer replay --sweep` uses). A run
//!   still being written counts up to its last whole line; runs that started after this one
//!   count too (the sweep's best so far is wherever it was recorded).
//! * **When it is read.** On the forecast's refit cadence (and at the first evaluation),
//!   and never for more than about a twentieth of the run's time: a read that took `d`
//!   is not repeated before `19·d` has passed. Runs that ended (a `summary.json`) are read
//!   once and kept; later reads list the directory and re-read only the runs still going.
//! * **What never fails the run.** Another run's damaged files, a run without a plan or
//!   with another metric, a directory that cannot be listed: the run is left out (or the
//!   references read before are kept) and the reason is said once.

use snuffer_forecast::Direction;
use snuffer_policy::{ReferenceRun, SweepReferences};
use snuffer_rundir::{read_curve, RunCurve, RunState, Sweep};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A read of the sweep may take at most `1 / (1 + READ_PAUSE_FACTOR)` of the run's time.
const READ_PAUSE_FACTOR: u32 = 19;

/// What a run that ended left for the others (read once).
#[derive(Debug, Clone)]
enum Ended {
    Reference(ReferenceRun),
    Nothing,
}

/// The sweep a run belongs to and the references read from it.
#[derive(Debug)]
pub(crate) struct SweepWatch {
    dir: PathBuf,
    /// This run's directory name inside the sweep.
    own: String,
    metric_name: String,
    direction: Direction,
    refs: SweepReferences,
    ended: HashMap<String, Ended>,
    /// Keys of the sentences already said (one per run and reason).
    said: HashSet<String>,
    /// When the last read started and how long it took.
    last_read: Option<(Instant, Duration)>,
    /// Reads done.
    pub(crate) reads: u32,
    /// Every sentence said, for the summary.
    pub(crate) notes: Vec<String>,
}

impl SweepWatch {
    /// Watches the sweep in `sweep` for the run writing `own_dir`.
    pub(crate) fn new(
        sweep: &Path,
        own_dir: &Path,
        metric_name: &str,
        direction: Direction,
    ) -> SweepWatch {
        SweepWatch {
            dir: sweep.to_path_buf(),
            own: own_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            metric_name: metric_name.to_string(),
            direction,
            refs: SweepReferences::new(),
            ended: HashMap::new(),
            said: HashSet::new(),
            last_read: None,
            reads: 0,
            notes: Vec::new(),
        }
    }

    /// The sweep directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The references as of the last read.
    pub(crate) fn references(&self) -> &SweepReferences {
        &self.refs
    }

    /// Whether a read at `now` keeps reading within its share of the run's time.
    pub(crate) fn due(&self, now: Instant) -> bool {
        match self.last_read {
            None => true,
            Some((at, took)) => now.saturating_duration_since(at) >= took * READ_PAUSE_FACTOR,
        }
    }

    /// Re-reads the sweep; returns the sentences to say (each said once per run).
    pub(crate) fn refresh(&mut self) -> Vec<String> {
        let started = Instant::now();
        let mut say = Vec::new();
        match Sweep::open(&self.dir).and_then(|s| s.list_runs()) {
            Ok(runs) => {
                let mut refs = SweepReferences::new();
                for run in runs {
                    if run.name == self.own {
                        continue;
                    }
                    let name = run.name.clone();
                    if let Some(ended) = self.ended.get(&name) {
                        if let Ended::Reference(r) = ended {
                            refs.push(r.clone());
                        }
                        continue;
                    }
                    let curve = read_curve(run);
                    let has_ended = matches!(
                        curve.status.state,
                        RunState::Completed { .. }
                            | RunState::Stopped { .. }
                            | RunState::Dropped { .. }
                    );
                    let got = self.reference(&curve);
                    let kept = match got {
                        Ok(Some(r)) => {
                            refs.push(r.clone());
                            Ended::Reference(r)
                        }
                        Ok(None) => Ended::Nothing,
                        Err((key, sentence)) => {
                            self.say_once(format!("{name}: {key}"), sentence, &mut say);
                            Ended::Nothing
                        }
                    };
                    if has_ended {
                        self.ended.insert(name, kept);
                    }
                }
                self.refs = refs;
            }
            Err(e) => self.say_once(
                "list".into(),
                format!(
                    "cannot read the sweep {} ({e}); the policy goes on with the {} earlier \
                     run(s) it read before",
                    self.dir.display(),
                    self.refs.len()
                ),
                &mut say,
            ),
        }
        self.reads += 1;
        self.last_read = Some((started, started.elapsed()));
        say
    }

    fn say_once(&mut self, key: String, sentence: String, say: &mut Vec<String>) {
        if self.said.insert(key) {
            self.notes.push(sentence.clone());
            say.push(sentence);
        }
    }

    /// The reference `curve` gives this run: `Ok(None)` when it has nothing yet (a run
    /// just started, or no finite value), `Err((reason key, sentence))` when it cannot be
    /// one.
    fn reference(&self, curve: &RunCurve) -> Result<Option<ReferenceRun>, (String, String)> {
        let name = &curve.run.name;
        if let Some(issue) = curve.issues.first() {
            return Err((
                "damaged".into(),
                format!(
                    "sweep run {name} is left out of this run's references: its files are \
                     damaged ({issue})"
                ),
            ));
        }
        if curve.points.is_empty() {
            return Ok(None);
        }
        let same_metric = curve.metric_name.as_deref() == Some(self.metric_name.as_str())
            && curve.higher_is_better == (self.direction == Direction::HigherIsBetter);
        if !same_metric {
            let theirs = curve.metric_name.as_deref().unwrap_or("an unnamed metric");
            let how = if curve.higher_is_better {
                "higher is better"
            } else {
                "lower is better"
            };
            return Err((
                "metric".into(),
                format!(
                    "sweep run {name} monitors {theirs} ({how}), not {}: it is not a \
                     reference for this run",
                    self.metric_name
                ),
            ));
        }
        let Some(planned) = curve.planned_steps.filter(|&p| p > 0) else {
            return Err((
                "plan".into(),
                format!(
                    "sweep run {name} has no planned_steps: runs of a sweep are compared at \
                     the same share of their plan, so it is not a reference"
                ),
            ));
        };
        let steps: Vec<f64> = curve.points.iter().map(|p| p.step as f64).collect();
        let metrics: Vec<f64> = curve.points.iter().map(|p| p.metric).collect();
        Ok(ReferenceRun::from_recorded(
            &steps,
            &metrics,
            planned as f64,
            self.direction,
        ))
    }
}
