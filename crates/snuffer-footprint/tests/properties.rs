//! Property tests: footprints are monotone in energy and never NaN; the CSV
//! parser never panics; the exact planner is never beaten by a grid search.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use snuffer_energy::Joules;
use snuffer_footprint::{
    plan, run_footprint, run_footprint_with, EnergyMix, EnergySource, FootprintConfig, GramsPerKwh,
    HardwareProfile, IntensitySeries, RunUsage, Window, REGIONS,
};
use std::time::Duration;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap()
}

/// Any of the configurations a user can build without a time series.
fn config() -> impl Strategy<Value = FootprintConfig> {
    let intensity = prop_oneof![
        Just(FootprintConfig::default()),
        (0..REGIONS.len()).prop_map(|i| FootprintConfig::default()
            .with_region(REGIONS[i].code)
            .unwrap()),
        (0.0f64..2000.0).prop_map(|g| FootprintConfig::default().with_intensity(g).unwrap()),
        proptest::collection::vec((0usize..9, 0.0f64..100.0), 1..5).prop_filter_map(
            "all-zero mix",
            |v| {
                EnergyMix::new(v.into_iter().map(|(i, s)| (EnergySource::ALL[i], s)))
                    .ok()
                    .map(|m| FootprintConfig::default().with_mix(m))
            }
        ),
    ];
    (
        intensity,
        1.0f64..3.0,
        proptest::option::of(0.0f64..5.0),
        proptest::option::of(0.0f64..5.0),
        0u32..9,
    )
        .prop_map(|(c, pue, wue, grid, gpus)| {
            let c = c.with_pue(pue).unwrap().with_water(wue, grid).unwrap();
            if gpus > 0 {
                c.with_hardware(HardwareProfile::preset("h100").unwrap(), gpus)
            } else {
                c
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn footprints_are_monotone_in_energy_and_finite(
        cfg in config(),
        e1 in 0.0f64..1e4,
        extra in 0.0f64..1e4,
        secs in 0u64..1_000_000,
        unc in 0.0f64..1.0,
    ) {
        let d = Duration::from_secs(secs);
        let small = run_footprint_with(
            &cfg, &RunUsage::new(Joules::from_kwh(e1), d).with_energy_uncertainty(unc).unwrap(), None,
        ).unwrap();
        let big = run_footprint_with(
            &cfg,
            &RunUsage::new(Joules::from_kwh(e1 + extra), d).with_energy_uncertainty(unc).unwrap(),
            Some(Joules::from_kwh(e1 + 2.0 * extra)),
        ).unwrap();
        for fp in [&small, &big] {
            let v = serde_json::to_value(fp).unwrap();
            // serde_json writes NaN as null: any null number would show up here.
            let text = v.to_string();
            prop_assert!(!text.contains("null"), "NaN in {text}");
            prop_assert!(fp.operational.value.0 >= 0.0 && fp.operational.sd.0 >= 0.0);
            prop_assert!(fp.water.total.value.0 >= 0.0);
        }
        prop_assert!(big.operational.value.0 >= small.operational.value.0);
        prop_assert!(big.water.total.value.0 >= small.water.total.value.0);
        prop_assert!(big.operational_plus_embodied.value.0 >= small.operational_plus_embodied.value.0);
        let a = big.avoided.unwrap();
        prop_assert!(a.co2e.value.0 >= 0.0 && a.co2e.value.0.is_finite());
        prop_assert!(a.full_run.value.0 + 1e-6 >= big.operational_plus_embodied.value.0);
    }

    #[test]
    fn bad_energy_is_an_error_never_a_nan(
        cfg in config(),
        bad in prop_oneof![Just(f64::NAN), Just(f64::INFINITY), -1e9f64..-1e-9],
    ) {
        prop_assert!(run_footprint(&cfg, Joules(bad), Duration::from_secs(1), None).is_err());
    }

    #[test]
    fn series_footprint_is_monotone_and_finite(
        values in proptest::collection::vec(0.0f64..1000.0, 2..30),
        start_min in 0i64..60,
        dur_min in 1u64..60,
        e1 in 0.0f64..100.0,
        extra in 0.0f64..100.0,
    ) {
        let h = chrono::Duration::hours(1);
        let series = IntensitySeries::new(
            values.iter().enumerate().map(|(i, &g)| (t0() + h * i as i32, GramsPerKwh(g))).collect(),
        ).unwrap();
        let cfg = FootprintConfig::default().with_series(series);
        let start = t0() + chrono::Duration::minutes(start_min);
        let d = Duration::from_secs(dur_min * 60);
        let fp = |e: f64| run_footprint_with(
            &cfg, &RunUsage::new(Joules::from_kwh(e), d).starting_at(start), None,
        ).unwrap();
        let (a, b) = (fp(e1), fp(e1 + extra));
        prop_assert!(a.operational.value.0.is_finite());
        prop_assert!(b.operational.value.0 >= a.operational.value.0);
    }

    #[test]
    fn csv_parser_never_panics(text in "[0-9TZ:,.\\-+#a-z \n]{0,200}") {
        let _ = IntensitySeries::from_csv_reader(text.as_bytes());
    }

    #[test]
    fn plan_is_never_beaten_by_a_grid_search(
        values in proptest::collection::vec(0.0f64..1000.0, 2..24),
        dur_min in 1i64..240,
        from_min in 0i64..120,
    ) {
        let h = chrono::Duration::hours(1);
        let n = values.len() as i64;
        let series = IntensitySeries::new(
            values.iter().enumerate().map(|(i, &g)| (t0() + h * i as i32, GramsPerKwh(g))).collect(),
        ).unwrap();
        let m = |min: i64| t0() + chrono::Duration::minutes(min);
        let last_start = 60 * n - dur_min;
        prop_assume!(from_min <= last_start);
        let p = plan(
            &series,
            Joules::from_kwh(1.0),
            Duration::from_secs(dur_min as u64 * 60),
            Window { earliest_start: m(from_min), deadline: None },
        ).unwrap();
        prop_assert!(p.emissions_best.0 <= p.emissions_now.0 + 1e-9);
        prop_assert!(p.best_start >= m(from_min) && p.best_end <= series.end());
        for s in (from_min..=last_start).step_by(5) {
            let g = series.mean(m(s), m(s + dur_min)).unwrap().0;
            prop_assert!(p.mean_intensity_best.0 <= g + 1e-6, "start {s}: {g} beats {:?}", p);
        }
    }
}
