//! Sinks: where a run's events go (in the spirit of a `tracing` layer).
//!
//! A [`Run`](crate::Run) measures, forecasts and asks its policy; everything it tells the
//! world goes through [`Sink`]s, one small type per destination:
//!
//! | sink | writes | on by default |
//! | --- | --- | --- |
//! | [`LogSink`] | `steps.jsonl`, then `summary.json` | always |
//! | [`ProgressSink`](crate::progress::ProgressSink) | the bar or plain lines on stderr | [`Progress::Auto`](crate::Progress::Auto) |
//! | [`EmissionsSink`] | `emissions.csv` (CodeCarbon columns) | yes ([`RunBuilder::emissions`](crate::RunBuilder::emissions)) |
//! | `PrometheusSink` | `GET /metrics` (feature `prometheus`) | with `RunBuilder::prometheus` |
//!
//! Add your own with [`RunBuilder::sink`](crate::RunBuilder::sink): every hook has a no-op
//! default, and `Option<S>`, `Box<S>` and `Vec<S>` are sinks too, so an optional sink is
//! `None`. Sinks see events in order: [`Sink::start`], then [`Sink::mark`] and
//! [`Sink::step`] as steps pass, [`Sink::eval`] at each evaluation, [`Sink::say`] for
//! sentences, and [`Sink::finish`] once.
//!
//! ```
//! use snuffer::energy::{ConstantMeter, Meter, Watts};
//! use snuffer::sink::{Eval, Sink};
//! use snuffer::{Progress, Run};
//! use std::sync::{Arc, Mutex};
//!
//! /// Keeps the metric of every evaluation.
//! struct Metrics(Arc<Mutex<Vec<f64>>>);
//! impl Sink for Metrics {
//!     fn eval(&mut self, e: &Eval<'_>) -> Result<(), snuffer::Error> {
//!         self.0.lock().unwrap().push(e.metric);
//!         Ok(())
//!     }
//! }
//!
//! let dir = tempfile::tempdir()?;
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let meter: Box<dyn Meter> = Box::new(ConstantMeter::new("gpu:0", Watts(50.0))?);
//! let mut run = Run::builder("sinks")
//!     .out_dir(dir.path().join("run"))
//!     .meters(vec![meter])
//!     .progress(Progress::Quiet)
//!     .sink(Metrics(seen.clone()))
//!     .build()?;
//! for acc in [0.5, 0.7] {
//!     run.step();
//!     run.eval(acc)?;
//! }
//! run.finish()?;
//! assert_eq!(*seen.lock().unwrap(), [0.5, 0.7]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Error;
use snuffer_energy::{EnergyReport, PowerReport};
use snuffer_policy::StopReason;
use snuffer_rundir::{ForecastRecord, StepRecord, StepsWriter, Summary};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The run started: its directory and its start line (whose `meta` holds the settings).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Start<'a> {
    /// Run name.
    pub name: &'a str,
    /// Run directory.
    pub dir: &'a Path,
    /// Planned steps, if known.
    pub planned_steps: Option<u64>,
    /// The start line of `steps.jsonl`.
    pub line: &'a StepRecord,
}

/// An evaluation, with what the run knows at it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Eval<'a> {
    /// Run name.
    pub name: &'a str,
    /// Planned steps, if known.
    pub planned_steps: Option<u64>,
    /// The eval line as written to `steps.jsonl` (energy per domain, metrics, the forecast
    /// when refitted here, the decision with its evidence).
    pub line: &'a StepRecord,
    /// Cumulative energy per domain, with provenance and uncertainty.
    pub energy: &'a EnergyReport,
    /// Recent power per domain, when the sampler has a window of readings.
    pub power: Option<&'a PowerReport>,
    /// Time since the start.
    pub elapsed: Duration,
    /// Name of the monitored metric.
    pub metric_name: &'a str,
    /// The metric as given (may be NaN).
    pub metric: f64,
    /// The latest training loss, if the loop reports one.
    pub loss: Option<f64>,
    /// The best evaluation so far: `(step, metric)`.
    pub best: Option<(u64, f64)>,
    /// The latest forecast at the planned end (or twice the steps done), 80 % interval.
    pub forecast: Option<&'a ForecastRecord>,
    /// The expected gain per kWh the policy compared with τ (or, without one, the
    /// forecast's), metric units per kWh.
    pub gain_per_kwh: Option<f64>,
    /// τ in metric units per kWh, when known.
    pub tau_per_kwh: Option<f64>,
    /// The run's stop, once a policy called it (the first one).
    pub stop: Option<&'a StopReason>,
}

