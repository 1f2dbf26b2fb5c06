//! The `steps.jsonl` writer: whole lines only, flushed at each evaluation.

use crate::format::StepRecord;
use crate::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Buffer size: large enough that a step line never spans two writes.
const BUFFER: usize = 64 * 1024;

/// Appends [`StepRecord`]s to `steps.jsonl`.
///
/// Torn lines: each record is serialised into a scratch buffer with its
/// newline, then handed to the `BufWriter` in one `write_all`. The
/// `BufWriter` only ever passes whole buffered lines (or one whole oversized
/// line) to the file, so a crash, even `kill -9`, leaves at most a partial
/// *last* line, which [`crate::format::read_steps`] skips.
pub(crate) struct StepLog {
    path: PathBuf,
    out: BufWriter<File>,
    scratch: Vec<u8>,
    lines: u64,
    /// The first write error, kept so a failing disk is reported once by
    /// `eval`/`finish` rather than on every step.
    failed: Option<std::io::ErrorKind>,
}

impl StepLog {
    /// Create (truncate) `path`.
    pub(crate) fn create(path: &Path) -> Result<StepLog, Error> {
        let file = File::create(path).map_err(|e| Error::write(path, e))?;
        Ok(StepLog {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(BUFFER, file),
            scratch: Vec::with_capacity(1024),
            lines: 0,
            failed: None,
        })
    }

    /// Buffer one record as one line.
    pub(crate) fn append(&mut self, record: &StepRecord) -> Result<(), Error> {
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, record)
            .map_err(|e| Error::write(&self.path, std::io::Error::other(e)))?;
        self.scratch.push(b'\n');
        match self.out.write_all(&self.scratch) {
            Ok(()) => {
                self.lines += 1;
                Ok(())
            }
            Err(e) => {
                self.failed.get_or_insert(e.kind());
                Err(Error::write(&self.path, e))
            }
        }
    }

    /// Push buffered lines to the file.
    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        self.out.flush().map_err(|e| {
            self.failed.get_or_insert(e.kind());
            Error::write(&self.path, e)
        })
    }

    /// Lines written so far.
    pub(crate) fn lines(&self) -> u64 {
        self.lines
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Heap bytes held by the buffers.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.out.capacity() + self.scratch.capacity()
    }
}
