//! Issue 19, a user's first hour: every subcommand's `--help` shows examples, flags are
//! named alike, figures go through the one formatter, `whatif` matches metric spellings
//! and never pools two metrics' losses, and `compare` reads what the examples leave in
//! `runs/` (runs of several metrics, sweeps two levels down, runs of one name).

use anyhow::{ensure, Context, Result};
use serde_json::Value;
use snuffer_report::synthetic::SyntheticRun;
use std::path::Path;
use std::process::{Command, Output};

fn snuffer(dir: &Path, args: &[&str]) -> Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .args(args)
        .current_dir(dir)
        .env("SNUFFER_POWERCAP_ROOT", dir.join("no-powercap"))
        .output()?)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> Result<String> {
    ensure!(o.status.success(), "exit {:?}: {}", o.status, text(&o));
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// A number printed with more digits than the one formatter gives (`12.0000`, `672.000`).
fn has_padded_decimals(s: &str) -> bool {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|tok| {
            tok.split_once('.')
                .is_some_and(|(_, d)| d.len() >= 3 && d.ends_with("00"))
        })
}

#[test]
fn every_subcommand_help_shows_an_example() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let help = ok(snuffer(tmp.path(), &["--help"])?)?;
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    ensure!(commands.len() >= 9, "{help}");
    for c in commands {
        let sub = ok(snuffer(tmp.path(), &[c, "--help"])?)?;
        ensure!(
            sub.contains("Example") && sub.contains(&format!("  snuffer {c}")),
            "`snuffer {c} --help` shows no example:\n{sub}"
        );
    }
    Ok(())
}

#[test]
fn footprint_and_plan_share_flags_and_the_one_formatter() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path();
    for flag in ["--energy-kwh", "--kwh"] {
        let out = ok(snuffer(dir, &["footprint", flag, "12", "--region", "FR"])?)?;
        ensure!(
            out.contains("12.0 kWh") && out.contains("672 ± 101 g CO2e"),
            "{out}"
        );
        ensure!(!has_padded_decimals(&out), "padded figures:\n{out}");
        // The README promises CO2e and water: the water row is there, saying what it needs.
        ensure!(out.contains("water") && out.contains("--wue"), "{out}");
    }
    let out = ok(snuffer(
        dir,
        &[
            "footprint",
            "--energy-kwh",
            "1",
            "--wue",
            "0.2",
            "--duration",
            "2h",
            "--hardware",
            "8xh100-sxm5",
        ],
    )?)?;
    ensure!(out.contains("8 × h100") && out.contains("0.200 L"), "{out}");

    let csv = dir.join("grid.csv");
    std::fs::write(
        &csv,
        "timestamp,g_per_kwh\n2024-05-01T00:00:00Z,300\n2024-05-01T01:00:00Z,100\n\
         2024-05-01T02:00:00Z,200\n2024-05-01T03:00:00Z,400\n",
    )?;
    let csv = csv.to_string_lossy();
    for (file_flag, energy_flag) in [
        ("--intensity-csv", "--energy-kwh"),
        ("--intensity", "--kwh"),
    ] {
        let out = ok(snuffer(
            dir,
            &[
                "plan",
                file_flag,
                &csv,
                energy_flag,
                "3",
                "--duration",
                "1h",
                "--now",
                "2024-05-01T00:00:00Z",
            ],
        )?)?;
        let saving = out
            .lines()
            .find(|l| l.starts_with("saving"))
            .context("saving line")?;
        ensure!(!has_padded_decimals(saving), "{saving}");
    }
    Ok(())
}

#[test]
fn replay_names_the_tau_its_stops_used() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let curves = tmp.path().join("curves.csv");
    let mut csv = String::from("source,task,run_id,step,metric,metric_name,higher_is_better\n");
    for s in 1..=30 {
        let m = 0.9 * (1.0 - (-(s as f64) / 5.0).exp());
        csv.push_str(&format!("s,t,a,{s},{m},acc,true\n"));
    }
    std::fs::write(&curves, csv)?;
    let out = ok(snuffer(
        tmp.path(),
        &[
            "replay",
            "--curves",
            &curves.to_string_lossy(),
            "--policy",
            "marginal",
            "--tau-relative",
            "0.3",
            "--tau",
            "100000",
        ],
    )?)?;
    // The first line names the relative τ every stop used; 100000 per kWh only as the
    // oracle's (it was printed as the τ before).
    let first = out.lines().next().unwrap_or_default();
    ensure!(
        first.starts_with("τ = 0.3 (relative)") && first.contains("oracle"),
        "{out}"
    );
    Ok(())
}

#[test]
fn report_without_runs_latest_says_what_to_pass() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let o = snuffer(tmp.path(), &["report"])?;
    ensure!(!o.status.success());
    let err = text(&o);
    ensure!(
        err.contains("no runs/latest") && err.contains("snuffer report runs/"),
        "{err}"
    );
    Ok(())
}

/// A Lightning `metrics.csv` (no time column) whose `val_acc` plateaus, 20 evaluations.
fn lightning(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut csv = String::from("epoch,step,train_loss,val_acc,val_loss\n");
    for e in 0..20u32 {
        let step = 50 * (e + 1);
        let acc = 0.9 - 0.5 * (-(f64::from(e) + 1.0) / 3.0).exp();
        csv.push_str(&format!("{e},{step},{},,\n", 1.0 / f64::from(e + 1)));
        csv.push_str(&format!("{e},{step},,{acc},{}\n", 1.0 - acc));
    }
    std::fs::write(dir.join("metrics.csv"), csv)?;
    Ok(())
}

