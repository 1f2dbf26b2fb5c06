//! RAPL energy counters through the Linux powercap interface.
//!
//! The kernel exposes one directory per zone under `/sys/class/powercap`:
//! `intel-rapl:N` for package N and `intel-rapl:N:M` for its sub-zones (core,
//! uncore, dram), with `name`, `energy_uj` and `max_energy_range_uj` files. AMD
//! Zen parts appear under the same driver (and as `amd-rapl:*` on some kernels).
//!
//! Only `package-N` and `dram` zones are reported: `core` and `uncore` are parts
//! of their package (adding them would count twice), `psys` covers the whole
//! platform including package and dram, and `intel-rapl-mmio:*` repeats the
//! package counter through another interface. Each ignored zone is listed with
//! its reason in [`RaplMeter::ignored`].
//!
//! Uncertainty: package counters are taken as ±5 % (Khan et al., "RAPL in
//! Action", ACM TOMPECS 2018, found RAPL within a few percent of plug-level
//! measurements since Haswell), dram as ±10 % (DRAM energy is partly modelled
//! on many parts), and any zone whose wraps had to be guessed as ±20 %.
//!
//! A counter that goes down by more than a wrap could explain (see [`WrapCounter`]) was
//! reset (driver reload, host reboot under a VM). The interval is bridged at the previous
//! power, and from then on the zone's figure is labelled
//! [`Provenance::Estimated`] with a model that says how many resets were bridged and how
//! many joules of the total that is; its uncertainty is at least ±20 %, with the bridged
//! joules counted as ±100 %.

use crate::wrap::{WrapCounter, DEFAULT_MAX_ZONE_POWER};
use crate::{DomainEnergy, EnergyError, Joules, Meter, Provenance, Skipped, Watts};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the kernel mounts powercap.
pub const DEFAULT_POWERCAP_ROOT: &str = "/sys/class/powercap";
/// Environment variable that overrides the powercap root (used by tests and
/// containers that mount sysfs elsewhere).
pub const POWERCAP_ROOT_ENV: &str = "SNUFFER_POWERCAP_ROOT";

const PACKAGE_UNCERTAINTY: f64 = 0.05;
const DRAM_UNCERTAINTY: f64 = 0.10;
const GUESSED_WRAP_UNCERTAINTY: f64 = 0.20;
/// Relative uncertainty of the joules put in for an interval that held a counter reset.
const BRIDGED_UNCERTAINTY: f64 = 1.0;

/// The powercap root to use: `$SNUFFER_POWERCAP_ROOT` when set and non-empty,
/// else [`DEFAULT_POWERCAP_ROOT`].
pub fn powercap_root() -> PathBuf {
    match std::env::var_os(POWERCAP_ROOT_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(DEFAULT_POWERCAP_ROOT),
    }
}

/// What a RAPL zone measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneKind {
    /// A whole CPU package (socket).
    Package,
    /// The memory attached to a package.
    Dram,
}

/// One zone that the meter reads.
#[derive(Debug, Clone)]
pub struct RaplZone {
    /// Directory name, e.g. `intel-rapl:0:1`.
    pub id: String,
    /// The zone's directory.
    pub path: PathBuf,
    /// Package or dram.
    pub kind: ZoneKind,
    /// Domain name reported: `cpu-package:N` or `dram:N`.
    pub domain: String,
    /// Wrap range from `max_energy_range_uj`, if the kernel provides it.
    pub range_uj: Option<u64>,
}

struct ZoneState {
    zone: RaplZone,
    energy_path: PathBuf,
    counter: WrapCounter,
}

/// Reads RAPL package and dram counters; see the module docs.
pub struct RaplMeter {
    zones: Vec<ZoneState>,
    ignored: Vec<Skipped>,
    last: Instant,
}

impl std::fmt::Debug for RaplMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaplMeter")
            .field(
                "zones",
                &self.zones.iter().map(|z| &z.zone).collect::<Vec<_>>(),
            )
            .field("ignored", &self.ignored)
            .finish()
    }
}

fn parse_zone_id(name: &str) -> Option<(&str, u32)> {
    let (prefix, rest) = name.split_once(':')?;
    if prefix != "intel-rapl" && prefix != "amd-rapl" {
        return None;
    }
    let mut parts = rest.split(':');
    let first = parts.next()?.parse().ok()?;
    if let Some(sub) = parts.next() {
        sub.parse::<u32>().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some((prefix, first))
}

pub(crate) fn read_trimmed(path: &Path) -> Result<String, EnergyError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| EnergyError::from_io(path, e))
}

