//! `snuffer plan`: find the start time that minimises a run's emissions.

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use snuffer_footprint::{plan, IntensitySeries, Plan, Window};
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `snuffer plan`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The CSV has a timestamp column (RFC 3339) and a g CO2e/kWh column; \
    each value holds until the next timestamp.\n\nExample:\n  \
    snuffer plan --intensity-csv forecast.csv --energy-kwh 12 --duration 4h --deadline 2026-11-24T08:00:00Z"
)]
pub struct Args {
    /// CSV time series of grid carbon intensity (timestamp, g/kWh). `--intensity` is the
    /// old spelling (in `footprint`, `--intensity` is one number).
    #[arg(
        long = "intensity-csv",
        visible_alias = "intensity",
        value_name = "FILE.csv"
    )]
    intensity: PathBuf,
    /// Energy the run will use, kWh (drawn at constant power over the duration), as in
    /// `footprint --energy-kwh`.
    #[arg(
        long,
        visible_alias = "kwh",
        value_name = "E",
        allow_hyphen_values = true
    )]
    energy_kwh: f64,
    /// How long the run takes, e.g. `90m` or `4h`.
    #[arg(long, value_name = "D", value_parser = crate::footprint::parse_duration)]
    duration: Duration,
    /// Time by which the run must have finished (RFC 3339); default: end of the series.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    deadline: Option<DateTime<Utc>>,
    /// Earliest start (RFC 3339); default: the current time, or the start of
    /// the series when the current time is outside it.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    now: Option<DateTime<Utc>>,
    /// Print JSON (keys name their units, e.g. `emissions_best_co2e_g`).
    #[arg(long)]
    json: bool,
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("`{s}` is not an RFC 3339 time ({e}); write e.g. 2026-11-24T08:00:00Z")
        })
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let energy = crate::footprint::energy_kwh("--energy-kwh", args.energy_kwh)?;
    let series = IntensitySeries::from_csv_path(&args.intensity).with_context(|| {
        format!(
            "cannot read the intensity series {}",
            args.intensity.display()
        )
    })?;
    let now = match args.now {
        Some(t) => t,
        None => {
            let wall = Utc::now();
            // Inside the series (even in a gap, which `plan` then explains): plan from now.
            if series.start() <= wall && wall < series.end() {
                wall
            } else {
                eprintln!(
                    "note: the current time is outside the series ({} to {}); planning from \
                     the start of the series (use --now to choose)",
                    rfc3339(series.start()),
                    rfc3339(series.end())
                );
                series.start()
            }
        }
    };
    let p = plan(
        &series,
        energy,
        args.duration,
        Window {
            earliest_start: now,
            deadline: args.deadline,
        },
    )
    .context("cannot plan the run")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print_human(&p);
    }
    Ok(0)
}

/// RFC 3339 to the second, `Z` for UTC.
fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn print_human(p: &Plan) {
    let wait = humantime::format_duration(Duration::from_secs(p.delay_s.max(0.0).round() as u64));
    println!(
        "start now   {}: {} (mean {})",
        rfc3339(p.now),
        p.emissions_now,
        p.mean_intensity_now
    );
    println!(
        "best start  {} (wait {wait}), ends {}: {} (mean {})",
        rfc3339(p.best_start),
        rfc3339(p.best_end),
        p.emissions_best,
        p.mean_intensity_best
    );
    println!(
        "saving      {} ({}); latest start that meets the deadline: {}",
        p.saved,
        snuffer_energy::percent(p.saved_fraction),
        rfc3339(p.latest_start)
    );
    for g in &p.gaps {
        let hours = (g.end - g.start).num_minutes() as f64 / 60.0;
        println!(
            "note        no intensity data from {} to {} ({hours:.1} h): no start whose run \
             would overlap it was considered",
            rfc3339(g.start),
            rfc3339(g.end)
        );
    }
}
