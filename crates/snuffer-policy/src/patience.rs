//! [`Patience`]: classic early stopping, with Snuffer's own semantics by default and the
//! exact semantics of Keras, Lightning or the Hugging Face Trainer under
//! [`PatienceConfig::with_compat`] (the differences are tabled in [`crate::compat`]).
//!
//! Snuffer's semantics: an evaluation *improves* when it beats the last improvement by more
//! than `min_delta` (absolute, or relative to |best|) in the monitored direction. After
//! `patience` evaluations in a row without improvement the policy stops (`patience` 0 acts
//! as 1, as in Keras and Lightning). Evaluations at steps ≤ `start_from` are ignored (the
//! first `start_from` steps are a warm-up: Keras's `start_from_epoch` on a curve whose steps
//! count completed epochs). With a `baseline`, the wait is only reset by an improvement that
//! also beats the baseline, so a run that never reaches the baseline stops after `patience`
//! evaluations even while it improves — what Keras's docstring says; Keras's code never
//! stops on an improvement ([`Compat::Keras`] reproduces that). A NaN or infinite metric is
//! never an improvement (use [`crate::Divergence`] to stop on it at once).
//!
//! Restoring the best weights: one rule. [`Patience::best`] is the step whose weights
//! should be restored, tracked *whether or not the policy fires*: under Snuffer's semantics
//! (and Lightning's and the Trainer's) the raw strict best — the first monitored
//! evaluation with the best finite value, whatever `min_delta` says — which is exactly what
//! the run tracker keeps in `best.safetensors` (over all evaluations: it differs from
//! `best()` only when `start_from` hides a better early evaluation). Under [`Compat::Keras`]
//! it is Keras's `best_epoch`: the last improvement that beat `min_delta`, which Keras 3
//! restores at any end of training (a stop or the last epoch), not only after a stop. The
//! value improvements are measured from is [`Patience::reference`].

use crate::compat::Compat;
use crate::{
    Decision, Evidence, Observation, PatienceEvidence, PolicyError, StopPolicy, StopReason,
};
use snuffer_energy::significant;
use snuffer_forecast::Direction;

/// How much better than the best an evaluation must be to count as an improvement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinDelta {
    /// In metric units.
    Absolute(f64),
    /// As a fraction of |best|.
    Relative(f64),
}

/// Settings of [`Patience`].
#[derive(Debug, Clone, PartialEq)]
pub struct PatienceConfig {
    /// Evaluations without improvement before stopping (0 acts as 1, except under
    /// [`Compat::Hf`] where it stops at the first evaluation).
    pub patience: u32,
    /// Required margin of an improvement (the Trainer's `early_stopping_threshold`).
    pub min_delta: MinDelta,
    /// Direction; `None` takes the observation's (Keras's and Lightning's `mode`).
    pub direction: Option<Direction>,
    /// A value the run must beat for the wait to reset (Keras only).
    pub baseline: Option<f64>,
    /// Evaluations at steps ≤ this are ignored (0: none).
    pub start_from: u64,
    /// Whose semantics to follow.
    pub compat: Compat,
}

impl PatienceConfig {
    /// `patience` evaluations, no margin, no baseline, Snuffer's semantics.
    pub fn new(patience: u32) -> Self {
        PatienceConfig {
            patience,
            min_delta: MinDelta::Absolute(0.0),
            direction: None,
            baseline: None,
            start_from: 0,
            compat: Compat::Snuffer,
        }
    }
    /// Absolute margin.
    pub fn with_min_delta(mut self, delta: f64) -> Self {
        self.min_delta = MinDelta::Absolute(delta);
        self
    }
    /// Relative margin (fraction of |best|; Snuffer's semantics only).
    pub fn with_min_delta_relative(mut self, fraction: f64) -> Self {
        self.min_delta = MinDelta::Relative(fraction);
        self
    }
    /// Monitor this direction instead of the observation's.
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = Some(direction);
        self
    }
    /// Require beating this value.
    pub fn with_baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }
    /// Ignore evaluations at steps ≤ `step` (Keras's `start_from_epoch` = `step` when steps
    /// count completed epochs).
    pub fn with_start_from(mut self, step: u64) -> Self {
        self.start_from = step;
        self
    }
    /// The Trainer's `eval_delay`: no evaluation counts before step `step` (the same as
    /// `start_from` = `step` − 1).
    pub fn with_eval_delay(mut self, step: u64) -> Self {
        self.start_from = step.saturating_sub(1);
        self
    }
    /// Follow `compat`'s semantics.
    pub fn with_compat(mut self, compat: Compat) -> Self {
        self.compat = compat;
        self
    }
}

