//! The run tracker: [`Run`] stamps optimizer steps, records evaluations, asks
//! the stop policy, and writes the run directory.
//!
//! # Life of a run
//!
//! * [`Run::builder`] → [`RunBuilder::build`]: creates the run directory, starts
//!   the energy sampler (`snuffer_energy::auto()` unless meters are given) and
//!   writes the first line of `steps.jsonl`, a `start` record whose `meta`
//!   holds the run name, metric name and direction, planned steps, policy
//!   description, τ (if given), the meters chosen and the sources skipped with
//!   their reasons, and the logging settings.
//! * [`Run::step`] after every optimizer step: the hot path. It reads the
//!   monotonic clock, increments a counter and, every `log_every` steps, copies
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
//! # What the free-form fields hold
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
//!   `policy_note`, `tau`, `meters`, `skipped`, `sample_interval_s`,
//!   `sampler_errors`, `last_sampler_error`, `footprint_error`, `log_every`,
//!   `step_lines`, `steps_file`, `energy_at_stop_j`, `sweep` (`{dir, reads,
//!   references, notes}` for a run that joined a sweep, else null).
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
mod records;
mod report;
mod stamps;
mod summary;
mod sweep;

pub use builder::RunBuilder;
pub use curve::Refit;

use crate::sink::{Finish, Sink, Start};
use crate::Error;
use energy::EnergySource;
use records::{decision_record, energy_record, eval_decision_record, finite};
use snuffer_energy::EnergyReport;
use snuffer_forecast::{Direction, ForecastConfig};
use snuffer_policy::{Decision, Observation, StopPolicy, StopReason};
use snuffer_rundir::{EnergyRecord, RecordKind, StepRecord, Summary};
use stamps::{LogStamp, StampBuffer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Stamps waiting for their step lines; a full buffer is written out.
const PENDING_STAMPS: usize = 256;
/// Step lines per doubling of `log_every` when the plan is unknown.
const LINES_PER_LEVEL: u64 = 1000;
/// Window of the power shown and passed to policies.
const POWER_WINDOW: Duration = Duration::from_secs(10);

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

/// The first stop the policy called, with the energy and the forecast saving then.
#[derive(Debug, Clone)]
struct StopAt {
    step: u64,
    reason: StopReason,
    energy_j: f64,
    /// (forecast full-run energy, forecast saving), J.
    savings: Option<(f64, f64)>,
}

/// A training run being tracked; see the [module docs](self).
pub struct Run {
    // Hot: touched by `step`.
    steps: u64,
    last_at: Instant,
    next_mark: u64,
    loss: Option<f64>,
    pending: StampBuffer,

    // Cold.
    log_every: u64,
    adaptive_log: bool,
    lines_at_level: u64,
    name: String,
    dir: PathBuf,
    started_at: String,
    planned: Option<u64>,
    metric_name: String,
    direction: Direction,
    energy: EnergySource,
    sinks: Vec<Box<dyn Sink>>,
    /// Lines passed to the sinks (the length of `steps.jsonl`).
    lines: u64,
    curve: curve::Curve,
    policy: Option<Box<dyn StopPolicy>>,
    policy_name: Option<String>,
    tau: Option<f64>,
    best: Option<(u64, f64)>,
    last_metric: Option<f64>,
    /// Energy at every evaluation: the one estimate of energy per step and of the full run.
    evals: snuffer_energy::StepEnergy,
    /// Evaluations so far.
    evaluations: u64,
    /// Whether the run said it is too short to measure (once).
    unmeasured_said: bool,
    stop: Option<StopAt>,
    last_evidence: Option<snuffer_policy::Evidence>,
    /// The marginal-gain policy's latest check, when it exposes one.
    gauge: Option<snuffer_policy::MarginalEvidence>,
    prometheus_addr: Option<std::net::SocketAddr>,
    footprint: snuffer_footprint::FootprintConfig,
    stop_on_bad_loss: bool,
    /// The sweep this run joined, when it can use the other runs (it has a plan).
    sweep: Option<sweep::SweepWatch>,
    /// The sweep directory joined, and why its runs cannot be used, when they cannot.
    sweep_unusable: Option<(PathBuf, String)>,
    /// An error from a step-line write inside `step`, reported by the next `eval`.
    deferred: Option<Error>,
    done: bool,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("name", &self.name)
            .field("dir", &self.dir)
            .field("steps", &self.steps)
            .field("planned", &self.planned)
            .field("metric", &self.metric_name)
            .field("best", &self.best)
            .field("policy", &self.policy_name)
            .finish_non_exhaustive()
    }
}

