//! [`Compat`]: early stopping with the exact semantics of Keras, Lightning or the Hugging
//! Face Trainer, and the wrappers their trainers add ([`MinSteps`], [`WithDirection`]).
//!
//! Snuffer's own semantics ([`Compat::Snuffer`], the default) are those of the classic
//! rules as documented in [`crate::Patience`], [`crate::Target`] and [`crate::Divergence`].
//! Each framework differs from them in a few places; under that framework's `compat` the
//! policies reproduce its code (read from `keras/src/callbacks/early_stopping.py`,
//! `lightning/pytorch/callbacks/early_stopping.py` and `transformers/trainer_callback.py`),
//! checked by the frameworks' own test cases translated in `tests/compat_*.rs`.
//!
//! Steps: a step is what was done when the evaluation was made (optimizer steps, or epochs
//! completed on a curve logged per epoch: Keras's 0-based `epoch` e is step e + 1).
//!
//! | setting | Snuffer (default) | Keras 3 | Lightning | HF Trainer |
//! |---|---|---|---|---|
//! | `patience = 0` | as 1: stops at the first evaluation without improvement | as 1 | as 1 | stops at the first evaluation, improvement or not |
//! | default patience (CLI) | 5 | 0 | 3 | 1 |
//! | improvement | beats the last improvement by more than `min_delta` | same | same | beats the raw running best (every strictly better value, even by less than the threshold) by more than `early_stopping_threshold` |
//! | relative `min_delta` | yes | no (rejected) | no (rejected) | no (rejected) |
//! | first evaluation | an improvement if finite | always an improvement, even NaN (then nothing improves on it) | an improvement if not NaN | always resets the counter |
//! | NaN / ±inf | no improvement; the CLI's divergence guard stops on it (`--no-check-finite` turns it off) | no improvement, no guard | `check_finite` (default on) stops; off: no improvement | no improvement, no guard |
//! | `baseline` not yet beaten | an improvement that misses the baseline does not reset the wait, so a run that keeps improving below the baseline stops after `patience` evaluations (Keras's docstring) | an improvement never stops the run: a run that keeps improving below its baseline never stops (Keras's code) | no baseline (rejected) | no baseline (rejected) |
//! | `start_from` | evaluations at steps ≤ `start_from` ignored | `start_from_epoch` = N ignores epochs 0..N−1 = steps ≤ N | — | `eval_delay` = N: no evaluation before step N (= `start_from` N − 1) |
//! | target / `stopping_threshold` | inclusive: stops when the metric reaches the target | — | strict: stops when the metric is better than the threshold | — |
//! | divergence bound | strict: stops when the metric is worse than the bound | — | the same (`divergence_threshold`) | — |
//! | `min_steps` | [`MinSteps`]: a stop asked for earlier is held until step `min_steps` | — | `min_steps`/`min_epochs` (× steps per epoch): the same | — |
//! | restored weights ([`crate::Patience::best`]) | the raw strict best: the first evaluation with the best finite value (what the run tracker keeps in `best.safetensors`) | the last improvement that beat `min_delta` (`best_epoch`), restored at any end of training | no restore in `EarlyStopping` (`ModelCheckpoint` keeps the raw best) | the raw strict best (`load_best_model_at_end`) |

use crate::{Decision, GainCheck, Observation, PolicyError, StopPolicy, StopReason, Warning};
use snuffer_forecast::Direction;

/// Whose early-stopping semantics the classic policies follow (see the module docs' table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compat {
    /// Snuffer's own, documented semantics (the default).
    #[default]
    Snuffer,
    /// Keras 3's `EarlyStopping` (`restore_best_weights`, `baseline`, `start_from_epoch`).
    Keras,
    /// PyTorch Lightning's `EarlyStopping` (`stopping_threshold`, `divergence_threshold`,
    /// `check_finite`) and its trainer's `min_steps`/`min_epochs`.
    Lightning,
    /// The Hugging Face Trainer's `EarlyStoppingCallback` (`early_stopping_patience`,
    /// `early_stopping_threshold`) and its `eval_delay`.
    Hf,
}

impl Compat {
    /// Every setting, with its name.
    pub const ALL: [(Compat, &'static str); 4] = [
        (Compat::Snuffer, "snuffer"),
        (Compat::Keras, "keras"),
        (Compat::Lightning, "lightning"),
        (Compat::Hf, "hf"),
    ];

    /// The setting's name (`snuffer`, `keras`, `lightning`, `hf`).
    pub fn name(self) -> &'static str {
        match self {
            Compat::Snuffer => "snuffer",
            Compat::Keras => "keras",
            Compat::Lightning => "lightning",
            Compat::Hf => "hf",
        }
    }

    /// The framework's default patience (Snuffer's command line: 5).
    pub fn default_patience(self) -> u32 {
        match self {
            Compat::Snuffer => 5,
            Compat::Keras => 0,
            Compat::Lightning => 3,
            Compat::Hf => 1,
        }
    }

    /// Whether a NaN or infinite metric stops the run by default (Lightning's
    /// `check_finite`; Keras and the Trainer have no such check in early stopping).
    pub fn check_finite_default(self) -> bool {
        matches!(self, Compat::Snuffer | Compat::Lightning)
    }

