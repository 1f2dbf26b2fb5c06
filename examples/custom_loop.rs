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
    let model = Mlp::new(VarBuilder::from_varmap(&varmap, DType::F32, &dev), 64, 64, 10)?;
    let mut opt = AdamW::new(varmap.all_vars(), ParamsAdamW { lr: 1e-3, ..Default::default() })?;
    let mut run = Run::builder("custom-loop")
        .planned_steps(2_000)
        .metric("val_acc", Direction::HigherIsBetter)
        .bounds(Some(0.0), Some(1.0))
        .policy(marginal_policy(0.05)?) // divergence guard + marginal gain per kWh
        .build()?;
    let best_path = run.dir().join(snuffer::format::BEST_WEIGHTS_FILE);
    let mut batches = Batches::new(data.n_train(), 32, 1, &dev);
    let mut saved = false;
    for step in 1..=2_000u64 {
        let loss = batch_loss(&model, &data.train_x, &data.train_y, &batches.next_indices()?)?;
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
    let summary = run.finish()?;
    println!("{} steps, {:.1} J, best val_acc {:?}", summary.steps, summary.energy_j, summary.best_metric);
    println!("restored val_acc {:.4}", accuracy(&model, &data.val_x, &data.val_y)?);
    println!("open it with: snuffer report {}", dir.display());
    Ok(())
}
