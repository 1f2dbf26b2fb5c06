//! The forecaster over the whole `f64` range: fitting never panics, and every forecast it
//! returns has finite, ordered quantiles; otherwise the fit is a clear error.
//!
//! Regression: a metric alternating ±1e308 was forecast as "-inf in [-inf, -inf]", and an
//! interval scale of 1e308 collapsed every interval to a point.

use proptest::prelude::*;
use snuffer_forecast::{
    Bounds, Direction, ForecastConfig, ForecastError, Forecaster, Method, MAX_ABS_VALUE,
    MAX_INTERVAL_SCALE,
};

/// Values from anywhere in the `f64` range, with the extremes and zero over-represented.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        2 => -1e308f64..1e308,
        2 => -1e3f64..1e3,
        1 => prop_oneof![
            Just(f64::MAX),
            Just(f64::MIN),
            Just(1e308),
            Just(-1e308),
            Just(f64::MIN_POSITIVE),
            Just(0.0),
            Just(5e-324),
        ],
    ]
}

/// Strictly increasing finite steps, from tiny to huge spacings.
fn steps(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        // Sorted, de-duplicated draws from the whole finite range.
        proptest::collection::vec(
            any::<f64>().prop_filter("finite", |v| v.is_finite()),
            n..n + 8
        )
        .prop_map(|mut v| {
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        }),
        // A start and multiplicative gaps.
        (-1e300f64..1e300, 1e-300f64..1e300).prop_map(move |(start, gap)| {
            (0..n).map(|i| start + gap * i as f64).collect::<Vec<_>>()
        }),
        Just((1..=n).map(|i| i as f64).collect()),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Ensemble),
        Just(Method::Pow3),
        Just(Method::LastValue),
        Just(Method::BestSoFar),
    ]
}

