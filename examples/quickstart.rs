//! scratch: tune the digits MLP (replaced by the real quickstart)
mod common;
use candle_core::{DType, Device};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use common::*;
fn main() -> anyhow::Result<()> {
    println!("{}", setup_threads());
    let dev = Device::Cpu;
    let data = Digits::load(500, 7, &dev)?;
    let hidden: usize = std::env::var("H").ok().and_then(|s| s.parse().ok()).unwrap_or(128);
    let lr: f64 = std::env::var("LR").ok().and_then(|s| s.parse().ok()).unwrap_or(1e-3);
    let steps: u64 = std::env::var("STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let varmap = VarMap::new();
    let model = Mlp::new(VarBuilder::from_varmap(&varmap, DType::F32, &dev), 64, hidden, 10)?;
    seeded_init(&varmap, 1)?;
    let mut opt = AdamW::new(varmap.all_vars(), ParamsAdamW { lr, ..Default::default() })?;
    let mut b = Batches::new(data.n_train(), 32, 1, &dev);
    let t0 = std::time::Instant::now();
    for s in 1..=steps {
        let idx = b.next_indices()?;
        let loss = batch_loss(&model, &data.train_x, &data.train_y, &idx)?;
        opt.backward_step(&loss)?;
        if s % 100 == 0 {
            println!("{s} {:.4} {:.3?}", accuracy(&model, &data.val_x, &data.val_y)?, t0.elapsed());
        }
    }
    Ok(())
}
