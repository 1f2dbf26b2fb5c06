//! End-to-end tests of `snuffer report` and `snuffer compare` on synthetic run directories.

use snuffer_report::synthetic::SyntheticRun;
use std::path::Path;
use std::process::{Command, Output};

fn snuffer(args: &[&std::ffi::OsStr], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run the snuffer binary")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn report_writes_html_and_svgs_into_the_run_directory() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let run = tmp.path().join("run");
    SyntheticRun {
        stopped: true,
        steps: 1_500,
        ..SyntheticRun::default()
    }
    .write(&run)?;
    let out = snuffer(&["report".as_ref(), run.as_os_str()], tmp.path());
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let html = std::fs::read_to_string(run.join("report/report.html"))?;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("Stop reason") && html.contains("<svg"));
    for svg in [
        "metric_steps.svg",
        "metric_energy.svg",
        "power.svg",
        "energy.svg",
    ] {
        let body = std::fs::read_to_string(run.join("report").join(svg))?;
        assert!(
            body.contains("<svg") && body.trim_end().ends_with("</svg>"),
            "{svg}"
        );
    }
    assert!(text(&out.stdout).contains("report.html"));
    Ok(())
}

#[test]
fn report_honours_out_and_notes_a_crashed_run() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let run = tmp.path().join("crashed");
    SyntheticRun {
        crash: true,
        steps: 500,
        ..SyntheticRun::default()
    }
    .write(&run)?;
    let dest = tmp.path().join("elsewhere");
    let out = snuffer(
        &[
            "report".as_ref(),
            run.as_os_str(),
            "--out".as_ref(),
            dest.as_os_str(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(dest.join("report.html").is_file());
    assert!(!run.join("report").exists());
    assert!(
        text(&out.stderr).contains("did not finish"),
        "stderr: {}",
        text(&out.stderr)
    );
    Ok(())
}

#[test]
fn report_of_a_directory_that_is_not_a_run_fails_clearly() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let out = snuffer(&["report".as_ref(), tmp.path().as_os_str()], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("not a Snuffer run directory"), "stderr: {err}");
    Ok(())
}

#[test]
fn compare_prints_a_table_json_and_writes_the_overlay_when_asked() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    SyntheticRun {
        name: "full".into(),
        ..SyntheticRun::default()
    }
    .write(&a)?;
    SyntheticRun {
        name: "early".into(),
        steps: 1_500,
        stopped: true,
        ..SyntheticRun::default()
    }
    .write(&b)?;

    let out = snuffer(
        &["compare".as_ref(), a.as_os_str(), b.as_os_str()],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with("run"), "{table}");
    assert!(table.contains("full") && table.contains("early") && table.contains("stopped early"));
    // Regression: compare wrote compare.svg into the working directory unasked.
    let written: Vec<_> = std::fs::read_dir(tmp.path())?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    assert_eq!(written.len(), 2, "only the two runs: {written:?}");

    let plot = tmp.path().join("overlay.svg");
    let out = snuffer(
        &[
            "compare".as_ref(),
            "--json".as_ref(),
            "--plot".as_ref(),
            plot.as_os_str(),
            a.as_os_str(),
            b.as_os_str(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)?;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["steps"], 3_000);
    assert_eq!(rows[0]["saved_vs_longest_j"], 0.0);
    let share = rows[1]["saved_vs_longest_share"]
        .as_f64()
        .unwrap_or(f64::NAN);
    assert!((share - 0.5).abs() < 0.02, "early run saved {share}");
    let svg = std::fs::read_to_string(&plot)?;
    assert!(svg.contains("<svg") && svg.contains("full") && svg.contains("early"));
    Ok(())
}

/// Issue 13: one sweep directory is compared as a sweep (its table with the total, the
/// forecast saving labelled as one, the best run), `--html DIR` writes its page with the
/// chart, `--json` its object, and `snuffer report SWEEP` the same page.
#[test]
fn compare_on_a_sweep_directory_prints_the_sweep_and_writes_its_page() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let sweep = tmp.path().join("sweep");
    SyntheticRun {
        name: "full".into(),
        ..SyntheticRun::default()
    }
    .write(&sweep.join("full"))?;
    SyntheticRun {
        name: "early".into(),
        steps: 1_500,
        stopped: true,
        ..SyntheticRun::default()
    }
    .write(&sweep.join("early"))?;

    let page = tmp.path().join("page");
    let out = snuffer(
        &[
            "compare".as_ref(),
            sweep.as_os_str(),
            "--html".as_ref(),
            page.as_os_str(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with("sweep "), "{table}");
    for needle in [
        "2 runs, val_acc (higher is better)",
        "stopped early by marginal_gain",
        "total energy (2 runs)",
        "forecast saving",
        "a forecast, not a measurement",
        "best run",
        "sweep page:",
    ] {
        assert!(table.contains(needle), "{needle:?} missing in\n{table}");
    }
    assert!(!table.contains("saved (measured"), "{table}");
    let html = std::fs::read_to_string(page.join("report.html"))?;
    assert!(html.contains("Snuffer sweep") && html.contains("<svg"));
    let svg = std::fs::read_to_string(page.join("sweep_curves.svg"))?;
    assert!(svg.contains("stopped by a policy"));

    let out = snuffer(
        &["compare".as_ref(), "--json".as_ref(), sweep.as_os_str()],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(json["runs"].as_array().map(Vec::len), Some(2));
    assert!(
        json["forecast_saved_share"]
            .as_f64()
            .is_some_and(|s| s > 0.0 && s < 1.0),
        "{json}"
    );

    let out = snuffer(&["report".as_ref(), sweep.as_os_str()], tmp.path());
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(sweep.join("report").join("report.html").is_file());
    assert!(sweep.join("report").join("sweep_curves.svg").is_file());
    // The page written into the sweep is not a run of it.
    let out = snuffer(
        &["compare".as_ref(), "--json".as_ref(), sweep.as_os_str()],
        tmp.path(),
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(json["runs"].as_array().map(Vec::len), Some(2));

    // Issue 19: two runs get their comparison page too (it once needed a sweep directory).
    let pair = tmp.path().join("pair");
    let out = snuffer(
        &[
            "compare".as_ref(),
            sweep.join("full").as_os_str(),
            sweep.join("early").as_os_str(),
            "--html".as_ref(),
            pair.as_os_str(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let html = std::fs::read_to_string(pair.join("report.html"))?;
    assert!(html.contains("Snuffer comparison") && html.contains("<svg"));
    Ok(())
}

#[test]
fn compare_without_runs_is_a_usage_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = snuffer(&["compare".as_ref()], tmp.path());
    assert!(!out.status.success());
}

/// Reads `/metrics` from `addr`, retrying while the exporter starts.
fn scrape(addr: &str) -> Option<String> {
    use std::io::{Read, Write};
    for _ in 0..50 {
        if let Ok(mut conn) = std::net::TcpStream::connect(addr) {
            let mut raw = String::new();
            let ok = conn
                .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .and_then(|_| conn.read_to_string(&mut raw));
            if ok.is_ok() && raw.contains("snuffer_energy_joules_total") {
                return raw.split_once("\r\n\r\n").map(|(_, body)| body.to_string());
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    None
}

#[test]
fn measure_serves_prometheus_metrics_while_the_command_runs() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    // A free port: bind port 0, note it, release it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args([
            "measure",
            "--prometheus",
            &port.to_string(),
            "--",
            "sleep",
            "3",
        ])
        .current_dir(tmp.path())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let body = scrape(&format!("127.0.0.1:{port}"));
    let status = child.wait()?;
    assert!(status.success());
    let body = body.ok_or_else(|| anyhow::anyhow!("no metrics served on port {port}"))?;
    assert!(
        body.contains("# TYPE snuffer_energy_joules_total counter"),
        "{body}"
    );
    assert!(body.contains("run=\"sleep 3\""), "{body}");
    assert!(body.contains("snuffer_stopped{"), "{body}");
    Ok(())
}

#[test]
fn measure_with_a_taken_port_fails_before_running_the_command() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let holder = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = holder.local_addr()?.to_string();
    let marker = tmp.path().join("ran");
    let out = snuffer(
        &[
            "measure".as_ref(),
            "--prometheus".as_ref(),
            addr.as_ref(),
            "--".as_ref(),
            "touch".as_ref(),
            marker.as_os_str(),
        ],
        tmp.path(),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Prometheus"),
        "stderr: {}",
        text(&out.stderr)
    );
    assert!(!marker.exists(), "the command must not run");
    Ok(())
}
