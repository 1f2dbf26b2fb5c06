//! Code shared by the examples: thread setup, the digits data, a small MLP,
//! seeded initialisation and table formatting. Not part of Snuffer's API.
#![allow(dead_code)] // each example uses a different subset

use anyhow::{Context, Result};
use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{Linear, VarBuilder, VarMap};

/// Pin candle's CPU thread pool before any thread starts, and say what was done.
///
/// With `RAYON_NUM_THREADS` unset, candle re-reads /proc/cpuinfo on every matmul
/// and idle workers spin on `sched_yield`; on a 2-core machine a small MLP step
/// runs about 2× faster on one thread. Must run first thing in `main`.
pub fn setup_threads() -> String {
    match std::env::var("RAYON_NUM_THREADS") {
        Ok(n) => format!("candle CPU threads: {n} (RAYON_NUM_THREADS from the environment)"),
        Err(_) => {
            // Safe here: called at the top of main, before any other thread exists
            // (edition 2021; in edition 2024 this call needs `unsafe` for that reason).
            std::env::set_var("RAYON_NUM_THREADS", "1");
            "candle CPU threads: 1 (RAYON_NUM_THREADS was unset; set it to use more — \
             on small models one thread is fastest)"
                .to_string()
        }
    }
}

/// A small deterministic generator (xorshift64*): seeds for data splits, batches
/// and initial weights, because candle's CPU random generator cannot be seeded.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform integer in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }
    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// Re-initialise every variable of `varmap` from `seed`: matrices uniform in
/// ±1/√fan_in (PyTorch's default for linear layers), vectors (biases) zero.
/// Variables are visited in name order so the result depends only on the seed.
pub fn seeded_init(varmap: &VarMap, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    let data = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("VarMap lock poisoned"))?;
    let mut names: Vec<_> = data.keys().cloned().collect();
    names.sort();
    for name in names {
        let var = &data[&name];
        let dims = var.dims().to_vec();
        let n: usize = dims.iter().product();
        let values: Vec<f32> = if dims.len() >= 2 {
            let bound = 1.0 / (dims[dims.len() - 1] as f64).sqrt();
            (0..n)
                .map(|_| ((rng.uniform() * 2.0 - 1.0) * bound) as f32)
                .collect()
        } else {
            vec![0.0; n]
        };
        var.set(&Tensor::from_vec(values, dims, var.device())?)?;
    }
    Ok(())
}

/// The UCI optical digits (1 797 8×8 images, 10 classes) that smartcore embeds,
/// scaled to [0, 1] and split into train and validation sets.
pub struct Digits {
    /// Training images, `[n_train, 64]`.
    pub train_x: Tensor,
    /// Training labels, `[n_train]` (u32).
    pub train_y: Tensor,
    /// Validation images, `[n_val, 64]`.
    pub val_x: Tensor,
    /// Validation labels, `[n_val]` (u32).
    pub val_y: Tensor,
}

impl Digits {
    /// Load and split: `n_val` images chosen by `split_seed` go to validation.
    pub fn load(n_val: usize, split_seed: u64, dev: &Device) -> Result<Self> {
        let ds = smartcore::dataset::digits::load_dataset();
        let (n, f) = (ds.num_samples, ds.num_features);
        anyhow::ensure!(
            ds.data.len() == n * f && n > n_val,
            "unexpected digits layout"
        );
        let x = Tensor::from_vec(
            ds.data.iter().map(|v| v / 16.0).collect::<Vec<f32>>(),
            (n, f),
            dev,
        )?;
        let y = Tensor::from_vec(
            ds.target.iter().map(|&v| v as u32).collect::<Vec<u32>>(),
            n,
            dev,
        )?;
        let mut idx: Vec<u32> = (0..n as u32).collect();
        Rng::new(split_seed).shuffle(&mut idx);
        let val_idx = Tensor::new(&idx[..n_val], dev)?;
        let train_idx = Tensor::new(&idx[n_val..], dev)?;
        Ok(Self {
            train_x: x.index_select(&train_idx, 0)?,
            train_y: y.index_select(&train_idx, 0)?,
            val_x: x.index_select(&val_idx, 0)?,
            val_y: y.index_select(&val_idx, 0)?,
        })
    }

    /// Number of training images.
    pub fn n_train(&self) -> usize {
        self.train_x.dims()[0]
    }
}

/// Random mini-batches from a training set, reproducible from a seed.
pub struct Batches {
    rng: Rng,
    n: usize,
    batch: usize,
    dev: Device,
}

