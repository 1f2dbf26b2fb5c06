//! End-to-end tests of `snuffer replay`: the built binary on small curves files.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HEADER: &str = "source,task,run_id,step,metric,metric_name,higher_is_better,epoch_time_s";

/// A saturating run (optimum of U = M − τE analytic), a diverging run, a short run and a run
/// that keeps improving.
fn curves(dir: &Path) -> PathBuf {
    let mut text = format!("{HEADER}\n");
    for t in 1..=100 {
        let m = 0.9 * (1.0 - (-(t as f64) / 10.0).exp());
        text += &format!("syn,exp,saturating,{t},{m:.6},score,true,36\n");
    }
    for t in 1..=30 {
        let m = if t < 12 {
            format!("{:.4}", 5.0 - 0.1 * t as f64)
        } else {
            "NaN".into()
        };
        text += &format!("syn,exp,diverging,{t},{m},loss,false,36\n");
    }
    for t in 1..=3 {
        text += &format!("syn,exp,short,{t},0.5,acc,true,36\n");
    }
    for t in 1..=50 {
        text += &format!("syn,exp,linear,{t},{:.4},acc,true,36\n", 0.01 * t as f64);
    }
    let path = dir.join("curves.csv");
    std::fs::write(&path, text).expect("write curves");
    path
}

fn snuffer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .output()
        .expect("run snuffer")
}

fn json_of(out: &Output) -> anyhow::Result<Value> {
    anyhow::ensure!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn run_of<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["runs"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["run_id"] == id))
        .unwrap_or_else(|| panic!("run {id} in {v}"))
}

#[test]
fn marginal_json_has_the_documented_shape_and_sensible_stops() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let f = curves(dir.path());
    // 36 s at 1000 W = 0.01 kWh per step; τ puts the saturating run's optimum at t = 30.
    let tau = 0.9 / (10.0 * 0.01) * (-3.0f64).exp();
    let out = snuffer(&[
        "replay",
        "--curves",
        f.to_str().unwrap(),
        "--policy",
        "marginal",
        "--tau",
        &tau.to_string(),
        "--power-w",
        "1000",
        "--json",
    ]);
    let v = json_of(&out)?;
    for key in [
        "task",
        "run_id",
        "stop_step",
        "last_step",
        "energy_used_j",
        "energy_full_j",
        "best_at_stop",
        "best_full",
        "oracle_step",
        "utility_capture",
    ] {
        assert!(run_of(&v, "saturating").get(key).is_some(), "missing {key}");
    }
    for key in [
        "energy_saved",
        "median_regret",
        "mean_regret",
        "utility_capture_median",
        "runs",
    ] {
        assert!(v["summary"].get(key).is_some(), "missing summary.{key}");
    }
    assert_eq!(v["summary"]["runs"], 4);

    let sat = run_of(&v, "saturating");
    let stop = sat["stop_step"].as_f64().unwrap();
    assert!(
        (sat["oracle_step"].as_f64().unwrap() - 30.0).abs() <= 1.0,
        "{sat}"
    );
    // The optimistic bound keeps the run alive past t* (see the known-answer test of
    // snuffer-policy); it must still stop well before the end and capture most of the gain.
    assert!(
        (25.0..=70.0).contains(&stop),
        "saturating run stopped at {stop}"
    );
    assert!(sat["utility_capture"].as_f64().unwrap() > 0.5, "{sat}");
    assert!(sat["energy_used_j"].as_f64() < sat["energy_full_j"].as_f64());

    let div = run_of(&v, "diverging");
    assert_eq!(
        div["stop_step"], 12.0,
        "NaN triggers the divergence rule: {div}"
    );
    assert_eq!(div["reason"]["policy"], "divergence");

    let short = run_of(&v, "short");
    assert_eq!(short["stop_step"], 3.0);
    assert!(
        short["note"].as_str().unwrap_or("").contains("warm-up"),
        "{short}"
    );

    let lin = run_of(&v, "linear");
    assert_eq!(lin["stop_step"], 50.0, "a run still paying goes on: {lin}");
    assert_eq!(lin["utility_capture"], 1.0);
    Ok(())
}

