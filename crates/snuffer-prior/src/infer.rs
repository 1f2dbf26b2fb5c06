//! The model's forward pass for answering one request, in plain Rust over a copy of its
//! weights: the same arithmetic as [`PriorModel::forward`] up to float round-off, without
//! candle's per-operation overhead (tensor allocation, rayon dispatch of tiny matrices,
//! scalar `tanh` and `exp`). Candle stays the model for training and the reference this pass
//! is tested against (`predictor::tests::fast_forward_agrees_with_candle_on_the_shipped_weights`).
//!
//! Two facts of the architecture make one request cheaper than a training batch:
//! * attention goes to seen tokens only, so keys and values are needed for seen tokens only;
//! * only the query tokens' outputs are read, so in the last block the seen tokens need keys
//!   and values but no attention, projection or feed-forward.
//!
//! The weights are copied when a [`crate::LearnedPrior`] is built: a model trained further
//! afterwards needs a new `LearnedPrior`.

use crate::model::{Block, PriorModel};
use candle_core::{DType, Result};
use candle_nn::{LayerNorm, Linear};

/// A linear layer, weights transposed to `inp × out` (row-major) so that the inner loops run
/// along outputs.
#[derive(Debug, Clone)]
struct Dense {
    wt: Vec<f32>,
    bias: Vec<f32>,
    inp: usize,
    out: usize,
}

/// Rows per register block of the matrix product.
const ROWS: usize = 4;
/// Outputs per register block of the matrix product (twice as many with AVX2 and FMA, whose
/// registers are twice as wide).
const COLS: usize = 8;

impl Dense {
    /// From candle's `out × in` weight and optional bias; `cols` selects a range of outputs.
    fn from_linear(l: &Linear, cols: std::ops::Range<usize>) -> Result<Dense> {
        let w = l.weight().to_dtype(DType::F32)?.to_vec2::<f32>()?;
        let inp = w.first().map_or(0, Vec::len);
        let rows = w.get(cols.clone()).ok_or_else(|| {
            candle_core::Error::Msg(format!(
                "linear layer has {} outputs, not {cols:?}",
                w.len()
            ))
        })?;
        let out = rows.len();
        let mut wt = vec![0f32; inp * out];
        for (o, row) in rows.iter().enumerate() {
            for (i, &v) in row.iter().enumerate() {
                wt[i * out + o] = v;
            }
        }
        let bias = match l.bias() {
            Some(b) => b.to_dtype(DType::F32)?.to_vec1::<f32>()?[cols].to_vec(),
            None => vec![0.0; out],
        };
        Ok(Dense { wt, bias, inp, out })
    }

    fn whole(l: &Linear) -> Result<Dense> {
        let out = l.weight().dim(0)?;
        Dense::from_linear(l, 0..out)
    }

    /// `y = x · W + b` for `x` of `rows × inp`; `y` is overwritten with `rows × out`.
    #[inline(always)]
    fn forward<const FMA: bool>(&self, x: &[f32], y: &mut Vec<f32>) {
        matmul::<FMA>(x, &self.wt, self.inp, self.out, Some(&self.bias), y);
    }
}

/// `y = x · w (+ bias)`: `x` is `rows × inp`, `w` is `inp × out`, both row-major; `y` is
/// overwritten with `rows × out`. Blocks of [`ROWS`] rows × [`COLS`] outputs are accumulated
/// in registers (the compiler vectorises the fixed-size inner loops); `FMA` fuses each
/// multiply-add (only where the CPU has FMA: elsewhere `mul_add` is a slow library call).
#[inline(always)]
fn matmul<const FMA: bool>(
    x: &[f32],
    w: &[f32],
    inp: usize,
    out: usize,
    bias: Option<&[f32]>,
    y: &mut Vec<f32>,
) {
    let rows = x.len().checked_div(inp).unwrap_or(0);
    y.clear();
    y.resize(rows * out, 0.0);
    if out == 0 || w.len() < inp * out || bias.is_some_and(|b| b.len() < out) {
        return;
    }
    let mut xs = x.chunks_exact(inp);
    let mut ys = y.chunks_exact_mut(out);
    while xs.len() >= ROWS {
        let xb: [&[f32]; ROWS] = std::array::from_fn(|_| xs.next().unwrap_or(&[]));
        let yb: [&mut [f32]; ROWS] = std::array::from_fn(|_| ys.next().unwrap_or(&mut []));
        matmul_block::<ROWS, FMA>(xb, w, inp, out, bias, yb);
    }
    for (xr, yr) in xs.zip(ys) {
        matmul_block::<1, FMA>([xr], w, inp, out, bias, [yr]);
    }
}

