//! `steps.jsonl` of a run directory: the record reader, then the import and `whatif` path.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = snuffer_rundir::parse_steps(data) {
        let _ = log.meta();
        let _ = log.has_end();
        let _ = log.evals().count();
    }
    let opts = common::options(data.first().copied().unwrap_or(0));
    if let Ok(run) = snuffer_import::rundir::parse(data, Path::new("run"), &opts) {
        common::whatif(&run);
    }
});
