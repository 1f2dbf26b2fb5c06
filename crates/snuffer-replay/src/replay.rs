//! Replay: run the *same* policy code over recorded curves, as the run tracker would
//! during training, and score where it stopped against the hindsight oracle.
//!
//! For each run the replay feeds one [`Observation`] per recorded evaluation, with the
//! cumulative energy of that row ([`CurveRun::cumulative_energy`]), the run's last step as
//! its planned length (a user knows how many epochs were planned) and nothing else of the
//! future. It refits the forecast at every evaluation up to [`REFIT_EVERY_POINT_UNTIL`]
//! points, as a live run does, then on a geometric cadence (each refit after the number of
//! points grew by [`ReplayConfig::refit_growth`], or a tenth of the plan passed), which is
//! what keeps a whole sweep fast, and hands each new forecast to the policy.
//!
//! Scoring follows the project's evaluator: utility `U(k) = B(k) − τ·E(k)` with `B` the
//! best-so-far in the good direction (a non-finite value counts as the worst finite value
//! of the run), `E` in kWh; the oracle is the earliest argmax of `U`; the capture is
//! `(U(stop) − U(full)) / (U(oracle) − U(full))`, 1 when the full run is already optimal and
//! the policy ran to the end.

use crate::curves::{CurveRun, EnergyAssumptions, EnergyBasis};
use crate::Oracle;
use serde::Serialize;
use snuffer_energy::{Joules, Provenance, JOULES_PER_KWH};
use snuffer_forecast::{Bounds, ForecastConfig, Forecaster};
use snuffer_policy::{
    Decision, Observation, ReferenceRun, StopPolicy, StopReason, SweepReferences,
};
use std::time::Duration;

/// Runs are refitted at every evaluation up to this many finite points (then on the
/// geometric cadence of [`ReplayConfig::refit_growth`]).
pub const REFIT_EVERY_POINT_UNTIL: usize = 30;

/// Settings of a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayConfig {
    /// Power and per-step energy for runs without recorded energy.
    pub energy: EnergyAssumptions,
    /// τ (metric units per kWh) for the oracle and the capture; `None` leaves them out.
    pub tau_per_kwh: Option<f64>,
    /// Refit the forecast once the number of finite points has grown by this factor (> 1).
    pub refit_growth: f64,
    /// Feed forecasts to the policy at all (policies that ignore them run faster without).
    pub forecasts: bool,
    /// The forecaster's cold-start priors.
    pub tuning: snuffer_forecast::Tuning,
}

impl Default for ReplayConfig {
    fn default() -> Self {
        ReplayConfig {
            energy: EnergyAssumptions::default(),
            tau_per_kwh: None,
            refit_growth: 1.2,
            forecasts: true,
            tuning: snuffer_forecast::Tuning::default(),
        }
    }
}

/// The outcome of one replayed run (field names are those of `snuffer replay --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReplay {
    /// Source of the run.
    pub source: String,
    /// Task.
    pub task: String,
    /// Run id.
    pub run_id: String,
    /// Step at which the policy stopped (the last step when it never did).
    pub stop_step: f64,
    /// The run's last recorded step (its planned length).
    pub last_step: f64,
    /// Energy spent up to the stop, J.
    pub energy_used_j: f64,
    /// Energy of the full run, J.
    pub energy_full_j: f64,
    /// Best metric (own units) reached by the stop; `None` when no finite value was seen.
    pub best_at_stop: Option<f64>,
    /// Best metric of the full run.
    pub best_full: Option<f64>,
    /// Step of the hindsight oracle (needs τ).
    pub oracle_step: Option<f64>,
    /// Share of the oracle's utility gain captured (needs τ).
    pub utility_capture: Option<f64>,
    /// Regret versus the full run's best, in metric units, good direction (≥ 0 is worse).
    pub regret: Option<f64>,
    /// Whether the policy stopped the run: true whenever `reason` is set, also when the stop
    /// falls on the last recorded row.
    pub stopped: bool,
    /// Whether it stopped before the last recorded row (what saves energy).
    pub stopped_early: bool,
    /// Step of the evaluation whose weights a run stopped here restores: the raw strict
    /// best up to the stop (the first evaluation with the best finite value), reported with
    /// or without a stop; `None` without a finite value.
    pub best_step: Option<f64>,
    /// Why it stopped.
    pub reason: Option<StopReason>,
    /// Why it could not stop early, when it could tell (e.g. shorter than the warm-up).
    pub note: Option<String>,
    /// How the energy was obtained (`recorded`, `time_x_power`, `steps_x_step_energy`).
    pub energy_basis: &'static str,
}

