//! Candle integration: a one-line optimizer wrapper, a small trainer, best weights.
//!
//! * [`SnufferOptimizer`] wraps any [`candle_nn::Optimizer`] and stamps each
//!   step on a [`Run`](crate::Run): `let mut opt = run.wrap(AdamW::new(vars, params)?);`.
//! * [`Trainer`] runs the common loop: a training closure, an evaluation every
//!   N steps, the run's policy, best weights saved to `best.safetensors` and
//!   restored at the end (after a stop and at the natural end alike).
//! * [`save_weights`] / [`restore_weights`] do the atomic save (temp file +
//!   rename) and the in-place restore, for custom loops.
//!
//! # Example
//!
//! Fit `y = 2x` with SGD; the trainer evaluates every 10 steps and keeps the best
//! weights.
//!
//! ```
//! use candle_core::{DType, Device, Module, Tensor};
//! use candle_nn::{Optimizer, VarBuilder, VarMap, SGD};
//! use snuffer::candle::Trainer;
//! use snuffer::forecast::Direction;
//!
//! let dir = tempfile::tempdir()?;
//! let dev = Device::Cpu;
//! let varmap = VarMap::new();
//! let model = candle_nn::linear(1, 1, VarBuilder::from_varmap(&varmap, DType::F32, &dev))?;
//! let x = Tensor::new(&[[1f32], [2.], [3.], [4.]], &dev)?;
//! let y = Tensor::new(&[[2f32], [4.], [6.], [8.]], &dev)?;
//!
//! let run = snuffer::Run::builder("doc-example")
//!     .out_dir(dir.path().join("run"))
//!     .planned_steps(100)
//!     .metric("mse", Direction::LowerIsBetter)
//!     .progress(snuffer::Progress::Quiet)
//!     .build()?;
//! let opt = run.wrap(SGD::new(varmap.all_vars(), 0.01)?);   // the one-line change
//!
//! let outcome = Trainer::new(opt, &varmap).eval_every(10).fit(
//!     |_step| candle_nn::loss::mse(&model.forward(&x)?, &y),
//!     || candle_nn::loss::mse(&model.forward(&x)?, &y)?.to_scalar::<f32>().map(f64::from),
//! )?;
//! assert!(outcome.best.is_some_and(|(_, mse)| mse < 1.0));
//! assert!(outcome.dir.join("best.safetensors").exists());
//! assert!(outcome.dir.join("summary.json").exists());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod optimizer;
mod trainer;
mod weights;

pub use optimizer::{SnufferConfig, SnufferOptimizer};
pub use trainer::{TrainOutcome, Trainer};
pub use weights::{best_weights_path, restore_weights, save_weights};
