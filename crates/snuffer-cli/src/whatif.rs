//! `snuffer whatif`: what would Snuffer have saved on the runs you already have? Finds the
//! training logs under the given paths (Snuffer run directories, `trainer_state.json`,
//! TensorBoard event files, CSV histories), replays the marginal-gain policy (or, with
//! `--policy patience|target`, the classic rules with the early-stopping flags of
//! [`crate::early_stop`]) on each exactly as `snuffer replay` does (the same policy
//! construction, the same `replay_run`), and says where each run would have stopped, the
//! energy that would have saved and what the best metric would have lost.
//!
//! `--method` (fitted, prior, prior-calibrated, both) and `--prior-weights` choose what the
//! marginal rule decides on, as in `snuffer replay` ([`crate::prior_method`]). `--lr-schedule fixed` passes the
//! change points of the learning rate a log records ([`snuffer_import::learning_rate`]) to
//! the rule and to the prior; without it the recorded rate is ignored, since a log cannot
//! tell a scheduler fixed in advance from a reactive one (ReduceLROnPlateau), whose future
//! the rule must not see.

use crate::marginal::{marginal_policy, RuleChoices};
use crate::prior_method::RuleMethod;
use anyhow::{bail, Context};
use serde::Serialize;
use snuffer_energy::{percent, significant, Joules, Watts};
use snuffer_forecast::Direction;
use snuffer_import::{discover, EnergyBasis, ImportOptions, ImportedRun, Power};
use snuffer_policy::Tau;
use snuffer_replay::curves::{CurveRun, EnergyAssumptions, REQUIRED_COLUMNS};
use snuffer_replay::replay::{replay_run, summarize, ReplayConfig, RunReplay};
use snuffer_report::{replayed_chart, replayed_page, PageChart, ReplayedRun, Row};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// τ when neither `--tau` nor `--tau-relative` is given (the examples' setting).
pub const DEFAULT_TAU_RELATIVE: f64 = 0.3;
/// Power the replay is configured with when none is given; no run uses it then (time
/// becomes energy only with a power), it only has to match `snuffer replay`'s default.
const UNUSED_POWER_W: f64 = 1000.0;
/// File name of the exported curves inside `--out`.
pub const CURVES_FILE: &str = "curves.csv";

/// What to do with the learning rate a log records (`--lr-schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LrScheduleArg {
    /// The scheduler was fixed in advance (warm-up, step decays, cosine,
    /// warmup–stable–decay): pass the recorded rate's change points to the rule and the
    /// prior.
    Fixed,
    /// Do not pass it (the default): the scheduler reacted to the metric
    /// (ReduceLROnPlateau), so its future was not known at the stop.
    #[value(alias = "reactive")]
    Ignore,
}

/// Which way a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DirectionArg {
    /// Higher values are better (accuracy).
    #[value(alias = "max")]
    Higher,
    /// Lower values are better (loss).
    #[value(alias = "min")]
    Lower,
}

/// Arguments of `snuffer whatif`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snuffer whatif ~/experiments --power-w 300\n  \
    snuffer whatif lightning_logs/ --metric accuracy --hardware 8xa100-sxm4\n  \
    snuffer whatif out/ --json --out whatif-page/\n  \
    snuffer whatif out/ --method prior --lr-schedule fixed\n\n\
