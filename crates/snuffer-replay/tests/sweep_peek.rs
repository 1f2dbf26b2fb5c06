//! A sweep's stops depend only on what was recorded: the test `../shared/tools/peek_check.py`
//! makes, in Rust. A sweep is replayed; then every metric after each run's stop (and every
//! metric of the runs after the one checked) is replaced by noise, and the checked run must
//! stop at the same step.

mod common;

use common::uniform;
use snuffer_energy::JOULES_PER_KWH;
use snuffer_policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, Tau};
use snuffer_replay::curves::CurveRun;
use snuffer_replay::replay::{replay_sweep, ReplayConfig};

/// A search: runs reaching different plateaus at different speeds, with noise.
fn sweep(n_runs: usize, points: usize) -> Vec<CurveRun> {
    let mut u = uniform(11);
    (0..n_runs)
        .map(|r| {
            let top = 0.5 + 0.4 * u();
            let speed = 3.0 + 20.0 * u();
            let metrics = (1..=points)
                .map(|t| top * (1.0 - (-(t as f64) / speed).exp()) + 0.01 * (u() - 0.5))
                .collect();
            CurveRun {
                source: "synthetic".into(),
                task: "search".into(),
                run_id: format!("run-{r}"),
                metric_name: "val_acc".into(),
                higher_is_better: true,
                steps: (1..=points).map(|t| t as f64).collect(),
                metrics,
                epoch_time_s: None,
                energy_j: Some(vec![0.01 * JOULES_PER_KWH; points]),
            }
        })
        .collect()
}

/// Each run's stop step, and how many stops the sweep rule made.
fn stops(runs: &[CurveRun]) -> anyhow::Result<(Vec<f64>, usize)> {
    let mut policy = AnyOf::new()
        .with(Divergence::non_finite())
        .with(MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(
            2.0,
        )))?);
    let out = replay_sweep(runs, &mut policy, &ReplayConfig::default());
    let by_sweep = out
        .iter()
        .filter(|r| r.reason.as_ref().is_some_and(|x| x.policy == "sweep"))
        .count();
    Ok((out.iter().map(|r| r.stop_step).collect(), by_sweep))
}

#[test]
fn no_stop_moves_when_what_came_after_it_becomes_noise() -> anyhow::Result<()> {
    let runs = sweep(10, 60);
    let (full, by_sweep) = stops(&runs)?;
    assert!(
        by_sweep >= 2,
        "the sweep rule must stop runs for the check to mean anything: {full:?}"
    );
    let mut noise = uniform(99);
    for checked in [2, 5, 9] {
        let scrambled: Vec<CurveRun> = runs
            .iter()
            .enumerate()
            .map(|(j, r)| {
                let mut r = r.clone();
                for (s, m) in r.steps.iter().zip(r.metrics.iter_mut()) {
                    if j > checked || *s > full[j] {
                        *m = noise();
                    }
                }
                r
            })
            .collect();
        let (again, _) = stops(&scrambled)?;
        assert_eq!(
            again[..=checked],
            full[..=checked],
            "run {checked} or one before it stopped elsewhere once later data became noise"
        );
    }
    Ok(())
}
