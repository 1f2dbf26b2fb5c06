//! End-to-end tests of `snuffer probe` and `snuffer measure`, on fake powercap
//! trees (SNUFFER_POWERCAP_ROOT) so that they behave the same on any machine.

use anyhow::Result;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const RANGE: u64 = 262_143_328_850;

fn snuffer(root: &Path, args: &[&str]) -> Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .env("SNUFFER_POWERCAP_ROOT", root)
        .output()?)
}

fn zone(root: &Path, id: &str, name: &str, energy_uj: u64) -> Result<()> {
    let z = root.join(id);
    std::fs::create_dir_all(&z)?;
    std::fs::write(z.join("name"), format!("{name}\n"))?;
    std::fs::write(z.join("energy_uj"), format!("{energy_uj}\n"))?;
    std::fs::write(z.join("max_energy_range_uj"), format!("{RANGE}\n"))?;
    Ok(())
}

fn json(out: &Output) -> Result<Value> {
    let text = String::from_utf8(out.stdout.clone())?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{e}: {text:?} / {}", String::from_utf8_lossy(&out.stderr)))
}

fn domain<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v["domains"].as_array()?.iter().find(|d| d["name"] == name)
}

#[test]
fn probe_without_counters_lists_the_estimate_and_why_rapl_was_skipped() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let missing = dir.path().join("no-powercap");
    let out = snuffer(&missing, &["probe", "--json", "--window-ms", "200"])?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out)?;
    assert!(
        v["meters"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x == "cpu-estimate")),
        "{v}"
    );
    let cpu = domain(&v, "cpu-estimate").expect("cpu-estimate domain");
    assert_eq!(cpu["provenance"]["kind"], "estimated");
    assert_eq!(cpu["uncertainty"], 0.4);
    let skipped = v["skipped"].as_array().expect("skipped");
    let rapl = skipped
        .iter()
        .find(|s| s["source"] == "rapl")
        .expect("rapl skipped");
    assert!(
        rapl["reason"]
            .as_str()
            .unwrap_or("")
            .contains("unavailable, because"),
        "{rapl}"
    );
    assert!(
        skipped.iter().any(|s| s["source"] == "nvml")
            || v["meters"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == "nvml"))
    );
    Ok(())
}

#[test]
fn probe_with_a_fake_rapl_tree_reports_package_power_and_skips_psys() -> Result<()> {
    let dir = tempfile::tempdir()?;
    zone(dir.path(), "intel-rapl:0", "package-0", 1_000)?;
    zone(dir.path(), "intel-rapl:1", "psys", 1_000)?;
    let out = snuffer(dir.path(), &["probe", "--window-ms", "200"])?;
    let text = String::from_utf8(out.stdout)?;
    assert!(out.status.success());
    assert!(
        text.contains("cpu-package:0") && text.contains("counter"),
        "{text}"
    );
    assert!(text.contains("psys measures the whole platform"), "{text}");
    assert!(
        text.contains("cpu-estimate: not needed, because a RAPL package counter"),
        "{text}"
    );
    Ok(())
}

#[test]
fn measure_sees_a_wrap_written_by_the_command_itself() -> Result<()> {
    let dir = tempfile::tempdir()?;
    zone(dir.path(), "intel-rapl:0", "package-0", RANGE - 1_000_000)?;
    let energy = dir.path().join("intel-rapl:0/energy_uj");
    let script = format!(
        "sleep 0.25; echo 500000 > '{}'; sleep 0.25",
        energy.display()
    );
    let out = snuffer(
        dir.path(),
        &[
            "measure",
            "--json",
            "--interval-ms",
            "20",
            "--",
            "sh",
            "-c",
            &script,
        ],
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out)?;
    let pkg = domain(&v, "cpu-package:0").expect("package domain");
    // 1 J to the end of the range, then 0.5 J after the wrap.
    let j = pkg["joules"].as_f64().unwrap_or(f64::NAN);
    assert!((j - 1.5).abs() < 1e-6, "{pkg}");
    assert_eq!(pkg["provenance"]["kind"], "counter");
    assert!(
        domain(&v, "cpu-estimate").is_none(),
        "the counter replaces the CPU estimate: {v}"
    );
    assert!(
        v["attribution"]["share"]
            .as_f64()
            .is_some_and(|s| (0.0..=1.0).contains(&s)),
        "{v}"
    );
    Ok(())
}

#[test]
fn measure_json_has_the_documented_keys_and_passes_the_exit_code() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = snuffer(
        &dir.path().join("none"),
        &["measure", "--json", "--", "sh", "-c", "exit 3"],
    )?;
    assert_eq!(out.status.code(), Some(3));
    let v = json(&out)?;
    assert_eq!(v["exit_code"], 3);
    assert!(v["duration_s"].as_f64().is_some_and(|d| d > 0.0), "{v}");
    assert!(v["total_joules"].as_f64().is_some_and(|t| t >= 0.0), "{v}");
    for d in v["domains"].as_array().expect("domains") {
        for key in ["name", "joules", "provenance", "uncertainty"] {
            assert!(!d[key].is_null(), "{key} missing in {d}");
        }
    }
    Ok(())
}

#[test]
fn measure_reports_signals_as_128_plus_signo() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = snuffer(
        &dir.path().join("none"),
        &["measure", "--", "sh", "-c", "kill -TERM $$"],
    )?;
    assert_eq!(out.status.code(), Some(128 + 15));
    Ok(())
}

