//! The tracker's state, one type per job: the clock and counters (the hot path's), what
//! the run is, the best so far, the stop state, and the sweep it joined. [`Run`](super::Run)
//! holds one of each.

use super::stamps::StampBuffer;
use super::sweep::SweepWatch;
use crate::Error;
use snuffer_forecast::Direction;
use snuffer_policy::{Evidence, MarginalEvidence, StopPolicy, StopReason, Tau};
use std::path::PathBuf;

/// Step lines per doubling of `log_every` when the plan is unknown.
const LINES_PER_LEVEL: u64 = 1000;

/// Clock and counters: steps (the hot path's), the step log's cadence and its pending
/// stamps, lines written and evaluations.
pub(super) struct Clock {
    /// Steps stamped so far.
    pub(super) steps: u64,
    /// The step at which the next stamp is buffered.
    pub(super) next_mark: u64,
    /// The latest training loss recorded.
    pub(super) loss: Option<f64>,
    /// Stamps waiting for their step lines.
    pub(super) pending: StampBuffer,
    /// Steps between step lines.
    pub(super) log_every: u64,
    /// Whether `log_every` doubles after each [`LINES_PER_LEVEL`] lines (no plan).
    pub(super) adaptive_log: bool,
    /// Step lines at the current `log_every`.
    lines_at_level: u64,
    /// Lines passed to the sinks (the length of `steps.jsonl`).
    pub(super) lines: u64,
    /// Evaluations so far.
    pub(super) evaluations: u64,
    /// An error from a step-line write inside `step`, reported by the next `eval`.
    pub(super) deferred: Option<Error>,
}

impl Clock {
    /// A clock at step 0 that has written the start line.
    pub(super) fn new(log_every: u64, adaptive_log: bool, pending: usize) -> Clock {
        Clock {
            steps: 0,
            next_mark: log_every,
            loss: None,
            pending: StampBuffer::with_capacity(pending),
            log_every,
            adaptive_log,
            lines_at_level: 0,
            lines: 1,
            evaluations: 0,
            deferred: None,
        }
    }

    /// One step line written: counts it, and doubles `log_every` every
    /// [`LINES_PER_LEVEL`] lines when the plan is unknown.
    pub(super) fn step_line_written(&mut self) {
        self.lines += 1;
        if self.adaptive_log {
            self.lines_at_level += 1;
            if self.lines_at_level >= LINES_PER_LEVEL {
                self.lines_at_level = 0;
                self.log_every = self.log_every.saturating_mul(2);
                self.next_mark = self.steps + self.log_every;
            }
        }
    }
}

/// What the run is: its name, directory and settings that never change.
pub(super) struct RunInfo {
    pub(super) name: String,
    pub(super) dir: PathBuf,
    /// RFC 3339 start time.
    pub(super) started_at: String,
    pub(super) planned: Option<u64>,
    pub(super) metric_name: String,
    pub(super) direction: Direction,
    pub(super) footprint: snuffer_footprint::FootprintConfig,
    /// The address the Prometheus exporter listens on, when one was asked for.
    pub(super) prometheus_addr: Option<std::net::SocketAddr>,
}

/// The best evaluation so far and the latest metric.
#[derive(Debug, Default)]
pub(super) struct Best {
    /// `(step, metric)`: finite values only, the first with the best value.
    pub(super) best: Option<(u64, f64)>,
    /// The latest metric as given (may be NaN).
    pub(super) last_metric: Option<f64>,
}

impl Best {
    /// Records `metric` at `step`; whether it is strictly better than every earlier finite
    /// value.
    pub(super) fn update(&mut self, direction: Direction, step: u64, metric: f64) -> bool {
        let new_best = metric.is_finite()
            && self
                .best
                .is_none_or(|(_, b)| direction.orient(metric) > direction.orient(b));
        if new_best {
            self.best = Some((step, metric));
        }
        self.last_metric = Some(metric);
        new_best
    }
}

