//! Every subcommand that prints to stdout ends quietly when its reader has gone
//! (`snuffer footprint --list-regions | head -1`): no panic, no backtrace.
//!
//! The read end of the pipe is closed before the command starts, so its very first write
//! meets a closed pipe whatever the size of its output.

use anyhow::Result;
use snuffer_report::synthetic::SyntheticRun;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

const CURVES: &str = "source,task,run_id,step,metric,metric_name,higher_is_better\n\
    s,t,a,1,0.30,acc,true\ns,t,a,2,0.50,acc,true\ns,t,a,3,0.60,acc,true\ns,t,a,4,0.65,acc,true\n\
    s,t,a,5,0.67,acc,true\ns,t,a,6,0.68,acc,true\n\
    s,t,b,1,0.20,acc,true\ns,t,b,2,0.40,acc,true\ns,t,b,3,0.45,acc,true\ns,t,b,4,0.47,acc,true\n";

const INTENSITY: &str = "timestamp,g_per_kwh\n2024-05-01T00:00:00Z,300\n\
    2024-05-01T01:00:00Z,100\n2024-05-01T02:00:00Z,200\n2024-05-01T03:00:00Z,400\n";

/// One invocation per output form of each subcommand, keyed by the subcommand's name.
fn cases(dir: &Path) -> Result<Vec<(&'static str, Vec<OsString>)>> {
    let curves = dir.join("curves.csv");
    std::fs::write(&curves, CURVES)?;
    let intensity = dir.join("intensity.csv");
    std::fs::write(&intensity, INTENSITY)?;
    let run_a = dir.join("run-a");
    let run_b = dir.join("run-b");
    for (run, stopped) in [(&run_a, false), (&run_b, true)] {
        SyntheticRun {
            stopped,
            steps: 300,
            ..SyntheticRun::default()
        }
        .write(run)?;
    }
    let (c, i) = (curves.to_string_lossy(), intensity.to_string_lossy());
    let (a, b) = (run_a.to_string_lossy(), run_b.to_string_lossy());
    // Subcommands with a text and a `--json` form.
    let both: [(&'static str, Vec<&str>); 7] = [
        ("probe", vec!["--window-ms", "100"]),
        ("forecast", vec!["--curves", &c, "--observed", "0.5"]),
        ("replay", vec!["--curves", &c, "--policy", "patience"]),
        ("footprint", vec!["--kwh", "12", "--region", "FR"]),
        (
            "plan",
            vec![
                "--intensity",
                &i,
                "--energy-kwh",
                "1",
                "--duration",
                "1h",
                "--now",
                "2024-05-01T00:00:00Z",
            ],
        ),
        ("compare", vec![&a, &b]),
        ("whatif", vec![&a, &b]),
    ];
    let mut cases = Vec::new();
    let os = |name: &str, rest: &[&str]| -> Vec<OsString> {
        std::iter::once(name)
            .chain(rest.iter().copied())
            .map(OsString::from)
            .collect()
    };
    for (name, rest) in &both {
        cases.push((*name, os(name, rest)));
        let mut json = rest.clone();
        json.push("--json");
        cases.push((*name, os(name, &json)));
    }
    cases.push(("footprint", os("footprint", &["--list-regions"])));
    cases.push(("footprint", os("footprint", &["--list-regions", "--json"])));
    cases.push(("measure", os("measure", &["--json", "--", "true"])));
    cases.push(("report", os("report", &[&a])));
    // A directory of runs alone is compared as a sweep: its table and its JSON.
    let sweep = dir.to_string_lossy();
    cases.push(("compare", os("compare", &[&sweep])));
    cases.push(("compare", os("compare", &[&sweep, "--json"])));
    Ok(cases)
}

#[test]
fn no_command_panics_when_its_output_goes_to_a_closed_pipe() -> Result<()> {
    let dir = tempfile::tempdir()?;
    for (name, args) in cases(dir.path())? {
        let (reader, writer) = std::io::pipe()?;
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_snuffer"))
            .args(&args)
            .env("SNUFFER_POWERCAP_ROOT", dir.path().join("no-powercap"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()?;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{name} {args:?}: {err}"
        );
        // Ended by SIGPIPE at its first write, like any Unix filter.
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGPIPE),
            "{name} {args:?}: {:?}, stderr {err}",
            out.status
        );
    }
    Ok(())
}

/// Issue 20, item 2: a full disk (`> /dev/full`) ends every command with a clear error and
/// a non-zero status, not a panic ("failed printing to stdout").
#[test]
fn no_command_panics_when_its_output_goes_to_a_full_disk() -> Result<()> {
    let dir = tempfile::tempdir()?;
    for (name, args) in cases(dir.path())? {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full")?;
        let out = Command::new(env!("CARGO_BIN_EXE_snuffer"))
            .args(&args)
            .env("SNUFFER_POWERCAP_ROOT", dir.path().join("no-powercap"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(full)
            .stderr(Stdio::piped())
            .output()?;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{name} {args:?}: {err}");
        assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {err}");
        assert!(
            err.contains("cannot write the output") && err.contains("disk holding it is full"),
            "{name} {args:?}: {err}"
        );
    }
    Ok(())
}

/// A subcommand added later must get its own case above.
#[test]
fn every_subcommand_has_a_closed_pipe_case() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let covered: Vec<&str> = cases(dir.path())?.iter().map(|c| c.0).collect();
    let help = Command::new(env!("CARGO_BIN_EXE_snuffer"))
        .arg("--help")
        .output()?;
    let help = String::from_utf8(help.stdout)?;
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 8, "{help}");
    for c in commands {
        assert!(
            covered.contains(&c),
            "`snuffer {c}` has no case in closed_pipe.rs: add one per output form"
        );
    }
    Ok(())
}