/// Blocks of `R` rows × `C` outputs of [`matmul`] from output `*c` on, as far as whole
/// blocks go; `*c` is moved past them.
#[inline(always)]
fn matmul_cols<const R: usize, const C: usize, const FMA: bool>(
    x: &[&[f32]; R],
    w: &[f32],
    inp: usize,
    out: usize,
    bias: Option<&[f32]>,
    y: &mut [&mut [f32]; R],
    c: &mut usize,
) {
    while *c + C <= out {
        let c0 = *c;
        let mut acc = [[0f32; C]; R];
        if let Some(b) = bias {
            for a in &mut acc {
                a.copy_from_slice(&b[c0..c0 + C]);
            }
        }
        for i in 0..inp {
            let wi = &w[i * out + c0..i * out + c0 + C];
            for (a, xr) in acc.iter_mut().zip(x) {
                let xv = xr[i];
                for (a, &wv) in a.iter_mut().zip(wi) {
                    *a = if FMA {
                        xv.mul_add(wv, *a)
                    } else {
                        *a + xv * wv
                    };
                }
            }
        }
        for (yr, a) in y.iter_mut().zip(&acc) {
            yr[c0..c0 + C].copy_from_slice(a);
        }
        *c += C;
    }
}

/// `R` rows of [`matmul`] (each `x` row `inp` long, each `y` row `out` long).
#[inline(always)]
fn matmul_block<const R: usize, const FMA: bool>(
    x: [&[f32]; R],
    w: &[f32],
    inp: usize,
    out: usize,
    bias: Option<&[f32]>,
    mut y: [&mut [f32]; R],
) {
    let x: [&[f32]; R] = x.map(|r| &r[..inp]);
    let w = &w[..inp * out];
    let mut c = 0;
    if FMA {
        matmul_cols::<R, { 2 * COLS }, FMA>(&x, w, inp, out, bias, &mut y, &mut c);
    }
    matmul_cols::<R, COLS, FMA>(&x, w, inp, out, bias, &mut y, &mut c);
    for o in c..out {
        for (yr, xr) in y.iter_mut().zip(&x) {
            let mut s = bias.map_or(0.0, |b| b[o]);
            for (i, &xv) in xr.iter().enumerate() {
                s += xv * w[i * out + o];
            }
            yr[o] = s;
        }
    }
}

/// A layer norm (mean removed, affine).
#[derive(Debug, Clone)]
struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl Norm {
    fn from_layer_norm(l: &LayerNorm) -> Result<Norm> {
        if !l.remove_mean() {
            return Err(candle_core::Error::Msg(
                "the fast forward pass expects a layer norm that removes the mean".into(),
            ));
        }
        let weight = l.weight().to_dtype(DType::F32)?.to_vec1::<f32>()?;
        let bias = match l.bias() {
            Some(b) => b.to_dtype(DType::F32)?.to_vec1::<f32>()?,
            None => vec![0.0; weight.len()],
        };
        Ok(Norm {
            weight,
            bias,
            eps: l.eps() as f32,
        })
    }

    /// Normalises every row of `x` (row length = the norm's width) into `y`.
    #[inline(always)]
    fn forward(&self, x: &[f32], y: &mut Vec<f32>) {
        let w = self.weight.len();
        y.clear();
        y.resize(x.len(), 0.0);
        for (xr, yr) in x.chunks_exact(w).zip(y.chunks_exact_mut(w)) {
            let mean = sum(xr) / w as f32;
            let var = lanes(xr, 0.0, |a, b| a + (b - mean) * (b - mean), |a, b| a + b) / w as f32;
            let inv = 1.0 / (var + self.eps).sqrt();
            for (((y, &x), &g), &b) in yr.iter_mut().zip(xr).zip(&self.weight).zip(&self.bias) {
                *y = (x - mean) * inv * g + b;
            }
        }
    }
}