/// Early stopping on a lack of improvement (see the module docs).
#[derive(Debug, Clone)]
pub struct Patience {
    config: PatienceConfig,
    /// What improvements are measured from: the last improvement (Snuffer, Keras,
    /// Lightning) or the raw running best (the Trainer).
    reference: Option<(u64, f64)>,
    /// The raw strict best over the monitored evaluations (finite values only).
    raw_best: Option<(u64, f64)>,
    /// The Trainer's `state.best_metric` in the good direction (−inf once evaluated).
    hf_best: Option<f64>,
    wait: u32,
}

impl Patience {
    /// A policy with validated settings.
    pub fn new(config: PatienceConfig) -> Result<Self, PolicyError> {
        let bad = |name: &str, value: String, expected: &str| {
            Err(PolicyError::InvalidSetting {
                name: name.into(),
                value,
                expected: expected.into(),
            })
        };
        let d = match config.min_delta {
            MinDelta::Absolute(d) | MinDelta::Relative(d) => d,
        };
        if !(d.is_finite() && d >= 0.0) {
            return bad("min_delta", d.to_string(), "a finite margin ≥ 0");
        }
        if config.baseline.is_some_and(|b| !b.is_finite()) {
            return bad(
                "baseline",
                format!("{:?}", config.baseline),
                "a finite value",
            );
        }
        let c = config.compat;
        if c != Compat::Snuffer && matches!(config.min_delta, MinDelta::Relative(_)) {
            return bad(
                "min_delta",
                format!("{d} (relative)"),
                &format!("an absolute margin: {c} has no relative min_delta (drop the compat setting to use one)"),
            );
        }
        if matches!(c, Compat::Lightning | Compat::Hf) && config.baseline.is_some() {
            return bad(
                "baseline",
                format!("{:?}", config.baseline),
                &format!(
                    "no baseline: {c}'s early stopping has none (use compat keras or snuffer)"
                ),
            );
        }
        Ok(Patience {
            config,
            reference: None,
            raw_best: None,
            hf_best: None,
            wait: 0,
        })
    }

    /// The step whose weights to restore and its value (own units), tracked whether or not
    /// the policy fires: the raw strict best of the monitored evaluations, or Keras's
    /// `best_epoch` under [`Compat::Keras`] (see the module docs).
    pub fn best(&self) -> Option<(u64, f64)> {
        match self.config.compat {
            Compat::Keras => self.reference,
            _ => self.raw_best,
        }
    }

    /// The evaluation improvements are measured from: the last improvement that beat
    /// `min_delta` (the raw running best under [`Compat::Hf`]).
    pub fn reference(&self) -> Option<(u64, f64)> {
        match self.config.compat {
            Compat::Hf => self.raw_best,
            _ => self.reference,
        }
    }

    /// Evaluations since the last improvement (the Trainer's patience counter).
    pub fn wait(&self) -> u32 {
        self.wait
    }

    /// The settings.
    pub fn config(&self) -> &PatienceConfig {
        &self.config
    }

    fn margin(&self, reference: f64) -> f64 {
        match self.config.min_delta {
            MinDelta::Absolute(d) => d,
            MinDelta::Relative(f) => f * reference.abs(),
        }
    }

    /// `candidate − margin > reference` (false with a NaN), all oriented.
    fn improves(&self, candidate: f64, reference: f64) -> bool {
        candidate - self.margin(reference) > reference
    }

