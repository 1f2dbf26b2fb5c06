//! Typed evidence: the numbers behind a stop or a warning, with named fields per policy.
//!
//! Every [`crate::StopReason`] and [`crate::Warning`] carries an [`Evidence`]. It serialises
//! as one flat JSON object tagged by `kind` (`{"kind":"marginal_gain","step":40.0,…}`), with
//! the field names that run directories have always used for these numbers
//! (`tau_per_kwh`, `gain_rate_per_kwh`, …). Non-finite numbers (a NaN loss is the
//! whole point of a divergence stop) are written as the strings `"NaN"`, `"inf"` and
//! `"-inf"`, and read back from those strings, from numbers or from `null` (NaN), so a
//! round trip through JSON loses nothing.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The numbers behind a decision, by policy. New policies add variants, so match with a
/// wildcard arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Evidence {
    /// [`crate::MarginalGain`]: the expected gain per kWh against τ. Also the evidence of
    /// the [`GainCheck`] that [`crate::StopPolicy::gain_check`] returns at every full check.
    MarginalGain(MarginalEvidence),
    /// [`crate::Patience`]: evaluations without improvement.
    Patience(PatienceEvidence),
    /// [`crate::Target`]: the metric reached the target.
    Target(TargetEvidence),
    /// [`crate::Divergence`] (or the run tracker's own check on a broken loss).
    Divergence(DivergenceEvidence),
    /// [`crate::Budget`]: a limit reached, or (in a warning) about to be.
    Budget(BudgetEvidence),
    /// [`crate::MarginalGain`] in a sweep: the run is not expected to beat the sweep's best
    /// by enough to pay for its remaining energy.
    Sweep(SweepEvidence),
    /// Numbers by name, from a policy outside this crate (finite values only survive a
    /// JSON round trip).
    Other(BTreeMap<String, f64>),
}

impl Evidence {
    /// The name of the policy this kind of evidence comes from (`marginal_gain`,
    /// `patience`, `target`, `divergence`, `budget`; `other` for [`Evidence::Other`]).
    pub fn policy(&self) -> &'static str {
        match self {
            Evidence::MarginalGain(_) => "marginal_gain",
            Evidence::Patience(_) => "patience",
            Evidence::Target(_) => "target",
            Evidence::Divergence(_) => "divergence",
            Evidence::Budget(_) => "budget",
            Evidence::Sweep(_) => "sweep",
            Evidence::Other(_) => "other",
        }
    }

    /// The marginal-gain numbers, when this is [`Evidence::MarginalGain`].
    pub fn marginal(&self) -> Option<&MarginalEvidence> {
        match self {
            Evidence::MarginalGain(m) => Some(m),
            _ => None,
        }
    }

    /// τ per kWh the decision weighed, when it weighed energy (marginal gain, sweep) and
    /// τ is finite.
    pub fn tau_per_kwh(&self) -> Option<f64> {
        match self {
            Evidence::MarginalGain(m) => Some(m.tau_per_kwh),
            Evidence::Sweep(s) => Some(s.tau_per_kwh),
            _ => None,
        }
        .filter(|t| t.is_finite())
    }

    /// Evidence from `(name, value)` pairs, for policies outside this crate.
    pub fn other(numbers: &[(&str, f64)]) -> Self {
        Evidence::Other(
            numbers
                .iter()
                .map(|(k, v)| ((*k).to_string(), *v))
                .collect(),
        )
    }
}