#[derive(Debug, Clone)]
struct FastBlock {
    ln1: Norm,
    q: Dense,
    kv: Dense,
    proj: Dense,
    ln2: Norm,
    ff1: Dense,
    ff2: Dense,
}

impl FastBlock {
    fn new(b: &Block, width: usize) -> Result<FastBlock> {
        Ok(FastBlock {
            ln1: Norm::from_layer_norm(&b.ln1)?,
            q: Dense::from_linear(&b.qkv, 0..width)?,
            kv: Dense::from_linear(&b.qkv, width..3 * width)?,
            proj: Dense::whole(&b.proj)?,
            ln2: Norm::from_layer_norm(&b.ln2)?,
            ff1: Dense::whole(&b.ff1)?,
            ff2: Dense::whole(&b.ff2)?,
        })
    }
}

/// The model's weights laid out for [`FastForward::probabilities`].
#[derive(Clone)]
pub(crate) struct FastForward {
    embed: Dense,
    blocks: Vec<FastBlock>,
    ln_f: Norm,
    head: Dense,
    width: usize,
    heads: usize,
}

impl std::fmt::Debug for FastForward {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastForward")
            .field("width", &self.width)
            .field("heads", &self.heads)
            .field("blocks", &self.blocks.len())
            .finish_non_exhaustive()
    }
}

/// Scratch buffers of one forward pass.
#[derive(Default)]
struct Scratch {
    h: Vec<f32>,
    q: Vec<f32>,
    kv: Vec<f32>,
    qh: Vec<f32>,
    kt: Vec<f32>,
    vh: Vec<f32>,
    att: Vec<f32>,
    scores: Vec<f32>,
    tmp: Vec<f32>,
    ff: Vec<f32>,
}

impl FastForward {
    /// Copies the weights of `model`.
    pub(crate) fn new(model: &PriorModel) -> Result<FastForward> {
        let c = model.config();
        if c.width == 0 || c.heads == 0 || !c.width.is_multiple_of(c.heads) {
            return Err(candle_core::Error::Msg(format!(
                "no fast forward pass for width {} and {} heads",
                c.width, c.heads
            )));
        }
        Ok(FastForward {
            embed: Dense::whole(&model.embed)?,
            blocks: model
                .blocks
                .iter()
                .map(|b| FastBlock::new(b, c.width))
                .collect::<Result<_>>()?,
            ln_f: Norm::from_layer_norm(&model.ln_f)?,
            head: Dense::whole(&model.head)?,
            width: c.width,
            heads: c.heads,
        })
    }

