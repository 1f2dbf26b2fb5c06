//! The manual API in your own loop, standing alone: `run.step()` after each optimizer
//! step, `run.eval(metric)` after each evaluation, best weights by hand.
//! `cargo run --release --example custom_loop`
use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{linear, loss, AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use snuffer::candle::{restore_weights, save_weights};
use snuffer::policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, Tau};
use snuffer::{forecast::Direction, Run};

fn main() -> anyhow::Result<()> {
    // One candle thread: small models run fastest so (set before any thread starts).
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let dev = Device::Cpu;
    // UCI digits (1 797 8×8 images, shipped inside smartcore): every 4th for validation.
    let ds = smartcore::dataset::digits::load_dataset();
    let x = (Tensor::from_vec(ds.data, (ds.num_samples, 64), &dev)? / 16.0)?;
    let y = Tensor::from_vec(
        ds.target.iter().map(|&t| t as u32).collect(),
        ds.num_samples,
        &dev,
    )?;
    let (val, train): (Vec<u32>, Vec<u32>) = (0..ds.num_samples as u32).partition(|i| i % 4 == 0);
    let pick = |idx: &[u32]| -> candle_core::Result<(Tensor, Tensor)> {
        let i = Tensor::new(idx, &dev)?;
        Ok((x.index_select(&i, 0)?, y.index_select(&i, 0)?))
    };
    let ((vx, vy), (tx, ty)) = (pick(&val)?, pick(&train)?);
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
    let (fc1, fc2) = (linear(64, 64, vb.pp("fc1"))?, linear(64, 10, vb.pp("fc2"))?);
    let model = |x: &Tensor| fc2.forward(&fc1.forward(x)?.relu()?);
    let accuracy = || -> candle_core::Result<f64> {
        let hit = model(&vx)?
            .argmax(D::Minus1)?
            .eq(&vy)?
            .to_dtype(DType::F64)?;
        hit.mean_all()?.to_scalar::<f64>()
    };
    let mut opt = AdamW::new(varmap.all_vars(), ParamsAdamW::default())?; // lr 1e-3
    let marginal = MarginalGain::new(MarginalGainConfig::new(Tau::Relative(0.3)))?;
    let mut run = Run::builder("custom-loop")
        .planned_steps(2_000)
        .metric("val_acc", Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .policy(AnyOf::new().with(Divergence::non_finite()).with(marginal))
        .build()?;
    let best_path = run.dir().join(snuffer::rundir::BEST_WEIGHTS_FILE);
    let n = train.len();
    for step in 1..=2_000usize {
        let start = (step * 32) % (n - 32); // 32-image batches, in order
        let loss = loss::cross_entropy(
            &model(&tx.narrow(0, start, 32)?)?,
            &ty.narrow(0, start, 32)?,
        )?;
        opt.backward_step(&loss)?;
        run.step(); // the hot path: a counter, nothing else
        if step % 50 == 0 {
            run.record_loss(loss.to_scalar::<f32>()?.into());
            let action = run.eval(accuracy()?)?;
            if action.is_new_best() {
                save_weights(&varmap, &best_path)?; // temp file + rename
            }
            if action.should_stop() {
                break;
            }
        }
    }
    if best_path.exists() {
        restore_weights(&varmap, &best_path)?; // after a stop and at the natural end
    }
    let dir = run.dir().to_path_buf();
    let s = run.finish()?;
    let four = |v: f64| snuffer::energy::significant(v, 4);
    println!(
        "{} steps, {} ({}), best val_acc {}",
        s.steps,
        snuffer::energy::Joules(s.energy_j),
        s.provenance.label(),
        s.best_metric.map_or("-".into(), four)
    );
    println!("restored val_acc {}", four(accuracy()?));
    println!("open it with: snuffer report {}", dir.display());
    Ok(())
}