impl Batches {
    /// Batches of `batch` rows out of `n`.
    pub fn new(n: usize, batch: usize, seed: u64, dev: &Device) -> Self {
        Self {
            rng: Rng::new(seed ^ 0xB47C),
            n,
            batch,
            dev: dev.clone(),
        }
    }
    /// Indices of the next batch, as a u32 tensor for `index_select`.
    pub fn next_indices(&mut self) -> candle_core::Result<Tensor> {
        let idx: Vec<u32> = (0..self.batch)
            .map(|_| self.rng.below(self.n) as u32)
            .collect();
        Tensor::new(idx.as_slice(), &self.dev)
    }
}

/// A two-layer perceptron: `in → hidden (ReLU) → out`.
pub struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    /// Build it with its variables in `vb`.
    pub fn new(
        vb: VarBuilder,
        input: usize,
        hidden: usize,
        out: usize,
    ) -> candle_core::Result<Self> {
        Ok(Self {
            fc1: candle_nn::linear(input, hidden, vb.pp("fc1"))?,
            fc2: candle_nn::linear(hidden, out, vb.pp("fc2"))?,
        })
    }
}

impl Module for Mlp {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.fc2.forward(&self.fc1.forward(x)?.relu()?)
    }
}

/// Classification accuracy of `model` on `(x, y)`, in [0, 1].
pub fn accuracy(model: &impl Module, x: &Tensor, y: &Tensor) -> candle_core::Result<f64> {
    let pred = model.forward(x)?.argmax(D::Minus1)?;
    let correct = pred
        .eq(y)?
        .to_dtype(DType::F64)?
        .mean_all()?
        .to_scalar::<f64>()?;
    Ok(correct)
}

/// Cross-entropy of one random batch of the training set.
pub fn batch_loss(
    model: &impl Module,
    x: &Tensor,
    y: &Tensor,
    idx: &Tensor,
) -> candle_core::Result<Tensor> {
    let logits = model.forward(&x.index_select(idx, 0)?)?;
    candle_nn::loss::cross_entropy(&logits, &y.index_select(idx, 0)?)
}

/// Mean and sample standard deviation.
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// The threshold the examples use, in the relative form ([`Tau::Relative`]):
/// stop when even the optimistic end of the forecast says that spending as much
/// energy again would buy less than this share of the improvement made so far.
///
/// [`Tau::Relative`]: snuffer::policy::Tau::Relative
pub const TAU_RELATIVE: f64 = 0.3;

/// τ for this run: `--tau X` on the command line, else `default` (the examples use
/// [`TAU_RELATIVE`]; a sweep a lower one).
pub fn tau_from_args(default: f64) -> Result<f64> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--tau") {
        Some(i) => {
            let v: f64 = args
                .get(i + 1)
                .and_then(|v| v.parse().ok())
                .context("--tau needs a number (relative τ, e.g. 0.2)")?;
            anyhow::ensure!(
                v.is_finite() && v >= 0.0,
                "--tau must be a finite number ≥ 0, got {v}"
            );
            Ok(v)
        }
        None => Ok(default),
    }
}

/// `--repeats N` on the command line (pairs of runs in a comparison), else `default`.
pub fn repeats_from_args(default: usize) -> Result<usize> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--repeats") {
        Some(i) => {
            let n: usize = args
                .get(i + 1)
                .and_then(|v| v.parse().ok())
                .context("--repeats needs a whole number ≥ 1")?;
            anyhow::ensure!(n >= 1, "--repeats needs a whole number ≥ 1, got {n}");
            Ok(n)
        }
        None => Ok(default),
    }
}

/// The policy the examples use: stop on divergence (a NaN or infinite metric),
/// or when the marginal gain per kWh falls below τ (relative form).
pub fn marginal_policy(tau_relative: f64) -> Result<snuffer::policy::AnyOf> {
    use snuffer::policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, Tau};
    let marginal = MarginalGain::new(MarginalGainConfig::new(Tau::Relative(tau_relative)))?;
    Ok(AnyOf::new().with(Divergence::non_finite()).with(marginal))
}

/// What τ means, in words, for the examples' output.
pub fn tau_explanation(tau_relative: f64, metric: &str) -> String {
    format!(
        "τ = {tau_relative} (relative form): Snuffer stops when even the optimistic end of its forecast says \
         that spending as much energy again as so far would improve {metric} by less than {:.0} % of the \
         improvement made so far (τ resolves to metric units per kWh: {tau_relative} × gain so far ÷ kWh so far).",
        100.0 * tau_relative
    )
}

/// Hyperparameters of one digits MLP run.
#[derive(Debug, Clone, Copy)]
pub struct DigitsConfig {
    /// AdamW learning rate.
    pub lr: f64,
    /// Hidden width.
    pub hidden: usize,
    /// Seed of the initial weights and of the batch order.
    pub seed: u64,
    /// Planned optimizer steps.
    pub steps: u64,
    /// Evaluate every this many steps.
    pub eval_every: u64,
    /// Mini-batch size.
    pub batch: usize,
}

