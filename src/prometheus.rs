//! The run's state for Prometheus: [`PrometheusSink`] feeds a
//! [`snuffer_prometheus::Exporter`] at every evaluation (energy and power per domain, step,
//! metric, best, forecast and stop). The exporter, its metrics and formats are
//! [`snuffer_prometheus`]'s, re-exported here.
//!
//! Behind the cargo feature `prometheus` (off by default), so a training binary that does
//! not export carries no HTTP server. [`RunBuilder::prometheus`](crate::RunBuilder::prometheus)
//! builds the sink; [`RunBuilder::sink`](crate::RunBuilder::sink) takes one built here.

pub use snuffer_prometheus::*;

use std::net::SocketAddr;

/// The [`Sink`](crate::sink::Sink) that serves a run's state: energy and power per
/// domain, step, metric, best, forecast and stop, updated at every evaluation.
#[derive(Debug)]
pub struct PrometheusSink {
    exporter: Exporter,
}

impl PrometheusSink {
    /// Serves on `addr` (see [`Exporter::serve`]).
    pub fn serve(addr: &str) -> std::io::Result<PrometheusSink> {
        Ok(PrometheusSink {
            exporter: Exporter::serve(addr)?,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.exporter.local_addr()
    }
}

impl crate::sink::Sink for PrometheusSink {
    fn eval(&mut self, e: &crate::sink::Eval<'_>) -> Result<(), crate::Error> {
        self.exporter.update(&MetricsSnapshot {
            run: e.name.to_string(),
            step: e.line.step,
            elapsed: e.elapsed,
            domains: DomainSnapshot::from_report(e.energy, e.power),
            metric_name: Some(e.metric_name.to_string()),
            metric: Some(e.metric),
            best_metric: e.best.map(|(_, m)| m),
            forecast: e.forecast.cloned(),
            stopped: e.stop.is_some(),
            stop_policy: e.stop.map(|r| r.policy.clone()),
        });
        Ok(())
    }
}
