//! End-to-end tests of `snuffer whatif --method` and `--lr-schedule` on a committed
//! Trainer log whose learning rate a fixed StepLR-like schedule cuts after its plateau
//! (`tests/data/lr-schedule`, see its README).

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(dir)
}

fn snuffer(args: &[&str]) -> Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .output()?)
}

fn text_of(out: &Output) -> Result<String> {
    ensure!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout.clone())?)
}

/// `whatif` on the StepLR log with `extra`: its JSON.
fn whatif_json(extra: &[&str]) -> Result<Value> {
    let dir = data("lr-schedule");
    let mut args = vec!["whatif", dir.to_str().context("utf-8 path")?, "--json"];
    args.extend_from_slice(extra);
    Ok(serde_json::from_str(&text_of(&snuffer(&args)?)?)?)
}

/// `whatif` on the StepLR log with `extra`: its text.
fn whatif_text(extra: &[&str]) -> Result<String> {
    let dir = data("lr-schedule");
    let mut args = vec!["whatif", dir.to_str().context("utf-8 path")?];
    args.extend_from_slice(extra);
    text_of(&snuffer(&args)?)
}

fn stop_of(v: &Value) -> Result<f64> {
    v["runs"][0]["stop_step"].as_f64().context("stop_step")
}

/// Issue 23 item 3: the recorded schedule reaches the rule only with `--lr-schedule fixed`.
/// Without it the rule stops on the plateau and loses the cut's gain; with it the rule knows
/// the cut after step 1 000 is ahead and waits past it.
#[test]
fn a_fixed_schedule_makes_the_rule_wait_past_the_plateau_before_the_decay() -> Result<()> {
    let plain = whatif_json(&[])?;
    let run = &plain["runs"][0];
    ensure!(stop_of(&plain)? < 1000.0, "stops on the plateau: {run}");
    ensure!(
        run["best_lost"].as_f64().is_some_and(|l| l > 0.03),
        "and loses the decay's gain: {run}"
    );
    assert_eq!(run["learning_rate"], "learning_rate");
    assert_eq!(run["schedule_passed"], Value::Null);
    assert_eq!(plain["method"], "fitted");

    let fixed = whatif_json(&["--lr-schedule", "fixed"])?;
    let run = &fixed["runs"][0];
    ensure!(stop_of(&fixed)? > 1000.0, "waits past the decay: {run}");
    ensure!(
        run["best_lost"].as_f64().is_some_and(|l| l < 0.01),
        "and keeps its gain: {run}"
    );
    assert_eq!(run["schedule_passed"], serde_json::json!([1000.0]));
    // `ignore` (alias `reactive`) is the default, said explicitly.
    for v in ["ignore", "reactive"] {
        let same = whatif_json(&["--lr-schedule", v])?;
        assert_eq!(stop_of(&same)?, stop_of(&plain)?, "{v}");
    }
    Ok(())
}

#[test]
fn the_text_says_once_how_to_use_a_recorded_rate_and_per_run_what_was_passed() -> Result<()> {
    let plain = whatif_text(&[])?;
    assert_eq!(
        plain.matches("--lr-schedule fixed").count(),
        1,
        "one note: {plain}"
    );
    assert!(plain.contains("1 of these logs records a learning rate, which was ignored"));
    assert!(plain.contains("(--method fitted)"), "{plain}");
    let fixed = whatif_text(&["--lr-schedule", "fixed"])?;
    assert!(
        fixed.contains(
            "learning rate `learning_rate`: 1 change point passed to the rule (step 1000)"
        ),
        "{fixed}"
    );
    assert!(!fixed.contains("which was ignored"), "{fixed}");
    assert!(!whatif_text(&["--lr-schedule", "ignore"])?.contains("which was ignored"));
    // A log without a learning rate: said per run, and the rule runs as without the flag.
    let lightning = data("short-logs/lightning");
    let p = lightning.to_str().context("utf-8 path")?;
    let out = text_of(&snuffer(&[
        "whatif",
        p,
        "--metric",
        "val_acc",
        "--lr-schedule",
        "fixed",
    ])?)?;
    assert!(
        out.contains("learning rate: the log records none; the rule ran without a schedule"),
        "{out}"
    );
    let without = text_of(&snuffer(&["whatif", p, "--metric", "val_acc"])?)?;
    assert!(!without.contains("learning rate"), "{without}");
    Ok(())
}

/// `--method prior|prior-calibrated|both` run, and the JSON, the text and the `--out` page
/// say which method decided (and the page's `snuffer replay` command carries it).
#[test]
fn prior_and_both_run_and_report_their_method() -> Result<()> {
    for m in ["prior", "prior-calibrated", "both"] {
        let v = whatif_json(&["--method", m, "--lr-schedule", "fixed"])?;
        assert_eq!(v["method"], m);
        assert_eq!(v["prior_weights"], Value::Null);
        assert_eq!(v["runs"][0]["schedule_passed"], serde_json::json!([1000.0]));
        let stop = stop_of(&v)?;
        ensure!(stop > 0.0 && stop <= 2000.0, "{m}: {v}");
        let text = whatif_text(&["--method", m])?;
        assert!(text.contains(&format!("(--method {m})")), "{text}");
        let tmp = tempfile::tempdir()?;
        let out = tmp.path().to_str().context("utf-8 path")?;
        whatif_text(&["--method", m, "--out", out])?;
        let html = std::fs::read_to_string(tmp.path().join("report.html"))?;
        assert!(
            html.contains(&format!("--method {m}")),
            "{m}: the page names it"
        );
        assert!(html.contains("learned prior"), "{m}");
    }
    // `both` stops no earlier than the fitted forecast alone: it stops only when both agree.
    let fitted = stop_of(&whatif_json(&["--lr-schedule", "fixed"])?)?;
    let both = stop_of(&whatif_json(&[
        "--method",
        "both",
        "--lr-schedule",
        "fixed",
    ])?)?;
    ensure!(both >= fitted, "both {both} < fitted {fitted}");
    Ok(())
}

#[test]
fn bad_combinations_are_clear_errors() -> Result<()> {
    let dir = data("lr-schedule");
    let d = dir.to_str().context("utf-8 path")?;
    let cases: [(&[&str], &[&str]); 5] = [
        (
            &["--prior-weights", "w.safetensors"],
            &["--prior-weights is for the learned prior", "--method prior"],
        ),
        (
            &["--policy", "patience", "--method", "prior"],
            &["--method", "patience", "--policy marginal"],
        ),
        (
            &["--policy", "never", "--lr-schedule", "fixed"],
            &["--lr-schedule fixed", "never-stop", "--policy marginal"],
        ),
        (
            &[
                "--method",
                "prior",
                "--prior-weights",
                "/nonexistent/w.safetensors",
            ],
            &["/nonexistent/w.safetensors"],
        ),
        (&["--lr-schedule", "sometimes"], &["fixed", "ignore"]),
    ];
    for (extra, want) in cases {
        let mut args = vec!["whatif", d];
        args.extend_from_slice(extra);
        let out = snuffer(&args)?;
        let err = String::from_utf8_lossy(&out.stderr);
        ensure!(
            !out.status.success() && out.status.code() == Some(2),
            "{extra:?}: {:?}",
            out.status
        );
        ensure!(!err.contains("panicked"), "{extra:?}: {err}");
        for w in want {
            ensure!(err.contains(w), "{extra:?}: `{w}` not in: {err}");
        }
    }
    Ok(())
}
