//! The run's one door to energy figures: the `snuffer-energy` sampler behind
//! a small adapter, so the rest of the tracker never touches meters directly.

use crate::Error;
use snuffer_energy::{EnergyReport, Meter, PowerReport, Sampler, SamplerConfig, Skipped};
use std::time::{Duration, Instant};

/// Sampler intervals a run must last before its energy counts as measured.
pub(crate) const MIN_MEASURED_INTERVALS: u32 = 3;

/// A running sampler plus what was chosen and skipped; after [`stop`](Self::stop)
/// only the final reading remains.
pub(crate) struct EnergySource {
    sampler: Option<Sampler>,
    origin: Instant,
    final_report: Option<EnergyReport>,
    /// Names of the meters polled (`rapl`, `nvml`, `cpu-estimate`, `constant`, …).
    pub(crate) meters: Vec<String>,
    /// Domains in report order.
    pub(crate) domains: Vec<String>,
    /// Sources `auto()` did not use, with why (empty for user-given meters).
    pub(crate) skipped: Vec<Skipped>,
    interval: Duration,
}

impl EnergySource {
    /// Start sampling `meters`, or the best meters of this machine when `None`.
    pub(crate) fn start(
        meters: Option<Vec<Box<dyn Meter>>>,
        interval: Duration,
    ) -> Result<EnergySource, Error> {
        let (meters, skipped) = match meters {
            Some(m) => (m, Vec::new()),
            None => {
                let sel = snuffer_energy::auto();
                (sel.meters, sel.skipped)
            }
        };
        if meters.is_empty() {
            let reasons = if skipped.is_empty() {
                "the meter list is empty".to_string()
            } else {
                skipped
                    .iter()
                    .map(|s| format!("{}: {}", s.source, s.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            return Err(Error::NoMeter { reasons });
        }
        let names = meters.iter().map(|m| m.name().to_string()).collect();
        let sampler = Sampler::start(meters, SamplerConfig::default().with_interval(interval))?;
        Ok(EnergySource {
            origin: sampler.started_at(),
            domains: sampler.domains(),
            sampler: Some(sampler),
            final_report: None,
            meters: names,
            skipped,
            interval,
        })
    }

    /// When energy counting began (time zero of the run).
    pub(crate) fn origin(&self) -> Instant {
        self.origin
    }

    /// The polling interval.
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// Cumulative energy per domain at `t` (interpolated between samples;
    /// after a stop, the final reading).
    pub(crate) fn cumulative_at(&self, t: Instant) -> EnergyReport {
        match (&self.sampler, &self.final_report) {
            (Some(s), _) => s.cumulative_at(t),
            (None, Some(r)) => r.clone(),
            (None, None) => EnergyReport::from_domains(Vec::new()),
        }
    }

    /// A fresh reading of every meter: its instant and the energy per domain up to it
    /// (after a stop, the end of the run and the final reading).
    pub(crate) fn read_now(&self) -> (Instant, EnergyReport) {
        match (&self.sampler, &self.final_report) {
            (Some(s), _) => s.read_now(),
            (None, Some(r)) => (Instant::now(), r.clone()),
            (None, None) => (Instant::now(), EnergyReport::from_domains(Vec::new())),
        }
    }

    /// Whether a run `elapsed` long that has used `joules` can be measured: at least
    /// [`MIN_MEASURED_INTERVALS`] sampler intervals long, with energy above zero. Below that
    /// its energy is at the meters' resolution and cadence, and no rule weighs it.
    pub(crate) fn measurable(&self, elapsed: Duration, joules: f64) -> bool {
        elapsed >= self.interval * MIN_MEASURED_INTERVALS && joules > 0.0
    }

    /// Mean power over the recent `window`, while sampling.
    pub(crate) fn recent_power(&self, window: Duration) -> Option<PowerReport> {
        self.sampler.as_ref().map(|s| s.recent_power(window))
    }

    /// Polling errors so far (count, latest message).
    pub(crate) fn errors(&self) -> (u64, Option<String>) {
        self.sampler.as_ref().map_or((0, None), Sampler::errors)
    }

    /// Stop sampling (a last reading is taken) and return the run's total.
    /// Idempotent: later calls return the same total.
    pub(crate) fn stop(&mut self) -> EnergyReport {
        if let Some(s) = self.sampler.take() {
            self.final_report = Some(s.stop());
        }
        self.final_report
            .clone()
            .unwrap_or_else(|| EnergyReport::from_domains(Vec::new()))
    }

    /// Approximate heap held by the sampler's ring after `elapsed`: one sample
    /// per interval (an `Instant`, a boxed slice of one `f64` per domain and the
    /// deque slot), up to its capacity.
    pub(crate) fn approx_heap_bytes(&self, elapsed: Duration) -> usize {
        let cfg = SamplerConfig::default();
        let samples =
            (elapsed.as_secs_f64() / self.interval.as_secs_f64().max(1e-3)).ceil() as usize + 1;
        let samples = samples.min(cfg.capacity).max(cfg.capacity.min(4096));
        let per_sample = std::mem::size_of::<Instant>()
            + 2 * std::mem::size_of::<usize>()
            + 8 * self.domains.len();
        samples * per_sample
    }
}
