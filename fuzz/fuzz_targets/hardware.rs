//! `--hardware NAME[=COUNT]`: the CLI's own parser (included from snuffer-cli), then the
//! embodied footprint of that hardware over a day.
#![no_main]
#[path = "../../crates/snuffer-cli/src/values.rs"]
#[allow(dead_code)]
mod values;
use libfuzzer_sys::fuzz_target;
use snuffer_energy::Joules;
use snuffer_footprint::{run_footprint, FootprintConfig};
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((profile, count)) = values::parse_hardware(s) {
        let cfg = FootprintConfig::default().with_hardware(profile, count);
        let _ = run_footprint(
            &cfg,
            Joules::from_kwh(1.0),
            Duration::from_secs(86_400),
            None,
        );
    }
});
