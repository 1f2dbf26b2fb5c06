// TEMPORARY scratch measurement (deleted after use).
use snuffer::energy::{ConstantMeter, Meter, Watts};
use snuffer::{Progress, Run};
use std::time::Instant;
#[test]
fn scratch() {
    let dir = tempfile::tempdir().unwrap();
    let m: Box<dyn Meter> = Box::new(ConstantMeter::new("x", Watts(1.0)).unwrap());
    let mut run = Run::builder("t").out_dir(dir.path()).planned_steps(10_000_000).meters(vec![m]).progress(Progress::Quiet).build().unwrap();
    let n = 10_000_000u64;
    let t = Instant::now();
    for _ in 0..n { run.step(); }
    let per = t.elapsed().as_nanos() as f64 / n as f64;
    let t2 = Instant::now();
    for _ in 0..n { std::hint::black_box(Instant::now()); }
    let clock = t2.elapsed().as_nanos() as f64 / n as f64;
    let t3 = Instant::now();
    for i in 0..1000u64 { for _ in 0..10_000 { run.step(); } run.eval(1.0 - 1.0 / (i + 2) as f64).unwrap(); }
    let per_eval = t3.elapsed().as_secs_f64() / 1000.0;
    eprintln!("step {per:.1} ns (clock alone {clock:.1} ns); 10k steps + eval: {:.3} ms; heap {} KiB", per_eval * 1e3, run.heap_bytes() / 1024);
    run.finish().unwrap();
}