/// The run ended: its end line and summary.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Finish<'a> {
    /// Run directory.
    pub dir: &'a Path,
    /// The end line of `steps.jsonl`.
    pub line: &'a StepRecord,
    /// The summary.
    pub summary: &'a Summary,
}

/// A destination of a run's events; every hook defaults to doing nothing (see the
/// [module docs](self)). A hook that returns an error makes the run's `eval`/`finish`
/// return it, after every other sink had its turn.
pub trait Sink: Send {
    /// The run started (its start line is written).
    fn start(&mut self, _event: &Start<'_>) -> Result<(), Error> {
        Ok(())
    }

    /// The run passed a step-log mark (every `log_every` steps): called from the training
    /// loop's step, so it must be cheap (no I/O; the line itself comes in [`Sink::step`]).
    fn mark(&mut self, _step: u64, _at: Instant) {}

    /// A step line (written at the next evaluation, or when 256 are pending).
    fn step(&mut self, _line: &StepRecord) -> Result<(), Error> {
        Ok(())
    }

    /// An evaluation.
    fn eval(&mut self, _event: &Eval<'_>) -> Result<(), Error> {
        Ok(())
    }

    /// A sentence for people: the meters chosen, a policy's warning, the stop, the close.
    fn say(&mut self, _sentence: &str) {}

    /// The run ended.
    fn finish(&mut self, _event: &Finish<'_>) -> Result<(), Error> {
        Ok(())
    }

    /// Heap bytes the sink holds (for [`Run::heap_bytes`](crate::Run::heap_bytes)).
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn start(&mut self, e: &Start<'_>) -> Result<(), Error> {
        (**self).start(e)
    }
    fn mark(&mut self, step: u64, at: Instant) {
        (**self).mark(step, at)
    }
    fn step(&mut self, line: &StepRecord) -> Result<(), Error> {
        (**self).step(line)
    }
    fn eval(&mut self, e: &Eval<'_>) -> Result<(), Error> {
        (**self).eval(e)
    }
    fn say(&mut self, s: &str) {
        (**self).say(s)
    }
    fn finish(&mut self, e: &Finish<'_>) -> Result<(), Error> {
        (**self).finish(e)
    }
    fn heap_bytes(&self) -> usize {
        (**self).heap_bytes()
    }
}

impl<S: Sink> Sink for Option<S> {
    fn start(&mut self, e: &Start<'_>) -> Result<(), Error> {
        self.as_mut().map_or(Ok(()), |s| s.start(e))
    }
    fn mark(&mut self, step: u64, at: Instant) {
        if let Some(s) = self {
            s.mark(step, at)
        }
    }
    fn step(&mut self, line: &StepRecord) -> Result<(), Error> {
        self.as_mut().map_or(Ok(()), |s| s.step(line))
    }
    fn eval(&mut self, e: &Eval<'_>) -> Result<(), Error> {
        self.as_mut().map_or(Ok(()), |s| s.eval(e))
    }
    fn say(&mut self, sentence: &str) {
        if let Some(s) = self {
            s.say(sentence)
        }
    }
    fn finish(&mut self, e: &Finish<'_>) -> Result<(), Error> {
        self.as_mut().map_or(Ok(()), |s| s.finish(e))
    }
    fn heap_bytes(&self) -> usize {
        self.as_ref().map_or(0, Sink::heap_bytes)
    }
}

