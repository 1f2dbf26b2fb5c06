//! End to end: an intensity file on disk, a plan, and the footprint of the
//! run as planned, through the public API only.

use chrono::{DateTime, Utc};
use snuffer_energy::Joules;
use snuffer_footprint::{
    plan, run_footprint_with, FootprintConfig, FootprintError, HardwareProfile, IntensitySeries,
    RunUsage, Window,
};
use std::time::Duration;

const DAY: &str = "# half-hourly forecast, g CO2e/kWh\n\
datetime,zone,carbon_intensity\n\
2024-06-01T00:00:00Z,GB,180\n\
2024-06-01T00:30:00Z,GB,170\n\
2024-06-01T01:00:00Z,GB,120\n\
2024-06-01T01:30:00Z,GB,90\n\
2024-06-01T02:00:00Z,GB,95\n\
2024-06-01T02:30:00Z,GB,140\n\
2024-06-01T03:00:00Z,GB,210\n";

fn t(s: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(s)?.with_timezone(&Utc))
}

#[test]
fn plan_then_footprint_of_the_planned_run() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("gb.csv");
    std::fs::write(&path, DAY)?;
    let series = IntensitySeries::from_csv_path(&path)?;
    assert_eq!(series.len(), 7);
    assert_eq!(series.end(), t("2024-06-01T03:30:00Z")?);

    // A one-hour, 4 kWh run: best window 01:30–02:30 at (90 + 95)/2 = 92.5 g/kWh → 370 g.
    let p = plan(
        &series,
        Joules::from_kwh(4.0),
        Duration::from_secs(3600),
        Window {
            earliest_start: t("2024-06-01T00:00:00Z")?,
            deadline: None,
        },
    )?;
    assert_eq!(p.best_start, t("2024-06-01T01:30:00Z")?);
    assert!((p.emissions_best.0 - 370.0).abs() < 1e-9);
    // Now: (180 + 170)/2 = 175 g/kWh → 700 g.
    assert!((p.emissions_now.0 - 700.0).abs() < 1e-9);

    // The same run's footprint with the series, PUE 1.2 and one A100: operational
    // 4 × 1.2 × 92.5 = 444 g, embodied 150 kg / 35 064 h for 1 h, reported apart.
    let cfg = FootprintConfig::default()
        .with_series(series)
        .with_pue(1.2)?
        .with_hardware(HardwareProfile::preset("a100")?, 1);
    let usage = RunUsage::new(Joules::from_kwh(4.0), Duration::from_secs(3600))
        .starting_at(p.best_start)
        .with_energy_uncertainty(0.05)?;
    let fp = run_footprint_with(&cfg, &usage, None)?;
    assert!((fp.operational.value.0 - 444.0).abs() < 1e-9);
    assert!((fp.operational.sd.0 - 444.0 * 0.05).abs() < 1e-9);
    assert!((fp.embodied.co2e.value.0 - 150_000.0 / 35_064.0).abs() < 1e-9);
    assert!(
        (fp.operational_plus_embodied.value.0 - fp.operational.value.0 - fp.embodied.co2e.value.0)
            .abs()
            < 1e-9
    );
    // A run outside the file is an error that says what to do.
    let late = RunUsage::new(Joules::from_kwh(1.0), Duration::from_secs(3600))
        .starting_at(t("2024-06-01T03:00:00Z")?);
    let e = run_footprint_with(&cfg, &late, None).unwrap_err();
    assert!(matches!(e, FootprintError::OutsideSeries { .. }), "{e}");
    Ok(())
}

#[test]
fn csv_errors_carry_the_path_and_line() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "timestamp,g\n2024-06-01T00:00:00Z,10\n2024-06-01T00:30:00Z,\n",
    )?;
    let e = IntensitySeries::from_csv_path(&path)
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad.csv") && e.contains("line 3"), "{e}");
    let missing = IntensitySeries::from_csv_path(dir.path().join("nope.csv")).unwrap_err();
    assert!(matches!(missing, FootprintError::Io { .. }), "{missing}");
    Ok(())
}
