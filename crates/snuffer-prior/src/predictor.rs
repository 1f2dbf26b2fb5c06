//! [`LearnedPrior`]: the trained model behind [`snuffer_forecast::CurvePredictor`].

use crate::bars::{edges, BarDistribution};
use crate::encode::{encode, CurveQuery, Encoded, Normaliser, FEATURES};
use crate::infer::FastForward;
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
///
/// Requests are answered by a plain-Rust forward pass over a copy of the model's weights
/// taken when the `LearnedPrior` is built: the same answer as the candle model up to float
/// round-off (within 10⁻⁴ in every bin's probability, tested), a third of the time for a
/// decision (`benches/decision.rs`). A model trained further afterwards needs a new
/// `LearnedPrior`.
#[derive(Debug, Clone)]
pub struct LearnedPrior {
    model: PriorModel,
    /// `None` only if the weights could not be copied (then candle answers).
    fast: Option<Arc<FastForward>>,
    edges: Arc<Vec<f64>>,
}

/// Sub-points per bin in the atoms handed to the stop rule.
const ATOMS_PER_BIN: usize = 4;

/// The synthetic mixture the shipped weights were trained on ([`crate::generator::Mixture::named`]),
/// chosen leave-one-source-out among the named ones (see `model/MODEL_CARD.md`).
pub const SHIPPED_MIXTURE: &str = "progress";

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

    /// Around a model (e.g. one being trained): its weights as they are now.
    pub fn from_model(model: PriorModel) -> LearnedPrior {
        LearnedPrior {
            fast: FastForward::new(&model).ok().map(Arc::new),
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
        let probs = match &self.fast {
            Some(f) => f.probabilities(&e.tokens, e.seen),
            None => self.candle_probabilities(&e)?,
        };
        let bars = probs
            .into_iter()
            .map(|p| BarDistribution {
                probs: p,
                edges: self.edges.clone(),
            })
            .collect();
        Ok(Some((bars, e.normaliser)))
    }

    /// Probability per bin for each query of `e`, through the candle model (the reference
    /// the fast forward pass is tested against).
    fn candle_probabilities(&self, e: &Encoded) -> Result<Vec<Vec<f64>>, PriorError> {
        let dev = Device::Cpu;
        let t = e.seen + e.queries;
        let x = Tensor::from_slice(&e.tokens, (1, t, FEATURES), &dev)?;
        let mask = key_mask(&[e.seen], e.seen, e.queries, &dev)?;
        let logp = self.model.forward(&x, &mask, e.queries)?;
        Ok(logp
            .exp()?
            .squeeze(0)?
            .to_dtype(DType::F64)?
            .to_vec2::<f64>()?)
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
        // The atoms sit at the same places at every horizon (the bins do); only their weights
        // differ. They are monotone in the bins, so they go to `Predicted::new` in increasing
        // order and its sort finds them sorted.
        let a = ATOMS_PER_BIN as f64;
        let mut values: Vec<f64> = self
            .edges
            .windows(2)
            .flat_map(|e| {
                (0..ATOMS_PER_BIN).map(move |j| e[0] + (e[1] - e[0]) * (j as f64 + 0.5) / a)
            })
            .map(|y| {
                let mut v = q.direction.orient(norm.to_oriented_metric(y));
                if let Some(l) = q.bounds.lower {
                    v = v.max(l);
                }
                if let Some(u) = q.bounds.upper {
                    v = v.min(u);
                }
                v
            })
            .collect();
        let reversed = values.first() > values.last();
        if reversed {
            values.reverse();
        }
        bars.iter()
            .map(|b| {
                let mut weights: Vec<f64> = b
                    .probs
                    .iter()
                    .flat_map(|&p| std::iter::repeat_n(p / a, ATOMS_PER_BIN))
                    .collect();
                if reversed {
                    weights.reverse();
                }
                Predicted::new(values.clone(), weights)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;
    use proptest::prelude::*;
    use snuffer_forecast::{Bounds, Direction};

    /// The largest absolute difference in any bin's probability between the fast forward
    /// pass and candle's, over the queries of `e`.
    /// Both the pass this CPU runs (AVX2 and FMA where it has them) and the portable one are
    /// compared.
    fn max_difference(prior: &LearnedPrior, e: &Encoded) -> f64 {
        let fast = prior.fast.as_ref().expect("the weights were copied");
        let reference = prior.candle_probabilities(e).expect("candle runs");
        assert_eq!(reference.len(), e.queries);
        [
            fast.probabilities(&e.tokens, e.seen),
            fast.probabilities_with::<false>(&e.tokens, e.seen),
        ]
        .iter()
        .flat_map(|probs| {
            assert_eq!(probs.len(), e.queries);
            probs.iter().zip(&reference).flat_map(|(a, b)| {
                assert_eq!(a.len(), b.len());
                a.iter().zip(b).map(|(x, y)| (x - y).abs())
            })
        })
        .fold(0.0, f64::max)
    }

    /// Shares, values, direction and bounds of a test curve.
    type Curve = (Vec<f64>, Vec<f64>, Direction, (Option<f64>, Option<f64>));

    /// A real-looking curve of `n` points of kind `kind`: accuracy rising with noise, a loss
    /// falling with a step decay, a plateau that breaks, or one that collapses.
    fn curve(kind: usize, n: usize) -> Curve {
        let shares: Vec<f64> = (1..=n).map(|i| 0.6 * i as f64 / n as f64).collect();
        let noise = |i: usize| 0.004 * (((i * 7919) % 13) as f64 / 13.0 - 0.5);
        let values = shares
            .iter()
            .enumerate()
            .map(|(i, &s)| match kind {
                0 => 0.9 - 0.6 * (s * 50.0 + 1.0).powf(-0.5) + noise(i),
                1 => 2.5 * (s * 30.0 + 1.0).powf(-0.3) * if s > 0.4 { 0.7 } else { 1.0 } + noise(i),
                2 => 0.3 + if s > 0.5 { 0.2 * (s - 0.5) } else { 0.0 } + noise(i),
                _ => {
                    if s > 0.45 && i > 0 {
                        f64::NAN
                    } else {
                        1.0 + s + noise(i)
                    }
                }
            })
            .collect();
        let (direction, bounds) = match kind {
            1 => (Direction::LowerIsBetter, (Some(0.0), None)),
            3 => (Direction::LowerIsBetter, (None, None)),
            _ => (Direction::HigherIsBetter, (Some(0.0), Some(1.0))),
        };
        (shares, values, direction, bounds)
    }

    #[test]
    fn fast_forward_agrees_with_candle_on_the_shipped_weights() {
        let prior = LearnedPrior::shipped().expect("the shipped model loads");
        let mut worst: f64 = 0.0;
        let mut cases = 0;
        for n in [1, 7, 48, 200] {
            for horizons in [1, 8, 16] {
                for kind in 0..4 {
                    for known in [false, true] {
                        let (shares, values, direction, bounds) = curve(kind, n);
                        let hs: Vec<f64> = (1..=horizons)
                            .map(|k| 0.6 + 0.9 * k as f64 / horizons as f64)
                            .collect();
                        let q = CurveQuery {
                            shares: &shares,
                            values: &values,
                            direction,
                            bounds,
                            planned_evaluations: n as f64 / 0.6,
                            schedule: known.then_some(&[0.4, 0.8][..]),
                            horizons: &hs,
                        };
                        let Some(e) = encode(&q) else {
                            continue;
                        };
                        let d = max_difference(&prior, &e);
                        assert!(d <= 1e-4, "{n} seen, {horizons} horizons, kind {kind}: {d}");
                        worst = worst.max(d);
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 4 * 3 * 4 * 2);
        eprintln!("largest difference in a probability over {cases} requests: {worst:.2e}");
    }

    #[test]
    fn a_model_in_training_is_answered_alike_and_as_its_weights_were() {
        let vm = VarMap::new();
        let model = PriorModel::new(
            VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu),
            ModelConfig::default(),
        )
        .expect("a model");
        let prior = LearnedPrior::from_model(model);
        let (shares, values, direction, bounds) = curve(0, 30);
        let q = CurveQuery {
            shares: &shares,
            values: &values,
            direction,
            bounds,
            planned_evaluations: 50.0,
            schedule: None,
            horizons: &[0.7, 1.0],
        };
        let e = encode(&q).expect("encodes");
        assert!(max_difference(&prior, &e) <= 1e-4);
    }

    #[test]
    fn the_atoms_are_those_of_the_bars() {
        let prior = LearnedPrior::shipped().expect("the shipped model loads");
        for kind in 0..4 {
            let (shares, values, direction, bounds) = curve(kind, 40);
            let steps: Vec<f64> = shares.iter().map(|s| s * 1000.0).collect();
            let horizons = [700.0, 1000.0];
            let q = PredictorQuery {
                steps: &steps,
                values: &values,
                direction,
                bounds: Bounds {
                    lower: bounds.0,
                    upper: bounds.1,
                },
                planned_steps: 1000.0,
                schedule: &[],
                horizons: &horizons,
            };
            let p = prior.predict(&q).expect("an answer");
            let query = CurveQuery {
                shares: &shares,
                values: &values,
                direction,
                bounds,
                planned_evaluations: 40.0 / 0.6,
                schedule: None,
                horizons: &[0.7, 1.0],
            };
            let (bars, norm) = prior
                .predict_bars(&query)
                .expect("runs")
                .expect("an answer");
            assert_eq!(p.len(), 2);
            for (d, b) in p.iter().zip(&bars) {
                // Mean and expected excess from the bars' own sub-points.
                let mut mean = 0.0;
                for (k, &pk) in b.probs.iter().enumerate() {
                    for j in 0..ATOMS_PER_BIN {
                        let y = b.edges[k]
                            + (b.edges[k + 1] - b.edges[k]) * (j as f64 + 0.5)
                                / ATOMS_PER_BIN as f64;
                        let mut v = direction.orient(norm.to_oriented_metric(y));
                        if let Some(l) = bounds.0 {
                            v = v.max(l);
                        }
                        if let Some(u) = bounds.1 {
                            v = v.min(u);
                        }
                        mean += pk / ATOMS_PER_BIN as f64 * v;
                    }
                }
                let total: f64 = b.probs.iter().sum();
                mean /= total;
                assert!(
                    (d.mean() - mean).abs() <= 1e-9 * mean.abs().max(1.0),
                    "{kind}"
                );
                assert!(d.quantile(0.1) <= d.quantile(0.5) && d.quantile(0.5) <= d.quantile(0.9));
                let best = direction.orient(values[0]);
                let excess = d.expected_excess(direction, best);
                assert!(excess.is_finite() && excess >= 0.0);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn fast_forward_agrees_with_candle_on_random_requests(
            values in proptest::collection::vec(-50.0f64..50.0, 1..240),
            horizons in proptest::collection::vec(0.0f64..1.5, 1..=16),
            lower in any::<bool>(),
            schedule in proptest::option::of(proptest::collection::vec(0.0f64..1.0, 0..4)),
        ) {
            let prior = LearnedPrior::shipped().expect("the shipped model loads");
            let n = values.len();
            let shares: Vec<f64> = (1..=n).map(|i| i as f64 / (n as f64 + 3.0)).collect();
            let q = CurveQuery {
                shares: &shares,
                values: &values,
                direction: if lower { Direction::LowerIsBetter } else { Direction::HigherIsBetter },
                bounds: (None, None),
                planned_evaluations: n as f64 + 3.0,
                schedule: schedule.as_deref(),
                horizons: &horizons,
            };
            let e = encode(&q).expect("encodes");
            let d = max_difference(&prior, &e);
            prop_assert!(d <= 1e-4, "{}", d);
        }
    }
}