#[test]
fn sweep_patience_target_and_never() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let f = curves(dir.path());
    let p = f.to_str().unwrap();
    let v = json_of(&snuffer(&[
        "replay",
        "--curves",
        p,
        "--policy",
        "marginal",
        "--tau-sweep",
        "0.1,10",
        "--json",
    ]))?;
    let sweep = v["sweep"].as_array().expect("sweep");
    assert_eq!(sweep.len(), 2);
    let saved = |i: usize| sweep[i]["summary"]["energy_saved"].as_f64().unwrap();
    assert!(
        saved(1) >= saved(0),
        "a higher τ saves at least as much: {} vs {}",
        saved(1),
        saved(0)
    );

    let never = json_of(&snuffer(&[
        "replay", "--curves", p, "--policy", "never", "--tau", "1", "--json",
    ]))?;
    assert_eq!(run_of(&never, "saturating")["stop_step"], 100.0);
    assert_eq!(
        run_of(&never, "diverging")["stop_step"],
        30.0,
        "never means never"
    );
    assert_eq!(never["summary"]["energy_saved"], 0.0);

    let pat = json_of(&snuffer(&[
        "replay",
        "--curves",
        p,
        "--policy",
        "patience",
        "--patience",
        "2",
        "--min-delta",
        "0.001",
        "--json",
    ]))?;
    assert!(run_of(&pat, "saturating")["stop_step"].as_f64().unwrap() < 100.0);
    assert!(
        run_of(&pat, "saturating")["utility_capture"].is_null(),
        "no τ, no capture"
    );

    let tgt = json_of(&snuffer(&[
        "replay", "--curves", p, "--policy", "target", "--target", "0.45", "--json",
    ]))?;
    assert_eq!(run_of(&tgt, "linear")["stop_step"], 45.0);

    let text = snuffer(&[
        "replay", "--curves", p, "--policy", "marginal", "--tau", "0.5",
    ]);
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("energy saved"));
    Ok(())
}

#[test]
fn bad_input_names_the_valid_options() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let f = curves(dir.path());
    let p = f.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["replay", "--curves", p, "--policy", "greedy"],
            &["marginal", "patience", "target", "never"],
        ),
        (
            &["replay", "--curves", p, "--policy", "marginal"],
            &["--tau", "--tau-sweep", "--tau-relative"],
        ),
        (
            &["replay", "--curves", p, "--policy", "target"],
            &["--target"],
        ),
        (
            &["replay", "--curves", p, "--policy", "marginal", "--tau=-1"],
            &["τ"],
        ),
        (
            &[
                "replay", "--curves", p, "--policy", "marginal", "--tau", "1", "--level", "2",
            ],
            &["level"],
        ),
        (
            &[
                "replay",
                "--curves",
                "/nonexistent/x.csv",
                "--policy",
                "never",
            ],
            &["/nonexistent/x.csv"],
        ),
    ];
    for (args, needles) in cases {
        let out = snuffer(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        for n in *needles {
            assert!(err.contains(n), "{args:?}: stderr lacks {n}: {err}");
        }
    }
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("{HEADER}\ns,t,r,1,oops,acc,true,1\n"))?;
    let out = snuffer(&[
        "replay",
        "--curves",
        bad.to_str().unwrap(),
        "--policy",
        "never",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("line 2") && err.contains("metric"),
        "{err}"
    );
    Ok(())
}

/// Runs are replayed on several threads, yet come out in the order of their first
/// appearance (here interleaved rows, uneven costs), identical to a one-thread replay; and
/// with stderr not a terminal, no progress bar is drawn.
#[test]
fn many_threads_give_the_one_thread_output_in_file_order() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut text = format!("{HEADER}\n");
    for t in 1..=40 {
        for r in 0..12 {
            // Runs of different lengths, their rows interleaved.
            if t <= 10 + 3 * r {
                let m = 0.8 * (1.0 - (-(t as f64) / (3.0 + r as f64)).exp());
                text += &format!("syn,task{},run{r:02},{t},{m:.5},acc,true,10\n", r % 4);
            }
        }
    }
    let path = dir.path().join("interleaved.csv");
    std::fs::write(&path, text)?;
    let p = path.to_str().unwrap_or_default();
    let replay = |threads: &str, command: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_snuffer"))
            .args(command)
            .env("RAYON_NUM_THREADS", threads)
            .output()
    };
    let commands: [&[&str]; 2] = [
        &[
            "replay",
            "--curves",
            p,
            "--policy",
            "marginal",
            "--tau-sweep",
            "0.5,5",
            "--json",
        ],
        &["forecast", "--curves", p, "--observed", "0.3", "--json"],
    ];
    for command in commands {
        let one = replay("1", command)?;
        let four = replay("4", command)?;
        let v = json_of(&four)?;
        assert_eq!(
            String::from_utf8_lossy(&one.stdout),
            String::from_utf8_lossy(&four.stdout),
            "{command:?}"
        );
        let runs = v["runs"]
            .as_array()
            .or_else(|| v["sweep"][0]["runs"].as_array())
            .cloned()
            .unwrap_or_default();
        let ids: Vec<&str> = runs.iter().filter_map(|r| r["run_id"].as_str()).collect();
        let want: Vec<String> = (0..12).map(|r| format!("run{r:02}")).collect();
        assert_eq!(ids, want, "{command:?}");
        assert!(
            four.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&four.stderr)
        );
    }
    Ok(())
}
