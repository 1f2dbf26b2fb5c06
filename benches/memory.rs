//! Peak memory added by a 100 000-step run: the run tracker's ring buffer, logs,
//! forecasts and policy state, with an evaluation every 100 steps (1 000
//! evaluations, on a realistic saturating curve) and a constant 50 W meter.
//! Reads the process's resident set (VmRSS) before and its high-water mark
//! (VmHWM) after, from /proc/self/status (Linux).
//!
//! `cargo bench --bench memory`
use snuffer::energy::{ConstantMeter, Meter, Watts};
use snuffer::{forecast::Direction, Progress, Run};

fn status_kib(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| anyhow::anyhow!("{field} not in /proc/self/status (Linux only)"))?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("malformed {field} line"))?;
    Ok(kib.parse()?)
}

fn main() -> anyhow::Result<()> {
    // No candle work here; one thread keeps the measurement about Snuffer alone.
    let steps: u64 = std::env::args()
        .skip_while(|a| a != "--steps")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let before = status_kib("VmRSS:")?;
    let hwm_before = status_kib("VmHWM:")?;
    let meters: Vec<Box<dyn Meter>> = vec![Box::new(ConstantMeter::new("bench", Watts(50.0))?)];
    let mut run = Run::builder("memory")
        .out_dir(dir.path().join("run"))
        .planned_steps(steps)
        .metric("val_acc", Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .meters(meters)
        .progress(Progress::Quiet)
        .build()?;
    let start = std::time::Instant::now();
    for step in 1..=steps {
        run.step();
        if step % 100 == 0 {
            let t = step as f64 / steps as f64;
            run.record_loss(2.3 * (-5.0 * t).exp());
            let acc = 0.95 - 0.85 * (-8.0 * t).exp() + 0.003 * ((step / 100) as f64).sin();
            if run.eval(acc)?.should_stop() {
                break;
            }
        }
    }
    let summary = run.finish()?;
    let after = status_kib("VmHWM:")?;
    let log = std::fs::metadata(dir.path().join("run").join(snuffer::rundir::STEPS_FILE))?.len();
    println!(
        "{} steps, {} evaluations in {:.2?}: RSS before {:.1} MiB (peak before {:.1} MiB), peak after {:.1} MiB \
         → added by the run: {:.2} MiB (goal ≤ 64 MiB); steps.jsonl {:.2} MiB on disk",
        summary.steps,
        summary.steps / 100,
        start.elapsed(),
        before as f64 / 1024.0,
        hwm_before as f64 / 1024.0,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0,
        log as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}
