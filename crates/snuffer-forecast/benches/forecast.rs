//! Forecast speed: a cold fit of the full ensemble on 1 000 points, a warm refit after one new
//! point, and the queries a stop policy makes. Single-threaded by construction (the
//! forecaster spawns no threads).

use criterion::{criterion_group, criterion_main, Criterion};
use snuffer_forecast::{Bounds, Direction, ForecastConfig, Forecaster};
use std::hint::black_box;

/// A noisy saturating accuracy curve (deterministic pseudo-noise).
fn curve(n: usize) -> (Vec<f64>, Vec<f64>) {
    let steps: Vec<f64> = (1..=n).map(|i| (10 * i) as f64).collect();
    let vals = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let noise = ((i * 7919) % 101) as f64 / 101.0 - 0.5;
            0.85 - 0.7 * (s / 10.0).powf(-0.45) + 0.004 * noise
        })
        .collect();
    (steps, vals)
}

fn config() -> ForecastConfig {
    ForecastConfig::new(Direction::HigherIsBetter).with_bounds(Bounds {
        lower: Some(0.0),
        upper: Some(1.0),
    })
}

fn bench(c: &mut Criterion) {
    let (steps, vals) = curve(1000);
    c.bench_function("ensemble cold fit, 1000 points", |b| {
        b.iter(|| {
            let mut f = Forecaster::new(config());
            black_box(f.fit(black_box(&steps), black_box(&vals)).ok())
        })
    });

    let mut primed = Forecaster::new(config());
    let _ = primed.fit(&steps[..999], &vals[..999]);
    c.bench_function(
        "ensemble warm refit after one new point, 1000 points",
        |b| {
            b.iter(|| {
                let mut f = primed.clone();
                black_box(f.fit(black_box(&steps), black_box(&vals)).ok())
            })
        },
    );

    let (s50, v50) = curve(50);
    c.bench_function("ensemble cold fit, 50 points", |b| {
        b.iter(|| {
            let mut f = Forecaster::new(config());
            black_box(f.fit(black_box(&s50), black_box(&v50)).ok())
        })
    });

    if let Ok(fc) = Forecaster::new(config()).fit(&steps, &vals) {
        c.bench_function("interval + gain queries on a fitted forecast", |b| {
            b.iter(|| {
                let i = fc.interval(black_box(20_000.0), 0.8);
                let g = fc.gain(10_000.0, black_box(20_000.0), 0.8);
                black_box((i, g))
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
