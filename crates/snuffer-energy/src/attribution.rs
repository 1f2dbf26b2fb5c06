//! Process attribution: the share of a package counter's energy that belongs
//! to one process (tree).
//!
//! RAPL measures the whole package, other processes included. The share
//! attributed to a process is its CPU time over the machine's busy CPU time
//! (`/proc/stat`) in the same interval, clamped to [0, 1]. Idle power is thus
//! shared among whoever kept the CPU busy, as Scaphandre does.

use crate::cputime::{system_cpu, CpuSource, SystemCpu};
use crate::{EnergyError, Joules};
use std::time::Duration;

/// Tracks a process's share of the machine's CPU work since creation.
#[derive(Debug, Clone)]
pub struct CpuShare {
    source: CpuSource,
    start_cpu: Duration,
    start_sys: SystemCpu,
}

impl CpuShare {
    /// Start counting for `source` (e.g. [`CpuSource::SelfProcess`]).
    pub fn start(source: CpuSource) -> Result<CpuShare, EnergyError> {
        let (start_cpu, _) = source.sample()?;
        Ok(CpuShare {
            start_cpu,
            start_sys: system_cpu()?,
            source,
        })
    }

    /// The process's share of busy CPU time since [`CpuShare::start`], in [0, 1].
    pub fn share(&self) -> Result<f64, EnergyError> {
        let (cpu, _) = self.source.sample()?;
        let sys = system_cpu()?;
        let busy_ticks = sys.busy_ticks.saturating_sub(self.start_sys.busy_ticks);
        let busy = busy_ticks as f64 / crate::cputime::clock_ticks() as f64;
        Ok(share_of(cpu.saturating_sub(self.start_cpu), busy))
    }
}

/// `process` seconds over `busy` seconds, clamped to [0, 1] (the two clocks
/// have different resolutions, so a short window can exceed 1).
pub fn share_of(process: Duration, busy_secs: f64) -> f64 {
    if busy_secs > 0.0 {
        (process.as_secs_f64() / busy_secs).clamp(0.0, 1.0)
    } else if process > Duration::ZERO {
        1.0
    } else {
        0.0
    }
}

/// The energy attributed to a process given its share.
pub fn attributed(package: Joules, share: f64) -> Joules {
    Joules(package.0 * share.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares() {
        let rows = [
            (Duration::from_secs(1), 4.0, 0.25, "quarter of the work"),
            (
                Duration::from_secs(5),
                4.0,
                1.0,
                "coarse clock overshoot is clamped",
            ),
            (Duration::ZERO, 0.0, 0.0, "nothing happened"),
            (
                Duration::from_millis(5),
                0.0,
                1.0,
                "only we ran, below tick resolution",
            ),
        ];
        for (p, busy, want, why) in rows {
            assert_eq!(share_of(p, busy), want, "{why}");
        }
        assert_eq!(attributed(Joules(100.0), 0.25), Joules(25.0));
    }

    #[test]
    fn live_share_is_a_fraction() {
        let s = CpuShare::start(CpuSource::SelfProcess).unwrap();
        let t = std::time::Instant::now();
        while t.elapsed() < Duration::from_millis(30) {}
        let share = s.share().unwrap();
        assert!((0.0..=1.0).contains(&share), "{share}");
    }
}
