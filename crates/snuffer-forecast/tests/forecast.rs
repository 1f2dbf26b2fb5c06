//! End-to-end tests of the public API: degenerate inputs, orientation, warm starts, bounds,
//! and a property test over arbitrary finite curves.

use proptest::prelude::*;
use snuffer_forecast::{
    Bounds, Direction, Forecast, ForecastConfig, ForecastError, Forecaster, Method,
};

fn acc_curve(n: usize) -> (Vec<f64>, Vec<f64>) {
    let steps: Vec<f64> = (1..=n).map(|i| i as f64).collect();
    let vals = steps.iter().map(|s| 0.8 - 0.5 * s.powf(-0.7)).collect();
    (steps, vals)
}

fn unit_bounds() -> Bounds {
    Bounds {
        lower: Some(0.0),
        upper: Some(1.0),
    }
}

#[test]
fn errors_name_the_offending_index() {
    let mut f = Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter));
    let cases: Vec<(Vec<f64>, Vec<f64>, ForecastError)> = vec![
        (
            vec![1.0, 2.0],
            vec![0.1, 0.2],
            ForecastError::TooFewPoints { needed: 3, got: 2 },
        ),
        (
            vec![1.0, 2.0, 3.0],
            vec![0.1, 0.2],
            ForecastError::LengthMismatch {
                steps: 3,
                values: 2,
            },
        ),
        (
            vec![1.0, 2.0, 2.0, 3.0],
            vec![0.1, 0.2, 0.3, 0.4],
            ForecastError::NonIncreasingStep {
                index: 2,
                step: 2.0,
                previous: 2.0,
            },
        ),
        (
            vec![1.0, f64::NAN, 3.0],
            vec![0.1, 0.2, 0.3],
            ForecastError::NonFiniteStep {
                index: 1,
                value: f64::NAN,
            },
        ),
    ];
    for (steps, values, want) in cases {
        let got = f.fit(&steps, &values).unwrap_err();
        // NaN != NaN, so compare the messages, which carry the index.
        assert_eq!(got.to_string(), want.to_string(), "{steps:?} {values:?}");
    }
    let err = f
        .fit(&[1.0, 2.0, 3.0], &[0.1, f64::INFINITY, 0.3])
        .unwrap_err();
    assert!(
        matches!(err, ForecastError::NonFiniteValue { index: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("index 1"));
}

#[test]
fn values_outside_bounds_and_bad_bounds_are_rejected() {
    let cfg = ForecastConfig::new(Direction::HigherIsBetter).with_bounds(unit_bounds());
    let err = Forecaster::new(cfg)
        .fit(&[1.0, 2.0, 3.0], &[0.1, 1.2, 0.3])
        .unwrap_err();
    assert!(
        matches!(err, ForecastError::OutOfBounds { index: 1, .. }),
        "{err}"
    );
    let bad = ForecastConfig::new(Direction::HigherIsBetter).with_bounds(Bounds {
        lower: Some(1.0),
        upper: Some(0.0),
    });
    let err = Forecaster::new(bad)
        .fit(&[1.0, 2.0, 3.0], &[0.1, 0.2, 0.3])
        .unwrap_err();
    assert!(matches!(err, ForecastError::InvalidBounds { .. }), "{err}");
}

#[test]
fn constant_curve_gives_an_exact_flat_forecast() {
    let mut f =
        Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter).with_bounds(unit_bounds()));
    let fc = f.fit(&[1.0, 2.0, 3.0, 4.0], &[0.001; 4]).unwrap();
    assert_eq!(fc.method(), Method::LastValue);
    assert_eq!(fc.median(100.0), 0.001);
    assert_eq!(fc.interval(100.0, 0.8), (0.001, 0.001));
    assert_eq!(fc.gain(4.0, 100.0, 0.8).expected, 0.0);
}

