//! The exporter end to end: what it renders parses back in both formats, it serves over
//! loopback, and abusive scrapes (many at once, malformed, half-sent, wrong method) never
//! stop it from answering the next one.

use snuffer_energy::{Joules, Provenance, Watts};
use snuffer_prometheus::{render, render_openmetrics, DomainSnapshot, Exporter, MetricsSnapshot};
use snuffer_rundir::ForecastRecord;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// A sample line parsed back: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Families by name: (type, help).
type Families = BTreeMap<String, (String, String)>;

/// The value of a sample line (both formats' spellings of the non-finite ones).
fn number(v: &str) -> Result<f64> {
    Ok(match v {
        "NaN" => f64::NAN,
        "+Inf" | "inf" => f64::INFINITY,
        "-Inf" | "-inf" => f64::NEG_INFINITY,
        v => v.parse()?,
    })
}

/// `k="v",…` with the format's escapes undone.
fn labels(mut rest: &str) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    while !rest.is_empty() {
        let (k, after) = rest.split_once("=\"").ok_or("label=\"value\"")?;
        let (mut val, mut end, mut chars) = (String::new(), None, after.char_indices());
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next().map(|x| x.1) {
                    Some('n') => val.push('\n'),
                    Some(o) => val.push(o),
                    None => return Err("dangling escape".into()),
                },
                '"' => {
                    end = Some(i);
                    break;
                }
                c => val.push(c),
            }
        }
        map.insert(k.to_string(), val);
        rest = after[end.ok_or("closing quote")? + 1..].trim_start_matches(',');
    }
    Ok(map)
}

/// A small parser for both text formats: enough to check what we serve. Samples must
/// follow their family's TYPE line (`_total` allowed after an OpenMetrics counter family).
fn parse(text: &str) -> Result<(Families, Vec<Sample>)> {
    let (mut families, mut helps, mut samples) = (Families::new(), BTreeMap::new(), Vec::new());
    for line in text.lines().filter(|l| !l.is_empty() && *l != "# EOF") {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').ok_or("HELP has a name and text")?;
            helps.insert(name.to_string(), help.to_string());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or("TYPE has a name and kind")?;
            let help = helps.get(name).cloned().ok_or("HELP comes before TYPE")?;
            families.insert(name.to_string(), (kind.to_string(), help));
        } else {
            assert!(!line.starts_with('#'), "unexpected comment {line}");
            let (head, v) = line.rsplit_once(' ').ok_or("sample has a value")?;
            let (name, l) = match head.split_once('{') {
                Some((n, l)) => (n, l.strip_suffix('}').ok_or("closing brace")?),
                None => (head, ""),
            };
            let family = name
                .strip_suffix("_total")
                .filter(|f| families.contains_key(*f));
            assert!(
                families.contains_key(name) || family.is_some(),
                "{name} has no TYPE line before it"
            );
            samples.push((name.to_string(), labels(l)?, number(v)?));
        }
    }
    Ok((families, samples))
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

fn find<'a>(samples: &'a [Sample], name: &str, key: &str, value: &str) -> Result<&'a Sample> {
    samples
        .iter()
        .find(|s| s.0 == name && s.1.get(key).is_some_and(|v| v == value))
        .ok_or_else(|| format!("no {name} with {key}={value}").into())
}