/// Every sink hears every event; the first error is returned.
impl<S: Sink> Sink for Vec<S> {
    fn start(&mut self, e: &Start<'_>) -> Result<(), Error> {
        first_error(self.iter_mut().map(|s| s.start(e)))
    }
    fn mark(&mut self, step: u64, at: Instant) {
        for s in self {
            s.mark(step, at)
        }
    }
    fn step(&mut self, line: &StepRecord) -> Result<(), Error> {
        first_error(self.iter_mut().map(|s| s.step(line)))
    }
    fn eval(&mut self, e: &Eval<'_>) -> Result<(), Error> {
        first_error(self.iter_mut().map(|s| s.eval(e)))
    }
    fn say(&mut self, sentence: &str) {
        for s in self {
            s.say(sentence)
        }
    }
    fn finish(&mut self, e: &Finish<'_>) -> Result<(), Error> {
        first_error(self.iter_mut().map(|s| s.finish(e)))
    }
    fn heap_bytes(&self) -> usize {
        self.iter().map(Sink::heap_bytes).sum()
    }
}

/// Runs every result to completion (no short circuit) and keeps the first error.
fn first_error(results: impl Iterator<Item = Result<(), Error>>) -> Result<(), Error> {
    let mut first = Ok(());
    for r in results {
        if let (Err(e), true) = (r, first.is_ok()) {
            first = Err(e);
        }
    }
    first
}

/// `steps.jsonl` and `summary.json`: the run directory's log (see
/// [`snuffer_rundir::StepsWriter`] for why a crash leaves only whole lines). Lines are
/// flushed at each evaluation and at the end.
#[derive(Debug)]
pub struct LogSink {
    writer: StepsWriter,
    sync: bool,
}

impl LogSink {
    /// Creates (truncates) `<dir>/steps.jsonl`.
    pub fn create(dir: &Path) -> Result<LogSink, Error> {
        Ok(LogSink {
            writer: StepsWriter::create(dir.join(snuffer_rundir::STEPS_FILE))?,
            sync: false,
        })
    }

    /// Also `fsync` at every evaluation, so readers on other machines of a shared file
    /// system see each evaluation (runs of a sweep on a cluster).
    pub fn with_sync(mut self, sync: bool) -> LogSink {
        self.sync = sync;
        self
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.writer.lines()
    }

    /// The `steps.jsonl` path.
    pub fn path(&self) -> PathBuf {
        self.writer.path().to_path_buf()
    }

    fn flush(&mut self) -> Result<(), Error> {
        if self.sync {
            self.writer.sync()?;
        } else {
            self.writer.flush()?;
        }
        Ok(())
    }
}

impl Sink for LogSink {
    fn start(&mut self, e: &Start<'_>) -> Result<(), Error> {
        self.writer.append(e.line)?;
        self.flush()
    }
    fn step(&mut self, line: &StepRecord) -> Result<(), Error> {
        Ok(self.writer.append(line)?)
    }
    fn eval(&mut self, e: &Eval<'_>) -> Result<(), Error> {
        self.writer.append(e.line)?;
        self.flush()
    }
    fn finish(&mut self, e: &Finish<'_>) -> Result<(), Error> {
        let appended = self.writer.append(e.line);
        let flushed = self.flush();
        // The summary even when the log failed: it is the run's record.
        snuffer_rundir::write_summary(e.dir, e.summary)?;
        appended?;
        flushed
    }
    fn heap_bytes(&self) -> usize {
        self.writer.heap_bytes()
    }
}

/// `emissions.csv` with CodeCarbon's columns, written when the run ends
/// ([`snuffer_rundir::emissions`]).
#[derive(Debug, Clone, Default)]
pub struct EmissionsSink {
    project: Option<String>,
}

impl EmissionsSink {
    /// The sink, filing the run under `project` (CodeCarbon's `project_name`) when given,
    /// else under its sweep's name or `snuffer`
    /// ([`snuffer_rundir::emissions::EmissionsContext::for_run`]).
    pub fn new(project: Option<String>) -> EmissionsSink {
        EmissionsSink { project }
    }
}

impl Sink for EmissionsSink {
    fn finish(&mut self, e: &Finish<'_>) -> Result<(), Error> {
        snuffer_rundir::emissions::write_emissions_in(e.dir, e.summary, self.project.as_deref())?;
        Ok(())
    }
}
