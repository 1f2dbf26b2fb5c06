//! The manual API in your own loop: `run.step()` after each optimizer step,
//! `run.eval(metric)` after each evaluation, best weights by hand. No helper.
mod common;
use candle_core::{DType, Device};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use common::{accuracy, batch_loss, marginal_policy, setup_threads, Batches, Digits, Mlp};
use snuffer::candle::{restore_weights, save_weights};
use snuffer::{forecast::Direction, Run};

fn main() -> anyhow::Result<()> {
    println!("{}", setup_threads()); // before any thread starts
    let dev = Device::Cpu;
    let data = Digits::load(500, 7, &dev)?;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
    let model = Mlp::new(vb, 64, 64, 10)?;
    let mut opt = AdamW::new(varmap.all_vars(), ParamsAdamW::default())?; // lr 1e-3
    let mut run = Run::builder("custom-loop")
        .planned_steps(2_000)
        .metric("val_acc", Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .policy(marginal_policy(common::TAU_RELATIVE)?) // divergence guard + marginal gain per kWh
        .build()?;
    let best_path = run.dir().join(snuffer::rundir::BEST_WEIGHTS_FILE);
    let mut batches = Batches::new(data.n_train(), 32, 1, &dev);
    let mut saved = false;
    for step in 1..=2_000u64 {
        let idx = batches.next_indices()?;
        let loss = batch_loss(&model, &data.train_x, &data.train_y, &idx)?;
        opt.backward_step(&loss)?;
        run.step(); // the hot path: a clock read, nothing else
        if step % 50 == 0 {
            run.record_loss(loss.to_scalar::<f32>()?.into());
            let action = run.eval(accuracy(&model, &data.val_x, &data.val_y)?)?;
            if action.is_new_best() {
                save_weights(&varmap, &best_path)?; // temp file + rename
                saved = true;
            }
            if action.should_stop() {
                break;
            }
        }
    }
    if saved {
        restore_weights(&varmap, &best_path)?; // after a stop and at the natural end
    }
    let dir = run.dir().to_path_buf();
    let s = run.finish()?;
    println!(
        "{} steps, {:.1} J, best val_acc {:?}",
        s.steps, s.energy_j, s.best_metric
    );
    println!(
        "restored val_acc {:.4}",
        accuracy(&model, &data.val_x, &data.val_y)?
    );
    println!("open it with: snuffer report {}", dir.display());
    Ok(())
}
