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

/// CPU time (user + system) of this process so far, in seconds (Linux).
fn cpu_s() -> f64 {
    // Fields 14 and 15 of /proc/self/stat, in clock ticks (100 per second).
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let f: Vec<&str> = after.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
        })
        .unwrap_or(f64::NAN)
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
    let (t, cpu0) = (Instant::now(), cpu_s());
    let report = Report::from_dir(&run_dir)?;
    let read = t.elapsed();
    let files = report.write(tmp.path().join("report"))?;
    let total = t.elapsed();
    let html = std::fs::metadata(&files.html)?.len();
    println!(
        "report: read+downsample+draw {:.2} s, write {:.2} s, total {:.2} s wall ({:.2} s CPU); report.html {:.0} KiB; peak RSS {:.1} MiB",
        read.as_secs_f64(),
        (total - read).as_secs_f64(),
        total.as_secs_f64(),
        cpu_s() - cpu0,
        html as f64 / 1024.0,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
