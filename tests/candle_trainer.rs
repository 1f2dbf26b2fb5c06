//! End-to-end tests of the candle integration: run files, best-weight restore,
//! divergence on a NaN loss, and logs left by a dropped run.
#![cfg(feature = "candle")]

use anyhow::Result;
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, Optimizer, VarBuilder, VarMap, SGD};
use snuffer::energy::{ConstantMeter, Meter, Watts};
use snuffer::forecast::Direction;
use snuffer::policy::{Decision, Observation, StopPolicy, StopReason};
use snuffer::rundir::{RecordKind, StepRecord, Summary};
use snuffer::{Progress, Run};
use std::collections::HashMap;
use std::path::Path;

/// A constant 50 W meter, so the tests do not depend on the machine.
fn meters() -> Result<Vec<Box<dyn Meter>>> {
    Ok(vec![Box::new(ConstantMeter::new("test", Watts(50.0))?)])
}

fn builder(dir: &Path, planned: u64, direction: Direction) -> Result<snuffer::RunBuilder> {
    Ok(Run::builder("candle-test")
        .out_dir(dir.join("run"))
        .planned_steps(planned)
        .metric("metric", direction)
        .meters(meters()?)
        .progress(Progress::Quiet))
}

/// A one-layer regression model: tiny, fast, deterministic enough.
fn model(varmap: &VarMap) -> Result<(Linear, Tensor, Tensor)> {
    let dev = Device::Cpu;
    let lin = candle_nn::linear(2, 1, VarBuilder::from_varmap(varmap, DType::F32, &dev))?;
    let x = Tensor::new(&[[1f32, 0.], [0., 1.], [1., 1.], [2., 1.]], &dev)?;
    let y = Tensor::new(&[[1f32], [2.], [3.], [4.]], &dev)?;
    Ok((lin, x, y))
}

fn snapshot(varmap: &VarMap) -> Result<HashMap<String, Vec<f32>>> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?;
    let mut out = HashMap::new();
    for (name, var) in data.iter() {
        out.insert(
            name.clone(),
            var.as_tensor().flatten_all()?.to_vec1::<f32>()?,
        );
    }
    Ok(out)
}

fn read_steps(dir: &Path) -> Result<Vec<StepRecord>> {
    let text = std::fs::read_to_string(dir.join(snuffer::rundir::STEPS_FILE))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Ok(serde_json::from_str::<StepRecord>(l)?))
        .collect()
}

/// Stops at a fixed evaluation: the test controls when the stop fires.
struct StopAtEval {
    at: usize,
    seen: usize,
}

impl StopPolicy for StopAtEval {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        if obs.metric.is_none() {
            return Decision::Continue;
        }
        self.seen += 1;
        if self.seen < self.at {
            return Decision::Continue;
        }
        Decision::Stop(StopReason::other(
            "test",
            format!("test stop at evaluation {}", self.seen),
            &[],
        ))
    }
}

#[test]
fn a_short_run_writes_its_files() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let varmap = VarMap::new();
    let (lin, x, y) = model(&varmap)?;
    let run = builder(dir.path(), 40, Direction::LowerIsBetter)?.build()?;
    let opt = run.wrap(SGD::new(varmap.all_vars(), 0.05)?);
    let outcome = snuffer::candle::Trainer::new(opt, &varmap)
        .eval_every(10)
        .fit(
            |_| candle_nn::loss::mse(&lin.forward(&x)?, &y),
            || {
                Ok(f64::from(
                    candle_nn::loss::mse(&lin.forward(&x)?, &y)?.to_scalar::<f32>()?,
                ))
            },
        )?;
    assert_eq!(outcome.steps, 40);
    assert!(
        outcome.stop.is_none(),
        "no policy: the run must reach its planned end"
    );
    for file in ["steps.jsonl", "summary.json", "best.safetensors"] {
        assert!(
            outcome.dir.join(file).is_file(),
            "{file} missing in {}",
            outcome.dir.display()
        );
    }
    let summary: Summary =
        serde_json::from_str(&std::fs::read_to_string(outcome.dir.join("summary.json"))?)?;
    assert!(summary.finished);
    assert_eq!(summary.steps, 40);
    assert!(summary.energy_j >= 0.0);
    let evals = read_steps(&outcome.dir)?
        .into_iter()
        .filter(|r| r.kind == RecordKind::Eval)
        .count();
    assert_eq!(evals, 4, "one eval line per evaluation");
    // At the natural end the best weights are restored too.
    assert!(outcome.restored_best);
    Ok(())
}

