//! GPU energy through NVML, behind a small [`GpuBackend`] trait.
//!
//! Volta and newer GPUs have a total-energy counter (millijoules since the
//! driver loaded); older ones only report instantaneous power, which is then
//! integrated between polls (trapezoid rule at the sampler interval). MIG
//! instances share their physical GPU's counter, so only physical GPUs are
//! read and each MIG instance is listed as ignored instead of counted again.
//!
//! Uncertainty: NVIDIA documents power readings as accurate to ±5 %, used
//! for the counter; integrated power gets ±15 % because on recent parts the
//! power reading is an average over a window that a 100 ms poll samples only
//! partly (Yang et al., "Part-time Power Measurements: nvidia-smi's Lack of
//! Attention", 2024).
//!
//! The NVIDIA library is loaded at run time: on a machine without it,
//! [`NvmlBackend::new`] fails in well under a millisecond with
//! [`EnergyError::Unavailable`] ("unavailable, because …"), never a panic.

use crate::{DomainEnergy, EnergyError, Joules, Meter, Provenance, Skipped, Watts};
use std::time::Instant;

const COUNTER_UNCERTAINTY: f64 = 0.05;
const INTEGRATED_UNCERTAINTY: f64 = 0.15;

/// What a backend knows about one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuDeviceInfo {
    /// Index of the physical GPU (for a MIG instance: its parent's index).
    pub index: u32,
    /// For a MIG instance, its index on the parent; `None` for a physical GPU.
    pub mig_instance: Option<u32>,
    /// Product name.
    pub name: String,
    /// Whether MIG mode is enabled on this physical GPU.
    pub mig_enabled: bool,
}

/// The device calls the GPU meter needs; [`NvmlBackend`] implements them with
/// NVML, tests with a fake device.
pub trait GpuBackend: Send {
    /// Physical GPUs and MIG instances.
    fn devices(&mut self) -> Result<Vec<GpuDeviceInfo>, EnergyError>;
    /// Total energy of physical GPU `index` since the driver loaded, or `None`
    /// when the device has no energy counter.
    fn total_energy(&mut self, index: u32) -> Result<Option<Joules>, EnergyError>;
    /// Current power of physical GPU `index`.
    fn power(&mut self, index: u32) -> Result<Watts, EnergyError>;
}

/// [`GpuBackend`] over NVML (nvml-wrapper), with the library loaded at run time.
pub struct NvmlBackend {
    nvml: nvml_wrapper::Nvml,
}

impl std::fmt::Debug for NvmlBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NvmlBackend")
    }
}

fn gpu_err(index: u32, e: nvml_wrapper::error::NvmlError) -> EnergyError {
    EnergyError::Gpu {
        device: format!("gpu:{index}"),
        message: e.to_string(),
    }
}

impl NvmlBackend {
    /// Load and initialise NVML.
    pub fn new() -> Result<NvmlBackend, EnergyError> {
        match nvml_wrapper::Nvml::init() {
            Ok(nvml) => Ok(NvmlBackend { nvml }),
            Err(e) => Err(EnergyError::Unavailable {
                source_name: "nvml".into(),
                message: format!(
                    "unavailable, because the NVIDIA management library could not be loaded or \
                     initialised ({e}); install the NVIDIA driver to measure GPUs"
                ),
            }),
        }
    }
}

