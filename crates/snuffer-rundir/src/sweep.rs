//! Sweeps: a directory whose subdirectories are run directories.
//!
//! Each run writes only its own directory, so runs in separate processes, or on separate
//! machines sharing a file system (a SLURM array job), form one sweep with no lock and no
//! server: a new run claims its directory with one atomic `mkdir`
//! ([`Sweep::new_run_dir`]), and readers take each run exactly as far as it was recorded.
//!
//! [`Sweep::curves`] reads every run's evaluation curve: step, cumulative energy with its
//! provenance, metric value, the metric's name and direction, the planned steps, and how
//! the run ended or that it has not ([`RunStatus`]). A run still being written by another
//! process is read up to its last whole line — a torn last line or a missing summary is
//! the normal state of a live run, never an error — and a run damaged in the middle is read
//! up to the damage, with the damage in [`RunCurve::issues`]. Runs come in the order they
//! started (the start time on their first line), ties broken by directory name.
//!
//! On a shared network file system other machines see a run's lines once its writer has
//! synced them ([`crate::StepsWriter::sync`]).

use crate::error::RunDirError;
use crate::meta::StartMeta;
use crate::records::RecordKind;
use crate::status::{LogFacts, RunState, RunStatus};
use crate::steps::{read_steps_with, StepView};
use crate::summary::{read_summary, Summary};
use crate::{STEPS_FILE, SUMMARY_FILE};
use chrono::{DateTime, Utc};
use snuffer_energy::Provenance;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// A sweep directory.
///
/// ```
/// use snuffer_rundir::{RecordKind, StepRecord, StepsWriter, Sweep, STEPS_FILE};
/// let tmp = tempfile::tempdir()?;
/// let sweep = Sweep::create(tmp.path().join("lr-search"))?;
/// for (name, started) in [("lr-0.1", "2026-11-30T10:00:01Z"), ("lr-0.01", "2026-11-30T10:00:00Z")] {
///     let dir = sweep.new_run_dir(name)?;
///     let mut w = StepsWriter::create(dir.join(STEPS_FILE))?;
///     w.append(&StepRecord {
///         kind: RecordKind::Start,
///         step: 0,
///         time_s: 0.0,
///         energy: Default::default(),
///         metrics: Default::default(),
///         forecast: None,
///         decision: None,
///         meta: Some(serde_json::json!({"started_at": started, "metric_name": "acc"})),
///     })?;
///     w.flush()?;
/// }
/// let names: Vec<String> = sweep.list_runs()?.into_iter().map(|r| r.name).collect();
/// assert_eq!(names, ["lr-0.01", "lr-0.1"]); // by start time
/// assert!(sweep.curves()?.iter().all(|c| c.points.is_empty() && !c.status.state.is_finished()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    dir: PathBuf,
}

/// A run of a sweep, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepRun {
    /// The run directory's name.
    pub name: String,
    /// The run directory.
    pub dir: PathBuf,
    /// The start time on its first line, when that line is there.
    pub started: Option<DateTime<Utc>>,
}

/// One evaluation of a recorded run.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    /// Optimizer steps done.
    pub step: u64,
    /// Seconds since the run started.
    pub time_s: f64,
    /// Cumulative energy since the run started, J.
    pub energy_j: f64,
    /// Provenance of that energy (the weakest of the domains).
    pub provenance: Provenance,
    /// The monitored metric (NaN when it was not finite or not recorded).
    pub metric: f64,
}

/// A run's evaluation curve, exactly as far as it was recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RunCurve {
    /// The run as listed.
    pub run: SweepRun,
    /// Name of the monitored metric, when known.
    pub metric_name: Option<String>,
    /// Whether higher is better (true when unknown).
    pub higher_is_better: bool,
    /// Planned steps, when known.
    pub planned_steps: Option<u64>,
    /// Evaluations in step order.
    pub points: Vec<CurvePoint>,
    /// How the run ended, or that it has not.
    pub status: RunStatus,
    /// Problems met while reading (a damaged line, an unreadable summary); the curve
    /// holds what came before them.
    pub issues: Vec<String>,
}

impl RunCurve {
    /// The step the policy stopped the run at, if it did.
    pub fn stopped_at(&self) -> Option<u64> {
        match &self.status.state {
            RunState::Stopped { step, .. } => Some(*step),
            _ => None,
        }
    }
}