/// What one digits run produced.
pub struct DigitsResult {
    /// The trainer's outcome (summary, stop reason, run directory).
    pub outcome: snuffer::candle::TrainOutcome,
    /// Wall time of the training loop.
    pub wall: std::time::Duration,
    /// Validation accuracy of the weights left in the model (the restored best).
    pub val_acc: f64,
}

/// Train the digits MLP once, with or without the marginal-gain policy, into
/// `runs/<name>-<timestamp>` (and `runs/latest`).
pub fn train_digits(
    data: &Digits,
    cfg: DigitsConfig,
    name: &str,
    policy: Option<snuffer::policy::AnyOf>,
    progress: snuffer::Progress,
) -> Result<DigitsResult> {
    train_digits_in(data, cfg, name, None, policy, progress, |b| b)
}

/// [`train_digits`] into `out_dir` when given (a stable name such as
/// `runs/quickstart-snuffer`), with more settings of the run from `more` (sinks, the
/// sampling interval, …).
pub fn train_digits_in(
    data: &Digits,
    cfg: DigitsConfig,
    name: &str,
    out_dir: Option<&std::path::Path>,
    policy: Option<snuffer::policy::AnyOf>,
    progress: snuffer::Progress,
    more: impl FnOnce(snuffer::RunBuilder) -> snuffer::RunBuilder,
) -> Result<DigitsResult> {
    use candle_nn::Optimizer;
    let dev = data.train_x.device().clone();
    let varmap = VarMap::new();
    let model = Mlp::new(
        VarBuilder::from_varmap(&varmap, DType::F32, &dev),
        64,
        cfg.hidden,
        10,
    )?;
    seeded_init(&varmap, cfg.seed)?;
    let mut builder = snuffer::Run::builder(name)
        .planned_steps(cfg.steps)
        .metric("val_acc", snuffer::forecast::Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .progress(progress);
    if let Some(dir) = out_dir {
        builder = builder.out_dir(dir);
    }
    if let Some(policy) = policy {
        builder = builder.policy(policy);
    }
    let run = more(builder).build()?;
    let params = candle_nn::ParamsAdamW {
        lr: cfg.lr,
        ..Default::default()
    };
    let opt = run.wrap(candle_nn::AdamW::new(varmap.all_vars(), params)?);
    let mut batches = Batches::new(data.n_train(), cfg.batch, cfg.seed, &dev);
    let start = std::time::Instant::now();
    let outcome = snuffer::candle::Trainer::new(opt, &varmap)
        .eval_every(cfg.eval_every)
        .fit(
            |_| {
                batch_loss(
                    &model,
                    &data.train_x,
                    &data.train_y,
                    &batches.next_indices()?,
                )
            },
            || accuracy(&model, &data.val_x, &data.val_y),
        )?;
    let wall = start.elapsed();
    let val_acc = accuracy(&model, &data.val_x, &data.val_y)?;
    Ok(DigitsResult {
        outcome,
        wall,
        val_acc,
    })
}

/// The label of the saving row (the full run's energy minus the Snuffer run's):
/// "measured" only when both energies are measurements, "estimated" otherwise
/// ([`snuffer::rundir::saving_label`]).
pub fn saving_row(full: &DigitsResult, snuffed: &DigitsResult) -> &'static str {
    snuffer::rundir::saving_label(
        &full.outcome.summary.provenance,
        &snuffed.outcome.summary.provenance,
    )
}

/// Trains the digits MLP for `steps` steps with no tracking, then once more as a short
/// tracked run into a scratch directory, and throws both away. The first tracked run of a
/// process was found to cost about twice the CPU time of the later ones, all along the run
/// (`char_lm`: 13.5 J per 1 000 steps against 6.8, whichever run went first; an untracked
/// warm-up alone did not remove it, a tracked one did), so every measured run of a
/// comparison starts after this.
pub fn warm_up(data: &Digits, cfg: DigitsConfig, steps: u64) -> Result<()> {
    untracked_steps(data, cfg, steps)?;
    let scratch = tempfile::tempdir()?;
    let short = DigitsConfig {
        steps: steps.max(2 * cfg.eval_every),
        ..cfg
    };
    train_digits_in(
        data,
        short,
        "warm-up",
        Some(scratch.path()),
        None,
        snuffer::Progress::Quiet,
        |b| b.emissions(false),
    )?;
    Ok(())
}

