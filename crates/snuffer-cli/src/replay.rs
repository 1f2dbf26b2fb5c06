//! `snuffer replay`: apply a stop policy to recorded learning curves and score it against
//! the hindsight oracle (the policy code is the one the run tracker uses during training).
//!
//! Runs are independent: they are replayed on every core while the file is streamed
//! ([`crate::pipeline`]), and reported in the order of their first appearance.

use crate::early_stop::Kind;
use crate::numbers::{fixed, short};
use crate::pipeline;
use anyhow::bail;
use serde::Serialize;
use snuffer_energy::{Joules, Watts};
use snuffer_policy::{Never, RuleTuning, StopPolicy, Tau};
use snuffer_replay::curves::CurveRun;
use snuffer_replay::curves::{EnergyAssumptions, Grouping, RunGroup};
use snuffer_replay::replay::{
    replay_run, replay_sweep, step_scale, summarize, ReplayConfig, ReplaySummary, RunReplay,
};
use std::path::PathBuf;

/// Which policy to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyName {
    /// Marginal gain per kWh (needs --tau, --tau-sweep or --tau-relative).
    Marginal,
    /// Classic patience on the metric (with --target: also at that value).
    Patience,
    /// Stop at a target value (needs --target).
    Target,
    /// Never stop (the baseline).
    Never,
}

/// Arguments of `snuffer replay`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snuffer replay --curves data/digits-curves.csv --policy marginal --tau-relative 0.3\n  \
    snuffer replay --curves data/digits-curves.csv --policy marginal --tau-sweep 10,100,1000\n  \
    snuffer replay --curves data/digits-curves.csv --policy patience --patience 5 --tau 100")]
pub struct Args {
    /// Curves CSV (columns source,task,run_id,step,metric,metric_name,higher_is_better
    /// [,epoch_time_s][,energy_j]).
    #[arg(long)]
    curves: PathBuf,
    /// The policy.
    #[arg(long, value_enum)]
    policy: PolicyName,
    /// τ in metric units per kWh (used by `marginal` and for the oracle of every policy).
    #[arg(long, conflicts_with = "tau_sweep")]
    tau: Option<f64>,
    /// Several τ values, comma separated: one replay per value.
    #[arg(long, value_delimiter = ',')]
    tau_sweep: Option<Vec<f64>>,
    /// Relative τ for `marginal`: a fraction of the gain so far per fraction of the energy so
    /// far (the oracle then needs --tau too).
    #[arg(long)]
    tau_relative: Option<f64>,
    /// Power (W) that turns `epoch_time_s` into energy when the file has no `energy_j`.
    #[arg(long, default_value_t = 1000.0)]
    power_w: f64,
    /// Energy of one training step (J) when the file has neither energy nor time.
    #[arg(long, default_value_t = 1.0)]
    step_energy_j: f64,
    /// Replay the runs of each task in file order as one sweep: each run's policy sees the
    /// earlier runs of its task as far as they went (never beyond their stop).
    #[arg(long)]
    sweep: bool,
    /// Override the forecaster's cold-start priors and the stop rule's constants: KEY=VALUE
    /// pairs separated by commas (the fields of `snuffer_forecast::Tuning` and of
    /// `snuffer_policy::RuleTuning`, e.g. `surprise=0.5,consecutive=3`; the rule's flags
    /// below set the same constants and win over it).
    #[arg(long)]
    tuning: Option<String>,
    /// marginal: share of the plan over which a run that has not started learning loses
    /// about two thirds of its allowance for a late start.
    #[arg(long)]
    idle_decay: Option<f64>,
    /// marginal: which expectations of the gain ahead count.
    #[arg(long, value_enum)]
    expectation: Option<crate::marginal::ExpectationArg>,
    /// marginal, --sweep: fewest earlier runs the sweep rule needs.
    #[arg(long)]
    min_references: Option<usize>,
    /// marginal, --sweep: the most the sweep's best may be expected to lose by one stop, as
    /// a share of the best run's improvement.
    #[arg(long)]
    best_loss_share: Option<f64>,
    /// marginal, --sweep: no stop by the sweep rule before this share of the plan.
    #[arg(long)]
    sweep_warmup_fraction: Option<f64>,
    /// marginal: no stop before this share of the planned energy.
    #[arg(long, conflicts_with = "warmup_steps")]
    warmup_fraction: Option<f64>,
    /// marginal: no stop before this step.
    #[arg(long)]
    warmup_steps: Option<u64>,
    /// marginal: no stop before this many evaluations.
    #[arg(long)]
    min_evaluations: Option<usize>,
    /// marginal: consecutive checks that must agree.
    #[arg(long)]
    consecutive: Option<u32>,
    /// marginal: look this many steps ahead instead of to the planned end.
    #[arg(long)]
    horizon_steps: Option<u64>,
    /// marginal: decide on the run's fitted forecast (default) or on the learned prior.
    #[arg(long, value_enum, default_value_t)]
    method: crate::prior_method::RuleMethod,
    /// marginal with `--method prior|both`: the prior's weights from this safetensors file
    /// (written by `cargo run --release -p snuffer-prior --example train_prior`) instead of
    /// the shipped ones.
    #[arg(long, value_name = "FILE")]
    prior_weights: Option<std::path::PathBuf>,
    /// The early-stopping settings of `--policy patience` and `--policy target`.
    #[command(flatten)]
    early: crate::early_stop::EarlyStopArgs,
    /// patience/target: the direction the policy monitors, whatever the file says (Keras's
    /// and Lightning's mode; the scoring keeps the file's), e.g. `--mode min`.
    #[arg(long, visible_alias = "direction", value_enum)]
    mode: Option<crate::early_stop::ModeArg>,
    /// Refit the forecast when the number of points has grown by this factor.
    #[arg(long, default_value_t = 1.2)]
    refit_growth: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    runs: Vec<RunReplay>,
    summary: ReplaySummary,
}

