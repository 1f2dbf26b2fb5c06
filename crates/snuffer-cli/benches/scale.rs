//! Scale benchmark of `snuffer replay` and `snuffer forecast` on a generated curves file:
//! rows per second and peak memory, per number of rayon threads.
//!
//! ```text
//! cargo bench -p snuffer-cli --bench scale                      # 1 M rows, 1 and all threads
//! cargo bench -p snuffer-cli --bench scale -- --rows 3200000 --threads 1,2 --repeat 2
//! cargo bench -p snuffer-cli --bench scale -- --command forecast --file /tmp/curves.csv
//! ```
//!
//! The file is generated here (deterministically: realistic sweeps of ~100 evaluations per
//! run, 32 runs per task, accuracy and loss curves with noise, plateaus and late jumps), not
//! committed. Each measurement runs the release `snuffer` binary as a child with
//! `RAYON_NUM_THREADS` set, its output to /dev/null, and reads the child's peak resident
//! memory and CPU time from `wait4`'s rusage (`ru_maxrss`, `ru_utime + ru_stime`; on a
//! shared machine, CPU time per row is the steadier figure). Replay uses the marginal policy at a relative
//! τ, the configuration whose cost matters (every run is refitted on its geometric cadence).
//! The numbers are printed, never asserted: this is a measurement, not a test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Options {
    rows: u64,
    threads: Vec<usize>,
    commands: Vec<String>,
    repeat: usize,
    file: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut o = Options {
        rows: 1_000_000,
        threads: if cores > 1 { vec![1, cores] } else { vec![1] },
        commands: vec!["replay".into(), "forecast".into()],
        repeat: 1,
        file: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--rows" => {
                o.rows = value("--rows")?
                    .parse()
                    .map_err(|e| format!("--rows: {e}"))?
            }
            "--threads" => {
                o.threads = value("--threads")?
                    .split(',')
                    .map(|t| t.trim().parse().map_err(|e| format!("--threads: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--command" => {
                o.commands = value("--command")?
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .collect()
            }
            "--repeat" => {
                o.repeat = value("--repeat")?
                    .parse()
                    .map_err(|e| format!("--repeat: {e}"))?
            }
            "--file" => o.file = Some(PathBuf::from(value("--file")?)),
            // `cargo bench` passes `--bench`; filters and other flags are not ours.
            _ => {}
        }
    }
    Ok(o)
}

/// splitmix64: a small deterministic generator, so every run of the bench reads the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Roughly normal (Irwin–Hall of four uniforms), mean 0, sd 1.
    fn normal(&mut self) -> f64 {
        ((0..4).map(|_| self.unit()).sum::<f64>() - 2.0) * 3f64.sqrt()
    }
}

/// Writes about `rows` rows of sweeps: 32 runs per task, 60–140 evaluations per run.
fn generate(path: &Path, rows: u64) -> std::io::Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        out,
        "source,task,run_id,step,metric,metric_name,higher_is_better,epoch_time_s"
    )?;
    let mut rng = Rng(0x5EED);
    let mut written = 0u64;
    let mut run = 0u64;
    while written < rows {
        let task = run / 32;
        let n = 60 + rng.next() % 81;
        let accuracy = task % 3 != 2;
        let ceiling = 0.55 + 0.4 * rng.unit();
        let rate = 0.02 + 0.2 * rng.unit();
        let noise = 0.002 + 0.01 * rng.unit();
        // A step learning-rate decay in a third of the runs: a plateau, then a jump.
        let decay = rng
            .next()
            .is_multiple_of(3)
            .then(|| n / 2 + rng.next() % (n / 3));
        let seconds = 20.0 + 40.0 * rng.unit();
        for e in 1..=n {
            let t = e as f64;
            let mut progress = 1.0 - (-rate * t).exp();
            if let Some(d) = decay {
                progress *= if e < d { 0.85 } else { 1.0 };
            }
            let value = if accuracy {
                (ceiling * progress + noise * rng.normal()).clamp(0.0, 1.0)
            } else {
                (4.0 - 2.5 * ceiling * progress + 3.0 * noise * rng.normal()).max(0.01)
            };
            let (name, hib) = if accuracy {
                ("val_accuracy", "true")
            } else {
                ("val_loss", "false")
            };
            writeln!(
                out,
                "synthetic,task-{task:04},run-{task:04}-{:03},{e},{value:.6},{name},{hib},{:.2}",
                run % 32,
                seconds * (1.0 + 0.05 * rng.normal())
            )?;
            written += 1;
        }
        run += 1;
    }
    out.flush()?;
    Ok(written)
}

