//! The run tracker: [`Run`] stamps optimizer steps, records evaluations, asks
//! the stop policy, and writes the run directory.
//!
//! # Life of a run
//!
//! * [`Run::builder`] → [`RunBuilder::build`]: creates the run directory, starts
//!   the energy sampler (`snuffer_energy::auto()` unless meters are given) and
//!   writes the first line of `steps.jsonl`, a `start` record whose `meta`
//!   holds the run name, metric name and direction, planned steps, policy
//!   description, τ (the policy's, [`StopPolicy::tau`](snuffer_policy::StopPolicy::tau),
//!   when it is fixed), the meters chosen and the sources skipped with their reasons, and
//!   the logging settings.
//! * [`Run::step`] after every optimizer step: the hot path. It increments a
//!   counter and, every `log_every` steps, reads the monotonic clock and copies
//!   a stamp into a buffer allocated at build time. No system call besides the
//!   clock, no allocation, no lock. Energy is *not* computed here: the
//!   sampler's background thread polls the meters, and the energy of any
//!   interval is interpolated from its samples later.
//! * [`Run::eval`] after every evaluation: writes the buffered step lines (with
//!   their cumulative energy interpolated at each stamp) and an `eval` line
//!   (energy per domain with provenance and uncertainty, the metric and the
//!   latest loss, the forecast when it was refitted, the decision), flushes
//!   the file, refits the forecast on its cadence ([`Refit`]), asks the policy
//!   and returns an [`Action`].
//! * [`Run::finish`]: stops the sampler (a last reading), writes the `end`
//!   line, `summary.json` (temp file + rename) and `emissions.csv`, and
//!   returns the [`Summary`]. A run dropped without `finish` still stops its
//!   sampler and writes its end line and a summary with `finished: false`;
//!   `Drop` never panics.
//!
//! Everything the run writes or shows goes through its [`Sink`]s
//! ([`crate::sink`]): the log, the progress display, `emissions.csv`, the
//! Prometheus exporter and any sink of yours.
//!
//! # What the records hold
//!
//! The start line's `meta`, the end line's and `summary.json`'s `extra` are typed records
//! of `snuffer-rundir` ([`StartMeta`](snuffer_rundir::StartMeta),
//! [`EndMeta`], [`SummaryExtra`](snuffer_rundir::SummaryExtra)).
//!
//! * Start line `meta`: `format_version`, `run_name`, `started_at`,
//!   `metric_name`, `direction`, `higher_is_better`, `bounds {lower, upper}`,
//!   `planned_steps`, `policy` (its name or description), `tau`, `refit`,
//!   `log_every`, `log_every_doubles`, `sample_interval_s`, `meters`,
//!   `domains`, `skipped` (`[{source, reason}]`), `pid` and `host` (so a
//!   reader can tell a crashed run from one still running), `sweep` (the sweep
//!   directory joined, or null).
//! * End line `meta`: `finished` (false when dropped without
//!   [`Run::finish`]) and `stop_step` when a policy stopped the run; its
//!   `decision` is the stop, its `forecast` the full-run forecast.
//! * Eval line `decision.evidence`: on a stop, the policy's typed evidence
//!   ([`snuffer_policy::Evidence`]); on a continue, the marginal-gain check
//!   (`gain_rate_per_kwh` against `tau_per_kwh`, …) when the policy (or a
//!   member of an `AnyOf`) made one at this step
//!   ([`snuffer_policy::StopPolicy::gain_check`]). Policy warnings go to
//!   `decision.warnings`.
//! * `summary.json` `extra`: `stop_step`, `evaluations`, `forecast_fits`,
//!   `forecast_points`, `forecast_error`, `forecast_bounds_inferred`, `policy`,
//!   `policy_note`, `tau` (with `tau_basis`: set per kWh, or resolved by the policy at its
//!   last check for a relative τ), `meters`, `skipped`, `sample_interval_s`,
//!   `sampler_errors`, `last_sampler_error`, `footprint_error`, `log_every`,
//!   `step_lines`, `steps_file`, `energy_at_stop_j`, `sweep` (`{dir, reads,
//!   references, notes}` for a run that joined a sweep, else null),
//!   `too_short_to_measure`.
//! * `summary.json` `forecast_full_energy_j` and `forecast_saved_j` are the
//!   figures of the stop sentence, computed when the policy stopped the run
//!   (energy so far plus the remaining planned steps at the recent energy per
//!   step); without a stop they are computed at the end.
//!
//! # Decisions documented here
//!
//! * **Metric values that are NaN or infinite** are passed to the policy (a
//!   divergence policy stops on them), written as `null`, and never become the
//!   best nor a point of the forecast.
//! * **A NaN or infinite training loss** ([`Run::record_loss`]) stops the run
//!   at the next evaluation with a `divergence` reason when a policy is set
//!   (the policy's observation carries the loss too, and a `Divergence` policy
//!   names it); opt out with [`RunBuilder::stop_on_nonfinite_loss`].
//! * **Once a policy says stop**, the first stop is the run's stop reason (in
//!   the summary and the final sentence); later evaluations still ask the
//!   policy and log its decisions, so a loop that ignores the advice keeps a
//!   faithful log.
//! * **Step lines**: at most one every `log_every` steps (see
//!   [`RunBuilder::log_every`]), written at the next evaluation or when 256
//!   stamps are pending (then that one `step` call does the write, once per
//!   256 × `log_every` steps).
//! * **Energy per step** for the forecast of the remaining run is
//!   [`snuffer_energy::StepEnergy`]'s, measured over the later half of the run
//!   (evaluations included, since they recur): the same estimate the policy's
//!   share of the planned energy spent uses, so a stop line's share spent and
//!   forecast saving add up to 100 %.
//! * **Energy at evaluations** is a fresh reading of the meters
//!   ([`snuffer_energy::Sampler::read_now`]), so a short run's figures are
//!   never a stale sample; step lines are interpolated between real samples.
//! * **Forecasts** are refitted on the [`Refit`] cadence (default: every
//!   evaluation; fits see at most a bounded sample of points, so each costs
//!   about the same on long runs). The policy receives the forecast only when
//!   it was refitted at that evaluation, as its contract says.
//! * **Runs too short to measure** (shorter than three sampler intervals, or
//!   with no energy read yet): the policy still sees every evaluation, but a
//!   stop that weighs energy (marginal gain, the sweep rule) is not acted on, and
//!   the run says so once, and again in its closing sentence.
//! * **Sweeps**: a run that joined one ([`RunBuilder::sweep`]) and has a plan
//!   and a policy hands the policy the other runs of the sweep directory with the same
//!   metric, each as far as it was recorded
//!   ([`Observation::sweep`](snuffer_policy::Observation::sweep)), re-read on
//!   the refit cadence and within a twentieth of the run's time; another run's
//!   damaged files or missing plan leave that run out, said once, and never fail
//!   this one. Without a plan it cannot be aligned with them, and says so once.
//! * **Memory** is O(evaluations + 256 stamps + the sampler's bounded ring),
//!   never O(steps); see [`Run::heap_bytes`].

