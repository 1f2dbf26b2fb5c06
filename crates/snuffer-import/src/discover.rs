//! Finding the runs under the paths a user gives.
//!
//! A directory holding `steps.jsonl` is one Snuffer run (nothing inside it is read apart);
//! every `trainer_state.json` is one Trainer run, except the copies in `checkpoint-N`
//! directories of the same output directory, of which only the latest (or the output
//! directory's own) is kept, since each holds the history up to its checkpoint; the event
//! files of one directory are one TensorBoard run; a `.csv` file whose header has a step
//! column is one CSV history. Hidden directories and symbolic links to directories are not
//! entered. The order is the paths' order, then file-name order.

use crate::run::{Format, ImportedRun};
use crate::{csv_history, rundir, tensorboard, trainer_state, ImportError, ImportOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A run found on disk, not yet read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The run's file, or its directory (Snuffer runs, TensorBoard runs).
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// The event files of a TensorBoard run (empty for other formats).
    pub files: Vec<PathBuf>,
}

impl Candidate {
    /// Reads the run.
    pub fn read(&self, options: &ImportOptions) -> Result<ImportedRun, ImportError> {
        match self.format {
            Format::SnufferRun => rundir::read(&self.path, options),
            Format::TrainerState => trainer_state::read(&self.path, options),
            Format::TensorBoard => tensorboard::read(&self.path, &self.files, options),
            Format::CsvHistory => csv_history::read(&self.path, options),
        }
    }
}

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// The runs, in the order found.
    pub candidates: Vec<Candidate>,
    /// Files passed over, with why (checkpoint copies of a Trainer state, CSV files without a
    /// step column).
    pub passed_over: Vec<(PathBuf, String)>,
}

/// Finds every run under `paths` (files or directories).
pub fn discover(paths: &[PathBuf], options: &ImportOptions) -> Result<Discovery, ImportError> {
    let mut found = Discovery::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| ImportError::io(p, e))?;
        if meta.is_dir() {
            let before = found.candidates.len();
            walk(p, options, &mut found)?;
            fold_checkpoints(&mut found, before);
        } else if let Some(kind) = special(&meta.file_type()) {
            found.passed_over.push((p.clone(), not_regular(kind)));
        } else {
            found.candidates.push(
                classify_file(p, options, true)?
                    .ok_or_else(|| ImportError::Unrecognised { path: p.clone() })?,
            );
        }
    }
    dedupe(&mut found);
    Ok(found)
}

/// What a file that is not a regular file is (`None` for a regular file or a directory):
/// discovery never opens one, since reading a FIFO blocks until a writer comes and a
/// device such as `/dev/zero` never ends.
fn special(t: &std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else {
        Some("not a regular file")
    }
}

fn not_regular(kind: &str) -> String {
    format!("{kind}, not a regular file: not opened (copy the log to a file to read it)")
}

/// A run reached twice (the same directory given twice, overlapping paths, a link) is
/// kept once, at its first appearance.
fn dedupe(found: &mut Discovery) {
    let mut seen = std::collections::HashSet::new();
    found.candidates.retain(|c| {
        let key = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        let mut files: Vec<PathBuf> = c.files.iter().map(|f| key(f)).collect();
        files.sort();
        seen.insert((key(&c.path), c.format, files))
    });
}

/// The format of a file given or found; `explicit` files are never passed over silently.
fn classify_file(
    path: &Path,
    options: &ImportOptions,
    explicit: bool,
) -> Result<Option<Candidate>, ImportError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let candidate = |format, files| {
        Some(Candidate {
            path: path.to_path_buf(),
            format,
            files,
        })
    };
    Ok(if name == trainer_state::FILE_NAME {
        candidate(Format::TrainerState, vec![])
    } else if tensorboard::is_event_file(&name) {
        // An event file given by name is its directory's run (read from that file alone).
        Some(Candidate {
            path: path
                .parent()
                .map_or_else(|| path.to_path_buf(), Path::to_path_buf),
            format: Format::TensorBoard,
            files: vec![path.to_path_buf()],
        })
    } else if name == snuffer_rundir::STEPS_FILE {
        path.parent().map(|d| Candidate {
            path: d.to_path_buf(),
            format: Format::SnufferRun,
            files: vec![],
        })
    } else if name.to_ascii_lowercase().ends_with(".csv") || explicit {
        if explicit || csv_history::looks_like_history(path, options) {
            candidate(Format::CsvHistory, vec![])
        } else {
            None
        }
    } else {
        None
    })
}