/// A policy's latest weighing of the gain ahead against τ, as
/// [`crate::StopPolicy::gain_check`] returns it for progress displays and eval lines. Any
/// policy that weighs energy can fill it: the figures every such check has (the expected
/// gain per kWh, τ, how many checks in a row agreed) plus the policy's own typed
/// [`Evidence`] of that check (what a stop there would carry).
///
/// ```
/// use snuffer_policy::{Evidence, GainCheck};
/// // A policy of another crate: 0.02 per kWh expected, τ = 0.05 per kWh.
/// let check = GainCheck {
///     step: 40.0,
///     gain_rate_per_kwh: 0.02,
///     tau_per_kwh: 0.05,
///     log_scale: false,
///     consecutive: 1,
///     evidence: Evidence::other(&[("rate", 0.02), ("tau", 0.05)]),
/// };
/// assert!(check.below_tau());
/// assert!(check.marginal().is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GainCheck {
    /// Step of the check.
    pub step: f64,
    /// The expected gain per kWh the policy compared with τ (metric units per kWh in the
    /// good direction, or natural-log gains when `log_scale`).
    pub gain_rate_per_kwh: f64,
    /// τ resolved to the same units per kWh.
    pub tau_per_kwh: f64,
    /// Whether the gains (and τ) are natural-log ratios of a loss-like metric rather than
    /// metric units.
    pub log_scale: bool,
    /// Consecutive checks below τ up to this one (0 when this one is not below τ).
    pub consecutive: u32,
    /// The policy's own numbers of this check ([`Evidence::MarginalGain`] for
    /// [`crate::MarginalGain`]).
    pub evidence: Evidence,
}

impl GainCheck {
    /// Whether the expected rate is below τ at this check.
    pub fn below_tau(&self) -> bool {
        self.gain_rate_per_kwh < self.tau_per_kwh
    }

    /// The marginal-gain rule's numbers, when [`crate::MarginalGain`] made the check.
    pub fn marginal(&self) -> Option<&MarginalEvidence> {
        self.evidence.marginal()
    }
}

impl From<MarginalEvidence> for GainCheck {
    /// The marginal rule's check: its rate, τ, scale and agreeing checks, with the whole
    /// evidence kept.
    fn from(m: MarginalEvidence) -> Self {
        GainCheck {
            step: m.step,
            gain_rate_per_kwh: m.gain_rate_per_kwh,
            tau_per_kwh: m.tau_per_kwh,
            log_scale: m.log_scale,
            consecutive: m.consecutive,
            evidence: Evidence::MarginalGain(m),
        }
    }
}

/// One gain-per-kWh check of [`crate::MarginalGain`]: the largest expected gain per kWh
/// over the horizons it looked at, against τ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MarginalEvidence {
    /// Step of the check.
    #[serde(with = "float")]
    pub step: f64,
    /// Best value so far, oriented so that higher is better (a loss is negated).
    #[serde(with = "float")]
    pub best: f64,
    /// τ resolved to metric units per kWh.
    #[serde(with = "float")]
    pub tau_per_kwh: f64,
    /// The largest expected gain per kWh over the horizons (metric units per kWh, good
    /// direction): the figure compared with τ. (Run directories of format version 1 called
    /// it `optimistic_rate_per_kwh`, from the optimistic quantile the rule used then.)
    #[serde(with = "float", alias = "optimistic_rate_per_kwh")]
    pub gain_rate_per_kwh: f64,
    /// Expected gain over the best at the horizon where that rate was found.
    #[serde(with = "float", alias = "optimistic_gain")]
    pub expected_gain: f64,
    /// That horizon (a step).
    #[serde(with = "float")]
    pub horizon_step: f64,
    /// Energy that horizon costs, kWh.
    #[serde(with = "float")]
    pub horizon_kwh: f64,
    /// Estimated share of the planned energy spent (NaN without a plan).
    #[serde(with = "float")]
    pub energy_share: f64,
    /// Share of the forecast's allowance for late surprises that was counted (below 1 for a
    /// run that has not started learning).
    #[serde(default = "one", with = "float")]
    pub surprise_share: f64,
    /// Consecutive agreeing checks (rate below τ) up to this one.
    pub consecutive: u32,
    /// Whether `expected_gain`, `gain_rate_per_kwh` and `tau_per_kwh` are natural-log gains
    /// (`ln(best / value)` of a loss-like metric under a relative τ, see
    /// [`crate::GainScale`]) rather than metric units. Absent in older run directories.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub log_scale: bool,
}

