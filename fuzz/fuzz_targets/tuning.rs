//! `--tuning KEY=VALUE,...`: the CLI's own parser (included from snuffer-cli), then a
//! forecast with the parsed priors and the stop rule built with the parsed constants.
#![no_main]
#[path = "../../crates/snuffer-cli/src/tuning_arg.rs"]
#[allow(dead_code)]
mod tuning_arg;
use libfuzzer_sys::fuzz_target;
use snuffer_forecast::{Direction, ForecastConfig, Forecaster};
use snuffer_policy::{MarginalGain, MarginalGainConfig, Tau};

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(tunings) = tuning_arg::parse(Some(spec)) {
        // A bad constant is an error, never a panic.
        let _ = MarginalGain::new(
            MarginalGainConfig::new(Tau::Relative(0.3)).with_tuning(tunings.rule),
        );
        let config = ForecastConfig::new(Direction::LowerIsBetter).with_tuning(tunings.forecast);
        let mut f = Forecaster::new(config);
        let steps: Vec<f64> = (1..=8).map(|i| f64::from(i) * 10.0).collect();
        let values = [2.0, 1.5, 1.2, 1.05, 1.0, 0.97, 0.95, 0.94];
        if let Ok(fc) = f.fit(&steps, &values) {
            let _ = fc.mean(200.0);
            let _ = fc.median(200.0);
        }
    }
});