mod builder;
mod curve;
mod energy;
mod eval;
mod records;
mod report;
mod stamps;
mod start;
mod state;
mod summary;
mod sweep;

pub use builder::RunBuilder;
pub use curve::Refit;
pub use start::{LATEST_LINK, RUNS_DIR};

use crate::sink::{Finish, Sink};
use crate::Error;
use energy::EnergySource;
use records::{energy_record, finite};
use snuffer_energy::EnergyReport;
use snuffer_policy::{Decision, StopReason};
use snuffer_rundir::{EndMeta, RecordKind, StepRecord, Summary};
use stamps::LogStamp;
use state::{Best, Clock, RunInfo, StopState, SweepState};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// What the caller should do after an evaluation.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Action {
    /// The policy's decision at this evaluation.
    pub decision: Decision,
    /// Whether this evaluation is the best so far (save the weights): strictly better than
    /// every earlier finite value, with no margin (the raw strict best; ties keep the first).
    pub new_best: bool,
    /// Steps done at this evaluation.
    pub step: u64,
    /// The metric as given (may be NaN).
    pub metric: f64,
}

impl Action {
    /// Whether the policy says stop.
    pub fn should_stop(&self) -> bool {
        matches!(self.decision, Decision::Stop(_))
    }

    /// Whether this evaluation is the best so far.
    pub fn is_new_best(&self) -> bool {
        self.new_best
    }