pub(crate) fn read_u64(path: &Path) -> Result<u64, EnergyError> {
    let text = read_trimmed(path)?;
    text.parse().map_err(|_| EnergyError::Parse {
        path: path.to_owned(),
        message: format!("expected an unsigned integer, found {text:?}"),
    })
}

/// Zone directories under `root`: the flat entries the kernel lists plus any
/// sub-zones only reachable by nesting, sorted by name.
fn zone_dirs(root: &Path) -> Result<Vec<(String, PathBuf)>, EnergyError> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let entries = std::fs::read_dir(root).map_err(|e| EnergyError::from_io(root, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if parse_zone_id(&name).is_some() || name.starts_with("intel-rapl-mmio:") {
            let path = entry.path();
            if let Ok(sub) = std::fs::read_dir(&path) {
                for s in sub.flatten() {
                    let sname = s.file_name().to_string_lossy().into_owned();
                    if parse_zone_id(&sname).is_some() {
                        found.push((sname, s.path()));
                    }
                }
            }
            found.push((name, path));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.dedup_by(|a, b| a.0 == b.0);
    Ok(found)
}

impl RaplMeter {
    /// Discover zones under [`powercap_root()`].
    pub fn new() -> Result<RaplMeter, EnergyError> {
        RaplMeter::with_root(&powercap_root())
    }

    /// Discover zones under `root` with the default power ceiling
    /// ([`DEFAULT_MAX_ZONE_POWER`]).
    pub fn with_root(root: &Path) -> Result<RaplMeter, EnergyError> {
        RaplMeter::with_options(root, DEFAULT_MAX_ZONE_POWER)
    }

    /// Discover zones under `root`; `max_zone_power` bounds a zone's power when
    /// deciding whether several wraps can have happened between two reads.
    ///
    /// Fails when no package zone can be read; the error of the first failed
    /// package zone (e.g. [`EnergyError::PermissionDenied`]) is returned.
    pub fn with_options(root: &Path, max_zone_power: Watts) -> Result<RaplMeter, EnergyError> {
        if !root.exists() {
            return Err(EnergyError::Unavailable {
                source_name: "rapl".into(),
                message: format!(
                    "{} does not exist (no powercap driver: a VM, a container without /sys, or a \
                     non-Linux kernel)",
                    root.display()
                ),
            });
        }
        let mut zones: Vec<ZoneState> = Vec::new();
        let mut ignored = Vec::new();
        let mut first_package_error = None;
        let now = Instant::now();
        for (id, path) in zone_dirs(root)? {
            let skip = |reason: String| Skipped {
                source: format!("rapl {id}"),
                reason,
            };
            if id.starts_with("intel-rapl-mmio:") {
                ignored.push(skip(
                    "the MMIO interface repeats the package counter already read through MSRs"
                        .into(),
                ));
                continue;
            }
            let Some((_, socket)) = parse_zone_id(&id) else {
                continue;
            };
            let name = match read_trimmed(&path.join("name")) {
                Ok(n) => n,
                Err(e) => {
                    ignored.push(skip(format!("its name cannot be read: {e}")));
                    continue;
                }
            };
            let (kind, domain) = if let Some(n) = name.strip_prefix("package-") {
                let n = n.parse().unwrap_or(socket);
                (ZoneKind::Package, format!("cpu-package:{n}"))
            } else if name == "dram" {
                (ZoneKind::Dram, format!("dram:{socket}"))
            } else if name == "psys" {
                ignored.push(skip(
                    "psys measures the whole platform, package and dram included; adding it would count them twice".into(),
                ));
                continue;
            } else if name == "core" || name == "uncore" {
                ignored.push(skip(format!(
                    "{name} is part of package {socket}, already counted"
                )));
                continue;
            } else {
                ignored.push(skip(format!("unknown zone name {name:?}")));
                continue;
            };
            if zones.iter().any(|z| z.zone.domain == domain) {
                ignored.push(skip(format!("{domain} is already read from another zone")));
                continue;
            }
            let energy_path = path.join("energy_uj");
            let range_path = path.join("max_energy_range_uj");
            let first = read_u64(&energy_path);
            let range_uj = read_u64(&range_path).ok();
            match first {
                Ok(raw) => {
                    let mut counter = WrapCounter::new(range_uj, max_zone_power);
                    counter.update(raw, std::time::Duration::ZERO);
                    if range_uj.is_none() {
                        ignored.push(Skipped {
                            source: format!("rapl {id} wrap range"),
                            reason: format!(
                                "{} is missing or unreadable: wraps of {domain} will be estimated from the previous power",
                                range_path.display()
                            ),
                        });
                    }
                    zones.push(ZoneState {
                        zone: RaplZone {
                            id: id.clone(),
                            path: path.clone(),
                            kind,
                            domain,
                            range_uj,
                        },
                        energy_path,
                        counter,
                    });
                }
                Err(e) => {
                    ignored.push(skip(format!("{domain} cannot be read: {e}")));
                    if kind == ZoneKind::Package && first_package_error.is_none() {
                        first_package_error = Some(e);
                    }
                }
            }
        }
        if !zones.iter().any(|z| z.zone.kind == ZoneKind::Package) {
            return Err(
                first_package_error.unwrap_or_else(|| EnergyError::Unavailable {
                    source_name: "rapl".into(),
                    message: format!("no readable RAPL package zone under {}", root.display()),
                }),
            );
        }
        // Packages first, then dram, each by socket: a stable domain order.
        zones.sort_by(|a, b| {
            (a.zone.kind == ZoneKind::Dram, &a.zone.domain)
                .cmp(&(b.zone.kind == ZoneKind::Dram, &b.zone.domain))
        });
        Ok(RaplMeter {
            zones,
            ignored,
            last: now,
        })
    }

    /// The zones read, packages first.
    pub fn zones(&self) -> Vec<&RaplZone> {
        self.zones.iter().map(|z| &z.zone).collect()
    }

    /// Zones found but not read, with why.
    pub fn ignored(&self) -> &[Skipped] {
        &self.ignored
    }

    /// Total wraps seen or inferred over all zones.
    pub fn wraps(&self) -> u64 {
        self.zones.iter().map(|z| z.counter.wraps()).sum()
    }

    /// True when a dram zone is read.
    pub fn has_dram(&self) -> bool {
        self.zones.iter().any(|z| z.zone.kind == ZoneKind::Dram)
    }

    /// Read every zone as of `now` (the instant used to bound possible wraps).
    pub fn read_at(&mut self, now: Instant) -> Result<Vec<DomainEnergy>, EnergyError> {
        let elapsed = now.saturating_duration_since(self.last);
        let mut raws = Vec::with_capacity(self.zones.len());
        for z in &self.zones {
            raws.push(read_u64(&z.energy_path)?);
        }
        self.last = now;
        Ok(self
            .zones
            .iter_mut()
            .zip(raws)
            .map(|(z, raw)| {
                let joules: Joules = z.counter.update(raw, elapsed);
                let base = match z.zone.kind {
                    ZoneKind::Package => PACKAGE_UNCERTAINTY,
                    ZoneKind::Dram => DRAM_UNCERTAINTY,
                };
                let base = if z.counter.guessed() > 0 {
                    GUESSED_WRAP_UNCERTAINTY
                } else {
                    base
                };
                let (provenance, uncertainty) = match z.counter.resets() {
                    0 => (Provenance::Counter, base),
                    resets => {
                        reset_label(&z.zone.domain, resets, z.counter.bridged(), joules, base)
                    }
                };
                DomainEnergy {
                    domain: z.zone.domain.clone(),
                    joules,
                    provenance,
                    uncertainty,
                }
            })
            .collect())
    }
}

/// Provenance and uncertainty of a zone whose counter was reset `resets` times, with
/// `bridged` of its `total` joules put in for the intervals that held the resets.
fn reset_label(
    domain: &str,
    resets: u64,
    bridged: Joules,
    total: Joules,
    counted_uncertainty: f64,
) -> (Provenance, f64) {
    let plural = if resets == 1 { "" } else { "s" };
    let model = format!(
        "RAPL counter of {domain}, reset {resets} time{plural} (a drop no wrap explains): \
         {:.3} J of the total bridged at the previous interval's power",
        bridged.0
    );
    let counted = (total.0 - bridged.0).max(0.0);
    let weighted = if total.0 > 0.0 {
        (counted * counted_uncertainty + bridged.0 * BRIDGED_UNCERTAINTY) / total.0
    } else {
        0.0
    };
    (
        Provenance::Estimated { model },
        weighted.max(GUESSED_WRAP_UNCERTAINTY),
    )
}

impl Meter for RaplMeter {
    fn name(&self) -> &str {
        "rapl"
    }
    fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError> {
        self.read_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::FakePowercap;
    use std::time::Duration;

    #[test]
    fn zone_ids() {
        let rows = [
            ("intel-rapl:0", Some(0)),
            ("intel-rapl:1:0", Some(1)),
            ("amd-rapl:0", Some(0)),
            ("intel-rapl", None),
            ("intel-rapl:x", None),
            ("intel-rapl:0:0:0", None),
            ("intel-rapl-mmio:0", None),
        ];
        for (name, want) in rows {
            assert_eq!(parse_zone_id(name).map(|p| p.1), want, "{name}");
        }
    }

    #[test]
    fn reads_package_and_dram_and_counts() {
        let fake = FakePowercap::new();
        fake.zone(
            "intel-rapl:0",
            "package-0",
            1_000_000,
            Some(262_143_328_850),
        );
        fake.zone("intel-rapl:0:0", "core", 5, Some(262_143_328_850));
        fake.zone("intel-rapl:0:1", "dram", 0, Some(65_712_999_613));
        fake.zone("intel-rapl:1", "package-1", 0, Some(262_143_328_850));
        let mut m = RaplMeter::with_root(fake.root()).unwrap();
        let domains: Vec<_> = m.zones().iter().map(|z| z.domain.clone()).collect();
        assert_eq!(domains, ["cpu-package:0", "cpu-package:1", "dram:0"]);
        assert!(m
            .ignored()
            .iter()
            .any(|s| s.reason.contains("core is part of package 0")));
        fake.set("intel-rapl:0", 3_500_000);
        fake.set("intel-rapl:0:1", 500_000);
        let t = Instant::now() + Duration::from_millis(100);
        let r = m.read_at(t).unwrap();
        assert_eq!(r[0].joules, Joules(2.5));
        assert_eq!(r[1].joules, Joules(0.0));
        assert_eq!(r[2].joules, Joules(0.5));
        assert!(r.iter().all(|d| d.provenance == Provenance::Counter));
    }

    #[test]
    fn wrap_mid_run() {
        let fake = FakePowercap::new();
        let range = 262_143_328_850;
        fake.zone("intel-rapl:0", "package-0", range - 2_000_000, Some(range));
        let mut m = RaplMeter::with_root(fake.root()).unwrap();
        let t0 = Instant::now();
        fake.set("intel-rapl:0", range - 1_000_000);
        assert_eq!(
            m.read_at(t0 + Duration::from_millis(100)).unwrap()[0].joules,
            Joules(1.0)
        );
        fake.set("intel-rapl:0", 1_500_000);
        let r = m.read_at(t0 + Duration::from_millis(200)).unwrap();
        assert!((r[0].joules.0 - 3.5).abs() < 1e-9, "{r:?}");
        assert_eq!(m.wraps(), 1);
        assert_eq!(r[0].uncertainty, PACKAGE_UNCERTAINTY);
    }

    /// The field case of a counter reset: 50 J on a 262 kJ range, then `1000`. Reported as
    /// a wrap it made 262 093 J and 216 767 W "±5 % counter".
    #[test]
    fn a_reset_is_bridged_and_labelled_as_an_estimate() {
        let fake = FakePowercap::new();
        let range = 262_143_328_850;
        fake.zone("intel-rapl:0", "package-0", 48_000_000, Some(range));
        let mut m = RaplMeter::with_root(fake.root()).unwrap();
        let t0 = Instant::now();
        fake.set("intel-rapl:0", 50_000_000);
        let r = m.read_at(t0 + Duration::from_millis(100)).unwrap();
        assert_eq!(r[0].provenance, Provenance::Counter);
        fake.set("intel-rapl:0", 1_000);
        let r = m.read_at(t0 + Duration::from_millis(200)).unwrap();
        // 2 J counted, then about 2 J bridged at the previous ≈ 20 W (the first interval
        // is timed from construction, so allow a little slack).
        assert!(r[0].joules.0 > 2.0 && r[0].joules.0 < 4.5, "{r:?}");
        match &r[0].provenance {
            Provenance::Estimated { model } => {
                assert!(model.contains("reset 1 time"), "{model}");
                assert!(model.contains("cpu-package:0"), "{model}");
            }
            other => panic!("a reset must not stay a plain counter: {other:?}"),
        }
        assert!(r[0].uncertainty >= GUESSED_WRAP_UNCERTAINTY, "{r:?}");
        assert_eq!(m.wraps(), 0);
    }

    #[test]
    fn psys_is_never_added() {
        let fake = FakePowercap::new();
        fake.zone("intel-rapl:0", "package-0", 0, Some(1 << 40));
        fake.zone("intel-rapl:1", "psys", 0, Some(1 << 40));
        let mut m = RaplMeter::with_root(fake.root()).unwrap();
        fake.set("intel-rapl:0", 1_000_000);
        fake.set("intel-rapl:1", 9_000_000);
        let r = m
            .read_at(Instant::now() + Duration::from_millis(100))
            .unwrap();
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].domain, "cpu-package:0");
        assert!(m.ignored().iter().any(|s| s.reason.contains("psys")));
    }

    #[test]
    fn psys_alone_is_not_a_package() {
        let fake = FakePowercap::new();
        fake.zone("intel-rapl:1", "psys", 0, Some(1 << 40));
        let err = RaplMeter::with_root(fake.root()).unwrap_err();
        assert!(
            err.to_string().contains("no readable RAPL package zone"),
            "{err}"
        );
    }

    #[test]
    fn missing_range_is_tolerated_and_reported() {
        let fake = FakePowercap::new();
        fake.zone("intel-rapl:0", "package-0", 5_000_000, None);
        let mut m = RaplMeter::with_root(fake.root()).unwrap();
        assert!(m
            .ignored()
            .iter()
            .any(|s| s.reason.contains("max_energy_range_uj is missing")));
        let t0 = Instant::now();
        fake.set("intel-rapl:0", 6_000_000);
        m.read_at(t0 + Duration::from_millis(100)).unwrap();
        fake.set("intel-rapl:0", 200_000); // wrapped; range unknown, previous power 10 W
        let r = m.read_at(t0 + Duration::from_millis(200)).unwrap();
        // 1 J, then a wrap estimated at the previous interval's power (≈ 10 W × 0.1 s);
        // the first interval is timed from construction, so allow a little slack.
        assert!((r[0].joules.0 - 2.0).abs() < 0.05, "{r:?}");
        assert_eq!(r[0].uncertainty, GUESSED_WRAP_UNCERTAINTY);
    }

    #[test]
    fn amd_naming_and_mmio_duplicate() {
        let fake = FakePowercap::new();
        fake.zone("amd-rapl:0", "package-0", 0, Some(1 << 32));
        fake.zone("intel-rapl-mmio:0", "package-0", 0, Some(1 << 32));
        let m = RaplMeter::with_root(fake.root()).unwrap();
        assert_eq!(m.zones().len(), 1);
        assert!(m.ignored().iter().any(|s| s.reason.contains("MMIO")));
    }

    #[test]
    fn unreadable_energy_file_is_an_error_naming_it() {
        // Tests may run as root, so unreadability is simulated by a directory in
        // place of the file (EISDIR) and by a dangling symlink (ENOENT).
        let fake = FakePowercap::new();
        fake.zone("intel-rapl:0", "package-0", 0, Some(1 << 32));
        let energy = fake.root().join("intel-rapl:0/energy_uj");
        std::fs::remove_file(&energy).unwrap();
        std::fs::create_dir(&energy).unwrap();
        let err = RaplMeter::with_root(fake.root()).unwrap_err();
        assert!(err.to_string().contains("intel-rapl:0/energy_uj"), "{err}");

        let fake = FakePowercap::new();
        fake.zone("intel-rapl:0", "package-0", 0, Some(1 << 32));
        fake.zone("intel-rapl:0:0", "dram", 0, Some(1 << 32));
        let dram = fake.root().join("intel-rapl:0:0/energy_uj");
        std::fs::remove_file(&dram).unwrap();
        std::os::unix::fs::symlink(fake.root().join("nowhere"), &dram).unwrap();
        let m = RaplMeter::with_root(fake.root()).unwrap();
        assert!(!m.has_dram());
        assert!(
            m.ignored()
                .iter()
                .any(|s| s.reason.contains("dram:0 cannot be read")),
            "{:?}",
            m.ignored()
        );
    }

    #[test]
    fn garbage_counter_is_a_parse_error() {
        let fake = FakePowercap::new();
        fake.zone("intel-rapl:0", "package-0", 0, Some(1 << 32));
        let mut m = RaplMeter::with_root(fake.root()).unwrap();
        std::fs::write(fake.root().join("intel-rapl:0/energy_uj"), "lots\n").unwrap();
        let err = m.read().unwrap_err();
        assert!(matches!(err, EnergyError::Parse { .. }), "{err}");
    }

    mod files {
        //! Property tests of the powercap file parsers: whatever the kernel (or a broken
        //! mount) puts in the files, the meter never panics, never reports a negative or
        //! non-finite figure, and its errors name the file.
        use super::*;
        use proptest::prelude::*;

        /// File contents: numbers in every form, with noise around them.
        fn contents() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<u64>().prop_map(|v| format!("{v}\n")),
                any::<i64>().prop_map(|v| format!("{v}")),
                any::<f64>().prop_map(|v| format!("{v}")),
                "[ \t\n]{0,2}[0-9]{0,25}[ \t\n]{0,2}",
                ".{0,30}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn zone_ids_never_panic_and_valid_ones_parse(
                junk in ".{0,24}",
                socket in any::<u32>(),
                sub in proptest::option::of(any::<u32>()),
            ) {
                let _ = parse_zone_id(&junk);
                let id = match sub {
                    Some(m) => format!("intel-rapl:{socket}:{m}"),
                    None => format!("amd-rapl:{socket}"),
                };
                prop_assert_eq!(parse_zone_id(&id).map(|p| p.1), Some(socket));
            }

            #[test]
            fn counter_files_are_read_exactly_or_rejected_by_name(text in contents()) {
                let fake = FakePowercap::new();
                fake.zone("intel-rapl:0", "package-0", 0, Some(1 << 40));
                let path = fake.root().join("intel-rapl:0/energy_uj");
                std::fs::write(&path, &text).unwrap();
                match read_u64(&path) {
                    Ok(v) => prop_assert_eq!(Some(v), text.trim().parse::<u64>().ok()),
                    Err(e) => {
                        prop_assert!(text.trim().parse::<u64>().is_err());
                        prop_assert!(e.to_string().contains("intel-rapl:0/energy_uj"), "{}", e);
                    }
                }
            }

            #[test]
            fn arbitrary_zone_files_never_panic_nor_give_a_bad_figure(
                name in prop_oneof![Just("package-0".to_string()), Just("dram".to_string()), ".{0,12}"],
                first in contents(),
                range in contents(),
                later in proptest::collection::vec(contents(), 1..6),
            ) {
                let fake = FakePowercap::new();
                fake.zone("intel-rapl:0", "package-0", 0, Some(1 << 40));
                fake.zone("intel-rapl:0:0", "dram", 0, Some(1 << 40));
                let dir = fake.root().join("intel-rapl:0:0");
                std::fs::write(dir.join("name"), &name).unwrap();
                std::fs::write(dir.join("energy_uj"), &first).unwrap();
                std::fs::write(dir.join("max_energy_range_uj"), &range).unwrap();
                let mut m = RaplMeter::with_root(fake.root()).unwrap();
                let t0 = Instant::now();
                for (k, text) in later.iter().enumerate() {
                    std::fs::write(dir.join("energy_uj"), text).unwrap();
                    let at = t0 + Duration::from_millis(100 * (k as u64 + 1));
                    match m.read_at(at) {
                        Ok(domains) => {
                            for d in domains {
                                prop_assert!(d.joules.0.is_finite() && d.joules.0 >= 0.0, "{:?}", d);
                                prop_assert!(d.uncertainty.is_finite() && d.uncertainty >= 0.0);
                            }
                        }
                        Err(e) => prop_assert!(e.to_string().contains("energy_uj"), "{}", e),
                    }
                }
            }
        }
    }

    #[test]
    fn missing_root_is_unavailable() {
        let err = RaplMeter::with_root(Path::new("/nonexistent/powercap")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
