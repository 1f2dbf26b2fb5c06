//! TensorBoard event files (`events.out.tfevents.*`), through the public import API
//! (`snuffer_import::tensorboard::parse`, whatever reads the records underneath), then the
//! `whatif` path.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let opts = common::options(data.last().copied().unwrap_or(0));
    let path = Path::new("events.out.tfevents.1.fuzz");
    if let Ok(run) = snuffer_import::tensorboard::parse(data, path, &opts) {
        common::whatif(&run);
    }
});
