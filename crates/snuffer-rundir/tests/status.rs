//! Crashed runs get one status, and files that disagree with it are named.

use snuffer_rundir::{
    read_steps_with, read_summary, this_host, LogFacts, RunState, RunStatus, Writer,
    BEST_WEIGHTS_TMP_FILE, STEPS_FILE,
};
use std::path::Path;

const V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v1-run");

fn copy_fixture(to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for f in ["steps.jsonl", "summary.json", "emissions.csv"] {
        std::fs::copy(Path::new(V1).join(f), to.join(f))?;
    }
    Ok(())
}

/// The fixture's state: patience stopped it at step 260.
fn stopped_by_patience() -> RunState {
    RunState::Stopped {
        step: 260,
        policy: "patience".into(),
    }
}

fn assess(dir: &Path) -> anyhow::Result<RunStatus> {
    let summary = read_summary(dir)?;
    let mut facts = LogFacts::default();
    let end = read_steps_with(dir.join(STEPS_FILE), |l| facts.absorb(&l))?;
    facts.torn_line = end.torn_line;
    Ok(RunStatus::assess(dir, summary.as_ref(), Some(&facts)))
}

/// Regression: `snuffer compare` showed a run that crashed at step 0 as "saved … (100.0 %)".
#[test]
fn a_run_that_crashed_at_step_0_is_a_crash_not_a_saving() -> anyhow::Result<()> {
    let Some(host) = this_host() else {
        return Ok(()); // not Linux: the writer cannot be looked up
    };
    let mut child = std::process::Command::new("true").spawn()?;
    let dead = child.id();
    child.wait()?;
    let dir = tempfile::tempdir()?;
    let start = serde_json::json!({
        "kind": "start", "step": 0, "time_s": 0.0,
        "meta": {"format_version": 2, "pid": dead, "host": host, "metric_name": "acc",
                 "started_at": "2026-11-30T10:00:00Z"}
    });
    std::fs::write(dir.path().join(STEPS_FILE), format!("{start}\n"))?;
    let status = assess(dir.path())?;
    assert_eq!(
        status.state,
        RunState::Unfinished {
            last_step: 0,
            torn: false,
            writer: Writer::Gone
        }
    );
    assert_eq!(status.state.to_string(), "crashed at step 0");
    assert!(!status.state.is_finished(), "no saving can be claimed");

    // The same log written by this (live) process is a run in progress.
    let live = start.to_string().replace(
        &format!("\"pid\":{dead}"),
        &format!("\"pid\":{}", std::process::id()),
    );
    std::fs::write(dir.path().join(STEPS_FILE), format!("{live}\n"))?;
    assert_eq!(
        assess(dir.path())?.state.to_string(),
        "still running (step 0)"
    );
    Ok(())
}

/// Regression: a run whose steps.jsonl was cut but whose summary.json remains showed as
/// finished and crashed at once.
#[test]
fn a_cut_log_with_a_summary_has_one_status_and_names_the_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    copy_fixture(dir.path())?;
    let steps = dir.path().join(STEPS_FILE);
    let text = std::fs::read(&steps)?;
    std::fs::write(&steps, &text[..text.len() / 2])?;
    let status = assess(dir.path())?;
    assert_eq!(
        status.state,
        stopped_by_patience(),
        "the summary, written last, decides"
    );
    assert_eq!(status.disagreements.len(), 1, "{:?}", status.disagreements);
    let d = &status.disagreements[0];
    assert!(
        d.starts_with("steps.jsonl disagrees with summary.json") && d.contains("torn line"),
        "{d}"
    );
    Ok(())
}

#[test]
fn a_left_over_weights_temp_file_is_reported() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    copy_fixture(dir.path())?;
    assert!(assess(dir.path())?.leftovers.is_empty());
    std::fs::write(dir.path().join(BEST_WEIGHTS_TMP_FILE), b"half a tensor")?;
    let status = assess(dir.path())?;
    assert_eq!(status.leftovers.len(), 1);
    assert!(status.leftovers[0].contains("killed while saving its best weights"));
    Ok(())
}

#[test]
fn a_log_with_its_end_line_but_no_summary_says_the_summary_is_missing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    copy_fixture(dir.path())?;
    std::fs::remove_file(dir.path().join("summary.json"))?;
    let status = assess(dir.path())?;
    assert_eq!(status.state, stopped_by_patience());
    assert!(status.disagreements[0].starts_with("summary.json is missing"));
    Ok(())
}
