//! `snuffer replay` on a fixed subset of shared-style curves must print exactly what it printed
//! when the outputs in `tests/data/golden` were made: a change in the stop rule, the
//! forecaster, the curves reader, the replay or its printing fails here. `SNUFFER_BLESS=1`
//! rewrites the outputs (see `tests/data/golden/README.md`).

use std::path::PathBuf;
use std::process::Command;

/// Each golden output and the `snuffer replay` arguments after `--curves FILE` that made it.
const CASES: &[(&str, &[&str])] = &[
    (
        "relative-0.1.txt",
        &[
            "--policy",
            "marginal",
            "--tau-relative",
            "0.1",
            "--tau",
            "0.05",
        ],
    ),
    (
        "relative-0.3.json",
        &[
            "--policy",
            "marginal",
            "--tau-relative",
            "0.3",
            "--tau",
            "0.05",
            "--json",
        ],
    ),
    (
        "absolute-500.json",
        &["--policy", "marginal", "--tau", "500", "--json"],
    ),
    (
        "sweep-500.json",
        &["--policy", "marginal", "--tau", "500", "--sweep", "--json"],
    ),
    (
        "sweep-relative-0.3.txt",
        &[
            "--policy",
            "marginal",
            "--tau-relative",
            "0.3",
            "--tau",
            "0.05",
            "--sweep",
        ],
    ),
];

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden")
}

#[test]
fn replay_prints_exactly_the_golden_outputs() {
    let dir = golden_dir();
    let curves = dir.join("curves.csv");
    let bless = std::env::var_os("SNUFFER_BLESS").is_some();
    let mut differ = Vec::new();
    for (name, args) in CASES {
        let out = Command::new(env!("CARGO_BIN_EXE_snuffer"))
            .arg("replay")
            .arg("--curves")
            .arg(&curves)
            .args(*args)
            // One thread or many: the output is the same; one keeps the test light.
            .env("RAYON_NUM_THREADS", "1")
            .output()
            .expect("run snuffer");
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = dir.join(name);
        if bless {
            std::fs::write(&path, &out.stdout).expect("write golden output");
            continue;
        }
        let want = std::fs::read(&path).expect("read golden output");
        if want != out.stdout {
            let got = String::from_utf8_lossy(&out.stdout);
            let want = String::from_utf8_lossy(&want);
            let line = got
                .lines()
                .zip(want.lines())
                .position(|(g, w)| g != w)
                .unwrap_or(got.lines().count().min(want.lines().count()));
            differ.push(format!(
                "{name} differs from line {}:\n  got:  {}\n  want: {}",
                line + 1,
                got.lines().nth(line).unwrap_or("(end)"),
                want.lines().nth(line).unwrap_or("(end)")
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "replay output changed (SNUFFER_BLESS=1 remakes it when meant):\n{}",
        differ.join("\n")
    );
}

/// `--tuning` reaches the stop rule: naming every constant at its default changes nothing,
/// and a constant out of range is an error naming it, before any replay.
#[test]
fn tuning_the_rule_by_its_defaults_changes_nothing_and_a_bad_constant_is_named() {
    let dir = golden_dir();
    let curves = dir.join("curves.csv");
    let defaults = "warmup_fraction=0.15,min_evaluations=5,consecutive=2,agree_span_fraction=0.05,\
                    idle_decay=0.15,learning_noise_levels=4,learning_share=0.02,\
                    schedule_prior_share=0.5,schedule_jump_window=0.1,\
                    horizon_shares=0.125/0.25/0.5/1,min_references=3,best_loss_share=0.01,\
                    prefix_shares=1/0.75/0.5/0.25,\
                    sweep_warmup_fraction=0.037037037037037035";
    let replay = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_snuffer"))
            .arg("replay")
            .arg("--curves")
            .arg(&curves)
            .args(["--policy", "marginal", "--tau", "500", "--sweep", "--json"])
            .args(extra)
            .env("RAYON_NUM_THREADS", "1")
            .output()
            .expect("run snuffer")
    };
    let out = replay(&["--tuning", defaults]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = std::fs::read(dir.join("sweep-500.json")).expect("read golden output");
    assert!(
        out.stdout == want,
        "the defaults named in --tuning changed the replay"
    );
    let bad = replay(&["--tuning", "consecutive=0"]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        !bad.status.success() && err.contains("consecutive"),
        "{err}"
    );
    assert!(bad.stdout.is_empty(), "nothing replayed before the error");
}
