//! [`MarginalGain`]: stop when the rest of the run is not expected to buy τ metric units
//! per kWh (or, in a sweep, to beat the sweep's best by enough to pay for its energy).
//!
//! At every evaluation after the warm-up (15 % of the planned energy and 5 evaluations) the
//! policy looks at several horizons between now and the end of the plan (1/8, 1/4, 1/2 and
//! all of what is left, or of the configured horizon). For each it asks the forecast for the *expected* improvement of the value there
//! over the best so far — `E[(Y − best)⁺]`, under the forecast's calibrated distribution, and
//! under the recent trend continued in a straight line; the larger counts — and weighs it
//! against τ × the energy that horizon costs at the recently measured energy per step. If no
//! horizon pays at `consecutive` checks in a row (2; or two or more spanning 5 % of the
//! planned energy), it stops. Maximising the expectation of
//! `best − τ·energy` is what the user asked for; the safety margin is in the distribution
//! itself, whose spreads come from the run's own backtests and whose good side carries an
//! allowance for late surprises.
//!
//! Three things the forecast cannot see are added here:
//!
//! * **Runs that have not started learning.** A curve still at its first value carries no
//!   evidence about when learning starts. Early on that is normal (a warm-up, a pre-learning
//!   phase that costs little), but the longer a run has sat there the less likely it is to
//!   start: the forecast's surprise allowance is scaled by `exp(−share / idle_decay)`, with
//!   `share` the share of the planned energy spent (`idle_decay` 0.15). A run has started
//!   learning once its best beats its first value by 4 noise levels and by 2 % of the room
//!   it had.
//! * **A known learning-rate schedule.** Horizons that cross a scheduled change
//!   ([`MarginalGainConfig::with_schedule`]) add the largest gain the run made within a tenth
//!   of the plan after an earlier change, or, before the first one, half of its gain so far: a
//!   plateau before a planned decay is not a converged run.
//! * **The sweep.** With earlier runs of the same sweep in the observation
//!   ([`Observation::sweep`]), a run is also stopped when its expected final best beats the
//!   sweep's best by less than τ × the energy it has left (or than 1 % of the best run's
//!   improvement, whichever is less: the sweep's best must survive), the expectation coming
//!   from the earlier runs whose curves looked most like this one (see
//!   [`crate::SweepReferences`]; at least 3 of them, and not before 1/27 ≈ 3.7 % of the
//!   planned energy). Without earlier runs the rule is the single-run rule.
//!
//! Every number above is a field of [`RuleTuning`], with what it was chosen on.
//!
//! **A learned prior (an option).** With [`MarginalGainConfig::with_predictor`] the
//! expectations come from a [`CurvePredictor`]'s distribution of the metric at each horizon
//! (e.g. `snuffer-prior`'s transformer, conditioned on the run's points, its plan and its
//! known schedule) instead of the fitted forecast; the idle allowance and the schedule jump
//! are then left to the predictor, which sees both. Without a plan, or when the predictor
//! cannot answer, the fitted forecast decides as before. With [`PredictorRole::Confirm`]
//! both are asked and the larger expected rate counts: the run stops only when neither
//! expects the rest to pay.
//!
//! Progress is judged by the estimated share of the planned energy spent (not by how many
//! evaluations were seen): a pre-learning phase that costs little is not evidence.

use crate::history::History;
use crate::sweep::SweepReferences;
use crate::{
    Decision, Evidence, GainCheck, MarginalEvidence, Observation, PolicyError, RuleTuning,
    StopPolicy, StopReason, SweepEvidence, Tau,
};
use snuffer_energy::{significant, JOULES_PER_KWH};
use snuffer_forecast::{Bounds, CurvePredictor, Direction, Forecast, PredictorQuery};
use std::sync::Arc;

/// How far ahead the policy looks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Horizon {
    /// To the planned end of the run (needs `planned_steps`; without it the policy looks as
    /// far ahead as the run has gone so far).
    PlannedEnd,
    /// A fixed number of steps ahead (capped at the planned end when known).
    Steps(u64),
}

/// When the policy may start stopping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Warmup {
    /// Not before this step.
    Steps(u64),
    /// Not before this share (0–1) of the planned energy is spent (estimated from the energy
    /// so far and the recent energy per step; equal to the share of planned steps at
    /// constant power). Without a plan, the policy waits for the minimum evaluations only.
    PlanFraction(f64),
}

/// Settings of [`MarginalGain`]; build with [`MarginalGainConfig::new`] and the `with_*`
/// methods, then validate with [`MarginalGain::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct MarginalGainConfig {
    /// The threshold.
    pub tau: Tau,
    /// How far ahead to look.
    pub horizon: Horizon,
    /// No stop before this (by default [`RuleTuning::warmup_fraction`] of the planned
    /// energy).
    pub warmup: Warmup,
    /// Steps at which the learning rate is scheduled to change (a step decay, the end of a
    /// warm-up), if known.
    pub schedule: Vec<u64>,
    /// The rule's constants: evaluations and agreeing checks before a stop, the idle
    /// decay, the horizons, the sweep rule's settings (see [`RuleTuning`]).
    pub tuning: RuleTuning,
    /// Which expectations of the gain ahead count (see [`Expectation`]).
    pub expectation: Expectation,
    /// A learned predictor to take the expectations from instead (see the module docs);
    /// `None`, the default, keeps the fitted forecast.
    pub predictor: Option<SharedPredictor>,
    /// Whether the predictor decides alone or must confirm the fitted forecast's stop.
    pub predictor_role: PredictorRole,
}

/// What a configured [`CurvePredictor`] does in the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PredictorRole {
    /// Its expectations replace the fitted forecast's (the default).
    #[default]
    Decide,
    /// Both are asked and the larger expected rate counts: the run stops only when neither
    /// the fitted forecast nor the predictor expects the rest to pay (the cautious
    /// combination).
    Confirm,
}

/// A [`CurvePredictor`] shared between policies (equal when it is the same one).
#[derive(Debug, Clone)]
pub struct SharedPredictor(pub Arc<dyn CurvePredictor>);

impl PartialEq for SharedPredictor {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::addr_eq(Arc::as_ptr(&self.0), Arc::as_ptr(&other.0))
    }
}

/// Which of the forecast's expectations of the gain ahead the rule weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expectation {
    /// The larger of the ensemble's and the recent trend's (a run goes on when either says
    /// the next stretch pays).
    Larger,
    /// The recent trend continued in a straight line, calibrated by the run's backtests (the
    /// default).
    #[default]
    Continuation,
    /// The ensemble's calibrated distribution.
    Ensemble,
}