/// One raw request; returns the response's head and body.
fn send(addr: SocketAddr, request: &[u8]) -> Result<(String, String)> {
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    conn.write_all(request)?;
    let mut raw = String::new();
    conn.read_to_string(&mut raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("an HTTP response")?;
    Ok((head.to_string(), body.to_string()))
}

fn scrape(addr: SocketAddr, path: &str) -> Result<(String, String)> {
    send(
        addr,
        format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes(),
    )
}

/// The steps served now.
fn steps(addr: SocketAddr) -> Result<f64> {
    let (_, body) = scrape(addr, "/metrics")?;
    let (_, samples) = parse(&body)?;
    Ok(find(&samples, "snuffer_steps_total", "run", "r")?.2)
}

#[test]
fn rendered_text_parses_and_carries_every_family() -> Result {
    let (families, samples) = parse(&render(&snapshot()))?;
    for (name, kind) in [
        ("snuffer_energy_joules_total", "counter"),
        ("snuffer_energy_relative_uncertainty", "gauge"),
        ("snuffer_power_watts", "gauge"),
        ("snuffer_steps_total", "counter"),
        ("snuffer_elapsed_seconds", "gauge"),
        ("snuffer_metric", "gauge"),
        ("snuffer_metric_best", "gauge"),
        ("snuffer_forecast_metric", "gauge"),
        ("snuffer_forecast_target_step", "gauge"),
        ("snuffer_stopped", "gauge"),
    ] {
        assert_eq!(
            families.get(name).map(|f| f.0.as_str()),
            Some(kind),
            "{name}"
        );
    }
    let gpu = find(&samples, "snuffer_energy_joules_total", "domain", "gpu:0")?;
    assert_eq!(gpu.2, 14_760.25);
    assert_eq!(gpu.1["provenance"], "counter");
    assert_eq!(
        gpu.1["run"], "mnist \"small\"\nrun",
        "label escaping round-trips"
    );
    let power = samples.iter().filter(|s| s.0 == "snuffer_power_watts");
    assert_eq!(power.count(), 1, "only the domain with a reading");
    let stopped = find(&samples, "snuffer_stopped", "policy", "marginal-gain")?;
    assert_eq!(stopped.2, 1.0);
    let median = find(&samples, "snuffer_forecast_metric", "bound", "median")?;
    assert_eq!((median.2, median.1["level"].as_str()), (0.94, "0.8"));
    assert_eq!(
        find(&samples, "snuffer_steps_total", "metric", "x").ok(),
        None
    );
    Ok(())
}

#[test]
fn openmetrics_names_counter_families_without_total_and_ends_with_eof() -> Result {
    let text = render_openmetrics(&snapshot());
    assert!(text.ends_with("# EOF\n"), "{text}");
    let (families, samples) = parse(&text)?;
    assert_eq!(families["snuffer_energy_joules"].0, "counter");
    assert_eq!(families["snuffer_steps"].0, "counter");
    assert_eq!(
        find(
            &samples,
            "snuffer_steps_total",
            "run",
            "mnist \"small\"\nrun"
        )?
        .2,
        1200.0
    );
    Ok(())
}

#[test]
fn an_empty_snapshot_serves_steps_and_stop_state_only() -> Result {
    let (families, _) = parse(&render(&MetricsSnapshot::default()))?;
    let names: Vec<&str> = families.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "snuffer_elapsed_seconds",
            "snuffer_steps_total",
            "snuffer_stopped"
        ]
    );
    Ok(())
}

#[test]
fn non_finite_metric_values_are_served_not_dropped() -> Result {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let s = MetricsSnapshot {
            metric: Some(v),
            ..MetricsSnapshot::default()
        };
        let (_, samples) = parse(&render(&s))?;
        let served = find(&samples, "snuffer_metric", "metric", "metric")?.2;
        assert!(
            served.is_nan() == v.is_nan() && (v.is_nan() || served == v),
            "{v} → {served}"
        );
    }
    Ok(())
}