    /// Whether a target (`stopping_threshold`) must be strictly beaten (Lightning) rather
    /// than reached.
    pub fn strict_target(self) -> bool {
        self == Compat::Lightning
    }
}

impl std::fmt::Display for Compat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Compat {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "snuffer" | "default" => Ok(Compat::Snuffer),
            "keras" | "tf.keras" | "tensorflow" => Ok(Compat::Keras),
            "lightning" | "pytorch-lightning" | "pl" => Ok(Compat::Lightning),
            "hf" | "transformers" | "huggingface" | "trainer" => Ok(Compat::Hf),
            _ => Err(PolicyError::InvalidSetting {
                name: "compat".into(),
                value: s.into(),
                expected: "one of snuffer, keras, lightning, hf".into(),
            }),
        }
    }
}

/// Holds a stop asked for before step `min_steps` until the first observation at or after
/// it (Lightning's `min_steps`; its `min_epochs` is `min_epochs × steps per epoch`, or
/// `min_epochs` itself on a curve whose steps count epochs). As in Lightning, a held stop
/// is not withdrawn by later improvements, and the inner policy keeps observing.
#[derive(Debug, Clone)]
pub struct MinSteps<P> {
    inner: P,
    min_steps: u64,
    held: Option<StopReason>,
}

impl<P: StopPolicy> MinSteps<P> {
    /// `inner`, whose stops take effect at step `min_steps` at the earliest.
    pub fn new(inner: P, min_steps: u64) -> Self {
        MinSteps {
            inner,
            min_steps,
            held: None,
        }
    }
}

impl<P: StopPolicy> StopPolicy for MinSteps<P> {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        let decision = self.inner.observe(obs);
        if obs.step >= self.min_steps {
            return match self.held.take() {
                Some(mut r) => {
                    r.message = format!(
                        "{} (asked earlier, held until min_steps {})",
                        r.message, self.min_steps
                    );
                    Decision::Stop(r)
                }
                None => decision,
            };
        }
        if let (None, Decision::Stop(r)) = (&self.held, decision) {
            self.held = Some(r);
        }
        Decision::Continue
    }
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn reset(&mut self) {
        self.held = None;
        self.inner.reset();
    }
    fn take_warnings(&mut self) -> Vec<Warning> {
        self.inner.take_warnings()
    }
    fn note(&self) -> Option<String> {
        self.inner.note()
    }
    fn gain_check(&self) -> Option<GainCheck> {
        self.inner.gain_check()
    }
    fn tau(&self) -> Option<crate::Tau> {
        self.inner.tau()
    }
}

/// Shows `inner` every observation with the metric's direction set to `direction` (Keras's
/// and Lightning's `mode`, the Trainer's `greater_is_better`), whatever the run says.
#[derive(Debug, Clone)]
pub struct WithDirection<P> {
    inner: P,
    direction: Direction,
}

impl<P: StopPolicy> WithDirection<P> {
    /// `inner` monitoring in `direction`.
    pub fn new(inner: P, direction: Direction) -> Self {
        WithDirection { inner, direction }
    }
}

impl<P: StopPolicy> StopPolicy for WithDirection<P> {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        let mut o = obs.clone();
        o.direction = self.direction;
        self.inner.observe(&o)
    }
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn take_warnings(&mut self) -> Vec<Warning> {
        self.inner.take_warnings()
    }
    fn note(&self) -> Option<String> {
        self.inner.note()
    }
    fn gain_check(&self) -> Option<GainCheck> {
        self.inner.gain_check()
    }
    fn tau(&self) -> Option<crate::Tau> {
        self.inner.tau()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::stop_index;
    use crate::{Divergence, Target};
    use Direction::{HigherIsBetter as Up, LowerIsBetter as Down};

    #[test]
    fn names_round_trip_and_nonsense_is_named() {
        for (c, name) in Compat::ALL {
            assert_eq!(name.parse::<Compat>().unwrap(), c);
            assert_eq!(c.to_string(), name);
        }
        assert_eq!("transformers".parse::<Compat>().unwrap(), Compat::Hf);
        let e = "tensorflw".parse::<Compat>().unwrap_err().to_string();
        assert!(e.contains("compat") && e.contains("keras"), "{e}");
        assert_eq!(Compat::default(), Compat::Snuffer);
    }

    #[test]
    fn min_steps_holds_a_stop_and_keeps_it() {
        // The bound fires at index 1 (step 2); held until step 4, though 0.9 came back.
        let inner = Divergence::non_finite().with_bound(0.5).unwrap();
        let mut p = MinSteps::new(inner, 4);
        assert_eq!(stop_index(&mut p, &[0.9, 0.1, 0.9, 0.9, 0.9], Up), Some(3));
        p.reset();
        assert_eq!(stop_index(&mut p, &[0.9, 0.9, 0.9], Up), None);
        // Past min_steps a stop is immediate.
        let mut q = MinSteps::new(Divergence::non_finite().with_bound(0.5).unwrap(), 1);
        assert_eq!(stop_index(&mut q, &[0.9, 0.1], Up), Some(1));
    }

    #[test]
    fn with_direction_overrides_the_runs() {
        let mut p = WithDirection::new(Target::new(2.0).unwrap(), Down);
        assert_eq!(stop_index(&mut p, &[3.0, 2.5, 1.9], Up), Some(2));
        assert_eq!(p.name(), "target");
    }
}