/// [`RuleTuning::warmup_fraction`]'s default: 15 % of the planned energy.
pub const DEFAULT_WARMUP_FRACTION: f64 = RuleTuning::DEFAULT.warmup_fraction;
/// [`RuleTuning::min_evaluations`]'s default.
pub const DEFAULT_MIN_EVALUATIONS: usize = RuleTuning::DEFAULT.min_evaluations;
/// [`RuleTuning::agree_span_fraction`]'s default.
pub const DEFAULT_AGREE_SPAN_FRACTION: f64 = RuleTuning::DEFAULT.agree_span_fraction;
/// [`RuleTuning::consecutive`]'s default.
pub const DEFAULT_CONSECUTIVE: u32 = RuleTuning::DEFAULT.consecutive;
/// [`RuleTuning::idle_decay`]'s default.
pub const DEFAULT_IDLE_DECAY: f64 = RuleTuning::DEFAULT.idle_decay;
/// [`RuleTuning::min_references`]'s default.
pub const DEFAULT_MIN_REFERENCES: usize = RuleTuning::DEFAULT.min_references;
/// [`RuleTuning::best_loss_share`]'s default.
pub const DEFAULT_BEST_LOSS_SHARE: f64 = RuleTuning::DEFAULT.best_loss_share;
/// [`RuleTuning::sweep_warmup_fraction`]'s default: 1/27 of the planned energy.
pub const DEFAULT_SWEEP_WARMUP_FRACTION: f64 = RuleTuning::DEFAULT.sweep_warmup_fraction;

impl MarginalGainConfig {
    /// Defaults ([`RuleTuning::DEFAULT`]): horizon to the planned end, warm-up 15 % of the
    /// planned energy and 5 evaluations, 2 consecutive checks, idle decay 0.15 of the plan;
    /// in sweeps 3 references, 1 % of the best run's improvement, and a warm-up of 1/27
    /// (≈ 3.7 %) of the planned energy.
    pub fn new(tau: Tau) -> Self {
        MarginalGainConfig {
            tau,
            horizon: Horizon::PlannedEnd,
            warmup: Warmup::PlanFraction(RuleTuning::DEFAULT.warmup_fraction),
            schedule: Vec::new(),
            tuning: RuleTuning::DEFAULT,
            expectation: Expectation::Continuation,
            predictor: None,
            predictor_role: PredictorRole::Decide,
        }
    }
    /// Every constant of the rule at once, the warm-up included (it becomes
    /// `tuning.warmup_fraction` of the planned energy; call [`Self::with_warmup_steps`]
    /// after this for a warm-up in steps).
    pub fn with_tuning(mut self, tuning: RuleTuning) -> Self {
        self.warmup = Warmup::PlanFraction(tuning.warmup_fraction);
        self.tuning = tuning;
        self
    }
    /// Decide on a learned predictor's distribution (see the module docs).
    pub fn with_predictor(mut self, predictor: Arc<dyn CurvePredictor>) -> Self {
        self.predictor = Some(SharedPredictor(predictor));
        self
    }
    /// Whether the predictor decides alone (the default) or must confirm the fitted
    /// forecast's stop (see [`PredictorRole`]).
    pub fn with_predictor_role(mut self, role: PredictorRole) -> Self {
        self.predictor_role = role;
        self
    }
    /// Which expectations of the gain ahead count.
    pub fn with_expectation(mut self, expectation: Expectation) -> Self {
        self.expectation = expectation;
        self
    }
    /// Energy share over which two or more agreeing checks suffice.
    pub fn with_agree_span_fraction(mut self, fraction: f64) -> Self {
        self.tuning.agree_span_fraction = fraction;
        self
    }
    /// Share of the plan over which an idle run's allowance for a late start decays.
    pub fn with_idle_decay(mut self, share: f64) -> Self {
        self.tuning.idle_decay = share;
        self
    }
    /// Steps at which the learning rate is scheduled to change.
    pub fn with_schedule(mut self, steps: impl IntoIterator<Item = u64>) -> Self {
        self.schedule = steps.into_iter().collect();
        self.schedule.sort_unstable();
        self.schedule.dedup();
        self
    }
    /// Look a fixed number of steps ahead instead of to the planned end.
    pub fn with_horizon_steps(mut self, steps: u64) -> Self {
        self.horizon = Horizon::Steps(steps);
        self
    }
    /// Look to the planned end (the default).
    pub fn with_planned_end_horizon(mut self) -> Self {
        self.horizon = Horizon::PlannedEnd;
        self
    }
    /// No stop before `steps`.
    pub fn with_warmup_steps(mut self, steps: u64) -> Self {
        self.warmup = Warmup::Steps(steps);
        self
    }
    /// No stop before this share of the planned energy is spent.
    pub fn with_warmup_fraction(mut self, fraction: f64) -> Self {
        self.warmup = Warmup::PlanFraction(fraction);
        self.tuning.warmup_fraction = fraction;
        self
    }
    /// No stop before this many finite evaluations.
    pub fn with_min_evaluations(mut self, n: usize) -> Self {
        self.tuning.min_evaluations = n;
        self
    }
    /// How many consecutive checks must agree.
    pub fn with_consecutive(mut self, k: u32) -> Self {
        self.tuning.consecutive = k;
        self
    }
    /// Sweeps: fewest earlier runs the sweep rule needs.
    pub fn with_min_references(mut self, n: usize) -> Self {
        self.tuning.min_references = n;
        self
    }
    /// Sweeps: the most the sweep's best may be expected to lose by one stop, as a share of
    /// the best run's improvement.
    pub fn with_best_loss_share(mut self, share: f64) -> Self {
        self.tuning.best_loss_share = share;
        self
    }
    /// Sweeps: no stop by the sweep rule before this share of the planned energy.
    pub fn with_sweep_warmup_fraction(mut self, fraction: f64) -> Self {
        self.tuning.sweep_warmup_fraction = fraction;
        self
    }
}

