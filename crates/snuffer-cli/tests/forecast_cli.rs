//! End-to-end tests of `snuffer forecast`: run the built binary on small curves files.

use std::path::Path;
use std::process::Command;

const HEADER: &str =
    "source,task,run_id,step,metric,metric_name,higher_is_better,epoch_time_s,extra\n";

/// Two accuracy runs, one loss run, and a run too short to forecast from.
fn write_curves(dir: &Path) -> std::path::PathBuf {
    let mut csv = String::from(HEADER);
    for run in ["a", "b"] {
        for e in 1..=30 {
            let acc = 0.8 - 0.6 * (e as f64).powf(-0.6) + if run == "b" { 0.01 } else { 0.0 };
            csv.push_str(&format!("s,img,{run},{e},{acc:.6},acc,true,1.5,x\n"));
        }
    }
    for s in 0..25 {
        let loss = 3.0 + 50.0 * (1.0 + s as f64).powf(-0.8);
        csv.push_str(&format!("s,lm,r1,{},{loss:.6},loss,false,,\n", s * 100));
    }
    csv.push_str("s,tiny,t1,1,0.5,acc,true,,\n");
    let path = dir.join("curves.csv");
    std::fs::write(&path, csv).expect("write fixture");
    path
}

/// The entry of `--json` output `v` for run `id`.
fn run_by_id<'a>(v: &'a serde_json::Value, id: &str) -> anyhow::Result<&'a serde_json::Value> {
    v["runs"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["run_id"] == id))
        .ok_or_else(|| anyhow::anyhow!("run {id} missing from {v}"))
}

fn snuffer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .output()
        .expect("run snuffer")
}

