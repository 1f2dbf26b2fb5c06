//! Cost of one sampler poll (all meters read, one sample pushed), with the
//! meters `auto()` picks on this machine and with a fake RAPL tree, plus the
//! cost of a reader's `energy_between` query.

use criterion::{criterion_group, criterion_main, Criterion};
use snuffer_energy::{auto, auto_with, AutoConfig, Sampler, SamplerConfig};
use std::hint::black_box;
use std::time::Duration;

fn config() -> SamplerConfig {
    // Background polling off (1 h), so only the benchmarked polls run.
    SamplerConfig::default()
        .with_interval(Duration::from_secs(3600))
        .with_capacity(1024)
}

fn poll(c: &mut Criterion) {
    let sampler = Sampler::start(auto().meters, config()).expect("auto meters");
    c.bench_function("sampler_poll_auto", |b| b.iter(|| sampler.poll_now()));
    let t0 = sampler.started_at();
    let t1 = sampler.latest();
    c.bench_function("sampler_energy_between", |b| {
        b.iter(|| black_box(sampler.energy_between(black_box(t0), black_box(t1))))
    });
    drop(sampler);

    let dir = tempfile::tempdir().expect("temp dir");
    for (id, name) in [("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "dram")] {
        let z = dir.path().join(id);
        std::fs::create_dir_all(&z).expect("zone");
        std::fs::write(z.join("name"), name).expect("name");
        std::fs::write(z.join("energy_uj"), "123456789").expect("energy");
        std::fs::write(z.join("max_energy_range_uj"), "262143328850").expect("range");
    }
    let sel = auto_with(AutoConfig {
        powercap_root: dir.path().into(),
        gpu: false,
        ..AutoConfig::default()
    });
    let sampler = Sampler::start(sel.meters, config()).expect("fake rapl");
    c.bench_function("sampler_poll_fake_rapl", |b| b.iter(|| sampler.poll_now()));
}

criterion_group!(benches, poll);
criterion_main!(benches);
