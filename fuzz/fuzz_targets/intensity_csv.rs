//! `snuffer plan --intensity FILE` (and footprints over a series): the intensity CSV reader,
//! then its gaps, a mean and a plan over it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use snuffer_energy::Joules;
use snuffer_footprint::{plan, IntensitySeries, Window};
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    // The last two bytes pick the run's duration and energy; the rest is the file.
    let (file, knobs) = data.split_at(data.len().saturating_sub(2));
    let Ok(series) = IntensitySeries::from_csv_reader(file) else {
        return;
    };
    if series.len() > 2000 {
        return;
    }
    let _ = series.gaps();
    let _ = series.mean(series.start(), series.end());
    let hours = knobs.first().copied().unwrap_or(1) as u64;
    let kwh = knobs.get(1).copied().unwrap_or(1) as f64;
    let duration = Duration::from_secs(hours * 600 + 1);
    let _ = plan(
        &series,
        Joules::from_kwh(kwh),
        duration,
        Window {
            earliest_start: series.start(),
            deadline: None,
        },
    );
});
