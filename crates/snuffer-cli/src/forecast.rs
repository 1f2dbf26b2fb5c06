//! `snuffer forecast`: fit every recorded run on its first part and predict its last value.
//!
//! For each run (one `(task, run_id)` of a curves CSV) the forecaster sees the first
//! `max(ceil(FRACTION × n), 3)` points (3 being the fewest the ensemble needs; every method
//! sees the same points, so the baselines are compared fairly) and predicts the metric at the
//! run's last step. Runs are independent: they are forecast on every core while the file is
//! streamed ([`crate::pipeline`]), and reported in the order of their first appearance.

use crate::numbers::short;
use crate::pipeline;
use anyhow::Context;
use serde::Serialize;
use snuffer_energy::significant;
use snuffer_forecast::{Bounds, Direction, ForecastConfig, Forecaster, Method};
use snuffer_replay::curves::{CurveRun, Grouping};
use std::path::PathBuf;

/// Fewest points any run is fitted on (the ensemble's minimum).
const MIN_OBSERVED: usize = 3;
/// Growth of the point count between the refits along a prefix (as `snuffer replay`).
const REFIT_GROWTH: f64 = 1.2;

/// Method names accepted by `--method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Weighted ensemble of eleven curve families (default).
    Ensemble,
    /// A single pow3 fit.
    Pow3,
    /// The last observed value.
    Last,
    /// The best observed value.
    Best,
    /// The learned prior (`snuffer-prior`), with the run's last step as its plan.
    Prior,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Method {
        match m {
            MethodArg::Ensemble => Method::Ensemble,
            MethodArg::Pow3 => Method::Pow3,
            MethodArg::Last => Method::LastValue,
            MethodArg::Best => Method::BestSoFar,
            // The prior is no fitted method: the ensemble stands in where a config needs one.
            MethodArg::Prior => Method::Ensemble,
        }
    }
}

/// Arguments of `snuffer forecast`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snuffer forecast --curves data/digits-curves.csv --observed 0.2\n  \
    snuffer forecast --curves data/digits-curves.csv --observed 0.5 --json")]
pub struct Args {
    /// Curves CSV (columns source,task,run_id,step,metric,metric_name,higher_is_better; others ignored).
    #[arg(long)]
    curves: PathBuf,
    /// Share of each run's points the forecaster sees (0 < FRACTION ≤ 1).
    #[arg(long)]
    observed: f64,
    /// Probability of the reported interval (0 < LEVEL < 1).
    #[arg(long, default_value_t = 0.8)]
    level: f64,
    /// Forecasting method.
    #[arg(long, value_enum, default_value_t = MethodArg::Ensemble)]
    method: MethodArg,
    /// `--method prior`: the prior's weights from this safetensors file (written by the
    /// `train_prior` example) instead of the shipped ones.
    #[arg(long, value_name = "FILE")]
    prior_weights: Option<std::path::PathBuf>,
    /// Calibration factor on every standard deviation of the ensemble's predictive
    /// distribution (default: the crate's, calibrated on the project's real curves). Fit it
    /// on your own finished runs: raise it when the intervals cover too few of them.
    #[arg(long, default_value_t = snuffer_forecast::DEFAULT_INTERVAL_SCALE)]
    interval_scale: f64,
    /// Override the forecaster's cold-start priors: KEY=VALUE pairs separated by commas
    /// (the fields of `snuffer_forecast::Tuning`, e.g. `surprise=0.5`).
    #[arg(long)]
    tuning: Option<String>,
    /// Print one JSON object instead of the human-readable summary.
    #[arg(long)]
    json: bool,
    /// How many of the worst runs the human-readable form lists.
    #[arg(long, default_value_t = 10)]
    worst: usize,
}

/// Validated settings.
struct Settings {
    observed: f64,
    level: f64,
    method: Method,
    interval_scale: f64,
    tuning: snuffer_forecast::Tuning,
    /// `--method prior`: the learned prior.
    prior: Option<std::sync::Arc<dyn snuffer_forecast::CurvePredictor>>,
}

/// One run's result, as printed with `--json`.
#[derive(Debug, Serialize)]
struct RunResult {
    task: String,
    run_id: String,
    observed_points: usize,
    last_step: f64,
    predicted: Option<f64>,
    lo: Option<f64>,
    hi: Option<f64>,
    actual: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Range of the run's finite values (for ranking errors in the text form; not printed).
    #[serde(skip)]
    range: f64,
}

#[derive(Debug, Serialize)]
struct Summary {
    mae: Option<f64>,
    coverage: Option<f64>,
    runs: usize,
    failed: usize,
}

