//! Issue 19: the examples' comparisons are fair and say when a difference is noise. A
//! full/Snuffer pair run once, full run first, read 51.7 % saved; the other order read
//! −103 %. The examples now warm up, alternate the order over several pairs, and judge the
//! saving against the pairs' spread ([`common::PairSavings`]), worded by provenance.
#![cfg(feature = "candle")]

#[path = "../examples/common/mod.rs"]
mod common;

use anyhow::{ensure, Result};
use candle_core::Device;
use common::{Digits, DigitsConfig, PairSavings};

#[test]
fn a_saving_within_the_pairs_spread_is_called_noise() -> Result<()> {
    let label = snuffer::rundir::ESTIMATED_SAVING;
    // char_lm's two orders: 51.7 % and −103 %.
    let swapped = PairSavings {
        shares: vec![0.517, -1.03],
    }
    .summary(label);
    ensure!(
        swapped.contains("within the noise") && !swapped.contains("stands"),
        "{swapped}"
    );
    // Every pair saved, but one barely: still no evidence.
    let uneven = PairSavings {
        shares: vec![0.536, 0.004],
    }
    .summary(label);
    ensure!(uneven.contains("within the noise"), "{uneven}");
    // The quickstart's three pairs.
    let clear = PairSavings {
        shares: vec![0.838, 0.816, 0.824],
    }
    .summary(label);
    ensure!(
        clear.contains("stands well out of the noise")
            && clear.contains("81.6 % to 83.8 %")
            && clear.starts_with(label),
        "{clear}"
    );
    // One pair has no spread, and says so.
    let one = PairSavings { shares: vec![0.5] }.summary(label);
    ensure!(one.contains("no spread"), "{one}");
    Ok(())
}

#[test]
fn the_warm_up_trains_untracked() -> Result<()> {
    common::setup_threads();
    let data = Digits::load(500, 7, &Device::Cpu)?;
    let cfg = DigitsConfig {
        lr: 1e-3,
        hidden: 32,
        seed: 1,
        steps: 100,
        eval_every: 50,
        batch: 32,
    };
    // No run builder, no sink: nothing is written, and it runs in a blink.
    let t = std::time::Instant::now();
    common::warm_up(&data, cfg, 20)?;
    ensure!(t.elapsed().as_secs() < 60);
    Ok(())
}