#[test]
fn improving_accuracy_is_forecast_to_improve_within_bounds() {
    let (steps, vals) = acc_curve(15);
    let mut f =
        Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter).with_bounds(unit_bounds()));
    let fc = f.fit(&steps, &vals).unwrap();
    assert_eq!(fc.method(), Method::Ensemble);
    assert!(!fc.members().is_empty());
    let total: f64 = fc.members().iter().map(|m| m.1).sum();
    assert!((total - 1.0).abs() < 1e-9);
    let med = fc.median(75.0);
    let truth = 0.8 - 0.5 * 75f64.powf(-0.7);
    assert!(
        med > vals[14],
        "median {med} should exceed the last value {}",
        vals[14]
    );
    // The median leans optimistic by design (upward surprises dominate on real curves), so
    // the check on a clean curve is that the truth lies inside the 80 % interval.
    let (lo, hi) = fc.interval(75.0, 0.8);
    assert!(
        lo <= truth && truth <= hi,
        "truth {truth} outside [{lo}, {hi}]"
    );
    assert!(lo <= med && med <= hi && hi <= 1.0 && lo >= 0.0);
    let g = fc.gain(15.0, 75.0, 0.8);
    assert!(g.expected > 0.0 && g.lower <= g.expected && g.expected <= g.upper);
    assert!(fc.max_gain_upper(vals[14], 75.0, 0.8) >= g.expected - 1e-9);
}

#[test]
fn a_loss_is_oriented_and_stays_above_its_floor() {
    // Perplexity-like loss falling over orders of magnitude, starting at step 0.
    let steps: Vec<f64> = (0..20).map(|i| (i * 100) as f64).collect();
    let loss: Vec<f64> = steps
        .iter()
        .map(|s| 4.0 + 1e4 * (1.0 + s / 50.0).powf(-1.5))
        .collect();
    let cfg = ForecastConfig::new(Direction::LowerIsBetter).with_bounds(Bounds {
        lower: Some(0.0),
        upper: None,
    });
    let fc = Forecaster::new(cfg).fit(&steps, &loss).unwrap();
    let last = *loss.last().unwrap();
    let med = fc.median(20_000.0);
    assert!(med < last && med > 0.0, "median {med}, last {last}");
    // Gains are positive when the loss falls.
    assert!(fc.gain(1900.0, 20_000.0, 0.8).expected > 0.0);
    // The oriented quantile is the negated loss quantile of the opposite tail.
    let q = fc.quantile_oriented(20_000.0, 0.9);
    assert!((q + fc.quantile(20_000.0, 0.1)).abs() < 1e-9 * (1.0 + q.abs()));
}

#[test]
fn warm_refit_agrees_with_a_cold_fit() {
    let (steps, vals) = acc_curve(40);
    let cfg = ForecastConfig::new(Direction::HigherIsBetter).with_bounds(unit_bounds());
    let mut warm = Forecaster::new(cfg.clone());
    warm.fit(&steps[..39], &vals[..39]).unwrap();
    let a = warm.fit(&steps, &vals).unwrap().median(200.0);
    let b = Forecaster::new(cfg)
        .fit(&steps, &vals)
        .unwrap()
        .median(200.0);
    assert!((a - b).abs() < 0.02, "warm {a} vs cold {b}");
}