#[test]
fn weights_restored_after_a_stop_are_the_best_evaluations() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let varmap = VarMap::new();
    let (lin, x, y) = model(&varmap)?;
    let policy = StopAtEval { at: 4, seen: 0 };
    let run = builder(dir.path(), 1_000, Direction::HigherIsBetter)?
        .policy(policy)
        .build()?;
    let opt = run.wrap(SGD::new(varmap.all_vars(), 0.05)?);
    // Scripted metric: the second evaluation is the best, the stop comes at the fourth.
    let script = [0.5, 0.9, 0.7, 0.6];
    let mut evals = 0;
    let mut seen = Vec::new();
    let outcome = snuffer::candle::Trainer::new(opt, &varmap)
        .eval_every(5)
        .fit(
            |_| candle_nn::loss::mse(&lin.forward(&x)?, &y),
            || {
                seen.push(snapshot(&varmap).map_err(|e| candle_core::Error::Msg(e.to_string()))?);
                evals += 1;
                Ok(script[(evals - 1).min(script.len() - 1)])
            },
        )?;
    assert_eq!(outcome.steps, 20, "stopped at the fourth evaluation");
    assert!(outcome.stop.as_ref().is_some_and(|s| s.policy == "test"));
    assert_eq!(outcome.best, Some((10, 0.9)));
    let restored = snapshot(&varmap)?;
    assert_eq!(
        restored, seen[1],
        "restored weights must equal those of the best evaluation"
    );
    assert_ne!(
        restored, seen[3],
        "the weights moved after the best evaluation, so the test can fail"
    );
    Ok(())
}

#[test]
fn a_nan_loss_stops_the_run_as_divergence() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let varmap = VarMap::new();
    let (lin, x, y) = model(&varmap)?;
    let policy = snuffer::policy::Divergence::non_finite();
    let run = builder(dir.path(), 1_000, Direction::LowerIsBetter)?
        .policy(policy)
        .build()?;
    let opt = run.wrap(SGD::new(varmap.all_vars(), 0.05)?);
    let outcome = snuffer::candle::Trainer::new(opt, &varmap)
        .eval_every(10)
        .fit(
            |step| {
                let loss = candle_nn::loss::mse(&lin.forward(&x)?, &y)?;
                // From step 25 on the loss is NaN (as after an overflow).
                if step >= 25 {
                    loss.affine(f64::NAN, 0.0)
                } else {
                    Ok(loss)
                }
            },
            || {
                Ok(f64::from(
                    candle_nn::loss::mse(&lin.forward(&x)?, &y)?.to_scalar::<f32>()?,
                ))
            },
        )?;
    let stop = outcome
        .stop
        .ok_or_else(|| anyhow::anyhow!("the run did not stop on a NaN loss"))?;
    assert_eq!(stop.policy, "divergence", "{stop:?}");
    assert_eq!(
        outcome.steps, 26,
        "stopped right after the first NaN step, not at the next evaluation"
    );
    // The weights are back at the last finite best, not NaN.
    for (name, values) in snapshot(&varmap)? {
        assert!(
            values.iter().all(|v| v.is_finite()),
            "{name} holds NaN after restore"
        );
    }
    let summary: Summary =
        serde_json::from_str(&std::fs::read_to_string(outcome.dir.join("summary.json"))?)?;
    assert_eq!(
        summary.stop.map(|s| s.policy),
        Some(Some("divergence".to_string()))
    );
    Ok(())
}

#[test]
fn a_dropped_run_leaves_parseable_logs() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let varmap = VarMap::new();
    let (lin, x, y) = model(&varmap)?;
    let run = builder(dir.path(), 1_000, Direction::LowerIsBetter)?.build()?;
    let run_dir = run.dir().to_path_buf();
    let mut opt = run.wrap(SGD::new(varmap.all_vars(), 0.05)?);
    for step in 1..=30 {
        opt.backward_step(&candle_nn::loss::mse(&lin.forward(&x)?, &y)?)?;
        if step % 10 == 0 {
            let mse = candle_nn::loss::mse(&lin.forward(&x)?, &y)?.to_scalar::<f32>()?;
            opt.run_mut().eval(f64::from(mse))?;
        }
    }
    assert_eq!(opt.run().steps(), 30, "each backward_step is stamped once");
    drop(opt); // as if the process were interrupted: no finish()
    let records = read_steps(&run_dir)?;
    assert!(!records.is_empty());
    assert_eq!(
        records
            .iter()
            .filter(|r| r.kind == RecordKind::Eval)
            .count(),
        3
    );
    assert!(records.iter().all(|r| r.step <= 30));
    Ok(())
}

