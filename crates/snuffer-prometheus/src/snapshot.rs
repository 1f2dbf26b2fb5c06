//! [`MetricsSnapshot`]: the state the exporter serves, as of one moment.

use snuffer_energy::{EnergyReport, Joules, PowerReport, Provenance, Sampler, Watts};
use snuffer_rundir::ForecastRecord;
use std::time::Duration;

/// One energy domain at the time of a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainSnapshot {
    /// Domain name (`cpu-package:0`, `gpu:0`, `cpu-estimate`, …).
    pub name: String,
    /// Cumulative energy since the run started.
    pub energy: Joules,
    /// Recent power, if known.
    pub power: Option<Watts>,
    /// How the energy was obtained.
    pub provenance: Provenance,
    /// Relative standard uncertainty (0.4 = ±40 %).
    pub uncertainty: f64,
}

/// Everything the exporter serves, as of one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    /// Run name (the `run` label on every sample).
    pub run: String,
    /// Optimizer steps done.
    pub step: u64,
    /// Time since the run started.
    pub elapsed: Duration,
    /// Energy per domain.
    pub domains: Vec<DomainSnapshot>,
    /// Name of the monitored metric.
    pub metric_name: Option<String>,
    /// Latest value of the monitored metric.
    pub metric: Option<f64>,
    /// Best value so far.
    pub best_metric: Option<f64>,
    /// Latest forecast of the metric at the planned end.
    pub forecast: Option<ForecastRecord>,
    /// Whether the policy has stopped the run.
    pub stopped: bool,
    /// Policy that stopped it.
    pub stop_policy: Option<String>,
}

impl DomainSnapshot {
    /// Every domain of an energy report, with its power from `power` when that has a
    /// reading for it.
    ///
    /// ```
    /// use snuffer_energy::{ConstantMeter, Meter, Sampler, SamplerConfig, Watts};
    /// use snuffer_prometheus::DomainSnapshot;
    /// let meter: Box<dyn Meter> = Box::new(ConstantMeter::new("gpu:0", Watts(100.0))?);
    /// let sampler = Sampler::start(vec![meter], SamplerConfig::default())?;
    /// let domains = DomainSnapshot::from_report(&sampler.cumulative_at(sampler.latest()), None);
    /// assert_eq!((domains[0].name.as_str(), domains[0].power), ("gpu:0", None));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_report(energy: &EnergyReport, power: Option<&PowerReport>) -> Vec<DomainSnapshot> {
        energy
            .domains
            .iter()
            .map(|d| DomainSnapshot {
                name: d.domain.clone(),
                energy: d.joules,
                power: power.and_then(|p| {
                    p.domains
                        .iter()
                        .find(|q| q.domain == d.domain)
                        .map(|q| q.power)
                }),
                provenance: d.provenance.clone(),
                uncertainty: d.uncertainty,
            })
            .collect()
    }

    /// Every domain of a running sampler: cumulative energy at its latest sample and mean
    /// power over the `window` before it.
    pub fn from_sampler(sampler: &Sampler, window: Duration) -> Vec<DomainSnapshot> {
        let energy = sampler.cumulative_at(sampler.latest());
        let power = sampler.recent_power(window);
        DomainSnapshot::from_report(&energy, Some(&power))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snuffer_energy::{ConstantMeter, Meter, SamplerConfig};

    #[test]
    fn sampler_domains_carry_energy_power_and_provenance() -> Result<(), Box<dyn std::error::Error>>
    {
        let meter: Box<dyn Meter> = Box::new(ConstantMeter::new("gpu:0", Watts(100.0))?);
        let sampler = Sampler::start(
            vec![meter],
            SamplerConfig::default().with_interval(Duration::from_millis(5)),
        )?;
        std::thread::sleep(Duration::from_millis(60));
        sampler.poll_now();
        let domains = DomainSnapshot::from_sampler(&sampler, Duration::from_millis(40));
        assert_eq!(domains.len(), 1);
        let d = &domains[0];
        assert_eq!(d.name, "gpu:0");
        assert!(d.energy.0 > 3.0, "≈ 100 W × 60 ms, got {}", d.energy.0);
        let p = d.power.ok_or("no power")?.0;
        assert!((50.0..=150.0).contains(&p), "power {p}");
        Ok(())
    }
}
