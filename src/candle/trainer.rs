//! [`Trainer`]: the common loop (train step, evaluation every N steps, the run's
//! policy, best weights) for users who want it.

use super::weights::{best_weights_path, restore_weights, save_weights};
use super::SnufferOptimizer;
use crate::policy::StopReason;
use crate::Error;
use candle_core::{DType, Tensor};
use candle_nn::{Optimizer, VarMap};
use snuffer_rundir::Summary;
use std::path::PathBuf;

/// Runs a candle training loop under a [`Run`](crate::Run): calls the training
/// closure for each step, the evaluation closure every `eval_every` steps, asks
/// the run's policy after each evaluation, keeps the best weights in
/// `best.safetensors`, and restores them at the end — when the policy stops the
/// run *and* when the run reaches its planned length.
///
/// **Which weights.** One rule, whatever the policy: the raw strict best, the first
/// evaluation with the best finite value in the metric's direction ([`Run::best`](crate::Run::best)),
/// `min_delta` or not. That is the Hugging Face Trainer's `load_best_model_at_end` and
/// [`Patience::best`](crate::policy::Patience::best) under Snuffer's semantics. Keras's
/// `restore_best_weights` differs when `min_delta > 0` (it keeps its last improvement that
/// beat `min_delta`) or with `start_from_epoch` (it ignores the warm-up):
/// `Patience::best` under `Compat::Keras` gives that step (see `snuffer_policy::compat`).
///
/// The manual API ([`Run::step`](crate::Run::step), [`Run::eval`](crate::Run::eval))
/// stays available for loops that do not fit this shape.
///
/// A non-finite training loss triggers an evaluation at once, so a policy with a
/// divergence rule stops the run without waiting for the next scheduled
/// evaluation.
///
/// **Sweeps.** A trainer's run joins a sweep through its run builder, before the
/// optimizer is wrapped: `Run::builder(name).sweep(dir).planned_steps(n)…`
/// ([`RunBuilder::sweep`](crate::RunBuilder::sweep)). Each trainer of the sweep (in this
/// process, another one, or on another machine sharing the directory) then writes its own
/// run directory there, and its policy sees the others' recorded curves
/// (`examples/sweep.rs` runs a hyperparameter search this way).
pub struct Trainer<'a, O> {
    opt: SnufferOptimizer<O>,
    varmap: &'a VarMap,
    eval_every: u64,
    max_steps: Option<u64>,
    loss_every: u64,
}

/// What [`Trainer::fit`] did.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The run's summary (also written to `summary.json`).
    pub summary: Summary,
    /// Why the policy stopped the run; `None` when it ran to the end.
    pub stop: Option<StopReason>,
    /// Best evaluation: `(step, metric)`.
    pub best: Option<(u64, f64)>,
    /// Whether the best weights were restored into the `VarMap` at the end.
    pub restored_best: bool,
    /// Optimizer steps done.
    pub steps: u64,
    /// The run directory.
    pub dir: PathBuf,
}

impl<'a, O: Optimizer> Trainer<'a, O> {
    /// A trainer for `opt` (a wrapped optimizer, see [`crate::Run::wrap`]) whose
    /// variables live in `varmap`. Defaults: evaluate every 100 steps, record the
    /// loss every step, run for the run's planned steps.
    pub fn new(opt: SnufferOptimizer<O>, varmap: &'a VarMap) -> Self {
        Self {
            opt,
            varmap,
            eval_every: 100,
            max_steps: None,
            loss_every: 1,
        }
    }

    /// Evaluate every `n` steps (and after the last step). `0` is taken as `1`.
    pub fn eval_every(mut self, n: u64) -> Self {
        self.eval_every = n.max(1);
        self
    }

    /// Run at most `n` steps (default: the run's planned steps).
    pub fn max_steps(mut self, n: u64) -> Self {
        self.max_steps = Some(n);
        self
    }

    /// Read the loss back every `n` steps for the logs and the progress line
    /// (default 1). Reading a loss waits for the device: on a GPU, a larger `n`
    /// keeps the pipeline full, at the price of noticing a NaN later. `0` is taken as `1`.
    pub fn loss_every(mut self, n: u64) -> Self {
        self.loss_every = n.max(1);
        self
    }

    /// Train: `train(step)` builds the loss of one step (the trainer does the
    /// backward pass and the optimizer step); `eval()` returns the monitored
    /// metric on validation data.
    ///
    /// Returns when the policy stops the run or after the last step; in both
    /// cases the best weights are back in the `VarMap` and `summary.json` is
    /// written. On an error the run is dropped: its logs stay valid, the
    /// weights are left as they were at the failing step.
    pub fn fit<T, E>(self, mut train: T, mut eval: E) -> Result<TrainOutcome, Error>
    where
        T: FnMut(u64) -> candle_core::Result<Tensor>,
        E: FnMut() -> candle_core::Result<f64>,
    {
        let Trainer {
            mut opt,
            varmap,
            eval_every,
            max_steps,
            loss_every,
        } = self;
        let steps = max_steps
            .or_else(|| opt.run().planned_steps())
            .ok_or(Error::NoStepCount)?;
        let best_path = best_weights_path(opt.run().dir());

        let mut saved_best = false;
        let mut stop = None;
        let mut step = 0;
        while step < steps {
            let loss = train(step).map_err(candle_err("train step", step))?;
            opt.backward_step(&loss)
                .map_err(candle_err("optimizer step", step))?;
            step += 1;
            let mut diverged = false;
            if step % loss_every == 0 {
                let value = scalar(&loss).map_err(candle_err("reading the loss", step))?;
                opt.run_mut().record_loss(value);
                diverged = !value.is_finite();
            }
            if diverged || step % eval_every == 0 || step == steps {
                let metric = eval().map_err(candle_err("evaluation", step))?;
                let action = opt.run_mut().eval(metric)?;
                saved_best |= keep_best(&action, varmap, &best_path)?;
                if action.should_stop() {
                    stop = action.reason().cloned();
                    break;
                }
            }
        }
        if saved_best {
            restore_weights(varmap, &best_path)?;
        }
        let best = opt.run().best();
        let dir = opt.run().dir().to_path_buf();
        let summary = opt.finish()?;
        Ok(TrainOutcome {
            summary,
            stop,
            best,
            restored_best: saved_best,
            steps: step,
            dir,
        })
    }
}

/// Wraps a candle error with the phase and step it happened at.
fn candle_err(phase: &'static str, step: u64) -> impl FnOnce(candle_core::Error) -> Error {
    move |source| Error::Candle {
        phase,
        step,
        source,
    }
}

/// Saves the weights when `action` is a new best (returns whether it saved them).
fn keep_best(
    action: &crate::Action,
    varmap: &VarMap,
    path: &std::path::Path,
) -> Result<bool, Error> {
    if action.is_new_best() {
        save_weights(varmap, path)?;
    }
    Ok(action.is_new_best())
}

/// The mean of a loss tensor as `f64` (a scalar loss is its own mean).
fn scalar(loss: &Tensor) -> candle_core::Result<f64> {
    loss.to_dtype(DType::F64)?.mean_all()?.to_scalar::<f64>()
}
