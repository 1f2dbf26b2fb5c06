//! The README's loop on a loss-like metric (`examples/regression.rs`: a linear regression's
//! val_mse under `Tau::Relative(0.3)`): wherever the rule stops it, the best val_mse by then
//! is within 10 % of the full run's best (issue 19: it used to stop at 146 × it, calling a
//! forecast 100-fold fall "small").
#![cfg(feature = "candle")]

#[allow(dead_code)]
#[path = "../examples/regression.rs"]
mod regression;

use snuffer::policy::{MarginalGain, MarginalGainConfig, Tau};
use snuffer_replay::curves::CurveRun;
use snuffer_replay::replay::{replay_run, ReplayConfig};

#[test]
fn the_regression_loop_stops_within_ten_percent_of_the_full_runs_best() -> anyhow::Result<()> {
    let curve = regression::full_curve()?;
    let full_best = curve.iter().map(|&(_, v)| v).fold(f64::INFINITY, f64::min);
    // The same curve through the same rule, at a steady energy per step (the loop's cost
    // does not change with its progress).
    let run = CurveRun {
        source: "example".into(),
        task: "regression".into(),
        run_id: "full".into(),
        metric_name: "val_mse".into(),
        higher_is_better: false,
        steps: curve.iter().map(|&(s, _)| s as f64).collect(),
        metrics: curve.iter().map(|&(_, v)| v).collect(),
        epoch_time_s: None,
        energy_j: None,
    };
    let mut policy = MarginalGain::new(MarginalGainConfig::new(Tau::Relative(0.3)))?;
    let r = replay_run(&run, &mut policy, &ReplayConfig::default());
    let best = r.best_at_stop.expect("a finite best");
    eprintln!(
        "stop at {} of {}, best {best} vs {full_best} ({:.3}×); {:?}",
        r.stop_step,
        r.last_step,
        best / full_best,
        r.reason.as_ref().map(|x| &x.message)
    );
    assert!(
        best <= 1.1 * full_best,
        "stopped at step {} with val_mse {best}, {:.1} × the full run's {full_best}: {:?}",
        r.stop_step,
        best / full_best,
        r.reason
    );
    Ok(())
}