    /// Probability per bin for each query token: `tokens` holds `seen` seen tokens then the
    /// query tokens, [`crate::encode::FEATURES`] numbers each (as
    /// [`crate::encode::Encoded`]); the answer has one row of [`crate::bars::BINS`]
    /// probabilities per query. With no seen token (which [`crate::encode::encode`] never
    /// gives) attention adds nothing, where candle would spread it over the masked tokens.
    pub(crate) fn probabilities(&self, tokens: &[f32], seen: usize) -> Vec<Vec<f64>> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has just been checked to have AVX2 and FMA, the features
            // `probabilities_avx2` is compiled for (its only requirement).
            return unsafe { self.probabilities_avx2(tokens, seen) };
        }
        self.probabilities_with::<false>(tokens, seen)
    }

    /// [`FastForward::probabilities`] compiled for AVX2 and FMA (8-wide fused multiply-adds
    /// instead of the baseline's 4-wide SSE2): everything below is inlined into it.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn probabilities_avx2(&self, tokens: &[f32], seen: usize) -> Vec<Vec<f64>> {
        self.probabilities_with::<true>(tokens, seen)
    }

    /// The forward pass; `FMA`: whether multiply-adds are fused (see [`matmul`]).
    /// `probabilities_with::<false>` is the portable pass (tested on every CPU).
    #[inline(always)]
    pub(crate) fn probabilities_with<const FMA: bool>(
        &self,
        tokens: &[f32],
        seen: usize,
    ) -> Vec<Vec<f64>> {
        let w = self.width;
        let mut s = Scratch::default();
        let mut x = Vec::new();
        self.embed.forward::<FMA>(tokens, &mut x);
        let t = x.len() / w;
        let seen = seen.min(t);
        // Rows of `x` kept: all tokens, then the queries only once the last block has used
        // the seen tokens' keys and values.
        let mut first = 0;
        for (l, b) in self.blocks.iter().enumerate() {
            let last = l + 1 == self.blocks.len();
            b.ln1.forward(&x, &mut s.h);
            b.kv.forward::<FMA>(&s.h[..(seen - first) * w], &mut s.kv);
            if last {
                x.drain(..(seen - first) * w);
                s.h.drain(..(seen - first) * w);
                first = seen;
            }
            b.q.forward::<FMA>(&s.h, &mut s.q);
            self.attention::<FMA>(&mut s, seen);
            b.proj.forward::<FMA>(&s.att, &mut s.tmp);
            add(&mut x, &s.tmp);
            b.ln2.forward(&x, &mut s.h);
            b.ff1.forward::<FMA>(&s.h, &mut s.ff);
            gelu(&mut s.ff);
            b.ff2.forward::<FMA>(&s.ff, &mut s.tmp);
            add(&mut x, &s.tmp);
        }
        if first < seen {
            x.drain(..(seen - first) * w);
        }
        self.ln_f.forward(&x, &mut s.h);
        let mut logits = Vec::new();
        self.head.forward::<FMA>(&s.h, &mut logits);
        logits
            .chunks_exact(self.head.out)
            .map(|l| {
                let max = max(l);
                let e: Vec<f32> = l.iter().map(|&v| exp(v - max)).collect();
                let sum = sum(&e);
                e.iter().map(|&v| f64::from(v / sum)).collect()
            })
            .collect()
    }

    /// Multi-head attention of the rows of `s.q` to the first `seen` rows of `s.kv` (keys
    /// then values per row); the result goes to `s.att`. Per head, two small matrix
    /// products: scores = Q·Kᵀ / √d, then softmax(scores)·V.
    #[inline(always)]
    fn attention<const FMA: bool>(&self, s: &mut Scratch, seen: usize) {
        let w = self.width;
        let hd = w / self.heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let rows = s.q.len() / w;
        s.att.clear();
        s.att.resize(rows * w, 0.0);
        if seen == 0 {
            return;
        }
        for h in 0..self.heads {
            let cols = h * hd..(h + 1) * hd;
            // This head's queries (rows × hd), keys transposed (hd × seen), values (seen × hd).
            s.qh.clear();
            for r in s.q.chunks_exact(w) {
                s.qh.extend_from_slice(&r[cols.clone()]);
            }
            s.kt.clear();
            s.kt.resize(hd * seen, 0.0);
            s.vh.clear();
            for (k, r) in s.kv.chunks_exact(2 * w).take(seen).enumerate() {
                for (d, &v) in r[cols.clone()].iter().enumerate() {
                    s.kt[d * seen + k] = v;
                }
                s.vh.extend_from_slice(&r[w + h * hd..w + (h + 1) * hd]);
            }
            matmul::<FMA>(&s.qh, &s.kt, hd, seen, None, &mut s.scores);
            for row in s.scores.chunks_exact_mut(seen) {
                softmax(row, scale);
            }
            matmul::<FMA>(&s.scores, &s.vh, seen, hd, None, &mut s.tmp);
            for (o, r) in s.att.chunks_exact_mut(w).zip(s.tmp.chunks_exact(hd)) {
                o[cols.clone()].copy_from_slice(r);
            }
        }
    }
}

