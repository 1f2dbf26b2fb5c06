//! [`RuleTuning`]: every constant of the marginal-gain stop rule in one place, beside the
//! forecaster's [`snuffer_forecast::Tuning`].

use serde::{Deserialize, Serialize};

/// The constants of [`crate::MarginalGain`]: its warm-up, how many checks must agree, the
/// allowance for runs that have not started learning, learning-rate schedules, the horizons
/// it looks at and the sweep rule (with how [`crate::SweepReferences`] finds a run's nearest
/// references).
///
/// Each field says what it was chosen on. Two were chosen on recorded curves, leave one
/// source out: `tools/loso.py` (a grid of settings; for each shared source, the setting that
/// scores best on the other two by `../shared/tools/policy_eval.py --mode single` at
/// τ_n 0.1 and 0.3, scored on the one left out), on `../shared/data/curves` (MLPerf v1.0,
/// OPDA, Pythia; the project's own `data/curves/candle_cpu.csv` took no part). Every other
/// field is an engineering bound, not fitted: set by hand when the rule was written, with
/// the reason given. Serialises with the field names (`--tuning KEY=VALUE` in the CLI, which
/// takes these keys and the forecaster's).
///
/// ```
/// use snuffer_policy::{MarginalGain, MarginalGainConfig, RuleTuning, Tau};
/// let tuning = RuleTuning { consecutive: 3, ..RuleTuning::default() };
/// assert_eq!(tuning.invalid(), None);
/// let policy = MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(0.5)).with_tuning(tuning))?;
/// assert_eq!(policy.config().tuning.consecutive, 3);
/// let bad = RuleTuning { best_loss_share: 2.0, ..RuleTuning::default() };
/// assert_eq!(bad.invalid(), Some(("best_loss_share", 2.0, "a share in [0, 1]")));
/// # Ok::<(), snuffer_policy::PolicyError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleTuning {
    /// No stop before this share (0–1) of the planned energy is spent (the warm-up when none
    /// is given in steps). Default 0.15. Engineering bound, not fitted: set by hand with the
    /// first run tracker (commit 8c6fae0, from 0.1), never changed since.
    pub warmup_fraction: f64,
    /// No stop before this many finite evaluations. Default 5. Engineering bound, not
    /// fitted: set by hand in the first policy (commit b9d9bab), never changed since.
    pub min_evaluations: usize,
    /// Consecutive checks that must agree (rate below τ) before a stop (≥ 1). Default 2.
    /// Engineering bound, not fitted: set by hand (2 in b9d9bab, 3 in 8c6fae0, 2 again with
    /// the expected-gain rule in 680f262), so that one noisy evaluation alone never stops a
    /// run.
    pub consecutive: u32,
    /// Two or more agreeing checks in a row also suffice once they span this share (0–1) of
    /// the planned energy: with sparse evaluations waiting for `consecutive` of them would
    /// cost more than the evidence is worth. Default 0.05. Engineering bound, not fitted
    /// (commit 8c6fae0).
    pub agree_span_fraction: f64,
    /// Share of the planned energy over which a run that has not started learning loses
    /// about two thirds of its allowance for a late start (`exp(−share / idle_decay)`;
    /// positive). Default 0.15. Chosen leave one source out with `tools/loso.py` on the
    /// shared curves (MLPerf v1.0, OPDA, Pythia), scored by `policy_eval.py --mode single`
    /// at τ_n 0.1 and 0.3 (commit 2d3c306, with the forecaster's `surprise`).
    pub idle_decay: f64,
    /// Noise levels (the run's robust noise estimate) the best must beat the first value by
    /// to count as learning (≥ 0). Default 4. Engineering bound, not fitted (commit
    /// 8c6fae0): well outside the noise of an idle curve.
    pub learning_noise_levels: f64,
    /// Share (0–1) of the distance to the bound (or of the first value's magnitude) the best
    /// must also beat the first value by to count as learning: a quantised accuracy moving
    /// from 0.001 to 0.002 has not started. Default 0.02. Engineering bound, not fitted
    /// (commit 680f262).
    pub learning_share: f64,
    /// Share (≥ 0) of the gain so far that a scheduled learning-rate change is assumed to
    /// bring before the run has shown one. Default 0.5. Engineering bound, not fitted
    /// (commit 680f262).
    pub schedule_prior_share: f64,
    /// Share (0–1) of the plan after a scheduled change within which the run's gain counts
    /// as that change's jump. Default 0.1. Engineering bound, not fitted (commit 680f262).
    pub schedule_jump_window: f64,
    /// Shares of the remaining horizon that are checked, increasing, each in (0, 1] (the
    /// CLI writes them `a/b/c/d`). Default 1/8, 1/4, 1/2 and all of it. Engineering bound,
    /// not fitted (commit b9d9bab): halvings, so a rate that pays only over the near term
    /// is found.
    pub horizon_shares: [f64; 4],
    /// Sweeps: fewest earlier runs, known as far as this one has gone, before the sweep
    /// rule speaks. Default 3. Engineering bound, not fitted (commit 680f262): with `K`
    /// references the outlook is a Student-t with `K − 1` degrees of freedom, whose mean is
    /// finite from 3 references on.
    pub min_references: usize,
    /// Sweeps: the shares of the current share of the plan at which this run's best-so-far
    /// is compared with an earlier run's to find its nearest references (each in (0, 1];
    /// the CLI writes them `a/b/c/d`). Default 1, 3/4, 1/2, 1/4. Engineering bound, not
    /// fitted (commit 680f262): the whole prefix, sampled evenly.
    pub prefix_shares: [f64; 4],
    /// Sweeps: the most (0–1) the sweep's best may be expected to lose by one stop, as a
    /// share of the improvement of the run that holds it. Default 0.01. Engineering bound,
    /// not fitted (commit 680f262). For scale: `policy_eval.py --mode sweep`'s goal lets a
    /// sweep's best run lose at most 0.02 of a median improvement.
    pub best_loss_share: f64,
    /// Sweeps: no stop by the sweep rule before this share (0–1) of the planned energy.
    /// Default 1/27 (≈ 3.7 %). Engineering bound, not fitted (commit 54e28bf, from 0.1): it
    /// is the first rung of asynchronous successive halving with η = 3 (rungs 1/27, 1/9,
    /// 1/3), the baseline `policy_eval.py --mode sweep` compares sweeps with.
    pub sweep_warmup_fraction: f64,
}

