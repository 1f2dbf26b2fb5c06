//! `summary.json` of a run directory: the parser, and the JSON written back from it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(summary) = snuffer_rundir::parse_summary(data, Path::new("summary.json")) {
        let _ = serde_json::to_string(&summary);
    }
});
