//! `emissions.csv`: Snuffer writes it (CodeCarbon's columns) from a run's `summary.json` and
//! reads it only as a CSV history (a user may point `whatif` at it). Both paths: the row
//! written for any parsable summary has one field per column and reads back as CSV; the
//! bytes themselves go through the CSV history reader under that name.
#![no_main]
mod common;
use libfuzzer_sys::fuzz_target;
use snuffer_rundir::emissions::{row, EmissionsContext, COLUMNS};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(summary) = snuffer_rundir::parse_summary(data, Path::new("summary.json")) {
        let fields = row(&summary, &EmissionsContext::new("fuzz"));
        assert_eq!(fields.len(), COLUMNS.len(), "one field per column");
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(COLUMNS).expect("header");
        w.write_record(&fields).expect("row");
        let bytes = w.into_inner().expect("flush");
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let back: Vec<csv::StringRecord> = r.records().map(|x| x.expect("reads back")).collect();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].len(), COLUMNS.len());
    }
    let opts = common::options(data.first().copied().unwrap_or(0));
    if let Ok(run) = snuffer_import::csv_history::parse(data, Path::new("emissions.csv"), &opts) {
        common::whatif(&run);
    }
});
