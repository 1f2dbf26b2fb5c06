//! `snuffer measure -- CMD ARGS...`: run a command and report the energy it
//! used, per domain.
//!
//! The command runs directly (no shell) with inherited stdin/stdout/stderr;
//! the report goes to stderr (or, with `--json`, one object to stdout) and the
//! command's exit code is passed through (128 + signal number if it was
//! killed). The CPU estimate covers the command's process tree: live
//! descendants are read from /proc while it runs, and the exact total comes
//! from `wait4`'s rusage once it is reaped.
//!
//! SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to Snuffer are passed on to
//! the command (see [`forward`]) — to its whole process group outside a terminal's
//! foreground — so a batch system that stops the job stops the command and whatever it
//! started, and Snuffer still reports and exits with the command's status.

use anyhow::{bail, Context};
use serde::Serialize;
use snuffer_energy::{
    attributed, auto_with, AutoConfig, CpuShare, CpuSource, EnergyReport, Joules, ProcessTree,
    Provenance, Sampler, SamplerConfig, Skipped, Watts,
};
use std::io::ErrorKind;
use std::time::{Duration, Instant};

mod forward;

/// Arguments of `snuffer measure`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snuffer measure -- python train.py\n  \
    snuffer measure --json -- make -j8")]
pub struct Args {
    /// Time between meter readings, in milliseconds.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub interval_ms: u64,
    /// Print one JSON object to stdout instead of the text report on stderr.
    #[arg(long)]
    pub json: bool,
    /// Serve Prometheus metrics (energy and power per domain) on ADDR while
    /// the command runs; a bare port means 127.0.0.1 (localhost only).
    #[arg(long, value_name = "ADDR")]
    pub prometheus: Option<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Serialize)]
struct DomainOut {
    name: String,
    joules: f64,
    provenance: Provenance,
    uncertainty: f64,
    mean_watts: f64,
}

#[derive(Debug, Serialize)]
struct AttributionOut {
    share: f64,
    joules: f64,
}

#[derive(Debug, Serialize)]
struct MeasureOut {
    command: Vec<String>,
    duration_s: f64,
    exit_code: u8,
    domains: Vec<DomainOut>,
    total_joules: f64,
    total_uncertainty: f64,
    provenance: Provenance,
    mean_watts: f64,
    /// Share of the package counters attributable to the command (RAPL only).
    attribution: Option<AttributionOut>,
    skipped: Vec<Skipped>,
    sampler_errors: u64,
}

/// How the child ended, and its tree's CPU time.
struct Exit {
    code: u8,
    cpu: Duration,
}

/// Wait for the command to end, stop forwarding signals to its pid, then reap it (its
/// rusage gives the tree's exact CPU time).
fn wait_child(pid: libc::pid_t, forwarding: &forward::Forwarding) -> anyhow::Result<Exit> {
    // First wait without reaping: until the zombie is reaped its pid cannot be reused, so a
    // late signal can never reach an unrelated process.
    loop {
        // SAFETY: siginfo_t is plain data; zeroed is a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid pointer to a local siginfo_t.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Err(err).context("waiting for the command");
        }
    }
    forwarding.child_ended();
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to local status and rusage.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != ErrorKind::Interrupted {
            return Err(err).context("waiting for the command");
        }
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as u8
    } else if libc::WIFSIGNALED(status) {
        (128 + libc::WTERMSIG(status)).clamp(0, 255) as u8
    } else {
        1
    };
    Ok(Exit {
        code,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
    })
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let Some(program) = args.command.first().filter(|p| !p.is_empty()) else {
        bail!("no command to measure; usage: snuffer measure [--interval-ms N] [--json] -- CMD ARGS...");
    };
    let tree = ProcessTree::new();
    let selection = auto_with(AutoConfig {
        cpu_source: CpuSource::Tree(tree.clone()),
        ..AutoConfig::default()
    });
    let share = if selection.has_package_counter {
        CpuShare::start(CpuSource::Tree(tree.clone())).ok()
    } else {
        None
    };
    let skipped = selection.skipped;
    let config = SamplerConfig::default().with_interval(Duration::from_millis(args.interval_ms));
    let sampler =
        Sampler::start(selection.meters, config).context("starting the energy sampler")?;

    let exporter = args
        .prometheus
        .as_deref()
        .map(snuffer_prometheus::Exporter::serve)
        .transpose()
        .context("starting the Prometheus exporter (--prometheus)")?;
    let t0 = Instant::now();
    // Installed before the command starts, so that a signal sent meanwhile is not lost.
    let own_group = forward::own_group();
    let forwarding = forward::Forwarding::install(own_group);
    let mut command = std::process::Command::new(program);
    command.args(&args.command[1..]);
    if own_group {
        // Its own process group, so that a signal reaches everything it starts.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
    }
    let child = command.spawn().map_err(|e| match e.kind() {
        ErrorKind::NotFound => anyhow::anyhow!("cannot run {program:?}: command not found"),
        ErrorKind::PermissionDenied => {
            anyhow::anyhow!("cannot run {program:?}: permission denied (is it an executable file?)")
        }
        _ => anyhow::Error::new(e).context(format!("cannot run {program:?}")),
    })?;
    tree.set_root(child.id());
    forwarding.child_started(child.id() as libc::pid_t);
    let exit = with_exporter(exporter.as_ref(), &sampler, &args.command, t0, || {
        wait_child(child.id() as libc::pid_t, &forwarding)
    });
    drop(forwarding);
    let exit = exit?;
    let duration = t0.elapsed();
    tree.set_final(exit.cpu);
    let (sampler_errors, last_error) = sampler.errors();
    let report = sampler.stop();

    let attribution = share.and_then(|s| s.share().ok()).map(|share| {
        let package = report
            .domains
            .iter()
            .filter(|d| d.domain.starts_with("cpu-package:"))
            .fold(snuffer_energy::Joules::ZERO, |a, d| a + d.joules);
        AttributionOut {
            share,
            joules: attributed(package, share).0,
        }
    });
    let out = to_output(
        &args.command,
        duration,
        exit.code,
        report,
        attribution,
        skipped,
        sampler_errors,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_text(&out);
    }
    if sampler_errors > 0 {
        eprintln!(
            "warning: {sampler_errors} meter read(s) failed; their previous values were kept; last: {}",
            last_error.unwrap_or_default()
        );
    }
    Ok(exit.code)
}

