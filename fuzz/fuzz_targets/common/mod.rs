//! What every import target does after parsing: the `snuffer whatif` path (the imported run
//! as a curve, energy from recorded values, time × 300 W or 1 J a step, replayed through the
//! marginal policy), with the forecaster's fits only for short runs so one input stays fast.

#![allow(dead_code)]

use snuffer_energy::{Joules, Watts};
use snuffer_import::{ImportOptions, ImportedRun, Power};
use snuffer_policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, StopPolicy, Tau};
use snuffer_replay::curves::{CurveRun, EnergyAssumptions};
use snuffer_replay::replay::{replay_run, ReplayConfig};

/// At most this many evaluations are replayed (the forecaster's fits dominate the cost).
pub const MAX_REPLAYED: usize = 48;

/// Import options chosen by one byte of the input (metric and direction left to the log
/// or set), so the metric-picking code is fuzzed too.
pub fn options(selector: u8) -> ImportOptions {
    let mut o = ImportOptions::default();
    match selector % 4 {
        1 => o.metric = Some("loss".to_string()),
        2 => o.metric = Some("accuracy".to_string()),
        3 => o.step_column = Some("epoch".to_string()),
        _ => {}
    }
    o
}

/// Replays `curve` through `AnyOf(Divergence, MarginalGain(τ relative 0.3))` as `whatif` does:
/// always without forecasts (cheap: time, energy, the policy's history and the scoring), and
/// with them for runs of at most [`MAX_REPLAYED`] evaluations.
pub fn replay_curve(curve: &CurveRun, power: Watts, step_energy: Joules) {
    let Ok(marginal) = MarginalGain::new(MarginalGainConfig::new(Tau::Relative(0.3))) else {
        return;
    };
    let mut policy = AnyOf::new().with(Divergence::non_finite()).with(marginal);
    let config = ReplayConfig {
        energy: EnergyAssumptions { power, step_energy },
        tau_per_kwh: Some(0.5),
        forecasts: false,
        ..ReplayConfig::default()
    };
    let r = replay_run(curve, &mut policy as &mut dyn StopPolicy, &config);
    let _ = serde_json::to_string(&r);
    if curve.steps.len() <= MAX_REPLAYED {
        let config = ReplayConfig {
            forecasts: true,
            ..config
        };
        let r = replay_run(curve, &mut policy as &mut dyn StopPolicy, &config);
        let _ = serde_json::to_string(&r);
    }
}

/// The `whatif` path of an imported run, with `--power-w 300`.
pub fn whatif(run: &ImportedRun) {
    let Ok(power) = Power::given(300.0) else {
        return;
    };
    let (curve, basis) = run.to_curve(Some(&power), Joules(1.0));
    let _ = basis.label();
    replay_curve(&curve, power.watts, Joules(1.0));
}
