//! Replay speed: one 60-evaluation run (forecast refits on the replay's geometric cadence and
//! the marginal-gain checks), and the policy's check alone with a given forecast.

use criterion::{criterion_group, criterion_main, Criterion};
use snuffer_energy::{Joules, Provenance, JOULES_PER_KWH};
use snuffer_forecast::{Direction, ForecastConfig, Forecaster};
use snuffer_policy::{MarginalGain, MarginalGainConfig, Observation, StopPolicy, Tau};
use snuffer_replay::curves::CurveRun;
use snuffer_replay::replay::{replay_run, ReplayConfig};
use std::hint::black_box;

fn run(n: usize) -> CurveRun {
    CurveRun {
        source: "bench".into(),
        task: "t".into(),
        run_id: "r".into(),
        metric_name: "acc".into(),
        higher_is_better: true,
        steps: (1..=n).map(|t| t as f64).collect(),
        // A noisy saturating curve: the noise keeps the fits honest.
        metrics: (1..=n)
            .map(|t| {
                0.7 * (1.0 - (-(t as f64) / 15.0).exp())
                    + 0.004 * ((t * 7919 % 13) as f64 / 13.0 - 0.5)
            })
            .collect(),
        epoch_time_s: Some(vec![30.0; n]),
        energy_j: None,
    }
}

fn bench(c: &mut Criterion) {
    let curve = run(60);
    let config = ReplayConfig {
        tau_per_kwh: Some(0.01),
        ..ReplayConfig::default()
    };
    // τ = 0 never stops, so every evaluation is replayed.
    let mut policy = MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(0.0))).expect("valid");
    c.bench_function("replay_run 60 evaluations (never stopping)", |b| {
        b.iter(|| black_box(replay_run(&curve, &mut policy, &config)))
    });

    let mut f = Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter));
    let forecast = f
        .fit(&curve.steps[..30], &curve.metrics[..30])
        .expect("fit");
    let provenance = Provenance::Counter;
    c.bench_function("marginal_gain observe (check with forecast)", |b| {
        b.iter(|| {
            let mut p = MarginalGain::new(
                MarginalGainConfig::new(Tau::PerKwh(1e-9))
                    .with_warmup_fraction(0.0)
                    .with_min_evaluations(1),
            )
            .expect("valid");
            let obs = Observation {
                step: 30,
                planned_steps: Some(60),
                elapsed: Default::default(),
                energy: Joules(30.0 * 0.01 * JOULES_PER_KWH),
                provenance: &provenance,
                recent_power: None,
                metric: Some(curve.metrics[29]),
                loss: None,
                direction: Direction::HigherIsBetter,
                forecast: Some(&forecast),
                sweep: None,
            };
            black_box(p.observe(&obs))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