#[derive(Debug, Serialize)]
struct Output {
    runs: Vec<RunResult>,
    summary: Summary,
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let settings = validate(&args)?;
    let file = pipeline::scan(&args.curves, "forecast")?;
    let mut results = Vec::with_capacity(file.runs().len());
    pipeline::in_order(
        &file,
        Grouping::Run,
        "forecast",
        |group| {
            group
                .runs
                .iter()
                .map(|(_, run)| forecast_run(run, &settings))
                .collect()
        },
        |_, r| {
            results.push(r);
            Ok(())
        },
    )?;
    let summary = summarise(&results);
    if args.json {
        let out = Output {
            runs: results,
            summary,
        };
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print_human(&results, &summary, &settings, args.worst);
    }
    Ok(0)
}

fn validate(args: &Args) -> anyhow::Result<Settings> {
    if !(args.observed > 0.0 && args.observed <= 1.0) {
        anyhow::bail!(
            "--observed must be a fraction in (0, 1], got {}: e.g. --observed 0.2 fits on the first 20 % of each run",
            args.observed
        );
    }
    if !(args.level > 0.0 && args.level < 1.0) {
        anyhow::bail!(
            "--level must be in (0, 1), got {}: e.g. --level 0.8 for an 80 % interval",
            args.level
        );
    }
    let max_scale = snuffer_forecast::MAX_INTERVAL_SCALE;
    if !(args.interval_scale > 0.0 && args.interval_scale <= max_scale) {
        anyhow::bail!(
            "--interval-scale must be a positive number up to {max_scale}, got {}: 1 leaves the \
             spreads as modelled, the default is {}",
            short(args.interval_scale),
            snuffer_forecast::DEFAULT_INTERVAL_SCALE
        );
    }
    if args.prior_weights.is_some() && args.method != MethodArg::Prior {
        anyhow::bail!(
            "--prior-weights is for the learned prior: add --method prior, or drop --prior-weights"
        );
    }
    Ok(Settings {
        observed: args.observed,
        level: args.level,
        method: args.method.into(),
        interval_scale: args.interval_scale,
        tuning: crate::tuning_arg::parse_forecast(args.tuning.as_deref())?,
        prior: if args.method == MethodArg::Prior {
            Some(crate::prior_method::prior(args.prior_weights.as_deref())?)
        } else {
            None
        },
    })
}

/// Number of points the forecaster sees out of `n`.
fn observed_points(n: usize, fraction: f64) -> usize {
    ((fraction * n as f64).ceil() as usize)
        .max(MIN_OBSERVED)
        .min(n)
}

fn forecast_run(run: &CurveRun, s: &Settings) -> RunResult {
    let n = run.len();
    let k = observed_points(n, s.observed);
    let last_step = run.steps.last().copied().unwrap_or(f64::NAN);
    let actual = run.metrics.last().copied().filter(|v| v.is_finite());
    let finite = run.metrics.iter().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
        (l.min(v), h.max(v))
    });
    let mut out = RunResult {
        task: run.task.clone(),
        run_id: run.run_id.clone(),
        observed_points: k,
        last_step,
        predicted: None,
        lo: None,
        hi: None,
        actual,
        error: None,
        range: (hi - lo).max(1e-12),
    };
    match fit_prefix(run, k, s) {
        Ok((p, lo, hi)) => {
            out.predicted = Some(p);
            out.lo = Some(lo);
            out.hi = Some(hi);
        }
        Err(e) => out.error = Some(format!("{e:#}")),
    }
    out
}

/// Fit on the first `k` points; returns (median, lo, hi) at the run's last step.
fn fit_prefix(run: &CurveRun, k: usize, s: &Settings) -> anyhow::Result<(f64, f64, f64)> {
    let (steps, values) = prepare(&run.steps[..k], &run.metrics[..k], run.direction())?;
    let last_step = *run.steps.last().context("the run has no points")?;
    if let Some(prior) = &s.prior {
        let bounds = Bounds::infer(&run.metric_name, run.direction(), &values);
        return crate::prior_method::prior_interval(
            prior.as_ref(),
            &steps,
            &values,
            run.direction(),
            bounds,
            last_step,
            s.level,
        )
        .context("the prior could not answer for this run");
    }
    let config = ForecastConfig::new(run.direction())
        .with_method(s.method)
        .with_interval_scale(s.interval_scale)
        .with_tuning(s.tuning)
        .with_bounds(Bounds::infer(&run.metric_name, run.direction(), &values));
    // Refit along the prefix as a run would have, so the forecast is calibrated on how its
    // own earlier forecasts fared.
    let mut forecaster = Forecaster::new(config);
    let f = forecaster.fit_history(&steps, &values, REFIT_GROWTH)?;
    let (lo, hi) = f.interval(last_step, s.level);
    Ok((f.median(last_step), lo, hi))
}