impl Sweep {
    /// An existing sweep directory.
    pub fn open(dir: impl AsRef<Path>) -> Result<Sweep, RunDirError> {
        let dir = dir.as_ref();
        if !dir.is_dir() {
            return Err(RunDirError::ListSweep {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "not a directory (create it with Sweep::create, or start a run in it)",
                ),
            });
        }
        Ok(Sweep {
            dir: dir.to_path_buf(),
        })
    }

    /// A sweep directory, created if needed (with its parents).
    pub fn create(dir: impl AsRef<Path>) -> Result<Sweep, RunDirError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| RunDirError::write(dir, e))?;
        Ok(Sweep {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Claims a new run directory named after `name` (characters other than letters,
    /// digits, `-`, `_` and `.` become `_`), adding `-2`, `-3`, … when the name is taken.
    /// The claim is one `mkdir`, atomic on local and network file systems, so concurrent
    /// processes never share a directory.
    pub fn new_run_dir(&self, name: &str) -> Result<PathBuf, RunDirError> {
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let safe = if safe.is_empty() || safe.starts_with('.') {
            format!("run{safe}")
        } else {
            safe
        };
        for n in 1..=u32::MAX {
            let candidate = if n == 1 {
                self.dir.join(&safe)
            } else {
                self.dir.join(format!("{safe}-{n}"))
            };
            match std::fs::create_dir(&candidate) {
                Ok(()) => return Ok(candidate),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(RunDirError::write(&candidate, e)),
            }
        }
        Err(RunDirError::write(
            &self.dir.join(&safe),
            std::io::ErrorKind::AlreadyExists.into(),
        ))
    }

    /// The runs of the sweep (subdirectories holding `steps.jsonl` or `summary.json`; links
    /// to them, such as `runs/latest`, are not runs of their own), ordered by start time,
    /// then name; runs whose first line is not there yet come last.
    pub fn list_runs(&self) -> Result<Vec<SweepRun>, RunDirError> {
        let list_err = |source| RunDirError::ListSweep {
            path: self.dir.clone(),
            source,
        };
        let mut runs = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(list_err)? {
            let entry = entry.map_err(list_err)?;
            let dir = entry.path();
            // Links (such as `runs/latest`) point at runs listed under their own name.
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if !is_dir || !(dir.join(STEPS_FILE).is_file() || dir.join(SUMMARY_FILE).is_file()) {
                continue;
            }
            runs.push(SweepRun {
                name: entry.file_name().to_string_lossy().into_owned(),
                started: first_line_start(&dir.join(STEPS_FILE)),
                dir,
            });
        }
        runs.sort_by(|a, b| match (a.started, b.started) {
            (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.name.cmp(&b.name)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.name.cmp(&b.name),
        });
        Ok(runs)
    }

    /// Every run's curve, in [`list_runs`](Self::list_runs) order (see the module docs).
    /// Only listing the directory can fail; each run reads as far as it can.
    pub fn curves(&self) -> Result<Vec<RunCurve>, RunDirError> {
        Ok(self.list_runs()?.into_iter().map(read_curve).collect())
    }
}

/// The start time on the first line of `steps.jsonl`, if that line is whole.
fn first_line_start(path: &Path) -> Option<DateTime<Utc>> {
    let file = std::fs::File::open(path).ok()?;
    let mut line = Vec::new();
    std::io::BufReader::new(file)
        .read_until(b'\n', &mut line)
        .ok()?;
    let view: StepView<'_> = serde_json::from_slice(line.trim_ascii()).ok()?;
    (view.kind == RecordKind::Start)
        .then(|| StartMeta::from_value(view.meta.as_ref()?).started())
        .flatten()
}

/// Reads one run of a sweep; never fails (problems go to `issues`).
pub fn read_curve(run: SweepRun) -> RunCurve {
    let mut issues = Vec::new();
    // The summary first: it is written after the log's last line, so a log read after it
    // holds at least what the summary describes.
    let mut summary = read_summary(&run.dir).unwrap_or_else(|e| {
        issues.push(e.to_string());
        None
    });
    let mut facts = LogFacts::default();
    let mut points = Vec::new();
    let mut metric_name: Option<String> = summary.as_ref().map(|s| s.metric_name.clone());
    let steps = run.dir.join(STEPS_FILE);
    let has_log = steps.is_file();
    if has_log {
        let read = read_steps_with(&steps, |view| {
            facts.absorb(&view);
            if view.kind == RecordKind::Start && metric_name.is_none() {
                metric_name = facts.start.as_ref().and_then(|s| s.metric_name.clone());
            }
            if view.kind == RecordKind::Eval {
                points.push(point(&view, metric_name.as_deref()));
            }
        });
        match read {
            Ok(end) => facts.torn_line = end.torn_line,
            Err(e) => issues.push(e.to_string()),
        }
    }
    // A run that ended between the two reads: its summary is there now.
    if summary.is_none() && facts.end.is_some() {
        summary = read_summary(&run.dir).ok().flatten();
    }
    let start = facts.start.clone().unwrap_or_default();
    let status = RunStatus::assess(&run.dir, summary.as_ref(), has_log.then_some(&facts));
    RunCurve {
        metric_name,
        higher_is_better: summary
            .as_ref()
            .map(|s: &Summary| s.higher_is_better)
            .or(start.higher_is_better)
            .unwrap_or(true),
        planned_steps: summary
            .as_ref()
            .and_then(|s| s.planned_steps)
            .or(start.planned_steps),
        points,
        status,
        issues,
        run,
    }
}

fn point(view: &StepView<'_>, metric: Option<&str>) -> CurvePoint {
    let provenance = view
        .energy
        .domains
        .iter()
        .filter_map(|d| d.provenance().ok())
        .reduce(|a, b| a.combine(&b))
        .unwrap_or(Provenance::Estimated {
            model: "unknown (no energy domains recorded)".into(),
        });
    CurvePoint {
        step: view.step,
        time_s: view.time_s,
        energy_j: view.energy.total_j,
        provenance,
        metric: metric
            .and_then(|m| view.metric(m))
            .filter(|v| v.is_finite())
            .unwrap_or(f64::NAN),
    }
}