#[test]
fn baselines_predict_last_and_best() {
    let steps = [1.0, 2.0, 3.0, 4.0];
    let vals = [0.3, 0.6, 0.5, 0.4];
    let last = ForecastConfig::new(Direction::HigherIsBetter).with_method(Method::LastValue);
    let best = ForecastConfig::new(Direction::HigherIsBetter).with_method(Method::BestSoFar);
    let f1 = Forecaster::new(last).fit(&steps, &vals).unwrap();
    let f2 = Forecaster::new(best).fit(&steps, &vals).unwrap();
    assert!((f1.median(10.0) - 0.4).abs() < 1e-8);
    assert!((f2.median(10.0) - 0.6).abs() < 1e-8);
    let pow3 = ForecastConfig::new(Direction::HigherIsBetter).with_method(Method::Pow3);
    let (s, v) = acc_curve(10);
    let f3 = Forecaster::new(pow3).fit(&s, &v).unwrap();
    assert!((f3.median(50.0) - (0.8 - 0.5 * 50f64.powf(-0.7))).abs() < 0.02);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any finite curve with increasing steps gives a forecast (never a panic) whose
    /// quantiles are finite, ordered, and inside the bounds.
    #[test]
    fn arbitrary_finite_curves_give_ordered_finite_quantiles(
        gaps in prop::collection::vec(1e-3f64..1e4, 3..40),
        vals in prop::collection::vec(-1e6f64..1e6, 40),
        start in -100.0f64..1e5,
        higher in any::<bool>(),
        bounded in any::<bool>(),
    ) {
        let mut steps = Vec::with_capacity(gaps.len());
        let mut s = start;
        for g in &gaps { steps.push(s); s += g; }
        let mut values: Vec<f64> = vals[..steps.len()].to_vec();
        let dir = if higher { Direction::HigherIsBetter } else { Direction::LowerIsBetter };
        let mut cfg = ForecastConfig::new(dir);
        if bounded {
            for v in &mut values { *v = v.abs(); }
            cfg = cfg.with_bounds(Bounds { lower: Some(0.0), upper: None });
        }
        let fc = Forecaster::new(cfg).fit(&steps, &values).unwrap();
        let far = s + 10.0 * (s - start);
        let q1 = fc.quantile(far, 0.1);
        let q5 = fc.quantile(far, 0.5);
        let q9 = fc.quantile(far, 0.9);
        prop_assert!(q1.is_finite() && q5.is_finite() && q9.is_finite());
        // Quantiles are of the metric in its own units: increasing in q for either direction.
        let tol = 1e-9 * (1.0 + q5.abs());
        prop_assert!(q1 <= q5 + tol && q5 <= q9 + tol, "{} {} {}", q1, q5, q9);
        if bounded { prop_assert!(q1 >= 0.0 && q9 >= 0.0); }
        let g = fc.gain(*steps.last().unwrap(), far, 0.8);
        prop_assert!(g.lower <= g.expected && g.expected <= g.upper);
        prop_assert!(fc.mean(far).is_finite());
    }
}

/// `0.9·(1 − e^(−t/20))` for t = 1..=n, plus deterministic pseudo-noise of amplitude `noise`.
fn exponential(n: usize, noise: f64) -> (Vec<f64>, Vec<f64>) {
    let steps: Vec<f64> = (1..=n).map(|i| i as f64).collect();
    let vals = steps
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let wiggle = ((i * 7919) % 101) as f64 / 101.0 - 0.5;
            0.9 * (1.0 - (-t / 20.0).exp()) + noise * wiggle
        })
        .collect();
    (steps, vals)
}

/// Fit `steps`/`vals` as a run would: one call per new point (each call is a rolling
/// origin the next ones calibrate on).
fn fit_online(config: ForecastConfig, steps: &[f64], vals: &[f64]) -> Forecast {
    let mut f = Forecaster::new(config);
    let mut last = None;
    for n in 3..=steps.len() {
        last = f.fit(&steps[..n], &vals[..n]).ok();
    }
    last.expect("a forecast")
}

#[test]
fn a_curve_one_family_follows_exactly_gets_a_tight_forecast() {
    // Weibull with δ = 1 is this curve: the holdout comes true, so the forecast trusts the
    // extrapolation fully, and its earlier forecasts of the run were right, so the spread
    // shrinks.
    let (steps, vals) = exponential(60, 0.0);
    let fc = fit_online(
        ForecastConfig::new(Direction::HigherIsBetter),
        &steps,
        &vals,
    );
    let truth = 0.9 * (1.0 - (-200.0f64 / 20.0).exp());
    let (lo, hi) = fc.interval(200.0, 0.95);
    assert!(
        (fc.median(200.0) - truth).abs() < 0.002,
        "{} {:?}",
        fc.median(200.0),
        fc.calibration()
    );
    assert!(lo <= truth && truth <= hi, "[{lo}, {hi}] vs {truth}");
    assert!(hi - lo < 0.02, "95 % interval [{lo}, {hi}] should be tight");
    // The same curve with visible noise: a much wider interval.
    let (steps, noisy) = exponential(60, 0.02);
    let wide = fit_online(
        ForecastConfig::new(Direction::HigherIsBetter),
        &steps,
        &noisy,
    );
    let (wlo, whi) = wide.interval(200.0, 0.95);
    assert!(
        whi - wlo > 3.0 * (hi - lo),
        "noisy [{wlo}, {whi}] vs exact [{lo}, {hi}]"
    );
}
