//! Stop policies and replay on recorded learning curves.
//!
//! (crate docs: to be completed by the policy work — open with a runnable example.)
//!
//! API CONTRACT (the run tracker in the `snuffer` facade codes against these names;
//! extend, do not rename): `Observation`, `Decision`, `StopReason`, `StopPolicy`.
#![deny(missing_docs)]

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
    /// The latest forecast, if one was refitted at this check.
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

/// A policy's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Keep training.
    Continue,
    /// Stop now.
    Stop(StopReason),
}

/// Decides whether a run should stop. Policies decide; they do no I/O.
pub trait StopPolicy: Send {
    /// Look at one observation and decide.
    fn observe(&mut self, obs: &Observation<'_>) -> Decision;
}
