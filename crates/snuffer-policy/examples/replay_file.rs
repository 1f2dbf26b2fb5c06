//! Replay the marginal-gain policy over a curves CSV and print the JSON of
//! `snuffer replay --json` (without the CLI's dependencies).
//!
//! usage: cargo run --release -p snuffer-policy --example replay_file -- \
//!        replay --curves FILE.csv --policy marginal --tau 0.05 [--power-w 1000] [--json]
//!        [--level 0.8] [--warmup-fraction 0.1] [--consecutive 2] [--refit-growth 1.2]
//!
//! The leading `replay` and the `--policy marginal` / `--json` flags are accepted so that
//! the project's evaluator can call this example exactly as it calls `snuffer`.

use anyhow::{bail, Context};
use snuffer_energy::{Joules, Watts};
use snuffer_policy::curves::{read_curves, EnergyAssumptions};
use snuffer_policy::replay::{replay_run, summarize, ReplayConfig};
use snuffer_policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, Tau};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("replay") {
        args.next();
    }
    let (mut curves, mut tau, mut power) = (None, None, 1000.0);
    let mut config = ReplayConfig::default();
    let mut mg = MarginalGainConfig::new(Tau::PerKwh(0.0));
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--curves" => curves = Some(value()?),
            "--tau" => tau = Some(value()?.parse::<f64>()?),
            "--power-w" => power = value()?.parse()?,
            "--level" => mg = mg.with_level(value()?.parse()?),
            "--warmup-fraction" => mg = mg.with_warmup_fraction(value()?.parse()?),
            "--min-evaluations" => mg = mg.with_min_evaluations(value()?.parse()?),
            "--consecutive" => mg = mg.with_consecutive(value()?.parse()?),
            "--refit-growth" => config.refit_growth = value()?.parse()?,
            "--policy" => {
                let p = value()?;
                if p != "marginal" {
                    bail!("this example replays `marginal` only, got {p}");
                }
            }
            "--json" => {}
            other => bail!("unknown flag {other}"),
        }
    }
    let curves = curves.context("--curves FILE is required")?;
    let tau = tau.context("--tau X is required")?;
    mg.tau = Tau::PerKwh(tau);
    config.tau_per_kwh = Some(tau);
    config.energy = EnergyAssumptions {
        power: Watts(power),
        step_energy: Joules(1.0),
    };
    let runs = read_curves(std::path::Path::new(&curves))?;
    let mut policy = AnyOf::new()
        .with(Divergence::non_finite())
        .with(MarginalGain::new(mg)?);
    let results: Vec<_> = runs
        .iter()
        .map(|r| replay_run(r, &mut policy, &config))
        .collect();
    let summary = summarize(&results);
    println!(
        "{}",
        serde_json::json!({ "runs": results, "summary": summary })
    );
    Ok(())
}