A log records its learning rate (the Trainer's learning_rate, a TensorBoard or CSV lr series)\n\
but not whether the scheduler was fixed in advance or reacted to the metric\n\
(ReduceLROnPlateau). Only --lr-schedule fixed passes the rate's change points (warm-up end,\n\
step decays, the start of an anneal) to the rule: a reactive scheduler's future is not known\n\
at a stop, and passing it would let the replay see the future.")]
pub struct Args {
    /// Run directories, log files, or directories to search for them (Snuffer run directories,
    /// trainer_state.json, events.out.tfevents.*, CSV histories with a step column).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The metric to replay (exactly, or without a validation prefix such as eval_ or val/).
    /// Default: the log's own choice where it records one, else the validation loss.
    #[arg(long)]
    metric: Option<String>,
    /// Step column of CSV histories (default: step, global_step, train/global_step, …, epoch).
    #[arg(long)]
    step_column: Option<String>,
    /// Which way the metric is better, when its name does not tell (Keras's and Lightning's
    /// mode), e.g. `--direction lower` or `--mode min`.
    #[arg(long, visible_alias = "mode", value_enum)]
    direction: Option<DirectionArg>,
    /// The policy to replay (default marginal; patience and target take the early-stopping
    /// flags below), e.g. `--policy patience --compat keras --patience 3`.
    #[arg(long, value_enum, default_value = "marginal")]
    policy: crate::replay::PolicyName,
    /// The early-stopping settings of `--policy patience` and `--policy target`.
    #[command(flatten)]
    early: crate::early_stop::EarlyStopArgs,
    /// τ in metric units per kWh.
    #[arg(long, conflicts_with = "tau_relative")]
    tau: Option<f64>,
    /// Relative τ: a share of the gain so far per share of the energy so far
    /// (default 0.3 when --tau is not given).
    #[arg(long)]
    tau_relative: Option<f64>,
    /// Power (W) that turns the recorded wall time into energy (an estimate).
    #[arg(long, conflicts_with = "hardware")]
    power_w: Option<f64>,
    /// Hardware whose TDP turns the recorded wall time into energy (an estimate), e.g.
    /// a100-sxm4, 8xa100-sxm4, t4, "EPYC 7763".
    #[arg(long)]
    hardware: Option<String>,
    /// Energy of one step (J) when a log has neither energy nor a time and power.
    #[arg(long, default_value_t = 1.0)]
    step_energy_j: f64,
    /// marginal: decide on each run's fitted forecast (default), on the learned prior, or
    /// stop only where both agree (as `snuffer replay --method`).
    #[arg(long, value_enum, default_value_t)]
    method: RuleMethod,
    /// marginal with `--method prior|prior-calibrated|both`: the prior's weights from this
    /// safetensors file (written by `cargo run --release -p snuffer-prior --example
    /// train_prior`) instead of the shipped ones.
    #[arg(long, value_name = "FILE")]
    prior_weights: Option<PathBuf>,
    /// marginal: `fixed` passes the change points of the learning rate each log records
    /// (warm-up end, step decays, the start of an anneal) to the rule; use it only when the
    /// scheduler was fixed in advance, not for ReduceLROnPlateau. Default: the recorded
    /// rate is ignored.
    #[arg(long, value_enum, value_name = "KIND")]
    lr_schedule: Option<LrScheduleArg>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Write the curves CSV (for `snuffer replay`) and a report page with one plot per run here.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Serialize)]
struct RunOut {
    path: String,
    format: &'static str,
    run_id: String,
    metric_name: String,
    last_step: f64,
    stop_step: f64,
    reason: Option<String>,
    energy_saved_fraction: f64,
    best_lost: Option<f64>,
    /// The learning-rate series the log records, if any.
    learning_rate: Option<String>,
    /// The change points passed to the rule (in the log's steps); `null` unless
    /// `--lr-schedule fixed`.
    schedule_passed: Option<Vec<f64>>,
}

/// What the stops cost the runs of one metric: losses in one metric's units are never
/// pooled with another's (an accuracy's 0.01 and a loss's 0.3 have no common median).
#[derive(Serialize)]
struct MetricTotals {
    metric: String,
    runs: usize,
    stopped: usize,
    best_lost_median: Option<f64>,
    best_lost_max: Option<f64>,
}

/// A log that was found but not replayed, and why.
#[derive(Serialize)]
struct SkippedOut {
    path: String,
    why: String,
}

#[derive(Serialize)]
struct Totals {
    runs: usize,
    stopped: usize,
    skipped: usize,
    /// Mean over runs of each run's saved fraction: runs' energies have different bases, so
    /// they are not added up.
    energy_saved_fraction: f64,
    /// The median and largest loss when every run has the same metric; `null` when the
    /// runs mix metrics (see `per_metric`).
    best_lost_median: Option<f64>,
    best_lost_max: Option<f64>,
    /// The losses per metric, in the order the metrics first appear.
    per_metric: Vec<MetricTotals>,
    /// How many runs' energy is recorded, wall time × power, or proportional to steps.
    energy: BTreeMap<&'static str, usize>,
    energy_is_estimate: bool,
    tau: String,
}

#[derive(Serialize)]
struct Out {
    /// What the marginal rule decided on (`--method`: `fitted`, `prior`, …); `null` for
    /// the classic policies.
    method: Option<String>,
    /// `--prior-weights`, when given.
    prior_weights: Option<String>,
    runs: Vec<RunOut>,
    skipped: Vec<SkippedOut>,
    totals: Totals,
}

