//! `snuffer footprint`: convert energy into CO2e and water.

use crate::numbers::{fixed, short};
use anyhow::Context;
use snuffer_energy::significant;
use snuffer_energy::Joules;
use snuffer_footprint::regions::CLOUD_REGIONS;
use snuffer_footprint::{
    run_footprint, EnergyMix, FootprintConfig, RunFootprint, REGIONS, WORLD_AVERAGE,
};
use std::time::Duration;

pub(crate) use crate::values::{parse_duration, parse_hardware};

/// Arguments of `snuffer footprint`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  snuffer footprint --energy-kwh 12 --region FR --wue 0.2\n  \
    snuffer footprint --energy-kwh 12 --intensity 250 --pue 1.1 --wue 0.2 --json\n  \
    snuffer footprint --energy-kwh 40 --region US --duration 6h --hardware 8xh100 --hardware gpu-server-host"
)]
pub struct Args {
    /// IT energy in kWh (what the meters measured, before PUE). `--kwh` is the old spelling.
    #[arg(
        long = "energy-kwh",
        visible_alias = "kwh",
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

/// The energy of a `flag` given in kWh, checked: finite, ≥ 0, and small enough to be
/// expressed in joules (at most about 5e301 kWh); errors name the flag and the value given.
pub(crate) fn energy_kwh(flag: &str, kwh: f64) -> anyhow::Result<Joules> {
    if !(kwh.is_finite() && kwh >= 0.0) {
        anyhow::bail!(
            "{flag} {}: energy must be a finite number ≥ 0 kWh",
            short(kwh)
        );
    }
    let energy = Joules::from_kwh(kwh);
    if !energy.0.is_finite() {
        anyhow::bail!(
            "{flag} {}: too large; energy is counted in joules, which caps it at {} kWh",
            short(kwh),
            fixed(f64::MAX / Joules::from_kwh(1.0).0, 2)
        );
    }
    Ok(energy)
}

/// Run the command; returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.list_regions {
        list_regions(args.json)?;
        return Ok(0);
    }
    let kwh = args
        .kwh
        .context("--energy-kwh is required (the energy to convert, in kWh)")?;
    let energy = energy_kwh("--energy-kwh", kwh)?;
    let cfg = config(&args)?;
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
        let (profile, count) = parse_hardware(spec)?;
        cfg = cfg.with_hardware(profile, count);
    }
    if let Some(life) = args.service_life {
        cfg = cfg.with_service_life(life)?;
    }
    Ok(cfg)
}

/// The water row when no water intensity was given: water depends on the site's cooling
/// and the grid's generation, which no region table records, so it is asked for rather
/// than guessed.
const NO_WATER: &str = "water        not estimated: give --wue (on-site L/kWh: 0 for a machine \
     without evaporative cooling, ~0.2 hyperscale cloud, ~1.8 industry average) and/or \
     --grid-water (the grid's L/kWh)";

fn print_human(fp: &RunFootprint) {
    let i = &fp.intensity;
    let place = match (&i.region, &i.country_name) {
        (Some(code), Some(name)) => format!("{code}, {name}; "),
        _ => String::new(),
    };
    println!(
        "energy       {} IT × PUE {} = {} from the grid",
        Joules::from_kwh(fp.it_energy_kwh),
        significant(fp.pue, 3),
        Joules::from_kwh(fp.facility_energy_kwh)
    );
    println!(
        "intensity    {} ± {} g CO2e/kWh ({place}{})",
        significant(i.intensity.0, 3),
        significant(i.sd.0, 2),
        i.data
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
    } else {
        println!("{NO_WATER}");
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use snuffer_footprint::embodied::PRESETS;
    use snuffer_footprint::HardwareProfile;

    proptest! {
        /// `--hardware`: any text parses or gives an error naming it; every preset with any
        /// count (any case, `_` for `-`) parses to that preset and count.
        #[test]
        fn hardware_specs_parse_or_name_the_spec(
            junk in ".{0,24}",
            i in 0..PRESETS.len(),
            count in proptest::option::of(any::<u32>()),
            upper in any::<bool>(),
        ) {
            if let Err(e) = parse_hardware(&junk) {
                prop_assert!(format!("{e:#}").contains("--hardware"), "{e:#}");
            }
            let name = if upper { PRESETS[i].to_uppercase().replace('-', "_") } else { PRESETS[i].to_string() };
            let spec = match count {
                Some(c) => format!("{name}={c}"),
                None => name,
            };
            let parsed = parse_hardware(&spec);
            prop_assert!(parsed.is_ok(), "{spec}: {:?}", parsed.err());
            if let Ok((profile, n)) = parsed {
                prop_assert_eq!(n, count.unwrap_or(1));
                prop_assert_eq!(profile, HardwareProfile::preset(PRESETS[i]).unwrap());
            }
        }

        /// `--duration`: any text parses or gives an error quoting it; hours, minutes and
        /// seconds written out read back exactly.
        #[test]
        fn durations_parse_exactly_or_quote_the_input(
            junk in ".{0,16}",
            h in 0u64..10_000,
            m in 0u64..60,
            s in 0u64..60,
        ) {
            if let Err(e) = parse_duration(&junk) {
                prop_assert!(e.contains(&format!("`{junk}`")), "{e}");
            }
            let text = format!(" {h}h {m}m {s}s ");
            prop_assert_eq!(parse_duration(&text), Ok(Duration::from_secs(3600 * h + 60 * m + s)));
            prop_assert_eq!(parse_duration(&format!("{m}min")), Ok(Duration::from_secs(60 * m)));
        }
    }
}