fn one() -> f64 {
    1.0
}

impl MarginalEvidence {
    /// Whether the expected rate is below τ at this check.
    pub fn below_tau(&self) -> bool {
        self.gain_rate_per_kwh < self.tau_per_kwh
    }
}

/// Why [`crate::MarginalGain`] stopped a run of a sweep: what the sweep's earlier runs most
/// like it expect of its final best, against the sweep's best.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SweepEvidence {
    /// Step of the stop.
    #[serde(with = "float")]
    pub step: f64,
    /// The run's best so far (oriented: higher is better).
    #[serde(with = "float")]
    pub best: f64,
    /// The sweep's best so far (oriented).
    #[serde(with = "float")]
    pub incumbent: f64,
    /// Expected final best of the run (oriented).
    #[serde(with = "float")]
    pub expected_final: f64,
    /// Expected amount by which its final best beats `max(best, incumbent)`.
    #[serde(with = "float")]
    pub expected_excess: f64,
    /// What that excess had to reach to go on: the worth of the remaining energy at τ, or
    /// the sweep's tolerance for losing its best, whichever is less.
    #[serde(with = "float")]
    pub threshold: f64,
    /// Energy the rest of the plan would cost, kWh.
    #[serde(with = "float")]
    pub remaining_kwh: f64,
    /// τ, metric units per kWh.
    #[serde(with = "float")]
    pub tau_per_kwh: f64,
    /// Earlier runs the expectation rests on.
    pub references: usize,
    /// Estimated share of the planned energy spent.
    #[serde(with = "float")]
    pub energy_share: f64,
}

/// Why [`crate::Patience`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PatienceEvidence {
    /// Step of the stop.
    pub step: u64,
    /// Evaluations without an improvement.
    pub wait: u32,
    /// The configured patience.
    pub patience: u32,
    /// Best value so far in the metric's own units (`None` when no finite value was seen).
    #[serde(default, with = "opt_float")]
    pub best: Option<f64>,
    /// Step of that best value.
    #[serde(default)]
    pub best_step: Option<u64>,
    /// The baseline the run had to beat, if set.
    #[serde(default, with = "opt_float")]
    pub baseline: Option<f64>,
}

/// Why [`crate::Target`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TargetEvidence {
    /// Step of the stop.
    pub step: u64,
    /// The metric value that reached the target.
    #[serde(with = "float")]
    pub metric: f64,
    /// The target.
    #[serde(with = "float")]
    pub target: f64,
}

/// What diverged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DivergenceCause {
    /// The training loss is NaN or infinite.
    NonFiniteLoss,
    /// The metric is NaN or infinite.
    NonFiniteMetric,
    /// The metric crossed the divergence bound on its bad side.
    PastBound,
}

/// Why [`crate::Divergence`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DivergenceEvidence {
    /// Step of the stop.
    pub step: u64,
    /// What diverged.
    pub cause: DivergenceCause,
    /// The offending value (the loss or the metric; may be NaN or infinite).
    #[serde(with = "float")]
    pub value: f64,
    /// The bound, for [`DivergenceCause::PastBound`].
    #[serde(default, with = "opt_float")]
    pub bound: Option<f64>,
}

