//! The marginal-gain policy exactly as `snuffer replay --policy marginal` and `snuffer whatif`
//! build it: a divergence guard (a NaN or infinite metric stops the run) and the marginal
//! gain per kWh rule, with the constants of `--tuning` ([`RuleTuning`], which the rule's
//! flags such as `--idle-decay` also set) and the choices of [`RuleChoices`].

use snuffer_policy::{
    AnyOf, Divergence, Expectation, MarginalGain, MarginalGainConfig, RuleTuning, StopPolicy, Tau,
};

/// Which expectations of the gain ahead the rule weighs (`--expectation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ExpectationArg {
    /// The larger of the ensemble's and the recent trend's.
    Larger,
    /// The recent trend continued in a straight line, calibrated by the run's backtests
    /// (default).
    #[default]
    Continuation,
    /// The ensemble's calibrated distribution.
    Ensemble,
}

/// The rule's choices that are not constants of [`RuleTuning`] (`--expectation`,
/// `--warmup-steps`, `--horizon-steps`); `None` keeps the rule's default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RuleChoices {
    /// Which expectations of the gain ahead count.
    pub expectation: Option<ExpectationArg>,
    /// No stop before this step (instead of the tuning's share of the planned energy).
    pub warmup_steps: Option<u64>,
    /// Look this many steps ahead instead of to the planned end.
    pub horizon_steps: Option<u64>,
}

/// The policy: `AnyOf(Divergence::non_finite(), MarginalGain(τ, tuning))`, deciding on
/// `predictor`'s distribution when given one (`--method prior`, see
/// [`crate::prior_method`]) and knowing the learning rate's changes at `schedule` (steps, as
/// the policy sees them; `whatif --lr-schedule fixed`; empty when unknown); a constant out
/// of its range is an error naming it.
pub fn marginal_policy(
    tau: Tau,
    tuning: &RuleTuning,
    choices: &RuleChoices,
    predictor: Option<crate::prior_method::RulePredictor>,
    schedule: &[u64],
) -> anyhow::Result<Box<dyn StopPolicy>> {
    let mut c = MarginalGainConfig::new(tau)
        .with_tuning(*tuning)
        .with_schedule(schedule.iter().copied());
    if let Some((p, role)) = predictor {
        c = c.with_predictor(p).with_predictor_role(role);
    }
    if let Some(e) = choices.expectation {
        c = c.with_expectation(match e {
            ExpectationArg::Larger => Expectation::Larger,
            ExpectationArg::Continuation => Expectation::Continuation,
            ExpectationArg::Ensemble => Expectation::Ensemble,
        });
    }
    if let Some(s) = choices.warmup_steps {
        c = c.with_warmup_steps(s);
    }
    if let Some(h) = choices.horizon_steps {
        c = c.with_horizon_steps(h);
    }
    Ok(Box::new(
        AnyOf::new()
            .with(Divergence::non_finite())
            .with(MarginalGain::new(c)?),
    ))
}