#[test]
fn whatif_matches_metric_spellings_and_names_what_it_assumed() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let logs = tmp.path().join("lightning_logs/version_0");
    lightning(&logs)?;
    let logs_s = logs.to_string_lossy().into_owned();
    let v: Value = serde_json::from_str(&ok(snuffer(
        tmp.path(),
        &[
            "whatif",
            &logs_s,
            "--metric",
            "accuracy",
            "--power-w",
            "300",
            "--json",
        ],
    )?)?)?;
    ensure!(v["runs"][0]["metric_name"] == "val_acc", "{v}");
    let out = ok(snuffer(
        tmp.path(),
        &["whatif", &logs_s, "--metric", "acc", "--power-w", "300"],
    )?)?;
    ensure!(
        !out.contains("no power was given") && out.contains("no time column"),
        "{out}"
    );
    // A metric no run has: named, and not a success.
    let o = snuffer(tmp.path(), &["whatif", &logs_s, "--metric", "bleu"])?;
    ensure!(
        !o.status.success() && text(&o).contains("bleu"),
        "{}",
        text(&o)
    );

    // Two metrics: their losses are never pooled into one median.
    let other = tmp.path().join("hf");
    std::fs::create_dir_all(&other)?;
    let history: Vec<Value> = (1..=20)
        .map(|i| {
            serde_json::json!({"step": i * 10, "epoch": i, "eval_loss": 2.0 / f64::from(i) + 0.5})
        })
        .collect();
    std::fs::write(
        other.join("trainer_state.json"),
        serde_json::json!({"global_step": 200, "max_steps": 200, "log_history": history})
            .to_string(),
    )?;
    let v: Value = serde_json::from_str(&ok(snuffer(
        tmp.path(),
        &["whatif", &logs_s, &other.to_string_lossy(), "--json"],
    )?)?)?;
    let per = v["totals"]["per_metric"].as_array().context("per_metric")?;
    ensure!(per.len() == 2, "{v}");
    ensure!(v["totals"]["best_lost_median"].is_null(), "{v}");
    Ok(())
}

/// Writes a synthetic run into `dir` named `name`, monitoring `metric`.
fn run(dir: &Path, name: &str, metric: &str, stopped: bool) -> Result<()> {
    SyntheticRun {
        name: name.into(),
        steps: if stopped { 1_000 } else { 3_000 },
        stopped,
        ..SyntheticRun::default()
    }
    .write(dir)?;
    for file in ["steps.jsonl", "summary.json"] {
        let p = dir.join(file);
        let t = std::fs::read_to_string(&p)?;
        std::fs::write(&p, t.replace("val_acc", metric))?;
    }
    Ok(())
}

#[test]
fn compare_reads_what_the_examples_leave_in_runs() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let runs = tmp.path().join("runs");
    run(
        &runs.join("quickstart-full"),
        "quickstart-full",
        "val_acc",
        false,
    )?;
    run(
        &runs.join("quickstart-snuffer"),
        "quickstart-snuffer",
        "val_acc",
        true,
    )?;
    run(
        &runs.join("char-lm-full-1"),
        "char-lm-full",
        "val_bpc",
        false,
    )?;
    run(
        &runs.join("char-lm-full-2"),
        "char-lm-full",
        "val_bpc",
        false,
    )?;
    let sweep = runs.join("sweep-example-1/repeat-1");
    run(&sweep.join("full/c01"), "c01", "val_acc", false)?;
    run(&sweep.join("snuffer/c01"), "c01", "val_acc", true)?;

    // `compare runs/*`: the sweep example's runs, two levels down, are found.
    let mut args: Vec<String> = vec!["compare".into()];
    let mut entries: Vec<_> = std::fs::read_dir(&runs)?
        .map(|e| e.map(|e| e.path().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    args.extend(entries);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = snuffer(tmp.path(), &argv)?;
    let out = ok(o)?;
    ensure!(
        out.contains("c01 (") && out.contains("val_bpc (2 runs)"),
        "{out}"
    );
    // One table per metric, rows named apart.
    ensure!(
        out.contains("char-lm-full (char-lm-full-1)")
            && out.contains("char-lm-full (char-lm-full-2)"),
        "{out}"
    );
    // `compare runs`: not one "sweep" of three metrics.
    let out = ok(snuffer(tmp.path(), &["compare", &runs.to_string_lossy()])?)?;
    ensure!(!out.starts_with("sweep "), "{out}");
    ensure!(
        out.contains("val_acc (") && out.contains("val_bpc ("),
        "{out}"
    );
    // A sweep directory is still a sweep, and its count of runs says what ran to the end.
    let out = ok(snuffer(
        tmp.path(),
        &["compare", &sweep.join("full").to_string_lossy()],
    )?)?;
    ensure!(out.starts_with("sweep "), "{out}");
    // Two runs get a page too.
    let page = tmp.path().join("page");
    let out = ok(snuffer(
        tmp.path(),
        &[
            "compare",
            &runs.join("quickstart-full").to_string_lossy(),
            &runs.join("quickstart-snuffer").to_string_lossy(),
            "--html",
            &page.to_string_lossy(),
        ],
    )?)?;
    ensure!(page.join("report.html").is_file(), "{out}");
    ensure!(
        !out.contains("measured"),
        "estimates are not measured:\n{out}"
    );
    Ok(())
}

#[test]
fn measure_prints_energy_through_the_one_formatter() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let o = snuffer(tmp.path(), &["measure", "--", "sh", "-c", "exit 0"])?;
    ensure!(o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let total = err
        .lines()
        .find(|l| l.trim_start().starts_with("total"))
        .context("total line")?;
    // `0.000 J` and `6.637 J` were fixed three decimals; the formatter gives significant
    // digits with the unit it picks.
    ensure!(
        !total.contains("0.000 J") && (total.contains(" J") || total.contains("Wh")),
        "{err}"
    );
    Ok(())
}