/// Which limit of [`crate::Budget`], with its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BudgetLimit {
    /// Energy spent reached the energy budget.
    Energy {
        /// Energy spent, J.
        #[serde(with = "float")]
        used_j: f64,
        /// The budget, J.
        #[serde(with = "float")]
        budget_j: f64,
    },
    /// Emissions reached the carbon budget.
    Carbon {
        /// Emissions so far, g CO2e.
        #[serde(with = "float")]
        used_g: f64,
        /// The budget, g CO2e.
        #[serde(with = "float")]
        budget_g: f64,
        /// The grid intensity used, g CO2e per kWh.
        #[serde(with = "float")]
        intensity_g_per_kwh: f64,
    },
    /// Wall time reached the time budget.
    WallTime {
        /// Seconds since the start.
        #[serde(with = "float")]
        elapsed_s: f64,
        /// The budget, s.
        #[serde(with = "float")]
        budget_s: f64,
    },
    /// A warning: finishing the plan at the energy per step so far would exceed the
    /// (energy or carbon-derived) energy budget.
    EnergyToFinish {
        /// Projected energy of the whole plan, J.
        #[serde(with = "float")]
        projected_j: f64,
        /// The budget, J.
        #[serde(with = "float")]
        budget_j: f64,
        /// Planned steps.
        planned_steps: u64,
    },
}

/// Why [`crate::Budget`] stopped or warned.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BudgetEvidence {
    /// Step of the stop or warning.
    pub step: u64,
    /// The limit and its numbers.
    pub limit: BudgetLimit,
}

/// Serde for an `f64` that may be NaN or infinite (see the module docs).
mod float {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Number(f64),
        Text(String),
    }

    pub(super) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        match Option::<Repr>::deserialize(d)? {
            None => Ok(f64::NAN),
            Some(Repr::Number(x)) => Ok(x),
            Some(Repr::Text(t)) => match t.as_str() {
                "NaN" | "nan" => Ok(f64::NAN),
                "inf" | "+inf" | "Infinity" => Ok(f64::INFINITY),
                "-inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
                other => Err(serde::de::Error::custom(format!(
                    "expected a number, \"NaN\", \"inf\" or \"-inf\", found {other:?}"
                ))),
            },
        }
    }
}