/// One replayed run with everything the outputs need.
struct Replayed {
    run: ImportedRun,
    curve: CurveRun,
    basis: EnergyBasis,
    replay: RunReplay,
    /// The change points passed to the rule, in the log's steps (`--lr-schedule fixed`).
    schedule: Option<Vec<f64>>,
}

impl Replayed {
    fn saved_fraction(&self) -> f64 {
        let r = &self.replay;
        if r.energy_full_j > 0.0 {
            1.0 - r.energy_used_j / r.energy_full_j
        } else {
            0.0
        }
    }
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if !(args.step_energy_j.is_finite() && args.step_energy_j > 0.0) {
        bail!(
            "--step-energy-j must be a positive number of joules, got {}",
            args.step_energy_j
        );
    }
    let tau = match (args.tau, args.tau_relative) {
        (Some(t), _) if !(t.is_finite() && t >= 0.0) => {
            bail!("--tau must be a finite number ≥ 0 of metric units per kWh, got {t}")
        }
        (Some(t), _) => Tau::PerKwh(t),
        (None, r) => Tau::Relative(r.unwrap_or(DEFAULT_TAU_RELATIVE)),
    };
    use crate::replay::PolicyName;
    let settings = args.early.resolve(None)?;
    if matches!(args.policy, PolicyName::Marginal | PolicyName::Never) {
        let mut given = args.early.given();
        if args.early.target.is_some() {
            given.push("--target");
        }
        if !given.is_empty() {
            bail!(
                "{} set(s) the classic early-stopping rules, which the {} policy does not use; \
                 add --policy patience (or target), e.g. --policy patience --patience 3",
                given.join(", "),
                policy_label(args.policy)
            );
        }
    }
    if args.policy != PolicyName::Marginal {
        let mut given = Vec::new();
        if args.method != RuleMethod::Fitted {
            given.push("--method");
        }
        if args.prior_weights.is_some() {
            given.push("--prior-weights");
        }
        if args.lr_schedule == Some(LrScheduleArg::Fixed) {
            given.push("--lr-schedule fixed");
        }
        if !given.is_empty() {
            bail!(
                "{} set(s) what the marginal-gain rule decides on or knows, which the {} \
                 policy does not use; drop {} or use --policy marginal",
                given.join(", "),
                policy_label(args.policy),
                if given.len() == 1 { "it" } else { "them" }
            );
        }
    }
    // The prior, loaded once (an error for --prior-weights with --method fitted).
    let predictor = args.method.predictor(args.prior_weights.as_deref())?;
    let lr_fixed = args.lr_schedule == Some(LrScheduleArg::Fixed);
    // The policy, built once here so that bad settings fail before any log is read.
    let mut policy: Box<dyn snuffer_policy::StopPolicy> = match args.policy {
        PolicyName::Marginal => marginal_policy(
            tau,
            &Default::default(),
            &RuleChoices::default(),
            predictor.clone(),
            &[],
        )?,
        PolicyName::Patience => settings.policy(crate::early_stop::Kind::Patience)?,
        PolicyName::Target => settings.policy(crate::early_stop::Kind::Target)?,
        PolicyName::Never => Box::new(snuffer_policy::Never),
    };
    let tau_text = match tau {
        _ if args.policy != PolicyName::Marginal => match args.tau {
            Some(t) => format!(
                "{t} metric units per kWh (for the oracle only: the {} policy does not use τ)",
                policy_label(args.policy)
            ),
            None => format!("not used by the {} policy", policy_label(args.policy)),
        },
        Tau::PerKwh(t) => format!("{t} metric units per kWh"),
        Tau::Relative(r) => {
            format!("{r} (relative: share of the gain so far per share of the energy so far)")
        }
        _ => format!("{tau:?}"),
    };
    let power = match (args.power_w, &args.hardware) {
        (Some(w), _) => Some(Power::given(w)?),
        (None, Some(h)) => Some(Power::preset(h)?),
        (None, None) => None,
    };
    let options = ImportOptions {
        metric: args.metric.clone(),
        step_column: args.step_column.clone(),
        direction: args.direction.map(|d| match d {
            DirectionArg::Higher => Direction::HigherIsBetter,
            DirectionArg::Lower => Direction::LowerIsBetter,
        }),
    };
    let found = discover(&args.paths, &options)?;
    // Everything read, so that --out never writes over it.
    let mut inputs = snuffer_report::output::Inputs::new();
    for c in &found.candidates {
        inputs.add(&c.path);
        for f in &c.files {
            inputs.add(f);
        }
    }
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for c in &found.candidates {
        match c.read(&options) {
            Ok(r) => runs.push(r),
            Err(e) => skipped.push((c.path.clone(), e)),
        }
    }
    for (path, why) in &found.passed_over {
        eprintln!("passed over {}: {why}", path.display());
    }
    for (path, e) in &skipped {
        eprintln!("skipped {}: {e}", path.display());
    }
    if runs.is_empty() {
        if let Some(m) = &args.metric {
            bail!(
                "no run has the metric `{m}` ({} found, {} skipped: each is named above with \
                 the series it has); pass one of their series to --metric",
                found.candidates.len(),
                skipped.len()
            );
        }
        let looked: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        bail!(
            "no run could be read under {} ({} found, {} skipped); whatif reads Snuffer run \
             directories, trainer_state.json, events.out.tfevents.* and CSV histories with a step column",
            looked.join(", "),
            found.candidates.len(),
            skipped.len() + found.passed_over.len()
        );
    }

