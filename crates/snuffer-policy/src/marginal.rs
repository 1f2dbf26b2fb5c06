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
use crate::{
    Decision, Evidence, MarginalEvidence, Observation, PolicyError, StopPolicy, StopReason, Tau,
};
use snuffer_energy::{significant, JOULES_PER_KWH};
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
    /// A longer warm-up, as a share of the planned energy, for runs that have not started
    /// learning yet (best within noise of the first value): a curve at chance carries no
    /// evidence about when it will start to learn, so its flat forecast is not trusted
    /// before this share.
    pub idle_warmup_fraction: f64,
    /// Two or more agreeing checks in a row also suffice once they span this share of the
    /// planned energy: with sparse evaluations (say every 10 % of the plan) waiting for
    /// `consecutive` of them would cost more than the evidence is worth.
    pub agree_span_fraction: f64,
}

/// Default [`MarginalGainConfig::level`].
pub const DEFAULT_LEVEL: f64 = 0.95;
/// Default warm-up: 15 % of the planned energy.
pub const DEFAULT_WARMUP_FRACTION: f64 = 0.15;
/// Default [`MarginalGainConfig::min_evaluations`].
pub const DEFAULT_MIN_EVALUATIONS: usize = 5;
/// Default [`MarginalGainConfig::idle_warmup_fraction`].
pub const DEFAULT_IDLE_WARMUP_FRACTION: f64 = 0.0;
/// Noise levels the best must beat the first value by to count as learning.
const LEARNING_NOISE_LEVELS: f64 = 4.0;
/// Default [`MarginalGainConfig::agree_span_fraction`].
pub const DEFAULT_AGREE_SPAN_FRACTION: f64 = 0.05;
/// Default [`MarginalGainConfig::consecutive`].
pub const DEFAULT_CONSECUTIVE: u32 = 3;

/// Shares of the remaining horizon that are checked.
const HORIZON_SHARES: [f64; 4] = [0.125, 0.25, 0.5, 1.0];

