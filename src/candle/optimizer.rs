//! [`SnufferOptimizer`]: any candle optimizer, with every step stamped on a [`Run`].

use crate::Run;
use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use candle_nn::Optimizer;

/// Wraps a candle optimizer (AdamW, SGD, your own) and stamps [`Run::step`] after
/// each [`step`](Optimizer::step) and [`backward_step`](Optimizer::backward_step).
///
/// It implements [`Optimizer`] itself and delegates every method, so an existing
/// training loop changes in one line:
///
/// ```
/// # use candle_core::{DType, Device, Tensor};
/// # use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
/// # let dir = tempfile::tempdir()?;
/// # let varmap = VarMap::new();
/// # let w = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu).get(3, "w")?;
/// # let run = snuffer::Run::builder("doc").out_dir(dir.path().join("run"))
/// #     .progress(snuffer::Progress::Quiet).build()?;
/// let params = ParamsAdamW::default();
/// // before: let mut opt = AdamW::new(varmap.all_vars(), params)?;
/// let mut opt = run.wrap(AdamW::new(varmap.all_vars(), params)?);
/// opt.backward_step(&w.sqr()?.sum_all()?)?;   // the loop is unchanged
/// assert_eq!(opt.run().steps(), 1);
/// opt.run_mut().eval(0.5)?;                   // report evaluations through the wrapper
/// let summary = opt.finish()?;
/// assert_eq!(summary.steps, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The wrapper owns the [`Run`]: reach it with [`run_mut`](Self::run_mut) to
/// report evaluations, and end it with [`finish`](Self::finish) (or take the
/// parts back with [`into_parts`](Self::into_parts)). Owning it, rather than
/// sharing it behind a `RefCell`, keeps the hot path a plain method call.
///
/// On a GPU, queued kernels would otherwise be billed to the next step: call
/// [`synchronize_on`](Self::synchronize_on) so each step waits for its device
/// before it is stamped (a no-op on the CPU).
pub struct SnufferOptimizer<O> {
    inner: O,
    run: Run,
    sync: Option<Device>,
}

impl<O: std::fmt::Debug> std::fmt::Debug for SnufferOptimizer<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnufferOptimizer")
            .field("inner", &self.inner)
            .field("run_dir", &self.run.dir())
            .field("steps", &self.run.steps())
            .finish()
    }
}

/// The [`Optimizer::Config`] of a [`SnufferOptimizer`]: the inner optimizer's
/// config and the run that records its steps.
///
/// Only needed when building through the trait (`Optimizer::new(vars, config)`),
/// for instance in code generic over optimizers; [`Run::wrap`] is the usual way.
pub struct SnufferConfig<C> {
    /// The inner optimizer's config (e.g. `ParamsAdamW`, or the learning rate for SGD).
    pub inner: C,
    /// The run that records each step.
    pub run: Run,
}

impl<C> SnufferConfig<C> {
    /// Pair an inner config with a run.
    pub fn new(inner: C, run: Run) -> Self {
        Self { inner, run }
    }
}

impl Run {
    /// Wrap an optimizer so that each of its steps is stamped on this run.
    ///
    /// This is the one-line change to an existing candle loop; see
    /// [`SnufferOptimizer`].
    pub fn wrap<O: Optimizer>(self, inner: O) -> SnufferOptimizer<O> {
        SnufferOptimizer::wrap(inner, self)
    }
}

impl<O: Optimizer> SnufferOptimizer<O> {
    /// Wrap `inner`, stamping its steps on `run` (same as [`Run::wrap`]).
    pub fn wrap(inner: O, run: Run) -> Self {
        Self {
            inner,
            run,
            sync: None,
        }
    }

    /// Wait for `device` to finish its queued work before stamping each step.
    ///
    /// Without it, on CUDA or Metal the energy of a step's kernels would leak into
    /// the next step. On the CPU this is a no-op and costs nothing.
    pub fn synchronize_on(mut self, device: Device) -> Self {
        self.sync = if device.is_cpu() { None } else { Some(device) };
        self
    }

    /// The run (read-only).
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// The run, to report evaluations: `opt.run_mut().eval(accuracy)?`.
    pub fn run_mut(&mut self) -> &mut Run {
        &mut self.run
    }

    /// The inner optimizer.
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// The inner optimizer, mutably (changing its state does not touch the run).
    pub fn inner_mut(&mut self) -> &mut O {
        &mut self.inner
    }

    /// Take the inner optimizer and the run apart.
    pub fn into_parts(self) -> (O, Run) {
        (self.inner, self.run)
    }

    /// Finish the run (writes `summary.json`); the inner optimizer is dropped.
    pub fn finish(self) -> Result<snuffer_rundir::Summary, crate::Error> {
        self.run.finish()
    }

    #[inline]
    fn stamp(&mut self) -> candle_core::Result<()> {
        if let Some(device) = &self.sync {
            device.synchronize()?;
        }
        self.run.step();
        Ok(())
    }
}

impl<O: Optimizer> Optimizer for SnufferOptimizer<O> {
    type Config = SnufferConfig<O::Config>;

    fn new(vars: Vec<Var>, config: Self::Config) -> candle_core::Result<Self> {
        Ok(Self::wrap(O::new(vars, config.inner)?, config.run))
    }

    #[inline]
    fn step(&mut self, grads: &GradStore) -> candle_core::Result<()> {
        self.inner.step(grads)?;
        self.stamp()
    }

    fn learning_rate(&self) -> f64 {
        self.inner.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.inner.set_learning_rate(lr)
    }

    fn empty(config: Self::Config) -> candle_core::Result<Self> {
        Ok(Self::wrap(O::empty(config.inner)?, config.run))
    }

    /// Delegates to the inner `backward_step` (which may be specialised) and stamps once.
    #[inline]
    fn backward_step(&mut self, loss: &Tensor) -> candle_core::Result<()> {
        self.inner.backward_step(loss)?;
        self.stamp()
    }

    fn from_slice(vars: &[&Var], config: Self::Config) -> candle_core::Result<Self> {
        Ok(Self::wrap(O::from_slice(vars, config.inner)?, config.run))
    }
}