impl Run {
    /// Settings for a run called `name`.
    pub fn builder(name: impl Into<String>) -> RunBuilder {
        RunBuilder::new(name)
    }

    fn start(mut b: RunBuilder) -> Result<Run, Error> {
        let now_utc = chrono::Utc::now();
        let in_sweep = b.out_dir.is_none() && b.sweep.is_some();
        let dir = match (&b.out_dir, &b.sweep) {
            (Some(d), _) => {
                std::fs::create_dir_all(d).map_err(|source| Error::CreateDir {
                    path: d.clone(),
                    source,
                })?;
                d.clone()
            }
            (None, Some(sweep)) => snuffer_rundir::Sweep::create(sweep)?.new_run_dir(&b.name)?,
            (None, None) => default_dir(&b.name, &now_utc)?,
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
        let log = crate::sink::LogSink::create(&dir)?.with_sync(in_sweep);
        let mut sinks: Vec<Box<dyn Sink>> = vec![Box::new(log)];

        let mut forecast = b
            .forecast
            .clone()
            .unwrap_or_else(|| ForecastConfig::new(b.direction));
        forecast.direction = b.direction;
        let given = b.bounds.lower.is_some() || b.bounds.upper.is_some();
        if given {
            forecast.bounds = b.bounds;
        }
        // Neither `.bounds(..)` nor bounds in `.forecast_config(..)`: infer them.
        let infer = (!given && forecast.bounds == snuffer_forecast::Bounds::default())
            .then(|| b.metric_name.clone());
        #[cfg_attr(not(feature = "prometheus"), allow(unused_mut))]
        let mut prometheus_addr = None;
        #[cfg(feature = "prometheus")]
        if let Some(addr) = &b.prometheus {
            let sink = crate::prometheus::PrometheusSink::serve(addr).map_err(|source| {
                Error::Prometheus {
                    addr: addr.clone(),
                    source,
                }
            })?;
            prometheus_addr = Some(sink.local_addr());
            sinks.push(Box::new(sink));
        }
        let energy = EnergySource::start(b.meters.take(), b.sample_interval)?;
        let (log_every, adaptive_log) = match (b.log_every, b.planned_steps) {
            (Some(n), _) => (n, false),
            (None, Some(p)) => ((p / 1000).max(1), false),
            (None, None) => (100, true),
        };
        let meta = serde_json::json!({
            "format_version": snuffer_rundir::FORMAT_VERSION,
            "run_name": b.name,
            "started_at": now_utc.to_rfc3339(),
            "metric_name": b.metric_name,
            "direction": b.direction,
            "higher_is_better": b.direction == Direction::HigherIsBetter,
            "bounds": { "lower": forecast.bounds.lower, "upper": forecast.bounds.upper },
            "planned_steps": b.planned_steps,
            "policy": b.policy_name.clone().unwrap_or_else(|| "none (never stops early)".into()),
            "tau": b.tau,
            "refit": b.refit.to_string(),
            "log_every": log_every,
            "log_every_doubles": adaptive_log,
            "sample_interval_s": b.sample_interval.as_secs_f64(),
            "meters": energy.meters,
            "domains": energy.domains,
            "skipped": energy.skipped,
            "pid": std::process::id(),
            "host": snuffer_rundir::this_host(),
            "sweep": in_sweep.then(|| b.sweep.clone()).flatten(),
        });
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
        let origin = energy.origin();
        sinks.start(&Start {
            name: &b.name,
            dir: &dir,
            planned_steps: b.planned_steps,
            line: &StepRecord {
                kind: RecordKind::Start,
                step: 0,
                time_s: 0.0,
                energy: EnergyRecord::default(),
                metrics: BTreeMap::new(),
                forecast: None,
                decision: None,
                meta: Some(meta),
            },
        })?;
        sinks.say(&meters_sentence(&energy, &dir));
        // Only a policy uses the other runs: a run without one does not read them.
        let reads_sweep = in_sweep && b.policy.is_some();
        let (sweep, sweep_unusable) = match (&b.sweep, b.planned_steps) {
            (Some(s), Some(_)) if reads_sweep => (
                Some(sweep::SweepWatch::new(s, &dir, &b.metric_name, b.direction)),
                None,
            ),
            (Some(s), None) if reads_sweep => {
                let why = format!(
                    "this run joined the sweep {} without planned_steps: runs of a sweep are \
                     compared at the same share of their plan, so the policy cannot use the \
                     other runs (set planned_steps to let it)",
                    s.display()
                );
                sinks.say(&why);
                (None, Some((s.clone(), why)))
            }
            _ => (None, None),
        };
        Ok(Run {
            steps: 0,
            last_at: origin,
            next_mark: log_every,
            loss: None,
            pending: StampBuffer::with_capacity(PENDING_STAMPS),
            log_every,
            adaptive_log,
            lines_at_level: 0,
            started_at: now_utc.to_rfc3339(),
            name: b.name,
            dir,
            planned: b.planned_steps,
            metric_name: b.metric_name,
            direction: b.direction,
            energy,
            sinks,
            lines: 1,
            curve: curve::Curve::new(forecast, b.refit, infer),
            policy: b.policy,
            policy_name: b.policy_name,
            tau: b.tau,
            best: None,
            last_metric: None,
            evals: snuffer_energy::StepEnergy::new(),
            evaluations: 0,
            unmeasured_said: false,
            stop: None,
            last_evidence: None,
            gauge: None,
            prometheus_addr,
            footprint: b.footprint.unwrap_or_default(),
            stop_on_bad_loss: b.stop_on_nonfinite_loss,
            sweep,
            sweep_unusable,
            deferred: None,
            done: false,
        })
    }

    /// Stamp one optimizer step: the hot path.
    ///
    /// Reads the monotonic clock (a vDSO call, no system call) and bumps a
    /// counter; every `log_every` steps it also copies a stamp into a
    /// preallocated buffer. Nothing is allocated and no lock is taken.
    #[inline]
    pub fn step(&mut self) {
        let now = Instant::now();
        self.steps += 1;
        self.last_at = now;
        if self.steps >= self.next_mark {
            self.mark(now);
        }
    }

    /// A step-log mark: buffer a stamp, move the bar, and write the buffered
    /// lines once the buffer is full (once per 256 marks).
    #[cold]
    #[inline(never)]
    fn mark(&mut self, now: Instant) {
        self.next_mark = self.steps + self.log_every;
        let full = self.pending.push(LogStamp {
            step: self.steps,
            at: now,
            loss: self.loss,
        });
        self.sinks.mark(self.steps, now);
        if full {
            if let Err(e) = self.write_pending() {
                self.deferred.get_or_insert(e);
            }
        }
    }

    /// Record the latest training loss (shown in progress, written in step
    /// and eval lines). Cheap: one store.
    #[inline]
    pub fn record_loss(&mut self, loss: f64) {
        self.loss = Some(loss);
    }

    /// Write the buffered step lines, each with the cumulative energy at its stamp.
    fn write_pending(&mut self) -> Result<(), Error> {
        let origin = self.energy.origin();
        let stamps: Vec<LogStamp> = self.pending.drain().collect();
        for s in stamps {
            let report = self.energy.cumulative_at(s.at);
            let mut metrics = BTreeMap::new();
            if let Some(l) = s.loss {
                metrics.insert("loss".to_string(), finite(l));
            }
            self.lines += 1;
            self.sinks.step(&StepRecord {
                kind: RecordKind::Step,
                step: s.step,
                time_s: s.at.saturating_duration_since(origin).as_secs_f64(),
                energy: energy_record(&report),
                metrics,
                forecast: None,
                decision: None,
                meta: None,
            })?;
            if self.adaptive_log {
                self.lines_at_level += 1;
                if self.lines_at_level >= LINES_PER_LEVEL {
                    self.lines_at_level = 0;
                    self.log_every = self.log_every.saturating_mul(2);
                    self.next_mark = self.steps + self.log_every;
                }
            }
        }
        Ok(())
    }

    /// Record an evaluation of the monitored metric and ask the policy.
    ///
    /// Writes the pending step lines and an eval line, flushes `steps.jsonl`,
    /// refits the forecast on its cadence, updates the best and the progress
    /// display, and pushes the state to the Prometheus exporter if any.
    /// `metric` may be NaN or infinite (see the [module docs](self)).
    ///
    /// Errors: the run directory cannot be written (also reports a write error
    /// from an earlier [`step`](Self::step)).
    pub fn eval(&mut self, metric: f64) -> Result<Action, Error> {
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        // A fresh reading first: the step lines before it and the eval line are then
        // interpolated between real samples, never a stale or extrapolated one.
        let (now, report) = self.energy.read_now();
        self.write_pending()?;
        let step = self.steps;
        let elapsed = now.saturating_duration_since(self.energy.origin());
        // No sample yet means no measured power, not zero watts.
        let power = self
            .energy
            .recent_power(POWER_WINDOW)
            .filter(|p| p.window > Duration::ZERO);

        // Best and curve: finite values only.
        let new_best = metric.is_finite()
            && self
                .best
                .is_none_or(|(_, b)| self.direction.orient(metric) > self.direction.orient(b));
        if new_best {
            self.best = Some((step, metric));
        }
        self.last_metric = Some(metric);
        self.curve.push(step, metric);
        let attempts = self.curve.attempts;
        let refitted = self.curve.maybe_refit(false);
        // Between refits the policy still sees the run's current trend.
        let refreshed = !refitted && self.curve.refresh();
        // The sweep is re-read on the refit cadence (and first at the first evaluation).
        if let Some(watch) = self.sweep.as_mut() {
            let cadence = self.curve.attempts != attempts || watch.reads == 0;
            if cadence && watch.due(now) {
                for sentence in watch.refresh() {
                    self.sinks.say(&sentence);
                }
            }
        }
        self.evals.push(step as f64, report.total.0);
        self.evaluations += 1;

        let (decision, warnings) = match self.policy.as_mut() {
            Some(policy) => {
                let d = policy.observe(&Observation {
                    step,
                    planned_steps: self.planned,
                    elapsed,
                    energy: report.total,
                    provenance: &report.provenance,
                    recent_power: power.as_ref().map(|p| p.total),
                    metric: Some(metric),
                    loss: self.loss,
                    direction: self.direction,
                    forecast: if refitted || refreshed {
                        self.curve.latest()
                    } else {
                        None
                    },
                    sweep: self.sweep.as_ref().map(sweep::SweepWatch::references),
                });
                (d, policy.take_warnings())
            }
            None => (Decision::Continue, Vec::new()),
        };
        let decision = match (decision, self.loss) {
            // `Divergence` stops on a broken loss itself; whatever the policy, the
            // tracker does too, when the user opted into stopping at all.
            (Decision::Continue, Some(loss))
                if !loss.is_finite() && self.policy.is_some() && self.stop_on_bad_loss =>
            {
                Decision::Stop(StopReason::new(
                    format!("the training loss is {loss} at step {step}: the run diverged"),
                    snuffer_policy::Evidence::Divergence(snuffer_policy::DivergenceEvidence {
                        step,
                        cause: snuffer_policy::DivergenceCause::NonFiniteLoss,
                        value: loss,
                        bound: None,
                    }),
                ))
            }
            (d, _) => d,
        };
        // A run too short to measure: a stop that weighs energy is not acted on.
        let decision = match decision {
            Decision::Stop(r)
                if matches!(
                    r.evidence,
                    snuffer_policy::Evidence::MarginalGain(_) | snuffer_policy::Evidence::Sweep(_)
                ) && !self.energy.measurable(elapsed, report.total.0) =>
            {
                if !self.unmeasured_said {
                    self.unmeasured_said = true;
                    self.sinks
                        .say(&self.too_short_sentence(elapsed, report.total.0));
                }
                Decision::Continue
            }
            d => d,
        };
        let mut first_stop = false;
        let gauge = self.policy_gauge(step);
        if gauge.is_some() {
            self.gauge = gauge;
        }
        if let Decision::Stop(r) = &decision {
            self.last_evidence = Some(r.evidence.clone());
            if self.stop.is_none() {
                self.stop = Some(StopAt {
                    step,
                    reason: r.clone(),
                    energy_j: report.total.0,
                    savings: self.savings(step, report.total.0),
                });
                first_stop = true;
            }
        }

        let target = self.forecast_target(step);
        let forecast = if refitted {
            self.curve.record(target)
        } else {
            None
        };
        let mut metrics = BTreeMap::new();
        metrics.insert(self.metric_name.clone(), finite(metric));
        if let Some(l) = self.loss {
            metrics.insert("loss".to_string(), finite(l));
        }
        let line = StepRecord {
            kind: RecordKind::Eval,
            step,
            time_s: elapsed.as_secs_f64(),
            energy: energy_record(&report),
            metrics,
            forecast: forecast.clone(),
            decision: Some(eval_decision_record(&decision, gauge.as_ref(), &warnings)),
            meta: None,
        };
        self.lines += 1;
        let latest = forecast.or_else(|| self.curve.record(target));
        let event = crate::sink::Eval {
            name: &self.name,
            planned_steps: self.planned,
            line: &line,
            energy: &report,
            power: power.as_ref(),
            elapsed,
            metric_name: &self.metric_name,
            metric,
            loss: self.loss,
            best: self.best,
            forecast: latest.as_ref(),
            gain_per_kwh: self.display_gain_per_kwh(step, report.total.0),
            tau_per_kwh: self.latest_marginal().map(|m| m.tau_per_kwh).or(self.tau),
            stop: self.stop.as_ref().map(|s| &s.reason),
        };
        let written = self.sinks.eval(&event);
        for w in &warnings {
            self.sinks
                .say(&format!("{} warns: {}", w.policy, w.message));
        }
        if first_stop {
            if let Some(sentence) = self.stop_sentence() {
                self.sinks.say(&sentence);
            }
        }
        written?;
        Ok(Action {
            decision,
            new_best,
            step,
            metric,
        })
    }

    /// The address the Prometheus exporter listens on, when one was asked for
    /// (useful with port 0).
    pub fn prometheus_addr(&self) -> Option<std::net::SocketAddr> {
        self.prometheus_addr
    }

    /// The best evaluation so far: `(step, metric)` (finite values only): the first with
    /// the best value, whatever a policy's `min_delta` — the step whose weights
    /// `best.safetensors` holds.
    pub fn best(&self) -> Option<(u64, f64)> {
        self.best
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Steps stamped so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The run name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Planned steps, if known.
    pub fn planned_steps(&self) -> Option<u64> {
        self.planned
    }

    /// The latest training loss recorded.
    pub fn loss(&self) -> Option<f64> {
        self.loss
    }

    /// The first stop the policy called, if any.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.stop.as_ref().map(|s| &s.reason)
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
        self.curve.record(self.forecast_target(self.steps))
    }

    /// Heap bytes the tracker holds now: evaluation history, the stamp
    /// buffer, the log's buffers and (approximately) the sampler's ring.
    ///
    /// It grows with evaluations, not with steps: a 100 000-step run that
    /// evaluates every 1 000 steps holds a few hundred KiB, almost all of it
    /// the sampler's preallocated ring and the 64 KiB log buffer.
    pub fn heap_bytes(&self) -> usize {
        self.pending.heap_bytes()
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
        let mut first_err = self.deferred.take();
        if let Err(e) = self.write_pending() {
            first_err.get_or_insert(e);
        }
        let end = Instant::now();
        let total = self.energy.stop();
        let summary = summary::build(self, &total, end, finished);
        let mut meta = serde_json::json!({ "finished": finished });
        if let Some(s) = &self.stop {
            meta["stop_step"] = s.step.into();
        }
        let line = StepRecord {
            kind: RecordKind::End,
            step: self.steps,
            time_s: summary.duration_s,
            energy: energy_record(&total),
            metrics: self
                .last_metric
                .map(|m| (self.metric_name.clone(), finite(m)))
                .into_iter()
                .collect(),
            forecast: summary.forecast_full_metric.clone(),
            decision: summary.stop.clone(),
            meta: Some(meta),
        };
        self.lines += 1;
        if let Err(e) = self.sinks.finish(&Finish {
            dir: &self.dir,
            line: &line,
            summary: &summary,
        }) {
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

/// Where runs go when no `out_dir` is given.
pub const RUNS_DIR: &str = "runs";
/// The link in [`RUNS_DIR`] to the latest run started without an `out_dir`.
pub const LATEST_LINK: &str = "latest";

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