/// Where gains are judged.
///
/// A loss-like metric (lower is better, good bound 0: MSE, a loss, perplexity, bits per
/// character) is judged by its ratios, as users judge it: a fall from 1.4 to 0.01 is a
/// 140-fold improvement, not "1.39 units". Under a relative τ its gains are therefore
/// natural-log gains, `ln(before / after)`, and τ is a share of the log-gain so far per share
/// of the energy so far. τ per kWh and τ as a price are in the metric's own units, so they
/// weigh gains in those units ([`GainScale::Linear`]), as the utility `best − τ·energy` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GainScale {
    /// Gains in the metric's own units, good direction.
    Linear,
    /// Gains as `ln(best / value)` of a positive lower-is-better metric.
    Log,
}

/// The smallest value a log-scale gain may expect the metric to fall to, as a share of the
/// best so far (a forecast that reaches the bound itself would be an infinite gain).
const LOG_FLOOR_SHARE: f64 = 1e-6;

impl GainScale {
    /// The gain of moving from the oriented value `from` to `to + extra` (oriented, higher
    /// is better; `extra` ≥ 0 is an expected gain over `to` in the metric's own units) on
    /// this scale: `to + extra − from` linearly; `ln(|from| / |to + extra|)` on the log
    /// scale, where oriented values are negated losses.
    ///
    /// ```
    /// use snuffer_policy::GainScale;
    /// assert_eq!(GainScale::Linear.gain(-4.0, -1.0, 0.5), 3.5);
    /// assert!((GainScale::Log.gain(-4.0, -1.0, 0.5) - 8f64.ln()).abs() < 1e-12);
    /// ```
    pub fn gain(self, from: f64, to: f64, extra: f64) -> f64 {
        match self {
            GainScale::Linear => to + extra - from,
            GainScale::Log => {
                let (before, after) = (-from, -(to + extra));
                (before / after.max(LOG_FLOOR_SHARE * -to)).ln()
            }
        }
    }
}

/// The numbers of the latest check, for logs and reasons.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Check {
    /// Step of the check.
    pub step: f64,
    /// Best value so far, in the metric's own units.
    pub best: f64,
    /// τ resolved to metric units per kWh.
    pub tau_per_kwh: f64,
    /// The largest expected gain per kWh over the horizons.
    pub best_rate_per_kwh: f64,
    /// The horizon (step) where that rate was found.
    pub horizon_step: f64,
    /// Expected gain over the best at that horizon (good direction).
    pub expected_gain: f64,
    /// Energy that horizon costs, kWh.
    pub horizon_kwh: f64,
    /// Estimated share of the planned energy spent.
    pub energy_share: f64,
    /// Share of the forecast's surprise allowance counted (below 1 for a run that has not
    /// started learning).
    pub surprise_share: f64,
    /// Consecutive agreeing checks so far.
    pub agreeing: u32,
    /// Whether gains, rates and τ are natural-log gains ([`GainScale::Log`]) rather than
    /// metric units.
    pub log_scale: bool,
}

/// The marginal-gain stop rule (see the module docs).
#[derive(Debug, Clone)]
pub struct MarginalGain {
    config: MarginalGainConfig,
    direction: Option<Direction>,
    history: History,
    forecast: Option<Forecast>,
    agreeing: u32,
    agree_start_share: f64,
    last_check: Option<Check>,
    planned_steps: Option<u64>,
}

