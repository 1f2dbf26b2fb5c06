//! A Prometheus exporter of a Snuffer run or a measured command: energy, power, step,
//! metric, forecast and stop state, served over HTTP so a cluster's Prometheus scrapes
//! every node of a multi-node job.
//!
//! The exposition is written by the Prometheus project's own
//! [`prometheus_client`] crate: the text format 0.0.4 by default, OpenMetrics 1.0 to a
//! scraper that asks for it (`Accept: application/openmetrics-text`). A [`MetricsSnapshot`]
//! is the state served; [`Exporter`] serves the latest one.
//!
//! The exporter binds to localhost unless told otherwise (a bare port such as `"9184"`
//! means `127.0.0.1:9184`): energy figures of a machine are not for the whole network by
//! default. It runs one small thread that answers `GET /metrics`; it stops when the
//! [`Exporter`] is dropped. The run tracker feeds it through its `PrometheusSink`
//! (`snuffer::prometheus`, cargo feature `prometheus`); `snuffer measure --prometheus`
//! feeds it from the sampler ([`DomainSnapshot::from_sampler`]).
//!
//! # Metrics
//!
//! | name | type | labels |
//! |---|---|---|
//! | `snuffer_energy_joules_total` | counter | `run`, `domain`, `provenance` |
//! | `snuffer_energy_relative_uncertainty` | gauge | `run`, `domain`, `provenance` |
//! | `snuffer_power_watts` | gauge (domains with a reading) | `run`, `domain`, `provenance` |
//! | `snuffer_steps_total` | counter | `run` |
//! | `snuffer_elapsed_seconds` | gauge | `run` |
//! | `snuffer_metric`, `snuffer_metric_best` | gauge (once known) | `run`, `metric` |
//! | `snuffer_forecast_metric` | gauge (once forecast) | `run`, `metric`, `bound` (`median`, `lo`, `hi`), `level` |
//! | `snuffer_forecast_target_step` | gauge (once forecast) | `run` |
//! | `snuffer_stopped` | gauge (1 once a policy stopped the run) | `run`, `policy` |
//!
//! In OpenMetrics a counter's family is named without `_total` (`# TYPE
//! snuffer_energy_joules counter`); its samples keep the names above.
//!
//! ```
//! use snuffer_prometheus::{DomainSnapshot, Exporter, MetricsSnapshot};
//! use snuffer_energy::{Joules, Provenance, Watts};
//! use std::io::{Read, Write};
//!
//! let exporter = Exporter::serve("127.0.0.1:0")?; // port 0: any free port
//! exporter.update(&MetricsSnapshot {
//!     run: "demo".into(),
//!     step: 42,
//!     domains: vec![DomainSnapshot {
//!         name: "gpu:0".into(),
//!         energy: Joules(1234.5),
//!         power: Some(Watts(250.0)),
//!         provenance: Provenance::Counter,
//!         uncertainty: 0.05,
//!     }],
//!     ..MetricsSnapshot::default()
//! });
//! let mut conn = std::net::TcpStream::connect(exporter.local_addr())?;
//! conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
//! let mut body = String::new();
//! conn.read_to_string(&mut body)?;
//! assert!(body.contains("snuffer_energy_joules_total{run=\"demo\",domain=\"gpu:0\",provenance=\"counter\"} 1234.5"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod collect;
mod server;
mod snapshot;

pub use collect::{render, render_openmetrics};
pub use server::{Exporter, CONTENT_TYPE, DEFAULT_ADDR, OPENMETRICS_CONTENT_TYPE};
pub use snapshot::{DomainSnapshot, MetricsSnapshot};