#[derive(Serialize)]
struct SweepEntry {
    tau: f64,
    runs: Vec<RunReplay>,
    summary: ReplaySummary,
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if !(args.power_w.is_finite() && args.power_w > 0.0) {
        bail!(
            "--power-w must be a positive number of watts, got {}",
            args.power_w
        );
    }
    if !(args.step_energy_j.is_finite() && args.step_energy_j > 0.0) {
        bail!(
            "--step-energy-j must be a positive number of joules, got {}",
            args.step_energy_j
        );
    }
    if !(args.refit_growth.is_finite() && args.refit_growth > 1.0) {
        bail!(
            "--refit-growth must be a factor above 1, got {}",
            args.refit_growth
        );
    }
    let taus: Vec<Option<f64>> = match (&args.tau_sweep, args.tau) {
        (Some(v), _) if v.is_empty() => {
            bail!("--tau-sweep needs at least one value, e.g. --tau-sweep 0.1,0.3")
        }
        (Some(v), _) => v.iter().map(|&t| Some(t)).collect(),
        (None, t) => vec![t],
    };
    for t in taus.iter().flatten() {
        if !(t.is_finite() && *t >= 0.0) {
            bail!("τ must be a finite number ≥ 0 of metric units per kWh, got {t}");
        }
    }
    if args.policy == PolicyName::Marginal && taus == [None] && args.tau_relative.is_none() {
        bail!(
            "--policy marginal needs a threshold: --tau X (metric units per kWh), --tau-sweep A,B,... \
             or --tau-relative R (share of the gain so far per share of the energy so far)"
        );
    }
    if matches!(args.policy, PolicyName::Marginal | PolicyName::Never) {
        let mut given = args.early.given();
        if args.early.target.is_some() {
            given.push("--target");
        }
        if args.mode.is_some() {
            given.push("--mode");
        }
        if !given.is_empty() {
            bail!(
                "{} set(s) the classic early-stopping rules, which --policy {} does not use; \
                 use --policy patience (or target), e.g. --policy patience --patience 3",
                given.join(", "),
                if args.policy == PolicyName::Marginal {
                    "marginal"
                } else {
                    "never"
                }
            );
        }
    }
    let tunings = crate::tuning_arg::parse_with(args.tuning.as_deref(), &rule_flags(&args))?;
    let rule = &tunings.rule;
    // Validate the policy settings once for every τ, before any replay.
    for tau in &taus {
        build_policy(&args, rule, *tau, 1.0)?;
    }
    let forecast_tuning = tunings.forecast;
    let file = pipeline::scan(&args.curves, "replay")?;
    if file.runs().is_empty() {
        bail!("{} holds no runs (only a header?)", args.curves.display());
    }
    let configs: Vec<(Option<f64>, ReplayConfig)> = taus
        .iter()
        .map(|&tau| {
            let config = ReplayConfig {
                energy: EnergyAssumptions {
                    power: Watts(args.power_w),
                    step_energy: Joules(args.step_energy_j),
                },
                tau_per_kwh: tau,
                refit_growth: args.refit_growth,
                forecasts: args.policy == PolicyName::Marginal,
                tuning: forecast_tuning,
            };
            (tau, config)
        })
        .collect();
    let mut per_tau: Vec<Vec<RunReplay>> = vec![Vec::with_capacity(file.runs().len()); taus.len()];
    pipeline::in_order(
        &file,
        if args.sweep {
            Grouping::Task
        } else {
            Grouping::Run
        },
        "replay",
        |group| replay_group(&args, rule, &configs, group),
        |_, replays| {
            for (all, r) in per_tau.iter_mut().zip(replays?) {
                // Energy that adds up past the largest number has no saving ("NaN %").
                anyhow::ensure!(
                    r.energy_full_j.is_finite() && r.energy_used_j.is_finite(),
                    "{}/{}: its energy adds up to more than {:e} J ({}), so no saving can be \
                     computed; check its energy_j or epoch_time_s column, --power-w and \
                     --step-energy-j",
                    r.task,
                    r.run_id,
                    f64::MAX,
                    r.energy_basis
                );
                all.push(r);
            }
            Ok(())
        },
    )?;
    let mut sweep: Vec<SweepEntry> = taus
        .iter()
        .zip(per_tau)
        .map(|(tau, runs)| SweepEntry {
            tau: tau.unwrap_or(f64::NAN),
            summary: summarize(&runs),
            runs,
        })
        .collect();