/// What one run of the binary cost.
struct Cost {
    wall: Duration,
    /// User + system CPU time of the child.
    cpu: Duration,
    /// Peak resident memory, bytes.
    peak: u64,
}

/// Runs `snuffer ARGS` with `threads` rayon threads.
fn measure(binary: &Path, args: &[&str], threads: usize) -> Result<Cost, String> {
    let start = Instant::now();
    let child = Command::new(binary)
        .args(args)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to locals; the pid is our child, waited for once here.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("waiting for snuffer: {err}"));
        }
    }
    let elapsed = start.elapsed();
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let mut err = String::new();
        if let Some(mut e) = child.stderr {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        return Err(format!("snuffer {args:?} failed: {err}"));
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    Ok(Cost {
        wall: elapsed,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak: usage.ru_maxrss.max(0) as u64 * 1024,
    })
}

fn main() {
    if let Err(e) = run() {
        eprintln!("scale bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let o = options()?;
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_snuffer"));
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = o
        .file
        .clone()
        .unwrap_or_else(|| dir.path().join("curves.csv"));
    if !path.exists() {
        eprintln!("generating {} rows into {} …", o.rows, path.display());
        generate(&path, o.rows).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let bytes = std::fs::metadata(&path).map_err(|e| e.to_string())?.len();
    let text = std::fs::File::open(&path).map_err(|e| e.to_string())?;
    let rows = {
        use std::io::BufRead;
        std::io::BufReader::new(text)
            .lines()
            .count()
            .saturating_sub(1) as f64
    };
    let p = path.to_string_lossy().into_owned();
    println!(
        "file: {} rows, {:.1} MB ({})",
        rows,
        bytes as f64 / 1e6,
        path.display()
    );
    println!(
        "{:<9} {:>7} {:>5} {:>9} {:>9} {:>11} {:>10} {:>10} {:>8}",
        "command",
        "threads",
        "try",
        "seconds",
        "cpu s",
        "rows/s",
        "peak MB",
        "peak/file",
        "speed-up"
    );
    for command in &o.commands {
        let args: Vec<&str> = match command.as_str() {
            "replay" => vec![
                "replay",
                "--curves",
                &p,
                "--policy",
                "marginal",
                "--tau-relative",
                "0.3",
                "--tau",
                "1",
                "--power-w",
                "1000",
                "--json",
            ],
            "forecast" => vec!["forecast", "--curves", &p, "--observed", "0.2", "--json"],
            other => return Err(format!("unknown --command {other} (replay or forecast)")),
        };
        let mut base: Option<f64> = None;
        for &threads in &o.threads {
            for attempt in 1..=o.repeat.max(1) {
                let c = measure(&binary, &args, threads)?;
                let rate = rows / c.wall.as_secs_f64();
                if threads == o.threads[0] && attempt == 1 {
                    base = Some(rate);
                }
                println!(
                    "{:<9} {:>7} {:>5} {:>9.1} {:>9.1} {:>11.0} {:>10.1} {:>10.2} {:>7.2}×",
                    command,
                    threads,
                    attempt,
                    c.wall.as_secs_f64(),
                    c.cpu.as_secs_f64(),
                    rate,
                    c.peak as f64 / 1e6,
                    c.peak as f64 / bytes as f64,
                    base.map_or(1.0, |b| rate / b)
                );
            }
        }
    }
    Ok(())
}
