//! Models, optimisers, schedules, metrics and the training loop of one run.

use crate::common::Rng;
use crate::data::{Data, Split};
use crate::grid::{Config, DataCache, Task};
use anyhow::{Context, Result};
use candle_core::{backprop::GradStore, DType, Device, Module, Tensor, Var, D};
use candle_nn::{AdamW, Embedding, Linear, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use serde::Serialize;
use snuffer::energy::{CpuSource, EstimateMeter, Meter};
use std::time::Instant;

/// Hidden-layer activation.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Act {
    Relu,
    Tanh,
}

/// An MLP (no hidden layer = linear / logistic regression), optionally on
/// top of a character embedding whose outputs are concatenated.
pub struct Net {
    pub emb: Option<Embedding>,
    pub layers: Vec<Linear>,
    pub act: Act,
}

impl Net {
    pub fn new(vb: &VarBuilder, data: &Data, cfg: &Config) -> candle_core::Result<Self> {
        let (emb, mut width) = match data.vocab {
            Some(v) => (
                Some(candle_nn::embedding(v, cfg.embed, vb.pp("emb"))?),
                data.inputs * cfg.embed,
            ),
            None => (None, data.inputs),
        };
        let mut layers = Vec::new();
        for (i, &h) in cfg.hidden.iter().enumerate() {
            layers.push(candle_nn::linear(width, h, vb.pp(format!("l{i}")))?);
            width = h;
        }
        layers.push(candle_nn::linear(width, data.outputs, vb.pp("out"))?);
        Ok(Self {
            emb,
            layers,
            act: cfg.act,
        })
    }
}

impl Module for Net {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = match &self.emb {
            Some(e) => e.forward(x)?.flatten_from(1)?,
            None => x.clone(),
        };
        let last = self.layers.len() - 1;
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(&h)?;
            if i < last {
                h = match self.act {
                    Act::Relu => h.relu()?,
                    Act::Tanh => h.tanh()?,
                };
            }
        }
        Ok(h)
    }
}

/// Initialise every variable from `seed` ([`crate::common::seeded_init`]:
/// matrices, the embedding included, uniform in ±1/√(last dimension), as
/// PyTorch's linear default; vectors zero), then scale the matrices by `scale`
/// (below 1: the "poor initialisation" that delays learning in deep nets).
pub fn init(varmap: &VarMap, seed: u64, scale: f64) -> Result<()> {
    crate::common::seeded_init(varmap, seed)?;
    if scale != 1.0 {
        for var in varmap.all_vars() {
            if var.rank() >= 2 {
                var.set(&(var.as_tensor() * scale)?)?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- optimisers and schedules

/// Which optimiser.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum OptKind {
    /// Plain SGD (candle-nn's `SGD` semantics), with optional weight decay.
    Sgd,
    /// SGD with heavy-ball momentum 0.9 (PyTorch semantics).
    Momentum,
    /// candle-nn's AdamW (β = 0.9, 0.999).
    Adamw,
}

/// SGD with optional momentum and L2 weight decay, as PyTorch's `SGD`:
/// g ← ∇ + wd·w; v ← μ·v + g; w ← w − lr·v.
pub struct Sgd {
    pub vars: Vec<(Var, Option<Tensor>)>,
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
}

impl Sgd {
    pub fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        for (var, vel) in self.vars.iter_mut() {
            let Some(g) = grads.get(var) else { continue };
            let g = if self.weight_decay > 0.0 {
                (g + (var.as_tensor() * self.weight_decay)?)?
            } else {
                g.clone()
            };
            let update = if self.momentum > 0.0 {
                let v = match vel.take() {
                    Some(v) => ((v * self.momentum)? + g)?,
                    None => g,
                };
                *vel = Some(v.clone());
                v
            } else {
                g
            };
            var.set(&var.sub(&(update * self.lr)?)?)?;
        }
        Ok(())
    }
}

pub enum Opt {
    Sgd(Sgd),
    AdamW(AdamW),
}

impl Opt {
    pub fn new(vars: Vec<Var>, cfg: &Config) -> candle_core::Result<Self> {
        Ok(match cfg.optimizer {
            OptKind::Sgd | OptKind::Momentum => Opt::Sgd(Sgd {
                vars: vars.into_iter().map(|v| (v, None)).collect(),
                lr: cfg.lr,
                momentum: if cfg.optimizer == OptKind::Momentum {
                    0.9
                } else {
                    0.0
                },
                weight_decay: cfg.weight_decay,
            }),
            OptKind::Adamw => Opt::AdamW(AdamW::new(
                vars,
                ParamsAdamW {
                    lr: cfg.lr,
                    weight_decay: cfg.weight_decay,
                    ..Default::default()
                },
            )?),
        })
    }

    pub fn set_lr(&mut self, lr: f64) {
        match self {
            Opt::Sgd(o) => o.lr = lr,
            Opt::AdamW(o) => o.set_learning_rate(lr),
        }
    }

    pub fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        match self {
            Opt::Sgd(o) => o.step(grads),
            Opt::AdamW(o) => o.step(grads),
        }
    }
}

/// Learning-rate schedule over the planned steps.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// The base rate throughout.
    Constant,
    /// ×0.1 at 50 % of the plan and again at 75 %.
    Step,
    /// Cosine from the base rate to 0.
    Cosine,
    /// Linear warm-up over the first 10 % of the plan, then linear decay to 0
    /// (Hugging Face Trainer's default).
    WarmupLinear,
    /// Linear warm-up over the first 10 %, then cosine to 0.
    WarmupCosine,
}