fn walk(dir: &Path, options: &ImportOptions, found: &mut Discovery) -> Result<(), ImportError> {
    if rundir::is_run_dir(dir) {
        found.candidates.push(Candidate {
            path: dir.to_path_buf(),
            format: Format::SnufferRun,
            files: vec![],
        });
        return Ok(());
    }
    let mut entries: Vec<(PathBuf, std::fs::FileType)> = std::fs::read_dir(dir)
        .map_err(|e| ImportError::io(dir, e))?
        .map(|e| {
            let e = e.map_err(|err| ImportError::io(dir, err))?;
            let t = e
                .file_type()
                .map_err(|err| ImportError::io(&e.path(), err))?;
            Ok((e.path(), t))
        })
        .collect::<Result<_, ImportError>>()?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut events = Vec::new();
    for (path, kind) in &entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if kind.is_dir() {
            continue;
        }
        // Only regular files are opened (a symbolic link is judged by its target).
        let target = if kind.is_symlink() {
            match std::fs::metadata(path) {
                Ok(m) => m.file_type(),
                Err(_) => continue, // a dangling link
            }
        } else {
            *kind
        };
        if target.is_dir() {
            continue;
        }
        if let Some(what) = special(&target) {
            let named = tensorboard::is_event_file(&name)
                || name == trainer_state::FILE_NAME
                || name == snuffer_rundir::STEPS_FILE
                || name.to_ascii_lowercase().ends_with(".csv");
            if named {
                found.passed_over.push((path.clone(), not_regular(what)));
            }
            continue;
        }
        if tensorboard::is_event_file(&name) {
            events.push(path.clone());
            continue;
        }
        match classify_file(path, options, false)? {
            Some(c) => found.candidates.push(c),
            None if name.to_ascii_lowercase().ends_with(".csv") => found
                .passed_over
                .push((path.clone(), "CSV without a step column".into())),
            None => {}
        }
    }
    if !events.is_empty() {
        found.candidates.push(Candidate {
            path: dir.to_path_buf(),
            format: Format::TensorBoard,
            files: events,
        });
    }
    for (path, kind) in &entries {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if kind.is_dir() && !hidden {
            walk(path, options, found)?;
        }
    }
    Ok(())
}

