//! `--tuning KEY=VALUE,...`: the CLI's own parser (included from snuffer-cli), then a
//! forecast with the parsed priors.
#![no_main]
#[path = "../../crates/snuffer-cli/src/tuning_arg.rs"]
#[allow(dead_code)]
mod tuning_arg;
use libfuzzer_sys::fuzz_target;
use snuffer_forecast::{Direction, ForecastConfig, Forecaster};

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tuning) = tuning_arg::parse(Some(spec)) {
        let config = ForecastConfig::new(Direction::LowerIsBetter).with_tuning(tuning);
        let mut f = Forecaster::new(config);
        let steps: Vec<f64> = (1..=8).map(|i| f64::from(i) * 10.0).collect();
        let values = [2.0, 1.5, 1.2, 1.05, 1.0, 0.97, 0.95, 0.94];
        if let Ok(fc) = f.fit(&steps, &values) {
            let _ = fc.mean(200.0);
            let _ = fc.median(200.0);
        }
    }
});