/// Serde for an `Option<f64>` whose value may be NaN or infinite.
mod opt_float {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) => super::float::serialize(x, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::float")] f64);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(a: f64, b: f64) -> bool {
        a == b || (a.is_nan() && b.is_nan())
    }

    fn any_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            proptest::num::f64::NORMAL | proptest::num::f64::ZERO | proptest::num::f64::SUBNORMAL,
        ]
    }

    #[test]
    fn serialises_flat_with_a_kind_tag_and_the_run_directory_names() {
        let e = Evidence::MarginalGain(MarginalEvidence {
            step: 40.0,
            best: 0.9,
            tau_per_kwh: 0.5,
            gain_rate_per_kwh: 0.1,
            expected_gain: 0.01,
            horizon_step: 60.0,
            horizon_kwh: 0.1,
            energy_share: f64::NAN,
            surprise_share: 1.0,
            consecutive: 3,
            log_scale: false,
        });
        let json = serde_json::to_string(&e).unwrap();
        for key in [
            "\"kind\":\"marginal_gain\"",
            "\"tau_per_kwh\":0.5",
            "\"gain_rate_per_kwh\":0.1",
            "\"energy_share\":\"NaN\"",
        ] {
            assert!(json.contains(key), "{key} in {json}");
        }
        let back: Evidence = serde_json::from_str(&json).unwrap();
        let m = back.marginal().copied().unwrap();
        assert!(m.energy_share.is_nan() && m.below_tau());
        assert_eq!(back.policy(), "marginal_gain");
    }

    #[test]
    fn format_version_1_marginal_evidence_still_reads() {
        let old = r#"{"kind":"marginal_gain","step":40.0,"best":0.9,"tau_per_kwh":0.5,
            "optimistic_rate_per_kwh":0.1,"optimistic_gain":0.01,"horizon_step":60.0,
            "horizon_kwh":0.1,"energy_share":0.4,"level":0.95,"consecutive":3}"#;
        let m = serde_json::from_str::<Evidence>(old)
            .unwrap()
            .marginal()
            .copied()
            .unwrap();
        assert_eq!((m.gain_rate_per_kwh, m.expected_gain), (0.1, 0.01));
        assert_eq!(m.surprise_share, 1.0);
    }

    #[test]
    fn a_nan_loss_survives_json() {
        let e = Evidence::Divergence(DivergenceEvidence {
            step: 2,
            cause: DivergenceCause::NonFiniteLoss,
            value: f64::NAN,
            bound: None,
        });
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"cause\":\"non_finite_loss\""), "{json}");
        let Evidence::Divergence(d) = serde_json::from_str(&json).unwrap() else {
            panic!("kind lost: {json}");
        };
        assert!(d.value.is_nan());
        // `null` (what a plain f64 NaN serialises to) reads back as NaN too.
        let Evidence::Target(t) =
            serde_json::from_str(r#"{"kind":"target","step":1,"metric":null,"target":0.5}"#)
                .unwrap()
        else {
            panic!("not a target");
        };
        assert!(t.metric.is_nan());
        assert!(serde_json::from_str::<Evidence>(
            r#"{"kind":"target","step":1,"metric":"many","target":0.5}"#
        )
        .is_err());
    }

    proptest! {
        #[test]
        fn every_kind_round_trips_through_json(
            xs in proptest::collection::vec(any_f64(), 10),
            step in any::<u64>(),
            n in any::<u32>(),
            which in 0usize..10,
        ) {
            let e = match which {
                0 => Evidence::MarginalGain(MarginalEvidence {
                    step: xs[0], best: xs[1], tau_per_kwh: xs[2], gain_rate_per_kwh: xs[3],
                    expected_gain: xs[4], horizon_step: xs[5], horizon_kwh: xs[6],
                    energy_share: xs[7], surprise_share: xs[8], consecutive: n,
                    log_scale: n % 2 == 0,
                }),
                1 => Evidence::Patience(PatienceEvidence {
                    step, wait: n, patience: n / 2, best: Some(xs[0]), best_step: Some(step / 2),
                    baseline: None,
                }),
                2 => Evidence::Target(TargetEvidence { step, metric: xs[0], target: xs[1] }),
                3 => Evidence::Divergence(DivergenceEvidence {
                    step, cause: DivergenceCause::PastBound, value: xs[0], bound: Some(xs[1]),
                }),
                4 => Evidence::Budget(BudgetEvidence {
                    step, limit: BudgetLimit::Energy { used_j: xs[0], budget_j: xs[1] },
                }),
                5 => Evidence::Budget(BudgetEvidence {
                    step, limit: BudgetLimit::Carbon { used_g: xs[0], budget_g: xs[1], intensity_g_per_kwh: xs[2] },
                }),
                6 => Evidence::Budget(BudgetEvidence {
                    step, limit: BudgetLimit::WallTime { elapsed_s: xs[0], budget_s: xs[1] },
                }),
                7 => Evidence::Budget(BudgetEvidence {
                    step, limit: BudgetLimit::EnergyToFinish { projected_j: xs[0], budget_j: xs[1], planned_steps: step },
                }),
                8 => Evidence::Sweep(SweepEvidence {
                    step: xs[0], best: xs[1], incumbent: xs[2], expected_final: xs[3],
                    expected_excess: xs[4], threshold: xs[5], remaining_kwh: xs[6],
                    tau_per_kwh: xs[7], references: n as usize, energy_share: xs[8],
                }),
                _ => Evidence::other(&[("a", if xs[0].is_finite() { xs[0] } else { 0.0 })]),
            };
            let json = serde_json::to_string(&e).unwrap();
            let back: Evidence = serde_json::from_str(&json).unwrap();
            // Compare through the JSON text: NaN != NaN, but its text is stable.
            prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
            prop_assert_eq!(back.policy(), e.policy());
            if let (Evidence::MarginalGain(a), Evidence::MarginalGain(b)) = (&e, &back) {
                prop_assert!(same(a.energy_share, b.energy_share) && same(a.step, b.step));
            }
        }

        #[test]
        fn arbitrary_json_never_panics(s in ".{0,200}") {
            let _ = serde_json::from_str::<Evidence>(&s);
        }
    }
}