/// The first stop the policy called, with the energy and the forecast saving then.
#[derive(Debug, Clone)]
pub(super) struct StopAt {
    pub(super) step: u64,
    pub(super) reason: StopReason,
    pub(super) energy_j: f64,
    /// (forecast full-run energy, forecast saving), J.
    pub(super) savings: Option<(f64, f64)>,
}

/// The policy and what it said: the first stop, the latest evidence and gain check.
pub(super) struct StopState {
    pub(super) policy: Option<Box<dyn StopPolicy>>,
    /// Its name or description, for the logs.
    pub(super) name: Option<String>,
    /// τ as the policy states it ([`StopPolicy::tau`]).
    pub(super) tau: Option<Tau>,
    /// The first stop.
    pub(super) stop: Option<StopAt>,
    /// The evidence of the latest stop decision.
    pub(super) last_evidence: Option<Evidence>,
    /// The marginal-gain policy's latest check, when it exposes one.
    pub(super) gauge: Option<MarginalEvidence>,
    /// Whether the run said it is too short to measure (once).
    pub(super) unmeasured_said: bool,
    /// Whether a non-finite loss stops the run (when a policy is set).
    pub(super) stop_on_bad_loss: bool,
}

impl StopState {
    /// The state before any evaluation.
    pub(super) fn new(
        policy: Option<Box<dyn StopPolicy>>,
        name: Option<String>,
        stop_on_bad_loss: bool,
    ) -> StopState {
        StopState {
            tau: policy.as_ref().and_then(|p| p.tau()),
            policy,
            name,
            stop: None,
            last_evidence: None,
            gauge: None,
            unmeasured_said: false,
            stop_on_bad_loss,
        }
    }

    /// τ per kWh when it does not depend on the run (set per kWh or as a price).
    pub(super) fn fixed_tau(&self) -> Option<f64> {
        self.tau.as_ref().and_then(Tau::fixed_per_kwh)
    }

    /// The latest marginal-gain numbers: this step's check, else the stop's.
    pub(super) fn latest_marginal(&self) -> Option<&MarginalEvidence> {
        self.gauge
            .as_ref()
            .or_else(|| self.last_evidence.as_ref()?.marginal())
    }

    /// τ per kWh the run is judged by: the fixed one, else the one the policy resolved at
    /// its latest check (a relative τ); with the words that say which.
    pub(super) fn tau_per_kwh(&self) -> Option<(f64, &'static str)> {
        match (self.fixed_tau(), self.latest_marginal()) {
            (Some(t), _) => Some((t, "set per kWh")),
            (None, Some(m)) => Some((
                m.tau_per_kwh,
                "resolved by the policy at its last check (relative τ)",
            )),
            (None, None) => None,
        }
    }
}

/// The sweep this run joined, if any.
pub(super) enum SweepState {
    /// Not in a sweep, or in one without a policy to use its runs.
    Alone,
    /// In a sweep whose runs the policy sees.
    Watching(Box<SweepWatch>),
    /// In a sweep whose runs cannot be used (no plan), and why.
    Unusable { dir: PathBuf, why: String },
}

impl SweepState {
    /// The watch, when the run uses the sweep.
    pub(super) fn watch(&self) -> Option<&SweepWatch> {
        match self {
            SweepState::Watching(w) => Some(w),
            _ => None,
        }
    }

    /// The `sweep` block of `summary.json`'s `extra`.
    pub(super) fn extra(&self) -> Option<snuffer_rundir::SweepExtra> {
        match self {
            SweepState::Alone => None,
            SweepState::Watching(w) => Some(snuffer_rundir::SweepExtra {
                dir: w.dir().to_path_buf(),
                notes: w.notes.clone(),
                reads: u64::from(w.reads),
                references: w.references().len() as u64,
            }),
            SweepState::Unusable { dir, why } => Some(snuffer_rundir::SweepExtra {
                dir: dir.clone(),
                notes: vec![why.clone()],
                reads: 0,
                references: 0,
            }),
        }
    }
}
