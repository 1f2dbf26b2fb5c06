//! One stop decision on the learned prior: 200 seen points, 8 horizons, the distribution at
//! each and `E[(Y_h − best)⁺]` from it (goal ≤ 1 ms on the project's 2-core CPU).

use criterion::{criterion_group, criterion_main, Criterion};
use snuffer_forecast::{Bounds, CurvePredictor, Direction, PredictorQuery};
use snuffer_prior::LearnedPrior;
use std::hint::black_box;

fn decision(c: &mut Criterion) {
    let prior = match LearnedPrior::shipped() {
        Ok(p) => p,
        Err(e) => panic!("the shipped prior does not load: {e}"),
    };
    let steps: Vec<f64> = (1..=200).map(|s| f64::from(s) * 10.0).collect();
    let values: Vec<f64> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| 0.9 - 0.6 * (s / 100.0).powf(-0.5) + 0.003 * ((i * 7919) % 13) as f64 / 13.0)
        .collect();
    let horizons: Vec<f64> = (1..=8).map(|k| 2000.0 + f64::from(k) * 1000.0).collect();
    let best = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    c.bench_function("prior_decision_200_points_8_horizons", |b| {
        b.iter(|| {
            let q = PredictorQuery {
                steps: black_box(&steps),
                values: black_box(&values),
                direction: Direction::HigherIsBetter,
                bounds: Bounds {
                    lower: Some(0.0),
                    upper: Some(1.0),
                },
                planned_steps: 10_000.0,
                schedule: &[],
                horizons: &horizons,
            };
            let p = prior.predict(&q).unwrap_or_default();
            p.iter()
                .map(|d| d.expected_excess(Direction::HigherIsBetter, best))
                .fold(0.0, f64::max)
        })
    });
}

criterion_group!(benches, decision);
criterion_main!(benches);
