//! How a trained prior reads curves whose truth is known: the numbers the model card quotes.
//!
//! ```text
//! cargo run --release -p snuffer-prior --example probe_prior [-- WEIGHTS.safetensors]
//! ```
//!
//! Prints, for the shipped weights (or the file given):
//! * the NLL on 1 000 fresh curves of the shipped mixture (seed 2026, as
//!   `tests/shipped_model.rs` checks it);
//! * on 1 000 draws of the default mixture's LC-PFN accuracy curves cut at 20 % of the plan,
//!   how often the curve really ends below its best so far, how often the model's median says
//!   it will, and how often the final value falls in the model's 80 % interval;
//! * its forecast of the final value of a noise-free rise `0.9 − 0.7·e^(−t/30)` seen up to
//!   20 of 100 steps (the truth is 0.875).

use anyhow::{Context, Result};
use rand::SeedableRng;
use snuffer_forecast::{Bounds, CurvePredictor, Direction, PredictorQuery};
use snuffer_prior::generator::{Generator, MetricKind, Mixture, Shape};
use snuffer_prior::model::ModelConfig;
use snuffer_prior::train::nll_on_fresh;
use snuffer_prior::LearnedPrior;

fn final_at(
    prior: &LearnedPrior,
    steps: &[f64],
    values: &[f64],
    plan: f64,
) -> Result<(f64, f64, f64)> {
    let q = PredictorQuery {
        steps,
        values,
        direction: Direction::HigherIsBetter,
        bounds: Bounds {
            lower: Some(0.0),
            upper: Some(1.0),
        },
        planned_steps: plan,
        schedule: &[],
        horizons: &[plan],
    };
    let d = prior
        .predict(&q)
        .and_then(|mut v| v.pop())
        .context("the prior did not answer")?;
    Ok((d.quantile(0.1), d.quantile(0.5), d.quantile(0.9)))
}

fn main() -> Result<()> {
    let prior = match std::env::args().nth(1) {
        Some(path) => LearnedPrior::from_file(std::path::Path::new(&path), ModelConfig::default())?,
        None => (*LearnedPrior::shipped()?).clone(),
    };
    let shipped = Mixture::named(snuffer_prior::SHIPPED_MIXTURE).context("shipped mixture")?;
    let nll = nll_on_fresh(
        prior.model(),
        &Generator::new(shipped),
        &mut rand::rngs::StdRng::seed_from_u64(2026),
        1000,
    )?;
    println!("NLL on 1000 fresh curves of the shipped mixture (seed 2026): {nll:.4}");

    let g = Generator::new(Mixture::default());
    let mut rng = rand::rngs::StdRng::seed_from_u64(77);
    let (mut n, mut truly_below, mut said_below, mut covered) = (0, 0, 0, 0);
    while n < 1000 {
        let c = g.sample_shape(&mut rng, Shape::LcPfn);
        let k = c.shares.partition_point(|&s| s <= 0.2);
        if c.metric != MetricKind::Accuracy || k < 3 {
            continue;
        }
        let steps: Vec<f64> = c.shares[..k].iter().map(|s| s * 1000.0).collect();
        let (lo, median, hi) = final_at(&prior, &steps, &c.values[..k], 1000.0)?;
        let last = c.values[c.values.len() - 1];
        let best = c.values[..k]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        truly_below += usize::from(last < best);
        said_below += usize::from(median < best);
        covered += usize::from(lo <= last && last <= hi);
        n += 1;
    }
    println!(
        "LC-PFN accuracy curves cut at 20 %: {n}; end below their best so far: {truly_below}; \
         the model's median says so: {said_below}; final value within its 80 % interval: {covered}"
    );

    let steps: Vec<f64> = (1..=20).map(f64::from).collect();
    let values: Vec<f64> = steps
        .iter()
        .map(|t| 0.9 - 0.7 * (-t / 30.0).exp())
        .collect();
    let (lo, median, hi) = final_at(&prior, &steps, &values, 100.0)?;
    println!(
        "noise-free rise seen to step 20 of 100 (last {:.3}, final 0.875): median {median:.3}, 80 % interval [{lo:.3}, {hi:.3}]",
        values[19]
    );
    Ok(())
}