/// `steps` optimizer steps of the digits MLP with no tracking at all.
fn untracked_steps(data: &Digits, cfg: DigitsConfig, steps: u64) -> Result<()> {
    use candle_nn::Optimizer;
    let dev = data.train_x.device().clone();
    let varmap = VarMap::new();
    let model = Mlp::new(
        VarBuilder::from_varmap(&varmap, DType::F32, &dev),
        64,
        cfg.hidden,
        10,
    )?;
    seeded_init(&varmap, cfg.seed)?;
    let mut opt = candle_nn::AdamW::new(
        varmap.all_vars(),
        candle_nn::ParamsAdamW {
            lr: cfg.lr,
            ..Default::default()
        },
    )?;
    let mut batches = Batches::new(data.n_train(), cfg.batch, cfg.seed, &dev);
    for _ in 0..steps {
        let loss = batch_loss(
            &model,
            &data.train_x,
            &data.train_y,
            &batches.next_indices()?,
        )?;
        opt.backward_step(&loss)?;
    }
    accuracy(&model, &data.val_x, &data.val_y)?;
    Ok(())
}

/// The savings of several full/Snuffer pairs run in alternating order (full first, then
/// Snuffer first, …), each as a share of its pair's full run: their spread is the noise
/// of the comparison on this machine.
#[derive(Debug, Clone, Default)]
pub struct PairSavings {
    /// Saved share of each pair (full − Snuffer) / full, in the order run.
    pub shares: Vec<f64>,
}

impl PairSavings {
    /// One line: the mean saving, the spread over the pairs, and whether the difference
    /// stands out of that noise (a saving whose pairs disagree in sign, or one pair alone,
    /// is not called a saving).
    pub fn summary(&self, label: &str) -> String {
        use snuffer::energy::percent;
        let (mean, sd) = mean_sd(&self.shares);
        let lo = self.shares.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self
            .shares
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let n = self.shares.len();
        if n < 2 {
            return format!(
                "{label}: {} from one pair: no spread to judge it by (run with `-- --repeats 3`)",
                percent(mean)
            );
        }
        // A saving is called one only when every pair saved and the mean stands two standard
        // deviations clear of zero; otherwise the pairs' own disagreement is larger.
        let verdict = if lo > 0.0 && mean > 2.0 * sd {
            "it stands well out of the noise"
        } else {
            "within the noise of this machine: the pairs disagree by more than the mean \
             difference, so this is no evidence of a saving (or of a cost)"
        };
        format!(
            "{label}, over {n} pairs in alternating order after a warm-up: mean {} \
             (per pair {} to {}, sd {}); {verdict}",
            percent(mean),
            percent(lo),
            percent(hi),
            percent(sd)
        )
    }
}
/// Label of the forecast saving row (the Snuffer run's own forecast of its full plan,
/// made at the stop: the figures of its stop line and summary.json).
pub const FORECAST_ROW: &str = "forecast saving (at the stop)";

/// The quickstart's side-by-side table. Every energy goes through the one formatter
/// (`snuffer::energy::Joules`), so the same quantity prints the same digits here, in the
/// stop line, in summary.json's figures and in the report.
pub fn comparison_table(full: &DigitsResult, snuffed: &DigitsResult) -> String {
    use snuffer::energy::{significant, Joules};
    let (f, s) = (&full.outcome.summary, &snuffed.outcome.summary);
    let energy = |s: &snuffer::rundir::Summary| {
        format!(
            "{} ±{:.0}% ({})",
            Joules(s.energy_j),
            100.0 * s.energy_uncertainty,
            s.provenance.label()
        )
    };
    let best = |r: &DigitsResult| match r.outcome.best {
        Some((step, m)) => format!("{} @ {step}", significant(m, 4)),
        None => "-".into(),
    };
    let row = |label: &str, a: String, b: String| format!("{label:<34} {a:>26} {b:>44}\n");
    let mut out = row("", "full run".into(), "with Snuffer".into());
    out += &row("steps", f.steps.to_string(), s.steps.to_string());
    out += &row("energy", energy(f), energy(s));
    out += &row(
        "wall time",
        format!("{:.1}s", full.wall.as_secs_f64()),
        format!("{:.1}s", snuffed.wall.as_secs_f64()),
    );
    out += &row("best val_acc @ step", best(full), best(snuffed));
    out += &row(
        "final val_acc (restored)",
        significant(full.val_acc, 4),
        significant(snuffed.val_acc, 4),
    );
    let saved = f.energy_j - s.energy_j;
    out += &row(
        saving_row(full, snuffed),
        "-".into(),
        snuffer::rundir::measured_saving(Joules(saved), Joules(f.energy_j)),
    );
    let forecast = match (s.forecast_saved_j, s.forecast_full_energy_j) {
        (Some(saved), Some(full)) if s.stop.is_some() && full > 0.0 => {
            snuffer::rundir::forecast_saving(Joules(saved), Joules(full))
        }
        _ => "- (no stop)".into(),
    };
    out += &row(FORECAST_ROW, "-".into(), forecast);
    out += &row(
        "accuracy cost",
        "-".into(),
        format!("{:+.4}", snuffed.val_acc - full.val_acc),
    );
    out
}
