//! Keras 3's own early-stopping tests (`keras/src/callbacks/early_stopping_test.py`), every
//! one that feeds a metric sequence and asserts where training stops or which weights are
//! restored, replayed under `Compat::Keras`. Tests on random data assert a bound on the
//! number of epochs; they are fed the worst case for that bound (a flat curve).
//!
//! Epoch `e` is step `e + 1`; `start_from_epoch = N` is `start_from = N` (steps ≤ N, i.e.
//! epochs 0..N−1, are ignored).

mod compat_support;

use compat_support::{early_stopping, stop_epoch};
use snuffer_forecast::Direction::{self, LowerIsBetter as Min};
use snuffer_policy::{Compat, Patience, PatienceConfig, StopPolicy};

/// One case: source test, settings, losses, where Keras stops (epoch) and which epoch's
/// weights it restores (`None`: not asserted by the source test).
struct Case {
    source: &'static str,
    config: PatienceConfig,
    metrics: Vec<f64>,
    direction: Direction,
    stop: Option<usize>,
    restore: Option<usize>,
}

fn cases() -> Vec<Case> {
    let cfg = |p: u32| PatienceConfig::new(p).with_compat(Compat::Keras);
    let patience_losses = vec![10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5];
    let mut v: Vec<Case> = [0u32, 1, 2, 3]
        .into_iter()
        .map(|p| Case {
            source: "test_early_stopping_patience (stopped_epoch == max(patience, 1) + 2)",
            config: cfg(p),
            metrics: patience_losses.clone(),
            direction: Min,
            stop: Some(p.max(1) as usize + 2),
            restore: None,
        })
        .collect();
    v.extend([
        Case {
            source: "test_early_stopping_final_weights_when_restoring_model_weights (patience 2)",
            config: cfg(2),
            metrics: vec![0.2, 0.15, 0.1, 0.11, 0.12],
            direction: Min,
            stop: Some(4),
            restore: Some(2),
        },
        Case {
            source: "test_early_stopping_final_weights_when_restoring_model_weights (baseline 0.5 never beaten: 5 epochs)",
            config: cfg(5).with_baseline(0.5),
            metrics: vec![0.9, 0.8, 0.7, 0.71, 0.72, 0.73],
            direction: Min,
            stop: Some(4),
            restore: Some(2),
        },
        Case {
            source: "test_early_stopping_final_weights_when_restoring_model_weights (another callback stops at epoch 3)",
            config: cfg(5).with_baseline(0.5),
            // The run ends after epoch 3; Keras restores at any end of training.
            metrics: vec![0.9, 0.8, 0.7, 0.71],
            direction: Min,
            stop: None,
            restore: Some(2),
        },
        Case {
            source: "test_early_stopping_with_baseline (len(epochs) >= patience 3; flat mse above the baseline 0.6)",
            config: cfg(3).with_baseline(0.6),
            metrics: vec![0.7; 20],
            direction: Min,
            stop: Some(2),
            restore: Some(0),
        },
        Case {
            source: "test_early_stopping_with_start_from_epoch (patience 3, start_from_epoch 2: len >= 5; flat mse)",
            config: cfg(3).with_start_from(2),
            metrics: vec![0.7; 20],
            direction: Min,
            stop: Some(5),
            restore: Some(2),
        },
        Case {
            source: "test_early_stopping_with_start_from_epoch (patience 0, start_from_epoch 2: len >= 2; flat mse)",
            config: cfg(0).with_start_from(2),
            metrics: vec![0.7; 20],
            direction: Min,
            stop: Some(3),
            restore: Some(2),
        },
    ]);
    v
}

#[test]
fn keras_own_tests_match_under_keras_compat() {
    for c in cases() {
        let mut p = Patience::new(c.config.clone()).unwrap();
        let got = stop_epoch(&mut p, &c.metrics, c.direction);
        assert_eq!(got, c.stop, "{}: stop", c.source);
        if let Some(e) = c.restore {
            assert_eq!(
                p.best().map(|(step, _)| step),
                Some(e as u64 + 1),
                "{}: restored epoch",
                c.source
            );
        }
        // The bounds the random-data tests assert hold.
        if let Some(s) = got {
            assert!(s + 1 >= c.config.patience as usize, "{}", c.source);
        }
    }
}

