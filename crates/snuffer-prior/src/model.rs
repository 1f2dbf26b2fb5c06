//! The PFN-style transformer: tokens in, a bar distribution per query token out.
//!
//! Every token (seen point or query, see [`crate::encode`]) is embedded by a linear layer;
//! `layers` pre-norm transformer blocks follow (multi-head self-attention, a GELU
//! feed-forward of twice the width); a final layer norm and a linear head give [`BINS`]
//! logits per query. Attention goes to seen tokens only (padding and queries are masked as
//! keys), so queries do not see each other and the answer at one share does not depend on
//! which other shares were asked — as in LC-PFN.

use crate::bars::BINS;
use crate::encode::FEATURES;
use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{layer_norm, linear, LayerNorm, LayerNormConfig, Linear, VarBuilder};

/// Size of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelConfig {
    /// Width of every token's representation.
    pub width: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads (divides `width`).
    pub heads: usize,
}

impl Default for ModelConfig {
    /// The shipped model: width 64, 3 blocks, 4 heads (about 0.11 M parameters).
    fn default() -> Self {
        ModelConfig {
            width: 64,
            layers: 3,
            heads: 4,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) ln1: LayerNorm,
    pub(crate) qkv: Linear,
    pub(crate) proj: Linear,
    pub(crate) ln2: LayerNorm,
    pub(crate) ff1: Linear,
    pub(crate) ff2: Linear,
    heads: usize,
}

impl Block {
    fn new(vb: VarBuilder, width: usize, heads: usize) -> Result<Block> {
        let ln = LayerNormConfig::default();
        Ok(Block {
            ln1: layer_norm(width, ln, vb.pp("ln1"))?,
            qkv: linear(width, 3 * width, vb.pp("qkv"))?,
            proj: linear(width, width, vb.pp("proj"))?,
            ln2: layer_norm(width, ln, vb.pp("ln2"))?,
            ff1: linear(width, 2 * width, vb.pp("ff1"))?,
            ff2: linear(2 * width, width, vb.pp("ff2"))?,
            heads,
        })
    }

    /// `x`: (batch, tokens, width); `mask`: (batch, 1, 1, tokens), 0 or −1e9 per key.
    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t, w) = x.dims3()?;
        let hd = w / self.heads;
        let qkv = self
            .qkv
            .forward(&self.ln1.forward(x)?)?
            .reshape((b, t, 3, self.heads, hd))?
            .permute((2, 0, 3, 1, 4))?; // (3, b, heads, t, hd)
        let q = qkv.get(0)?.contiguous()?;
        let k = qkv.get(1)?.contiguous()?;
        let v = qkv.get(2)?.contiguous()?;
        let scores = (q.matmul(&k.t()?.contiguous()?)? / (hd as f64).sqrt())?;
        let scores = scores.broadcast_add(mask)?;
        let att = candle_nn::ops::softmax_last_dim(&scores)?;
        let out = att
            .matmul(&v)?
            .transpose(1, 2)?
            .contiguous()?
            .reshape((b, t, w))?;
        let x = (x + self.proj.forward(&out)?)?;
        let ff = self
            .ff2
            .forward(&self.ff1.forward(&self.ln2.forward(&x)?)?.gelu()?)?;
        x + ff
    }
}

/// The transformer.
#[derive(Debug, Clone)]
pub struct PriorModel {
    pub(crate) embed: Linear,
    pub(crate) blocks: Vec<Block>,
    pub(crate) ln_f: LayerNorm,
    pub(crate) head: Linear,
    config: ModelConfig,
}

impl PriorModel {
    /// A model whose weights come from `vb` (a `VarMap` when training, a safetensors file
    /// when predicting).
    pub fn new(vb: VarBuilder, config: ModelConfig) -> Result<PriorModel> {
        if config.heads == 0 || !config.width.is_multiple_of(config.heads) {
            return Err(candle_core::Error::Msg(format!(
                "model width {} is not a multiple of heads {}",
                config.width, config.heads
            )));
        }
        let blocks = (0..config.layers)
            .map(|i| Block::new(vb.pp(format!("block{i}")), config.width, config.heads))
            .collect::<Result<Vec<_>>>()?;
        Ok(PriorModel {
            embed: linear(FEATURES, config.width, vb.pp("embed"))?,
            blocks,
            ln_f: layer_norm(config.width, LayerNormConfig::default(), vb.pp("ln_f"))?,
            head: linear(config.width, BINS, vb.pp("head"))?,
            config,
        })
    }

