//! End-to-end tests of `snuffer whatif` on the fixture tree of one real run logged six ways
//! (`crates/snuffer-import/tests/data/digits/runs`, written by `examples/export_logs.rs`).

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture_runs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../snuffer-import/tests/data/digits/runs")
}

fn snuffer(args: &[&str]) -> Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .output()?)
}

fn json_of(out: &Output) -> Result<Value> {
    ensure!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// `whatif --json` on the mixed tree, writing `--out`; returns its JSON.
fn whatif(out_dir: &Path, extra: &[&str]) -> Result<Value> {
    let runs = fixture_runs();
    let mut args = vec![
        "whatif",
        runs.to_str().context("utf-8 path")?,
        "--json",
        "--out",
        out_dir.to_str().context("utf-8 path")?,
    ];
    args.extend_from_slice(extra);
    json_of(&snuffer(&args)?)
}

/// `replay --json` on the curves `whatif --out` exported: stop step per (path, run id).
fn replay_stops(curves: &Path, extra: &[&str]) -> Result<BTreeMap<(String, String), f64>> {
    let mut args = vec![
        "replay",
        "--curves",
        curves.to_str().context("utf-8 path")?,
        "--policy",
        "marginal",
        "--json",
    ];
    args.extend_from_slice(extra);
    let v = json_of(&snuffer(&args)?)?;
    let runs = v["runs"].as_array().context("replay runs")?;
    Ok(runs
        .iter()
        .map(|r| {
            (
                (
                    r["task"].as_str().unwrap_or_default().to_string(),
                    r["run_id"].as_str().unwrap_or_default().to_string(),
                ),
                r["stop_step"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect())
}

fn whatif_stops(v: &Value) -> Result<BTreeMap<(String, String), f64>> {
    Ok(v["runs"]
        .as_array()
        .context("whatif runs")?
        .iter()
        .map(|r| {
            (
                (
                    r["path"].as_str().unwrap_or_default().to_string(),
                    r["run_id"].as_str().unwrap_or_default().to_string(),
                ),
                r["stop_step"].as_f64().unwrap_or(f64::NAN),
            )
        })
        .collect())
}

#[test]
fn finds_every_run_of_the_mixed_tree_and_prints_exactly_the_issue_fields() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let v = whatif(tmp.path(), &["--tau-relative", "0.5", "--power-w", "65"])?;
    let top: Vec<&String> = v.as_object().context("object")?.keys().collect();
    assert_eq!(
        top,
        ["method", "prior_weights", "runs", "skipped", "totals"]
    );
    let runs = v["runs"].as_array().context("runs")?;
    let mut formats: Vec<&str> = runs.iter().filter_map(|r| r["format"].as_str()).collect();
    formats.sort();
    assert_eq!(
        formats,
        [
            "csv",
            "csv",
            "csv",
            "snuffer_run",
            "tensorboard",
            "trainer_state"
        ]
    );
    for r in runs {
        let mut keys: Vec<&String> = r.as_object().context("run")?.keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "best_lost",
                "energy_saved_fraction",
                "format",
                "last_step",
                "learning_rate",
                "metric_name",
                "path",
                "reason",
                "run_id",
                "schedule_passed",
                "stop_step"
            ]
        );
    }
    let t = &v["totals"];
    assert_eq!(t["runs"], 6);
    assert_eq!(t["skipped"], 0);
    assert_eq!(
        t["energy_is_estimate"], true,
        "no run here measured its energy"
    );
    assert_eq!(t["energy"]["recorded"], 1);
    assert_eq!(
        t["energy"]["wall_time_x_power"], 3,
        "TensorBoard, W&B and the Trainer's train_runtime"
    );
    assert_eq!(
        t["energy"]["steps"], 2,
        "Lightning and Keras record no time"
    );
    // The report page: one chart per run, and the curves for `snuffer replay`.
    let svgs = std::fs::read_dir(tmp.path())?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "svg"))
        .count();
    assert_eq!(svgs, 6);
    let html = std::fs::read_to_string(tmp.path().join("report.html"))?;
    assert!(html.contains("would have stopped at step") && html.contains("estimate"));
    Ok(())
}

