//! [`MarginalGain`]: stop when even an optimistic forecast says the rest of the run will
//! not buy τ metric units per kWh.
//!
//! At every evaluation after the warm-up the policy looks at several horizons between now
//! and the end of the plan (1/8, 1/4, 1/2 and all of what is left, or of the configured
//! horizon). For each it takes the optimistic bound of the forecast — the upper end of the
//! central interval at the configured level, in the metric's good direction, maximised
//! over the horizons up to it so that it bounds the *best-so-far* — subtracts the best value
//! reached so far, and divides by the energy the horizon will cost at the recently measured
//! energy per step. If the best of these rates is below τ at `consecutive` checks in a row,
//! it stops. Wide intervals mean a large optimistic gain, so uncertainty keeps a run alive.
//!
//! Progress is judged by the estimated share of the planned energy spent (not by how many
//! evaluations were seen): a pre-learning phase that costs little is not evidence.

use crate::history::History;
use crate::{Decision, Observation, PolicyError, StopPolicy, StopReason, Tau};
use snuffer_energy::JOULES_PER_KWH;
use snuffer_forecast::{Direction, Forecast};

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
    /// Probability of the central interval whose upper end is the optimistic bound (0–1).
    pub level: f64,
    /// How far ahead to look.
    pub horizon: Horizon,
    /// No stop before this.
    pub warmup: Warmup,
    /// No stop before this many finite evaluations.
    pub min_evaluations: usize,
    /// How many consecutive checks must agree before stopping (≥ 1).
    pub consecutive: u32,
}

/// Default [`MarginalGainConfig::level`].
pub const DEFAULT_LEVEL: f64 = 0.8;
/// Default warm-up: 10 % of the planned energy.
pub const DEFAULT_WARMUP_FRACTION: f64 = 0.1;
/// Default [`MarginalGainConfig::min_evaluations`].
pub const DEFAULT_MIN_EVALUATIONS: usize = 5;
/// Default [`MarginalGainConfig::consecutive`].
pub const DEFAULT_CONSECUTIVE: u32 = 2;

/// Shares of the remaining horizon that are checked.
const HORIZON_SHARES: [f64; 4] = [0.125, 0.25, 0.5, 1.0];

