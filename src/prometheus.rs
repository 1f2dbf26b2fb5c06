//! Prometheus text exposition of a run: energy, power, step, metric, forecast
//! and stop state, served over HTTP so a cluster's Prometheus scrapes every
//! node of a multi-node job.
//!
//! The exporter binds to localhost unless told otherwise (a bare port such as
//! `"9184"` means `127.0.0.1:9184`): energy figures of a machine are not for
//! the whole network by default. It runs one small thread that answers
//! `GET /metrics` with the latest [`MetricsSnapshot`] rendered as text
//! (format 0.0.4); it stops when the [`Exporter`] is dropped. [`PrometheusSink`] feeds it
//! a run's events ([`RunBuilder::prometheus`](crate::RunBuilder::prometheus)).
//!
//! Behind the cargo feature `prometheus` (off by default), so a training binary that does
//! not export carries no HTTP server.
//!
//! ```
//! use snuffer::prometheus::{DomainSnapshot, Exporter, MetricsSnapshot};
//! use snuffer::energy::{Joules, Provenance, Watts};
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

use crate::energy::{Joules, Provenance, Sampler, Watts};
use snuffer_rundir::ForecastRecord;
use std::fmt::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Address used when none is given: localhost only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9184";

/// Content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

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
    /// Every domain of a running sampler: cumulative energy at its latest
    /// sample and mean power over the `window` before it.
    pub fn from_sampler(sampler: &Sampler, window: Duration) -> Vec<DomainSnapshot> {
        let energy = sampler.cumulative_at(sampler.latest());
        let power = sampler.recent_power(window);
        energy
            .domains
            .into_iter()
            .map(|d| DomainSnapshot {
                power: power
                    .domains
                    .iter()
                    .find(|p| p.domain == d.domain)
                    .map(|p| p.power),
                name: d.domain,
                energy: d.joules,
                provenance: d.provenance,
                uncertainty: d.uncertainty,
            })
            .collect()
    }
}

/// Escapes a label value (backslash, double quote, newline), per the format.
fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value: Prometheus spells the non-finite ones `NaN`, `+Inf`, `-Inf`.
fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        // Writing to a String cannot fail.
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
            .collect();
        let _ = writeln!(self.out, "{name}{{{}}} {}", labels.join(","), value(v));
    }
}

/// Renders a snapshot in the Prometheus text exposition format (0.0.4).
pub fn render(s: &MetricsSnapshot) -> String {
    let mut out = String::with_capacity(2048);
    let mut f = Family { out: &mut out };
    let run = s.run.as_str();
    if !s.domains.is_empty() {
        f.head(
            "snuffer_energy_joules_total",
            "counter",
            "Energy used by the run since it started, per domain, in joules.",
        );
        for d in &s.domains {
            f.sample(
                "snuffer_energy_joules_total",
                &[
                    ("run", run),
                    ("domain", &d.name),
                    ("provenance", d.provenance.label()),
                ],
                d.energy.0,
            );
        }
        f.head(
            "snuffer_energy_relative_uncertainty",
            "gauge",
            "Relative standard uncertainty of each domain's energy (0.4 = 40 %).",
        );
        for d in &s.domains {
            f.sample(
                "snuffer_energy_relative_uncertainty",
                &[
                    ("run", run),
                    ("domain", &d.name),
                    ("provenance", d.provenance.label()),
                ],
                d.uncertainty,
            );
        }
        if s.domains.iter().any(|d| d.power.is_some()) {
            f.head(
                "snuffer_power_watts",
                "gauge",
                "Recent power per domain, in watts.",
            );
            for d in &s.domains {
                if let Some(p) = d.power {
                    f.sample(
                        "snuffer_power_watts",
                        &[
                            ("run", run),
                            ("domain", &d.name),
                            ("provenance", d.provenance.label()),
                        ],
                        p.0,
                    );
                }
            }
        }
    }
    f.head("snuffer_steps_total", "counter", "Optimizer steps done.");
    f.sample("snuffer_steps_total", &[("run", run)], s.step as f64);
    f.head(
        "snuffer_elapsed_seconds",
        "gauge",
        "Seconds since the run started.",
    );
    f.sample(
        "snuffer_elapsed_seconds",
        &[("run", run)],
        s.elapsed.as_secs_f64(),
    );
    let metric = s.metric_name.as_deref().unwrap_or("metric");
    if let Some(m) = s.metric {
        f.head(
            "snuffer_metric",
            "gauge",
            "Latest value of the monitored metric.",
        );
        f.sample("snuffer_metric", &[("run", run), ("metric", metric)], m);
    }
    if let Some(m) = s.best_metric {
        f.head(
            "snuffer_metric_best",
            "gauge",
            "Best value of the monitored metric so far.",
        );
        f.sample(
            "snuffer_metric_best",
            &[("run", run), ("metric", metric)],
            m,
        );
    }
    if let Some(fc) = &s.forecast {
        f.head(
            "snuffer_forecast_metric",
            "gauge",
            "Forecast of the metric at the planned end: median and the central interval's bounds.",
        );
        let level = format!("{}", fc.level);
        for (bound, v) in [("median", fc.median), ("lo", fc.lo), ("hi", fc.hi)] {
            f.sample(
                "snuffer_forecast_metric",
                &[
                    ("run", run),
                    ("metric", metric),
                    ("bound", bound),
                    ("level", &level),
                ],
                v,
            );
        }
        f.head(
            "snuffer_forecast_target_step",
            "gauge",
            "Step the forecast is for.",
        );
        f.sample(
            "snuffer_forecast_target_step",
            &[("run", run)],
            fc.target_step,
        );
    }
    f.head(
        "snuffer_stopped",
        "gauge",
        "1 once the stop policy has stopped the run, else 0.",
    );
    f.sample(
        "snuffer_stopped",
        &[
            ("run", run),
            ("policy", s.stop_policy.as_deref().unwrap_or("")),
        ],
        if s.stopped { 1.0 } else { 0.0 },
    );
    out
}

