//! Inputs found by the fuzz targets in `fuzz/` (see fuzz/README.md), each through the path
//! that failed: they must give a figure or a clear error, never a panic.

use snuffer_energy::Joules;
use snuffer_import::{ImportOptions, Power};
use snuffer_policy::Never;
use snuffer_replay::replay::{replay_run, ReplayConfig};
use std::path::Path;

/// `fuzz/artifacts/trainer_state/crash-99dffe07…`: `train_runtime` 1e308 with `--power-w
/// 300` panicked in the replay ("cannot convert float seconds to Duration").
#[test]
fn trainer_state_with_a_runtime_of_1e308_replays_without_a_panic() {
    let bytes = br#"{"log_history":[{"epoch":1,"step":10,"eval_loss":0.5,"train_runtime":1e308},{"epoch":2,"step":20,"eval_loss":NaN}],"best_metric":Infinity}"#;
    let run = snuffer_import::trainer_state::parse(
        bytes,
        Path::new("trainer_state.json"),
        &ImportOptions::default(),
    )
    .expect("a run");
    let power = Power::given(300.0).expect("a power");
    let (curve, _) = run.to_curve(Some(&power), Joules(1.0));
    for forecasts in [false, true] {
        let config = ReplayConfig {
            forecasts,
            ..ReplayConfig::default()
        };
        let out = replay_run(&curve, &mut Never, &config);
        assert_eq!(out.stop_step, 20.0);
    }
}
