//! Issue 20, item 7: replay figures on hostile curves (a first evaluation that is not a
//! number, recorded times beyond `Duration::MAX`).

use snuffer_policy::{Divergence, Never};
use snuffer_replay::curves::{CurveRun, EnergyAssumptions};
use snuffer_replay::replay::{replay_run, ReplayConfig};

fn run(metrics: Vec<f64>, times: Option<Vec<f64>>) -> CurveRun {
    CurveRun {
        source: "s".into(),
        task: "t".into(),
        run_id: "r".into(),
        metric_name: "val_loss".into(),
        higher_is_better: false,
        steps: (1..=metrics.len()).map(|s| s as f64 * 10.0).collect(),
        metrics,
        epoch_time_s: times,
        energy_j: None,
    }
}

#[test]
fn a_first_evaluation_that_is_not_a_number_has_no_best_by_the_stop() {
    for first in [f64::NAN, f64::INFINITY] {
        let r = run(vec![first, 0.9, 0.5, 0.4], None);
        let mut policy = Divergence::non_finite();
        let x = replay_run(&r, &mut policy, &ReplayConfig::default());
        assert!(x.stopped && x.stop_step == 10.0, "{x:?}");
        // Before the fix: Some(0.9), the value one row after the stop.
        assert_eq!(x.best_at_stop, None, "{first}");
        assert_eq!(x.best_full, Some(0.4));
    }
}

#[test]
fn recorded_times_past_the_largest_duration_do_not_panic() {
    let r = run(vec![1.0, 0.9, 0.8], Some(vec![1e308, 1e308, 1.0]));
    let config = ReplayConfig {
        energy: EnergyAssumptions::default(),
        ..ReplayConfig::default()
    };
    let x = replay_run(&r, &mut Never, &config);
    assert!(!x.stopped);
}

#[test]
fn a_stop_on_fractional_epochs_is_told_in_the_runs_own_steps() {
    // Epochs 0, 0.5, …, 7: replayed internally on steps × 10.
    let steps: Vec<f64> = (0..15).map(|i| i as f64 * 0.5).collect();
    let metrics: Vec<f64> = (0..15)
        .map(|i| if i < 6 { 1.0 - 0.1 * i as f64 } else { 0.5 })
        .collect();
    let r = CurveRun {
        steps,
        ..run(metrics, None)
    };
    let mut policy =
        snuffer_policy::Patience::new(snuffer_policy::PatienceConfig::new(3)).expect("valid");
    let x = replay_run(&r, &mut policy, &ReplayConfig::default());
    let reason = x.reason.expect("patience stops a flat run").message;
    assert!(x.stop_step.fract() == 0.0 || x.stop_step.fract() == 0.5);
    // The best was at epoch 2.5; internally that was step 25.
    assert!(reason.contains("step 2.5"), "{reason}");
    assert!(!reason.contains("step 25"), "{reason}");
}
