//! `snuffer replay --curves FILE`: the curves CSV reader, then the replay of small runs.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use snuffer_energy::{Joules, Watts};
use snuffer_replay::curves::read_curves_from;

fuzz_target!(|data: &[u8]| {
    if let Ok(runs) = read_curves_from(data) {
        for run in runs.iter().take(4) {
            let _ = run.direction();
            common::replay_curve(run, Watts(1000.0), Joules(1.0));
        }
    }
});
