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

/// Any number a user can type, from subnormal to ±1.8e308, with the odd ones.
fn any_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => any::<f64>(),
        2 => 0.0f64..1e4,
        1 => prop_oneof![Just(1e308), Just(f64::MAX), Just(1e300), Just(0.0), Just(5e-324)],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// `--mix`: any text is parsed or refused, never a panic; a valid mix, whatever the scale
    /// of its shares (up to ±1.8e308), has shares summing to one and an intensity between
    /// its cleanest and dirtiest source.
    #[test]
    fn mix_parser_never_panics_and_normalises_any_scale(
        junk in "[a-z=,. 0-9eE+-]{0,40}",
        parts in proptest::collection::vec((0usize..9, any_number()), 1..6),
    ) {
        let _ = EnergyMix::parse(&junk);
        let text: Vec<String> = parts
            .iter()
            .map(|&(i, s)| format!("{}={s}", EnergySource::ALL[i].name()))
            .collect();
        match EnergyMix::parse(&text.join(",")) {
            Ok(mix) => {
                let total: f64 = mix.shares().iter().map(|s| s.1).sum();
                prop_assert!((total - 1.0).abs() < 1e-9, "{:?}", mix.shares());
                let g = mix.intensity().0;
                let used = parts.iter().map(|&(i, _)| EnergySource::ALL[i].intensity().0);
                let (lo, hi) = used.fold((f64::INFINITY, 0.0f64), |(l, h), v| (l.min(v), h.max(v)));
                prop_assert!(g >= lo - 1e-9 && g <= hi + 1e-9, "{} not in [{}, {}]", g, lo, hi);
            }
            Err(e) => {
                // Only a negative, non-finite or all-zero share is refused.
                let bad = parts.iter().any(|&(_, s)| !(s.is_finite() && s >= 0.0))
                    || parts.iter().all(|&(_, s)| s == 0.0);
                prop_assert!(bad, "{}: {}", text.join(","), e);
            }
        }
    }

    /// `--region`: any text resolves or is refused with at most five suggestions; every
    /// embedded code resolves to itself in any case and with surrounding blanks.
    #[test]
    fn region_lookup_never_panics_and_known_codes_resolve(
        junk in ".{0,20}",
        i in 0..REGIONS.len(),
        lower in any::<bool>(),
        pad in "[ \t]{0,2}",
    ) {
        if let Err(e) = snuffer_footprint::region(&junk) {
            if let snuffer_footprint::FootprintError::UnknownRegion { suggestions, .. } = &e {
                prop_assert!(suggestions.len() <= 5);
            }
            prop_assert!(!e.to_string().is_empty());
        }
        let r = &REGIONS[i];
        for code in [r.code, r.alpha3] {
            let typed = if lower { code.to_ascii_lowercase() } else { code.to_string() };
            let found = snuffer_footprint::region(&format!("{pad}{typed}{pad}"));
            prop_assert!(found.is_ok_and(|f| f.code == r.code), "{}", code);
        }
    }

    /// Inputs over the whole f64 range: a footprint is finite in every figure, or an error.
    #[test]
    fn huge_inputs_give_finite_figures_or_an_error(
        kwh in any_number(),
        intensity in any_number(),
        pue in prop_oneof![Just(1.0), 1.0f64..1e308],
        wue in proptest::option::of(any_number()),
    ) {
        let cfg = FootprintConfig::default()
            .with_intensity(intensity)
            .and_then(|c| c.with_pue(pue))
            .and_then(|c| c.with_water(wue, None));
        if let Ok(cfg) = cfg {
            if let Ok(fp) = run_footprint(&cfg, Joules::from_kwh(kwh), Duration::from_secs(60), Some(Joules::from_kwh(kwh))) {
                let text = serde_json::to_value(&fp).unwrap().to_string();
                prop_assert!(!text.contains("null"), "non-finite in {}", text);
                prop_assert!(!fp.operational.to_string().contains("inf"));
            }
        }
    }

    /// A series with holes: the plan never runs over a gap, and no start on a five-minute
    /// grid that stays clear of gaps beats it.
    #[test]
    fn plan_avoids_gaps_and_is_optimal_among_clear_windows(
        spacing in proptest::collection::vec(prop_oneof![4 => Just(60i64), 1 => 61i64..1500], 3..20),
        values in proptest::collection::vec(0.0f64..1000.0, 20),
        dur_min in 1i64..240,
        from_min in 0i64..120,
    ) {
        let mut t = 0i64;
        let mut points = Vec::new();
        for (i, s) in spacing.iter().enumerate() {
            points.push((t0() + chrono::Duration::minutes(t), GramsPerKwh(values[i])));
            t += s;
        }
        let series = IntensitySeries::new(points).unwrap();
        let m = |min: i64| t0() + chrono::Duration::minutes(min);
        let window = Window { earliest_start: m(from_min), deadline: None };
        let d = Duration::from_secs(dur_min as u64 * 60);
        match plan(&series, Joules::from_kwh(1.0), d, window) {
            Ok(p) => {
                prop_assert!(series.mean(p.best_start, p.best_end).is_ok(), "{:?} over a gap", p);
                prop_assert!(p.gaps.iter().all(|g| p.best_end <= g.start || p.best_start >= g.end));
                let last = (series.end() - t0()).num_minutes() - dur_min;
                for s in (from_min..=last).step_by(5) {
                    if let Ok(g) = series.mean(m(s), m(s + dur_min)) {
                        prop_assert!(p.mean_intensity_best.0 <= g.0 + 1e-6, "start {}: {} beats {:?}", s, g.0, p);
                    }
                }
            }
            Err(e) => {
                // Refused only when starting now is impossible (gap, outside, too long).
                prop_assert!(series.mean(m(from_min), m(from_min + dur_min)).is_err(), "{}", e);
            }
        }
    }
}