    /// Updates the wait and the references for one oriented value; true when the
    /// evaluation cannot stop the run whatever the wait (an improvement that reset it; under
    /// Keras any improvement; under the Trainer never).
    fn update(&mut self, step: u64, metric: f64, v: f64, dir: Direction) -> bool {
        let baseline_ok = |p: &Self| {
            p.config
                .baseline
                .is_none_or(|b| p.improves(v, dir.orient(b)))
        };
        match self.config.compat {
            Compat::Snuffer => {
                self.wait += 1;
                let beats = v.is_finite()
                    && self
                        .reference
                        .is_none_or(|(_, b)| self.improves(v, dir.orient(b)));
                if beats {
                    self.reference = Some((step, metric));
                    if baseline_ok(self) {
                        self.wait = 0;
                        return true;
                    }
                }
                false
            }
            Compat::Lightning => {
                // best_score starts at −inf; `current − min_delta` must beat it (NaN never).
                let best = self
                    .reference
                    .map_or(f64::NEG_INFINITY, |(_, b)| dir.orient(b));
                if self.improves(v, best) {
                    self.reference = Some((step, metric));
                    self.wait = 0;
                    true
                } else {
                    self.wait += 1;
                    false
                }
            }
            Compat::Keras => {
                self.wait += 1;
                // `best is None` makes the first monitored value an improvement, even NaN.
                let beats = self
                    .reference
                    .is_none_or(|(_, b)| self.improves(v, dir.orient(b)));
                if beats {
                    self.reference = Some((step, metric));
                    if baseline_ok(self) {
                        self.wait = 0;
                    }
                }
                beats
            }
            Compat::Hf => {
                // on_evaluate sees the Trainer's best before this evaluation updates it.
                let improved = match self.hf_best {
                    None => true,
                    Some(b) => v > b && v - b > self.margin(b),
                };
                if improved {
                    self.wait = 0;
                } else {
                    self.wait += 1;
                }
                let b = self.hf_best.unwrap_or(f64::NEG_INFINITY);
                self.hf_best = Some(if v > b { v } else { b });
                false
            }
        }
    }
}