#[inline(always)]
fn add(x: &mut [f32], y: &[f32]) {
    for (x, &y) in x.iter_mut().zip(y) {
        *x += y;
    }
}

/// In-place softmax of `scale · v`.
#[inline(always)]
fn softmax(v: &mut [f32], scale: f32) {
    for a in v.iter_mut() {
        *a *= scale;
    }
    let max = max(v);
    for a in v.iter_mut() {
        *a = exp(*a - max);
    }
    let inv = 1.0 / sum(v);
    for a in v.iter_mut() {
        *a *= inv;
    }
}

/// `v` folded with `f` from `init`, in eight interleaved lanes (so that the compiler can use
/// vector registers: a plain fold waits on each step), the lanes then folded with `merge`.
#[inline(always)]
fn lanes(
    v: &[f32],
    init: f32,
    f: impl Fn(f32, f32) -> f32,
    merge: impl Fn(f32, f32) -> f32,
) -> f32 {
    let mut acc = [init; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = f(*a, x);
        }
    }
    for (a, &x) in acc.iter_mut().zip(chunks.remainder()) {
        *a = f(*a, x);
    }
    acc.into_iter().fold(init, merge)
}

/// The sum of `v` (see [`lanes`]).
#[inline(always)]
fn sum(v: &[f32]) -> f32 {
    lanes(v, 0.0, |a, b| a + b, |a, b| a + b)
}

/// The largest element of `v`, −∞ when empty (see [`lanes`]).
#[inline(always)]
fn max(v: &[f32]) -> f32 {
    lanes(v, f32::NEG_INFINITY, f32::max, f32::max)
}

/// `eˣ` to within 2·10⁻⁷ relative (checked against `f64::exp` in the tests), for `x` clamped
/// to `[−87, 88]` (`e⁻⁸⁷ ≈ 1.6·10⁻³⁸`, `e⁸⁸ ≈ 1.7·10³⁸`); NaN stays NaN. Cephes' `expf`:
/// `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, a degree-5 polynomial in `r`, `2ⁿ` built in the
/// exponent bits — plain arithmetic that the compiler vectorises, where libm's `expf` is a
/// call per number (a quarter of a request's time went to it).
#[inline(always)]
fn exp(x: f32) -> f32 {
    // 1.5·2²³: adding it rounds to an integer, held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 0.166_666_65;
    let p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let k = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    y * f32::from_bits((k.wrapping_add(127) as u32) << 23)
}