impl GpuBackend for NvmlBackend {
    fn devices(&mut self) -> Result<Vec<GpuDeviceInfo>, EnergyError> {
        let count = self
            .nvml
            .device_count()
            .map_err(|e| EnergyError::Unavailable {
                source_name: "nvml".into(),
                message: format!("cannot count GPUs: {e}"),
            })?;
        let mut out = Vec::new();
        for index in 0..count {
            let dev = self
                .nvml
                .device_by_index(index)
                .map_err(|e| gpu_err(index, e))?;
            let name = dev.name().unwrap_or_else(|_| "unknown GPU".into());
            // NotSupported means a GPU without MIG: not an error.
            let mig_enabled = dev.mig_mode().map(|m| m.current == 1).unwrap_or(false);
            out.push(GpuDeviceInfo {
                index,
                mig_instance: None,
                name: name.clone(),
                mig_enabled,
            });
            if mig_enabled {
                let max = dev.mig_device_count().unwrap_or(0);
                for m in 0..max {
                    if let Ok(mig) = dev.mig_device_by_index(m) {
                        out.push(GpuDeviceInfo {
                            index,
                            mig_instance: Some(m),
                            name: mig.name().unwrap_or_else(|_| name.clone()),
                            mig_enabled: true,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    fn total_energy(&mut self, index: u32) -> Result<Option<Joules>, EnergyError> {
        let dev = self
            .nvml
            .device_by_index(index)
            .map_err(|e| gpu_err(index, e))?;
        match dev.total_energy_consumption() {
            Ok(mj) => Ok(Some(Joules(mj as f64 / 1e3))),
            Err(nvml_wrapper::error::NvmlError::NotSupported) => Ok(None),
            Err(e) => Err(gpu_err(index, e)),
        }
    }

    fn power(&mut self, index: u32) -> Result<Watts, EnergyError> {
        let dev = self
            .nvml
            .device_by_index(index)
            .map_err(|e| gpu_err(index, e))?;
        dev.power_usage()
            .map(|mw| Watts(mw as f64 / 1e3))
            .map_err(|e| gpu_err(index, e))
    }
}

#[derive(Debug)]
enum Mode {
    Counter { last_raw: Joules },
    Power { last_power: Watts },
}

#[derive(Debug)]
struct GpuState {
    index: u32,
    domain: String,
    mode: Mode,
    total: Joules,
}

/// Cumulative energy of every physical GPU of a [`GpuBackend`].
pub struct GpuMeter {
    backend: Box<dyn GpuBackend>,
    gpus: Vec<GpuState>,
    ignored: Vec<Skipped>,
    last: Instant,
}

impl std::fmt::Debug for GpuMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuMeter")
            .field("gpus", &self.gpus)
            .field("ignored", &self.ignored)
            .finish()
    }
}

impl GpuMeter {
    /// A meter over NVML; fails with "unavailable, because …" when the library
    /// or a usable GPU is missing.
    pub fn nvml() -> Result<GpuMeter, EnergyError> {
        GpuMeter::new(Box::new(NvmlBackend::new()?))
    }

    /// A meter over any backend. Each physical GPU uses its energy counter when
    /// it has one, else power integration; GPUs that answer neither are ignored
    /// (with the reason), and an error is returned when none is usable.
    pub fn new(mut backend: Box<dyn GpuBackend>) -> Result<GpuMeter, EnergyError> {
        GpuMeter::new_at(backend.as_mut(), Instant::now()).map(|(gpus, ignored, last)| GpuMeter {
            backend,
            gpus,
            ignored,
            last,
        })
    }

    #[allow(clippy::type_complexity)]
    fn new_at(
        backend: &mut dyn GpuBackend,
        now: Instant,
    ) -> Result<(Vec<GpuState>, Vec<Skipped>, Instant), EnergyError> {
        let mut gpus = Vec::new();
        let mut ignored = Vec::new();
        for info in backend.devices()? {
            let domain = format!("gpu:{}", info.index);
            if let Some(m) = info.mig_instance {
                ignored.push(Skipped {
                    source: format!("nvml {domain} MIG instance {m} ({})", info.name),
                    reason: format!(
                        "MIG instances share the physical GPU's counter, counted once as {domain}"
                    ),
                });
                continue;
            }
            // Prefer the energy counter; fall back to power integration when the
            // device has none or refuses to report it.
            let counter = backend.total_energy(info.index);
            let mode = match counter {
                Ok(Some(raw)) => Mode::Counter { last_raw: raw },
                other => match backend.power(info.index) {
                    Ok(p) => Mode::Power { last_power: p },
                    Err(e) => {
                        let why = match other {
                            Err(c) => format!("energy counter: {c}; power: {e}"),
                            _ => format!("no energy counter and no power reading: {e}"),
                        };
                        ignored.push(Skipped {
                            source: format!("nvml {domain} ({})", info.name),
                            reason: why,
                        });
                        continue;
                    }
                },
            };
            gpus.push(GpuState {
                index: info.index,
                domain,
                mode,
                total: Joules::ZERO,
            });
        }
        if gpus.is_empty() {
            let why = if ignored.is_empty() {
                "no GPU found".to_string()
            } else {
                ignored
                    .iter()
                    .map(|s| format!("{}: {}", s.source, s.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            return Err(EnergyError::Unavailable {
                source_name: "nvml".into(),
                message: format!("unavailable, because no GPU can be measured ({why})"),
            });
        }
        Ok((gpus, ignored, now))
    }

    /// GPUs or MIG instances found but not read, with why.
    pub fn ignored(&self) -> &[Skipped] {
        &self.ignored
    }

    /// Read every GPU as of `now` (the instant used for power integration).
    pub fn read_at(&mut self, now: Instant) -> Result<Vec<DomainEnergy>, EnergyError> {
        let dt = now.saturating_duration_since(self.last);
        self.last = now;
        let mut out = Vec::with_capacity(self.gpus.len());
        for g in &mut self.gpus {
            let (provenance, uncertainty) = match &mut g.mode {
                Mode::Counter { last_raw } => {
                    let raw = self.backend.total_energy(g.index)?.unwrap_or(*last_raw);
                    // A counter that goes back means the driver reloaded: count from zero.
                    let delta = if raw.0 >= last_raw.0 {
                        raw - *last_raw
                    } else {
                        raw
                    };
                    g.total += delta;
                    *last_raw = raw;
                    (Provenance::Counter, COUNTER_UNCERTAINTY)
                }
                Mode::Power { last_power } => {
                    let p = self.backend.power(g.index)?;
                    g.total += Watts((last_power.0 + p.0) / 2.0).over(dt);
                    *last_power = p;
                    (Provenance::IntegratedPower, INTEGRATED_UNCERTAINTY)
                }
            };
            out.push(DomainEnergy {
                domain: g.domain.clone(),
                joules: g.total,
                provenance,
                uncertainty,
            });
        }
        Ok(out)
    }
}

impl Meter for GpuMeter {
    fn name(&self) -> &str {
        "nvml"
    }
    fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError> {
        self.read_at(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// A fake GPU: `energy` is `None` for a device without counter.
    #[derive(Clone)]
    struct FakeGpu {
        info: GpuDeviceInfo,
        energy: Option<f64>,
        power: f64,
    }

    #[derive(Clone, Default)]
    struct FakeBackend(Arc<Mutex<Vec<FakeGpu>>>);

    impl FakeBackend {
        fn add(&self, index: u32, mig: Option<u32>, energy: Option<f64>, power: f64) {
            self.0.lock().unwrap().push(FakeGpu {
                info: GpuDeviceInfo {
                    index,
                    mig_instance: mig,
                    name: "Fake GPU".into(),
                    mig_enabled: mig.is_some(),
                },
                energy,
                power,
            });
        }
        fn set(&self, index: u32, energy: Option<f64>, power: f64) {
            for g in self.0.lock().unwrap().iter_mut() {
                if g.info.index == index {
                    g.energy = energy;
                    g.power = power;
                }
            }
        }
    }

    impl GpuBackend for FakeBackend {
        fn devices(&mut self) -> Result<Vec<GpuDeviceInfo>, EnergyError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|g| g.info.clone())
                .collect())
        }
        fn total_energy(&mut self, index: u32) -> Result<Option<Joules>, EnergyError> {
            let gpus = self.0.lock().unwrap();
            let g = gpus
                .iter()
                .find(|g| g.info.index == index && g.info.mig_instance.is_none());
            Ok(g.and_then(|g| g.energy).map(Joules))
        }
        fn power(&mut self, index: u32) -> Result<Watts, EnergyError> {
            let gpus = self.0.lock().unwrap();
            match gpus
                .iter()
                .find(|g| g.info.index == index && g.info.mig_instance.is_none())
            {
                Some(g) if g.power >= 0.0 => Ok(Watts(g.power)),
                _ => Err(EnergyError::Gpu {
                    device: format!("gpu:{index}"),
                    message: "NotSupported".into(),
                }),
            }
        }
    }

    fn meter(fake: &FakeBackend, t0: Instant) -> GpuMeter {
        let mut b: Box<dyn GpuBackend> = Box::new(fake.clone());
        let (gpus, ignored, last) = GpuMeter::new_at(b.as_mut(), t0).unwrap();
        GpuMeter {
            backend: b,
            gpus,
            ignored,
            last,
        }
    }

    #[test]
    fn counter_is_used_when_present() {
        let fake = FakeBackend::default();
        fake.add(0, None, Some(1000.0), 300.0);
        let t0 = Instant::now();
        let mut m = meter(&fake, t0);
        fake.set(0, Some(1030.0), 999.0);
        let r = m.read_at(t0 + Duration::from_millis(100)).unwrap();
        assert_eq!(r[0].domain, "gpu:0");
        assert_eq!(r[0].joules, Joules(30.0), "counter, not power × time");
        assert_eq!(r[0].provenance, Provenance::Counter);
    }

    #[test]
    fn power_is_integrated_without_counter() {
        let fake = FakeBackend::default();
        fake.add(0, None, None, 100.0);
        let t0 = Instant::now();
        let mut m = meter(&fake, t0);
        fake.set(0, None, 200.0);
        let r = m.read_at(t0 + Duration::from_secs(2)).unwrap();
        assert!(
            (r[0].joules.0 - 300.0).abs() < 1e-9,
            "trapezoid (100+200)/2 × 2 s: {r:?}"
        );
        assert_eq!(r[0].provenance, Provenance::IntegratedPower);
        assert_eq!(r[0].uncertainty, INTEGRATED_UNCERTAINTY);
    }

    #[test]
    fn two_gpus_each_get_a_domain() {
        let fake = FakeBackend::default();
        fake.add(0, None, Some(0.0), 0.0);
        fake.add(1, None, None, 50.0);
        let t0 = Instant::now();
        let mut m = meter(&fake, t0);
        fake.set(0, Some(10.0), 0.0);
        let r = m.read_at(t0 + Duration::from_secs(1)).unwrap();
        let names: Vec<_> = r.iter().map(|d| d.domain.as_str()).collect();
        assert_eq!(names, ["gpu:0", "gpu:1"]);
        assert_eq!(r[0].joules, Joules(10.0));
        assert_eq!(r[1].joules, Joules(50.0));
    }

    #[test]
    fn mig_instances_are_not_counted_twice() {
        let fake = FakeBackend::default();
        fake.add(0, None, Some(0.0), 0.0);
        fake.add(0, Some(0), None, 0.0);
        fake.add(0, Some(1), None, 0.0);
        let t0 = Instant::now();
        let mut m = meter(&fake, t0);
        fake.set(0, Some(40.0), 0.0);
        let r = m.read_at(t0 + Duration::from_secs(1)).unwrap();
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].joules, Joules(40.0));
        assert_eq!(m.ignored().len(), 2);
        assert!(m.ignored()[0].reason.contains("counted once as gpu:0"));
    }

    #[test]
    fn driver_reload_does_not_go_negative() {
        let fake = FakeBackend::default();
        fake.add(0, None, Some(500.0), 0.0);
        let t0 = Instant::now();
        let mut m = meter(&fake, t0);
        fake.set(0, Some(510.0), 0.0);
        m.read_at(t0 + Duration::from_secs(1)).unwrap();
        fake.set(0, Some(3.0), 0.0);
        let r = m.read_at(t0 + Duration::from_secs(2)).unwrap();
        assert_eq!(r[0].joules, Joules(13.0));
    }

    #[test]
    fn no_usable_gpu_is_unavailable() {
        let fake = FakeBackend::default();
        fake.add(0, None, None, -1.0);
        let mut b: Box<dyn GpuBackend> = Box::new(fake);
        let err = GpuMeter::new_at(b.as_mut(), Instant::now()).unwrap_err();
        assert!(err.to_string().contains("unavailable, because"), "{err}");
    }

    #[test]
    fn missing_library_is_unavailable_not_a_panic() {
        // On machines with a driver this succeeds; either way nothing panics.
        match NvmlBackend::new() {
            Ok(_) => {}
            Err(e) => assert!(e.to_string().contains("unavailable, because"), "{e}"),
        }
    }
}
