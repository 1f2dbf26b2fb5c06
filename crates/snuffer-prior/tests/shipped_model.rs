//! The shipped model, end to end: its NLL on 1 000 fresh prior curves (stated in
//! `model/MODEL_CARD.md`) and what it does on a few curves whose future is plain.

use rand::SeedableRng;
use snuffer_forecast::{Bounds, CurvePredictor, Direction, PredictorQuery};
use snuffer_prior::bars::{edges, BINS};
use snuffer_prior::generator::{Generator, Mixture};
use snuffer_prior::train::{batch, nll_on_fresh, QUERIES};
use snuffer_prior::LearnedPrior;

/// The NLL stated in the model card (nats per predicted point, on the normalised scale, on
/// curves of the shipped mixture), with its margin: two draws of 1 000 curves can differ by
/// about 0.07 (heavy tails), so the margin is 0.15.
const STATED_NLL: f64 = 0.8364;
const MARGIN: f64 = 0.15;

#[test]
fn nll_on_fresh_prior_curves_is_as_stated_and_beats_uniform_bars() {
    let prior = LearnedPrior::shipped().expect("the shipped model loads");
    let g = Generator::new(
        Mixture::named(snuffer_prior::SHIPPED_MIXTURE).expect("the shipped mixture is named"),
    );
    // Curves the training never drew (its data seed was 23, its validation seed 24).
    let nll = nll_on_fresh(
        prior.model(),
        &g,
        &mut rand::rngs::StdRng::seed_from_u64(2026),
        1000,
    )
    .expect("the model runs");
    assert!(
        nll <= STATED_NLL + MARGIN,
        "NLL {nll:.4} vs stated {STATED_NLL}"
    );
    // Uniform bars over the same kind of targets (1.65 when this was written), as a floor
    // the model must clear by a margin.
    let e = edges();
    let b = batch(
        &g,
        &mut rand::rngs::StdRng::seed_from_u64(2026),
        1000,
        &candle_core::Device::Cpu,
    )
    .expect("a batch");
    let t = b.targets.flatten_all().unwrap().to_vec1::<u32>().unwrap();
    let uniform: f64 = t
        .iter()
        .map(|&k| -((1.0 / BINS as f64) / (e[k as usize + 1] - e[k as usize])).ln())
        .sum::<f64>()
        / (1000 * QUERIES) as f64;
    assert!(
        nll < uniform - 0.4,
        "NLL {nll:.4} vs uniform bars {uniform:.4}"
    );
}

fn query<'a>(steps: &'a [f64], values: &'a [f64], horizons: &'a [f64]) -> PredictorQuery<'a> {
    PredictorQuery {
        steps,
        values,
        direction: Direction::HigherIsBetter,
        bounds: Bounds {
            lower: Some(0.0),
            upper: Some(1.0),
        },
        planned_steps: 100.0,
        schedule: &[],
        horizons,
    }
}

#[test]
fn a_rising_curve_may_rise_further_and_stays_within_bounds() {
    let prior = LearnedPrior::shipped().expect("the shipped model loads");
    let steps: Vec<f64> = (1..=30).map(f64::from).collect();
    let values: Vec<f64> = steps.iter().map(|s| 0.2 + 0.5 * (s / 30.0)).collect();
    let p = prior
        .predict(&query(&steps, &values, &[60.0, 100.0]))
        .expect("an answer");
    assert_eq!(p.len(), 2);
    for d in &p {
        assert!(d.quantile(0.0) >= 0.0 && d.quantile(1.0) <= 1.0);
        assert!(d.quantile(0.1) <= d.quantile(0.5) && d.quantile(0.5) <= d.quantile(0.9));
    }
    let q: Vec<f64> = [0.1, 0.25, 0.5, 0.75, 0.9]
        .iter()
        .map(|&q| p[1].quantile(q))
        .collect();
    // The shipped prior leaves real upside (its upper quartile and decile lie above the last
    // value) but, with a third of its curves overfitting, diverging or collapsing, puts its
    // median below it (0.66 against 0.70 when this was written: see the model card).
    assert!(
        q[3] > 0.7 && q[4] > 0.72,
        "quantiles at the end {q:?}, mean {}",
        p[1].mean()
    );
    let better = p[1].prob_better(Direction::HigherIsBetter, 0.7);
    assert!((0.2..0.8).contains(&better), "P(beat 0.7) = {better}");
    assert!(p[1].expected_excess(Direction::HigherIsBetter, 0.7) > 0.005);
}

#[test]
fn a_run_without_a_plan_gets_no_answer() {
    let prior = LearnedPrior::shipped().expect("the shipped model loads");
    let q = PredictorQuery {
        planned_steps: 0.0,
        ..query(&[1.0, 2.0], &[0.1, 0.2], &[3.0])
    };
    assert!(prior.predict(&q).is_none());
    let q = PredictorQuery {
        planned_steps: f64::NAN,
        ..query(&[1.0, 2.0], &[0.1, 0.2], &[3.0])
    };
    assert!(prior.predict(&q).is_none());
}
