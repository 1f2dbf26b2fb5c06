//! The snapshot as Prometheus metric families, encoded by `prometheus_client` at each
//! scrape (a [`Collector`]: the values are the snapshot's, not counters kept here).

use crate::snapshot::MetricsSnapshot;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeMetric,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex};

/// Label pairs of one sample.
type Labels<'a> = Vec<(&'static str, &'a str)>;

/// The latest snapshot, shared between whoever updates it and the scrapes.
#[derive(Debug, Default)]
pub(crate) struct SnapshotCollector(pub(crate) Arc<Mutex<MetricsSnapshot>>);

impl SnapshotCollector {
    /// A registry holding only this collector.
    pub(crate) fn registry(shared: Arc<Mutex<MetricsSnapshot>>) -> Registry {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(SnapshotCollector(shared)));
        registry
    }
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // A poisoned lock only means an update panicked mid-way; the snapshot is still whole.
        let s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        encode_energy(&s, &mut encoder)?;
        encode_progress(&s, &mut encoder)?;
        encode_forecast(&s, &mut encoder)
    }
}

/// One family: its descriptor, then one sample per label set. A family without samples
/// is left out.
fn family<N: EncodeCounterValue + EncodeGaugeValue + Copy>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    samples: &[(Labels<'_>, N)],
) -> Result<(), std::fmt::Error> {
    if samples.is_empty() {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, v) in samples {
        let sample = metric.encode_family(labels)?;
        match kind {
            MetricType::Counter => ConstCounter::new(*v).encode(sample)?,
            _ => ConstGauge::new(*v).encode(sample)?,
        }
    }
    Ok(())
}

fn domain_labels<'a>(run: &'a str, d: &'a crate::DomainSnapshot) -> Labels<'a> {
    vec![
        ("run", run),
        ("domain", d.name.as_str()),
        ("provenance", d.provenance.label()),
    ]
}

fn encode_energy(s: &MetricsSnapshot, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
    let labels = |d| domain_labels(&s.run, d);
    let energy: Vec<_> = s.domains.iter().map(|d| (labels(d), d.energy.0)).collect();
    family(
        e,
        "snuffer_energy_joules",
        "Energy used by the run since it started, per domain, in joules.",
        MetricType::Counter,
        &energy,
    )?;
    let uncertainty: Vec<_> = s
        .domains
        .iter()
        .map(|d| (labels(d), d.uncertainty))
        .collect();
    family(
        e,
        "snuffer_energy_relative_uncertainty",
        "Relative standard uncertainty of each domain's energy (0.4 = 40 %).",
        MetricType::Gauge,
        &uncertainty,
    )?;
    let power: Vec<_> = s
        .domains
        .iter()
        .filter_map(|d| Some((labels(d), d.power?.0)))
        .collect();
    family(
        e,
        "snuffer_power_watts",
        "Recent power per domain, in watts.",
        MetricType::Gauge,
        &power,
    )
}

fn encode_progress(s: &MetricsSnapshot, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
    let run = s.run.as_str();
    family(
        e,
        "snuffer_steps",
        "Optimizer steps done.",
        MetricType::Counter,
        &[(vec![("run", run)], s.step)],
    )?;
    family(
        e,
        "snuffer_elapsed_seconds",
        "Seconds since the run started.",
        MetricType::Gauge,
        &[(vec![("run", run)], s.elapsed.as_secs_f64())],
    )?;
    let metric = s.metric_name.as_deref().unwrap_or("metric");
    for (name, help, v) in [
        (
            "snuffer_metric",
            "Latest value of the monitored metric.",
            s.metric,
        ),
        (
            "snuffer_metric_best",
            "Best value of the monitored metric so far.",
            s.best_metric,
        ),
    ] {
        let samples: Vec<_> = v
            .map(|v| (vec![("run", run), ("metric", metric)], v))
            .into_iter()
            .collect();
        family(e, name, help, MetricType::Gauge, &samples)?;
    }
    let policy = s.stop_policy.as_deref().unwrap_or("");
    family(
        e,
        "snuffer_stopped",
        "1 once the stop policy has stopped the run, else 0.",
        MetricType::Gauge,
        &[(
            vec![("run", run), ("policy", policy)],
            if s.stopped { 1.0 } else { 0.0 },
        )],
    )
}

fn encode_forecast(s: &MetricsSnapshot, e: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
    let Some(fc) = &s.forecast else {
        return Ok(());
    };
    let run = s.run.as_str();
    let metric = s.metric_name.as_deref().unwrap_or("metric");
    let level = fc.level.to_string();
    let bounds: Vec<_> = [("median", fc.median), ("lo", fc.lo), ("hi", fc.hi)]
        .into_iter()
        .map(|(bound, v)| {
            let labels = vec![
                ("run", run),
                ("metric", metric),
                ("bound", bound),
                ("level", level.as_str()),
            ];
            (labels, v)
        })
        .collect();
    family(
        e,
        "snuffer_forecast_metric",
        "Forecast of the metric at the planned end: median and the central interval's bounds.",
        MetricType::Gauge,
        &bounds,
    )?;
    family(
        e,
        "snuffer_forecast_target_step",
        "Step the forecast is for.",
        MetricType::Gauge,
        &[(vec![("run", run)], fc.target_step)],
    )
}

/// Renders a snapshot in the Prometheus text exposition format (0.0.4), what the exporter
/// serves by default.
///
/// ```
/// use snuffer_prometheus::{render, MetricsSnapshot};
/// let text = render(&MetricsSnapshot { run: "r".into(), step: 7, ..MetricsSnapshot::default() });
/// assert!(text.contains("# TYPE snuffer_steps_total counter\nsnuffer_steps_total{run=\"r\"} 7\n"));
/// ```
pub fn render(s: &MetricsSnapshot) -> String {
    render_with(s, prometheus_client::encoding::prometheus_text::encode)
}

/// Renders a snapshot in the OpenMetrics 1.0 text format (counter families named without
/// `_total`, ending with `# EOF`), what the exporter serves to a scraper that asks for it.
///
/// ```
/// use snuffer_prometheus::{render_openmetrics, MetricsSnapshot};
/// let text = render_openmetrics(&MetricsSnapshot { run: "r".into(), step: 7, ..MetricsSnapshot::default() });
/// assert!(text.contains("# TYPE snuffer_steps counter\nsnuffer_steps_total{run=\"r\"} 7\n"));
/// assert!(text.ends_with("# EOF\n"));
/// ```
pub fn render_openmetrics(s: &MetricsSnapshot) -> String {
    render_with(s, prometheus_client::encoding::text::encode)
}

fn render_with(
    s: &MetricsSnapshot,
    encode: fn(&mut String, &Registry) -> Result<(), std::fmt::Error>,
) -> String {
    encode_shared(&Arc::new(Mutex::new(s.clone())), encode)
}

/// Encodes the shared snapshot with `encode` (either text format).
pub(crate) fn encode_shared(
    shared: &Arc<Mutex<MetricsSnapshot>>,
    encode: fn(&mut String, &Registry) -> Result<(), std::fmt::Error>,
) -> String {
    let registry = SnapshotCollector::registry(shared.clone());
    let mut out = String::with_capacity(2048);
    // Writing to a String cannot fail, and the collector returns no error of its own.
    let _ = encode(&mut out, &registry);
    out
}