    // The same policy construction and replay as `snuffer replay`.
    let config = ReplayConfig {
        energy: EnergyAssumptions {
            power: power.as_ref().map_or(Watts(UNUSED_POWER_W), |p| p.watts),
            step_energy: Joules(args.step_energy_j),
        },
        tau_per_kwh: args.tau,
        forecasts: args.policy == PolicyName::Marginal,
        ..ReplayConfig::default()
    };
    let replayed: Vec<Replayed> = runs
        .into_iter()
        .map(|run| {
            let (curve, basis) = run.to_curve(power.as_ref(), Joules(args.step_energy_j));
            let scale = snuffer_replay::replay::step_scale(&curve.steps);
            let schedule = lr_fixed.then(|| passed_schedule(&run));
            // Step settings are in recorded steps: a curve with fractional steps needs them
            // scaled like its steps (the policy built above validated the settings).
            let replay = match (args.policy, scale != 1.0) {
                (PolicyName::Patience | PolicyName::Target, true) => {
                    let kind = if args.policy == PolicyName::Patience {
                        crate::early_stop::Kind::Patience
                    } else {
                        crate::early_stop::Kind::Target
                    };
                    let mut scaled = settings.scaled(scale).policy(kind)?;
                    replay_run(&curve, scaled.as_mut(), &config)
                }
                // The run's own schedule, in the policy's steps (its steps × scale).
                (PolicyName::Marginal, _) if schedule.as_ref().is_some_and(|s| !s.is_empty()) => {
                    let steps: Vec<u64> = schedule
                        .iter()
                        .flatten()
                        .map(|c| (c * scale).round() as u64)
                        .collect();
                    let mut scheduled = marginal_policy(
                        tau,
                        &Default::default(),
                        &RuleChoices::default(),
                        predictor.clone(),
                        &steps,
                    )?;
                    replay_run(&curve, scheduled.as_mut(), &config)
                }
                _ => replay_run(&curve, policy.as_mut(), &config),
            };
            Ok(Replayed {
                run,
                curve,
                basis,
                replay,
                schedule,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for r in &replayed {
        check_energy(r)?;
    }

    let totals = totals(&replayed, skipped.len(), tau_text.clone());
    if let Some(dir) = &args.out {
        write_out(dir, &replayed, &totals, &args, power.as_ref(), &inputs)?;
    }
    if args.json {
        let out = Out {
            method: (args.policy == PolicyName::Marginal).then(|| method_name(args.method)),
            prior_weights: args.prior_weights.as_ref().map(|p| p.display().to_string()),
            runs: replayed.iter().map(run_out).collect(),
            skipped: skipped
                .iter()
                .map(|(p, e)| SkippedOut {
                    path: p.display().to_string(),
                    why: e.to_string(),
                })
                .collect(),
            totals,
        };
        println!("{}", serde_json::to_string(&out)?);
    } else {
        print_text(&replayed, &totals, &tau_text, &args);
        if let Some(dir) = &args.out {
            println!(
                "wrote {} and {}",
                dir.join(CURVES_FILE).display(),
                dir.join(snuffer_report::HTML_FILE).display()
            );
        }
    }
    Ok(0)
}

/// A run whose energy adds up past the largest number (e.g. `--power-w 1e308`, or an
/// `energy_j` of 1e308 per row) has no saving to compute: an error naming the run and the
/// figure to check, rather than "NaN %".
fn check_energy(r: &Replayed) -> anyhow::Result<()> {
    let x = &r.replay;
    anyhow::ensure!(
        x.energy_full_j.is_finite() && x.energy_used_j.is_finite(),
        "{} ({}): its energy adds up to more than {:e} J ({}), so no saving can be computed; \
         check the recorded energy, --power-w/--hardware and --step-energy-j",
        r.run.run_id,
        r.run.path.display(),
        f64::MAX,
        r.basis
    );
    Ok(())
}

fn run_out(r: &Replayed) -> RunOut {
    RunOut {
        path: r.run.path.display().to_string(),
        format: r.run.format.name(),
        run_id: r.run.run_id.clone(),
        metric_name: r.run.metric_name.clone(),
        last_step: r.replay.last_step,
        stop_step: r.replay.stop_step,
        reason: r.replay.reason.as_ref().map(|s| s.message.clone()),
        energy_saved_fraction: r.saved_fraction(),
        best_lost: r.replay.regret,
        learning_rate: r.run.learning_rate.as_ref().map(|l| l.name.clone()),
        schedule_passed: r.schedule.clone(),
    }
}

/// The change points of the run's recorded learning rate up to its last evaluation (the
/// replay's plan), in the log's steps; empty when it records none.
fn passed_schedule(run: &ImportedRun) -> Vec<f64> {
    let last = run.steps.last().copied().unwrap_or(0.0);
    run.learning_rate
        .as_ref()
        .map(|l| {
            l.change_points()
                .into_iter()
                .filter(|&c| c <= last)
                .collect()
        })
        .unwrap_or_default()
}

/// `--method`'s value as written (`fitted`, `prior`, …).
fn method_name(m: RuleMethod) -> String {
    use clap::ValueEnum;
    m.to_possible_value()
        .map_or_else(|| format!("{m:?}"), |v| v.get_name().to_string())
}

/// What the marginal rule decided on, in words (the text, the page).
fn method_text(args: &Args) -> String {
    let weights = args
        .prior_weights
        .as_ref()
        .map_or(String::new(), |p| format!(" (weights {})", p.display()));
    let name = method_name(args.method);
    match args.method {
        RuleMethod::Fitted => format!("deciding on each run's fitted forecast (--method {name})"),
        RuleMethod::Both => format!(
            "stopping only where the fitted forecast and the learned prior{weights} agree \
             (--method {name})"
        ),
        RuleMethod::PriorCalibrated => format!(
            "deciding on the learned prior{weights}, calibrated on each run's own past \
             (--method {name})"
        ),
        _ => format!("deciding on the learned prior{weights} (--method {name})"),
    }
}

/// The per-run line on the learning-rate schedule under `--lr-schedule fixed`.
fn schedule_sentence(r: &Replayed) -> Option<String> {
    let passed = r.schedule.as_ref()?;
    Some(match (&r.run.learning_rate, passed.len()) {
        (None, _) => "learning rate: the log records none; the rule ran without a schedule".into(),
        (Some(l), 0) => format!(
            "learning rate `{}`: no change point up to the last evaluation; the rule ran \
             without a schedule",
            l.name
        ),
        (Some(l), n) => format!(
            "learning rate `{}`: {n} change point{} passed to the rule (step{} {})",
            l.name,
            if n == 1 { "" } else { "s" },
            if n == 1 { "" } else { "s" },
            passed
                .iter()
                .map(|&c| fmt_step(c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

fn totals(replayed: &[Replayed], skipped: usize, tau: String) -> Totals {
    let replays: Vec<RunReplay> = replayed.iter().map(|r| r.replay.clone()).collect();
    let lost: Vec<f64> = replayed
        .iter()
        .filter_map(|r| r.replay.regret)
        .filter(|v| v.is_finite())
        .collect();
    let mut energy = BTreeMap::new();
    for r in replayed {
        *energy.entry(r.basis.label()).or_insert(0) += 1;
    }
    let per_metric = per_metric(replayed);
    let one_metric = per_metric.len() == 1;
    Totals {
        runs: replayed.len(),
        stopped: replayed.iter().filter(|r| r.replay.stopped_early).count(),
        skipped,
        energy_saved_fraction: replayed.iter().map(Replayed::saved_fraction).sum::<f64>()
            / replayed.len().max(1) as f64,
        // The replay's own summary: the median regret over runs with a finite best; only
        // when the runs share one metric.
        best_lost_median: summarize(&replays).median_regret.filter(|_| one_metric),
        best_lost_max: lost.iter().copied().reduce(f64::max).filter(|_| one_metric),
        per_metric,
        energy,
        energy_is_estimate: replayed.iter().any(|r| r.basis.is_estimate()),
        tau,
    }
}

/// The runs' losses grouped by metric name, in the order the metrics first appear.
fn per_metric(replayed: &[Replayed]) -> Vec<MetricTotals> {
    let mut names: Vec<&str> = Vec::new();
    for r in replayed {
        if !names.contains(&r.run.metric_name.as_str()) {
            names.push(&r.run.metric_name);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let group: Vec<&Replayed> = replayed
                .iter()
                .filter(|r| r.run.metric_name == name)
                .collect();
            let replays: Vec<RunReplay> = group.iter().map(|r| r.replay.clone()).collect();
            MetricTotals {
                metric: name.to_string(),
                runs: group.len(),
                stopped: group.iter().filter(|r| r.replay.stopped_early).count(),
                best_lost_median: summarize(&replays).median_regret,
                best_lost_max: group
                    .iter()
                    .filter_map(|r| r.replay.regret)
                    .filter(|v| v.is_finite())
                    .reduce(f64::max),
            }
        })
        .collect()
}

/// `best val_acc lost: median 0.002, max 0.01; best val_loss lost: …`, one clause per
/// metric.
fn lost_text(t: &Totals) -> String {
    t.per_metric
        .iter()
        .map(|m| {
            format!(
                "best {} lost: median {}, max {}",
                m.metric,
                fmt_metric(m.best_lost_median),
                fmt_metric(m.best_lost_max)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn fmt_metric(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| significant(x, 4))
}

/// A step as the log wrote it (`300`, `2.5`), in scientific notation when huge.
fn fmt_step(x: f64) -> String {
    if x.abs() < 1e15 {
        x.to_string()
    } else {
        snuffer_energy::significant(x, 6)
    }
}

/// "~63.3 %" for an estimate, "63.3 %" for a measurement.
fn fmt_saved(r: &Replayed) -> String {
    let tilde = if r.basis.is_estimate() { "~" } else { "" };
    format!("{tilde}{}", percent(r.saved_fraction()))
}

/// The note that a log planned more steps than it recorded: the replay takes its last
/// recorded step as the plan (the terminal and the page both say it).
fn plan_note(r: &Replayed) -> Option<String> {
    r.run
        .planned_steps
        .filter(|&p| p as f64 > r.replay.last_step)
        .map(|p| {
            format!(
                "the log planned {p} steps; the replay takes the last recorded step as the plan"
            )
        })
}

fn stop_sentence(r: &Replayed) -> String {
    let x = &r.replay;
    if x.stopped {
        let why = x
            .reason
            .as_ref()
            .map_or(String::new(), |s| format!(": {}", s.message));
        format!(
            "would have stopped at step {} of {}{why}",
            fmt_step(x.stop_step),
            fmt_step(x.last_step)
        )
    } else {
        let why = x.note.as_ref().map_or(String::new(), |n| format!(" ({n})"));
        format!(
            "would have let it run to its last recorded step, {}{why}",
            fmt_step(x.last_step)
        )
    }
}

/// The policy's name in sentences.
fn policy_label(policy: crate::replay::PolicyName) -> &'static str {
    use crate::replay::PolicyName;
    match policy {
        PolicyName::Marginal => "marginal-gain",
        PolicyName::Patience => "patience (early stopping)",
        PolicyName::Target => "target",
        PolicyName::Never => "never-stop",
    }
}

fn print_text(replayed: &[Replayed], t: &Totals, tau: &str, args: &Args) {
    let policy = args.policy;
    if policy == crate::replay::PolicyName::Marginal {
        println!(
            "What Snuffer's marginal-gain policy would have done on these runs (τ = {tau}; {}):\n",
            method_text(args)
        );
    } else {
        println!(
            "What Snuffer's {} policy would have done on these runs:\n",
            policy_label(policy)
        );
    }
    for r in replayed {
        let run = &r.run;
        println!("{} ({}: {})", run.run_id, run.format, run.path.display());
        println!(
            "  {}, {} is better, {} evaluations up to step {}",
            run.metric_name,
            if run.higher_is_better {
                "higher"
            } else {
                "lower"
            },
            run.steps.len(),
            fmt_step(r.replay.last_step)
        );
        println!("  {}", stop_sentence(r));
        println!("  energy saved {} — {}", fmt_saved(r), r.basis);
        println!(
            "  best {} lost {} ({} by the stop, {} in the whole run)",
            run.metric_name,
            fmt_metric(r.replay.regret),
            fmt_metric(r.replay.best_at_stop),
            fmt_metric(r.replay.best_full)
        );
        for n in &run.notes {
            println!("  note: {n}");
        }
        if let Some(note) = plan_note(r) {
            println!("  note: {note}");
        }
        if let Some(line) = schedule_sentence(r) {
            println!("  {line}");
        }
        println!();
    }
    let estimate = if t.energy_is_estimate {
        " (estimates: see each run)"
    } else {
        ""
    };
    println!(
        "{} runs, {} would have stopped early{}; energy saved {} on average per run{estimate}; {}",
        t.runs,
        t.stopped,
        if t.skipped > 0 {
            format!(", {} skipped", t.skipped)
        } else {
            String::new()
        },
        percent(t.energy_saved_fraction),
        lost_text(t)
    );
    let with_rate = replayed
        .iter()
        .filter(|r| r.run.learning_rate.is_some())
        .count();
    if policy == crate::replay::PolicyName::Marginal && args.lr_schedule.is_none() && with_rate > 0
    {
        println!(
            "\nnote: {with_rate} of these logs {} a learning rate, which was ignored. If its \
             scheduler was fixed in advance (warm-up, step decays, cosine; not \
             ReduceLROnPlateau), --lr-schedule fixed passes its change points to the rule \
             (--lr-schedule ignore silences this note).",
            if with_rate == 1 { "records" } else { "record" }
        );
    }
}

/// The exact `snuffer replay` command that reproduces these stops from the exported curves.
fn replay_command(dir: &Path, args: &Args, power: Option<&Power>) -> String {
    use crate::replay::PolicyName;
    let policy = match args.policy {
        PolicyName::Marginal => {
            let tau = match (args.tau, args.tau_relative) {
                (Some(t), _) => format!("--tau {t}"),
                (None, r) => format!("--tau-relative {}", r.unwrap_or(DEFAULT_TAU_RELATIVE)),
            };
            let method = match args.method {
                RuleMethod::Fitted => String::new(),
                m => format!(" --method {}", method_name(m)),
            };
            let weights = args.prior_weights.as_ref().map_or(String::new(), |p| {
                format!(" --prior-weights {}", p.display())
            });
            format!("--policy marginal {tau}{method}{weights}")
        }
        p => {
            let name = match p {
                PolicyName::Target => "target",
                PolicyName::Never => "never",
                _ => "patience",
            };
            let flags = match args.early.resolve(None) {
                Ok(s) if p != PolicyName::Never => s.flags(),
                _ => String::new(),
            };
            let tau = args.tau.map_or(String::new(), |t| format!(" --tau {t}"));
            format!("--policy {name}{flags}{tau}")
        }
    };
    format!(
        "snuffer replay --curves {} {policy} --power-w {} --step-energy-j {}",
        dir.join(CURVES_FILE).display(),
        power.map_or(UNUSED_POWER_W, |p| p.watts.0),
        args.step_energy_j
    )
}

fn write_curves(
    path: &Path,
    replayed: &[Replayed],
    inputs: &snuffer_report::output::Inputs,
) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = REQUIRED_COLUMNS.to_vec();
    header.extend(["epoch_time_s", "energy_j"]);
    w.write_record(&header)?;
    for r in replayed {
        let c = &r.curve;
        for i in 0..c.len() {
            let opt = |v: &Option<Vec<f64>>| v.as_ref().map_or(String::new(), |v| v[i].to_string());
            w.write_record([
                c.source.clone(),
                c.task.clone(),
                c.run_id.clone(),
                c.steps[i].to_string(),
                c.metrics[i].to_string(),
                c.metric_name.clone(),
                c.higher_is_better.to_string(),
                opt(&c.epoch_time_s),
                opt(&c.energy_j),
            ])?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing {}: {}", path.display(), e.error()))?;
    snuffer_report::output::write_output(path, &bytes, inputs)?;
    Ok(())
}

fn chart_of(r: &Replayed) -> ReplayedRun {
    let c = &r.curve;
    let points: Vec<(f64, f64)> = c
        .steps
        .iter()
        .copied()
        .zip(c.metrics.iter().copied())
        .collect();
    let sign = if c.higher_is_better { 1.0 } else { -1.0 };
    let best = points.iter().copied().filter(|p| p.1.is_finite()).fold(
        None::<(f64, f64)>,
        |b, p| match b {
            Some(b) if sign * b.1 >= sign * p.1 => Some(b),
            _ => Some(p),
        },
    );
    let stop = r
        .replay
        .stopped
        .then(|| points.iter().copied().find(|p| p.0 == r.replay.stop_step))
        .flatten();
    ReplayedRun {
        title: format!(
            "{} — {} ({})",
            r.run.run_id,
            r.run.path.display(),
            r.run.format
        ),
        metric_name: c.metric_name.clone(),
        points,
        stop,
        best,
    }
}

fn write_out(
    dir: &Path,
    replayed: &[Replayed],
    t: &Totals,
    args: &Args,
    power: Option<&Power>,
    inputs: &snuffer_report::output::Inputs,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Every file this writes, checked before the first is written: none may be a
    // symbolic link or a file this command read.
    let mut files = vec![dir.join(CURVES_FILE), dir.join(snuffer_report::HTML_FILE)];
    files.extend((0..replayed.len()).map(|i| dir.join(svg_name(i))));
    snuffer_report::output::check_outputs(&files, inputs)?;
    write_curves(&dir.join(CURVES_FILE), replayed, inputs)?;
    let mut charts = Vec::new();
    let mut rows = Vec::new();
    for (i, r) in replayed.iter().enumerate() {
        let file = svg_name(i);
        let svg = replayed_chart(&chart_of(r))?;
        snuffer_report::output::write_output(&dir.join(&file), svg.as_bytes(), inputs)?;
        charts.push(PageChart {
            file,
            caption: format!("{}: {}", r.run.run_id, stop_sentence(r)),
            svg,
        });
        let mut details = vec![
            ("path".to_string(), r.run.path.display().to_string()),
            ("format".to_string(), r.run.format.to_string()),
            ("metric".to_string(), r.run.metric_name.clone()),
            ("energy".to_string(), r.basis.to_string()),
        ];
        details.extend(r.run.notes.iter().map(|n| ("note".to_string(), n.clone())));
        details.extend(plan_note(r).map(|n| ("note".to_string(), n)));
        details.extend(schedule_sentence(r).map(|n| ("schedule".to_string(), n)));
        rows.push(Row {
            label: r.run.run_id.clone(),
            value: format!(
                "{}; energy saved {}; best {} lost {}",
                stop_sentence(r),
                fmt_saved(r),
                r.run.metric_name,
                fmt_metric(r.replay.regret)
            ),
            details,
        });
    }
    let policy = match args.policy {
        crate::replay::PolicyName::Marginal => format!(
            "marginal gain per kWh, τ = {}, {}",
            t.tau,
            method_text(args)
        ),
        p => policy_label(p).to_string(),
    };
    let mut notes = vec![format!(
        "A replay of the recorded curves through the same policy code a live run uses \
         ({policy}). Reproduce it with: {}",
        replay_command(dir, args, power)
    )];
    if replayed
        .iter()
        .any(|r| r.schedule.as_ref().is_some_and(|s| !s.is_empty()))
    {
        notes.push(
            "The learning-rate change points passed to the rule (--lr-schedule fixed) are not \
             in curves.csv: that replay runs without them."
                .into(),
        );
    }
    if t.energy_is_estimate {
        notes.push(
            "Energy figures marked ~ are estimates (recorded wall time × an assumed power, or \
             proportional to steps), not measurements; each run's row says which."
                .into(),
        );
    }
    let subtitle = format!(
        "{} runs, {} would have stopped early; energy saved {} on average per run; {}",
        t.runs,
        t.stopped,
        percent(t.energy_saved_fraction),
        lost_text(t)
    );
    let html = replayed_page(
        "What would Snuffer have saved?",
        &subtitle,
        &notes,
        &rows,
        &charts,
    );
    let page = dir.join(snuffer_report::HTML_FILE);
    snuffer_report::output::write_output(&page, html.as_bytes(), inputs)?;
    Ok(())
}

/// File name of the `i`-th run's chart inside `--out`.
fn svg_name(i: usize) -> String {
    format!("run-{:02}.svg", i + 1)
}