impl StopPolicy for Patience {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        let Some(metric) = obs.metric else {
            return Decision::Continue;
        };
        if self.config.start_from > 0 && obs.step <= self.config.start_from {
            return Decision::Continue;
        }
        let dir = self.config.direction.unwrap_or(obs.direction);
        let v = dir.orient(metric);
        let keep_going = self.update(obs.step, metric, v, dir);
        if v.is_finite() && self.raw_best.is_none_or(|(_, b)| v > dir.orient(b)) {
            self.raw_best = Some((obs.step, metric));
        }
        if keep_going || self.wait < self.config.patience {
            return Decision::Continue;
        }
        let best = self.best();
        let (best_step, best_value) = best.unwrap_or((0, f64::NAN));
        let compat = match self.config.compat {
            Compat::Snuffer => String::new(),
            c => format!(", {c} semantics"),
        };
        Decision::Stop(StopReason::new(
            format!(
                "no improvement{} for {} evaluation(s) (patience {}{compat}); best {} at step {best_step}",
                match self.config.baseline {
                    Some(b) => format!(" beating the baseline {b}"),
                    None => String::new(),
                },
                self.wait,
                self.config.patience,
                significant(best_value, 4)
            ),
            Evidence::Patience(PatienceEvidence {
                step: obs.step,
                wait: self.wait,
                patience: self.config.patience,
                best: best.map(|(_, b)| b),
                best_step: best.map(|(s, _)| s),
                baseline: self.config.baseline,
            }),
        ))
    }

    fn name(&self) -> &str {
        "patience"
    }

    fn reset(&mut self) {
        self.reference = None;
        self.raw_best = None;
        self.hf_best = None;
        self.wait = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{stop_index, Row};
    use Direction::{HigherIsBetter as Up, LowerIsBetter as Down};

    #[test]
    fn snuffer_semantics_table() {
        let nan = f64::NAN;
        let rows: &[Row<PatienceConfig>] = &[
            (
                "improving never stops",
                PatienceConfig::new(2),
                &[0.1, 0.2, 0.3, 0.4],
                Up,
                None,
            ),
            (
                "two flat evaluations stop with patience 2",
                PatienceConfig::new(2),
                &[0.1, 0.5, 0.5, 0.5],
                Up,
                Some(3),
            ),
            (
                "loss direction",
                PatienceConfig::new(1),
                &[3.0, 2.0, 2.5],
                Down,
                Some(2),
            ),
            (
                "min_delta makes small gains count as none",
                PatienceConfig::new(2).with_min_delta(0.05),
                &[0.5, 0.52, 0.54],
                Up,
                Some(2),
            ),
            (
                "relative min_delta",
                PatienceConfig::new(1).with_min_delta_relative(0.1),
                &[1.0, 1.05],
                Up,
                Some(1),
            ),
            (
                "baseline never beaten",
                PatienceConfig::new(2).with_baseline(0.9),
                &[0.1, 0.2, 0.3],
                Up,
                Some(1),
            ),
            (
                "baseline beaten resets",
                PatienceConfig::new(2).with_baseline(0.15),
                &[0.1, 0.2, 0.3, 0.4],
                Up,
                None,
            ),
            (
                "start_from ignores early evaluations",
                PatienceConfig::new(1).with_start_from(3),
                &[0.5, 0.1, 0.1, 0.2],
                Up,
                None,
            ),
            (
                "NaN is no improvement",
                PatienceConfig::new(1),
                &[0.5, nan],
                Up,
                Some(1),
            ),
            (
                "direction override",
                PatienceConfig::new(1).with_direction(Down),
                &[0.5, 0.6],
                Up,
                Some(1),
            ),
        ];
        for (why, cfg, metrics, dir, expected) in rows {
            let mut p = Patience::new(cfg.clone()).unwrap();
            assert_eq!(stop_index(&mut p, metrics, *dir), *expected, "{why}");
        }
    }

    #[test]
    fn best_is_tracked_even_without_a_stop() {
        let mut p = Patience::new(PatienceConfig::new(10)).unwrap();
        assert_eq!(
            stop_index(&mut p, &[0.1, 0.7, 0.3], Direction::HigherIsBetter),
            None
        );
        assert_eq!(p.best(), Some((2, 0.7)));
        assert_eq!(p.wait(), 1);
        p.reset();
        assert_eq!(p.best(), None);
    }

    #[test]
    fn patience_zero_acts_as_one() {
        for metrics in [&[0.1, 0.5, 0.4, 0.6][..], &[0.5, 0.5], &[0.1, 0.2, 0.3]] {
            let mut zero = Patience::new(PatienceConfig::new(0)).unwrap();
            let mut one = Patience::new(PatienceConfig::new(1)).unwrap();
            assert_eq!(
                stop_index(&mut zero, metrics, Up),
                stop_index(&mut one, metrics, Up),
                "{metrics:?}"
            );
        }
    }

    #[test]
    fn best_is_the_raw_strict_best_and_reference_the_last_improvement() {
        // 0.52 is no improvement beyond 0.05 but is the raw best: its weights are restored.
        let mut p = Patience::new(PatienceConfig::new(5).with_min_delta(0.05)).unwrap();
        assert_eq!(stop_index(&mut p, &[0.5, 0.52, 0.51], Up), None);
        assert_eq!(p.best(), Some((2, 0.52)));
        assert_eq!(p.reference(), Some((1, 0.5)));
        // Keras restores its own best_epoch: the last improvement.
        let cfg = PatienceConfig::new(5)
            .with_min_delta(0.05)
            .with_compat(Compat::Keras);
        let mut k = Patience::new(cfg).unwrap();
        assert_eq!(stop_index(&mut k, &[0.5, 0.52, 0.51], Up), None);
        assert_eq!(k.best(), Some((1, 0.5)));
    }

    #[test]
    fn invalid_settings_are_rejected() {
        assert!(Patience::new(PatienceConfig::new(0)).is_ok());
        let rel = PatienceConfig::new(1).with_min_delta_relative(0.1);
        for c in [Compat::Keras, Compat::Lightning, Compat::Hf] {
            let e = Patience::new(rel.clone().with_compat(c))
                .unwrap_err()
                .to_string();
            assert!(e.contains("relative") && e.contains(c.name()), "{e}");
        }
        for c in [Compat::Lightning, Compat::Hf] {
            let cfg = PatienceConfig::new(1).with_baseline(0.5).with_compat(c);
            assert!(Patience::new(cfg).is_err());
        }
        assert!(Patience::new(PatienceConfig::new(1).with_min_delta(-1.0)).is_err());
        assert!(Patience::new(PatienceConfig::new(1).with_baseline(f64::NAN)).is_err());
    }
}
