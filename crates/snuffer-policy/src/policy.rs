//! The stop-policy contract: what a policy sees ([`Observation`]) and what it answers
//! ([`Decision`], with a [`StopReason`] for every stop).

use crate::evidence::{Evidence, GainCheck};
use serde::{Deserialize, Serialize};
use snuffer_energy::{Joules, Provenance, Watts};
use snuffer_forecast::{Direction, Forecast};
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
    /// The latest training loss, if the loop reports one (may be NaN: [`crate::Divergence`]
    /// stops on it).
    pub loss: Option<f64>,
    /// Direction of the metric.
    pub direction: Direction,
    /// The latest forecast, if one was refitted at this check. Policies that need a
    /// forecast keep a copy of the last one they were given.
    pub forecast: Option<&'a Forecast>,
    /// The earlier runs of the sweep this run belongs to (each known only as far as it was
    /// recorded), if any: [`crate::MarginalGain`] then also weighs the run against the
    /// sweep's best.
    pub sweep: Option<&'a crate::SweepReferences>,
}

/// Why a run should stop, with the numbers that justified it.
///
/// Serialised as `{"policy": …, "message": …, "evidence": {"kind": …, …}}` (see
/// [`Evidence`]); `snuffer replay --json` prints it as each run's `reason`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopReason {
    /// The policy that fired (`marginal_gain`, `patience`, `target`, `divergence`, `budget`,
    /// or a custom policy's name).
    pub policy: String,
    /// One sentence with the numbers, for humans.
    pub message: String,
    /// The numbers, typed per policy.
    pub evidence: Evidence,
}

impl StopReason {
    /// A reason from a message and typed evidence; the policy name is the evidence's
    /// ([`Evidence::policy`]).
    pub fn new(message: String, evidence: Evidence) -> Self {
        StopReason {
            policy: evidence.policy().to_string(),
            message,
            evidence,
        }
    }

    /// A reason for a policy outside this crate: its name, a message and `(name, value)`
    /// numbers ([`Evidence::Other`]).
    pub fn other(policy: &str, message: String, numbers: &[(&str, f64)]) -> Self {
        StopReason {
            policy: policy.to_string(),
            message,
            evidence: Evidence::other(numbers),
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
    /// The numbers, typed per policy.
    pub evidence: Evidence,
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

    /// The latest gain-per-kWh check, for progress displays and eval lines: what the policy
    /// compared with τ at its last full check, with the evidence a stop would carry (for
    /// [`crate::MarginalGain`], [`Evidence::MarginalGain`]). Default: none (policies that do
    /// not weigh energy).
    fn gain_check(&self) -> Option<GainCheck> {
        None
    }

    /// The threshold τ this policy weighs gains against, for logs and displays (the run
    /// tracker records it on the start line and in the summary). Default: none (policies
    /// that do not weigh energy).
    fn tau(&self) -> Option<crate::Tau> {
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
    fn gain_check(&self) -> Option<GainCheck> {
        (**self).gain_check()
    }
    fn tau(&self) -> Option<crate::Tau> {
        (**self).tau()
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
    fn gain_check(&self) -> Option<GainCheck> {
        self.as_ref().and_then(|p| p.gain_check())
    }
    fn tau(&self) -> Option<crate::Tau> {
        self.as_ref().and_then(|p| p.tau())
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

/// Observations for unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    static COUNTER: Provenance = Provenance::Counter;

    /// One row of a table-driven policy test: why, settings, metrics, direction, stop index.
    pub type Row<'a, P> = (&'a str, P, &'a [f64], Direction, Option<usize>);

    /// An evaluation at `step` with `metric`, `kwh` spent so far, a plan of `planned` steps.
    pub fn obs(
        step: u64,
        metric: f64,
        kwh: f64,
        planned: u64,
        direction: Direction,
    ) -> Observation<'static> {
        Observation {
            step,
            planned_steps: Some(planned),
            elapsed: Duration::from_secs(step),
            energy: Joules::from_kwh(kwh),
            provenance: &COUNTER,
            recent_power: None,
            metric: Some(metric),
            loss: None,
            direction,
            forecast: None,
            sweep: None,
        }
    }

    /// Feed `metrics` (one per step, 1 kWh each) and return the 0-based index of the stop.
    pub fn stop_index(
        policy: &mut dyn StopPolicy,
        metrics: &[f64],
        direction: Direction,
    ) -> Option<usize> {
        let n = metrics.len() as u64;
        metrics.iter().enumerate().find_map(|(i, &m)| {
            let o = obs(i as u64 + 1, m, i as f64 + 1.0, n, direction);
            policy.observe(&o).is_stop().then_some(i)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;

    #[test]
    fn option_none_never_stops_and_box_delegates() {
        let mut none: Option<Never> = None;
        assert_eq!(
            stop_index(&mut none, &[f64::NAN; 3], Direction::HigherIsBetter),
            None
        );
        let mut boxed: Box<dyn StopPolicy> = Box::new(Never);
        assert_eq!(boxed.name(), "never");
        assert!(boxed.take_warnings().is_empty());
    }

    #[test]
    fn decision_serialises_with_a_tag() {
        let d = Decision::Stop(StopReason::new(
            "reached".into(),
            Evidence::Target(crate::TargetEvidence {
                step: 3,
                metric: 0.9,
                target: 0.8,
            }),
        ));
        let json = serde_json::to_string(&d).unwrap();
        assert!(
            json.contains("\"decision\":\"stop\"")
                && json.contains("\"policy\":\"target\"")
                && json.contains("\"kind\":\"target\"")
                && json.contains("\"step\":3"),
            "{json}"
        );
        let back: Decision = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert_eq!(d.reason().map(|r| r.policy.as_str()), Some("target"));
        assert!(!Decision::Continue.is_stop());
    }
}