impl Schedule {
    /// Rate for the optimizer step that follows `done` completed steps.
    pub fn lr(self, base: f64, done: u64, total: u64) -> f64 {
        let p = done as f64 / total as f64;
        let warm = (total as f64 * 0.1).max(1.0);
        match self {
            Schedule::Constant => base,
            Schedule::Step => {
                if p >= 0.75 {
                    base * 0.01
                } else if p >= 0.5 {
                    base * 0.1
                } else {
                    base
                }
            }
            Schedule::Cosine => base * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()),
            Schedule::WarmupLinear | Schedule::WarmupCosine if (done as f64) < warm => {
                base * (done as f64 + 1.0) / warm
            }
            Schedule::WarmupLinear => {
                base * ((total as f64 - done as f64) / (total as f64 - warm)).max(0.0)
            }
            Schedule::WarmupCosine => {
                let q = (done as f64 - warm) / (total as f64 - warm);
                base * 0.5 * (1.0 + (std::f64::consts::PI * q).cos())
            }
        }
    }
}

// ---------------------------------------------------------------- metrics

/// The validation metric a task logs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Share of validation rows classified correctly.
    Accuracy,
    /// Mean cross-entropy (nats).
    Loss,
    /// Mean cross-entropy in bits per character.
    Bpc,
    /// Mean squared error in the target's own units.
    Mse,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "val_acc",
            Metric::Loss => "val_loss",
            Metric::Bpc => "val_bpc",
            Metric::Mse => "val_mse",
        }
    }

    pub fn higher_is_better(self) -> bool {
        self == Metric::Accuracy
    }

    pub fn eval(self, net: &Net, data: &Data) -> candle_core::Result<f64> {
        let out = net.forward(&data.val.x)?;
        let y = &data.val.y;
        Ok(match self {
            Metric::Accuracy => out
                .argmax(D::Minus1)?
                .eq(y)?
                .to_dtype(DType::F64)?
                .mean_all()?
                .to_scalar::<f64>()?,
            Metric::Loss => f64::from(candle_nn::loss::cross_entropy(&out, y)?.to_scalar::<f32>()?),
            Metric::Bpc => {
                f64::from(candle_nn::loss::cross_entropy(&out, y)?.to_scalar::<f32>()?)
                    / std::f64::consts::LN_2
            }
            Metric::Mse => {
                let d = (out.squeeze(1)? - y)?;
                f64::from(d.sqr()?.mean_all()?.to_scalar::<f32>()?) * data.y_scale.powi(2)
            }
        })
    }
}

/// Training loss of a batch: MSE for regression (f32 targets), else cross-entropy.
pub fn train_loss(net: &Net, batch: &Split) -> candle_core::Result<Tensor> {
    let out = net.forward(&batch.x)?;
    if batch.y.dtype() == DType::F32 {
        candle_nn::loss::mse(&out.squeeze(1)?, &batch.y)
    } else {
        candle_nn::loss::cross_entropy(&out, &batch.y)
    }
}

