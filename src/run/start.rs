//! Starting a run: claiming its directory, building its sinks, starting the meters and
//! writing the start record.

use super::builder::RunBuilder;
use super::energy::EnergySource;
use super::state::{Best, Clock, RunInfo, StopState, SweepState};
use super::sweep::SweepWatch;
use super::{curve, Run};
use crate::sink::{Sink, Start};
use crate::Error;
use snuffer_forecast::{Direction, ForecastConfig};
use snuffer_rundir::{BoundsRecord, EnergyRecord, RecordKind, StartMeta, StepRecord};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The run's sinks, in the order they hear events.
type Sinks = Vec<Box<dyn Sink>>;

/// Stamps waiting for their step lines; a full buffer is written out.
const PENDING_STAMPS: usize = 256;

/// Where runs go when no `out_dir` is given.
pub const RUNS_DIR: &str = "runs";
/// The link in [`RUNS_DIR`] to the latest run started without an `out_dir`.
pub const LATEST_LINK: &str = "latest";

impl Run {
    /// Claims the directory, builds the sinks, starts the meters and writes the start
    /// record.
    pub(super) fn start(mut b: RunBuilder) -> Result<Run, Error> {
        let now_utc = chrono::Utc::now();
        let in_sweep = b.out_dir.is_none() && b.sweep.is_some();
        let dir = claim_dir(&b, &now_utc)?;
        let (forecast, infer) = forecast_config(&b);
        let (mut sinks, prometheus_addr) = open_sinks(&b, &dir, in_sweep)?;
        let energy = EnergySource::start(b.meters.take(), b.sample_interval)?;
        let (log_every, adaptive_log) = match (b.log_every, b.planned_steps) {
            (Some(n), _) => (n, false),
            (None, Some(p)) => ((p / 1000).max(1), false),
            (None, None) => (100, true),
        };
        let stop = StopState::new(
            b.policy.take(),
            b.policy_name.take(),
            b.stop_on_nonfinite_loss,
        );
        let mut meta = start_meta(&b, &forecast, &energy, &stop);
        (meta.log_every, meta.log_every_doubles) = (Some(log_every), Some(adaptive_log));
        meta.started_at = Some(now_utc.to_rfc3339());
        meta.sweep = b.sweep.clone().filter(|_| in_sweep);
        add_display_sinks(&mut b, &mut sinks);
        write_start(&b, &dir, &meta, &mut sinks)?;
        sinks.say(&meters_sentence(&energy, &dir));
        let sweep = sweep_state(&b, &dir, in_sweep && stop.policy.is_some(), &mut sinks);
        Ok(Run {
            clock: Clock::new(log_every, adaptive_log, PENDING_STAMPS),
            info: RunInfo {
                started_at: now_utc.to_rfc3339(),
                name: b.name,
                dir,
                planned: b.planned_steps,
                metric_name: b.metric_name,
                direction: b.direction,
                footprint: b.footprint.unwrap_or_default(),
                prometheus_addr,
            },
            energy,
            evals: snuffer_energy::StepEnergy::new(),
            sinks,
            curve: curve::Curve::new(forecast, b.refit, infer),
            best: Best::default(),
            stop,
            sweep,
            done: false,
        })
    }
}

/// The run directory: `out_dir` (created), else a new one in the sweep joined, else
/// `runs/<name>-<time>`; files an earlier run left there are removed.
fn claim_dir(b: &RunBuilder, now: &chrono::DateTime<chrono::Utc>) -> Result<PathBuf, Error> {
    let dir = match (&b.out_dir, &b.sweep) {
        (Some(d), _) => {
            std::fs::create_dir_all(d).map_err(|source| Error::CreateDir {
                path: d.clone(),
                source,
            })?;
            d.clone()
        }
        (None, Some(sweep)) => snuffer_rundir::Sweep::create(sweep)?.new_run_dir(&b.name)?,
        (None, None) => default_dir(&b.name, now)?,
    };
    for stale in [
        snuffer_rundir::SUMMARY_FILE,
        snuffer_rundir::EMISSIONS_FILE,
        snuffer_rundir::BEST_WEIGHTS_FILE,
        snuffer_rundir::BEST_WEIGHTS_TMP_FILE,
    ] {
        let p = dir.join(stale);
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| Error::write(&p, e))?;
        }
    }
    Ok(dir)
}

