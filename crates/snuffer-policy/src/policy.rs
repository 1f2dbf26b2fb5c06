//! The stop-policy contract: what a policy sees ([`Observation`]) and what it answers
//! ([`Decision`], with a [`StopReason`] for every stop).

use serde::{Deserialize, Serialize};
use snuffer_energy::{Joules, Provenance, Watts};
use snuffer_forecast::{Direction, Forecast};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a policy sees at one check (after an evaluation, or at any step).
#[derive(Debug, Clone)]
pub struct Observation<'a> {
    /// Optimizer steps done so far.
    pub step: u64,
    /// Planned length of the run in steps, if known.
    pub planned_steps: Option<u64>,
    /// Wall time since the run started.
    pub elapsed: Duration,
    /// Cumulative energy since the run started (all domains).
    pub energy: Joules,
    /// Provenance of `energy`.
    pub provenance: &'a Provenance,
    /// Recently measured mean power, if known.
    pub recent_power: Option<Watts>,
    /// The metric, if this step was evaluated (own units; may be NaN).
    pub metric: Option<f64>,
    /// Direction of the metric.
    pub direction: Direction,
    /// The latest forecast, if one was refitted at this check. Policies that need a
    /// forecast keep a copy of the last one they were given.
    pub forecast: Option<&'a Forecast>,
}

/// Why a run should stop, with the numbers that justified it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopReason {
    /// The policy that fired (`marginal_gain`, `patience`, `target`, `divergence`, `budget`).
    pub policy: String,
    /// One sentence with the numbers, for humans.
    pub message: String,
    /// The numbers, by name.
    pub evidence: BTreeMap<String, f64>,
}

impl StopReason {
    /// A reason from a policy name, a message and `(name, value)` evidence pairs.
    pub fn new(policy: &str, message: String, evidence: &[(&str, f64)]) -> Self {
        StopReason {
            policy: policy.to_string(),
            message,
            evidence: evidence
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect(),
        }
    }
}

/// A policy's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Keep training.
    Continue,
    /// Stop now.
    Stop(StopReason),
}

impl Decision {
    /// True for [`Decision::Stop`].
    pub fn is_stop(&self) -> bool {
        matches!(self, Decision::Stop(_))
    }

    /// The reason, for a stop.
    pub fn reason(&self) -> Option<&StopReason> {
        match self {
            Decision::Stop(r) => Some(r),
            Decision::Continue => None,
        }
    }
}

/// Advice that does not stop the run (e.g. "the forecast energy to finish exceeds the
/// budget"). Collected with [`StopPolicy::take_warnings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// The policy that warns.
    pub policy: String,
    /// One sentence with the numbers.
    pub message: String,
    /// The numbers, by name.
    pub evidence: BTreeMap<String, f64>,
}

/// Decides whether a run should stop. Policies decide; they do no I/O.
///
/// Call [`StopPolicy::observe`] at every check, in step order, with the same run; a
/// policy keeps whatever history it needs. `Box<P>` and `Option<P>` are policies too
/// (`None` never stops), so an optional policy composes for free.
pub trait StopPolicy: Send {
    /// Look at one observation and decide.
    fn observe(&mut self, obs: &Observation<'_>) -> Decision;

    /// Short name used in stop reasons (`marginal_gain`, `patience`, …).
    fn name(&self) -> &str {
        "policy"
    }

    /// Forget the run seen so far, keeping the settings (to reuse the policy on a new run).
    fn reset(&mut self) {}

    /// Advisories produced since the last call (drained). Default: none.
    fn take_warnings(&mut self) -> Vec<Warning> {
        Vec::new()
    }

    /// Why this policy cannot stop the run early, if it can already tell (e.g. the run is
    /// shorter than its warm-up). Default: no note.
    fn note(&self) -> Option<String> {
        None
    }
}

impl<P: StopPolicy + ?Sized> StopPolicy for Box<P> {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        (**self).observe(obs)
    }
    fn name(&self) -> &str {
        (**self).name()
    }
    fn reset(&mut self) {
        (**self).reset()
    }
    fn take_warnings(&mut self) -> Vec<Warning> {
        (**self).take_warnings()
    }
    fn note(&self) -> Option<String> {
        (**self).note()
    }
}

impl<P: StopPolicy> StopPolicy for Option<P> {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        match self {
            Some(p) => p.observe(obs),
            None => Decision::Continue,
        }
    }
    fn name(&self) -> &str {
        self.as_ref().map_or("none", |p| p.name())
    }
    fn reset(&mut self) {
        if let Some(p) = self {
            p.reset()
        }
    }
    fn take_warnings(&mut self) -> Vec<Warning> {
        self.as_mut().map_or_else(Vec::new, |p| p.take_warnings())
    }
    fn note(&self) -> Option<String> {
        self.as_ref().and_then(|p| p.note())
    }
}

/// Never stops: the baseline every replay is compared with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Never;

impl StopPolicy for Never {
    fn observe(&mut self, _obs: &Observation<'_>) -> Decision {
        Decision::Continue
    }
    fn name(&self) -> &str {
        "never"
    }
}
