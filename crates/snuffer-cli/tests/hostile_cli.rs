//! Issue 20: hostile input end to end — every reproduction of the issue's items 1, 2, 3, 5,
//! 6, 7 and 8 that reaches the command line, each a clear error (naming the input and what
//! to do) or a correct figure: no data loss, no panic, no hang, no abort.

use anyhow::Result;
use serde_json::Value;
use snuffer_report::synthetic::SyntheticRun;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn fixture_runs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../snuffer-import/tests/data/digits/runs")
}

/// Runs `snuffer args` with a deadline: a hang fails the test instead of blocking it.
fn snuffer_in(dir: &Path, args: &[&str], limit: Duration) -> Result<Output> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .current_dir(dir)
        .env("SNUFFER_POWERCAP_ROOT", dir.join("no-powercap"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait()?.is_some() {
            return Ok(child.wait_with_output()?);
        }
        if Instant::now() > deadline {
            child.kill()?;
            let out = child.wait_with_output()?;
            anyhow::bail!(
                "snuffer {args:?} hung ({limit:?}); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn snuffer(dir: &Path, args: &[&str]) -> Result<Output> {
    snuffer_in(dir, args, Duration::from_secs(120))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A clear error: exit status 2, no panic, and the message contains each of `words`.
fn assert_clear_error(out: &Output, words: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for w in words {
        assert!(err.contains(w), "{w:?} not in: {err}");
    }
}

fn assert_no_panic(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("panicked") && out.status.code() != Some(101),
        "{err}"
    );
}

const HISTORY: &str = "epoch,step,val_loss\n0,10,1.0\n0,20,0.8\n1,30,0.7\n1,40,0.65\n\
    2,50,0.6\n2,60,0.59\n3,70,0.585\n3,80,0.584\n4,90,0.5839\n4,100,0.5838\n";

// Item 1: data loss.

#[test]
fn whatif_out_never_overwrites_the_history_it_read() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let own = tmp.path().join("own");
    std::fs::create_dir(&own)?;
    std::fs::write(own.join("curves.csv"), HISTORY)?;
    let out = snuffer(tmp.path(), &["whatif", "own", "--out", "own"])?;
    assert_clear_error(
        &out,
        &["own/curves.csv", "read as input", "output directory"],
    );
    assert_eq!(std::fs::read_to_string(own.join("curves.csv"))?, HISTORY);
    // Another directory is fine.
    let ok = snuffer(tmp.path(), &["whatif", "own", "--out", "own/whatif"])?;
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(std::fs::read_to_string(own.join("curves.csv"))?, HISTORY);
    Ok(())
}

#[test]
fn out_never_writes_through_a_planted_symlink() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    std::fs::write(d.join("hist.csv"), HISTORY)?;
    std::fs::write(d.join("precious"), "keep me")?;
    std::fs::create_dir(d.join("out"))?;
    std::os::unix::fs::symlink(d.join("precious"), d.join("out/report.html"))?;
    let out = snuffer(d, &["whatif", "hist.csv", "--out", "out"])?;
    assert_clear_error(&out, &["out/report.html", "symbolic link"]);
    // report and compare --html write the same way.
    SyntheticRun::default().write(&d.join("sweep/run-a"))?;
    SyntheticRun::default().write(&d.join("sweep/run-b"))?;
    let out = snuffer(d, &["report", "sweep/run-a", "--out", "out"])?;
    assert_clear_error(&out, &["symbolic link"]);
    let out = snuffer(d, &["compare", "sweep", "--html", "out"])?;
    assert_clear_error(&out, &["symbolic link"]);
    assert_eq!(std::fs::read_to_string(d.join("precious"))?, "keep me");
    Ok(())
}

// Item 2: panics.

#[test]
fn huge_recorded_times_are_no_panic() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    // train_runtime 1e308 in trainer_state.json, with a power.
    let text = std::fs::read_to_string(fixture_runs().join("hf/digits-mlp/trainer_state.json"))?;
    let mut state: Value = serde_json::from_str(&text)?;
    let history = state["log_history"].as_array_mut().expect("log_history");
    let last = history.last_mut().expect("an entry");
    last["train_runtime"] = Value::from(1e308);
    std::fs::create_dir(d.join("hf"))?;
    std::fs::write(d.join("hf/trainer_state.json"), state.to_string())?;
    let out = snuffer(d, &["whatif", "hf", "--power-w", "300"])?;
    assert_no_panic(&out);
    // A TensorBoard wall time of 1e300 s.
    std::fs::create_dir(d.join("tb"))?;
    let file = std::fs::File::create(d.join("tb/events.out.tfevents.1.host"))?;
    let mut w = snuffer_import::tensorboard::EventWriter::new(file, 1.0)?;
    for (i, v) in [1.0f32, 0.8, 0.7, 0.65, 0.6, 0.59, 0.585, 0.584]
        .iter()
        .enumerate()
    {
        let wall = if i == 5 { 1e300 } else { 1.0 + i as f64 };
        w.scalar("val/loss", 10 * (i as i64 + 1), wall, *v)?;
    }
    w.into_inner()?;
    let out = snuffer(d, &["whatif", "tb", "--power-w", "300"])?;
    assert_no_panic(&out);
    // A curves CSV whose time is 1e308, on the replay's worker threads.
    let mut curves =
        String::from("source,task,run_id,step,metric,metric_name,higher_is_better,epoch_time_s\n");
    for s in 1..=8 {
        curves += &format!("s,t,r,{s},{},acc,true,1e308\n", 1.0 - 1.0 / s as f64);
    }
    std::fs::write(d.join("curves.csv"), curves)?;
    let out = snuffer(
        d,
        &[
            "replay",
            "--curves",
            "curves.csv",
            "--policy",
            "marginal",
            "--tau-relative",
            "0.3",
        ],
    )?;
    assert_no_panic(&out);
    Ok(())
}

