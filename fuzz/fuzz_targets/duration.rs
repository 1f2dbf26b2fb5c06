//! Duration values (`--duration`, `--service-life`, `plan --duration`): the CLI's own parser
//! (included from snuffer-cli), then a footprint with embodied carbon over that duration.
#![no_main]
#[path = "../../crates/snuffer-cli/src/values.rs"]
#[allow(dead_code)]
mod values;
use libfuzzer_sys::fuzz_target;
use snuffer_energy::Joules;
use snuffer_footprint::{run_footprint, FootprintConfig, HardwareProfile};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(d) = values::parse_duration(s) else {
        return;
    };
    let Ok(gpu) = HardwareProfile::preset("a100") else {
        return;
    };
    let cfg = FootprintConfig::default().with_hardware(gpu, 8);
    let _ = run_footprint(&cfg, Joules::from_kwh(1.0), d, None);
    if let Ok(cfg) = FootprintConfig::default().with_service_life(d) {
        let _ = run_footprint(&cfg, Joules::from_kwh(1.0), d, None);
    }
});
