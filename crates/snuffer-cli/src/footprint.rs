//! `snuffer footprint`: convert energy into CO2e and water.

use anyhow::Context;
use snuffer_energy::Joules;
use snuffer_footprint::regions::CLOUD_REGIONS;
use snuffer_footprint::{
    run_footprint, EnergyMix, FootprintConfig, HardwareProfile, RunFootprint, REGIONS,
    WORLD_AVERAGE,
};
use std::time::Duration;

/// Arguments of `snuffer footprint`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  snuffer footprint --kwh 12 --region FR\n  \
    snuffer footprint --kwh 12 --intensity 250 --pue 1.1 --wue 0.2 --json\n  \
    snuffer footprint --kwh 40 --region US --duration 6h --hardware h100=8 --hardware gpu-server-host")]
pub struct Args {
    /// IT energy in kWh (what the meters measured, before PUE).
    #[arg(
        long,
        value_name = "E",
        allow_hyphen_values = true,
        required_unless_present = "list_regions"
    )]
    kwh: Option<f64>,
    /// Grid region: ISO 3166 alpha-2 code such as FR, DE, PL, or a cloud region
    /// such as eu-west-3 or europe-west4 (default: world average).
    #[arg(long, value_name = "CODE", conflicts_with_all = ["intensity", "mix"])]
    region: Option<String>,
    /// Carbon intensity in g CO2e/kWh, instead of a region.
    #[arg(
        long,
        value_name = "G",
        allow_hyphen_values = true,
        conflicts_with = "mix"
    )]
    intensity: Option<f64>,
    /// Generation mix instead of a region, e.g. `coal=30,gas=20,wind=50`.
    #[arg(long, value_name = "MIX")]
    mix: Option<String>,
    /// Power usage effectiveness (≥ 1; 1.0 for a local machine, ~1.1 hyperscale cloud).
    #[arg(
        long,
        value_name = "P",
        default_value_t = 1.0,
        allow_hyphen_values = true
    )]
    pue: f64,
    /// On-site water usage effectiveness, L/kWh of IT energy (e.g. 0.2 hyperscale, 1.8 average).
    #[arg(long, value_name = "W", allow_hyphen_values = true)]
    wue: Option<f64>,
    /// Off-site water intensity of the grid, L/kWh.
    #[arg(long, value_name = "W", allow_hyphen_values = true)]
    grid_water: Option<f64>,
    /// Run duration (e.g. `90m`, `6h`), needed to charge embodied carbon.
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Hardware whose manufacturing emissions are charged: NAME or NAME=COUNT
    /// (laptop, cpu-server, gpu-server-host, a100, h100, consumer-gpu). Repeatable.
    #[arg(long, value_name = "NAME[=N]", requires = "duration")]
    hardware: Vec<String>,
    /// Service life over which hardware is amortised (default 4 years).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    service_life: Option<Duration>,
    /// Print JSON (keys name their units, e.g. `co2e_g`).
    #[arg(long)]
    json: bool,
    /// List the embedded regions and their intensities, then exit.
    #[arg(long)]
    list_regions: bool,
}

/// Parses `90m`, `4h`, `1h 30m` (humantime).
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}); write e.g. `90m`, `4h` or `1h 30m`"))
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.list_regions {
        list_regions(args.json)?;
        return Ok(0);
    }
    let kwh = args
        .kwh
        .context("--kwh is required (the energy to convert, in kWh)")?;
    if !(kwh.is_finite() && kwh >= 0.0) {
        anyhow::bail!("--kwh {kwh}: energy must be a finite number ≥ 0 kWh");
    }
    let cfg = config(&args)?;
    let energy = Joules::from_kwh(kwh);
    let fp = run_footprint(&cfg, energy, args.duration.unwrap_or_default(), None)
        .context("cannot compute the footprint")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&fp)?);
    } else {
        print_human(&fp);
    }
    Ok(0)
}

fn config(args: &Args) -> anyhow::Result<FootprintConfig> {
    let mut cfg = FootprintConfig::default();
    if let Some(code) = &args.region {
        cfg = cfg.with_region(code)?;
    } else if let Some(g) = args.intensity {
        cfg = cfg.with_intensity(g).context("--intensity")?;
    } else if let Some(mix) = &args.mix {
        cfg = cfg.with_mix(EnergyMix::parse(mix).context("--mix")?);
    }
    cfg = cfg.with_pue(args.pue).context("--pue")?;
    cfg = cfg
        .with_water(args.wue, args.grid_water)
        .context("--wue / --grid-water")?;
    for spec in &args.hardware {
        let (name, count) = match spec.split_once('=') {
            Some((n, c)) => (
                n,
                c.trim().parse::<u32>().with_context(|| {
                    format!("--hardware {spec}: count `{c}` is not a whole number")
                })?,
            ),
            None => (spec.as_str(), 1),
        };
        cfg = cfg.with_hardware(HardwareProfile::preset(name)?, count);
    }
    if let Some(life) = args.service_life {
        cfg = cfg.with_service_life(life)?;
    }
    Ok(cfg)
}

fn print_human(fp: &RunFootprint) {
    let i = &fp.intensity;
    let place = match (&i.region, &i.country_name) {
        (Some(code), Some(name)) => format!("{code}, {name}; "),
        _ => String::new(),
    };
    println!(
        "energy       {:.4} kWh IT × PUE {:.2} = {:.4} kWh from the grid",
        fp.it_energy_kwh, fp.pue, fp.facility_energy_kwh
    );
    println!(
        "intensity    {:.1} ± {:.1} g CO2e/kWh ({place}{})",
        i.intensity.0, i.sd.0, i.data
    );
    println!("operational  {}", fp.operational);
    if !fp.embodied.devices.is_empty() {
        println!(
            "embodied     {} (amortised over {:.1} years; not included above)",
            fp.embodied.co2e, fp.embodied.service_life_years
        );
        for d in &fp.embodied.devices {
            println!(
                "  {} × {}: {:.1} device-hours, {}",
                d.count, d.name, d.device_hours, d.co2e
            );
        }
        println!("op.+embodied {}", fp.operational_plus_embodied);
    }
    if fp.water.wue_l_per_kwh.is_some() || fp.water.grid_l_per_kwh.is_some() {
        println!(
            "water        {} (on site {}, grid {})",
            fp.water.total, fp.water.on_site_l, fp.water.grid_l
        );
    }
}

fn list_regions(json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(REGIONS)?);
        return Ok(());
    }
    println!(
        "code  alpha3  g CO2e/kWh  name   (2023 yearly averages, Ember via Our World in Data)"
    );
    for r in REGIONS {
        println!(
            "{:<5} {:<7} {:>10.0}  {}",
            r.code, r.alpha3, r.intensity.0, r.name
        );
    }
    println!("world average: {:.0} g CO2e/kWh", WORLD_AVERAGE.0);
    let clouds: Vec<String> = CLOUD_REGIONS
        .iter()
        .map(|(cloud, iso)| format!("{cloud} ({iso})"))
        .collect();
    println!("cloud regions accepted by --region: {}", clouds.join(", "));
    Ok(())
}
