//! [`LearnedPrior`]: the trained model behind [`snuffer_forecast::CurvePredictor`].

use crate::bars::{edges, BarDistribution};
use crate::encode::{encode, CurveQuery, Normaliser, FEATURES};
use crate::model::{key_mask, ModelConfig, PriorModel};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use snuffer_forecast::{CurvePredictor, Predicted, PredictorQuery};
use std::path::Path;
use std::sync::Arc;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum PriorError {
    /// The weights file could not be read or does not hold this model's tensors.
    #[error("cannot load the prior's weights from {source_name}: {message} (expected a safetensors file written by the train_prior example for a {config:?} model)")]
    Weights {
        /// Where the weights came from.
        source_name: String,
        /// What went wrong.
        message: String,
        /// The model size expected.
        config: ModelConfig,
    },
    /// The model failed on a request.
    #[error("the prior's model failed: {0}")]
    Model(#[from] candle_core::Error),
}

/// The trained prior: a [`PriorModel`] with its weights, on the CPU.
#[derive(Debug, Clone)]
pub struct LearnedPrior {
    model: PriorModel,
    edges: Arc<Vec<f64>>,
}

/// Sub-points per bin in the atoms handed to the stop rule.
const ATOMS_PER_BIN: usize = 4;

/// The shipped weights (`model/prior.safetensors`, trained by the `train_prior` example;
/// see `model/MODEL_CARD.md`), compiled into the crate: nothing is downloaded.
pub const SHIPPED_WEIGHTS: &[u8] = include_bytes!("../model/prior.safetensors");

impl LearnedPrior {
    /// The shipped model, loaded once per process and shared.
    ///
    /// ```
    /// let prior = snuffer_prior::LearnedPrior::shipped()?;
    /// assert_eq!(prior.model().config(), snuffer_prior::model::ModelConfig::default());
    /// # Ok::<(), snuffer_prior::PriorError>(())
    /// ```
    pub fn shipped() -> Result<Arc<LearnedPrior>, PriorError> {
        static SHIPPED: std::sync::OnceLock<Arc<LearnedPrior>> = std::sync::OnceLock::new();
        if let Some(p) = SHIPPED.get() {
            return Ok(p.clone());
        }
        let p = Arc::new(LearnedPrior::from_bytes(
            SHIPPED_WEIGHTS,
            ModelConfig::default(),
            "the shipped model/prior.safetensors",
        )?);
        Ok(SHIPPED.get_or_init(|| p).clone())
    }

    /// The model.
    pub fn model(&self) -> &PriorModel {
        &self.model
    }

    /// From safetensors bytes (e.g. `include_bytes!`).
    pub fn from_bytes(
        bytes: &[u8],
        config: ModelConfig,
        source_name: &str,
    ) -> Result<LearnedPrior, PriorError> {
        let bad = |message: String| PriorError::Weights {
            source_name: source_name.to_string(),
            message,
            config,
        };
        let vb = VarBuilder::from_buffered_safetensors(bytes.to_vec(), DType::F32, &Device::Cpu)
            .map_err(|e| bad(e.to_string()))?;
        let model = PriorModel::new(vb, config).map_err(|e| bad(e.to_string()))?;
        Ok(LearnedPrior::from_model(model))
    }

    /// From a safetensors file.
    pub fn from_file(path: &Path, config: ModelConfig) -> Result<LearnedPrior, PriorError> {
        let bytes = std::fs::read(path).map_err(|e| PriorError::Weights {
            source_name: path.display().to_string(),
            message: e.to_string(),
            config,
        })?;
        LearnedPrior::from_bytes(&bytes, config, &path.display().to_string())
    }

    /// Around a model (e.g. one being trained).
    pub fn from_model(model: PriorModel) -> LearnedPrior {
        LearnedPrior {
            model,
            edges: Arc::new(edges()),
        }
    }

    /// The bar distribution at each horizon of `query`, and the normaliser that maps it back
    /// to the metric; `None` when the query cannot be encoded (see [`encode`]).
    pub fn predict_bars(
        &self,
        query: &CurveQuery<'_>,
    ) -> Result<Option<(Vec<BarDistribution>, Normaliser)>, PriorError> {
        let Some(e) = encode(query) else {
            return Ok(None);
        };
        let dev = Device::Cpu;
        let t = e.seen + e.queries;
        let x = Tensor::from_vec(e.tokens, (1, t, FEATURES), &dev)?;
        let mask = key_mask(&[e.seen], e.seen, e.queries, &dev)?;
        let logp = self.model.forward(&x, &mask, e.queries)?;
        let probs = logp
            .exp()?
            .squeeze(0)?
            .to_dtype(DType::F64)?
            .to_vec2::<f64>()?;
        let bars = probs
            .into_iter()
            .map(|p| BarDistribution {
                probs: p,
                edges: self.edges.clone(),
            })
            .collect();
        Ok(Some((bars, e.normaliser)))
    }
}

impl CurvePredictor for LearnedPrior {
    fn name(&self) -> &str {
        "prior"
    }

    fn predict(&self, q: &PredictorQuery<'_>) -> Option<Vec<Predicted>> {
        if !(q.planned_steps.is_finite() && q.planned_steps > 0.0) {
            return None;
        }
        let plan = q.planned_steps;
        let shares: Vec<f64> = q.steps.iter().map(|s| s / plan).collect();
        let last = shares.last().copied().filter(|&s| s > 0.0)?;
        let horizons: Vec<f64> = q.horizons.iter().map(|h| (h / plan).min(1.5)).collect();
        let schedule: Vec<f64> = q.schedule.iter().map(|s| s / plan).collect();
        let query = CurveQuery {
            shares: &shares,
            values: q.values,
            direction: q.direction,
            bounds: (q.bounds.lower, q.bounds.upper),
            planned_evaluations: shares.len() as f64 / last.min(1.0),
            schedule: (!schedule.is_empty()).then_some(schedule.as_slice()),
            horizons: &horizons,
        };
        let (bars, norm) = self.predict_bars(&query).ok()??;
        bars.iter()
            .map(|b| {
                let mut values = Vec::with_capacity(b.probs.len() * ATOMS_PER_BIN);
                let mut weights = Vec::with_capacity(values.capacity());
                for (k, &p) in b.probs.iter().enumerate() {
                    let (lo, hi) = (b.edges[k], b.edges[k + 1]);
                    for j in 0..ATOMS_PER_BIN {
                        let y = lo + (hi - lo) * (j as f64 + 0.5) / ATOMS_PER_BIN as f64;
                        let mut v = q.direction.orient(norm.to_oriented_metric(y));
                        if let Some(l) = q.bounds.lower {
                            v = v.max(l);
                        }
                        if let Some(u) = q.bounds.upper {
                            v = v.min(u);
                        }
                        values.push(v);
                        weights.push(p / ATOMS_PER_BIN as f64);
                    }
                }
                Predicted::new(values, weights)
            })
            .collect()
    }
}