/// `out/checkpoint-500/trainer_state.json` and `out/checkpoint-1000/…` are one run: keep the
/// output directory's own state if it has one, else the highest checkpoint.
fn fold_checkpoints(found: &mut Discovery, from: usize) {
    let checkpoint_of = |c: &Candidate| -> Option<(PathBuf, u64)> {
        if c.format != Format::TrainerState {
            return None;
        }
        let dir = c.path.parent()?;
        let n = dir
            .file_name()?
            .to_str()?
            .strip_prefix("checkpoint-")?
            .parse()
            .ok()?;
        Some((dir.parent()?.to_path_buf(), n))
    };
    let own: Vec<PathBuf> = found.candidates[from..]
        .iter()
        .filter(|c| c.format == Format::TrainerState && checkpoint_of(c).is_none())
        .filter_map(|c| c.path.parent().map(Path::to_path_buf))
        .collect();
    let mut latest: BTreeMap<PathBuf, u64> = BTreeMap::new();
    for c in &found.candidates[from..] {
        if let Some((out, n)) = checkpoint_of(c) {
            let e = latest.entry(out).or_insert(n);
            *e = (*e).max(n);
        }
    }
    let mut kept = Vec::new();
    for c in found.candidates.drain(from..) {
        match checkpoint_of(&c) {
            Some((out, n)) if own.contains(&out) || latest.get(&out) != Some(&n) => {
                found.passed_over.push((
                    c.path.clone(),
                    "an earlier copy of the same Trainer run's state (a checkpoint)".into(),
                ));
            }
            _ => kept.push(c),
        }
    }
    found.candidates.extend(kept);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn finds_each_format_once_and_folds_checkpoints() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        touch(r, "hf/checkpoint-10/trainer_state.json", "{}");
        touch(r, "hf/checkpoint-20/trainer_state.json", "{}");
        touch(r, "hf2/checkpoint-5/trainer_state.json", "{}");
        touch(r, "hf2/trainer_state.json", "{}");
        touch(r, "tb/events.out.tfevents.1.host", "");
        touch(r, "tb/events.out.tfevents.2.host", "");
        touch(r, "pl/version_0/metrics.csv", "epoch,step,val_loss\n");
        touch(r, "pl/version_0/hparams.csv", "lr,batch\n");
        touch(r, "snuffer/run-a/steps.jsonl", "");
        touch(r, "snuffer/run-a/emissions.csv", "timestamp,step\n");
        touch(r, ".git/metrics.csv", "step,val_loss\n");
        let d = discover(&[r.to_path_buf()], &ImportOptions::default()).unwrap();
        let got: Vec<(String, Format)> = d
            .candidates
            .iter()
            .map(|c| {
                (
                    c.path.strip_prefix(r).unwrap().display().to_string(),
                    c.format,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "hf/checkpoint-20/trainer_state.json".to_string(),
                    Format::TrainerState
                ),
                ("hf2/trainer_state.json".to_string(), Format::TrainerState),
                ("pl/version_0/metrics.csv".to_string(), Format::CsvHistory),
                ("snuffer/run-a".to_string(), Format::SnufferRun),
                ("tb".to_string(), Format::TensorBoard),
            ]
        );
        assert_eq!(d.candidates[4].files.len(), 2);
        assert_eq!(d.passed_over.len(), 3, "{:?}", d.passed_over);
    }

    #[test]
    fn fifos_and_devices_are_named_and_never_opened() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        for name in [
            "metrics.csv",
            "trainer_state.json",
            "events.out.tfevents.1.host",
        ] {
            let ok = std::process::Command::new("mkfifo")
                .arg(r.join(name))
                .status()
                .unwrap();
            assert!(ok.success());
        }
        touch(r, "ok/metrics.csv", "step,val_loss\n1,2\n");
        // Opening any of the FIFOs would block this test forever.
        let d = discover(&[r.to_path_buf()], &ImportOptions::default()).unwrap();
        assert_eq!(d.candidates.len(), 1, "{:?}", d.candidates);
        assert_eq!(d.passed_over.len(), 3, "{:?}", d.passed_over);
        assert!(d.passed_over.iter().all(|(_, why)| why.contains("FIFO")));
        let zero = discover(&[PathBuf::from("/dev/zero")], &ImportOptions::default()).unwrap();
        assert!(zero.candidates.is_empty());
        assert!(
            zero.passed_over[0].1.contains("a device"),
            "{:?}",
            zero.passed_over
        );
    }

    #[test]
    fn a_run_reached_twice_counts_once() {
        let tmp = tempfile::tempdir().unwrap();
        let r = tmp.path();
        touch(r, "a/metrics.csv", "step,val_loss\n1,2\n");
        touch(r, "a/tb/events.out.tfevents.1.host", "");
        let paths = vec![
            r.to_path_buf(),
            r.to_path_buf(),
            r.join("a"),
            r.join("a/metrics.csv"),
            r.join("a/../a/tb/events.out.tfevents.1.host"),
        ];
        let d = discover(&paths, &ImportOptions::default()).unwrap();
        assert_eq!(d.candidates.len(), 2, "{:?}", d.candidates);
    }

    #[test]
    fn explicit_files_are_read_or_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        touch(tmp.path(), "notes.txt", "hello");
        let err = discover(&[tmp.path().join("notes.txt")], &ImportOptions::default());
        // A file given by name is tried as a CSV history (Keras writes training.log).
        assert_eq!(err.unwrap().candidates[0].format, Format::CsvHistory);
        touch(tmp.path(), "tb/events.out.tfevents.1.host", "");
        let tb = discover(
            &[tmp.path().join("tb/events.out.tfevents.1.host")],
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!(
            tb.candidates[0].path,
            tmp.path().join("tb"),
            "a run is named after its directory"
        );
        assert_eq!(tb.candidates[0].files.len(), 1);
        let missing = discover(&[tmp.path().join("nope")], &ImportOptions::default()).unwrap_err();
        assert!(missing.to_string().contains("nope"), "{missing}");
    }
}