    /// The size.
    pub fn config(&self) -> ModelConfig {
        self.config
    }

    /// Logits per query: `tokens` (batch, seen_max + queries, FEATURES) with the seen
    /// tokens first (padded), `key_mask` (batch, 1, 1, tokens) 0 for a real seen token and
    /// −1e9 otherwise; returns (batch, queries, BINS) log-probabilities.
    pub fn forward(&self, tokens: &Tensor, key_mask: &Tensor, queries: usize) -> Result<Tensor> {
        let mut x = self.embed.forward(tokens)?;
        for b in &self.blocks {
            x = b.forward(&x, key_mask)?;
        }
        let t = x.dim(1)?;
        let x = x.narrow(1, t - queries, queries)?;
        let logits = self.head.forward(&self.ln_f.forward(&x)?)?;
        candle_nn::ops::log_softmax(&logits, D::Minus1)
    }
}

/// A key mask for `seen` real seen tokens out of `seen_max`, followed by `queries` query
/// tokens (masked as keys): (1, 1, 1, seen_max + queries) values.
pub fn key_mask_row(seen: usize, seen_max: usize, queries: usize) -> Vec<f32> {
    (0..seen_max + queries)
        .map(|i| if i < seen { 0.0 } else { -1e9 })
        .collect()
}

/// A batch's key mask tensor from per-row seen counts.
pub fn key_mask(
    seen: &[usize],
    seen_max: usize,
    queries: usize,
    device: &Device,
) -> Result<Tensor> {
    let rows: Vec<f32> = seen
        .iter()
        .flat_map(|&s| key_mask_row(s, seen_max, queries))
        .collect();
    Tensor::from_vec(rows, (seen.len(), 1, 1, seen_max + queries), device)?.to_dtype(DType::F32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_nn::VarMap;

    #[test]
    fn output_is_a_distribution_per_query_and_queries_do_not_interact() -> Result<()> {
        let dev = Device::Cpu;
        let vm = VarMap::new();
        let m = PriorModel::new(
            VarBuilder::from_varmap(&vm, DType::F32, &dev),
            ModelConfig::default(),
        )?;
        let seen_max = 5;
        let toks: Vec<f32> = (0..(seen_max + 2) * FEATURES)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let x = Tensor::from_vec(toks.clone(), (1, seen_max + 2, FEATURES), &dev)?;
        let mask = key_mask(&[3], seen_max, 2, &dev)?;
        let lp = m.forward(&x, &mask, 2)?;
        assert_eq!(lp.dims(), &[1, 2, BINS]);
        let sums = lp.exp()?.sum(D::Minus1)?.flatten_all()?.to_vec1::<f32>()?;
        assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-4));
        // Padding tokens and the other query do not change a query's answer.
        let mut toks2 = toks.clone();
        for v in &mut toks2[3 * FEATURES..5 * FEATURES] {
            *v = 9.0;
        }
        for v in &mut toks2[6 * FEATURES..7 * FEATURES] {
            *v = -4.0;
        }
        let x2 = Tensor::from_vec(toks2, (1, seen_max + 2, FEATURES), &dev)?;
        let lp2 = m.forward(&x2, &mask, 2)?;
        let a = lp.get(0)?.get(0)?.to_vec1::<f32>()?;
        let b = lp2.get(0)?.get(0)?.to_vec1::<f32>()?;
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-5));
        Ok(())
    }

    #[test]
    fn about_a_tenth_of_a_million_parameters() -> Result<()> {
        let vm = VarMap::new();
        PriorModel::new(
            VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu),
            ModelConfig::default(),
        )?;
        let n: usize = vm.all_vars().iter().map(|v| v.elem_count()).sum();
        assert!((80_000..150_000).contains(&n), "{n}");
        Ok(())
    }
}
