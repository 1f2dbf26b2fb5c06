//! Issue 20, item 7: `plan --duration 10ns` gave a mean intensity below the series'
//! minimum (the difference of two large running integrals over a 10 ns window).

use chrono::{TimeZone, Utc};
use snuffer_footprint::{GramsPerKwh, IntensitySeries};

#[test]
fn a_10ns_window_has_the_value_of_its_interval() {
    let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let step = chrono::Duration::minutes(5);
    let values: Vec<f64> = (0..200_000)
        .map(|i| 100.0 + 300.0 * ((i % 7) as f64 / 6.0))
        .collect();
    let points = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (t0 + step * i as i32, GramsPerKwh(v)))
        .collect();
    let s = IntensitySeries::new(points).unwrap();
    for k in [1_000i32, 150_001, 199_990] {
        let a = t0 + step * k + chrono::Duration::seconds(17);
        let b = a + chrono::Duration::nanoseconds(10);
        let m = s.mean(a, b).unwrap().0;
        assert_eq!(m, values[k as usize], "window at interval {k}");
        // Across a boundary: between the two values.
        let a = t0 + step * (k + 1) - chrono::Duration::nanoseconds(5);
        let m = s.mean(a, a + chrono::Duration::nanoseconds(10)).unwrap().0;
        let (lo, hi) = (values[k as usize], values[k as usize + 1]);
        assert!(
            m >= lo.min(hi) && m <= lo.max(hi),
            "{m} not within {lo}..{hi}"
        );
    }
}
