//! CSV histories (Lightning `metrics.csv`, Keras `history.csv`, W&B exports): the importer
//! under each usual file name, then the `whatif` path.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const NAMES: [&str; 4] = ["metrics.csv", "history.csv", "wandb_history.csv", "log.csv"];

fuzz_target!(|data: &[u8]| {
    let selector = data.last().copied().unwrap_or(0);
    let name = NAMES[(selector / 4 % 4) as usize];
    let opts = common::options(selector);
    if let Ok(run) = snuffer_import::csv_history::parse(data, Path::new(name), &opts) {
        common::whatif(&run);
    }
});
