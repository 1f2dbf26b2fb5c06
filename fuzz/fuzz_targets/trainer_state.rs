//! Hugging Face `trainer_state.json`: the importer, then the `whatif` path.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let opts = common::options(data.last().copied().unwrap_or(0));
    if let Ok(run) =
        snuffer_import::trainer_state::parse(data, Path::new("trainer_state.json"), &opts)
    {
        common::whatif(&run);
    }
});