#[test]
fn the_wrapper_delegates_to_the_inner_optimizer() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let varmap = VarMap::new();
    let (lin, x, y) = model(&varmap)?;
    let mut bare_map = VarMap::new();
    let (bare_lin, _, _) = model(&bare_map)?;
    // Same starting weights for both.
    let path = dir.path().join("w.safetensors");
    varmap.save(&path)?;
    bare_map.load(&path)?;
    let run = builder(dir.path(), 10, Direction::LowerIsBetter)?.build()?;
    let mut wrapped = run.wrap(SGD::new(varmap.all_vars(), 0.05)?);
    let mut bare = SGD::new(bare_map.all_vars(), 0.05)?;
    assert_eq!(wrapped.learning_rate(), 0.05);
    wrapped.set_learning_rate(0.02);
    bare.set_learning_rate(0.02);
    assert_eq!(wrapped.inner().learning_rate(), 0.02);
    for _ in 0..5 {
        wrapped.backward_step(&candle_nn::loss::mse(&lin.forward(&x)?, &y)?)?;
        bare.backward_step(&candle_nn::loss::mse(&bare_lin.forward(&x)?, &y)?)?;
    }
    let grads = candle_nn::loss::mse(&lin.forward(&x)?, &y)?.backward()?;
    wrapped.step(&grads)?;
    bare.step(&candle_nn::loss::mse(&bare_lin.forward(&x)?, &y)?.backward()?)?;
    assert_eq!(
        wrapped.run().steps(),
        6,
        "step and backward_step are both stamped"
    );
    assert_eq!(
        snapshot(&varmap)?,
        snapshot(&bare_map)?,
        "wrapping must not change the arithmetic"
    );
    // The trait constructor builds the same thing.
    let run2 = builder(&dir.path().join("b"), 10, Direction::LowerIsBetter)?.build()?;
    let via_trait = <snuffer::candle::SnufferOptimizer<SGD> as Optimizer>::new(
        varmap.all_vars(),
        snuffer::candle::SnufferConfig::new(0.1, run2),
    )?;
    assert_eq!(via_trait.learning_rate(), 0.1);
    Ok(())
}

/// Regression (issue 15, crashed runs): a `best.safetensors.tmp` left by a crash during a
/// save is replaced by the next successful save, which leaves no temp file behind.
#[test]
fn the_next_save_cleans_up_a_left_over_weights_temp_file() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let varmap = VarMap::new();
    let _ = model(&varmap)?;
    let best = snuffer::candle::best_weights_path(dir.path());
    let tmp = dir.path().join(snuffer::rundir::BEST_WEIGHTS_TMP_FILE);
    std::fs::write(&tmp, b"half a tensor from a killed run")?;
    snuffer::candle::save_weights(&varmap, &best)?;
    assert!(!tmp.exists(), "the temp file is gone");
    snuffer::candle::restore_weights(&varmap, &best)?;
    Ok(())
}

/// Records how many sweep references the policy was shown at each evaluation, and how far
/// the first one was known.
#[derive(Clone, Default)]
struct SeesSweep(std::sync::Arc<std::sync::Mutex<Vec<Seen>>>);

/// References shown, and how far the first was known.
type Seen = (usize, Option<f64>);

impl StopPolicy for SeesSweep {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        if obs.metric.is_some() {
            let seen = obs.sweep.map_or((0, None), |s| {
                (s.len(), s.runs().first().map(|r| r.known()))
            });
            if let Ok(mut v) = self.0.lock() {
                v.push(seen);
            }
        }
        Decision::Continue
    }
}

/// Two trainers join one sweep through their run builders: the second one's policy sees the
/// first run, known to the end of its plan.
#[test]
fn trainers_join_a_sweep_through_the_run_builder() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let sweep = tmp.path().join("sweep");
    let policy = SeesSweep::default();
    let mut dirs = Vec::new();
    for (name, lr) in [("lr-0.05", 0.05), ("lr-0.02", 0.02)] {
        let varmap = VarMap::new();
        let (lin, x, y) = model(&varmap)?;
        let mut b = Run::builder(name)
            .sweep(&sweep)
            .planned_steps(40)
            .metric("mse", Direction::LowerIsBetter)
            .meters(meters()?)
            .progress(Progress::Quiet);
        if dirs.len() == 1 {
            b = b.policy(policy.clone());
        }
        let opt = b.build()?.wrap(SGD::new(varmap.all_vars(), lr)?);
        let outcome = snuffer::candle::Trainer::new(opt, &varmap)
            .eval_every(10)
            .fit(
                |_| candle_nn::loss::mse(&lin.forward(&x)?, &y),
                || {
                    Ok(f64::from(
                        candle_nn::loss::mse(&lin.forward(&x)?, &y)?.to_scalar::<f32>()?,
                    ))
                },
            )?;
        dirs.push(outcome.dir);
    }
    assert_eq!(dirs, [sweep.join("lr-0.05"), sweep.join("lr-0.02")]);
    let seen = policy.0.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(
        seen.iter().all(|&(n, known)| n == 1 && known == Some(1.0)),
        "the first run, known to its planned end: {seen:?}"
    );
    Ok(())
}