/// Make a prefix acceptable to the forecaster: a non-finite metric counts as the worst finite
/// value seen so far (as the scorers do: a diverged evaluation is a bad one), and points that
/// share a step are averaged.
fn prepare(
    steps: &[f64],
    metrics: &[f64],
    direction: Direction,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let mut worst: Option<f64> = None;
    let mut out_s: Vec<f64> = Vec::with_capacity(steps.len());
    let mut out_v: Vec<f64> = Vec::with_capacity(steps.len());
    let mut count: Vec<f64> = Vec::with_capacity(steps.len());
    for (&st, &m) in steps.iter().zip(metrics) {
        let v = if m.is_finite() {
            worst = Some(match worst {
                Some(w) if direction.is_better(m, w) => w,
                _ => m,
            });
            m
        } else {
            match worst {
                Some(w) => w,
                None => continue,
            }
        };
        if out_s.last() == Some(&st) {
            let i = out_v.len() - 1;
            out_v[i] = (out_v[i] * count[i] + v) / (count[i] + 1.0);
            count[i] += 1.0;
        } else {
            out_s.push(st);
            out_v.push(v);
            count.push(1.0);
        }
    }
    if out_s.is_empty() {
        anyhow::bail!("no finite metric among the observed points");
    }
    Ok((out_s, out_v))
}

fn summarise(results: &[RunResult]) -> Summary {
    // The plain sum, and a running mean for when errors near 1e300 make the sum overflow
    // where their mean does not.
    let (mut sum, mut mae) = (0.0, 0.0);
    let mut m = 0usize;
    let mut covered = 0usize;
    let mut failed = 0usize;
    for r in results {
        match (r.predicted, r.actual) {
            (Some(p), Some(a)) => {
                let e = (p - a).abs();
                m += 1;
                sum += e;
                mae += (e - mae) / m as f64;
                if r.lo.is_some_and(|lo| lo <= a) && r.hi.is_some_and(|hi| a <= hi) {
                    covered += 1;
                }
            }
            (None, _) => failed += 1,
            _ => {}
        }
    }
    Summary {
        mae: (m > 0).then(|| if sum.is_finite() { sum / m as f64 } else { mae }),
        coverage: (m > 0).then(|| covered as f64 / m as f64),
        runs: results.len(),
        failed,
    }
}

fn print_human(results: &[RunResult], summary: &Summary, s: &Settings, worst: usize) {
    let fmt = |v: Option<f64>| v.map_or("n/a".to_string(), |x| significant(x, 4));
    // The prior is asked, not fitted: its runs say so instead of naming the stand-in method.
    let (verb, method) = match s.prior {
        Some(_) => ("seen", "the learned prior".to_string()),
        None => ("fitted on", format!("{:?}", s.method)),
    };
    println!(
        "{} runs, {} failed; {verb} the first {:.0} % of each run, method {method}",
        summary.runs,
        summary.failed,
        100.0 * s.observed,
    );
    println!(
        "mean absolute error of the final value {} (own units, all runs together); {:.0} % interval coverage {}",
        fmt(summary.mae),
        100.0 * s.level,
        summary
            .coverage
            .map_or("n/a".to_string(), snuffer_energy::percent)
    );
    // Rank by error relative to the run's own range so that perplexities do not drown accuracies.
    let mut ranked: Vec<(f64, &RunResult)> = results
        .iter()
        .filter_map(|r| Some(((r.predicted? - r.actual?).abs() / r.range, r)))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    if worst > 0 && !ranked.is_empty() {
        println!("worst runs (error as a share of the run's range):");
        for (rel, r) in ranked.iter().take(worst) {
            println!(
                "  {:>5.2}  {} / {}: predicted {} in [{}, {}], actual {} at step {} ({} points seen)",
                rel,
                r.task,
                r.run_id,
                fmt(r.predicted),
                fmt(r.lo),
                fmt(r.hi),
                fmt(r.actual),
                r.last_step,
                r.observed_points
            );
        }
    }
    let failures: Vec<&RunResult> = results.iter().filter(|r| r.error.is_some()).collect();
    if !failures.is_empty() {
        println!("failed runs:");
        for r in failures {
            println!(
                "  {} / {}: {}",
                r.task,
                r.run_id,
                r.error.as_deref().unwrap_or("")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_points_rounds_up_and_respects_the_minimum() {
        assert_eq!(observed_points(27, 0.2), 6);
        assert_eq!(observed_points(20, 0.1), 3);
        assert_eq!(observed_points(2, 0.5), 2);
        assert_eq!(observed_points(50, 1.0), 50);
    }

    #[test]
    fn prepare_replaces_nan_by_the_worst_value_and_merges_duplicates() {
        let (s, v) = prepare(
            &[1.0, 2.0, 2.0, 3.0],
            &[0.5, 0.3, 0.1, f64::NAN],
            Direction::HigherIsBetter,
        )
        .unwrap();
        assert_eq!(s, vec![1.0, 2.0, 3.0]);
        assert!((v[1] - 0.2).abs() < 1e-12);
        assert_eq!(v[2], 0.1);
    }
}