fn check_forecast(
    fc: &snuffer_forecast::Forecast,
    steps: &[f64],
) -> Result<(), proptest::test_runner::TestCaseError> {
    let first = steps[0];
    let last = steps[steps.len() - 1];
    let mut queries = vec![last];
    for f in [0.5, 4.0] {
        let q = last + f * (last - first);
        if q.is_finite() && q > last {
            queries.push(q);
        }
    }
    for &at in &queries {
        let qs: Vec<f64> = [0.025, 0.1, 0.5, 0.9, 0.975]
            .iter()
            .map(|&q| fc.quantile(at, q))
            .collect();
        prop_assert!(
            qs.iter().all(|v| v.is_finite()),
            "non-finite quantiles {:?} at {}",
            qs,
            at
        );
        for w in qs.windows(2) {
            let tol = 1e-9 * (w[0].abs().max(w[1].abs()));
            prop_assert!(w[0] <= w[1] + tol, "unordered quantiles {:?} at {}", qs, at);
        }
        let (lo, hi) = fc.interval(at, 0.8);
        let med = fc.median(at);
        prop_assert!(lo.is_finite() && hi.is_finite() && med.is_finite());
        prop_assert!(lo <= med && med <= hi, "{} {} {} at {}", lo, med, hi, at);
        prop_assert!(fc.mean(at).is_finite(), "mean at {}", at);
        let g = fc.gain(last, at, 0.8);
        prop_assert!(
            g.lower.is_finite() && g.expected.is_finite() && g.upper.is_finite(),
            "{:?}",
            g
        );
        prop_assert!(g.lower <= g.expected && g.expected <= g.upper, "{:?}", g);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_f64_curve_gives_finite_ordered_quantiles_or_a_clear_error(
        steps in steps(12),
        values in proptest::collection::vec(value(), 20),
        higher in any::<bool>(),
        bounds in prop_oneof![
            Just(Bounds::default()),
            Just(Bounds { lower: Some(0.0), upper: None }),
            Just(Bounds { lower: Some(0.0), upper: Some(1.0) }),
            (value(), value()).prop_map(|(a, b)| Bounds { lower: Some(a.min(b)), upper: Some(a.max(b)) }),
        ],
        method in method(),
        scale in prop_oneof![Just(1.5), value()],
    ) {
        let n = steps.len().min(values.len());
        let (steps, values) = (&steps[..n], &values[..n]);
        let dir = if higher { Direction::HigherIsBetter } else { Direction::LowerIsBetter };
        let cfg = ForecastConfig::new(dir)
            .with_bounds(bounds)
            .with_method(method)
            .with_interval_scale(scale);
        match Forecaster::new(cfg).fit(steps, values) {
            Ok(fc) => check_forecast(&fc, steps)?,
            Err(e) => {
                let text = e.to_string();
                prop_assert!(!text.is_empty());
                // A bad point is named by its index.
                if let ForecastError::NonFiniteValue { index, .. }
                | ForecastError::OutOfBounds { index, .. }
                | ForecastError::NonFiniteStep { index, .. } = e
                {
                    prop_assert!(text.contains(&format!("index {index}")), "{}", text);
                }
            }
        }
    }

    /// Every curve within the accepted magnitudes fits, whatever its scale, and its forecast
    /// stays finite and ordered even at the widest accepted interval scale.
    #[test]
    fn accepted_magnitudes_always_fit_with_finite_ordered_quantiles(
        steps in prop_oneof![
            // Sorted draws from the accepted range, magnitudes from tiny to huge.
            proptest::collection::vec(prop_oneof![
                -MAX_ABS_VALUE..MAX_ABS_VALUE,
                -1.0f64..1.0,
                any::<f64>().prop_map(|v| if v.is_finite() { v % MAX_ABS_VALUE } else { 0.0 }),
            ], 6..16).prop_map(|mut v| {
                v.sort_by(f64::total_cmp);
                v.dedup();
                v
            }),
            steps(10).prop_map(|v| v.into_iter().map(|s| s.clamp(-MAX_ABS_VALUE, MAX_ABS_VALUE)).collect::<Vec<_>>())
                .prop_map(|mut v| { v.dedup(); v }),
        ],
        values in proptest::collection::vec(prop_oneof![
            -MAX_ABS_VALUE..MAX_ABS_VALUE,
            -1.0f64..1.0,
            Just(MAX_ABS_VALUE),
            Just(-MAX_ABS_VALUE),
            Just(0.0),
        ], 18),
        higher in any::<bool>(),
        method in method(),
        scale in prop_oneof![Just(1.5), Just(MAX_INTERVAL_SCALE), 0.0f64..MAX_INTERVAL_SCALE],
    ) {
        let n = steps.len().min(values.len());
        prop_assume!(n >= 4);
        let (steps, values) = (&steps[..n], &values[..n]);
        let dir = if higher { Direction::HigherIsBetter } else { Direction::LowerIsBetter };
        let cfg = ForecastConfig::new(dir).with_method(method).with_interval_scale(scale);
        let fc = Forecaster::new(cfg).fit(steps, values);
        prop_assert!(fc.is_ok(), "{:?}", fc.err());
        if let Ok(fc) = fc {
            check_forecast(&fc, steps)?;
        }
    }

    /// In-bounds curves of huge magnitude, the regression's shape: alternating signs.
    #[test]
    fn alternating_extremes_never_give_infinite_forecasts(
        magnitude in prop_oneof![Just(1e308), Just(f64::MAX), 1e300f64..1e308, 1e150f64..1e300],
        n in 3usize..30,
        higher in any::<bool>(),
    ) {
        let steps: Vec<f64> = (1..=n).map(|i| i as f64).collect();
        let values: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { magnitude } else { -magnitude }).collect();
        let dir = if higher { Direction::HigherIsBetter } else { Direction::LowerIsBetter };
        match Forecaster::new(ForecastConfig::new(dir)).fit(&steps, &values) {
            Ok(fc) => check_forecast(&fc, &steps)?,
            Err(e) => prop_assert!(e.to_string().contains("index"), "{}", e),
        }
    }
}

/// The case: ±1e308 is rejected naming the point, not forecast as −inf.
#[test]
fn a_metric_alternating_plus_minus_1e308_is_a_clear_error() {
    let steps: Vec<f64> = (1..=10).map(f64::from).collect();
    let values: Vec<f64> = (0..10)
        .map(|i| if i % 2 == 0 { 1e308 } else { -1e308 })
        .collect();
    let err = Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter))
        .fit(&steps, &values)
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("index 0") && text.contains("1e308"),
        "the error names the point: {text}"
    );
}

/// `--interval-scale 1e308` collapsed the interval to a point; a scale that large is an
/// error naming it, and the largest accepted scale still widens the interval.
#[test]
fn an_interval_scale_beyond_the_limit_is_an_error_and_the_limit_still_widens() {
    let steps: Vec<f64> = (1..=12).map(f64::from).collect();
    let acc: Vec<f64> = steps.iter().map(|e| 0.8 - 0.5 * e.powf(-0.7)).collect();
    let fit = |scale: f64| {
        Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter).with_interval_scale(scale))
            .fit(&steps, &acc)
    };
    let err = fit(1e308).unwrap_err();
    assert!(
        matches!(err, ForecastError::InvalidIntervalScale { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("1e308"), "{err}");
    let width = |scale: f64| {
        let (lo, hi) = fit(scale).unwrap().interval(60.0, 0.8);
        hi - lo
    };
    let widest = width(snuffer_forecast::MAX_INTERVAL_SCALE);
    assert!(widest.is_finite() && widest > width(1.5), "{widest}");
}
