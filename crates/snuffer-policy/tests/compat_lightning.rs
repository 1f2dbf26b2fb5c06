//! PyTorch Lightning's own early-stopping tests
//! (`tests/tests_pytorch/callbacks/test_early_stopping.py`), every one that feeds a metric
//! sequence and asserts where training stops (Lightning's `EarlyStopping` restores no
//! weights), replayed under `Compat::Lightning` with the checks composed in Lightning's
//! order (non-finite, stopping threshold, divergence threshold, patience).
//!
//! Epoch `e` is step `e + 1`; the source tests assert `trainer.current_epoch - 1`, the
//! epoch of the stop.

mod compat_support;

use compat_support::{early_stopping, obs, stop};
use snuffer_forecast::Direction::LowerIsBetter as Min;
use snuffer_policy::{Compat, Decision, MinSteps, Observation, PatienceConfig, StopPolicy};

/// One case: source test, patience, stopping and divergence thresholds, losses, the epoch
/// of the stop and the policy that gives the reason.
type Case = (
    &'static str,
    u32,
    Option<f64>,
    Option<f64>,
    Vec<f64>,
    Option<(usize, &'static str)>,
);

fn cases() -> Vec<Case> {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let mut v: Vec<Case> = Vec::new();
    for test in [
        "test_early_stopping_patience",
        "test_early_stopping_patience_train",
    ] {
        v.push((
            test,
            3,
            None,
            None,
            vec![6., 5., 5., 5., 5., 5.],
            Some((4, "patience")),
        ));
        v.push((
            test,
            1,
            None,
            None,
            vec![6., 5., 4., 4., 3., 3.],
            Some((3, "patience")),
        ));
        v.push((
            test,
            3,
            None,
            None,
            vec![6., 5., 6., 5., 5., 5.],
            Some((4, "patience")),
        ));
    }
    let t = "test_early_stopping_thresholds";
    v.push((
        t,
        3,
        None,
        None,
        vec![8., 4., 2., 3., 4., 5., 8., 10.],
        Some((5, "patience")),
    ));
    v.push((
        t,
        3,
        Some(2.9),
        None,
        vec![9., 8., 7., 6., 5., 6., 4., 3., 2., 1.],
        Some((8, "target")),
    ));
    v.push((
        t,
        3,
        None,
        Some(15.9),
        vec![9., 4., 2., 16., 32., 64.],
        Some((3, "divergence")),
    ));
    let t = "test_early_stopping_on_non_finite_monitor";
    v.push((
        t,
        3,
        None,
        None,
        vec![4., 3., inf, 2., 1.],
        Some((2, "divergence")),
    ));
    v.push((
        t,
        3,
        None,
        None,
        vec![4., 3., nan, 2., 1.],
        Some((2, "divergence")),
    ));
    let t = "test_early_stopping_reasons";
    // ModelWithHighLoss: 10.0 every epoch, patience 2, max_epochs 10.
    v.push((t, 2, None, None, vec![10.0; 10], Some((2, "patience"))));
    // ModelWithDecreasingLoss: stopping_threshold 0.6.
    v.push((
        t,
        3,
        Some(0.6),
        None,
        vec![5., 3., 1., 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
        Some((3, "target")),
    ));
    // ModelWithIncreasingLoss: divergence_threshold 8.0 (patience would fire at epoch 3 too;
    // Lightning checks the divergence first).
    v.push((
        t,
        3,
        None,
        Some(8.0),
        vec![1., 2., 5., 10., 15., 15., 15., 15., 15., 15.],
        Some((3, "divergence")),
    ));
    // ModelWithNaNLoss.
    v.push((
        t,
        3,
        None,
        None,
        vec![1., 0.5, nan, nan, nan],
        Some((2, "divergence")),
    ));
    // ModelWithImprovingLoss, max_epochs 3: never stopped.
    v.push((t, 3, None, None, vec![5., 4., 3.], None));
    // Lightning checks the stopping threshold before the divergence threshold: a value on
    // the good side of one and the bad side of the other stops with the threshold.
    v.push((
        "_evaluate_stopping_criteria order",
        3,
        Some(10.0),
        Some(5.0),
        vec![7.0],
        Some((0, "target")),
    ));
    // The example of the strict threshold: Lightning stops at 1, not at 2.9.
    v.push((
        "issue 24: strict stopping_threshold",
        3,
        Some(2.9),
        None,
        vec![5., 3., 2.9, 1.],
        Some((3, "target")),
    ));
    v
}

#[test]
fn lightning_own_tests_match_under_lightning_compat() {
    for (source, patience, threshold, divergence, losses, want) in cases() {
        let mut p = early_stopping(
            Compat::Lightning,
            PatienceConfig::new(patience),
            true,
            threshold,
            divergence,
        );
        let got = stop(&mut p, &losses, Min);
        assert_eq!(
            got.as_ref().map(|(e, name)| (*e, name.as_str())),
            want,
            "{source} {losses:?}"
        );
    }
}

/// Lightning's mock in `test_min_epochs_min_steps_global_step`: every check asks to stop.
struct AlwaysStop;
impl StopPolicy for AlwaysStop {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        match obs.metric {
            Some(_) => Decision::Stop(snuffer_policy::StopReason::other(
                "mock",
                "asked".into(),
                &[],
            )),
            None => Decision::Continue,
        }
    }
}

#[test]
fn lightning_min_epochs_min_steps_global_step() {
    // (limit_train_batches, min_epochs, min_steps, stop_step): the check runs at each
    // epoch's end (a metric every `k` steps) and asks to stop; min_epochs counts as
    // min_epochs × k steps.
    let cases = [
        (3, 0, 10, 10),
        (5, 0, 10, 10),
        (3, 2, 0, 6),
        (5, 2, 0, 10),
        (3, 1, 10, 10),
        (5, 1, 10, 10),
        (3, 3, 10, 10),
        (5, 3, 10, 15),
    ];
    for (k, min_epochs, min_steps, stop_step) in cases {
        let mut p = MinSteps::new(AlwaysStop, u64::max(min_steps, min_epochs * k));
        let got = (1..=100u64).find(|&s| {
            let metric = (s % k == 0).then_some(0.0);
            p.observe(&obs(s, metric, Min)).is_stop()
        });
        assert_eq!(
            got,
            Some(stop_step),
            "test_min_epochs_min_steps_global_step({k}, {min_epochs}, {min_steps}, {stop_step})"
        );
    }
}