/// Totals over a set of replayed runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplaySummary {
    /// 1 − energy used / energy of the full runs, over all runs.
    pub energy_saved: f64,
    /// Median regret (metric units, good direction) over runs with a finite best.
    pub median_regret: Option<f64>,
    /// Mean regret.
    pub mean_regret: Option<f64>,
    /// Median utility capture over runs where it is defined.
    pub utility_capture_median: Option<f64>,
    /// Number of runs.
    pub runs: usize,
    /// Runs the policy stopped before their last recorded row.
    pub stopped: usize,
}

/// Forecast settings for a recorded run, with the bounds [`Bounds::infer`] gives from the
/// metric's name and its first finite value (what a live run knows when it starts: no look
/// ahead). A later value outside them makes the fit fail, and the replay refits unbounded.
pub fn forecast_config_for(run: &CurveRun) -> ForecastConfig {
    let first: Vec<f64> = run
        .metrics
        .iter()
        .copied()
        .find(|v| v.is_finite())
        .into_iter()
        .collect();
    ForecastConfig::new(run.direction()).with_bounds(Bounds::infer(
        &run.metric_name,
        run.direction(),
        &first,
    ))
}

/// Integer steps for the policy: recorded steps may be fractional (MLPerf epochs), so they
/// are scaled by a power of ten that makes them whole (at most 10⁶). A policy setting in
/// steps (a warm-up, `start_from`, `min_steps`) must be multiplied by it to keep its meaning
/// in recorded steps.
pub fn step_scale(steps: &[f64]) -> f64 {
    let mut scale = 1.0;
    for _ in 0..6 {
        if steps
            .iter()
            .all(|s| ((s * scale).round() - s * scale).abs() < 1e-6)
        {
            return scale;
        }
        scale *= 10.0;
    }
    scale
}