/// Resolves an exporter address; a bare port means localhost.
fn resolve(addr: &str) -> std::io::Result<SocketAddr> {
    let addr = addr.trim();
    let full = if addr.parse::<u16>().is_ok() {
        format!("127.0.0.1:{addr}")
    } else {
        addr.to_string()
    };
    full.to_socket_addrs()
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("prometheus exporter address {addr:?}: {e}; use HOST:PORT such as {DEFAULT_ADDR}"),
            )
        })?
        .next()
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("prometheus exporter address {addr:?} resolves to nothing; use HOST:PORT such as {DEFAULT_ADDR}"),
            )
        })
}

/// A running exporter; stops serving when dropped.
pub struct Exporter {
    server: Arc<tiny_http::Server>,
    body: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Exporter {
    /// Binds `addr` (`HOST:PORT`, or a bare port for localhost) and starts serving.
    ///
    /// Errors (as `std::io::Error` with the address in the message): the
    /// address does not resolve or the port is taken.
    pub fn serve(addr: &str) -> std::io::Result<Exporter> {
        let sock = resolve(addr)?;
        let server = tiny_http::Server::http(sock).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!("prometheus exporter cannot listen on {sock}: {e}; pick a free port or stop what holds it"),
            )
        })?;
        let bound = server.server_addr().to_ip().unwrap_or(sock);
        let server = Arc::new(server);
        let body = Arc::new(Mutex::new(render(&MetricsSnapshot::default())));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (server, body, stop) = (server.clone(), body.clone(), stop.clone());
            std::thread::Builder::new()
                .name("snuffer-prometheus".into())
                .spawn(move || serve_loop(&server, &body, &stop))?
        };
        Ok(Exporter {
            server,
            body,
            stop,
            thread: Some(thread),
            addr: bound,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces what the next scrape sees.
    pub fn update(&self, snapshot: &MetricsSnapshot) {
        let text = render(snapshot);
        // A poisoned lock only means a scrape panicked mid-read; the text is still whole.
        let mut guard = self.body.lock().unwrap_or_else(|p| p.into_inner());
        *guard = text;
    }
}

fn serve_loop(server: &tiny_http::Server, body: &Mutex<String>, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        let request = match server.recv_timeout(Duration::from_millis(250)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(_) => break,
        };
        let path = request.url().split('?').next().unwrap_or("");
        let response = if *request.method() != tiny_http::Method::Get {
            tiny_http::Response::from_string("only GET is served\n").with_status_code(405)
        } else if path == "/metrics" || path == "/" {
            let text = body.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let mut r = tiny_http::Response::from_string(text);
            if let Ok(h) =
                tiny_http::Header::from_bytes(&b"Content-Type"[..], CONTENT_TYPE.as_bytes())
            {
                r = r.with_header(h);
            }
            r
        } else {
            tiny_http::Response::from_string("not found: scrape /metrics\n").with_status_code(404)
        };
        // A client that hung up mid-response is its own problem, not the run's.
        let _ = request.respond(response);
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

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
        let domains = e
            .energy
            .domains
            .iter()
            .map(|d| DomainSnapshot {
                name: d.domain.clone(),
                energy: d.joules,
                power: e.power.and_then(|p| {
                    p.domains
                        .iter()
                        .find(|q| q.domain == d.domain)
                        .map(|q| q.power)
                }),
                provenance: d.provenance.clone(),
                uncertainty: d.uncertainty,
            })
            .collect();
        self.exporter.update(&MetricsSnapshot {
            run: e.name.to_string(),
            step: e.line.step,
            elapsed: e.elapsed,
            domains,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::{Read, Write};

    /// A sample line parsed back: name, labels, value.
    type Sample = (String, BTreeMap<String, String>, f64);

    /// A small parser for the text format: enough to check what we serve.
    fn parse(text: &str) -> (BTreeMap<String, (String, String)>, Vec<Sample>) {
        let mut families = BTreeMap::new();
        let mut helps = BTreeMap::new();
        let mut samples = Vec::new();
        for line in text.lines().filter(|l| !l.is_empty()) {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("HELP has a name and text");
                helps.insert(name.to_string(), help.to_string());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE has a name and kind");
                assert!(
                    ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                    "bad type {kind}"
                );
                let help = helps.get(name).cloned().expect("HELP comes before TYPE");
                families.insert(name.to_string(), (kind.to_string(), help));
            } else {
                assert!(!line.starts_with('#'), "unexpected comment {line}");
                let (head, v) = line.rsplit_once(' ').expect("sample has a value");
                let v: f64 = match v {
                    "NaN" => f64::NAN,
                    "+Inf" => f64::INFINITY,
                    "-Inf" => f64::NEG_INFINITY,
                    v => v.parse().expect("numeric value"),
                };
                let (name, labels) = match head.split_once('{') {
                    Some((n, l)) => (n, l.strip_suffix('}').expect("closing brace")),
                    None => (head, ""),
                };
                let mut map = BTreeMap::new();
                let mut rest = labels;
                while !rest.is_empty() {
                    let (k, after) = rest.split_once("=\"").expect("label=\"value\"");
                    let mut val = String::new();
                    let mut chars = after.char_indices();
                    let mut end = None;
                    while let Some((i, c)) = chars.next() {
                        match c {
                            '\\' => match chars.next().map(|x| x.1) {
                                Some('n') => val.push('\n'),
                                Some(o) => val.push(o),
                                None => panic!("dangling escape"),
                            },
                            '"' => {
                                end = Some(i);
                                break;
                            }
                            c => val.push(c),
                        }
                    }
                    let end = end.expect("closing quote");
                    map.insert(k.to_string(), val);
                    rest = after[end + 1..].trim_start_matches(',');
                }
                assert!(
                    families.contains_key(name),
                    "{name} has no TYPE line before it"
                );
                samples.push((name.to_string(), map, v));
            }
        }
        (families, samples)
    }

    fn snapshot() -> MetricsSnapshot {
        MetricsSnapshot {
            run: "mnist \"small\"\nrun".into(),
            step: 1200,
            elapsed: Duration::from_millis(61_500),
            domains: vec![
                DomainSnapshot {
                    name: "cpu-estimate".into(),
                    energy: Joules(2100.0),
                    power: Some(Watts(35.0)),
                    provenance: Provenance::Estimated { model: "x".into() },
                    uncertainty: 0.4,
                },
                DomainSnapshot {
                    name: "gpu:0".into(),
                    energy: Joules(14_760.25),
                    power: None,
                    provenance: Provenance::Counter,
                    uncertainty: 0.05,
                },
            ],
            metric_name: Some("val_acc".into()),
            metric: Some(0.91),
            best_metric: Some(0.92),
            forecast: Some(ForecastRecord {
                target_step: 3000.0,
                median: 0.94,
                lo: 0.93,
                hi: 0.95,
                level: 0.8,
                asymptote: None,
                path: vec![],
            }),
            stopped: true,
            stop_policy: Some("marginal-gain".into()),
        }
    }

    fn scrape(addr: SocketAddr, path: &str) -> (String, String) {
        let mut conn = std::net::TcpStream::connect(addr).expect("connect");
        write!(conn, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send");
        let mut raw = String::new();
        conn.read_to_string(&mut raw).expect("read");
        let (head, body) = raw.split_once("\r\n\r\n").expect("http response");
        (head.to_string(), body.to_string())
    }

    #[test]
    fn rendered_text_parses_and_carries_every_family() {
        let (families, samples) = parse(&render(&snapshot()));
        for (name, kind) in [
            ("snuffer_energy_joules_total", "counter"),
            ("snuffer_power_watts", "gauge"),
            ("snuffer_steps_total", "counter"),
            ("snuffer_metric", "gauge"),
            ("snuffer_forecast_metric", "gauge"),
            ("snuffer_stopped", "gauge"),
        ] {
            assert_eq!(
                families.get(name).map(|f| f.0.as_str()),
                Some(kind),
                "{name}"
            );
        }
        let gpu = samples
            .iter()
            .find(|s| s.0 == "snuffer_energy_joules_total" && s.1["domain"] == "gpu:0")
            .expect("gpu energy");
        assert_eq!(gpu.2, 14_760.25);
        assert_eq!(gpu.1["provenance"], "counter");
        assert_eq!(
            gpu.1["run"], "mnist \"small\"\nrun",
            "label escaping round-trips"
        );
        // Only the domain with a power reading has a power sample.
        assert_eq!(
            samples
                .iter()
                .filter(|s| s.0 == "snuffer_power_watts")
                .count(),
            1
        );
        let stopped = samples
            .iter()
            .find(|s| s.0 == "snuffer_stopped")
            .expect("stop state");
        assert_eq!(
            (stopped.2, stopped.1["policy"].as_str()),
            (1.0, "marginal-gain")
        );
        let median = samples
            .iter()
            .find(|s| s.0 == "snuffer_forecast_metric" && s.1["bound"] == "median")
            .expect("median");
        assert_eq!(median.2, 0.94);
    }

    #[test]
    fn serves_over_loopback_updates_and_stops_on_drop() {
        let exporter = Exporter::serve("127.0.0.1:0").expect("bind");
        let addr = exporter.local_addr();
        assert!(addr.ip().is_loopback());
        let (head, body) = scrape(addr, "/metrics");
        assert!(
            head.starts_with("HTTP/1.") && head.contains(" 200"),
            "{head}"
        );
        assert!(
            head.to_ascii_lowercase()
                .contains("text/plain; version=0.0.4"),
            "{head}"
        );
        let (_, samples) = parse(&body);
        let steps = samples
            .iter()
            .find(|s| s.0 == "snuffer_steps_total")
            .expect("steps");
        assert_eq!(steps.2, 0.0);

        exporter.update(&snapshot());
        let (_, body) = scrape(addr, "/metrics");
        let (_, samples) = parse(&body);
        let steps = samples
            .iter()
            .find(|s| s.0 == "snuffer_steps_total")
            .expect("steps");
        assert_eq!(steps.2, 1200.0);
        assert!(samples
            .iter()
            .any(|s| s.0 == "snuffer_metric" && s.2 == 0.91));

        let (head, _) = scrape(addr, "/nope");
        assert!(head.contains(" 404"), "{head}");

        drop(exporter);
        // tiny_http's accept thread closes the socket right after the drop
        // wakes it; allow it a moment.
        let closed = (0..100).any(|_| {
            let refused =
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err();
            if !refused {
                std::thread::sleep(Duration::from_millis(20));
            }
            refused
        });
        assert!(closed, "still listening 2 s after drop");
    }

    #[test]
    fn bare_port_means_localhost_and_bad_addresses_say_so() {
        assert_eq!(resolve("9184").unwrap(), "127.0.0.1:9184".parse().unwrap());
        let err = resolve("not an address").unwrap_err().to_string();
        assert!(err.contains("HOST:PORT"), "{err}");
    }

    #[test]
    fn sampler_domains_carry_energy_power_and_provenance() {
        use crate::energy::{ConstantMeter, Meter, SamplerConfig};
        let meter: Box<dyn Meter> = Box::new(ConstantMeter::new("gpu:0", Watts(100.0)).unwrap());
        let sampler = Sampler::start(
            vec![meter],
            SamplerConfig::default().with_interval(Duration::from_millis(5)),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(60));
        sampler.poll_now();
        let domains = DomainSnapshot::from_sampler(&sampler, Duration::from_millis(40));
        assert_eq!(domains.len(), 1);
        let d = &domains[0];
        assert_eq!(d.name, "gpu:0");
        assert!(d.energy.0 > 3.0, "≈ 100 W × 60 ms, got {}", d.energy.0);
        let p = d.power.expect("power").0;
        assert!((50.0..=150.0).contains(&p), "power {p}");
    }

    #[test]
    fn non_finite_values_use_prometheus_spelling() {
        assert_eq!(value(f64::NAN), "NaN");
        assert_eq!(value(f64::INFINITY), "+Inf");
        assert_eq!(value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(value(2.5), "2.5");
    }
}
