//! `snuffer probe`: which energy meters this machine has, which were skipped
//! and why, and the current power per domain.

use anyhow::Context;
use serde::Serialize;
use snuffer_energy::{
    auto_with, AutoConfig, CpuSource, Provenance, Sampler, SamplerConfig, Skipped,
};
use std::time::Duration;

/// Arguments of `snuffer probe`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    snuffer probe                  # meters found and skipped, with why, and power now\n  \
    snuffer probe --json")]
pub struct Args {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// How long to measure the current power, in milliseconds.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub window_ms: u64,
}

#[derive(Debug, Serialize)]
struct DomainOut {
    name: String,
    watts: f64,
    provenance: Provenance,
    uncertainty: f64,
}

#[derive(Debug, Serialize)]
struct ProbeOut {
    window_s: f64,
    meters: Vec<String>,
    domains: Vec<DomainOut>,
    total_watts: f64,
    skipped: Vec<Skipped>,
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    // The probe reports the machine, so the estimate covers every process's
    // CPU time, not the probe's own (which is idle while it waits).
    let selection = auto_with(AutoConfig {
        cpu_source: CpuSource::System,
        ..AutoConfig::default()
    });
    let meters: Vec<String> = selection
        .meters
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let skipped = selection.skipped;
    let window = Duration::from_millis(args.window_ms);
    let sampler = Sampler::start(selection.meters, SamplerConfig::default())
        .context("starting the energy sampler")?;
    std::thread::sleep(window);
    sampler.poll_now();
    let power = sampler.recent_power(window);
    let (errors, last_error) = sampler.errors();
    drop(sampler);

    let out = ProbeOut {
        window_s: power.window.as_secs_f64(),
        meters,
        total_watts: power.total.0,
        domains: power
            .domains
            .into_iter()
            .map(|d| DomainOut {
                name: d.domain,
                watts: d.power.0,
                provenance: d.provenance,
                uncertainty: d.uncertainty,
            })
            .collect(),
        skipped,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let domains: Vec<&str> = out.domains.iter().map(|d| d.name.as_str()).collect();
        println!(
            "meters: {} (domains: {})",
            out.meters.join(", "),
            domains.join(", ")
        );
        println!("power over {:.1} s:", out.window_s);
        for d in &out.domains {
            println!(
                "  {:<16} {:>8.2} W  ±{:>2.0} %  {}",
                d.name,
                d.watts,
                100.0 * d.uncertainty,
                d.provenance
            );
        }
        println!("  {:<16} {:>8.2} W", "total", out.total_watts);
        if !out.skipped.is_empty() {
            println!("skipped:");
            for s in &out.skipped {
                println!("  {}: {}", s.source, s.reason);
            }
        }
    }
    if errors > 0 {
        eprintln!(
            "warning: {errors} meter read(s) failed during the probe; last: {}",
            last_error.unwrap_or_default()
        );
    }
    Ok(0)
}