    /// The stop reason, when the policy says stop.
    pub fn reason(&self) -> Option<&StopReason> {
        match &self.decision {
            Decision::Stop(r) => Some(r),
            Decision::Continue => None,
        }
    }
}

/// A training run being tracked; see the [module docs](self).
pub struct Run {
    /// Hot: steps and the step log's cadence (touched by `step`), and the counters.
    clock: Clock,
    /// Name, directory and fixed settings.
    info: RunInfo,
    energy: EnergySource,
    /// Energy at every evaluation: the one estimate of energy per step and of the full run.
    evals: snuffer_energy::StepEnergy,
    sinks: Vec<Box<dyn Sink>>,
    curve: curve::Curve,
    best: Best,
    stop: StopState,
    sweep: SweepState,
    done: bool,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("name", &self.info.name)
            .field("dir", &self.info.dir)
            .field("steps", &self.clock.steps)
            .field("planned", &self.info.planned)
            .field("metric", &self.info.metric_name)
            .field("best", &self.best.best)
            .field("policy", &self.stop.name)
            .finish_non_exhaustive()
    }
}

impl Run {
    /// Settings for a run called `name`.
    pub fn builder(name: impl Into<String>) -> RunBuilder {
        RunBuilder::new(name)
    }

    /// Stamp one optimizer step: the hot path.
    ///
    /// Bumps a counter; every `log_every` steps it also reads the monotonic clock (a vDSO
    /// call, no system call) and copies a stamp into a preallocated buffer. Nothing is
    /// allocated and no lock is taken.
    #[inline]
    pub fn step(&mut self) {
        self.clock.steps += 1;
        if self.clock.steps >= self.clock.next_mark {
            self.mark(Instant::now());
        }
    }

    /// A step-log mark: buffer a stamp, move the bar, and write the buffered
    /// lines once the buffer is full (once per 256 marks).
    #[cold]
    #[inline(never)]
    fn mark(&mut self, now: Instant) {
        let clock = &mut self.clock;
        clock.next_mark = clock.steps + clock.log_every;
        let full = clock.pending.push(LogStamp {
            step: clock.steps,
            at: now,
            loss: clock.loss,
        });
        self.sinks.mark(clock.steps, now);
        if full {
            if let Err(e) = self.write_pending() {
                self.clock.deferred.get_or_insert(e);
            }
        }
    }

    /// Record the latest training loss (shown in progress, written in step
    /// and eval lines). Cheap: one store.
    #[inline]
    pub fn record_loss(&mut self, loss: f64) {
        self.clock.loss = Some(loss);
    }

    /// Write the buffered step lines, each with the cumulative energy at its stamp.
    fn write_pending(&mut self) -> Result<(), Error> {
        let origin = self.energy.origin();
        let stamps: Vec<LogStamp> = self.clock.pending.drain().collect();
        for s in stamps {
            let report = self.energy.cumulative_at(s.at);
            let metrics = s.loss.map(|l| ("loss".to_string(), finite(l)));
            self.clock.step_line_written();
            self.sinks.step(&StepRecord {
                kind: RecordKind::Step,
                step: s.step,
                time_s: s.at.saturating_duration_since(origin).as_secs_f64(),
                energy: energy_record(&report),
                metrics: metrics.into_iter().collect(),
                forecast: None,
                decision: None,
                meta: None,
            })?;
        }
        Ok(())
    }

