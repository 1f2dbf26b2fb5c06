//! `snuffer replay` / `snuffer whatif` with the early-stopping flags reproduce the
//! frameworks' own early-stopping tests (the same cases as the policy crate's
//! `tests/compat_*.rs`): epoch `e` of a framework is step `e + 1` here.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn snuffer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .output()
        .expect("run snuffer")
}

/// One run, one row per epoch (step = epoch + 1).
fn curve(dir: &Path, name: &str, metrics: &[f64], higher_is_better: bool) -> PathBuf {
    let mut text = String::from("source,task,run_id,step,metric,metric_name,higher_is_better\n");
    for (e, m) in metrics.iter().enumerate() {
        let metric = if higher_is_better {
            "val_acc"
        } else {
            "val_loss"
        };
        text += &format!("t,t,{name},{},{m},{metric},{higher_is_better}\n", e + 1);
    }
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, text).expect("write curve");
    path
}

/// The single run of `replay --json` with `flags`.
fn replay(path: &Path, flags: &[&str]) -> Value {
    let mut args = vec!["replay", "--curves", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(flags);
    let out = snuffer(&args);
    assert!(
        out.status.success(),
        "{flags:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["runs"][0].clone()
}

/// (stopped, stop step, reason policy, best step).
fn outcome(r: &Value) -> (bool, f64, String, Option<f64>) {
    (
        r["stopped"].as_bool().unwrap(),
        r["stop_step"].as_f64().unwrap(),
        r["reason"]["policy"].as_str().unwrap_or("-").to_string(),
        r["best_step"].as_f64(),
    )
}

#[test]
fn keras_cases_replay_under_compat_keras() {
    let dir = tempfile::tempdir().unwrap();
    let losses = [10.0, 9.0, 8.0, 9.0, 8.9, 8.8, 8.7, 8.6, 8.5];
    let f = curve(dir.path(), "patience", &losses, false);
    // test_early_stopping_patience: stopped_epoch == max(patience, 1) + 2.
    for p in [0u32, 1, 2, 3] {
        let ps = p.to_string();
        let r = replay(
            &f,
            &[
                "--policy",
                "patience",
                "--compat",
                "keras",
                "--patience",
                &ps,
            ],
        );
        let want = (p.max(1) + 2 + 1) as f64;
        assert_eq!(outcome(&r).1, want, "patience {p}: {r}");
        assert!(r["stopped"].as_bool().unwrap());
    }
    // test_early_stopping_final_weights_when_restoring_model_weights: stop at epoch 4,
    // restore epoch 2 (step 3).
    let f = curve(dir.path(), "restore", &[0.2, 0.15, 0.1, 0.11, 0.12], false);
    let r = replay(
        &f,
        &[
            "--policy",
            "patience",
            "--compat",
            "keras",
            "--patience",
            "2",
        ],
    );
    assert_eq!(
        outcome(&r),
        (true, 5.0, "patience".into(), Some(3.0)),
        "{r}"
    );
    let f = curve(
        dir.path(),
        "baseline",
        &[0.9, 0.8, 0.7, 0.71, 0.72, 0.73],
        false,
    );
    let r = replay(
        &f,
        &[
            "--policy",
            "patience",
            "--compat",
            "keras",
            "--patience",
            "5",
            "--baseline",
            "0.5",
        ],
    );
    assert_eq!(
        outcome(&r),
        (true, 5.0, "patience".into(), Some(3.0)),
        "{r}"
    );
    // The same through the KEY=VALUE string.
    let r = replay(
        &f,
        &[
            "--policy",
            "patience",
            "--early-stopping",
            "compat=keras,patience=5,baseline=0.5",
        ],
    );
    assert_eq!(outcome(&r).1, 5.0, "{r}");
}

#[test]
fn keras_start_from_epoch_on_a_csv_logger_file_does_not_shift() {
    // Keras's CSVLogger counts epochs from 0; they import as steps 1, 2, ….
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("epoch,loss,val_loss\n");
    for e in 0..10 {
        text += &format!("{e},0.5,0.7\n");
    }
    let log = dir.path().join("training.log.csv");
    std::fs::write(&log, text).unwrap();
    // test_early_stopping_with_start_from_epoch: start_from_epoch 2, patience 0 and 3: epochs
    // 0 and 1 ignored, epoch 2 the first best, stop at epoch 3 (patience 0) or 5 (patience 3).
    for (p, epoch) in [("0", 3.0), ("3", 5.0)] {
        let out = snuffer(&[
            "whatif",
            log.to_str().unwrap(),
            "--metric",
            "val_loss",
            "--policy",
            "patience",
            "--compat",
            "keras",
            "--patience",
            p,
            "--start-from-epoch",
            "2",
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["runs"][0]["stop_step"].as_f64(),
            Some(epoch + 1.0),
            "patience {p}: {v}"
        );
    }
}

#[test]
fn lightning_cases_replay_under_compat_lightning() {
    let dir = tempfile::tempdir().unwrap();
    let lightning = ["--policy", "patience", "--compat", "lightning"];
    let run = |name: &str, losses: &[f64], extra: &[&str]| {
        let f = curve(dir.path(), name, losses, false);
        let mut flags = lightning.to_vec();
        flags.extend_from_slice(extra);
        outcome(&replay(&f, &flags))
    };
    // test_early_stopping_patience.
    assert_eq!(
        run("p1", &[6., 5., 5., 5., 5., 5.], &["--patience", "3"]).1,
        5.0
    );
    assert_eq!(
        run("p2", &[6., 5., 4., 4., 3., 3.], &["--patience", "1"]).1,
        4.0
    );
    assert_eq!(
        run("p3", &[6., 5., 6., 5., 5., 5.], &["--patience", "3"]).1,
        5.0
    );
    // test_early_stopping_thresholds.
    assert_eq!(run("t1", &[8., 4., 2., 3., 4., 5., 8., 10.], &[]).1, 6.0);
    let t2 = run(
        "t2",
        &[9., 8., 7., 6., 5., 6., 4., 3., 2., 1.],
        &["--stopping-threshold", "2.9"],
    );
    assert_eq!((t2.1, t2.2.as_str()), (9.0, "target"));
    let t3 = run(
        "t3",
        &[9., 4., 2., 16., 32., 64.],
        &["--divergence-threshold", "15.9"],
    );
    assert_eq!((t3.1, t3.2.as_str()), (4.0, "divergence"));
    // test_early_stopping_on_non_finite_monitor.
    let nan = run("nan", &[4., 3., f64::NAN, 2., 1.], &[]);
    assert_eq!((nan.1, nan.2.as_str()), (3.0, "divergence"));
    // The strict threshold: Lightning stops at 1 (step 4), Snuffer at 2.9 (step 3).
    assert_eq!(
        run(
            "strict",
            &[5., 3., 2.9, 1.],
            &["--stopping-threshold", "2.9"]
        )
        .1,
        4.0
    );
    let f = curve(dir.path(), "inclusive", &[5., 3., 2.9, 1.], false);
    let r = replay(&f, &["--policy", "target", "--target", "2.9"]);
    assert_eq!(outcome(&r).1, 3.0);
}

#[test]
fn trainer_cases_replay_under_compat_hf() {
    let dir = tempfile::tempdir().unwrap();
    // The example: the threshold is measured from the raw running best.
    let f = curve(dir.path(), "hf", &[0.80, 0.86, 0.92, 0.98], true);
    let hf = [
        "--policy",
        "patience",
        "--compat",
        "hf",
        "--early-stopping-patience",
        "2",
        "--early-stopping-threshold",
        "0.1",
    ];
    assert_eq!(
        outcome(&replay(&f, &hf)),
        (true, 3.0, "patience".into(), Some(3.0))
    );
    // Snuffer's default never stops it, and still reports the best step.
    let r = replay(
        &f,
        &[
            "--policy",
            "patience",
            "--patience",
            "2",
            "--min-delta",
            "0.1",
        ],
    );
    assert_eq!(outcome(&r), (false, 4.0, "-".into(), Some(4.0)), "{r}");
    // patience 0 under the Trainer stops at the first evaluation.
    let r = replay(
        &f,
        &["--policy", "patience", "--compat", "hf", "--patience", "0"],
    );
    assert_eq!(outcome(&r).1, 1.0);
}

#[test]
fn a_stop_on_the_last_row_says_stopped_and_nan_is_no_improvement_without_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let f = curve(dir.path(), "last", &[0.5, 0.6, 0.55], true);
    let r = replay(&f, &["--policy", "patience", "--patience", "1"]);
    assert_eq!(
        outcome(&r),
        (true, 3.0, "patience".into(), Some(2.0)),
        "{r}"
    );
    assert_eq!(r["stopped_early"].as_bool(), Some(false));
    let f = curve(dir.path(), "nan", &[0.5, f64::NAN, 0.6, 0.7], true);
    let r = replay(
        &f,
        &[
            "--policy",
            "patience",
            "--patience",
            "2",
            "--no-check-finite",
        ],
    );
    assert!(!outcome(&r).0, "{r}");
    let r = replay(&f, &["--policy", "patience", "--patience", "2"]);
    assert_eq!(outcome(&r).2, "divergence", "{r}");
}

#[test]
fn whatif_out_gives_a_replay_command_that_reproduces_the_stop() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("epoch,loss,val_loss\n");
    for (e, l) in [0.2, 0.15, 0.1, 0.11, 0.12, 0.13, 0.14].iter().enumerate() {
        text += &format!("{e},0.5,{l}\n");
    }
    let log = dir.path().join("log.csv");
    std::fs::write(&log, text).unwrap();
    let out_dir = dir.path().join("out");
    let args = [
        "whatif",
        log.to_str().unwrap(),
        "--policy",
        "patience",
        "--compat",
        "keras",
        "--patience",
        "2",
        "--out",
        out_dir.to_str().unwrap(),
        "--json",
    ];
    let out = snuffer(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // test_early_stopping_final_weights_when_restoring_model_weights: stop at epoch 4.
    assert_eq!(v["runs"][0]["stop_step"].as_f64(), Some(5.0), "{v}");
    assert!(
        v["totals"]["tau"].as_str().unwrap().contains("not used"),
        "{v}"
    );
    let page = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(
        page.contains("--policy patience --compat keras --patience 2"),
        "the page names the replay command"
    );
    let curves = out_dir.join("curves.csv");
    let r = replay(
        &curves,
        &[
            "--policy",
            "patience",
            "--compat",
            "keras",
            "--patience",
            "2",
            "--no-check-finite",
        ],
    );
    assert_eq!(outcome(&r).1, 5.0);
}

#[test]
fn step_settings_are_in_recorded_steps_also_when_they_are_fractional() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("source,task,run_id,step,metric,metric_name,higher_is_better\n");
    for (s, m) in [(0.5, 0.9), (1.0, 0.1), (1.5, 0.5), (2.0, 0.4), (2.5, 0.6)] {
        text += &format!("t,t,half,{s},{m},val_acc,true\n");
    }
    let f = dir.path().join("half.csv");
    std::fs::write(&f, text).unwrap();
    // Steps ≤ 1 ignored: 0.5 is the first best, 0.4 at step 2 no improvement.
    let r = replay(
        &f,
        &[
            "--policy",
            "patience",
            "--patience",
            "1",
            "--start-from",
            "1",
        ],
    );
    assert_eq!(outcome(&r).1, 2.0, "{r}");
    // min_steps 2.5 in recorded steps holds that stop until the last row.
    let r = replay(
        &f,
        &[
            "--policy",
            "patience",
            "--patience",
            "1",
            "--start-from",
            "1",
            "--min-steps",
            "3",
        ],
    );
    assert!(!outcome(&r).0, "{r}");
}

#[test]
fn misplaced_or_bad_settings_are_clear_errors_and_help_has_examples() {
    let dir = tempfile::tempdir().unwrap();
    let f = curve(dir.path(), "x", &[0.5, 0.6], true);
    let p = f.to_str().unwrap();
    for (args, want) in [
        (
            vec!["--policy", "marginal", "--tau", "1", "--baseline", "0.5"],
            "--baseline",
        ),
        (
            vec![
                "--policy",
                "patience",
                "--compat",
                "lightning",
                "--baseline",
                "0.5",
            ],
            "baseline",
        ),
        (
            vec!["--policy", "patience", "--min-delta", "-1"],
            "--min-delta",
        ),
        (
            vec!["--policy", "patience", "--early-stopping", "patiense=3"],
            "unknown key",
        ),
        (vec!["--policy", "target"], "--target"),
    ] {
        let mut all = vec!["replay", "--curves", p];
        all.extend_from_slice(&args);
        let out = snuffer(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(want) && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
    for cmd in ["replay", "whatif"] {
        let out = snuffer(&[cmd, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in [
            "--compat",
            "--start-from-epoch",
            "--min-delta-relative",
            "--divergence-threshold",
            "--stopping-threshold",
            "--no-check-finite",
            "--min-steps",
            "--eval-delay",
            "--early-stopping-patience",
            "--mode",
            "e.g. `--baseline 0.5`",
        ] {
            assert!(help.contains(flag), "{cmd} --help lacks {flag}");
        }
    }
}
