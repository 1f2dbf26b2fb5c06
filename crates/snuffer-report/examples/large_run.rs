//! Times `snuffer report` on a large synthetic run directory (1 M steps by
//! default, one log line per step) and prints wall time and peak memory.
//!
//! ```text
//! cargo run --release -p snuffer-report --example large_run -- [STEPS]
//! ```

use snuffer_report::synthetic::SyntheticRun;
use snuffer_report::Report;
use std::time::Instant;

/// Peak resident set size of this process so far (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn main() -> anyhow::Result<()> {
    let steps: u64 = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 1_000_000,
    };
    let tmp = tempfile::tempdir()?;
    let run_dir = tmp.path().join("large");
    let t = Instant::now();
    SyntheticRun {
        name: "large".into(),
        steps,
        planned_steps: steps,
        log_every: 1,
        eval_every: 1_000,
        step_seconds: 0.01,
        ..SyntheticRun::default()
    }
    .write(&run_dir)?;
    let size = std::fs::metadata(run_dir.join("steps.jsonl"))?.len();
    println!(
        "wrote {steps} steps ({:.0} MiB steps.jsonl) in {:.2} s; peak RSS so far {:.1} MiB",
        size as f64 / (1024.0 * 1024.0),
        t.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    let t = Instant::now();
    let report = Report::from_dir(&run_dir)?;
    let read = t.elapsed();
    let files = report.write(tmp.path().join("report"))?;
    let total = t.elapsed();
    let html = std::fs::metadata(&files.html)?.len();
    println!(
        "report: read+downsample {:.2} s, charts+write {:.2} s, total {:.2} s; report.html {:.0} KiB; peak RSS {:.1} MiB",
        read.as_secs_f64(),
        (total - read).as_secs_f64(),
        total.as_secs_f64(),
        html as f64 / 1024.0,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