    if args.json {
        let text = if args.tau_sweep.is_some() {
            serde_json::to_string(&serde_json::json!({ "sweep": sweep }))?
        } else {
            let e = sweep.remove(0);
            serde_json::to_string(&Report {
                runs: e.runs,
                summary: e.summary,
            })?
        };
        println!("{text}");
    } else {
        for e in &sweep {
            print_table(e, taus.len() > 1 || e.tau.is_finite(), args.tau_relative);
        }
    }
    Ok(0)
}

/// Replays each run of `group` once per τ of `configs`: one `Vec` (one replay per τ) per run.
/// With `--sweep` the group is a task's runs, replayed in order as one sweep per τ.
fn replay_group(
    args: &Args,
    rule: &RuleTuning,
    configs: &[(Option<f64>, ReplayConfig)],
    group: &RunGroup,
) -> Vec<anyhow::Result<Vec<RunReplay>>> {
    for note in &group.notes {
        eprintln!("note: {note}");
    }
    if args.sweep {
        let runs: Vec<CurveRun> = group.runs.iter().map(|(_, r)| r.clone()).collect();
        // One policy sees the whole sweep: its step settings need one step scale.
        let scale = runs
            .iter()
            .map(|r| step_scale(&r.steps))
            .fold(1.0, f64::max);
        let mut per_run: Vec<Vec<RunReplay>> = vec![Vec::with_capacity(configs.len()); runs.len()];
        for (tau, config) in configs {
            let mut policy = match build_policy(args, rule, *tau, scale) {
                Ok(p) => p,
                Err(e) => {
                    let msg = format!("{e:#}");
                    return runs.iter().map(|_| Err(anyhow::anyhow!("{msg}"))).collect();
                }
            };
            for (all, r) in per_run
                .iter_mut()
                .zip(replay_sweep(&runs, policy.as_mut(), config))
            {
                all.push(r);
            }
        }
        return per_run.into_iter().map(Ok).collect();
    }
    group
        .runs
        .iter()
        .map(|(_, run)| {
            configs
                .iter()
                .map(|(tau, config)| {
                    let mut policy = build_policy(args, rule, *tau, step_scale(&run.steps))?;
                    Ok(replay_run(run, policy.as_mut(), config))
                })
                .collect()
        })
        .collect()
}

/// The rule's flags that set a [`RuleTuning`] constant, as `(key, value)` for `--tuning`.
fn rule_flags(args: &Args) -> Vec<(&'static str, f64)> {
    [
        ("idle_decay", args.idle_decay),
        ("min_references", args.min_references.map(|n| n as f64)),
        ("best_loss_share", args.best_loss_share),
        ("sweep_warmup_fraction", args.sweep_warmup_fraction),
        ("warmup_fraction", args.warmup_fraction),
        ("min_evaluations", args.min_evaluations.map(|n| n as f64)),
        ("consecutive", args.consecutive.map(f64::from)),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, v?)))
    .collect()
}