// Item 3: hangs.

#[test]
fn a_fifo_named_like_a_log_is_named_and_skipped_not_opened() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    std::fs::create_dir(d.join("logs"))?;
    std::fs::write(d.join("logs/hist.csv"), HISTORY)?;
    for name in [
        "metrics.csv",
        "trainer_state.json",
        "events.out.tfevents.1.host",
    ] {
        let c = std::ffi::CString::new(d.join("logs").join(name).to_string_lossy().as_bytes())?;
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }
    let out = snuffer_in(d, &["whatif", "logs"], Duration::from_secs(60))?;
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("metrics.csv") && err.contains("FIFO") && err.contains("not opened"),
        "{err}"
    );
    Ok(())
}

#[test]
fn a_metric_alternating_at_9e307_is_charted_without_hanging() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    let mut text = String::from("step,val_acc\n");
    for s in 1..=12 {
        let v = if s % 2 == 0 { 9e307 } else { -9e307 };
        text += &format!("{s},{v}\n");
    }
    std::fs::write(d.join("h.csv"), text)?;
    let out = snuffer_in(
        d,
        &["whatif", "h.csv", "--out", "w", "--direction", "higher"],
        Duration::from_secs(60),
    )?;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(d.join("w/run-01.svg").is_file());
    Ok(())
}

// Item 5: aborts on allocation.

#[test]
fn sparse_and_endless_inputs_are_errors_not_allocations() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    std::fs::create_dir(d.join("pl"))?;
    let f = std::fs::File::create(d.join("pl/metrics.csv"))?;
    f.set_len(2 << 30)?; // 2 GB of zeros, no newline
    let out = snuffer_in(d, &["whatif", "pl"], Duration::from_secs(60))?;
    assert_clear_error(&out, &["metrics.csv", "longer than"]);
    let out = snuffer_in(d, &["whatif", "/dev/zero"], Duration::from_secs(60))?;
    assert_clear_error(&out, &["/dev/zero", "a device"]);
    // A sparse steps.jsonl.
    SyntheticRun::default().write(&d.join("run"))?;
    let log = std::fs::OpenOptions::new()
        .append(true)
        .open(d.join("run/steps.jsonl"))?;
    log.set_len(log.metadata()?.len() + (2 << 30))?;
    let out = snuffer_in(d, &["compare", "run"], Duration::from_secs(60))?;
    assert_clear_error(&out, &["steps.jsonl", "longer than"]);
    Ok(())
}

// Item 6: signals.

