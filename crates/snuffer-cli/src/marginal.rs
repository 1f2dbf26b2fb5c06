//! The marginal-gain policy exactly as `snuffer replay --policy marginal` and `snuffer whatif`
//! build it: a divergence guard (a NaN or infinite metric stops the run) and the marginal
//! gain per kWh rule, tuned by the optional settings.

use snuffer_policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, StopPolicy, Tau};

/// Optional settings of the marginal-gain rule; `None` keeps the rule's default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MarginalTuning {
    /// Confidence level of the optimistic bound (0–1).
    pub level: Option<f64>,
    /// No stop before this share of the planned energy.
    pub warmup_fraction: Option<f64>,
    /// No stop before this step.
    pub warmup_steps: Option<u64>,
    /// No stop before this many evaluations.
    pub min_evaluations: Option<usize>,
    /// Consecutive checks that must agree.
    pub consecutive: Option<u32>,
    /// Look this many steps ahead instead of to the planned end.
    pub horizon_steps: Option<u64>,
}

/// The policy: `AnyOf(Divergence::non_finite(), MarginalGain(τ, tuning))`.
pub fn marginal_policy(tau: Tau, tuning: &MarginalTuning) -> anyhow::Result<Box<dyn StopPolicy>> {
    let mut c = MarginalGainConfig::new(tau);
    if let Some(l) = tuning.level {
        c = c.with_level(l);
    }
    if let Some(f) = tuning.warmup_fraction {
        c = c.with_warmup_fraction(f);
    }
    if let Some(s) = tuning.warmup_steps {
        c = c.with_warmup_steps(s);
    }
    if let Some(n) = tuning.min_evaluations {
        c = c.with_min_evaluations(n);
    }
    if let Some(k) = tuning.consecutive {
        c = c.with_consecutive(k);
    }
    if let Some(h) = tuning.horizon_steps {
        c = c.with_horizon_steps(h);
    }
    Ok(Box::new(
        AnyOf::new()
            .with(Divergence::non_finite())
            .with(MarginalGain::new(c)?),
    ))
}