#[test]
fn keras_code_not_its_docstring_an_improving_run_below_the_baseline_never_stops() {
    let losses = [0.9, 0.8, 0.7, 0.6, 0.55, 0.52];
    let keras = PatienceConfig::new(2)
        .with_baseline(0.5)
        .with_compat(Compat::Keras);
    assert_eq!(
        stop_epoch(&mut Patience::new(keras).unwrap(), &losses, Min),
        None
    );
    // Snuffer's default follows the docstring: patience evaluations without beating it.
    let snuffer = PatienceConfig::new(2).with_baseline(0.5);
    assert_eq!(
        stop_epoch(&mut Patience::new(snuffer).unwrap(), &losses, Min),
        Some(1)
    );
}

#[test]
fn keras_nan_is_no_improvement_and_a_first_nan_is_the_best() {
    let nan = f64::NAN;
    let mut p = early_stopping(Compat::Keras, PatienceConfig::new(2), false, None, None);
    assert_eq!(stop_epoch(&mut p, &[0.5, nan, nan, 0.1], Min), Some(2));
    // `best is None` makes a first NaN the best, and nothing improves on NaN.
    let mut q = Patience::new(PatienceConfig::new(2).with_compat(Compat::Keras)).unwrap();
    assert_eq!(stop_epoch(&mut q, &[nan, 0.5, 0.4], Min), Some(2));
    assert!(q.best().is_some_and(|(s, v)| s == 1 && v.is_nan()));
    q.reset();
    assert_eq!(q.best(), None);
}

mod properties {
    use super::compat_support::stop_epoch;
    use proptest::prelude::*;
    use snuffer_forecast::Direction;
    use snuffer_policy::{Compat, Patience, PatienceConfig};

    fn metric() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => -10.0f64..10.0,
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(0.5),
        ]
    }

    proptest! {
        /// Keras, Lightning and Snuffer treat patience 0 as 1 on any sequence.
        #[test]
        fn patience_zero_is_one_except_under_the_trainer(
            metrics in proptest::collection::vec(metric(), 1..40),
            delta in prop_oneof![Just(0.0), 0.0f64..1.0],
            up in any::<bool>(),
            start in 0u64..4,
        ) {
            let dir = if up { Direction::HigherIsBetter } else { Direction::LowerIsBetter };
            for c in [Compat::Snuffer, Compat::Keras, Compat::Lightning] {
                let cfg = |p| PatienceConfig::new(p).with_min_delta(delta).with_start_from(start).with_compat(c);
                let mut zero = Patience::new(cfg(0)).unwrap();
                let mut one = Patience::new(cfg(1)).unwrap();
                prop_assert_eq!(stop_epoch(&mut zero, &metrics, dir), stop_epoch(&mut one, &metrics, dir), "{}", c);
            }
            // The Trainer with patience 0 stops at its first evaluation.
            let hf = PatienceConfig::new(0).with_start_from(start).with_compat(Compat::Hf);
            let first = (start as usize).min(metrics.len());
            let want = (first < metrics.len()).then_some(first);
            prop_assert_eq!(stop_epoch(&mut Patience::new(hf).unwrap(), &metrics, dir), want);
        }

        /// The restored step is a monitored evaluation at or before the stop, and under
        /// Snuffer's semantics its value is the best finite one seen.
        #[test]
        fn best_is_never_after_the_stop_and_is_the_raw_best(
            metrics in proptest::collection::vec(metric(), 1..40),
            patience in 0u32..4,
            delta in 0.0f64..0.5,
        ) {
            for c in [Compat::Snuffer, Compat::Keras, Compat::Lightning, Compat::Hf] {
                let mut p = Patience::new(PatienceConfig::new(patience).with_min_delta(delta).with_compat(c)).unwrap();
                let stop = stop_epoch(&mut p, &metrics, Direction::HigherIsBetter);
                let last = stop.unwrap_or(metrics.len() - 1) as u64 + 1;
                if let Some((s, _)) = p.best() {
                    prop_assert!(s >= 1 && s <= last);
                }
                if c == Compat::Snuffer {
                    let seen = &metrics[..last as usize];
                    let max = seen.iter().copied().filter(|v| v.is_finite()).fold(f64::NEG_INFINITY, f64::max);
                    prop_assert_eq!(p.best().map(|b| b.1), max.is_finite().then_some(max));
                }
            }
        }
    }
}