/// Pids whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    let after = s.rsplit_once(')')?.1.split_whitespace().nth(1)?.to_string();
                    after.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s.rsplit_once(')')?.1.split_whitespace().next()? != "Z"))
        .unwrap_or(false)
}

#[test]
fn sigterm_to_measure_reaches_what_a_forking_shell_started() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(["measure", "--", "sh", "-c", "sleep 60; true"])
        .env("SNUFFER_POWERCAP_ROOT", tmp.path().join("none"))
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    // snuffer → sh → sleep
    let sleeper = loop {
        let grandchildren: Vec<u32> = children_of(child.id())
            .into_iter()
            .flat_map(children_of)
            .collect();
        if let Some(&p) = grandchildren.first() {
            break p;
        }
        anyhow::ensure!(Instant::now() < deadline, "sleep never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s;
        }
        if Instant::now() > deadline {
            child.kill()?;
            // SAFETY: cleaning up the process this test started.
            unsafe {
                libc::kill(sleeper as libc::pid_t, libc::SIGKILL);
            }
            anyhow::bail!("measure did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let gone = Instant::now() + Duration::from_secs(5);
    while alive(sleeper) && Instant::now() < gone {
        std::thread::sleep(Duration::from_millis(20));
    }
    let orphaned = alive(sleeper);
    if orphaned {
        // SAFETY: cleaning up the process this test started.
        unsafe {
            libc::kill(sleeper as libc::pid_t, libc::SIGKILL);
        }
    }
    assert!(!orphaned, "sleep {sleeper} was orphaned ({status:?})");
    assert_eq!(status.code(), Some(128 + libc::SIGTERM));
    Ok(())
}

// Item 7: silently wrong figures.

#[test]
fn huge_power_and_energy_are_errors_not_nan_percent() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    std::fs::write(d.join("h.csv"), HISTORY)?;
    let out = snuffer(d, &["whatif", "h.csv", "--power-w", "1e308"])?;
    assert_clear_error(&out, &["power", "1e9"]);
    let out = snuffer(d, &["whatif", "h.csv", "--step-energy-j", "1e308"])?;
    assert_clear_error(&out, &["h", "more than", "--step-energy-j"]);
    let mut curves =
        String::from("source,task,run_id,step,metric,metric_name,higher_is_better,energy_j\n");
    for s in 1..=8 {
        curves += &format!("s,t,r,{s},{},acc,true,1e308\n", 1.0 - 1.0 / s as f64);
    }
    std::fs::write(d.join("curves.csv"), curves)?;
    let out = snuffer(
        d,
        &[
            "replay",
            "--curves",
            "curves.csv",
            "--policy",
            "marginal",
            "--tau-relative",
            "0.3",
        ],
    )?;
    assert_clear_error(&out, &["t/r", "energy_j"]);
    assert!(!stdout(&out).contains("NaN"));
    Ok(())
}

#[test]
fn huge_numbers_print_in_scientific_notation() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    std::fs::write(
        d.join("h.csv"),
        "step,val_loss\n1e307,1e308\n2e307,5e307\n3e307,1e307\n",
    )?;
    let out = snuffer(d, &["whatif", "h.csv"])?;
    assert!(out.status.success(), "{}", stderr(&out));
    let mut curves = String::from("source,task,run_id,step,metric,metric_name,higher_is_better\n");
    for s in ["1e306", "1e307", "3e307"] {
        curves += &format!("s,t,r,{s},0.5,acc,true\n");
    }
    std::fs::write(d.join("c.csv"), curves)?;
    let replay = snuffer(d, &["replay", "--curves", "c.csv", "--policy", "patience"])?;
    assert!(replay.status.success(), "{}", stderr(&replay));
    for text in [stdout(&out), stdout(&replay)] {
        assert!(!text.contains("0000000000000000000000"), "{text}");
        assert!(text.contains("e307"), "{text}");
    }
    Ok(())
}

#[test]
fn whatif_counts_a_run_given_twice_once() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    std::fs::create_dir(d.join("logs"))?;
    std::fs::write(d.join("logs/h.csv"), HISTORY)?;
    let out = snuffer(d, &["whatif", "logs", "logs", "logs/h.csv", "--json"])?;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(v["totals"]["runs"], 1, "{v}");
    Ok(())
}

