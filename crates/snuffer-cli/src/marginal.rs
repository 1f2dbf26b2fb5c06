//! The marginal-gain policy exactly as `snuffer replay --policy marginal` and `snuffer whatif`
//! build it: a divergence guard (a NaN or infinite metric stops the run) and the marginal
//! gain per kWh rule, tuned by the optional settings.

use snuffer_policy::{
    AnyOf, Divergence, Expectation, MarginalGain, MarginalGainConfig, StopPolicy, Tau,
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

/// Optional settings of the marginal-gain rule; `None` keeps the rule's default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MarginalTuning {
    /// Share of the plan over which an idle run's allowance for a late start decays.
    pub idle_decay: Option<f64>,
    /// Which expectations of the gain ahead count.
    pub expectation: Option<ExpectationArg>,
    /// Sweeps: fewest earlier runs the sweep rule needs.
    pub min_references: Option<usize>,
    /// Sweeps: the most the sweep's best may be expected to lose by one stop (share of the
    /// best run's improvement).
    pub best_loss_share: Option<f64>,
    /// Sweeps: no stop by the sweep rule before this share of the planned energy.
    pub sweep_warmup_fraction: Option<f64>,
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
    marginal_policy_with(tau, tuning, None)
}

/// [`marginal_policy`] deciding on `predictor`'s distribution when given one
/// (`--method prior`, see [`crate::prior_method`]).
pub fn marginal_policy_with(
    tau: Tau,
    tuning: &MarginalTuning,
    predictor: Option<std::sync::Arc<dyn snuffer_forecast::CurvePredictor>>,
) -> anyhow::Result<Box<dyn StopPolicy>> {
    let mut c = MarginalGainConfig::new(tau);
    if let Some(p) = predictor {
        c = c.with_predictor(p);
    }
    if let Some(d) = tuning.idle_decay {
        c = c.with_idle_decay(d);
    }
    if let Some(e) = tuning.expectation {
        c = c.with_expectation(match e {
            ExpectationArg::Larger => Expectation::Larger,
            ExpectationArg::Continuation => Expectation::Continuation,
            ExpectationArg::Ensemble => Expectation::Ensemble,
        });
    }
    if let Some(n) = tuning.min_references {
        c = c.with_min_references(n);
    }
    if let Some(s) = tuning.best_loss_share {
        c = c.with_best_loss_share(s);
    }
    if let Some(f) = tuning.sweep_warmup_fraction {
        c = c.with_sweep_warmup_fraction(f);
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
