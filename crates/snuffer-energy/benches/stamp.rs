//! Cost of stamping a step boundary (goal: ≤ 0.5 µs; it is one clock read).

use criterion::{criterion_group, criterion_main, Criterion};
use snuffer_energy::StepClock;
use std::hint::black_box;

fn stamp(c: &mut Criterion) {
    let mut clock = StepClock::new();
    c.bench_function("step_clock_stamp", |b| b.iter(|| black_box(clock.stamp())));
}

criterion_group!(benches, stamp);
criterion_main!(benches);