#[test]
fn replay_rejects_a_metric_change_and_negative_steps() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    let head = "source,task,run_id,step,metric,metric_name,higher_is_better\n";
    std::fs::write(
        d.join("a.csv"),
        format!("{head}s,t,r,1,0.5,acc,true\ns,t,r,2,0.6,acc,true\ns,t,r,3,0.4,loss,true\n"),
    )?;
    let out = snuffer(d, &["replay", "--curves", "a.csv", "--policy", "patience"])?;
    assert_clear_error(&out, &["a.csv", "changes metric", "run_id"]);
    std::fs::write(d.join("b.csv"), format!("{head}s,t,r,-3,0.5,acc,true\n"))?;
    let out = snuffer(d, &["replay", "--curves", "b.csv", "--policy", "patience"])?;
    assert_clear_error(&out, &["b.csv", "step", "≥ 0"]);
    Ok(())
}

#[test]
fn one_empty_energy_cell_is_said_not_silently_a_new_basis() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    let mut curves =
        String::from("source,task,run_id,step,metric,metric_name,higher_is_better,energy_j\n");
    for s in 1..=8 {
        let e = if s == 4 { String::new() } else { "5".into() };
        curves += &format!("s,t,r,{s},{},acc,true,{e}\n", 1.0 - 1.0 / s as f64);
    }
    std::fs::write(d.join("curves.csv"), curves)?;
    let out = snuffer(
        d,
        &["replay", "--curves", "curves.csv", "--policy", "patience"],
    )?;
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("t/r") && err.contains("energy_j is empty on 1 of its 8 rows"),
        "{err}"
    );
    Ok(())
}

#[test]
fn compare_refuses_negative_energy() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    SyntheticRun::default().write(&d.join("a"))?;
    SyntheticRun::default().write(&d.join("b"))?;
    let path = d.join("b/summary.json");
    let mut summary: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    summary["energy_j"] = Value::from(-50.0);
    std::fs::write(&path, summary.to_string())?;
    let out = snuffer(d, &["compare", "a", "b"])?;
    assert_clear_error(&out, &["b", "-50 J", "damaged"]);
    assert!(!stdout(&out).contains('%'));
    Ok(())
}

// Items 7 and 8: sweeps with a damaged or foreign sibling.

#[test]
fn a_damaged_or_foreign_sibling_is_left_out_of_the_sweep_and_named() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    let sweep = d.join("sweep");
    for (i, name) in ["lr-1", "lr-2", "lr-3", "lr-4"].iter().enumerate() {
        SyntheticRun {
            name: name.to_string(),
            steps: 200 + 100 * i as u64,
            ..SyntheticRun::default()
        }
        .write(&sweep.join(name))?;
    }
    let before = snuffer(d, &["compare", "sweep", "--json"])?;
    assert!(before.status.success(), "{}", stderr(&before));
    // lr-3 gets lr-4's summary.json; lr-2's steps.jsonl is damaged mid-file.
    std::fs::copy(
        sweep.join("lr-4/summary.json"),
        sweep.join("lr-3/summary.json"),
    )?;
    let log = sweep.join("lr-2/steps.jsonl");
    let text = std::fs::read_to_string(&log)?;
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{ not json";
    std::fs::write(&log, lines.join("\n") + "\n")?;
    let out = snuffer(d, &["compare", "sweep", "--json"])?;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout)?;
    let rows = v["runs"].as_array().map_or(0, Vec::len);
    assert_eq!(rows, 2, "{v}");
    let err = stderr(&out);
    assert!(
        err.contains("left out") && err.contains("lr-2") && err.contains("lr-3"),
        "{err}"
    );
    let out = snuffer(d, &["report", "sweep", "--out", "page"])?;
    assert!(out.status.success(), "{}", stderr(&out));
    Ok(())
}

#[test]
fn csvs_passed_over_while_searching_are_listed_with_why() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let d = tmp.path();
    std::fs::create_dir(d.join("logs"))?;
    std::fs::write(d.join("logs/hparams.csv"), "lr,batch\n0.1,32\n")?;
    let out = snuffer(d, &["whatif", "logs"])?;
    assert_clear_error(&out, &["hparams.csv", "without a step column", "1 skipped"]);
    Ok(())
}
