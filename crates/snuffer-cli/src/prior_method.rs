//! `--method fitted|prior|both` of `snuffer replay` (and `prior` among `snuffer forecast`'s
//! methods): whether the marginal rule decides on the run's fitted forecast (the default),
//! on the learned prior shipped in `snuffer-prior`, or stops only when both agree (options;
//! their figures per source are in `crates/snuffer-prior/model/MODEL_CARD.md`).

use snuffer_forecast::CurvePredictor;
use snuffer_policy::PredictorRole;
use std::path::Path;
use std::sync::Arc;

/// A predictor the marginal rule asks, and its role there.
pub type RulePredictor = (Arc<dyn CurvePredictor>, PredictorRole);

/// What the marginal rule's expectations come from (`--method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RuleMethod {
    /// The run's own calibrated forecast (default).
    #[default]
    Fitted,
    /// The learned prior: a small transformer trained on synthetic curves, conditioned on
    /// the run's points and plan.
    Prior,
    /// The learned prior calibrated on the run in front of it
    /// (`snuffer_forecast::SelfCalibrated`: its gains stretched by how the run's own past
    /// beat or fell short of its predictions).
    PriorCalibrated,
    /// Both: the run stops only when neither the fitted forecast nor the prior expects the
    /// rest of the run to pay.
    Both,
}

impl RuleMethod {
    /// The predictor the rule asks and its role, `None` for the fitted forecast alone;
    /// `weights` replaces the shipped prior's (`--prior-weights`).
    pub fn predictor(self, weights: Option<&Path>) -> anyhow::Result<Option<RulePredictor>> {
        Ok(match self {
            RuleMethod::Fitted if weights.is_some() => anyhow::bail!(
                "--prior-weights is for the learned prior: add --method prior (or both), or drop --prior-weights"
            ),
            RuleMethod::Fitted => None,
            RuleMethod::Prior => Some((prior(weights)?, PredictorRole::Decide)),
            RuleMethod::PriorCalibrated => Some((
                Arc::new(snuffer_forecast::SelfCalibrated::new(prior(weights)?)),
                PredictorRole::Decide,
            )),
            RuleMethod::Both => Some((prior(weights)?, PredictorRole::Confirm)),
        })
    }
}

/// The learned prior: the shipped one, or the weights at `weights` (a safetensors file the
/// `train_prior` example wrote for the default model size).
pub fn prior(weights: Option<&Path>) -> anyhow::Result<Arc<dyn CurvePredictor>> {
    let p: Arc<dyn CurvePredictor> = match weights {
        None => snuffer_prior::LearnedPrior::shipped()?,
        Some(path) => Arc::new(snuffer_prior::LearnedPrior::from_file(
            path,
            snuffer_prior::model::ModelConfig::default(),
        )?),
    };
    Ok(p)
}

/// Median and central `level` interval of the prior's prediction at `horizon` for a run seen
/// up to `steps` (its plan ending at `planned`); `None` when the prior cannot answer.
pub fn prior_interval(
    prior: &dyn CurvePredictor,
    steps: &[f64],
    values: &[f64],
    direction: snuffer_forecast::Direction,
    bounds: snuffer_forecast::Bounds,
    planned: f64,
    level: f64,
) -> Option<(f64, f64, f64)> {
    let p = prior
        .predict(&snuffer_forecast::PredictorQuery {
            steps,
            values,
            direction,
            bounds,
            planned_steps: planned,
            schedule: &[],
            horizons: &[planned],
        })?
        .pop()?;
    let tail = (1.0 - level) / 2.0;
    Some((p.quantile(0.5), p.quantile(tail), p.quantile(1.0 - tail)))
}
