//! Trains the shipped prior: the one reproducible command (seeded data and weights).
//!
//! ```text
//! RAYON_NUM_THREADS=1 nice -n 15 cargo run --release -p snuffer-prior --example train_prior -- \
//!     --mixture progress --steps 2000 --batch 32 --seed 23 --eval-every 500 \
//!     --out crates/snuffer-prior/model
//! ```
//!
//! The training is itself a Snuffer run (no stop policy: it always runs its planned steps):
//! its run directory `OUT/run` records the job's energy per step as the facade measures it
//! (RAPL counters where readable, else a CPU-time estimate — the run's report says which),
//! and the held-out NLL at every evaluation. Writes `OUT/prior.safetensors` and
//! `OUT/training.json` (settings, loss curve, NLL on 1 000 fresh prior curves, wall time).
//! A checkpoint (`checkpoint.safetensors`, `checkpoint.json`) is written at every
//! evaluation and removed at the end.
//! Options: `--steps N` (default 6000), `--batch B` (32), `--seed S` (23), `--lr LR` (1e-3),
//! `--eval-every E` (200), `--out DIR`, `--mixture NAME` (the synthetic prior, one of
//! `Mixture::NAMES`, default the shipped one, `snuffer_prior::SHIPPED_MIXTURE`), `--init FILE` (start from these weights instead of
//! seeded random ones: a second stage continues a first; `training.json` then keeps the
//! first stage's record under `"previous_stage"` when `FILE` sits beside a `training.json`).
//! Candle's CPU threads follow `RAYON_NUM_THREADS` (default: every core).

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use snuffer::forecast::Direction;
use snuffer_prior::generator::{Generator, Mixture};
use snuffer_prior::model::{ModelConfig, PriorModel};
use snuffer_prior::train::{batch, nll, nll_on_fresh};
use std::path::PathBuf;
use std::time::Instant;

struct Args {
    steps: u64,
    batch: usize,
    seed: u64,
    lr: f64,
    eval_every: u64,
    out: PathBuf,
    init: Option<PathBuf>,
    mixture: String,
}

fn parse() -> Result<Args> {
    let mut a = Args {
        steps: 6000,
        batch: 32,
        seed: 23,
        lr: 1e-3,
        eval_every: 200,
        out: PathBuf::from("crates/snuffer-prior/model"),
        init: None,
        mixture: snuffer_prior::SHIPPED_MIXTURE.to_string(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--steps" => {
                a.steps = value()?
                    .parse()
                    .context("--steps: a whole number of steps, e.g. 6000")?
            }
            "--batch" => {
                a.batch = value()?
                    .parse()
                    .context("--batch: a whole number of curves, e.g. 32")?
            }
            "--seed" => {
                a.seed = value()?
                    .parse()
                    .context("--seed: a whole number, e.g. 23")?
            }
            "--lr" => a.lr = value()?.parse().context("--lr: a number, e.g. 1e-3")?,
            "--eval-every" => {
                a.eval_every = value()?
                    .parse()
                    .context("--eval-every: a whole number of steps")?
            }
            "--out" => a.out = PathBuf::from(value()?),
            "--init" => a.init = Some(PathBuf::from(value()?)),
            "--mixture" => a.mixture = value()?,
            other => bail!("unknown option {other}; see the example's doc comment for its options"),
        }
    }
    if a.steps == 0 || a.batch == 0 || a.eval_every == 0 {
        bail!("--steps, --batch and --eval-every must be at least 1");
    }
    Ok(a)
}