fn to_output(
    command: &[String],
    duration: Duration,
    exit_code: u8,
    report: EnergyReport,
    attribution: Option<AttributionOut>,
    skipped: Vec<Skipped>,
    sampler_errors: u64,
) -> MeasureOut {
    let secs = duration.as_secs_f64();
    let watts = |j: f64| if secs > 0.0 { j / secs } else { 0.0 };
    MeasureOut {
        command: command.to_vec(),
        duration_s: secs,
        exit_code,
        total_joules: report.total.0,
        total_uncertainty: report.uncertainty,
        mean_watts: watts(report.total.0),
        provenance: report.provenance,
        domains: report
            .domains
            .into_iter()
            .map(|d| DomainOut {
                mean_watts: watts(d.joules.0),
                name: d.domain,
                joules: d.joules.0,
                provenance: d.provenance,
                uncertainty: d.uncertainty,
            })
            .collect(),
        attribution,
        skipped,
        sampler_errors,
    }
}

fn print_text(out: &MeasureOut) {
    eprintln!(
        "snuffer: {:?} exited with {} after {} s",
        out.command.join(" "),
        out.exit_code,
        snuffer_energy::significant(out.duration_s, 3)
    );
    for d in &out.domains {
        eprintln!(
            "  {:<16} {:>12}  {:>10}  ±{:>2.0} %  {}",
            d.name,
            Joules(d.joules),
            Watts(d.mean_watts),
            100.0 * d.uncertainty,
            d.provenance
        );
    }
    eprintln!(
        "  {:<16} {:>12}  {:>10}  ±{:>2.0} %  {}",
        "total",
        Joules(out.total_joules),
        Watts(out.mean_watts),
        100.0 * out.total_uncertainty,
        out.provenance.label()
    );
    if let Some(a) = &out.attribution {
        eprintln!(
            "  attributable to the command: {} ({} of the package energy, by CPU time)",
            Joules(a.joules),
            snuffer_energy::percent(a.share)
        );
    }
}

/// Runs `wait` while a scoped thread feeds the exporter (if any) from the
/// sampler once a second; the last snapshot is published before returning.
fn with_exporter<T>(
    exporter: Option<&snuffer_prometheus::Exporter>,
    sampler: &Sampler,
    command: &[String],
    t0: Instant,
    wait: impl FnOnce() -> T,
) -> T {
    use snuffer_prometheus::{DomainSnapshot, MetricsSnapshot};
    let Some(exporter) = exporter else {
        return wait();
    };
    let publish = &|| {
        exporter.update(&MetricsSnapshot {
            run: command.join(" "),
            elapsed: t0.elapsed(),
            domains: DomainSnapshot::from_sampler(sampler, Duration::from_secs(1)),
            ..MetricsSnapshot::default()
        })
    };
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let out = std::thread::scope(|s| {
        s.spawn(move || {
            publish();
            // Wakes every second, or at once when the command has ended.
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                done_rx.recv_timeout(Duration::from_secs(1))
            {
                publish();
            }
        });
        let out = wait();
        drop(done_tx);
        out
    });
    publish();
    out
}
