//! Reporting speed on a large run: streaming read + min/max downsampling +
//! chart drawing. A 200 000-step run (one log line per step) keeps the bench
//! short; `examples/large_run.rs` times a 1 M-step run end to end.

use criterion::{criterion_group, criterion_main, Criterion};
use snuffer_report::synthetic::SyntheticRun;
use snuffer_report::{Report, RunData};

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("run");
    SyntheticRun {
        steps: 200_000,
        planned_steps: 200_000,
        log_every: 1,
        eval_every: 500,
        step_seconds: 0.01,
        ..SyntheticRun::default()
    }
    .write(&dir)
    .expect("write synthetic run");
    let mut g = c.benchmark_group("report_200k_steps");
    g.sample_size(10);
    g.bench_function("load", |b| b.iter(|| RunData::load(&dir).expect("load")));
    let run = RunData::load(&dir).expect("load");
    g.bench_function("charts", |b| {
        b.iter(|| Report::new(run.clone()).expect("charts"))
    });
    g.bench_function("html", |b| {
        let report = Report::new(run.clone()).expect("charts");
        b.iter(|| report.html())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
