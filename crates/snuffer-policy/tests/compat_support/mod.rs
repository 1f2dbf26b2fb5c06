//! Helpers of the translated early-stopping tests (`compat_keras.rs`, `compat_lightning.rs`,
//! `compat_hf.rs`): feed a framework test's metric sequence to a policy, one evaluation
//! per epoch, and say where it stopped.
//!
//! Epoch `e` of a framework (counted from 0) is step `e + 1` (epochs completed), so the
//! 0-based index of the stop is the framework's `stopped_epoch` / `current_epoch - 1`.
#![allow(dead_code)] // not every test binary uses every helper

use snuffer_energy::{Joules, Provenance};
use snuffer_forecast::Direction;
use snuffer_policy::{
    AnyOf, Compat, Decision, Divergence, Observation, Patience, PatienceConfig, StopPolicy, Target,
};
use std::time::Duration;

static COUNTER: Provenance = Provenance::Counter;

/// An evaluation at `step` (metric `None`: a step without one).
pub fn obs(step: u64, metric: Option<f64>, direction: Direction) -> Observation<'static> {
    Observation {
        step,
        planned_steps: None,
        elapsed: Duration::from_secs(step),
        energy: Joules(step as f64),
        provenance: &COUNTER,
        recent_power: None,
        metric,
        loss: None,
        direction,
        forecast: None,
        sweep: None,
    }
}

/// Feeds `metrics` as epochs 0, 1, …; returns the epoch of the stop and its policy's name.
pub fn stop(
    policy: &mut dyn StopPolicy,
    metrics: &[f64],
    direction: Direction,
) -> Option<(usize, String)> {
    metrics.iter().enumerate().find_map(|(e, &m)| {
        match policy.observe(&obs(e as u64 + 1, Some(m), direction)) {
            Decision::Stop(r) => Some((e, r.policy)),
            Decision::Continue => None,
        }
    })
}

/// The epoch of the stop.
pub fn stop_epoch(
    policy: &mut dyn StopPolicy,
    metrics: &[f64],
    direction: Direction,
) -> Option<usize> {
    stop(policy, metrics, direction).map(|(e, _)| e)
}

/// A framework's `EarlyStopping` as the CLI composes it, in Lightning's order of checks:
/// the non-finite check (when `check_finite`), the target (stopping threshold), the
/// divergence bound, patience.
pub fn early_stopping(
    compat: Compat,
    patience: PatienceConfig,
    check_finite: bool,
    stopping_threshold: Option<f64>,
    divergence_threshold: Option<f64>,
) -> AnyOf {
    let mut any = AnyOf::new().with(Divergence::non_finite().with_check_finite(check_finite));
    if let Some(t) = stopping_threshold {
        any = any.with(Target::new(t).unwrap().with_compat(compat));
    }
    if let Some(b) = divergence_threshold {
        let bound = Divergence::non_finite().with_check_finite(false);
        any = any.with(bound.with_bound(b).unwrap());
    }
    any.with(Patience::new(patience.with_compat(compat)).unwrap())
}