    /// The address the Prometheus exporter listens on, when one was asked for
    /// (useful with port 0).
    pub fn prometheus_addr(&self) -> Option<std::net::SocketAddr> {
        self.info.prometheus_addr
    }

    /// The best evaluation so far: `(step, metric)` (finite values only): the first with
    /// the best value, whatever a policy's `min_delta` — the step whose weights
    /// `best.safetensors` holds.
    pub fn best(&self) -> Option<(u64, f64)> {
        self.best.best
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.info.dir
    }

    /// Steps stamped so far.
    pub fn steps(&self) -> u64 {
        self.clock.steps
    }

    /// The run name.
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// Planned steps, if known.
    pub fn planned_steps(&self) -> Option<u64> {
        self.info.planned
    }

    /// The latest training loss recorded.
    pub fn loss(&self) -> Option<f64> {
        self.clock.loss
    }

    /// The first stop the policy called, if any.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.stop.stop.as_ref().map(|s| &s.reason)
    }

    /// Cumulative energy since the run started, as of now.
    pub fn energy(&self) -> EnergyReport {
        self.energy.cumulative_at(Instant::now())
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.energy.origin().elapsed()
    }

    /// The latest forecast of the metric at the planned end (or at twice the
    /// steps done when the plan is unknown), at 80 %.
    pub fn forecast(&self) -> Option<snuffer_rundir::ForecastRecord> {
        self.curve.record(self.forecast_target(self.clock.steps))
    }

    /// Heap bytes the tracker holds now: evaluation history, the stamp
    /// buffer, the log's buffers and (approximately) the sampler's ring.
    ///
    /// It grows with evaluations, not with steps: a 100 000-step run that
    /// evaluates every 1 000 steps holds a few hundred KiB, almost all of it
    /// the sampler's preallocated ring and the 64 KiB log buffer.
    pub fn heap_bytes(&self) -> usize {
        self.clock.pending.heap_bytes()
            + self.sinks.heap_bytes()
            + self.curve.heap_bytes()
            + self.evals.heap_bytes()
            + self.energy.approx_heap_bytes(self.elapsed())
    }

    /// End the run: stop the sampler (a last reading), write the end line,
    /// `summary.json` (temp file + rename) and `emissions.csv`, and print the
    /// closing sentence.
    pub fn finish(mut self) -> Result<Summary, Error> {
        self.done = true;
        self.close(true)
    }

    /// Shared by `finish` and `Drop`.
    fn close(&mut self, finished: bool) -> Result<Summary, Error> {
        let mut first_err = self.clock.deferred.take();
        if let Err(e) = self.write_pending() {
            first_err.get_or_insert(e);
        }
        let end = Instant::now();
        let total = self.energy.stop();
        let summary = summary::build(self, &total, end, finished);
        let meta = EndMeta {
            finished,
            stop_step: self.stop.stop.as_ref().map(|s| s.step),
        };
        let metric = self.best.last_metric;
        let line = StepRecord {
            kind: RecordKind::End,
            step: self.clock.steps,
            time_s: summary.duration_s,
            energy: energy_record(&total),
            metrics: metric
                .map(|m| (self.info.metric_name.clone(), finite(m)))
                .into_iter()
                .collect::<BTreeMap<_, _>>(),
            forecast: summary.forecast_full_metric.clone(),
            decision: summary.stop.clone(),
            meta: Some(meta.to_value()),
        };
        self.clock.lines += 1;
        let finish = Finish {
            dir: &self.info.dir,
            line: &line,
            summary: &summary,
        };
        if let Err(e) = self.sinks.finish(&finish) {
            first_err.get_or_insert(e);
        }
        let sentence = self.closing_sentence(&summary, finished);
        self.sinks.say(&sentence);
        match first_err {
            Some(e) => Err(e),
            None => Ok(summary),
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.done = true;
        // Best effort: a run dropped mid-way (an error, a panic unwinding, a
        // loop that forgot `finish`) still leaves valid logs. Errors are
        // ignored: there is nobody to report them to, and Drop must not panic.
        let _ = self.close(false);
    }
}