impl MarginalGainConfig {
    /// Defaults: horizon to the planned end, level 0.8, warm-up 10 % of the planned energy
    /// and 5 evaluations, 2 consecutive checks.
    pub fn new(tau: Tau) -> Self {
        MarginalGainConfig {
            tau,
            level: DEFAULT_LEVEL,
            horizon: Horizon::PlannedEnd,
            warmup: Warmup::PlanFraction(DEFAULT_WARMUP_FRACTION),
            min_evaluations: DEFAULT_MIN_EVALUATIONS,
            consecutive: DEFAULT_CONSECUTIVE,
        }
    }
    /// Confidence level of the optimistic bound (higher keeps runs alive longer).
    pub fn with_level(mut self, level: f64) -> Self {
        self.level = level;
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
        self
    }
    /// No stop before this many finite evaluations.
    pub fn with_min_evaluations(mut self, n: usize) -> Self {
        self.min_evaluations = n;
        self
    }
    /// How many consecutive checks must agree.
    pub fn with_consecutive(mut self, k: u32) -> Self {
        self.consecutive = k;
        self
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
    /// The largest optimistic gain per kWh over the horizons.
    pub best_rate_per_kwh: f64,
    /// The horizon (step) where that rate was found.
    pub horizon_step: f64,
    /// Optimistic gain over the best at that horizon (good direction).
    pub optimistic_gain: f64,
    /// Energy that horizon costs, kWh.
    pub horizon_kwh: f64,
    /// Estimated share of the planned energy spent.
    pub energy_share: f64,
    /// Consecutive agreeing checks so far.
    pub agreeing: u32,
}

/// The marginal-gain stop rule (see the module docs).
#[derive(Debug, Clone)]
pub struct MarginalGain {
    config: MarginalGainConfig,
    direction: Option<Direction>,
    history: History,
    forecast: Option<Forecast>,
    agreeing: u32,
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
    /// assert_eq!(policy.config().consecutive, 2);
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
        if !(config.level > 0.0 && config.level < 1.0) {
            return bad(
                "level",
                config.level.to_string(),
                "a probability strictly between 0 and 1 (e.g. 0.8)",
            );
        }
        if let Warmup::PlanFraction(f) = config.warmup {
            if !(0.0..1.0).contains(&f) {
                return bad(
                    "warmup_fraction",
                    f.to_string(),
                    "a share of the plan in [0, 1)",
                );
            }
        }
        if config.horizon == Horizon::Steps(0) {
            return bad("horizon_steps", "0".into(), "at least one step");
        }
        if config.consecutive == 0 {
            return bad("consecutive", "0".into(), "at least 1 check");
        }
        Ok(MarginalGain {
            config,
            direction: None,
            history: History::default(),
            forecast: None,
            agreeing: 0,
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

    /// Estimated share of the planned energy spent at `step` with `energy_j` so far.
    fn energy_share(&self, step: f64, energy_j: f64, planned: Option<f64>) -> Option<f64> {
        let planned = planned?;
        if step >= planned {
            return Some(1.0);
        }
        let rate = self.history.joules_per_step(step, energy_j)?;
        let total = energy_j + rate * (planned - step);
        (total > 0.0).then(|| energy_j / total)
    }

    fn warmed_up(&self, step: f64, energy_j: f64, planned: Option<f64>) -> bool {
        if self.history.points.len() < self.config.min_evaluations {
            return false;
        }
        match self.config.warmup {
            Warmup::Steps(s) => step >= s as f64,
            Warmup::PlanFraction(f) => match self.energy_share(step, energy_j, planned) {
                Some(share) => share >= f,
                None => planned.is_none(),
            },
        }
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
        let upper_q = 0.5 + self.config.level / 2.0;
        let q = match direction {
            Direction::HigherIsBetter => upper_q,
            Direction::LowerIsBetter => 1.0 - upper_q,
        };
        let energy_kwh = energy_j / JOULES_PER_KWH;
        let tau = self.config.tau.per_kwh(best - first, energy_kwh);
        let mut running = f64::NEG_INFINITY;
        let mut top: Option<(f64, f64, f64, f64)> = None; // (rate, step, gain, kwh)
        for share in HORIZON_SHARES {
            let h = step + share * (end - step);
            let v = direction.orient(forecast.quantile(h, q));
            if !v.is_finite() {
                // An unusable forecast cannot justify a stop.
                return None;
            }
            running = running.max(v);
            let gain = (running - best).max(0.0);
            let kwh = rate * (h - step) / JOULES_PER_KWH;
            let r = gain / kwh;
            if top.is_none_or(|t| r > t.0) {
                top = Some((r, h, gain, kwh));
            }
        }
        let (best_rate, horizon_step, gain, kwh) = top?;
        Some(Check {
            step,
            best: direction.orient(best),
            tau_per_kwh: tau,
            best_rate_per_kwh: best_rate,
            horizon_step,
            optimistic_gain: gain,
            horizon_kwh: kwh,
            energy_share: self
                .energy_share(step, energy_j, planned)
                .unwrap_or(f64::NAN),
            agreeing: self.agreeing,
        })
    }
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
        } else {
            self.agreeing = 0;
        }
        check.agreeing = self.agreeing;
        self.last_check = Some(check);
        if self.agreeing < self.config.consecutive {
            return Decision::Continue;
        }
        let c = check;
        Decision::Stop(StopReason::new(
            "marginal_gain",
            format!(
                "at step {} the optimistic forecast ({:.0} % interval) gains at most {:.4} over the best {:.6} by step {:.0}, \
                 {:.4} per kWh for {:.4} kWh, below τ = {:.4} per kWh ({} checks in a row; {:.0} % of the planned energy spent)",
                c.step,
                100.0 * self.config.level,
                c.optimistic_gain,
                c.best,
                c.horizon_step,
                c.best_rate_per_kwh,
                c.horizon_kwh,
                c.tau_per_kwh,
                c.agreeing,
                100.0 * c.energy_share
            ),
            &[
                ("step", c.step),
                ("best", c.best),
                ("tau_per_kwh", c.tau_per_kwh),
                ("optimistic_rate_per_kwh", c.best_rate_per_kwh),
                ("optimistic_gain", c.optimistic_gain),
                ("horizon_step", c.horizon_step),
                ("horizon_kwh", c.horizon_kwh),
                ("energy_share", c.energy_share),
                ("level", self.config.level),
                ("consecutive", f64::from(c.agreeing)),
            ],
        ))
    }

    fn name(&self) -> &str {
        "marginal_gain"
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
        if n < self.config.min_evaluations {
            return Some(format!(
                "never stopped early: {n} finite evaluation(s), fewer than the warm-up of {}",
                self.config.min_evaluations
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