/// The forecaster's settings, and the metric name to infer bounds from when neither
/// `.bounds(..)` nor bounds in `.forecast_config(..)` were given.
fn forecast_config(b: &RunBuilder) -> (ForecastConfig, Option<String>) {
    let mut forecast = b
        .forecast
        .clone()
        .unwrap_or_else(|| ForecastConfig::new(b.direction));
    forecast.direction = b.direction;
    let given = b.bounds.lower.is_some() || b.bounds.upper.is_some();
    if given {
        forecast.bounds = b.bounds;
    }
    let infer = (!given && forecast.bounds == snuffer_forecast::Bounds::default())
        .then(|| b.metric_name.clone());
    (forecast, infer)
}

/// The log (synced at each evaluation in a sweep) and the Prometheus exporter when asked
/// for, with the address it listens on.
fn open_sinks(
    b: &RunBuilder,
    dir: &Path,
    in_sweep: bool,
) -> Result<(Sinks, Option<std::net::SocketAddr>), Error> {
    let log = crate::sink::LogSink::create(dir)?.with_sync(in_sweep);
    #[cfg_attr(not(feature = "prometheus"), allow(unused_mut))]
    let mut sinks: Sinks = vec![Box::new(log)];
    #[cfg_attr(not(feature = "prometheus"), allow(unused_mut))]
    let mut addr = None;
    #[cfg(feature = "prometheus")]
    if let Some(at) = &b.prometheus {
        let sink =
            crate::prometheus::PrometheusSink::serve(at).map_err(|source| Error::Prometheus {
                addr: at.clone(),
                source,
            })?;
        addr = Some(sink.local_addr());
        sinks.push(Box::new(sink));
    }
    #[cfg(not(feature = "prometheus"))]
    let _ = b;
    Ok((sinks, addr))
}

/// The progress display and `emissions.csv` when asked for, then the user's sinks.
fn add_display_sinks(b: &mut RunBuilder, sinks: &mut Sinks) {
    if b.progress != crate::Progress::Quiet {
        sinks.push(Box::new(crate::progress::ProgressSink::new(
            b.progress,
            &b.name,
            b.planned_steps,
        )));
    }
    if b.emissions {
        sinks.push(Box::new(crate::sink::EmissionsSink::new(b.project.clone())));
    }
    sinks.append(&mut b.sinks);
}

/// The start line's settings (the caller adds the time, the log cadence and the sweep).
fn start_meta(
    b: &RunBuilder,
    forecast: &ForecastConfig,
    energy: &EnergySource,
    stop: &StopState,
) -> StartMeta {
    StartMeta {
        bounds: Some(BoundsRecord {
            lower: forecast.bounds.lower,
            upper: forecast.bounds.upper,
        }),
        direction: Some(direction_name(b.direction).to_string()),
        domains: energy.domains.clone(),
        format_version: Some(snuffer_rundir::FORMAT_VERSION),
        higher_is_better: Some(b.direction == Direction::HigherIsBetter),
        host: snuffer_rundir::this_host(),
        meters: energy.meters.clone(),
        metric_name: Some(b.metric_name.clone()),
        pid: Some(std::process::id()),
        planned_steps: b.planned_steps,
        policy: Some(
            stop.name
                .clone()
                .unwrap_or_else(|| "none (never stops early)".into()),
        ),
        refit: Some(b.refit.to_string()),
        run_name: Some(b.name.clone()),
        sample_interval_s: Some(b.sample_interval.as_secs_f64()),
        skipped: energy.skipped.clone(),
        tau_per_kwh: stop.fixed_tau(),
        ..StartMeta::default()
    }
}

/// The direction as the logs spell it.
fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::HigherIsBetter => "higher_is_better",
        Direction::LowerIsBetter => "lower_is_better",
    }
}