impl MarginalGain {
    /// A policy with validated settings.
    ///
    /// ```
    /// use snuffer_policy::{MarginalGain, MarginalGainConfig, Tau};
    /// let policy = MarginalGain::new(
    ///     MarginalGainConfig::new(Tau::PerKwh(0.5)).with_warmup_fraction(0.2),
    /// )?;
    /// assert_eq!(policy.config().tuning.consecutive, snuffer_policy::DEFAULT_CONSECUTIVE);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: MarginalGainConfig) -> Result<Self, PolicyError> {
        config.tau.validate()?;
        let bad = |name: &str, value: String, expected: &str| {
            Err(PolicyError::InvalidSetting {
                name: name.to_string(),
                value,
                expected: expected.to_string(),
            })
        };
        if let Some((name, value, expected)) = config.tuning.invalid() {
            return bad(name, value.to_string(), expected);
        }
        if let Warmup::PlanFraction(f) = config.warmup {
            if !(0.0..=1.0).contains(&f) {
                return bad("warmup_fraction", f.to_string(), "a share in [0, 1]");
            }
        }
        if config.horizon == Horizon::Steps(0) {
            return bad("horizon_steps", "0".into(), "at least one step");
        }
        Ok(MarginalGain {
            config,
            direction: None,
            history: History::default(),
            forecast: None,
            agreeing: 0,
            agree_start_share: 0.0,
            last_check: None,
            planned_steps: None,
        })
    }

    /// The settings.
    pub fn config(&self) -> &MarginalGainConfig {
        &self.config
    }

    /// The numbers of the latest full check (after the warm-up, with a forecast).
    pub fn last_check(&self) -> Option<&Check> {
        self.last_check.as_ref()
    }

    /// A check as typed evidence (what a stop carries and [`StopPolicy::gain_check`]
    /// returns).
    fn evidence(&self, c: &Check) -> MarginalEvidence {
        MarginalEvidence {
            step: c.step,
            best: c.best,
            tau_per_kwh: c.tau_per_kwh,
            gain_rate_per_kwh: c.best_rate_per_kwh,
            expected_gain: c.expected_gain,
            horizon_step: c.horizon_step,
            horizon_kwh: c.horizon_kwh,
            energy_share: c.energy_share,
            surprise_share: c.surprise_share,
            consecutive: c.agreeing,
            log_scale: c.log_scale,
        }
    }

    /// Estimated share of the planned energy spent at `step` with `energy_j` so far.
    /// ([`snuffer_energy::StepEnergy::full_run`], the estimate the run's stop line uses).
    fn energy_share(&self, step: f64, energy_j: f64, planned: Option<f64>) -> Option<f64> {
        let planned = planned?;
        if step >= planned {
            return Some(1.0);
        }
        let full = self.history.energy.full_run(step, energy_j, planned)?;
        (full.full_j() > 0.0).then(|| full.spent_share())
    }

    fn warmed_up(&self, step: f64, energy_j: f64, planned: Option<f64>) -> bool {
        if self.history.points.len() < self.config.tuning.min_evaluations {
            return false;
        }
        let share = self.energy_share(step, energy_j, planned);
        match self.config.warmup {
            Warmup::Steps(s) => step >= s as f64,
            Warmup::PlanFraction(f) => match share {
                Some(share) => share >= f,
                None => planned.is_none(),
            },
        }
    }

    /// Whether the run has started learning: its best beats its first value by more than
    /// the noise and by a sliver of the room it had (see [`RuleTuning::learning_share`]).
    fn has_learned(&self, forecast: &Forecast) -> bool {
        let (Some(best), Some(first)) = (self.history.best, self.history.first()) else {
            return false;
        };
        if !self
            .history
            .has_learned(self.config.tuning.learning_noise_levels)
        {
            return false;
        }
        let room = forecast
            .good_side_bound()
            .map(|b| (forecast.direction().orient(b) - first).abs())
            .unwrap_or(first.abs());
        best - first > self.config.tuning.learning_share * room
    }

    /// Largest gain (oriented) the run made within [`RuleTuning::schedule_jump_window`] of
    /// the plan after an earlier scheduled change, if one has passed.
    fn schedule_jump(&self, step: f64, planned: f64) -> Option<f64> {
        let window = self.config.tuning.schedule_jump_window * planned;
        self.config
            .schedule
            .iter()
            .map(|&c| c as f64)
            .filter(|&c| c < step)
            .filter_map(|c| {
                let before = self
                    .history
                    .points
                    .iter()
                    .filter(|p| p.step <= c)
                    .map(|p| p.value)
                    .reduce(f64::max)?;
                let after = self
                    .history
                    .points
                    .iter()
                    .filter(|p| p.step > c && p.step <= c + window)
                    .map(|p| p.value)
                    .reduce(f64::max)?;
                Some((after - before).max(0.0))
            })
            .reduce(f64::max)
    }

    /// The check proper; `None` when it cannot be made (no forecast, no energy rate), which
    /// keeps the run going.
    fn check(&self, step: f64, energy_j: f64, planned: Option<f64>) -> Option<Check> {
        let forecast = self.forecast.as_ref()?;
        let best = self.history.best?;
        let first = self.history.first()?;
        let rate = self.history.joules_per_step(step, energy_j)?;
        if rate <= 0.0 {
            return None;
        }
        let end = match (self.config.horizon, planned) {
            (Horizon::PlannedEnd, Some(p)) => p,
            (Horizon::PlannedEnd, None) => 2.0 * step,
            (Horizon::Steps(n), Some(p)) => (step + n as f64).min(p),
            (Horizon::Steps(n), None) => step + n as f64,
        };
        if end <= step {
            return None;
        }
        let direction = forecast.direction();
        let energy_kwh = energy_j / JOULES_PER_KWH;
        let scale = self.gain_scale(forecast);
        let tau = self
            .config
            .tau
            .per_kwh(scale.gain(first, best, 0.0), energy_kwh);
        let share = self.energy_share(step, energy_j, planned);
        let surprise_share = if self.has_learned(forecast) {
            1.0
        } else {
            (-share.unwrap_or(0.0) / self.config.tuning.idle_decay).exp()
        };
        let scaled;
        let fc = if surprise_share < 1.0 {
            scaled = forecast.with_surprise_share(surprise_share);
            &scaled
        } else {
            forecast
        };
        let best_metric = direction.orient(best);
        let mut predicted_check = None;
        if let Some(learned) = self.predicted_gains(forecast, step, end, planned) {
            // `Predicted::expected_excess` takes the oriented best (a loss's best negated).
            let gain_at = |h: f64| -> f64 {
                let g = learned
                    .iter()
                    .find(|(s, _)| *s == h)
                    .map_or(f64::NAN, |(_, p)| p.expected_excess(direction, best));
                scale.gain(best, best, g)
            };
            let (best_rate, horizon_step, gain, kwh) = best_expected_rate(
                &gain_at,
                step,
                end,
                rate,
                &self.config.tuning.horizon_shares,
            )?;
            predicted_check = Some(Check {
                step,
                best: best_metric,
                tau_per_kwh: tau,
                best_rate_per_kwh: best_rate,
                horizon_step,
                expected_gain: gain,
                horizon_kwh: kwh,
                energy_share: share.unwrap_or(f64::NAN),
                surprise_share: 1.0,
                agreeing: self.agreeing,
                log_scale: scale == GainScale::Log,
            });
            if self.config.predictor_role == PredictorRole::Decide {
                return predicted_check;
            }
        }
        // The next scheduled change, or the last one while its effect is still unfolding
        // (within `schedule_jump_window` of the plan after it): either way the curve ahead
        // is not the one the forecast extrapolates.
        let window = planned.map_or(0.0, |p| self.config.tuning.schedule_jump_window * p);
        let unfolding = self
            .config
            .schedule
            .iter()
            .map(|&c| c as f64)
            .any(|c| c <= step && step < c + window);
        let next_change = if unfolding {
            Some(step)
        } else {
            self.config
                .schedule
                .iter()
                .map(|&c| c as f64)
                .find(|&c| c > step)
        };
        // Every horizon lies past `step`, so an unfolding change counts at all of them.
        let change = next_change.map(|c| {
            let jump = planned
                .and_then(|p| self.schedule_jump(step, p))
                .unwrap_or(self.config.tuning.schedule_prior_share * (best - first).max(0.0));
            (c, jump)
        });
        let gain_at = |h: f64| -> f64 {
            let g = match self.config.expectation {
                Expectation::Larger => fc
                    .expected_excess(h, best_metric)
                    .max(fc.continuation_excess(h, best_metric)),
                Expectation::Continuation => fc.continuation_excess(h, best_metric),
                Expectation::Ensemble => fc.expected_excess(h, best_metric),
            };
            let g = match change {
                Some((c, jump)) if h > c => g + jump,
                _ => g,
            };
            scale.gain(best, best, g)
        };
        let (best_rate, horizon_step, gain, kwh) = best_expected_rate(
            &gain_at,
            step,
            end,
            rate,
            &self.config.tuning.horizon_shares,
        )?;
        let fitted = Check {
            step,
            best: best_metric,
            tau_per_kwh: tau,
            best_rate_per_kwh: best_rate,
            horizon_step,
            expected_gain: gain,
            horizon_kwh: kwh,
            energy_share: share.unwrap_or(f64::NAN),
            surprise_share,
            agreeing: self.agreeing,
            log_scale: scale == GainScale::Log,
        };
        // With the predictor confirming, the run goes on while either expects it to pay:
        // the check with the larger rate counts.
        Some(match predicted_check {
            Some(p) if p.best_rate_per_kwh > fitted.best_rate_per_kwh => p,
            _ => fitted,
        })
    }

    /// The learned predictor's distributions at the checked horizons between `step` and
    /// `end`, when one is configured, the plan is known and it answers.
    fn predicted_gains(
        &self,
        forecast: &Forecast,
        step: f64,
        end: f64,
        planned: Option<f64>,
    ) -> Option<Vec<(f64, snuffer_forecast::Predicted)>> {
        let predictor = &self.config.predictor.as_ref()?.0;
        let planned = planned.filter(|&p| p > 0.0)?;
        let direction = forecast.direction();
        let (steps, values): (Vec<f64>, Vec<f64>) = self
            .history
            .points
            .iter()
            .map(|p| (p.step, direction.orient(p.value)))
            .unzip();
        let horizons: Vec<f64> = self
            .config
            .tuning
            .horizon_shares
            .iter()
            .map(|s| step + s * (end - step))
            .collect();
        let good = forecast.good_side_bound();
        let bounds = match direction {
            Direction::HigherIsBetter => Bounds {
                lower: None,
                upper: good,
            },
            Direction::LowerIsBetter => Bounds {
                lower: good,
                upper: None,
            },
        };
        let schedule: Vec<f64> = self.config.schedule.iter().map(|&c| c as f64).collect();
        let predicted = predictor.predict(&PredictorQuery {
            steps: &steps,
            values: &values,
            direction,
            bounds,
            planned_steps: planned,
            schedule: &schedule,
            horizons: &horizons,
        })?;
        (predicted.len() == horizons.len()).then(|| horizons.into_iter().zip(predicted).collect())
    }

    /// The scale gains are judged on (see [`GainScale`]): logarithmic for a lower-is-better
    /// metric whose good bound is 0 with positive values, under a relative τ.
    fn gain_scale(&self, forecast: &Forecast) -> GainScale {
        // Every oriented value below 0 (every raw value positive) is the best below 0: read
        // from the running best, not a scan of every point at every evaluation.
        let positive = self.history.best.is_none_or(|b| b < 0.0);
        let log = matches!(self.config.tau, Tau::Relative(_))
            && forecast.direction() == Direction::LowerIsBetter
            && forecast.good_side_bound() == Some(0.0)
            && positive;
        if log {
            GainScale::Log
        } else {
            GainScale::Linear
        }
    }

    /// The sweep rule: `Some(evidence)` when the run's expected final best beats the sweep's
    /// best by less than its remaining energy is worth (see the module docs).
    fn sweep_check(
        &self,
        refs: &SweepReferences,
        step: f64,
        energy_j: f64,
        planned: Option<f64>,
        tau: f64,
    ) -> Option<SweepEvidence> {
        let planned = planned.filter(|&p| p > 0.0)?;
        // Runs of a sweep are aligned by the share of their planned steps, which every run
        // knows from its start (at a steady power it is the share of the planned energy).
        let share = step / planned;
        if share < self.config.tuning.sweep_warmup_fraction || share >= 1.0 {
            return None;
        }
        let incumbent = refs.incumbent()?;
        let rate = self.history.joules_per_step(step, energy_j)?;
        let mut running = f64::NEG_INFINITY;
        let (shares, bests): (Vec<f64>, Vec<f64>) = self
            .history
            .points
            .iter()
            .map(|p| {
                running = running.max(p.value);
                (p.step / planned, running)
            })
            .unzip();
        let best = *bests.last()?;
        let outlook = refs.outlook_compared_at(
            &shares,
            &bests,
            self.history.noise_sd(),
            self.config.tuning.min_references,
            &self.config.tuning.prefix_shares,
        )?;
        let base = best.max(incumbent);
        let excess = outlook.expected_excess(base);
        let remaining_kwh = rate * (planned - step).max(0.0) / JOULES_PER_KWH;
        let worth = tau * remaining_kwh;
        let tolerance = self.config.tuning.best_loss_share * refs.incumbent_improvement()?;
        let threshold = worth.min(tolerance);
        (excess < threshold).then_some(SweepEvidence {
            step,
            best,
            incumbent,
            expected_final: best + outlook.mean_gain,
            expected_excess: excess,
            threshold,
            remaining_kwh,
            tau_per_kwh: tau,
            references: outlook.references,
            energy_share: share,
        })
    }
}