/// Epoch-wise shuffled mini-batch order, reproducible from a seed.
pub struct Order {
    pub rng: Rng,
    pub perm: Vec<u32>,
    pub pos: usize,
}

impl Order {
    pub fn new(n: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0xB47C);
        let mut perm: Vec<u32> = (0..n as u32).collect();
        rng.shuffle(&mut perm);
        Self { rng, perm, pos: 0 }
    }

    /// The next `batch` indices (fewer rows than a batch: the whole set).
    pub fn next(&mut self, batch: usize) -> Vec<u32> {
        let batch = batch.min(self.perm.len());
        if self.pos + batch > self.perm.len() {
            self.rng.shuffle(&mut self.perm);
            self.pos = 0;
        }
        let out = self.perm[self.pos..self.pos + batch].to_vec();
        self.pos += batch;
        out
    }
}

/// One evaluation row.
pub struct Point {
    pub step: u64,
    pub metric: f64,
    pub seconds: f64,
    pub joules: f64,
}

/// What one run produced.
pub struct RunResult {
    pub points: Vec<Point>,
    /// First step whose training loss was not finite.
    pub nonfinite_train_loss_at: Option<u64>,
    pub cpu_s: f64,
}

/// Cumulative estimated energy over all the meter's domains (CPU and RAM terms).
pub fn total_joules(meter: &mut EstimateMeter) -> Result<f64> {
    Ok(meter.read()?.iter().map(|d| d.joules.0).sum())
}

/// Train one configuration to the end of its plan, evaluating every
/// `eval_every` steps; energy and wall time are taken at each evaluation.
pub fn train(task: &Task, cfg: &Config, data: &Data, cache: &DataCache) -> Result<RunResult> {
    let cpu0 = snuffer::energy::cputime::self_cpu_time()?;
    let mut meter = EstimateMeter::new(CpuSource::SelfProcess)?;
    let mut last_j = 0.0;
    let mut last_t = Instant::now();
    let dev = Device::Cpu;
    let varmap = VarMap::new();
    let net = Net::new(
        &VarBuilder::from_varmap(&varmap, DType::F32, &dev),
        data,
        cfg,
    )?;
    init(&varmap, cfg.seed, cfg.init_scale)?;
    if cfg.pretrained {
        let body = cache
            .body
            .as_ref()
            .context("the pretrained body is missing")?;
        let vars = varmap
            .data()
            .lock()
            .map_err(|_| anyhow::anyhow!("VarMap lock poisoned"))?;
        for (name, value) in body {
            vars.get(name)
                .with_context(|| format!("pretrained variable {name} has no place in the model"))?
                .set(value)?;
        }
    }
    let mut opt = Opt::new(varmap.all_vars(), cfg)?;
    let mut order = Order::new(data.train.len(), cfg.seed);
    let mut points = Vec::new();
    let mut nonfinite = None;
    for done in 0..cfg.steps {
        opt.set_lr(cfg.schedule.lr(cfg.lr, done, cfg.steps));
        let batch = data.train.rows(&order.next(cfg.batch))?;
        let loss = train_loss(&net, &batch)?;
        if nonfinite.is_none() && !loss.to_scalar::<f32>()?.is_finite() {
            nonfinite = Some(done + 1);
        }
        opt.step(&loss.backward()?)?;
        let step = done + 1;
        if step % cfg.eval_every == 0 {
            let metric = task.metric.eval(&net, data)?;
            let j = total_joules(&mut meter)?;
            let now = Instant::now();
            points.push(Point {
                step,
                metric,
                seconds: now.duration_since(last_t).as_secs_f64(),
                joules: j - last_j,
            });
            last_j = j;
            last_t = now;
        }
    }
    let cpu = snuffer::energy::cputime::self_cpu_time()?.saturating_sub(cpu0);
    Ok(RunResult {
        points,
        nonfinite_train_loss_at: nonfinite,
        cpu_s: cpu.as_secs_f64(),
    })
}
