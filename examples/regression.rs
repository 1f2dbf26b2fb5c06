//! The README's "In your own loop" code on a loss-like metric: a linear regression trained
//! with AdamW, monitored by its validation mean squared error (lower is better, good bound
//! 0) under `Tau::Relative(0.3)`, 10 000 planned steps, an evaluation every 100. It runs the
//! same loop twice — to its end without stopping, then under Snuffer — and prints both.
//! `cargo run --release --example regression` (a few seconds; `tests/regression_loop.rs`
//! checks its stop against the full run).
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use snuffer::forecast::Direction;
use snuffer::policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, Tau};
use snuffer::Run;

/// Planned steps.
pub const STEPS: usize = 10_000;
/// Steps between evaluations.
pub const EVAL_EVERY: usize = 100;
/// Features of the regression.
const FEATURES: usize = 8;
/// Training and validation rows.
const ROWS: usize = 256;
/// Standard deviation of the label noise: the best reachable val_mse is about its square.
const NOISE_SD: f32 = 0.1;

/// SplitMix64: a deterministic generator, so every invocation trains on the same data.
struct SplitMix(u64);

impl SplitMix {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
    /// A standard normal draw (Box–Muller).
    fn normal(&mut self) -> f32 {
        let u = self.next_f64().max(f64::MIN_POSITIVE);
        let v = self.next_f64();
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

/// The regression: data, parameters (zero at the start) and the optimizer's variables.
pub struct Regression {
    train: (Tensor, Tensor),
    val: (Tensor, Tensor),
    w: Var,
    b: Var,
}

impl Regression {
    /// Same data and starting point on every call (seed 19).
    pub fn new() -> candle_core::Result<Regression> {
        let dev = Device::Cpu;
        let mut rng = SplitMix(19);
        let w_true: Vec<f32> = (0..FEATURES).map(|_| 1.5 * rng.normal()).collect();
        let b_true = 1.0f32;
        let draw = |rng: &mut SplitMix| -> candle_core::Result<(Tensor, Tensor)> {
            let x: Vec<f32> = (0..ROWS * FEATURES).map(|_| rng.normal()).collect();
            let y: Vec<f32> = x
                .chunks(FEATURES)
                .map(|row| {
                    let clean: f32 = row.iter().zip(&w_true).map(|(a, w)| a * w).sum();
                    clean + b_true + NOISE_SD * rng.normal()
                })
                .collect();
            Ok((
                Tensor::from_vec(x, (ROWS, FEATURES), &dev)?,
                Tensor::from_vec(y, (ROWS, 1), &dev)?,
            ))
        };
        let train = draw(&mut rng)?;
        let val = draw(&mut rng)?;
        Ok(Regression {
            train,
            val,
            w: Var::zeros((FEATURES, 1), DType::F32, &dev)?,
            b: Var::zeros(1, DType::F32, &dev)?,
        })
    }

    /// The variables to optimise.
    pub fn vars(&self) -> Vec<Var> {
        vec![self.w.clone(), self.b.clone()]
    }

    fn mse(&self, (x, y): &(Tensor, Tensor)) -> candle_core::Result<Tensor> {
        let pred = x
            .matmul(self.w.as_tensor())?
            .broadcast_add(self.b.as_tensor())?;
        (pred - y)?.sqr()?.mean_all()
    }

    /// Training loss on the whole training set (full-batch gradient descent).
    pub fn loss(&self) -> candle_core::Result<Tensor> {
        self.mse(&self.train)
    }

    /// Validation mean squared error.
    pub fn val_mse(&self) -> candle_core::Result<f64> {
        Ok(f64::from(self.mse(&self.val)?.to_scalar::<f32>()?))
    }
}

/// The loop without stopping: `val_mse` at every evaluation, `(step, val_mse)`.
pub fn full_curve() -> anyhow::Result<Vec<(usize, f64)>> {
    let model = Regression::new()?;
    let mut opt = AdamW::new(model.vars(), ParamsAdamW::default())?;
    let mut curve = Vec::with_capacity(STEPS / EVAL_EVERY);
    for step in 1..=STEPS {
        opt.backward_step(&model.loss()?)?;
        if step % EVAL_EVERY == 0 {
            curve.push((step, model.val_mse()?));
        }
    }
    Ok(curve)
}

/// The README's loop, unchanged but for the metric and the model; the run goes to `out_dir`.
pub fn snuffer_run(out_dir: &std::path::Path) -> anyhow::Result<snuffer::rundir::Summary> {
    let model = Regression::new()?;
    // Stop when the calibrated forecast expects one more "energy so far" to buy less than
    // 30 % of the gain so far (for a loss, a share of its log-gain: a 10-fold fall counts
    // the same from 10 to 1 as from 0.1 to 0.01).
    let policy = AnyOf::new()
        .with(Divergence::non_finite())
        .with(MarginalGain::new(MarginalGainConfig::new(Tau::Relative(
            0.3,
        )))?);
    let run = Run::builder("regression")
        .out_dir(out_dir)
        .planned_steps(STEPS as u64)
        .metric("val_mse", Direction::LowerIsBetter)
        .bounds(Some(0.0), None)
        .policy(policy)
        .build()?;
    let mut opt = run.wrap(AdamW::new(model.vars(), ParamsAdamW::default())?);
    for step in 1..=STEPS {
        opt.backward_step(&model.loss()?)?;
        if step % EVAL_EVERY == 0 && opt.run_mut().eval(model.val_mse()?)?.should_stop() {
            break;
        }
    }
    Ok(opt.finish()?)
}

#[allow(dead_code)] // the test includes this file for the loop, not for `main`
fn main() -> anyhow::Result<()> {
    // One candle thread: a model this small runs fastest so, and the figures are steadier
    // (set before any thread starts).
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let full = full_curve()?;
    let full_best = full.iter().map(|&(_, v)| v).fold(f64::INFINITY, f64::min);
    let s = snuffer_run(std::path::Path::new("runs/regression-snuffer"))?;
    let best = s.best_metric.unwrap_or(f64::NAN);
    println!(
        "full run: {} steps, best val_mse {}",
        STEPS,
        snuffer::energy::significant(full_best, 4)
    );
    println!(
        "Snuffer:  {} steps ({}), best val_mse {} = {} × the full run's best",
        s.steps,
        snuffer::energy::Joules(s.energy_j),
        snuffer::energy::significant(best, 4),
        snuffer::energy::significant(best / full_best, 3)
    );
    println!("open it with: snuffer report runs/regression-snuffer");
    Ok(())
}