/// The stops `whatif` reports equal `snuffer replay` on the curves it exported, with τ large
/// enough that every run stops early (whatever the rule's tuning), and with a relative τ at
/// which the runs stop at different steps.
#[test]
fn per_run_stops_equal_snuffer_replay_on_the_exported_curves() -> Result<()> {
    let settings: [(&[&str], bool); 2] = [
        (&["--tau", "1e12", "--power-w", "65"], true),
        // Here the runs stop at different steps (the energy bases differ), and the stops move
        // with the rule's settings (e.g. `--idle-decay`, `--expectation`): a replay built
        // differently would not match.
        (&["--tau-relative", "0.35", "--hardware", "t4"], false),
    ];
    for (flags, all_stop) in settings {
        let tmp = tempfile::tempdir()?;
        let v = whatif(tmp.path(), flags)?;
        let ours = whatif_stops(&v)?;
        assert_eq!(ours.len(), 6, "{flags:?}");
        // The replay needs the same power: --hardware t4 is 70 W.
        let mut replay_flags: Vec<&str> = flags
            .iter()
            .copied()
            .filter(|f| *f != "--hardware" && *f != "t4")
            .collect();
        if flags.contains(&"t4") {
            replay_flags.extend(["--power-w", "70"]);
        }
        let theirs = replay_stops(&tmp.path().join("curves.csv"), &replay_flags)?;
        assert_eq!(ours, theirs, "{flags:?}");
        if all_stop {
            for r in v["runs"].as_array().context("runs")? {
                assert!(
                    r["stop_step"].as_f64() < r["last_step"].as_f64(),
                    "{flags:?}: {r}"
                );
                assert!(
                    r["energy_saved_fraction"].as_f64() > Some(0.0),
                    "{flags:?}: {r}"
                );
                assert!(r["reason"].is_string(), "{flags:?}: {r}");
            }
        }
    }
    Ok(())
}

#[test]
fn text_output_labels_estimates_and_names_skipped_files() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let runs = fixture_runs();
    // A copy of the tree with one damaged file next to the good ones.
    let tree = tmp.path().join("tree");
    std::fs::create_dir_all(tree.join("broken"))?;
    std::fs::write(
        tree.join("broken/trainer_state.json"),
        "{\"log_history\": [",
    )?;
    std::fs::create_dir_all(tree.join("good"))?;
    std::fs::copy(
        runs.join("hf/digits-mlp/trainer_state.json"),
        tree.join("good/trainer_state.json"),
    )?;
    let out = snuffer(&[
        "whatif",
        tree.to_str().context("utf-8")?,
        "--tau-relative",
        "0.5",
    ])?;
    ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout)?;
    let stderr = String::from_utf8(out.stderr)?;
    assert!(
        stdout.contains("energy saved ~") && stdout.contains("estimate: proportional to steps"),
        "{stdout}"
    );
    assert!(stdout.contains("1 skipped"), "{stdout}");
    assert!(
        stderr.contains("broken/trainer_state.json") && stderr.contains("line 1"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let rows: [(&[&str], &str); 4] = [
        (&["whatif", "/nonexistent/logs"], "/nonexistent/logs"),
        (&["whatif", ".", "--hardware", "abacus"], "--power-w"),
        (&["whatif", ".", "--power-w", "0"], "positive"),
        (
            &["whatif", tmp.path().to_str().context("utf-8")?],
            "no run could be read",
        ),
    ];
    for (args, want) in rows {
        let out = snuffer(args)?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
    Ok(())
}

/// Issue 19: a fine-tune's short log — 20 evaluations, a plateau by 30 % of the plan,
/// hand-written as a Hugging Face `trainer_state.json` and a Lightning `metrics.csv`
/// (`tests/data/short-logs`) — can be stopped early (it used to run to its end: between
/// the replay's sparse refits every other check disagreed).
#[test]
fn a_twenty_evaluation_log_that_plateaus_early_is_stopped() -> Result<()> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/short-logs");
    for (dir, metric) in [("hf-finetune", "accuracy"), ("lightning", "val_acc")] {
        let path = data.join(dir);
        let v = json_of(&snuffer(&[
            "whatif",
            path.to_str().context("utf-8 path")?,
            "--metric",
            metric,
            "--json",
        ])?)?;
        let run = &v["runs"][0];
        let (stop, last) = (
            run["stop_step"].as_f64().context("stop_step")?,
            run["last_step"].as_f64().context("last_step")?,
        );
        ensure!(
            last == 1000.0 && (300.0..=700.0).contains(&stop),
            "{dir} {metric}: stopped at {stop} of {last}: {run}"
        );
        ensure!(
            run["best_lost"].as_f64().is_some_and(|l| l.abs() < 0.02),
            "{dir} {metric}: {run}"
        );
    }
    Ok(())
}