#[test]
fn serves_over_loopback_updates_and_stops_on_drop() -> Result {
    let exporter = Exporter::serve("127.0.0.1:0")?;
    let addr = exporter.local_addr();
    assert!(addr.ip().is_loopback());
    let (head, body) = scrape(addr, "/metrics")?;
    assert!(
        head.starts_with("HTTP/1.") && head.contains(" 200"),
        "{head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("text/plain; version=0.0.4"),
        "{head}"
    );
    let (_, samples) = parse(&body)?;
    assert_eq!(find(&samples, "snuffer_steps_total", "run", "")?.2, 0.0);

    exporter.update(&snapshot());
    let (_, body) = scrape(addr, "/metrics")?;
    let (_, samples) = parse(&body)?;
    assert_eq!(
        find(&samples, "snuffer_metric", "metric", "val_acc")?.2,
        0.91
    );

    let (head, body) = send(
        addr,
        b"GET /metrics HTTP/1.0\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n",
    )?;
    assert!(head.contains("application/openmetrics-text"), "{head}");
    assert!(body.ends_with("# EOF\n"), "{body}");

    let (head, _) = scrape(addr, "/nope")?;
    assert!(head.contains(" 404"), "{head}");

    drop(exporter);
    // tiny_http's accept thread closes the socket right after the drop wakes it.
    let closed = (0..100).any(|_| {
        let refused = TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err();
        if !refused {
            std::thread::sleep(Duration::from_millis(20));
        }
        refused
    });
    assert!(closed, "still listening 2 s after drop");
    Ok(())
}

#[test]
fn concurrent_scrapes_during_updates_all_get_whole_expositions() -> Result {
    let exporter = Exporter::serve("127.0.0.1:0")?;
    let addr = exporter.local_addr();
    let scrapers: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || -> std::result::Result<usize, String> {
                let mut seen = 0;
                for _ in 0..10 {
                    let (_, body) = scrape(addr, "/metrics").map_err(|e| e.to_string())?;
                    let (_, samples) = parse(&body).map_err(|e| e.to_string())?;
                    // Every exposition is one snapshot's: steps and elapsed agree.
                    let step = samples.iter().find(|s| s.0 == "snuffer_steps_total");
                    let secs = samples.iter().find(|s| s.0 == "snuffer_elapsed_seconds");
                    match (step, secs) {
                        (Some(a), Some(b)) if a.2 == b.2 => seen += 1,
                        other => return Err(format!("torn exposition: {other:?}")),
                    }
                }
                Ok(seen)
            })
        })
        .collect();
    for step in 0..200u64 {
        exporter.update(&MetricsSnapshot {
            run: "r".into(),
            step,
            elapsed: Duration::from_secs(step),
            ..MetricsSnapshot::default()
        });
    }
    for s in scrapers {
        let seen = s.join().map_err(|_| "a scraper panicked")??;
        assert_eq!(seen, 10);
    }
    assert_eq!(steps(addr)?, 199.0);
    Ok(())
}

#[test]
fn malformed_and_abandoned_requests_leave_the_exporter_serving() -> Result {
    let exporter = Exporter::serve("127.0.0.1:0")?;
    let addr = exporter.local_addr();
    exporter.update(&MetricsSnapshot {
        run: "r".into(),
        step: 5,
        ..MetricsSnapshot::default()
    });
    // Garbage, a request line without a version, binary bytes, a huge path.
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(64 * 1024));
    for junk in [
        &b"\x00\xff\xfe garbage\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"NOT-A-METHOD /metrics HTTP/1.1\r\n\r\n",
        long.as_bytes(),
    ] {
        let mut conn = TcpStream::connect(addr)?;
        conn.set_read_timeout(Some(Duration::from_secs(5)))?;
        let _ = conn.write_all(junk);
        let _ = conn.read(&mut [0u8; 256]);
    }
    // Half-sent requests, abandoned.
    for _ in 0..4 {
        let mut conn = TcpStream::connect(addr)?;
        conn.write_all(b"GET /metr")?;
    }
    // A scrape that hangs up before reading the answer.
    let mut conn = TcpStream::connect(addr)?;
    conn.write_all(b"GET /metrics HTTP/1.0\r\n\r\n")?;
    drop(conn);
    let (head, _) = send(
        addr,
        b"POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
    )?;
    assert!(head.contains(" 405"), "{head}");
    assert_eq!(steps(addr)?, 5.0, "still serving");
    Ok(())
}

#[test]
fn a_taken_port_is_an_error_that_names_it() -> Result {
    let holder = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = holder.local_addr()?.to_string();
    let err = Exporter::serve(&addr).err().ok_or("bound a taken port")?;
    assert!(err.to_string().contains(&addr), "{err}");
    Ok(())
}
