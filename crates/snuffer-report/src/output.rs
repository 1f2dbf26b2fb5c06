//! Writing output files without losing anything a command read.
//!
//! Every file a report, a comparison or `snuffer whatif --out` writes goes through
//! [`write_output`], which refuses (with [`ReportError::OutputConflict`], naming the file
//! and what to do) to write
//!
//! * through a symbolic link (a planted `report.html → ~/.bashrc` would otherwise be
//!   overwritten at its target), and
//! * over a file the command read: the same file (device and inode, so a hard link or a
//!   second path to it counts too) as one of its inputs — `snuffer whatif own --out own`
//!   would otherwise replace the CSV history `own/curves.csv` it had just read with its
//!   export.
//!
//! The whole set of files is checked before the first one is written, so a refusal leaves
//! the output directory as it was.

use crate::ReportError;
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The files a command read, by device and inode.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    ids: HashSet<(u64, u64)>,
    paths: Vec<PathBuf>,
}

impl Inputs {
    /// No inputs yet.
    pub fn new() -> Inputs {
        Inputs::default()
    }

    /// Adds a file that was read (a path that does not exist, or cannot be examined, adds
    /// nothing: nothing there can be lost). A directory adds every file directly in it.
    pub fn add(&mut self, path: &Path) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(path) {
                for e in entries.flatten() {
                    let p = e.path();
                    if std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
                        self.add(&p);
                    }
                }
            }
            return;
        }
        if self.ids.insert((meta.dev(), meta.ino())) {
            self.paths.push(path.to_path_buf());
        }
    }

    /// The input that `meta` is, if any.
    fn find(&self, meta: &std::fs::Metadata) -> Option<&Path> {
        if !self.ids.contains(&(meta.dev(), meta.ino())) {
            return None;
        }
        self.paths
            .iter()
            .find(|p| {
                std::fs::metadata(p).is_ok_and(|m| (m.dev(), m.ino()) == (meta.dev(), meta.ino()))
            })
            .map(PathBuf::as_path)
    }
}

/// Checks that each of `files` may be written: not a symbolic link, not one of `inputs`.
pub fn check_outputs(files: &[PathBuf], inputs: &Inputs) -> Result<(), ReportError> {
    for f in files {
        let Ok(link) = std::fs::symlink_metadata(f) else {
            continue; // a new file
        };
        if link.file_type().is_symlink() {
            let target = std::fs::read_link(f)
                .map(|t| t.display().to_string())
                .unwrap_or_else(|_| "?".into());
            return Err(ReportError::OutputConflict {
                path: f.clone(),
                why: format!(
                    "it is a symbolic link (to {target}), and writing would overwrite what it \
                     points to; remove the link or choose another output directory"
                ),
            });
        }
        if let Some(input) = inputs.find(&link) {
            return Err(ReportError::OutputConflict {
                path: f.clone(),
                why: format!(
                    "it is {}, which this command read as input, and writing would replace it; \
                     choose an output directory that holds none of the inputs (e.g. a new \
                     subdirectory)",
                    input.display()
                ),
            });
        }
    }
    Ok(())
}

/// Writes `contents` to `path` after [`check_outputs`] (for a single file).
pub fn write_output(path: &Path, contents: &[u8], inputs: &Inputs) -> Result<(), ReportError> {
    check_outputs(&[path.to_path_buf()], inputs)?;
    std::fs::write(path, contents).map_err(|e| ReportError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_and_inputs_are_refused_new_files_are_not() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("curves.csv"), "step,val_loss\n1,2\n").unwrap();
        std::fs::write(d.join("precious"), "keep me").unwrap();
        std::os::unix::fs::symlink(d.join("precious"), d.join("report.html")).unwrap();
        let mut inputs = Inputs::new();
        inputs.add(&d.join("curves.csv"));
        let err = write_output(&d.join("report.html"), b"x", &inputs).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(
            std::fs::read_to_string(d.join("precious")).unwrap(),
            "keep me"
        );
        let err = write_output(&d.join("curves.csv"), b"x", &inputs).unwrap_err();
        assert!(
            err.to_string().contains("read as input") && err.to_string().contains("curves.csv"),
            "{err}"
        );
        std::fs::hard_link(d.join("curves.csv"), d.join("other.csv")).unwrap();
        assert!(write_output(&d.join("other.csv"), b"x", &inputs).is_err());
        write_output(&d.join("new.svg"), b"x", &inputs).unwrap();
        assert_eq!(std::fs::read(d.join("new.svg")).unwrap(), b"x");
    }
}
