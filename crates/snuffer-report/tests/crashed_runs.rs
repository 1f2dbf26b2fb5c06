//! Crashed runs in `snuffer compare` and reports (issue 15): one status per run, no saving
//! claimed for a run that did not finish, the file that disagrees named, left-over temp
//! files reported.

use snuffer_report::synthetic::SyntheticRun;
use snuffer_report::{Comparison, RunData};
use std::path::Path;

fn finished(dir: &Path, name: &str, steps: u64) -> anyhow::Result<()> {
    SyntheticRun {
        name: name.into(),
        steps,
        ..SyntheticRun::default()
    }
    .write(dir)?;
    Ok(())
}

/// A start line written by a process of this machine that no longer exists.
fn crashed_at_step_0(dir: &Path) -> anyhow::Result<bool> {
    let Some(host) = snuffer_rundir::this_host() else {
        return Ok(false);
    };
    let mut child = std::process::Command::new("true").spawn()?;
    let pid = child.id();
    child.wait()?;
    std::fs::create_dir_all(dir)?;
    let start = serde_json::json!({"kind": "start", "step": 0, "time_s": 0.0,
        "meta": {"run_name": "crashed", "metric_name": "val_acc", "pid": pid, "host": host}});
    std::fs::write(dir.join("steps.jsonl"), format!("{start}\n"))?;
    Ok(true)
}

/// Regression: a run that crashed at step 0 showed as "saved … (100.0 %)".
#[test]
fn a_crash_at_step_0_claims_no_saving() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (full, crashed) = (tmp.path().join("full"), tmp.path().join("crashed"));
    finished(&full, "full", 3_000)?;
    if !crashed_at_step_0(&crashed)? {
        return Ok(()); // not Linux: the writer cannot be looked up
    }
    let cmp = Comparison::load(&[&full, &crashed])?;
    assert_eq!(cmp.longest, Some(0));
    let row = &cmp.rows[1];
    assert_eq!(row.status, "crashed at step 0");
    assert!(!row.finished);
    assert_eq!(
        (row.saved_vs_longest_j, row.saved_vs_longest_share),
        (None, None)
    );
    let table = cmp.table();
    let line = table
        .lines()
        .find(|l| l.starts_with("crashed"))
        .unwrap_or_default();
    assert!(line.trim_end().ends_with("crashed at step 0  -"), "{table}");
    assert!(!table.contains("100.0 %"), "{table}");
    Ok(())
}

/// Regression: a run whose steps.jsonl was cut but whose summary.json remains showed as
/// finished and crashed at once.
#[test]
fn a_cut_log_with_its_summary_has_one_status_and_says_which_file_disagrees() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    finished(tmp.path(), "cut", 3_000)?;
    let steps = tmp.path().join("steps.jsonl");
    let text = std::fs::read(&steps)?;
    std::fs::write(&steps, &text[..text.len() / 3])?;
    let run = RunData::load(tmp.path())?;
    assert_eq!(run.status.state.to_string(), "ran to its end");
    let notes = run.notes.join("\n");
    assert!(
        notes.contains("steps.jsonl disagrees with summary.json"),
        "{notes}"
    );
    assert!(!notes.contains("did not finish"), "one status: {notes}");
    let cmp = Comparison::from_runs(vec![run]);
    assert_eq!(cmp.rows[0].status, "ran to its end");
    assert_eq!(cmp.rows[0].steps, 3_000, "totals from the summary");
    Ok(())
}

#[test]
fn a_left_over_weights_temp_file_is_a_note() -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    finished(tmp.path(), "weights", 500)?;
    std::fs::write(tmp.path().join("best.safetensors.tmp"), b"partial")?;
    let run = RunData::load(tmp.path())?;
    assert!(
        run.notes
            .iter()
            .any(|n| n.starts_with("best.safetensors.tmp is left over")),
        "{:?}",
        run.notes
    );
    Ok(())
}
