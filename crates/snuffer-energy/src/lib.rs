//! Energy measurement for training loops: RAPL counters, NVML GPUs and a
//! labelled CPU estimate, polled by a background [`Sampler`] while the loop
//! only stamps its step boundaries.
//!
//! ```
//! use snuffer_energy::{auto, Sampler, SamplerConfig, StepClock};
//! use std::time::Duration;
//!
//! // Best available meters on this machine (an estimate where no counter exists),
//! // and why every other source was skipped.
//! let selection = auto();
//! for s in &selection.skipped {
//!     println!("skipped {}: {}", s.source, s.reason);
//! }
//! let sampler = Sampler::start(
//!     selection.meters,
//!     SamplerConfig::default().with_interval(Duration::from_millis(10)),
//! )?;
//!
//! let mut clock = StepClock::new();
//! let mut prev = clock.stamp(); // hot path: a clock read, no syscall, no allocation
//! for _ in 0..3 {
//!     let mut x = 0u64;
//!     for i in 0..200_000u64 {
//!         x = std::hint::black_box(x ^ i.wrapping_mul(0x9E37_79B9));
//!     }
//!     let now = clock.stamp();
//!     let step = sampler.energy_of(&prev, &now);
//!     println!("step {}: {} ({}, ±{:.0} %)", now.step, step.total, step.provenance, 100.0 * step.uncertainty);
//!     prev = now;
//! }
//! let total = sampler.stop(); // last reading, thread joined
//! assert!(total.total.0 >= 0.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Sources
//!
//! * [`RaplMeter`]: `/sys/class/powercap` package and dram counters (root
//!   overridable with `SNUFFER_POWERCAP_ROOT`), wraparound-safe ([`WrapCounter`]).
//!   Reading them as non-root needs a group grant; see [`EnergyError::PermissionDenied`].
//!   A udev rule such as
//!   `SUBSYSTEM=="powercap", ACTION=="add", RUN+="/bin/chgrp -R energy /sys%p", RUN+="/bin/chmod -R g+r /sys%p"`
//!   plus membership of the `energy` group does it; never make the files
//!   world-readable (PLATYPUS, CVE-2020-8694).
//! * [`GpuMeter`]: NVML via [`GpuBackend`] (energy counter, else power integration).
//! * [`EstimateMeter`]: CPU time × per-thread power ([`tdp`]) + a RAM term, always available.
//! * [`ConstantMeter`] and [`ReplayMeter`]: user-given power or a recorded trace.
//! * [`CpuShare`]: the share of a package counter attributable to a process.
//!
//! [`auto`] picks among them; [`Sampler`] polls them and answers
//! [`Sampler::energy_between`], [`Sampler::cumulative_at`] and [`Sampler::recent_power`];
//! [`StepEnergy`] is the one estimate of energy per step and of a planned run's total.
#![deny(missing_docs)]

mod attribution;
mod auto;
mod constant;
pub mod cputime;
mod error;
mod estimate;
mod gpu;
pub mod lines;
mod meter;
mod provenance;
mod rapl;
mod replay;
mod report;
mod sampler;
mod stamp;
mod step_energy;
pub mod tdp;
mod units;
mod wrap;

#[cfg(test)]
mod testutil;

pub use attribution::{attributed, share_of, CpuShare};
pub use auto::{auto, auto_with, AutoConfig, AutoSelection, Skipped};
pub use constant::ConstantMeter;
pub use cputime::{CpuSource, ProcessTree};
pub use error::EnergyError;
pub use estimate::{CpuPowerModel, EstimateMeter, ESTIMATE_UNCERTAINTY, RAM_WATTS_PER_GIB};
pub use gpu::{GpuBackend, GpuDeviceInfo, GpuMeter, NvmlBackend};
pub use meter::{DomainEnergy, Meter};
pub use provenance::Provenance;
pub use rapl::{
    powercap_root, RaplMeter, RaplZone, ZoneKind, DEFAULT_POWERCAP_ROOT, POWERCAP_ROOT_ENV,
};
pub use replay::{ReplayMeter, Trace, TraceKind};
pub use report::{DomainPower, EnergyReport, PowerReport};
pub use sampler::{Sampler, SamplerConfig, DEFAULT_CAPACITY, DEFAULT_INTERVAL};
pub use stamp::{Stamp, StepClock};
pub use step_energy::{FullRunEnergy, StepEnergy};
pub use units::{percent, significant, Joules, Watts, DEFAULT_SIGNIFICANT, JOULES_PER_KWH};
pub use wrap::{WrapCounter, DEFAULT_MAX_ZONE_POWER};
