//! The Hugging Face Trainer's own early-stopping tests (`tests/trainer/test_trainer_callback.py`,
//! `EarlyStoppingCallbackTest`), replayed under `Compat::Hf`. Each source test sets the
//! Trainer's `best_metric` and the callback's counter by hand and feeds one value; here the
//! same state is reached by feeding evaluations, and the counter is [`Patience::wait`].

mod compat_support;

use compat_support::stop_epoch;
use snuffer_forecast::Direction::HigherIsBetter as Max;
use snuffer_policy::{Compat, Patience, PatienceConfig};

/// One case: source test, patience, threshold, metrics, the evaluation of the stop, the
/// counter after the last evaluation, the step whose weights `load_best_model_at_end` loads.
type Case = (&'static str, u32, f64, Vec<f64>, Option<usize>, u32, u64);

fn cases() -> Vec<Case> {
    vec![
        (
            "test_patience_counter_increments_when_metric_does_not_improve (best 0.9, 0.8: counter 1)",
            3,
            0.0,
            vec![0.9, 0.8],
            None,
            1,
            1,
        ),
        (
            "test_patience_counter_resets_when_metric_improves (counter 2, best 0.8, 0.95: counter 0)",
            3,
            0.0,
            vec![0.8, 0.7, 0.75, 0.95],
            None,
            0,
            4,
        ),
        (
            "test_threshold_prevents_small_improvements (threshold 0.1, best 0.8, 0.85: counter 1)",
            3,
            0.1,
            vec![0.8, 0.85],
            None,
            1,
            2,
        ),
        (
            "issue 24: threshold from the raw running best ([0.80, 0.86, 0.92, 0.98], 0.1, patience 2)",
            2,
            0.1,
            vec![0.80, 0.86, 0.92, 0.98],
            Some(2),
            2,
            3,
        ),
        (
            "trainer_callback.py: patience 0 stops at the first evaluation (counter 0 >= 0)",
            0,
            0.0,
            vec![0.5, 0.6, 0.7],
            Some(0),
            0,
            1,
        ),
    ]
}

#[test]
fn trainer_own_tests_match_under_hf_compat() {
    for (source, patience, threshold, metrics, stop, counter, best_step) in cases() {
        let cfg = PatienceConfig::new(patience)
            .with_min_delta(threshold)
            .with_compat(Compat::Hf);
        let mut p = Patience::new(cfg).unwrap();
        assert_eq!(stop_epoch(&mut p, &metrics, Max), stop, "{source}: stop");
        assert_eq!(p.wait(), counter, "{source}: counter");
        assert_eq!(p.best().map(|b| b.0), Some(best_step), "{source}: best");
    }
}

#[test]
fn snuffer_measures_the_threshold_from_the_last_improvement_instead() {
    let cfg = PatienceConfig::new(2).with_min_delta(0.1);
    let mut p = Patience::new(cfg).unwrap();
    assert_eq!(stop_epoch(&mut p, &[0.80, 0.86, 0.92, 0.98], Max), None);
}

#[test]
fn eval_delay_ignores_evaluations_before_its_step() {
    // eval_delay 3: evaluations at steps 1 and 2 do not happen; patience 1 then stops at
    // the first evaluation after step 3 that does not improve.
    let cfg = PatienceConfig::new(1)
        .with_eval_delay(3)
        .with_compat(Compat::Hf);
    let mut p = Patience::new(cfg).unwrap();
    assert_eq!(
        stop_epoch(&mut p, &[0.9, 0.95, 0.5, 0.6, 0.55], Max),
        Some(4)
    );
}