/// Sends the start record to every sink.
fn write_start(
    b: &RunBuilder,
    dir: &Path,
    meta: &StartMeta,
    sinks: &mut Sinks,
) -> Result<(), Error> {
    sinks.start(&Start {
        name: &b.name,
        dir,
        planned_steps: b.planned_steps,
        line: &StepRecord {
            kind: RecordKind::Start,
            step: 0,
            time_s: 0.0,
            energy: EnergyRecord::default(),
            metrics: BTreeMap::new(),
            forecast: None,
            decision: None,
            meta: Some(meta.to_value()),
        },
    })
}

/// The sweep joined: watched when the policy can use it (a plan), else why not (said
/// once). Only a policy uses the other runs: a run without one does not read them.
fn sweep_state(b: &RunBuilder, dir: &Path, reads_sweep: bool, sinks: &mut Sinks) -> SweepState {
    match (&b.sweep, b.planned_steps) {
        (Some(s), Some(_)) if reads_sweep => SweepState::Watching(Box::new(SweepWatch::new(
            s,
            dir,
            &b.metric_name,
            b.direction,
        ))),
        (Some(s), None) if reads_sweep => {
            let why = format!(
                "this run joined the sweep {} without planned_steps: runs of a sweep are \
                 compared at the same share of their plan, so the policy cannot use the \
                 other runs (set planned_steps to let it)",
                s.display()
            );
            sinks.say(&why);
            SweepState::Unusable {
                dir: s.clone(),
                why,
            }
        }
        _ => SweepState::Alone,
    }
}

/// `runs/<name>-<UTC timestamp>`, claimed atomically (`-2`, `-3`, … when two runs of the
/// same name start within the same second: never another run's files), and
/// `runs/latest` pointing at it.
fn default_dir(name: &str, now: &chrono::DateTime<chrono::Utc>) -> Result<PathBuf, Error> {
    let runs = snuffer_rundir::Sweep::create(RUNS_DIR)?;
    let dir = runs.new_run_dir(&format!("{name}-{}", now.format("%Y%m%d-%H%M%S")))?;
    link_latest(runs.dir(), &dir);
    Ok(dir)
}

/// Points `<runs>/latest` at `dir` (a relative symbolic link, replaced atomically). Best
/// effort: a file system without links keeps the run, only the shortcut is missing.
fn link_latest(runs: &Path, dir: &Path) {
    #[cfg(unix)]
    {
        let Some(target) = dir.file_name() else {
            return;
        };
        let tmp = runs.join(format!(".{LATEST_LINK}-{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        if std::os::unix::fs::symlink(target, &tmp).is_ok()
            && std::fs::rename(&tmp, runs.join(LATEST_LINK)).is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
    }
    #[cfg(not(unix))]
    let _ = (runs, dir);
}

/// What measures the run, said once at the start.
fn meters_sentence(energy: &EnergySource, dir: &Path) -> String {
    let report = energy.cumulative_at(energy.origin());
    let kind = match &report.provenance {
        snuffer_energy::Provenance::Estimated { model } => format!("estimated: {model}"),
        measured => measured.to_string(),
    };
    let mut s = format!("energy from {} ({kind})", energy.domains.join(", "));
    if !energy.skipped.is_empty() {
        let skipped: Vec<&str> = energy.skipped.iter().map(|k| k.source.as_str()).collect();
        s.push_str(&format!(
            "; skipped {} (reasons in steps.jsonl)",
            skipped.join(", ")
        ));
    }
    s.push_str(&format!("; writing {}", dir.display()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn latest_points_at_the_newest_run() -> Result<(), Box<dyn std::error::Error>> {
        let tmp = tempfile::tempdir()?;
        let runs = snuffer_rundir::Sweep::create(tmp.path())?;
        for name in ["a", "b"] {
            let dir = runs.new_run_dir(name)?;
            std::fs::write(dir.join(snuffer_rundir::STEPS_FILE), "")?;
            link_latest(runs.dir(), &dir);
            let target = std::fs::read_link(tmp.path().join(LATEST_LINK))?;
            assert_eq!(target, Path::new(name), "relative link to the run");
        }
        assert!(tmp.path().join(LATEST_LINK).join("..").exists());
        // The link is not a run of its own.
        let listed: Vec<String> = runs.list_runs()?.into_iter().map(|r| r.name).collect();
        assert_eq!(listed, ["a", "b"]);
        Ok(())
    }
}