impl RuleTuning {
    /// The shipped constants (each field's documentation gives its value and provenance).
    pub const DEFAULT: RuleTuning = RuleTuning {
        warmup_fraction: 0.15,
        min_evaluations: 5,
        consecutive: 2,
        agree_span_fraction: 0.05,
        idle_decay: 0.15,
        learning_noise_levels: 4.0,
        learning_share: 0.02,
        schedule_prior_share: 0.5,
        schedule_jump_window: 0.1,
        horizon_shares: [0.125, 0.25, 0.5, 1.0],
        min_references: 3,
        prefix_shares: [1.0, 0.75, 0.5, 0.25],
        best_loss_share: 0.01,
        sweep_warmup_fraction: 1.0 / 27.0,
    };

    /// The first field out of its range, as `(name, value, what is allowed)`; `None` when
    /// every field is valid.
    pub fn invalid(&self) -> Option<(&'static str, f64, &'static str)> {
        const SHARE: &str = "a share in [0, 1]";
        const NON_NEGATIVE: &str = "a finite number ≥ 0";
        let checks: [(&'static str, f64, bool, &'static str); 10] = [
            (
                "warmup_fraction",
                self.warmup_fraction,
                share(self.warmup_fraction),
                SHARE,
            ),
            (
                "consecutive",
                f64::from(self.consecutive),
                self.consecutive >= 1,
                "at least 1 check",
            ),
            (
                "agree_span_fraction",
                self.agree_span_fraction,
                share(self.agree_span_fraction),
                SHARE,
            ),
            (
                "idle_decay",
                self.idle_decay,
                self.idle_decay.is_finite() && self.idle_decay > 0.0,
                "a positive share of the plan (e.g. 0.15)",
            ),
            (
                "learning_noise_levels",
                self.learning_noise_levels,
                non_negative(self.learning_noise_levels),
                NON_NEGATIVE,
            ),
            (
                "learning_share",
                self.learning_share,
                share(self.learning_share),
                SHARE,
            ),
            (
                "schedule_prior_share",
                self.schedule_prior_share,
                non_negative(self.schedule_prior_share),
                NON_NEGATIVE,
            ),
            (
                "schedule_jump_window",
                self.schedule_jump_window,
                share(self.schedule_jump_window),
                SHARE,
            ),
            (
                "best_loss_share",
                self.best_loss_share,
                share(self.best_loss_share),
                SHARE,
            ),
            (
                "sweep_warmup_fraction",
                self.sweep_warmup_fraction,
                share(self.sweep_warmup_fraction),
                SHARE,
            ),
        ];
        if let Some((name, value, _, expected)) = checks.into_iter().find(|c| !c.2) {
            return Some((name, value, expected));
        }
        let mut previous = 0.0;
        for &s in &self.horizon_shares {
            if !(s.is_finite() && s > previous && s <= 1.0) {
                return Some((
                    "horizon_shares",
                    s,
                    "increasing shares of the remaining horizon, each in (0, 1]",
                ));
            }
            previous = s;
        }
        if let Some(&s) = self
            .prefix_shares
            .iter()
            .find(|s| !(s.is_finite() && **s > 0.0 && **s <= 1.0))
        {
            return Some((
                "prefix_shares",
                s,
                "shares of the current share, each in (0, 1]",
            ));
        }
        None
    }
}

