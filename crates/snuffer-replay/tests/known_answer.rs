//! Known answer, end to end: on M(t) = m∞(1 − e^(−t/k)) at constant power the hindsight
//! optimum of U = M − τE is analytic, t* = k·ln(m∞ / (k·τ·c)) with c kWh per step. The
//! replay (forecast refits on its cadence, default policy settings) must stop within a few
//! percent of it and capture nearly all of its utility gain.
//!
//! The decision rule itself, given an exact forecast, stops within 5 % of the plan of t*
//! (unit test `exact_forecast_stops_at_the_analytic_optimum` in `marginal.rs`). End to end,
//! through the real forecaster on the replay's refit cadence, the rule weighs the run's
//! recent trend continued in a straight line, with the trust and spread its own backtests
//! earned: on this curve the backtests show the straight line over-predicting (the curve
//! bends), so the trust falls below one and the expected gain follows the truth. Measured
//! stops: 59, 41, 71, 114 and 31 against 60, 40, 75, 120 and 30 (within 3 % of the plan).
//!
//! The metric is named `score`, so the replay declares no bounds to the forecaster, and no
//! allowance for a late jump towards a bound applies (named `acc`, the curve's plateau at 0.9
//! keeps a tenth of its range to go, and the allowance keeps it alive for this τ).

use snuffer_energy::JOULES_PER_KWH;
use snuffer_policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, Tau};
use snuffer_replay::curves::CurveRun;
use snuffer_replay::replay::{replay_run, ReplayConfig};

fn synthetic(m_inf: f64, k: f64, n: usize, kwh_per_step: f64) -> CurveRun {
    CurveRun {
        source: "synthetic".into(),
        task: "exp".into(),
        run_id: format!("k{k}"),
        metric_name: "score".into(),
        higher_is_better: true,
        steps: (1..=n).map(|t| t as f64).collect(),
        metrics: (1..=n)
            .map(|t| m_inf * (1.0 - (-(t as f64) / k).exp()))
            .collect(),
        epoch_time_s: None,
        energy_j: Some(vec![kwh_per_step * JOULES_PER_KWH; n]),
    }
}

#[test]
fn replay_stops_within_a_few_percent_of_the_analytic_oracle() -> anyhow::Result<()> {
    let (m_inf, n, c) = (0.9, 200usize, 0.01);
    for (k, t_star) in [
        (20.0f64, 60.0f64),
        (10.0, 40.0),
        (30.0, 75.0),
        (40.0, 120.0),
        (15.0, 30.0),
    ] {
        // τ that puts the optimum at t_star: dM/dE = m∞/(k c) e^(−t/k) = τ.
        let tau = m_inf / (k * c) * (-t_star / k).exp();
        let run = synthetic(m_inf, k, n, c);
        let mut policy = AnyOf::new()
            .with(Divergence::non_finite())
            .with(MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(
                tau,
            )))?);
        let config = ReplayConfig {
            tau_per_kwh: Some(tau),
            ..ReplayConfig::default()
        };
        let r = replay_run(&run, &mut policy, &config);
        let oracle = r.oracle_step.expect("oracle with τ");
        assert!(
            (oracle - t_star).abs() <= 1.0,
            "k={k}: discrete oracle {oracle} vs analytic {t_star}"
        );
        assert!(r.stopped, "k={k}: the policy must stop ({:?})", r.note);
        assert!(
            (r.stop_step - t_star).abs() <= 0.05 * n as f64,
            "k={k}: stopped at {}, t* = {t_star}",
            r.stop_step
        );
        let capture = r.utility_capture.expect("capture");
        assert!(
            capture >= 0.95,
            "k={k}: capture {capture} (stop {})",
            r.stop_step
        );
    }
    Ok(())
}
