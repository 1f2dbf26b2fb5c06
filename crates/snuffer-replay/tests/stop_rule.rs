//! The stop rule on the curve shapes issue 12 names, end to end through the replay (the same
//! code as a live run: forecasts refitted on the replay's cadence, brought up to date in
//! between): pure noise, a step learning-rate decay with and without the schedule, and a
//! collapse.

mod common;

use common::normal;
use snuffer_energy::JOULES_PER_KWH;
use snuffer_forecast::{Bounds, Direction, ForecastConfig, Forecaster, Tuning};
use snuffer_policy::{
    AnyOf, Divergence, Evidence, MarginalGain, MarginalGainConfig, StopPolicy, Tau,
    DEFAULT_WARMUP_FRACTION,
};
use snuffer_replay::curves::CurveRun;
use snuffer_replay::replay::{replay_run, ReplayConfig};

fn run(name: &str, metrics: Vec<f64>, kwh_per_step: f64) -> CurveRun {
    let n = metrics.len();
    CurveRun {
        source: "synthetic".into(),
        task: "shapes".into(),
        run_id: name.into(),
        metric_name: "val_acc".into(),
        higher_is_better: true,
        steps: (1..=n).map(|t| t as f64).collect(),
        metrics,
        epoch_time_s: None,
        energy_j: Some(vec![kwh_per_step * JOULES_PER_KWH; n]),
    }
}

fn policy(config: MarginalGainConfig) -> anyhow::Result<AnyOf> {
    Ok(AnyOf::new()
        .with(Divergence::non_finite())
        .with(MarginalGain::new(config)?))
}

#[test]
fn pure_noise_is_not_stopped_before_the_warm_up_and_its_interval_covers_the_noise(
) -> anyhow::Result<()> {
    let n = 100;
    let mut noise = normal(7);
    let values: Vec<f64> = (0..n).map(|_| 0.5 + 0.02 * noise()).collect();
    // τ so low that any stop would have to come from the noise alone.
    let mut p = policy(MarginalGainConfig::new(Tau::PerKwh(1e-3)))?;
    let r = replay_run(
        &run("noise", values.clone(), 0.01),
        &mut p,
        &ReplayConfig::default(),
    );
    if r.stopped {
        let share = r.stop_step / n as f64;
        assert!(
            share >= DEFAULT_WARMUP_FRACTION,
            "stopped at {} before the warm-up",
            r.stop_step
        );
    }
    // The forecast after 40 points: its 80 % interval of the next values covers about 80 %
    // of fresh noise (calibrated on the run's own history, not on a corpus).
    let steps: Vec<f64> = (1..=40).map(f64::from).collect();
    let config = ForecastConfig::new(Direction::HigherIsBetter).with_bounds(Bounds {
        lower: Some(0.0),
        upper: Some(1.0),
    });
    let fc = Forecaster::new(config).fit_history(&steps, &values[..40], 1.2)?;
    let (lo, hi) = fc.interval(41.0, 0.8);
    let mut fresh = normal(99);
    let draws = 2000;
    let covered = (0..draws)
        .filter(|_| {
            let v = 0.5 + 0.02 * fresh();
            lo <= v && v <= hi
        })
        .count() as f64
        / draws as f64;
    assert!(
        (0.6..=0.97).contains(&covered),
        "80 % interval [{lo}, {hi}] covers {covered} of the noise"
    );
    Ok(())
}

/// A plateau at 0.70 until a step decay at step 60 of 100, then a jump to 0.85.
fn step_decay(n: usize, decay: usize) -> Vec<f64> {
    let mut noise = normal(3);
    (1..=n)
        .map(|t| {
            let base = 0.7 * (1.0 - (-(t as f64) / 4.0).exp());
            let jump = if t > decay {
                0.15 * (1.0 - (-((t - decay) as f64) / 2.0).exp())
            } else {
                0.0
            };
            base + jump + 0.002 * noise()
        })
        .collect()
}