/// The largest expected gain per kWh over the checked horizons between `step` and `end`:
/// `(rate per kWh, horizon step, gain, horizon kWh)`. `gain(h)` is the expected gain over
/// the best so far at step `h`; its running maximum over the horizons stands for the gain of
/// the best so far by then. `None` when a gain is not finite (an unusable forecast cannot
/// justify a stop).
pub(crate) fn best_expected_rate(
    gain: &dyn Fn(f64) -> f64,
    step: f64,
    end: f64,
    joules_per_step: f64,
    shares: &[f64],
) -> Option<(f64, f64, f64, f64)> {
    let mut running: f64 = 0.0;
    let mut top: Option<(f64, f64, f64, f64)> = None;
    for &share in shares {
        let h = step + share * (end - step);
        let g = gain(h);
        if !g.is_finite() {
            return None;
        }
        running = running.max(g);
        let kwh = joules_per_step * (h - step) / JOULES_PER_KWH;
        let r = running / kwh;
        if top.is_none_or(|t| r > t.0) {
            top = Some((r, h, running, kwh));
        }
    }
    top
}

impl StopPolicy for MarginalGain {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        self.direction = Some(obs.direction);
        self.planned_steps = obs.planned_steps;
        if let Some(f) = obs.forecast {
            self.forecast = Some(f.clone());
        }
        let Some(metric) = obs.metric else {
            return Decision::Continue;
        };
        let step = obs.step as f64;
        let energy_j = obs.energy.0;
        self.history.push(step, energy_j, metric, obs.direction);
        if !metric.is_finite() {
            return Decision::Continue;
        }
        let planned = obs.planned_steps.map(|p| p as f64);
        // The sweep rule has its own warm-up; it needs no forecast.
        if let (Some(refs), Some(best), Some(first)) =
            (obs.sweep, self.history.best, self.history.first())
        {
            let tau = self
                .config
                .tau
                .per_kwh(best - first, energy_j / JOULES_PER_KWH);
            if let Some(e) = self.sweep_check(refs, step, energy_j, planned, tau) {
                let dir = obs.direction;
                return Decision::Stop(StopReason::new(
                    format!(
                        "at step {} the sweep's earlier runs most like this one ({} of them) expect its best to end near {}; \
                         beating the sweep's best {} is worth {} in expectation, less than {} \
                         ({} left at τ = {} per kWh, or the sweep's tolerance for losing its best); {} of the planned energy spent",
                        e.step,
                        e.references,
                        significant(dir.orient(e.expected_final), 4),
                        significant(dir.orient(e.incumbent), 4),
                        significant(e.expected_excess, 3),
                        significant(e.threshold, 3),
                        snuffer_energy::Joules::from_kwh(e.remaining_kwh),
                        significant(e.tau_per_kwh, 4),
                        snuffer_energy::percent(
                            self.energy_share(step, energy_j, planned)
                                .unwrap_or(e.energy_share)
                        )
                    ),
                    Evidence::Sweep(e),
                ));
            }
        }
        if !self.warmed_up(step, energy_j, planned) {
            self.agreeing = 0;
            return Decision::Continue;
        }
        let Some(mut check) = self.check(step, energy_j, planned) else {
            self.agreeing = 0;
            return Decision::Continue;
        };
        if check.best_rate_per_kwh < check.tau_per_kwh {
            self.agreeing += 1;
            if self.agreeing == 1 {
                self.agree_start_share = check.energy_share;
            }
        } else {
            self.agreeing = 0;
        }
        check.agreeing = self.agreeing;
        self.last_check = Some(check);
        let spanned = self.agreeing >= 2
            && check.energy_share - self.agree_start_share
                >= self.config.tuning.agree_span_fraction;
        if self.agreeing < self.config.tuning.consecutive && !spanned {
            return Decision::Continue;
        }
        let c = check;
        let in_a_row = match c.agreeing {
            1 => "1 check in a row".to_string(),
            n => format!("{n} checks in a row"),
        };
        if c.log_scale {
            // The forecast's value at the horizon is best · e^(−gain).
            let loss = c.best;
            return Decision::Stop(StopReason::new(
                format!(
                    "at step {} the forecast expects the best {} to fall to {} by step {:.0} \
                     (a log-gain of {}): {} per kWh for {}, the most of any horizon, below τ = {} per kWh \
                     (gains of a loss judged as log-ratios; {}; \
                     {} of the planned energy spent)",
                    c.step,
                    significant(loss, 4),
                    significant(loss * (-c.expected_gain).exp(), 4),
                    c.horizon_step,
                    significant(c.expected_gain, 3),
                    significant(c.best_rate_per_kwh, 4),
                    snuffer_energy::Joules::from_kwh(c.horizon_kwh),
                    significant(c.tau_per_kwh, 4),
                    in_a_row,
                    snuffer_energy::percent(c.energy_share)
                ),
                Evidence::MarginalGain(self.evidence(&c)),
            ));
        }
        Decision::Stop(StopReason::new(
            format!(
                "at step {} the forecast expects a gain of {} over the best {} by step {:.0}: {} per kWh for {}, \
                 the most of any horizon, below τ = {} per kWh ({}; {} of the planned energy spent)",
                c.step,
                significant(c.expected_gain, 4),
                significant(c.best, 4),
                c.horizon_step,
                significant(c.best_rate_per_kwh, 4),
                snuffer_energy::Joules::from_kwh(c.horizon_kwh),
                significant(c.tau_per_kwh, 4),
                in_a_row,
                snuffer_energy::percent(c.energy_share)
            ),
            Evidence::MarginalGain(self.evidence(&c)),
        ))
    }

    fn name(&self) -> &str {
        "marginal_gain"
    }

    fn gain_check(&self) -> Option<GainCheck> {
        self.last_check.as_ref().map(|c| self.evidence(c).into())
    }

    fn tau(&self) -> Option<Tau> {
        Some(self.config.tau)
    }

    fn reset(&mut self) {
        self.history.clear();
        self.forecast = None;
        self.agreeing = 0;
        self.last_check = None;
        self.direction = None;
        self.planned_steps = None;
    }

    fn note(&self) -> Option<String> {
        let n = self.history.points.len();
        if n < self.config.tuning.min_evaluations {
            return Some(format!(
                "never stopped early: {n} finite evaluation(s), fewer than the warm-up of {}",
                self.config.tuning.min_evaluations
            ));
        }
        if let (Warmup::Steps(s), Some(p)) = (self.config.warmup, self.planned_steps) {
            if p < s {
                return Some(format!(
                    "never stopped early: the plan ({p} steps) is shorter than the warm-up of {s} steps"
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::obs;
    use snuffer_forecast::{ForecastConfig, Forecaster};
    use Direction::HigherIsBetter as Up;

    /// Replays `metrics` (one evaluation per step, `kwh_per_step` each) with a forecast refit
    /// at every step; returns the index of the stop.
    fn run(
        policy: &mut MarginalGain,
        metrics: &[f64],
        kwh_per_step: f64,
        forecasts: bool,
    ) -> Option<usize> {
        let mut f = Forecaster::new(ForecastConfig::new(Up));
        let n = metrics.len() as u64;
        let steps: Vec<f64> = (1..=metrics.len()).map(|s| s as f64).collect();
        (0..metrics.len()).find(|&i| {
            let fc = if forecasts {
                f.fit(&steps[..=i], &metrics[..=i]).ok()
            } else {
                None
            };
            let mut o = obs(
                i as u64 + 1,
                metrics[i],
                kwh_per_step * (i + 1) as f64,
                n,
                Up,
            );
            o.forecast = fc.as_ref();
            policy.observe(&o).is_stop()
        })
    }

    fn saturating(n: usize) -> Vec<f64> {
        (1..=n)
            .map(|t| 0.8 * (1.0 - (-(t as f64) / 6.0).exp()))
            .collect()
    }

    /// Known answer with an exact forecast: for M = m∞(1 − e^(−t/k)) at c kWh per step the
    /// optimum of M − τE is t* = k ln(m∞ / (k τ c)); with the exact gain as the expected
    /// gain, the rule's first agreeing check lies within a few percent of the plan before it
    /// (the horizons average the slope ahead, so the rule fires slightly early, never late).
    #[test]
    fn exact_forecast_stops_at_the_analytic_optimum() {
        let (m_inf, n, c) = (0.9, 200.0, 0.01);
        for (k, t_star) in [(20.0f64, 60.0f64), (10.0, 40.0), (30.0, 75.0), (5.0, 30.0)] {
            let tau = m_inf / (k * c) * (-t_star / k).exp();
            let curve = |t: f64| m_inf * (1.0 - (-t / k).exp());
            let joules_per_step = c * JOULES_PER_KWH;
            let first = (1..200)
                .map(|t| t as f64)
                .find(|&t| {
                    let gain = |h: f64| curve(h) - curve(t);
                    let (rate, ..) = best_expected_rate(
                        &gain,
                        t,
                        n,
                        joules_per_step,
                        &RuleTuning::DEFAULT.horizon_shares,
                    )
                    .unwrap();
                    rate < tau
                })
                .expect("stops");
            let off = (first - t_star) / n;
            assert!(
                (-0.05..=0.0).contains(&off),
                "k={k}: first agreeing check {first}, t* = {t_star}"
            );
        }
    }

    /// A predictor that knows the curve: a point mass at its value at each horizon.
    #[derive(Debug)]
    struct KnownCurve {
        m_inf: f64,
        k: f64,
    }

    impl CurvePredictor for KnownCurve {
        fn name(&self) -> &str {
            "known"
        }
        fn predict(&self, q: &PredictorQuery<'_>) -> Option<Vec<snuffer_forecast::Predicted>> {
            q.horizons
                .iter()
                .map(|h| {
                    snuffer_forecast::Predicted::new(
                        vec![self.m_inf * (1.0 - (-h / self.k).exp())],
                        vec![1.0],
                    )
                })
                .collect()
        }
    }

    /// The same known answer through a predictor: the rule decides on its distribution
    /// (not the fitted forecast) and stops within 5 % of the plan before the optimum.
    #[test]
    fn a_predictor_that_knows_the_curve_stops_at_the_analytic_optimum() {
        let (m_inf, n, c) = (0.9, 200usize, 0.01);
        for (k, t_star) in [(20.0f64, 60.0f64), (10.0, 40.0), (30.0, 75.0)] {
            let tau = m_inf / (k * c) * (-t_star / k).exp();
            let metrics: Vec<f64> = (1..=n)
                .map(|t| m_inf * (1.0 - (-(t as f64) / k).exp()))
                .collect();
            let mut p = MarginalGain::new(
                MarginalGainConfig::new(Tau::PerKwh(tau))
                    .with_warmup_fraction(0.0)
                    .with_min_evaluations(3)
                    .with_consecutive(1)
                    .with_predictor(Arc::new(KnownCurve { m_inf, k })),
            )
            .unwrap();
            let stop = run(&mut p, &metrics, c, true).expect("stops") as f64 + 1.0;
            let off = (stop - t_star) / n as f64;
            assert!(
                (-0.05..=0.0).contains(&off),
                "k={k}: stop {stop}, t* = {t_star}"
            );
            // The check came from the predictor (no idle scaling of a forecast).
            assert!(p.last_check().is_some_and(|c| c.surprise_share == 1.0));
        }
    }

    /// A predictor that expects nothing more stops the run early; one that expects a late
    /// jump keeps it going through the same flat stretch.
    #[test]
    fn the_predictor_decides_the_plateau() {
        let flat: Vec<f64> = (0..100)
            .map(|t| 0.5 + 0.001 * f64::from(t).min(10.0))
            .collect();
        let stop_with = |jump: f64| {
            let mut p = MarginalGain::new(
                MarginalGainConfig::new(Tau::PerKwh(0.5)).with_predictor(Arc::new(Jump(jump))),
            )
            .unwrap();
            run(&mut p, &flat, 0.01, true)
        };
        assert!(stop_with(0.0).is_some_and(|s| s < 40));
        assert_eq!(stop_with(0.5), None);
    }

    /// A predictor that expects, at every horizon, the last value or the last value plus `.0`
    /// (in the metric's own units) with equal chance.
    #[derive(Debug)]
    struct Jump(f64);

    impl CurvePredictor for Jump {
        fn name(&self) -> &str {
            "jump"
        }
        fn predict(&self, q: &PredictorQuery<'_>) -> Option<Vec<snuffer_forecast::Predicted>> {
            let last = *q.values.last()?;
            q.horizons
                .iter()
                .map(|_| {
                    snuffer_forecast::Predicted::new(vec![last, last + self.0], vec![0.5, 0.5])
                })
                .collect()
        }
    }

    /// With the predictor confirming, a stop needs both: the plateau stops no earlier than
    /// the fitted rule alone, and not at all while the predictor expects a jump.
    #[test]
    fn a_confirming_predictor_stops_only_with_the_fitted_forecast() {
        let flat: Vec<f64> = (0..100)
            .map(|t| 0.5 + 0.001 * f64::from(t).min(10.0))
            .collect();
        let fitted = {
            let mut p = MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(0.5))).unwrap();
            run(&mut p, &flat, 0.01, true)
        };
        let confirmed = |jump: f64| {
            let mut p = MarginalGain::new(
                MarginalGainConfig::new(Tau::PerKwh(0.5))
                    .with_predictor(Arc::new(Jump(jump)))
                    .with_predictor_role(PredictorRole::Confirm),
            )
            .unwrap();
            run(&mut p, &flat, 0.01, true)
        };
        let Some(f) = fitted else {
            panic!("the fitted rule stops a plateau this flat")
        };
        assert!(
            confirmed(0.0).is_some_and(|s| s >= f),
            "{:?} vs {f}",
            confirmed(0.0)
        );
        assert_eq!(confirmed(0.5), None);
    }

    /// The same for a loss (lower is better): the predictor's atoms are losses, the best is
    /// compared in the good direction.
    #[test]
    fn the_predictor_decides_a_loss_plateau() {
        let loss: Vec<f64> = (0..100)
            .map(|t| 1.0 - 0.001 * f64::from(t).min(10.0))
            .collect();
        // A drop of the loss is a jump of −drop in its own units.
        let stop_with = |drop: f64| {
            let mut p = MarginalGain::new(
                MarginalGainConfig::new(Tau::PerKwh(0.5)).with_predictor(Arc::new(Jump(-drop))),
            )
            .unwrap();
            let mut f = Forecaster::new(ForecastConfig::new(Direction::LowerIsBetter));
            let steps: Vec<f64> = (1..=loss.len()).map(|s| s as f64).collect();
            (0..loss.len()).find(|&i| {
                let fc = f.fit(&steps[..=i], &loss[..=i]).ok();
                let mut o = obs(
                    i as u64 + 1,
                    loss[i],
                    0.01 * (i + 1) as f64,
                    100,
                    Direction::LowerIsBetter,
                );
                o.forecast = fc.as_ref();
                p.observe(&o).is_stop()
            })
        };
        assert!(stop_with(0.0).is_some_and(|s| s < 40));
        assert_eq!(stop_with(0.5), None);
    }

    #[test]
    fn invalid_settings_table() {
        let base = || MarginalGainConfig::new(Tau::PerKwh(0.1));
        let rows: &[(&str, MarginalGainConfig)] = &[
            ("negative tau", MarginalGainConfig::new(Tau::PerKwh(-0.1))),
            ("warm-up above 1", base().with_warmup_fraction(1.5)),
            ("idle decay 0", base().with_idle_decay(0.0)),
            ("idle decay NaN", base().with_idle_decay(f64::NAN)),
            ("best loss share 2", base().with_best_loss_share(2.0)),
            ("sweep warm-up -1", base().with_sweep_warmup_fraction(-1.0)),
            ("zero horizon", base().with_horizon_steps(0)),
            ("zero consecutive", base().with_consecutive(0)),
        ];
        for (why, cfg) in rows {
            assert!(MarginalGain::new(cfg.clone()).is_err(), "{why}");
        }
        assert!(MarginalGain::new(base()).is_ok());
    }

    #[test]
    fn a_converged_curve_stops_with_the_numbers() {
        let mut p = MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(0.05))).unwrap();
        let i = run(&mut p, &saturating(100), 0.01, true).expect("stops");
        assert!((15..60).contains(&i), "stopped at {i}");
        let c = p.last_check().copied().unwrap();
        assert!(
            c.best_rate_per_kwh < c.tau_per_kwh && c.agreeing == DEFAULT_CONSECUTIVE,
            "{c:?}"
        );
        assert!(c.expected_gain >= 0.0 && c.surprise_share == 1.0, "{c:?}");
        assert!(c.energy_share >= DEFAULT_WARMUP_FRACTION);
    }

    #[test]
    fn without_a_forecast_uncertainty_keeps_the_run_alive() {
        let mut p = MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(1e9))).unwrap();
        assert_eq!(run(&mut p, &saturating(50), 1.0, false), None);
    }

    #[test]
    fn warm_up_and_consecutive_checks_delay_the_stop() {
        // A flat curve: every check after the warm-up agrees, with any τ > 0.
        let flat = vec![0.3; 40];
        let table: &[(&str, MarginalGainConfig, usize)] = &[
            (
                "10 % warm-up, 1 check",
                MarginalGainConfig::new(Tau::PerKwh(1.0))
                    .with_warmup_fraction(0.1)
                    .with_consecutive(1),
                4,
            ),
            (
                "50 % warm-up, 1 check",
                MarginalGainConfig::new(Tau::PerKwh(1.0))
                    .with_warmup_fraction(0.5)
                    .with_consecutive(1),
                19,
            ),
            (
                "50 % warm-up, 3 checks",
                MarginalGainConfig::new(Tau::PerKwh(1.0))
                    .with_warmup_fraction(0.5)
                    .with_consecutive(3),
                21,
            ),
            (
                "warm-up in steps",
                MarginalGainConfig::new(Tau::PerKwh(1.0))
                    .with_warmup_steps(30)
                    .with_consecutive(1),
                29,
            ),
            (
                "two agreeing checks spanning 5 % of the plan suffice",
                MarginalGainConfig::new(Tau::PerKwh(1.0))
                    .with_warmup_fraction(0.5)
                    .with_consecutive(5)
                    .with_agree_span_fraction(0.049),
                21,
            ),
            (
                "min evaluations",
                MarginalGainConfig::new(Tau::PerKwh(1.0))
                    .with_warmup_fraction(0.0)
                    .with_min_evaluations(8)
                    .with_consecutive(1),
                7,
            ),
        ];
        for (why, cfg, want) in table {
            let mut p = MarginalGain::new(cfg.clone()).unwrap();
            assert_eq!(run(&mut p, &flat, 1.0, true), Some(*want), "{why}");
        }
    }

    #[test]
    fn an_improving_run_is_not_stopped() {
        // Linear improvement worth 0.01 per kWh, τ = 0.001 per kWh.
        let lin: Vec<f64> = (1..=60).map(|t| 0.01 * t as f64).collect();
        let mut p = MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(0.001))).unwrap();
        assert_eq!(run(&mut p, &lin, 1.0, true), None);
    }

    #[test]
    fn short_runs_say_why_they_never_stopped() {
        let mut p = MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(1.0))).unwrap();
        assert_eq!(run(&mut p, &[0.3, 0.3, 0.3], 1.0, true), None);
        let note = p.note().expect("a note");
        assert!(note.contains("fewer than the warm-up"), "{note}");
        p.reset();
        assert!(p.last_check().is_none());
    }

    #[test]
    fn relative_and_price_tau_resolve() {
        let mut p = MarginalGain::new(
            MarginalGainConfig::new(Tau::Price {
                eur_per_kwh: 0.2,
                eur_per_metric_unit: 4.0,
            })
            .with_consecutive(1),
        )
        .unwrap();
        assert!(run(&mut p, &saturating(80), 0.05, true).is_some());
        assert!((p.last_check().unwrap().tau_per_kwh - 0.05).abs() < 1e-12);
        let mut r = MarginalGain::new(MarginalGainConfig::new(Tau::Relative(0.5))).unwrap();
        assert!(run(&mut r, &saturating(80), 0.05, true).is_some());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::policy::test_support::obs;
    use proptest::prelude::*;
    use snuffer_forecast::{ForecastConfig, Forecaster, Method};

    proptest! {
        #[test]
        fn arbitrary_observations_never_panic(
            pts in proptest::collection::vec(
                (0u64..1000, prop_oneof![Just(f64::NAN), Just(f64::INFINITY), -5.0f64..5.0], -1.0f64..100.0),
                1..25),
            planned in 0u64..2000,
            tau in 0.0f64..10.0,
        ) {
            let mut p = MarginalGain::new(
                MarginalGainConfig::new(Tau::PerKwh(tau)).with_warmup_fraction(0.0).with_min_evaluations(1).with_consecutive(1),
            ).unwrap();
            let mut f = Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter).with_method(Method::LastValue));
            for (step, metric, kwh) in pts {
                let fc = f.fit(&[step as f64], &[metric]).ok();
                let mut o = obs(step, metric, kwh, planned, Direction::HigherIsBetter);
                o.forecast = fc.as_ref();
                if let Decision::Stop(r) = p.observe(&o) {
                    prop_assert_eq!(r.policy, "marginal_gain");
                }
            }
        }
    }
}