/// The policies word steps as whole numbers, so a run whose steps have fractions (epochs
/// 0.5, 1.5, …) is replayed on its steps × `scale` ([`step_scale`]); its stop reason is put
/// back in the run's own units: every "step N" of the sentence becomes "step N / scale"
/// (the typed evidence keeps the scaled steps).
fn in_run_units(message: &str, scale: f64) -> String {
    if scale == 1.0 {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("step ") {
        let (head, tail) = rest.split_at(i + "step ".len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        match tail[..digits].parse::<u64>() {
            Ok(n) => out.push_str(&(n as f64 / scale).to_string()),
            Err(_) => out.push_str(&tail[..digits]),
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// Replay one run through `policy` (which is [`StopPolicy::reset`] first).
pub fn replay_run(run: &CurveRun, policy: &mut dyn StopPolicy, config: &ReplayConfig) -> RunReplay {
    replay_run_in(run, policy, config, None)
}

/// Replay the runs of one sweep in their recorded order: each run sees the earlier ones as
/// [`Observation::sweep`], each known only up to where the policy stopped it (never
/// beyond), exactly as runs that write to one sweep directory see each other. Only earlier
/// runs with the same metric (name and direction) count.
pub fn replay_sweep(
    runs: &[CurveRun],
    policy: &mut dyn StopPolicy,
    config: &ReplayConfig,
) -> Vec<RunReplay> {
    let mut known: Vec<(String, bool, ReferenceRun)> = Vec::with_capacity(runs.len());
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        let mut refs = SweepReferences::new();
        for (name, hib, r) in &known {
            if *name == run.metric_name && *hib == run.higher_is_better {
                refs.push(r.clone());
            }
        }
        let result = replay_run_in(run, policy, config, Some(&refs));
        if let Some(r) = reference_of(run, result.stop_step) {
            known.push((run.metric_name.clone(), run.higher_is_better, r));
        }
        out.push(result);
    }
    out
}

/// What a later run of the sweep may know of `run`: its oriented values up to `stop_step`,
/// by share of its planned (last) step.
fn reference_of(run: &CurveRun, stop_step: f64) -> Option<ReferenceRun> {
    let plan = run.steps.last().copied().filter(|p| *p > 0.0)?;
    let rows = run.steps.partition_point(|&s| s <= stop_step + 1e-9);
    let shares: Vec<f64> = run.steps[..rows].iter().map(|s| s / plan).collect();
    let oriented: Vec<f64> = run.metrics[..rows]
        .iter()
        .map(|&m| run.direction().orient(m))
        .collect();
    ReferenceRun::from_values(&shares, &oriented)
}

/// [`replay_run`] with the earlier runs of a sweep.
fn replay_run_in(
    run: &CurveRun,
    policy: &mut dyn StopPolicy,
    config: &ReplayConfig,
    sweep: Option<&SweepReferences>,
) -> RunReplay {
    policy.reset();
    let n = run.len();
    let direction = run.direction();
    let energy = run.cumulative_energy(config.energy);
    let basis = run.energy_basis();
    let provenance = match basis {
        EnergyBasis::Recorded => Provenance::IntegratedPower,
        EnergyBasis::TimeTimesPower => Provenance::Estimated {
            model: format!("recorded time × {}", config.energy.power),
        },
        EnergyBasis::StepsTimesStepEnergy => Provenance::Estimated {
            model: format!("steps × {} per step", config.energy.step_energy),
        },
    };
    let scale = step_scale(&run.steps);
    let to_u64 = |s: f64| (s.max(0.0) * scale).round() as u64;
    let planned = run.steps.last().map(|&s| to_u64(s));
    let mut elapsed = 0.0;
    let mut forecaster = Forecaster::new(forecast_config_for(run).with_tuning(config.tuning));
    let min_points = forecaster.min_points().max(1);
    let mut fit_x: Vec<f64> = Vec::with_capacity(n);
    let mut fit_y: Vec<f64> = Vec::with_capacity(n);
    let mut next_fit = min_points;
    let mut last_fit_step = f64::NEG_INFINITY;
    let refit_span = planned.map_or(f64::INFINITY, |p| p as f64 / 10.0);
    let mut stop: Option<(usize, StopReason)> = None;
    // Why the forecaster failed last, and whether it ever succeeded: a run it cannot
    // forecast (e.g. values beyond ±1e300) says so instead of silently never stopping.
    let mut fit_error = None;
    let mut fitted = false;

    for i in 0..n {
        let step = to_u64(run.steps[i]);
        let metric = run.metrics[i];
        if let Some(t) = &run.epoch_time_s {
            elapsed += t[i];
        }
        let mut forecast = None;
        if config.forecasts && metric.is_finite() {
            let x = step as f64;
            // Repeated steps keep the latest value: the forecaster needs increasing steps.
            if fit_x.last() == Some(&x) {
                if let Some(y) = fit_y.last_mut() {
                    *y = metric;
                }
            } else {
                fit_x.push(x);
                fit_y.push(metric);
            }
            // A short log (a fine-tune's 10–30 evaluations) is refitted at every one, as a
            // live run is: between refits the refreshed trend overstates the gain ahead,
            // and with few evaluations every other check would disagree.
            let due = fit_x.len() <= REFIT_EVERY_POINT_UNTIL
                || fit_x.len() >= next_fit
                || x - last_fit_step >= refit_span;
            if fit_x.len() >= min_points && due {
                // A failed fit (e.g. values outside the assumed bounds) means no new
                // forecast; the policy keeps the previous one.
                forecast = forecaster.fit(&fit_x, &fit_y).ok();
                if forecast.is_none() {
                    forecaster =
                        Forecaster::new(ForecastConfig::new(direction).with_tuning(config.tuning));
                    forecast = match forecaster.fit(&fit_x, &fit_y) {
                        Ok(f) => Some(f),
                        Err(e) => {
                            fit_error = Some(e);
                            None
                        }
                    };
                }
                fitted |= forecast.is_some();
                next_fit = ((fit_x.len() as f64 * config.refit_growth).ceil() as usize)
                    .max(fit_x.len() + 1);
                last_fit_step = x;
            } else {
                // Between refits the recent trend is brought up to date (no refit).
                forecast = forecaster.refresh(&fit_x, &fit_y);
            }
        }
        let obs = Observation {
            step,
            planned_steps: planned,
            // Beyond `Duration::MAX` (~5.8e11 years: a recorded time of 1e308 s) it saturates.
            elapsed: Duration::try_from_secs_f64(elapsed.max(0.0)).unwrap_or(Duration::MAX),
            energy: energy[i],
            provenance: &provenance,
            recent_power: run.epoch_time_s.as_ref().map(|_| config.energy.power),
            metric: Some(metric),
            // Recorded curves carry no training loss; a NaN metric is the divergence signal.
            loss: None,
            direction,
            forecast: forecast.as_ref(),
            sweep,
        };
        if let Decision::Stop(mut reason) = policy.observe(&obs) {
            reason.message = in_run_units(&reason.message, scale);
            stop = Some((i, reason));
            break;
        }
    }
    let note = if stop.is_some() {
        None
    } else {
        match (policy.note(), fit_error) {
            (Some(n), _) => Some(n),
            (None, Some(e)) if !fitted => Some(format!("no forecast could be fitted: {e}")),
            (None, _) => None,
        }
    };
    let stop_row = stop.as_ref().map_or(n.saturating_sub(1), |s| s.0);
    score(
        run,
        &energy,
        stop_row,
        stop.map(|s| s.1),
        note,
        basis,
        config,
    )
}

/// Best-so-far in the good direction with non-finite values as the run's worst finite value.
fn best_so_far(run: &CurveRun) -> Option<Vec<f64>> {
    let g: Vec<f64> = run
        .metrics
        .iter()
        .map(|&m| run.direction().orient(m))
        .collect();
    let worst = g
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .reduce(f64::min)?;
    let mut b = f64::NEG_INFINITY;
    Some(
        g.iter()
            .map(|&v| {
                b = b.max(if v.is_finite() { v } else { worst });
                b
            })
            .collect(),
    )
}

fn score(
    run: &CurveRun,
    energy: &[Joules],
    stop_row: usize,
    reason: Option<StopReason>,
    note: Option<String>,
    basis: EnergyBasis,
    config: &ReplayConfig,
) -> RunReplay {
    let n = run.len();
    let last = n.saturating_sub(1);
    let dir = run.direction();
    let e = |k: usize| energy.get(k).map_or(0.0, |j| j.0);
    let b = best_so_far(run);
    // No best before the first finite value (a first evaluation of NaN or inf): the
    // stand-in for non-finite values is the run's worst finite one, which may only come
    // later, so it must not count as "reached by the stop".
    let first_finite = run.metrics.iter().position(|m| m.is_finite());
    let best_at = |k: usize| {
        b.as_ref()
            .filter(|_| first_finite.is_some_and(|f| f <= k))
            .map(|b| dir.orient(b[k]))
    };
    let (oracle_step, capture) = match (&b, config.tau_per_kwh) {
        (Some(b), Some(tau)) if n > 0 => {
            let mut scan = Oracle::new(tau);
            for (k, best) in b.iter().enumerate() {
                scan.push_best(*best, e(k) / JOULES_PER_KWH);
            }
            let oracle = scan.result().map_or(last, |o| o.index);
            let u = |k: usize| scan.utility(b[k], e(k) / JOULES_PER_KWH);
            let denom = u(oracle) - u(last);
            let num = u(stop_row) - u(last);
            let scale = 1e-12 * (1.0 + u(last).abs());
            let capture = if denom > scale {
                Some(num / denom)
            } else if num >= -scale {
                Some(1.0)
            } else {
                // The full run was optimal and the policy lost utility: no ratio exists.
                None
            };
            (Some(run.steps[oracle]), capture)
        }
        _ => (None, None),
    };
    let best_full = best_at(last);
    let best_at_stop = best_at(stop_row);
    let regret = match (best_full, best_at_stop) {
        (Some(f), Some(s)) => Some(dir.orient(f) - dir.orient(s)),
        _ => None,
    };
    RunReplay {
        source: run.source.clone(),
        task: run.task.clone(),
        run_id: run.run_id.clone(),
        stop_step: run.steps.get(stop_row).copied().unwrap_or(0.0),
        last_step: run.steps.get(last).copied().unwrap_or(0.0),
        energy_used_j: e(stop_row),
        energy_full_j: e(last),
        best_at_stop,
        best_full,
        oracle_step,
        utility_capture: capture,
        regret,
        stopped: reason.is_some(),
        stopped_early: reason.is_some() && stop_row < last,
        best_step: best_step(run, stop_row),
        reason,
        note,
        energy_basis: match basis {
            EnergyBasis::Recorded => "recorded",
            EnergyBasis::TimeTimesPower => "time_x_power",
            EnergyBasis::StepsTimesStepEnergy => "steps_x_step_energy",
        },
    }
}

/// The step of the first row with the best finite value among rows `0..=stop_row`.
fn best_step(run: &CurveRun, stop_row: usize) -> Option<f64> {
    let dir = run.direction();
    let mut best: Option<(f64, f64)> = None;
    for (&step, &m) in run.steps.iter().zip(&run.metrics).take(stop_row + 1) {
        let v = dir.orient(m);
        if v.is_finite() && best.is_none_or(|(_, b)| v > b) {
            best = Some((step, v));
        }
    }
    best.map(|(s, _)| s)
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    })
}

/// Totals over replayed runs.
pub fn summarize(runs: &[RunReplay]) -> ReplaySummary {
    let used: f64 = runs.iter().map(|r| r.energy_used_j).sum();
    let full: f64 = runs.iter().map(|r| r.energy_full_j).sum();
    let regrets: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.regret)
        .filter(|r| r.is_finite())
        .collect();
    let mean_regret =
        (!regrets.is_empty()).then(|| regrets.iter().sum::<f64>() / regrets.len() as f64);
    ReplaySummary {
        energy_saved: if full > 0.0 { 1.0 - used / full } else { 0.0 },
        median_regret: median(regrets),
        mean_regret,
        utility_capture_median: median(runs.iter().filter_map(|r| r.utility_capture).collect()),
        runs: runs.len(),
        stopped: runs.iter().filter(|r| r.stopped_early).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use snuffer_policy::{Never, Patience, PatienceConfig};

    fn run(metrics: Vec<f64>, steps: Vec<f64>, hib: bool) -> CurveRun {
        CurveRun {
            source: "p".into(),
            task: "t".into(),
            run_id: "r".into(),
            metric_name: "m".into(),
            higher_is_better: hib,
            steps,
            metrics,
            epoch_time_s: None,
            energy_j: None,
        }
    }

    #[test]
    fn never_captures_nothing_and_the_oracle_is_where_utility_peaks() {
        // Steps 1..=4, 1 J per step at the default assumptions; τ = 3.6e6 per kWh = 1 per J.
        let r = run(vec![1.0, 5.0, 5.5, 5.6], vec![1.0, 2.0, 3.0, 4.0], true);
        let config = ReplayConfig {
            tau_per_kwh: Some(JOULES_PER_KWH),
            forecasts: false,
            ..ReplayConfig::default()
        };
        let out = replay_run(&r, &mut Never, &config);
        // U = 0, 3, 2.5, 1.6: the oracle stops at step 2.
        assert_eq!(out.oracle_step, Some(2.0));
        assert_eq!(out.utility_capture, Some(0.0));
        assert_eq!(out.stop_step, 4.0);
        assert!(!out.stopped);
    }

    /// Found by `fuzz/` (trainer_state target): a recorded time past what a `Duration`
    /// holds (`train_runtime` 1e308, and ±inf once summed) panicked the replay.
    #[test]
    fn fuzz_a_time_too_long_for_a_duration_saturates() {
        for t in [1e308, f64::INFINITY, f64::NAN, -1e308] {
            let mut r = run(vec![0.5, f64::NAN, 0.4], vec![10.0, 20.0, 30.0], false);
            r.epoch_time_s = Some(vec![t, t, 1.0]);
            for forecasts in [false, true] {
                let config = ReplayConfig {
                    forecasts,
                    ..ReplayConfig::default()
                };
                let out = replay_run(&r, &mut Never, &config);
                assert_eq!(out.stop_step, 30.0, "{t}");
            }
        }
    }

    #[test]
    fn a_stop_on_the_last_row_is_a_stop_and_the_best_step_is_always_reported() {
        let config = ReplayConfig {
            forecasts: false,
            ..ReplayConfig::default()
        };
        // Patience 1 fires on the last row (0.4 after 0.5).
        let r = run(vec![0.1, 0.5, 0.4], vec![1.0, 2.0, 3.0], true);
        let mut p = Patience::new(PatienceConfig::new(1)).unwrap();
        let out = replay_run(&r, &mut p, &config);
        assert!(out.stopped && out.reason.is_some() && !out.stopped_early);
        assert_eq!((out.stop_step, out.best_step), (3.0, Some(2.0)));
        assert_eq!(
            summarize(&[out]).stopped,
            0,
            "the summary counts early stops"
        );
        // Without a stop the best step is still there; ties keep the first.
        let r = run(
            vec![3.0, 1.0, 1.0, f64::NAN],
            vec![1.0, 2.0, 3.0, 4.0],
            false,
        );
        let out = replay_run(&r, &mut Never, &config);
        assert!(!out.stopped && !out.stopped_early);
        assert_eq!(out.best_step, Some(2.0));
    }

    #[test]
    fn a_run_the_forecaster_cannot_fit_says_why() {
        let metrics = (0..10)
            .map(|i| if i % 2 == 0 { 1e308 } else { -1e308 })
            .collect();
        let r = run(metrics, (1..=10).map(f64::from).collect(), true);
        let mut p = snuffer_policy::MarginalGain::new(snuffer_policy::MarginalGainConfig::new(
            snuffer_policy::Tau::PerKwh(1.0),
        ))
        .unwrap();
        let out = replay_run(&r, &mut p, &ReplayConfig::default());
        assert!(!out.stopped);
        let note = out.note.unwrap_or_default();
        assert!(
            note.contains("no forecast could be fitted") && note.contains("1e308"),
            "{note}"
        );
    }

    proptest! {
        #[test]
        fn replay_never_panics_and_capture_is_at_most_one(
            pts in proptest::collection::vec((0.0f64..100.0, prop_oneof![Just(f64::NAN), -10.0f64..10.0]), 1..30),
            hib in any::<bool>(),
            tau in 0.0f64..1e7,
            patience in 1u32..4,
        ) {
            let (mut steps, metrics): (Vec<f64>, Vec<f64>) = pts.into_iter().unzip();
            steps.sort_by(f64::total_cmp);
            let r = run(metrics, steps, hib);
            let config = ReplayConfig { tau_per_kwh: Some(tau), forecasts: false, ..ReplayConfig::default() };
            let mut p = Patience::new(PatienceConfig::new(patience)).unwrap();
            let out = replay_run(&r, &mut p, &config);
            if let Some(c) = out.utility_capture {
                prop_assert!(c <= 1.0 + 1e-9, "capture {}", c);
            }
            prop_assert!(out.energy_used_j <= out.energy_full_j);
            prop_assert!(out.regret.is_none_or(|g| g >= -1e-12));
            let s = summarize(&[out]);
            prop_assert!(s.energy_saved >= -1e-12 && s.energy_saved <= 1.0);
        }
    }
}