#[test]
fn a_plateau_before_a_scheduled_decay_is_not_stopped_when_the_schedule_is_given(
) -> anyhow::Result<()> {
    let (n, decay) = (100, 60);
    let curve = run("step", step_decay(n, decay), 0.01);
    // τ: the plateau gains nothing, so without the schedule the rule may stop there; the
    // jump (0.15 for 0.4 kWh) pays far more than τ × its energy.
    let tau = Tau::PerKwh(0.2);
    let config = ReplayConfig {
        tau_per_kwh: Some(0.2),
        ..ReplayConfig::default()
    };
    let mut with = policy(MarginalGainConfig::new(tau).with_schedule([decay as u64]))?;
    let r = replay_run(&curve, &mut with, &config);
    assert!(
        r.stop_step > decay as f64,
        "stopped at {} on the plateau before the planned decay at {decay}",
        r.stop_step
    );
    assert!(
        r.best_at_stop.is_some_and(|b| b > 0.8),
        "the jump was kept: {:?}",
        r.best_at_stop
    );
    // Without the schedule, and without the forecaster's prior allowance for late surprises,
    // the plateau looks converged and the rule stops on it: the schedule is what tells them
    // apart.
    let mut without = policy(MarginalGainConfig::new(tau))?;
    let bare = ReplayConfig {
        tuning: Tuning {
            surprise: 0.0,
            ..Tuning::default()
        },
        ..config.clone()
    };
    let r = replay_run(&curve, &mut without, &bare);
    assert!(
        r.stop_step < decay as f64,
        "without the schedule: stopped at {}",
        r.stop_step
    );
    Ok(())
}

#[test]
fn a_collapse_still_fires_the_divergence_rule() -> anyhow::Result<()> {
    // Learns, then collapses: first to chance (0.1), then to NaN.
    let mut values: Vec<f64> = (1..=30)
        .map(|t| 0.1 + 0.8 * (1.0 - (-(t as f64) / 5.0).exp()))
        .collect();
    values.extend([0.1; 5]);
    values.push(f64::NAN);
    values.extend([0.1; 20]);
    let curve = run("collapse", values, 0.01);
    let mut p = policy(MarginalGainConfig::new(Tau::PerKwh(1e-6)))?;
    let r = replay_run(&curve, &mut p, &ReplayConfig::default());
    let reason = r.reason.expect("stopped");
    assert_eq!(reason.policy, "divergence", "{}", reason.message);
    assert_eq!(r.stop_step, 36.0, "on the NaN");
    // With a bound on the bad side it fires as soon as the metric falls below it.
    let mut bounded = AnyOf::new()
        .with(Divergence::non_finite().with_bound(0.2)?)
        .with(MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(
            1e-6,
        )))?);
    let r = replay_run(&curve, &mut bounded, &ReplayConfig::default());
    let reason = r.reason.expect("stopped");
    assert!(matches!(reason.evidence, Evidence::Divergence(_)));
    assert_eq!(r.stop_step, 31.0, "on the first value below 0.2");
    let _: &dyn StopPolicy = &bounded;
    Ok(())
}

/// Issue 19: a fine-tune's short log — 20 evaluations whose accuracy plateaus by 30 % of
/// the plan — is stopped, smooth or noisy (the replay refits every evaluation of a short
/// log, as a live run does; between sparse refits every other check used to disagree).
#[test]
fn a_twenty_evaluation_log_that_plateaus_by_thirty_percent_stops() -> anyhow::Result<()> {
    for (name, wobble) in [("smooth", 0.0), ("noisy", 0.002)] {
        let metrics: Vec<f64> = (1..=20)
            .map(|i| {
                let step = 50.0 * f64::from(i);
                let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
                0.9 - 0.4 * (-step / 80.0).exp() + sign * wobble
            })
            .collect();
        let mut r = run(name, metrics, 0.01);
        r.steps = (1..=20).map(|i| 50.0 * f64::from(i)).collect();
        let mut p = policy(MarginalGainConfig::new(Tau::Relative(0.3)))?;
        let out = replay_run(&r, &mut p, &ReplayConfig::default());
        anyhow::ensure!(
            out.stopped && (300.0..=700.0).contains(&out.stop_step),
            "{name}: stop at {} ({:?})",
            out.stop_step,
            out.note
        );
    }
    Ok(())
}
