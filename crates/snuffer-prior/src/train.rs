//! Training examples from the synthetic prior: a curve is cut at a random share, the points
//! before the cut are what the model reads, and [`QUERIES`] later points (noise included,
//! as LC-PFN trains) are what it must predict.

use crate::bars::{bin_of, edges};
use crate::encode::{encode, CurveQuery, FEATURES, MAX_SEEN};
use crate::generator::{Generator, SyntheticCurve};
use crate::model::{key_mask, PriorModel};
use candle_core::{Device, Result, Tensor, D};
use rand::Rng;

/// Query points per training curve.
pub const QUERIES: usize = 8;

/// A batch ready for the model.
#[derive(Debug, Clone)]
pub struct Batch {
    /// (batch, MAX_SEEN + QUERIES, FEATURES).
    pub tokens: Tensor,
    /// (batch, 1, 1, MAX_SEEN + QUERIES).
    pub mask: Tensor,
    /// (batch, QUERIES) target bins, u32.
    pub targets: Tensor,
    /// (batch, QUERIES) natural log of the target bins' widths.
    pub log_widths: Tensor,
}

/// One training example: padded tokens, seen count, target bins and their log widths.
struct Example {
    tokens: Vec<f32>,
    seen: usize,
    targets: Vec<u32>,
    log_widths: Vec<f32>,
}

fn example<R: Rng>(curve: &SyntheticCurve, rng: &mut R, edges: &[f64]) -> Option<Example> {
    let n = curve.shares.len();
    let cut = 0.03 + 0.92 * rng.random::<f64>();
    let k = curve.shares.partition_point(|&s| s <= cut);
    if k < 2 || k >= n || curve.values[..k].iter().filter(|v| v.is_finite()).count() < 2 {
        return None;
    }
    let idx: Vec<usize> = (0..QUERIES).map(|_| rng.random_range(k..n)).collect();
    let horizons: Vec<f64> = idx.iter().map(|&i| curve.shares[i]).collect();
    let (lo, hi) = curve.metric.bounds();
    let q = CurveQuery {
        shares: &curve.shares[..k],
        values: &curve.values[..k],
        direction: curve.metric.direction(),
        bounds: (Some(lo), hi.is_finite().then_some(hi)),
        planned_evaluations: n as f64,
        schedule: curve.schedule_known.then_some(curve.schedule.as_slice()),
        horizons: &horizons,
    };
    let e = encode(&q)?;
    let mut tokens = vec![0f32; (MAX_SEEN + QUERIES) * FEATURES];
    tokens[..e.seen * FEATURES].copy_from_slice(&e.tokens[..e.seen * FEATURES]);
    tokens[MAX_SEEN * FEATURES..].copy_from_slice(&e.tokens[e.seen * FEATURES..]);
    let mut targets = Vec::with_capacity(QUERIES);
    let mut log_widths = Vec::with_capacity(QUERIES);
    for &i in &idx {
        let b = bin_of(edges, e.normaliser.to_y(curve.values[i]));
        targets.push(b as u32);
        log_widths.push((edges[b + 1] - edges[b]).ln() as f32);
    }
    Some(Example {
        tokens,
        seen: e.seen,
        targets,
        log_widths,
    })
}

/// Draws `size` examples (curves that cannot be cut usefully are redrawn).
pub fn batch<R: Rng>(
    generator: &Generator,
    rng: &mut R,
    size: usize,
    device: &Device,
) -> Result<Batch> {
    let edges = edges();
    let mut tokens = Vec::with_capacity(size * (MAX_SEEN + QUERIES) * FEATURES);
    let (mut seen, mut targets, mut widths) = (Vec::new(), Vec::new(), Vec::new());
    while seen.len() < size {
        let curve = generator.sample(rng);
        if let Some(e) = example(&curve, rng, &edges) {
            tokens.extend(e.tokens);
            seen.push(e.seen);
            targets.extend(e.targets);
            widths.extend(e.log_widths);
        }
    }
    Ok(Batch {
        tokens: Tensor::from_vec(tokens, (size, MAX_SEEN + QUERIES, FEATURES), device)?,
        mask: key_mask(&seen, MAX_SEEN, QUERIES, device)?,
        targets: Tensor::from_vec(targets, (size, QUERIES), device)?,
        log_widths: Tensor::from_vec(widths, (size, QUERIES), device)?,
    })
}

/// Mean negative log-likelihood (nats) of the batch's targets as densities of the
/// normalised metric: `−ln(p_bin / width_bin)`.
pub fn nll(model: &PriorModel, batch: &Batch) -> Result<Tensor> {
    let logp = model.forward(&batch.tokens, &batch.mask, QUERIES)?;
    let picked = logp
        .gather(&batch.targets.unsqueeze(D::Minus1)?, D::Minus1)?
        .squeeze(D::Minus1)?;
    (batch.log_widths.clone() - picked)?.mean_all()
}

/// Mean NLL over `curves` fresh prior curves drawn from `rng` (in batches of 250).
pub fn nll_on_fresh<R: Rng>(
    model: &PriorModel,
    generator: &Generator,
    rng: &mut R,
    curves: usize,
) -> Result<f64> {
    let mut total = 0.0;
    let mut done = 0;
    while done < curves {
        let n = (curves - done).min(250);
        let b = batch(generator, rng, n, &Device::Cpu)?;
        total += f64::from(nll(model, &b)?.to_scalar::<f32>()?) * n as f64;
        done += n;
    }
    Ok(total / curves as f64)
}