impl Default for RuleTuning {
    fn default() -> Self {
        RuleTuning::DEFAULT
    }
}

fn share(v: f64) -> bool {
    (0.0..=1.0).contains(&v)
}

fn non_negative(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_defaults_are_valid_and_round_trip_through_json() {
        let t = RuleTuning::default();
        assert_eq!(t.invalid(), None);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<RuleTuning>(&json).unwrap(), t);
        // Absent keys keep their defaults; unknown keys are refused.
        let one: RuleTuning = serde_json::from_str(r#"{"consecutive": 3}"#).unwrap();
        assert_eq!(
            one,
            RuleTuning {
                consecutive: 3,
                ..t
            }
        );
        assert!(serde_json::from_str::<RuleTuning>(r#"{"consecutiv": 3}"#).is_err());
    }

    #[test]
    fn a_bad_field_is_named() {
        let d = RuleTuning::default();
        let cases = [
            (
                RuleTuning {
                    warmup_fraction: 1.5,
                    ..d
                },
                "warmup_fraction",
            ),
            (
                RuleTuning {
                    consecutive: 0,
                    ..d
                },
                "consecutive",
            ),
            (
                RuleTuning {
                    idle_decay: 0.0,
                    ..d
                },
                "idle_decay",
            ),
            (
                RuleTuning {
                    learning_noise_levels: f64::NAN,
                    ..d
                },
                "learning_noise_levels",
            ),
            (
                RuleTuning {
                    schedule_prior_share: -1.0,
                    ..d
                },
                "schedule_prior_share",
            ),
            (
                RuleTuning {
                    sweep_warmup_fraction: -0.1,
                    ..d
                },
                "sweep_warmup_fraction",
            ),
            (
                RuleTuning {
                    horizon_shares: [0.5, 0.25, 0.75, 1.0],
                    ..d
                },
                "horizon_shares",
            ),
            (
                RuleTuning {
                    horizon_shares: [0.0, 0.25, 0.5, 1.0],
                    ..d
                },
                "horizon_shares",
            ),
            (
                RuleTuning {
                    horizon_shares: [0.1, 0.25, 0.5, 1.5],
                    ..d
                },
                "horizon_shares",
            ),
            (
                RuleTuning {
                    prefix_shares: [1.0, 0.5, 0.0, 0.25],
                    ..d
                },
                "prefix_shares",
            ),
        ];
        for (t, name) in cases {
            assert_eq!(t.invalid().map(|c| c.0), Some(name), "{t:?}");
        }
    }

    /// The rule's module documentation states the defaults: change a constant and this
    /// fails until the prose follows.
    #[test]
    fn the_marginal_rule_docs_state_these_defaults() {
        let doc: String = include_str!("marginal.rs")
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .collect::<Vec<_>>()
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let d = RuleTuning::DEFAULT;
        let pct = |x: f64| format!("{} %", x * 100.0);
        let expected = [
            format!("({} of the planned energy", pct(d.warmup_fraction)),
            format!("and {} evaluations)", d.min_evaluations),
            format!("checks in a row ({};", d.consecutive),
            format!(
                "spanning {} of the planned energy",
                pct(d.agree_span_fraction)
            ),
            format!("(`idle_decay` {})", d.idle_decay),
            format!("by {} noise levels", d.learning_noise_levels),
            format!("by {} of the room", pct(d.learning_share)),
            "within a tenth of the plan after".to_string(),
            "half of its gain so far".to_string(),
            "(1/8, 1/4, 1/2 and all of what is left".to_string(),
            format!("at least {} of them", d.min_references),
            format!(
                "than {} of the best run's improvement",
                pct(d.best_loss_share)
            ),
            "not before 1/27 ≈ 3.7 % of the planned energy".to_string(),
        ];
        for e in expected {
            assert!(doc.contains(&e), "marginal.rs's module docs lack {e:?}");
        }
        assert_eq!(d.schedule_jump_window, 0.1, "the docs say a tenth");
        assert_eq!(d.schedule_prior_share, 0.5, "the docs say half");
        assert_eq!(
            d.horizon_shares,
            [0.125, 0.25, 0.5, 1.0],
            "the docs say 1/8 … all"
        );
        assert_eq!(d.sweep_warmup_fraction, 1.0 / 27.0, "the docs say 1/27");
    }

    proptest! {
        /// Any share in range is valid, any outside is named.
        #[test]
        fn shares_are_valid_exactly_in_their_range(v in -2.0f64..3.0) {
            let t = RuleTuning { best_loss_share: v, ..RuleTuning::default() };
            prop_assert_eq!(t.invalid().is_none(), (0.0..=1.0).contains(&v));
        }
    }
}