#[test]
fn measure_estimate_covers_the_child_tree_busy_beats_sleep() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("none");
    let cpu = |args: &[&str]| -> Result<f64> {
        let mut full = vec!["measure", "--json", "--"];
        full.extend_from_slice(args);
        let v = json(&snuffer(&root, &full)?)?;
        Ok(domain(&v, "cpu-estimate")
            .and_then(|d| d["joules"].as_f64())
            .unwrap_or(f64::NAN))
    };
    // The busy loop runs in a grandchild (sh → sh), so only tree accounting sees it.
    let busy = cpu(&[
        "sh",
        "-c",
        "sh -c 'i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done'",
    ])?;
    let sleep = cpu(&["sleep", "0.3"])?;
    assert!(
        busy > 5.0 * sleep.max(1e-3),
        "busy {busy} J vs sleep {sleep} J"
    );
    Ok(())
}

#[test]
fn measure_rejects_empty_and_unrunnable_commands() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let root = dir.path().join("none");
    let not_exec = dir.path().join("data.txt");
    std::fs::write(&not_exec, "not a program")?;
    let rows: [(&[&str], &str); 4] = [
        (&["measure"], "no command to measure"),
        (&["measure", "--", ""], "no command to measure"),
        (
            &["measure", "--", "/nonexistent/program"],
            "command not found",
        ),
        (
            &["measure", "--", not_exec.to_str().unwrap_or("")],
            "permission denied",
        ),
    ];
    for (args, needle) in rows {
        let out = snuffer(&root, args)?;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    Ok(())
}

/// Regression: probe listed `ram-estimate` while its header named only `cpu-estimate`.
#[test]
fn probe_header_names_every_domain_it_shows() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let out = snuffer(
        &dir.path().join("no-powercap"),
        &["probe", "--window-ms", "200"],
    )?;
    let text = String::from_utf8(out.stdout)?;
    let header = text.lines().next().unwrap_or_default();
    let shown: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("power over"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|d| *d != "total")
        .collect();
    assert!(!shown.is_empty(), "{text}");
    for d in shown {
        assert!(header.contains(d), "{d} missing from the header {header:?}");
    }
    Ok(())
}

/// Pids of the live (not zombie) processes whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = s.rsplit_once(')')?.1;
                    let mut f = rest.split_whitespace();
                    let state = f.next()?;
                    let ppid: u32 = f.next()?.parse().ok()?;
                    Some(ppid == parent && state != "Z")
                })
                .unwrap_or(false)
        })
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s.rsplit_once(')')?.1.split_whitespace().next()? != "Z"))
        .unwrap_or(false)
}

/// `snuffer measure -- sleep 30`, signalled once the command runs: the command must get the
/// signal, be gone, and Snuffer must report and exit with its status.
fn signal_measure(signal: libc::c_int) -> Result<(Option<i32>, String, u32)> {
    use std::io::Read;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(["measure", "--", "sleep", "30"])
        .env("SNUFFER_POWERCAP_ROOT", dir.path().join("none"))
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let sleeper = loop {
        if let Some(&pid) = children_of(child.id()).first() {
            break pid;
        }
        anyhow::ensure!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, signal);
    }
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            child.kill()?;
            // SAFETY: cleaning up the sleeper the test started.
            unsafe {
                libc::kill(sleeper as libc::pid_t, libc::SIGKILL);
            }
            anyhow::bail!("snuffer measure did not end after signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        e.read_to_string(&mut err)?;
    }
    Ok((status.code(), err, sleeper))
}

#[test]
fn measure_passes_sigterm_and_sigint_on_to_the_command_and_exits_with_its_status() -> Result<()> {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let (code, err, sleeper) = signal_measure(signal)?;
        assert!(
            !alive(sleeper),
            "signal {signal}: the command {sleeper} was left running"
        );
        assert_eq!(code, Some(128 + signal), "signal {signal}: {err}");
        let report = format!("exited with {}", 128 + signal);
        assert!(err.contains(&report), "the report is still printed: {err}");
    }
    Ok(())
}

/// The field case: `snuffer measure -- sleep 1.2` while the counter (50 J on a 262 kJ range)
/// is reset to 1000 µJ. Read as a wrap it made 262 093 J and 216 767 W "±5 % counter".
#[test]
fn measure_reports_a_counter_reset_as_bridged_not_as_a_wrap() -> Result<()> {
    let dir = tempfile::tempdir()?;
    zone(dir.path(), "intel-rapl:0", "package-0", 50_000_000)?;
    let energy = dir.path().join("intel-rapl:0/energy_uj");
    let child = Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(["measure", "--json", "--", "sleep", "1.2"])
        .env("SNUFFER_POWERCAP_ROOT", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::write(&energy, "1000\n")?;
    let out = child.wait_with_output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out)?;
    let pkg = domain(&v, "cpu-package:0").expect("package domain");
    let joules = pkg["joules"].as_f64().unwrap_or(f64::NAN);
    assert!(joules < 1.0, "nothing was drawn before the reset: {pkg}");
    assert!(
        v["mean_watts"].as_f64().is_some_and(|w| w < 1.0),
        "{}",
        v["mean_watts"]
    );
    assert_eq!(pkg["provenance"]["kind"], "estimated", "{pkg}");
    assert!(
        pkg["provenance"]["model"]
            .as_str()
            .is_some_and(|m| m.contains("reset")),
        "{pkg}"
    );
    assert!(
        pkg["uncertainty"].as_f64().is_some_and(|u| u >= 0.2),
        "{pkg}"
    );
    assert_eq!(
        v["provenance"]["kind"], "estimated",
        "the total says so too: {v}"
    );
    Ok(())
}