impl MarginalGainConfig {
    /// Defaults: horizon to the planned end, level 0.95, warm-up 15 % of the planned energy
    /// and 5 evaluations, 3 consecutive checks, no separate warm-up for idle runs.
    ///
    /// The defaults were chosen on the project's shared real curves (ImageNet sweeps, Pythia,
    /// MLPerf): a wide interval (0.95) and three agreeing checks guard against step
    /// learning-rate schedules whose plateaus end in jumps. A longer idle warm-up
    /// ([`MarginalGainConfig::with_idle_warmup_fraction`]) lowered the captured utility
    /// there: runs that sit at chance after 15 % of the plan mostly stay there.
    pub fn new(tau: Tau) -> Self {
        MarginalGainConfig {
            tau,
            level: DEFAULT_LEVEL,
            horizon: Horizon::PlannedEnd,
            warmup: Warmup::PlanFraction(DEFAULT_WARMUP_FRACTION),
            min_evaluations: DEFAULT_MIN_EVALUATIONS,
            consecutive: DEFAULT_CONSECUTIVE,
            idle_warmup_fraction: DEFAULT_IDLE_WARMUP_FRACTION,
            agree_span_fraction: DEFAULT_AGREE_SPAN_FRACTION,
        }
    }
    /// Energy share over which two or more agreeing checks suffice.
    pub fn with_agree_span_fraction(mut self, fraction: f64) -> Self {
        self.agree_span_fraction = fraction;
        self
    }
    /// Warm-up for runs that have not started learning (share of the planned energy).
    pub fn with_idle_warmup_fraction(mut self, fraction: f64) -> Self {
        self.idle_warmup_fraction = fraction;
        self
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
    /// assert_eq!(policy.config().consecutive, snuffer_policy::DEFAULT_CONSECUTIVE);
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
        for f in [
            config.idle_warmup_fraction,
            config.agree_span_fraction,
            match config.warmup {
                Warmup::PlanFraction(f) => f,
                Warmup::Steps(_) => 0.0,
            },
        ] {
            if !(0.0..=1.0).contains(&f) {
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
            optimistic_rate_per_kwh: c.best_rate_per_kwh,
            optimistic_gain: c.optimistic_gain,
            horizon_step: c.horizon_step,
            horizon_kwh: c.horizon_kwh,
            energy_share: c.energy_share,
            level: self.config.level,
            consecutive: c.agreeing,
        }
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
        let share = self.energy_share(step, energy_j, planned);
        if !self.history.has_learned(LEARNING_NOISE_LEVELS)
            && share.is_some_and(|s| s < self.config.idle_warmup_fraction)
        {
            return false;
        }
        match self.config.warmup {
            Warmup::Steps(s) => step >= s as f64,
            Warmup::PlanFraction(f) => match share {
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
        let optimistic = |h: f64| direction.orient(forecast.quantile(h, q));
        let (best_rate, horizon_step, gain, kwh) =
            best_optimistic_rate(&optimistic, best, step, end, rate)?;
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

/// The largest optimistic gain per kWh over the checked horizons between `step` and `end`:
/// `(rate per kWh, horizon step, gain, horizon kWh)`. `optimistic(h)` is the optimistic
/// metric value at step `h`, oriented so that higher is better; its running maximum over
/// the horizons bounds the best-so-far. `None` when the bound is not finite (an unusable
/// forecast cannot justify a stop).
pub(crate) fn best_optimistic_rate(
    optimistic: &dyn Fn(f64) -> f64,
    best: f64,
    step: f64,
    end: f64,
    joules_per_step: f64,
) -> Option<(f64, f64, f64, f64)> {
    let mut running = f64::NEG_INFINITY;
    let mut top: Option<(f64, f64, f64, f64)> = None;
    for share in HORIZON_SHARES {
        let h = step + share * (end - step);
        let v = optimistic(h);
        if !v.is_finite() {
            return None;
        }
        running = running.max(v);
        let gain = (running - best).max(0.0);
        let kwh = joules_per_step * (h - step) / JOULES_PER_KWH;
        let r = gain / kwh;
        if top.is_none_or(|t| r > t.0) {
            top = Some((r, h, gain, kwh));
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
            && check.energy_share - self.agree_start_share >= self.config.agree_span_fraction;
        if self.agreeing < self.config.consecutive && !spanned {
            return Decision::Continue;
        }
        let c = check;
        Decision::Stop(StopReason::new(
            format!(
                "at step {} the optimistic forecast ({:.0} % interval) gains at most {} over the best {} by step {:.0}, \
                 {} per kWh for {}, below τ = {} per kWh ({} checks in a row; {:.0} % of the planned energy spent)",
                c.step,
                100.0 * self.config.level,
                significant(c.optimistic_gain, 4),
                significant(c.best, 4),
                c.horizon_step,
                significant(c.best_rate_per_kwh, 4),
                snuffer_energy::Joules::from_kwh(c.horizon_kwh),
                significant(c.tau_per_kwh, 4),
                c.agreeing,
                100.0 * c.energy_share
            ),
            Evidence::MarginalGain(self.evidence(&c)),
        ))
    }

    fn name(&self) -> &str {
        "marginal_gain"
    }

    fn gain_check(&self) -> Option<MarginalEvidence> {
        self.last_check.as_ref().map(|c| self.evidence(c))
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
    /// optimum of M − τE is t* = k ln(m∞ / (k τ c)); the rule's first agreeing check must lie
    /// within a few percent of the plan before it (the horizons average the slope ahead, so
    /// the rule fires slightly early, never late).
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
                    let (rate, ..) =
                        best_optimistic_rate(&curve, curve(t), t, n, joules_per_step).unwrap();
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

    #[test]
    fn invalid_settings_table() {
        let base = || MarginalGainConfig::new(Tau::PerKwh(0.1));
        let rows: &[(&str, MarginalGainConfig)] = &[
            ("negative tau", MarginalGainConfig::new(Tau::PerKwh(-0.1))),
            ("level 1", base().with_level(1.0)),
            ("level NaN", base().with_level(f64::NAN)),
            ("warm-up above 1", base().with_warmup_fraction(1.5)),
            ("idle warm-up 2", base().with_idle_warmup_fraction(2.0)),
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