/// candle's `gelu` (the tanh approximation), in place:
/// `x·(1 + tanh u)/2 = x / (1 + e^(−2u))` with `u = √(2/π)·(x + 0.044715 x³)` (libm's
/// `tanhf` goes through `expm1f` and cost a fifth of a request).
#[inline(always)]
fn gelu(v: &mut [f32]) {
    const SQRT_TWO_OVER_PI: f32 = 0.797_884_6;
    for x in v.iter_mut() {
        let u = SQRT_TWO_OVER_PI * *x * (1.0 + 0.044715 * *x * *x);
        *x /= 1.0 + exp(-2.0 * u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_query_gets_a_distribution_even_without_seen_tokens() -> Result<()> {
        use crate::bars::BINS;
        use crate::encode::FEATURES;
        use crate::model::ModelConfig;
        use candle_core::Device;
        use candle_nn::{VarBuilder, VarMap};
        let vm = VarMap::new();
        let model = PriorModel::new(
            VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu),
            ModelConfig::default(),
        )?;
        let fast = FastForward::new(&model)?;
        let tokens: Vec<f32> = (0..5 * FEATURES).map(|i| (i as f32 * 0.37).sin()).collect();
        for seen in [0, 1, 3] {
            for probs in [
                fast.probabilities(&tokens, seen),
                fast.probabilities_with::<false>(&tokens, seen),
            ] {
                assert_eq!(probs.len(), 5 - seen);
                for p in &probs {
                    assert_eq!(p.len(), BINS);
                    assert!(p.iter().all(|&v| v.is_finite() && v >= 0.0));
                    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-5);
                }
            }
        }
        Ok(())
    }

    #[test]
    fn exp_is_within_two_parts_in_ten_million() {
        for i in -870_000..=880_000 {
            let x = i as f32 / 10_000.0;
            let want = f64::from(x).exp();
            let got = f64::from(exp(x));
            assert!(
                (got - want).abs() <= 2e-7 * want,
                "exp({x}) = {got}, not {want}"
            );
        }
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(-1e30) <= 1.7e-38 && exp(-1e30) > 0.0);
        assert!(exp(f32::NEG_INFINITY) <= 1.7e-38);
        assert!(exp(1e30).is_finite() && exp(1e30) > 1e38);
    }

    #[test]
    fn lanes_fold_every_element() {
        for n in 0..40 {
            let v: Vec<f32> = (0..n).map(|i| (i as f32 * 1.3).sin()).collect();
            let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            assert_eq!(super::max(&v), max);
            let total: f32 = v.iter().sum();
            assert!((sum(&v) - total).abs() < 1e-5);
            let squares: f32 = v.iter().map(|x| (x - 0.1) * (x - 0.1)).sum();
            let lanes_squares = lanes(&v, 0.0, |a, b| a + (b - 0.1) * (b - 0.1), |a, b| a + b);
            assert!((lanes_squares - squares).abs() < 1e-5);
        }
    }

    #[test]
    fn gelu_is_candles_tanh_approximation() {
        let mut xs: Vec<f32> = (-4000..=4000).map(|i| i as f32 / 500.0).collect();
        xs.extend([-1e4, -100.0, -30.0, 30.0, 100.0, 1e4, 1e-30, -1e-30, 0.0]);
        let mut got = xs.clone();
        gelu(&mut got);
        for (&x, &g) in xs.iter().zip(&got) {
            let x64 = f64::from(x);
            let u = (2.0 / std::f64::consts::PI).sqrt() * x64 * (1.0 + 0.044715 * x64 * x64);
            let want = 0.5 * x64 * (1.0 + u.tanh());
            let err = (f64::from(g) - want).abs();
            assert!(
                err <= 1e-6 * want.abs().max(1.0),
                "gelu({x}) = {g}, not {want}"
            );
        }
    }

    proptest! {
        #[test]
        fn matmul_is_the_plain_product(
            rows in 0usize..11,
            inp in 1usize..20,
            out in 1usize..30,
            seed in any::<u32>(),
            with_bias in any::<bool>(),
        ) {
            let val = |i: usize| ((i as f32 + seed as f32 * 0.001) * 0.618).sin();
            let x: Vec<f32> = (0..rows * inp).map(val).collect();
            let w: Vec<f32> = (0..inp * out).map(|i| val(i + 7777)).collect();
            let b: Vec<f32> = (0..out).map(|i| val(i + 99)).collect();
            let bias = with_bias.then_some(b.as_slice());
            let mut y = Vec::new();
            matmul::<false>(&x, &w, inp, out, bias, &mut y);
            prop_assert_eq!(y.len(), rows * out);
            for r in 0..rows {
                for o in 0..out {
                    let want: f32 = bias.map_or(0.0, |b| b[o])
                        + (0..inp).map(|i| x[r * inp + i] * w[i * out + o]).sum::<f32>();
                    prop_assert!((y[r * out + o] - want).abs() < 1e-5);
                }
            }
        }
    }
}