/// The policy for one replay; `scale` turns the step settings (given in recorded steps)
/// into the replay's integer steps ([`step_scale`]).
fn build_policy(
    args: &Args,
    rule: &RuleTuning,
    tau: Option<f64>,
    scale: f64,
) -> anyhow::Result<Box<dyn StopPolicy>> {
    Ok(match args.policy {
        PolicyName::Never => Box::new(Never),
        PolicyName::Marginal => {
            let t = match (args.tau_relative, tau) {
                (Some(r), _) => Tau::Relative(r),
                (None, Some(t)) => Tau::PerKwh(t),
                (None, None) => {
                    bail!("--policy marginal needs --tau, --tau-sweep or --tau-relative")
                }
            };
            let choices = crate::marginal::RuleChoices {
                expectation: args.expectation,
                warmup_steps: args.warmup_steps,
                horizon_steps: args.horizon_steps,
            };
            crate::marginal::marginal_policy(
                t,
                rule,
                &choices,
                args.method.predictor(args.prior_weights.as_deref())?,
                &[],
            )?
        }
        PolicyName::Patience | PolicyName::Target => {
            let kind = if args.policy == PolicyName::Patience {
                Kind::Patience
            } else {
                Kind::Target
            };
            args.early
                .resolve(args.mode.map(Into::into))?
                .scaled(scale)
                .policy(kind)?
        }
    })
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| fixed(x, 4))
}

/// The τ line: the policy's τ as it was used (a relative τ, when given, decides every
/// stop; `--tau` then only scores the oracle).
fn tau_line(tau_per_kwh: f64, relative: Option<f64>) -> String {
    match relative {
        Some(r) if tau_per_kwh.is_finite() => format!(
            "τ = {r} (relative) for the policy's stops; the hindsight oracle scores at τ = {} per kWh",
            short(tau_per_kwh)
        ),
        Some(r) => format!("τ = {r} (relative) for the policy's stops"),
        None => format!("τ = {} per kWh", short(tau_per_kwh)),
    }
}

fn print_table(e: &SweepEntry, show_tau: bool, relative: Option<f64>) {
    if show_tau || relative.is_some() {
        println!("{}", tau_line(e.tau, relative));
    }
    println!(
        "{:<28} {:<36} {:>10} {:>10} {:>9} {:>10} {:>10} {:>10} {:>8}",
        "task", "run", "stop", "last", "energy%", "best@stop", "best", "oracle", "capture"
    );
    for r in &e.runs {
        let share = if r.energy_full_j > 0.0 {
            100.0 * r.energy_used_j / r.energy_full_j
        } else {
            100.0
        };
        println!(
            "{:<28} {:<36} {:>10} {:>10} {:>8.1}% {:>10} {:>10} {:>10} {:>8}",
            r.task,
            r.run_id,
            short(r.stop_step),
            short(r.last_step),
            share,
            fmt_opt(r.best_at_stop),
            fmt_opt(r.best_full),
            r.oracle_step.map_or("-".into(), short),
            fmt_opt(r.utility_capture)
        );
        if let Some(reason) = &r.reason {
            println!("    stop: {}", reason.message);
        }
        if let Some(note) = &r.note {
            println!("    note: {note}");
        }
    }
    let s = &e.summary;
    println!(
        "{} runs, {} stopped early, energy saved {:.1} %, median regret {}, mean regret {}, median capture {}",
        s.runs,
        s.stopped,
        100.0 * s.energy_saved,
        fmt_opt(s.median_regret),
        fmt_opt(s.mean_regret),
        fmt_opt(s.utility_capture_median)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 19: with --tau-relative, the line names the relative τ the stops used, and
    /// --tau only as the oracle's.
    #[test]
    fn the_tau_line_names_the_tau_the_stops_used() {
        let line = tau_line(100_000.0, Some(0.3));
        assert!(line.starts_with("τ = 0.3 (relative)"), "{line}");
        assert!(
            line.contains("oracle scores at τ = 100000 per kWh"),
            "{line}"
        );
        assert_eq!(tau_line(50.0, None), "τ = 50 per kWh");
    }
}