#[test]
fn json_output_has_the_documented_shape() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let curves = write_curves(dir.path());
    let out = snuffer(&[
        "forecast",
        "--curves",
        curves.to_str().unwrap_or_default(),
        "--observed",
        "0.3",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let runs = v["runs"].as_array().expect("runs array");
    assert_eq!(runs.len(), 4);
    let a = run_by_id(&v, "a")?;
    assert_eq!(a["task"], "img");
    assert_eq!(a["observed_points"], 9);
    assert_eq!(a["last_step"], 30.0);
    let (p, lo, hi, act) = (
        a["predicted"].as_f64().unwrap_or(f64::NAN),
        a["lo"].as_f64().unwrap_or(f64::NAN),
        a["hi"].as_f64().unwrap_or(f64::NAN),
        a["actual"].as_f64().unwrap_or(f64::NAN),
    );
    assert!(lo <= p && p <= hi, "{lo} {p} {hi}");
    assert!((act - (0.8 - 0.6 * 30f64.powf(-0.6))).abs() < 1e-5);
    // On a clean power law the forecast improves on the last observed value and its 80 %
    // interval holds the truth (the median itself leans optimistic by design).
    let last_seen = 0.8 - 0.6 * 9f64.powf(-0.6);
    assert!(p > last_seen, "{p} vs last seen {last_seen}");
    assert!(lo <= act && act <= hi, "actual {act} outside [{lo}, {hi}]");
    // The loss run stays a loss: predicted below its last observed value, above 0.
    let lm = runs.iter().find(|r| r["task"] == "lm").expect("loss run");
    let lp = lm["predicted"].as_f64().unwrap_or(f64::NAN);
    assert!(lp > 0.0 && lp < 3.0 + 50.0 * 8f64.powf(-0.8), "{lp}");
    // The one-point run cannot be forecast by the ensemble: listed with its reason.
    let tiny = runs.iter().find(|r| r["task"] == "tiny").expect("tiny run");
    assert!(tiny["predicted"].is_null());
    assert!(tiny["error"]
        .as_str()
        .unwrap_or("")
        .contains("at least 3 points"));
    assert_eq!(v["summary"]["runs"], 4);
    assert_eq!(v["summary"]["failed"], 1);
    assert!(v["summary"]["mae"].as_f64().is_some());
    assert!(v["summary"]["coverage"].as_f64().is_some());
    Ok(())
}

#[test]
fn baselines_and_human_output() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let curves = write_curves(dir.path());
    let path = curves.to_str().unwrap_or_default();
    let out = snuffer(&[
        "forecast",
        "--curves",
        path,
        "--observed",
        "0.5",
        "--method",
        "last",
        "--json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let a = run_by_id(&v, "a")?;
    let want = 0.8 - 0.6 * 15f64.powf(-0.6);
    assert!((a["predicted"].as_f64().unwrap_or(f64::NAN) - want).abs() < 1e-5);
    // The one-point run is fine for the last-value baseline.
    assert_eq!(v["summary"]["failed"], 0);

    let out = snuffer(&[
        "forecast",
        "--curves",
        path,
        "--observed",
        "0.5",
        "--method",
        "pow3",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("4 runs, 1 failed"), "{text}");
    assert!(text.contains("worst runs"), "{text}");
    assert!(
        text.contains("failed runs:") && text.contains("tiny / t1"),
        "{text}"
    );
    Ok(())
}

#[test]
fn bad_arguments_and_malformed_rows_are_explained() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let curves = write_curves(dir.path());
    let path = curves.to_str().unwrap_or_default();
    let out = snuffer(&["forecast", "--curves", path, "--observed", "1.5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--observed must be a fraction"));
    let out = snuffer(&[
        "forecast",
        "--curves",
        path,
        "--observed",
        "0.2",
        "--level",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2));

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("{HEADER}s,t,r,1,0.5,acc,true,,\ns,t,r,two,0.6,acc,true,,\n"),
    )?;
    let out = snuffer(&[
        "forecast",
        "--curves",
        bad.to_str().unwrap_or_default(),
        "--observed",
        "0.5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "{err}");
    Ok(())
}

#[test]
fn interval_scale_widens_the_intervals_and_rejects_nonsense() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let curves = write_curves(dir.path());
    let path = curves.to_str().unwrap_or_default();
    let with_scale = |scale: &str, json: bool| {
        let flag = format!("--interval-scale={scale}");
        let mut args = vec!["forecast", "--curves", path, "--observed", "0.3", &flag];
        if json {
            args.push("--json");
        }
        snuffer(&args)
    };
    let width_of_run_a = |scale: &str| -> anyhow::Result<f64> {
        let out = with_scale(scale, true);
        anyhow::ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let a = run_by_id(&v, "a")?;
        let (lo, hi) = (a["lo"].as_f64(), a["hi"].as_f64());
        match (lo, hi) {
            (Some(lo), Some(hi)) => Ok(hi - lo),
            _ => anyhow::bail!("run a has no interval: {a}"),
        }
    };
    let (narrow, wide) = (width_of_run_a("0.5")?, width_of_run_a("3")?);
    // Six times the spread; the upper end stops at the accuracy's bound of 1, so the
    // interval grows by less than that.
    assert!(wide > 1.5 * narrow, "{narrow} vs {wide}");
    for bad in ["0", "-1", "NaN"] {
        let out = with_scale(bad, false);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--interval-scale must be a positive"), "{err}");
    }
    Ok(())
}

/// A metric alternating ±1e308 was forecast as "-inf in [-inf, -inf]" and not counted as
/// failed; it is a failed run whose reason names the point.
#[test]
fn extreme_values_make_a_failed_run_with_the_reason() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut csv = String::from(HEADER);
    for e in 1..=20 {
        let v = if e % 2 == 1 { "1e308" } else { "-1e308" };
        csv.push_str(&format!("s,t,huge,{e},{v},score,true,,\n"));
        let acc = 0.8 - 0.6 * (e as f64).powf(-0.6);
        csv.push_str(&format!("s,t,fine,{e},{acc:.6},acc,true,,\n"));
    }
    let path = dir.path().join("extreme.csv");
    std::fs::write(&path, csv)?;
    let p = path.to_str().unwrap_or_default();
    let out = snuffer(&["forecast", "--curves", p, "--observed", "0.5", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let huge = run_by_id(&v, "huge")?;
    assert!(
        huge["predicted"].is_null() && huge["lo"].is_null(),
        "{huge}"
    );
    let reason = huge["error"].as_str().unwrap_or_default();
    assert!(
        reason.contains("index 0") && reason.contains("1e308"),
        "{reason}"
    );
    assert_eq!(v["summary"]["failed"], 1, "{v}");
    assert!(
        v["summary"]["mae"].as_f64().is_some_and(f64::is_finite),
        "{v}"
    );
    assert!(run_by_id(&v, "fine")?["predicted"].as_f64().is_some());

    let out = snuffer(&["forecast", "--curves", p, "--observed", "0.5"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 runs, 1 failed"), "{text}");
    assert!(
        text.contains("t / huge: metric at index 0 is 1e308"),
        "{text}"
    );
    assert!(!text.contains("inf"), "{text}");
    Ok(())
}

/// `--interval-scale 1e308` collapsed the interval to a point; it is an error naming it.
#[test]
fn a_huge_interval_scale_is_rejected_naming_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let curves = write_curves(dir.path());
    let p = curves.to_str().unwrap_or_default();
    let out = snuffer(&[
        "forecast",
        "--curves",
        p,
        "--observed",
        "0.3",
        "--interval-scale",
        "1e308",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("up to 100, got 1e308"), "{err}");
    Ok(())
}

/// `--method prior`: the learned prior forecasts every run it can, inside its interval, and
/// `replay --method prior` decides on it (the default stays the fitted forecast).
#[test]
fn the_learned_prior_forecasts_and_decides() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let curves = write_curves(dir.path());
    let c = curves.to_str().unwrap_or_default();
    let out = snuffer(&[
        "forecast",
        "--curves",
        c,
        "--observed",
        "0.3",
        "--method",
        "prior",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    for id in ["a", "b", "r1"] {
        let r = run_by_id(&v, id)?;
        let (p, lo, hi) = (
            r["predicted"].as_f64().unwrap_or(f64::NAN),
            r["lo"].as_f64().unwrap_or(f64::NAN),
            r["hi"].as_f64().unwrap_or(f64::NAN),
        );
        assert!(lo <= p && p <= hi, "{id}: {lo} {p} {hi}");
    }
    let prior = snuffer(&[
        "replay",
        "--curves",
        c,
        "--policy",
        "marginal",
        "--tau-relative",
        "0.3",
        "--method",
        "prior",
        "--json",
    ]);
    let fitted = snuffer(&[
        "replay",
        "--curves",
        c,
        "--policy",
        "marginal",
        "--tau-relative",
        "0.3",
        "--json",
    ]);
    assert!(
        prior.status.success(),
        "{}",
        String::from_utf8_lossy(&prior.stderr)
    );
    assert!(fitted.status.success());
    let p: serde_json::Value = serde_json::from_slice(&prior.stdout)?;
    let f: serde_json::Value = serde_json::from_slice(&fitted.stdout)?;
    assert_eq!(
        p["runs"].as_array().map(Vec::len),
        f["runs"].as_array().map(Vec::len)
    );
    let bad = snuffer(&[
        "replay", "--curves", c, "--policy", "marginal", "--tau", "1", "--method", "oracle",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("fitted"));
    Ok(())
}

/// `--method both` stops no run earlier than the fitted rule alone; `prior-calibrated` and
/// `--prior-weights` run; a weights file without the prior, or one that is not there, is a
/// clear error.
#[test]
fn the_prior_variants_and_their_weights() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let curves = write_curves(dir.path());
    let c = curves.to_str().unwrap_or_default();
    let replay = |extra: &[&str]| {
        let mut args = vec![
            "replay",
            "--curves",
            c,
            "--policy",
            "marginal",
            "--tau-relative",
            "0.3",
            "--json",
        ];
        args.extend_from_slice(extra);
        snuffer(&args)
    };
    let stops = |out: &std::process::Output| -> anyhow::Result<Vec<(String, f64)>> {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        Ok(v["runs"]
            .as_array()
            .map(|runs| {
                runs.iter()
                    .map(|r| {
                        (
                            r["run_id"].as_str().unwrap_or_default().to_string(),
                            r["stop_step"].as_f64().unwrap_or(f64::NAN),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    };
    let fitted = stops(&replay(&[]))?;
    let both = stops(&replay(&["--method", "both"]))?;
    assert_eq!(fitted.len(), both.len());
    for ((id, f), (_, b)) in fitted.iter().zip(&both) {
        assert!(
            b >= f,
            "{id}: both stopped at {b}, before the fitted rule's {f}"
        );
    }
    stops(&replay(&["--method", "prior-calibrated"]))?;
    // The shipped weights, given as a file, decide as the compiled-in ones.
    let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../snuffer-prior/model/prior.safetensors");
    let w = weights.to_str().unwrap_or_default();
    assert_eq!(
        stops(&replay(&["--method", "prior", "--prior-weights", w]))?,
        stops(&replay(&["--method", "prior"]))?
    );
    let without = replay(&["--prior-weights", w]);
    assert!(!without.status.success());
    assert!(String::from_utf8_lossy(&without.stderr).contains("--method prior"));
    let missing = replay(&[
        "--method",
        "prior",
        "--prior-weights",
        "no-such.safetensors",
    ]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no-such.safetensors"));
    Ok(())
}
