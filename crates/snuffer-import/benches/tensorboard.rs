//! Reading a TensorBoard event file of 1 M scalar events (the goal: ≥ 1 M events/s on one
//! core). The file is written first with the crate's own `EventWriter`: one scalar per
//! event, three tags in turn, as a training loop logging loss, learning rate and a
//! validation metric writes them.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use snuffer_import::tensorboard::{EventWriter, Scalars};
use std::io::BufWriter;
use std::path::Path;

const EVENTS: u64 = 1_000_000;

fn write_events(path: &Path) {
    let file = std::fs::File::create(path).expect("create event file");
    let mut w = EventWriter::new(BufWriter::new(file), 1.7e9).expect("write event file");
    let tags = ["train/loss", "train/learning_rate", "eval/accuracy"];
    for i in 0..EVENTS {
        let step = (i / 3) as i64;
        let value = 1.0 / (1.0 + step as f32);
        w.scalar(tags[(i % 3) as usize], step, 1.7e9 + i as f64 * 0.01, value)
            .expect("write event");
    }
    w.into_inner().expect("flush");
}

fn read_million(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("events.out.tfevents.1700000000.bench");
    write_events(&path);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!("event file: {EVENTS} scalar events, {size} bytes");
    let mut group = c.benchmark_group("tensorboard");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    group.bench_function("read 1M scalar events", |b| {
        b.iter(|| {
            let mut s = Scalars::default();
            s.read_file(&path).expect("read");
            assert_eq!(s.events, EVENTS + 1); // and the file-version event
            s
        })
    });
    group.finish();
}

criterion_group!(benches, read_million);
criterion_main!(benches);
