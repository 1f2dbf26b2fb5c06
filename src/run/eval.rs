//! [`Run::eval`]: an evaluation recorded, the policy asked, the eval line and event sent.

use super::records::{energy_record, eval_decision_record, finite};
use super::state::StopAt;
use super::{Action, Run};
use crate::sink::Sink;
use crate::Error;
use snuffer_energy::{EnergyReport, PowerReport};
use snuffer_policy::{
    Decision, DivergenceCause, DivergenceEvidence, Evidence, Observation, StopReason, Warning,
};
use snuffer_rundir::{RecordKind, StepRecord};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Window of the power shown and passed to policies.
const POWER_WINDOW: Duration = Duration::from_secs(10);

/// One evaluation's readings.
struct EvalAt {
    step: u64,
    metric: f64,
    elapsed: Duration,
    report: EnergyReport,
    /// Recent power; `None` before a sample (no measured power, not zero watts).
    power: Option<PowerReport>,
    /// Whether the forecast was refitted at this evaluation.
    refitted: bool,
    /// Whether the policy gets the forecast (refitted, or refreshed to the current trend).
    fresh_forecast: bool,
}

impl Run {
    /// Record an evaluation of the monitored metric and ask the policy.
    ///
    /// Writes the pending step lines and an eval line, flushes `steps.jsonl`,
    /// refits the forecast on its cadence, updates the best and the progress
    /// display, and pushes the state to the Prometheus exporter if any.
    /// `metric` may be NaN or infinite (see the [module docs](super)).
    ///
    /// Errors: the run directory cannot be written (also reports a write error
    /// from an earlier [`step`](Self::step)).
    pub fn eval(&mut self, metric: f64) -> Result<Action, Error> {
        if let Some(e) = self.clock.deferred.take() {
            return Err(e);
        }
        // A fresh reading first: the step lines before it and the eval line are then
        // interpolated between real samples, never a stale or extrapolated one.
        let (now, report) = self.energy.read_now();
        self.write_pending()?;
        let step = self.clock.steps;
        let new_best = self.best.update(self.info.direction, step, metric);
        let at = self.observe(step, metric, now, report);
        let (decision, warnings) = self.decide(&at);
        let first_stop = self.record_decision(&decision, step, at.report.total.0);
        let written = self.send_eval(&at, &decision, &warnings);
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

    /// Adds the evaluation to the curve (refitting on its cadence), re-reads the sweep on
    /// that cadence, and keeps the energy at this step.
    fn observe(&mut self, step: u64, metric: f64, now: Instant, report: EnergyReport) -> EvalAt {
        let elapsed = now.saturating_duration_since(self.energy.origin());
        let power = self
            .energy
            .recent_power(POWER_WINDOW)
            .filter(|p| p.window > Duration::ZERO);
        self.curve.push(step, metric);
        let attempts = self.curve.attempts;
        let refitted = self.curve.maybe_refit(false);
        // Between refits the policy still sees the run's current trend.
        let refreshed = !refitted && self.curve.refresh();
        // The sweep is re-read on the refit cadence (and first at the first evaluation).
        if let super::state::SweepState::Watching(watch) = &mut self.sweep {
            let cadence = self.curve.attempts != attempts || watch.reads == 0;
            if cadence && watch.due(now) {
                for sentence in watch.refresh() {
                    self.sinks.say(&sentence);
                }
            }
        }
        self.evals.push(step as f64, report.total.0);
        self.clock.evaluations += 1;
        EvalAt {
            step,
            metric,
            elapsed,
            report,
            power,
            refitted,
            fresh_forecast: refitted || refreshed,
        }
    }

    /// The policy's decision and warnings, with the tracker's own checks: a broken loss
    /// stops the run, a stop that weighs energy is not acted on in a run too short to
    /// measure.
    fn decide(&mut self, at: &EvalAt) -> (Decision, Vec<Warning>) {
        let Some(policy) = self.stop.policy.as_mut() else {
            return (Decision::Continue, Vec::new());
        };
        let decision = policy.observe(&Observation {
            step: at.step,
            planned_steps: self.info.planned,
            elapsed: at.elapsed,
            energy: at.report.total,
            provenance: &at.report.provenance,
            recent_power: at.power.as_ref().map(|p| p.total),
            metric: Some(at.metric),
            loss: self.clock.loss,
            direction: self.info.direction,
            forecast: if at.fresh_forecast {
                self.curve.latest()
            } else {
                None
            },
            sweep: self.sweep.watch().map(super::sweep::SweepWatch::references),
        });
        let warnings = policy.take_warnings();
        let decision = self.loss_check(decision, at.step);
        (self.measurable_check(decision, at), warnings)
    }

    /// `Divergence` stops on a broken loss itself; whatever the policy, the tracker does
    /// too, when the user opted into stopping at all.
    fn loss_check(&self, decision: Decision, step: u64) -> Decision {
        match (decision, self.clock.loss) {
            (Decision::Continue, Some(loss)) if !loss.is_finite() && self.stop.stop_on_bad_loss => {
                Decision::Stop(StopReason::new(
                    format!("the training loss is {loss} at step {step}: the run diverged"),
                    Evidence::Divergence(DivergenceEvidence {
                        step,
                        cause: DivergenceCause::NonFiniteLoss,
                        value: loss,
                        bound: None,
                    }),
                ))
            }
            (d, _) => d,
        }
    }

    /// A run too short to measure: a stop that weighs energy is not acted on (said once).
    fn measurable_check(&mut self, decision: Decision, at: &EvalAt) -> Decision {
        let joules = at.report.total.0;
        match decision {
            Decision::Stop(r)
                if matches!(r.evidence, Evidence::MarginalGain(_) | Evidence::Sweep(_))
                    && !self.energy.measurable(at.elapsed, joules) =>
            {
                if !self.stop.unmeasured_said {
                    self.stop.unmeasured_said = true;
                    let sentence = self.too_short_sentence(at.elapsed, joules);
                    self.sinks.say(&sentence);
                }
                Decision::Continue
            }
            d => d,
        }
    }

    /// Keeps this step's gain check and a stop's evidence; the first stop becomes the
    /// run's (returns whether this is it).
    fn record_decision(&mut self, decision: &Decision, step: u64, energy_j: f64) -> bool {
        let gauge = self.policy_gauge(step);
        if gauge.is_some() {
            self.stop.gauge = gauge;
        }
        let Decision::Stop(r) = decision else {
            return false;
        };
        self.stop.last_evidence = Some(r.evidence.clone());
        if self.stop.stop.is_some() {
            return false;
        }
        self.stop.stop = Some(StopAt {
            step,
            reason: r.clone(),
            energy_j,
            savings: self.savings(step, energy_j),
        });
        true
    }

    /// Writes the eval line and sends the evaluation to every sink.
    fn send_eval(
        &mut self,
        at: &EvalAt,
        decision: &Decision,
        warnings: &[Warning],
    ) -> Result<(), Error> {
        let target = self.forecast_target(at.step);
        let forecast = at.refitted.then(|| self.curve.record(target)).flatten();
        let gauge = self.policy_gauge(at.step);
        let mut metrics = BTreeMap::new();
        metrics.insert(self.info.metric_name.clone(), finite(at.metric));
        if let Some(l) = self.clock.loss {
            metrics.insert("loss".to_string(), finite(l));
        }
        let line = StepRecord {
            kind: RecordKind::Eval,
            step: at.step,
            time_s: at.elapsed.as_secs_f64(),
            energy: energy_record(&at.report),
            metrics,
            forecast: forecast.clone(),
            decision: Some(eval_decision_record(decision, gauge.as_ref(), warnings)),
            meta: None,
        };
        self.clock.lines += 1;
        let latest = forecast.or_else(|| self.curve.record(target));
        let event = crate::sink::Eval {
            name: &self.info.name,
            planned_steps: self.info.planned,
            line: &line,
            energy: &at.report,
            power: at.power.as_ref(),
            elapsed: at.elapsed,
            metric_name: &self.info.metric_name,
            metric: at.metric,
            loss: self.clock.loss,
            best: self.best.best,
            forecast: latest.as_ref(),
            gain_per_kwh: self.display_gain_per_kwh(at.step, at.report.total.0),
            tau_per_kwh: self.tau_shown(),
            stop: self.stop.stop.as_ref().map(|s| &s.reason),
        };
        self.sinks.eval(&event)
    }

    /// τ shown at an evaluation: the latest check's, else the policy's fixed one.
    fn tau_shown(&self) -> Option<f64> {
        self.stop
            .latest_marginal()
            .map(|m| m.tau_per_kwh)
            .or(self.stop.fixed_tau())
    }
}
