//! RAPL through the sampler on a fake powercap tree: the background thread
//! sees a counter that wraps mid-run, and step energies add up.

use snuffer_energy::{auto_with, AutoConfig, Provenance, Sampler, SamplerConfig, StepClock};
use std::path::Path;
use std::time::Duration;

const RANGE: u64 = 262_143_328_850;

fn write(root: &Path, id: &str, file: &str, value: &str) -> anyhow::Result<()> {
    let z = root.join(id);
    std::fs::create_dir_all(&z)?;
    // Write then rename, as the kernel's reads never see a half-written value.
    let tmp = z.join(format!(".{file}.tmp"));
    std::fs::write(&tmp, value)?;
    std::fs::rename(tmp, z.join(file))?;
    Ok(())
}

#[test]
fn wrap_mid_run_through_the_sampler() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path();
    write(root, "intel-rapl:0", "name", "package-0\n")?;
    write(
        root,
        "intel-rapl:0",
        "max_energy_range_uj",
        &format!("{RANGE}\n"),
    )?;
    let mut raw = RANGE - 3_000_000;
    write(root, "intel-rapl:0", "energy_uj", &format!("{raw}\n"))?;

    let sel = auto_with(AutoConfig {
        powercap_root: root.into(),
        gpu: false,
        ..AutoConfig::default()
    });
    let sampler = Sampler::start(
        sel.meters,
        SamplerConfig::default().with_interval(Duration::from_millis(5)),
    )?;
    let mut clock = StepClock::new();
    let mut stamps = vec![clock.stamp()];
    // Six steps of 1 J each; the counter wraps during the fourth.
    for _ in 0..6 {
        raw = (raw + 1_000_000) % RANGE;
        write(root, "intel-rapl:0", "energy_uj", &format!("{raw}\n"))?;
        std::thread::sleep(Duration::from_millis(20));
        stamps.push(clock.stamp());
    }
    sampler.poll_now();
    let pkg = |r: &snuffer_energy::EnergyReport| {
        r.domain("cpu-package:0").map_or(f64::NAN, |d| d.joules.0)
    };
    let steps: Vec<f64> = stamps
        .windows(2)
        .map(|w| pkg(&sampler.energy_of(&w[0], &w[1])))
        .collect();
    assert!(
        steps.iter().all(|e| e.is_finite() && *e >= 0.0),
        "{steps:?}"
    );
    let total = sampler.stop();
    assert!((pkg(&total) - 6.0).abs() < 1e-9, "{total:?}");
    let package = total.domain("cpu-package:0").map(|d| d.provenance.clone());
    assert_eq!(package, Some(Provenance::Counter));
    // The total mixes a counter and an estimate, so it is labelled an estimate.
    assert!(total.provenance.is_estimate());
    assert!((steps.iter().sum::<f64>() - 6.0).abs() < 0.5, "{steps:?}");
    assert!(
        total.domain("ram-estimate").is_some(),
        "no dram zone, so RAM stays estimated"
    );
    Ok(())
}