/// Seeded initial weights: matrices uniform in ±1/√fan-in, layer-norm gains 1, biases 0.
fn seeded_init(varmap: &VarMap, seed: u64) -> Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
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
                .map(|_| ((rng.random::<f64>() * 2.0 - 1.0) * bound) as f32)
                .collect()
        } else if name.contains("ln") && name.ends_with("weight") {
            vec![1.0; n]
        } else {
            vec![0.0; n]
        };
        var.set(&Tensor::from_vec(values, dims, var.device())?)?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = parse()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let dev = Device::Cpu;
    let config = ModelConfig::default();
    let varmap = VarMap::new();
    let model = PriorModel::new(VarBuilder::from_varmap(&varmap, DType::F32, &dev), config)?;
    seeded_init(&varmap, args.seed)?;
    let mut previous_stage = serde_json::Value::Null;
    if let Some(init) = &args.init {
        let mut vm = varmap.clone();
        vm.load(init).with_context(|| {
            format!(
                "cannot load --init {}: expected a safetensors file written by train_prior",
                init.display()
            )
        })?;
        if let Some(dir) = init.parent() {
            if let Ok(text) = std::fs::read_to_string(dir.join("training.json")) {
                previous_stage = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
            }
        }
    }
    let params: usize = varmap.all_vars().iter().map(|v| v.elem_count()).sum();
    let mixture = Mixture::named(&args.mixture).with_context(|| {
        format!(
            "--mixture {}: not a known mixture; use one of {}",
            args.mixture,
            Mixture::NAMES.join(", ")
        )
    })?;
    let generator = Generator::new(mixture);
    let mut data_rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let val = batch(
        &generator,
        &mut rand::rngs::StdRng::seed_from_u64(args.seed + 1),
        512,
        &dev,
    )?;

    let run = snuffer::Run::builder("train-prior")
        .planned_steps(args.steps)
        .metric("val_nll", Direction::LowerIsBetter)
        .out_dir(args.out.join("run"))
        .progress(snuffer::Progress::Quiet)
        .emissions(false)
        .build()?;
    let mut opt = run.wrap(AdamW::new(
        varmap.all_vars(),
        ParamsAdamW {
            lr: args.lr,
            weight_decay: 1e-4,
            ..Default::default()
        },
    )?);
    let start = Instant::now();
    let mut curve = Vec::new();
    let mut train_acc = (0.0, 0usize);
    for step in 1..=args.steps {
        // Warm-up over the first 2 % of the steps, then cosine to a tenth.
        let t = step as f64 / args.steps as f64;
        let lr = if t < 0.02 {
            args.lr * t / 0.02
        } else {
            args.lr * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * (t - 0.02) / 0.98).cos()))
        };
        opt.inner_mut().set_learning_rate(lr);
        let b = batch(&generator, &mut data_rng, args.batch, &dev)?;
        let loss = nll(&model, &b)?;
        train_acc.0 += f64::from(loss.to_scalar::<f32>()?);
        train_acc.1 += 1;
        opt.backward_step(&loss)?;
        if step % args.eval_every == 0 || step == args.steps {
            let v = f64::from(nll(&model, &val)?.to_scalar::<f32>()?);
            let tr = train_acc.0 / train_acc.1.max(1) as f64;
            train_acc = (0.0, 0);
            opt.run_mut().record_loss(tr);
            // No policy: the run is measured, never stopped.
            let _ = opt.run_mut().eval(v)?;
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "step {step}/{} train_nll {tr:.4} val_nll {v:.4} {:.0} curves/s {secs:.0} s",
                args.steps,
                (step as usize * args.batch) as f64 / secs
            );
            curve.push(
                serde_json::json!({ "step": step, "train_nll": tr, "val_nll": v, "seconds": secs }),
            );
            // A checkpoint at every evaluation: a job cut short keeps its latest weights.
            varmap.save(args.out.join("checkpoint.safetensors"))?;
            std::fs::write(
                args.out.join("checkpoint.json"),
                serde_json::to_string_pretty(
                    &serde_json::json!({ "step": step, "loss_curve": curve }),
                )?,
            )?;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    varmap.save(args.out.join("prior.safetensors"))?;
    let _ = std::fs::remove_file(args.out.join("checkpoint.safetensors"));
    let _ = std::fs::remove_file(args.out.join("checkpoint.json"));
    let summary = opt.finish()?;
    let fresh = nll_on_fresh(
        &model,
        &generator,
        &mut rand::rngs::StdRng::seed_from_u64(1000 + args.seed),
        1000,
    )?;
    let record = serde_json::json!({
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "model": { "width": config.width, "layers": config.layers, "heads": config.heads, "parameters": params },
        "mixture": args.mixture,
        "steps": args.steps, "batch": args.batch, "seed": args.seed, "lr": args.lr,
        "curves_seen": args.steps as usize * args.batch
            + previous_stage.get("curves_seen").and_then(|v| v.as_u64()).unwrap_or(0) as usize,
        "curves_seen_this_stage": args.steps as usize * args.batch,
        "init": args.init.as_ref().map(|p| p.display().to_string()),
        "previous_stage": previous_stage,
        "wall_seconds": wall,
        "nll_fresh_1000": fresh,
        "nll_fresh_seed": 1000 + args.seed,
        "loss_curve": curve,
        "run_summary": serde_json::to_value(&summary)?,
    });
    std::fs::write(
        args.out.join("training.json"),
        serde_json::to_string_pretty(&record)?,
    )?;
    eprintln!("done: {wall:.0} s, NLL on 1000 fresh prior curves {fresh:.4}");
    Ok(())
}
