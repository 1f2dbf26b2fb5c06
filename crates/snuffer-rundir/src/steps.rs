//! `steps.jsonl`: the one writer ([`StepsWriter`]) and the one streaming reader
//! ([`read_steps_with`], with [`read_steps`] and [`parse_steps`] on top).
//!
//! **Whole lines only.** The writer serialises each record with its newline into a scratch
//! buffer and hands it to a `BufWriter` in one `write_all`; the `BufWriter` only ever
//! passes whole buffered lines (or one whole oversized line) to the file. So a crash, even
//! `kill -9`, leaves at most a partial *last* line, and a reader in another process (a
//! sweep, a live report) may see a partial last line of a run still being written.
//!
//! **The reader** streams the file once with a borrowed view of each line ([`StepView`]:
//! domain and metric names borrow from the line, so a million-line log reads without
//! millions of allocations) and treats a line that does not parse as:
//! * *torn* when it is the last non-blank line: it is skipped, and its number reported
//!   ([`ReadEnd::torn_line`]) — a crash, or a writer still at work;
//! * an error ([`RunDirError::BadLine`]) when another line follows it: the file was damaged.
//!
//! A last line that parses but lacks its newline is whole (a JSON object cannot be the
//! prefix of a longer one), so it is kept.

use crate::error::RunDirError;
use crate::records::{DecisionRecord, ForecastRecord, RecordKind, StepRecord};
use crate::records::{DomainRecord, EnergyRecord};
use serde::Deserialize;
use serde_json::value::RawValue;
use snuffer_energy::Provenance;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Buffer size of the writer: large enough that a step line never spans two writes.
const WRITE_BUFFER: usize = 64 * 1024;
/// Buffer size of the reader.
const READ_BUFFER: usize = 64 * 1024;

/// Appends [`StepRecord`]s to `steps.jsonl`, one whole line each (see the module docs).
///
/// ```
/// use snuffer_rundir::{read_steps, RecordKind, StepRecord, StepsWriter};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("steps.jsonl");
/// let mut w = StepsWriter::create(&path)?;
/// w.append(&StepRecord {
///     kind: RecordKind::Step,
///     step: 10,
///     time_s: 1.5,
///     energy: Default::default(),
///     metrics: Default::default(),
///     forecast: None,
///     decision: None,
///     meta: None,
/// })?;
/// w.flush()?;
/// assert_eq!(read_steps(&path)?.records[0].step, 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct StepsWriter {
    path: PathBuf,
    out: BufWriter<File>,
    scratch: Vec<u8>,
    lines: u64,
}

impl StepsWriter {
    /// Create (truncate) `path`.
    pub fn create(path: impl AsRef<Path>) -> Result<StepsWriter, RunDirError> {
        let path = path.as_ref();
        let file = File::create(path).map_err(|e| RunDirError::write(path, e))?;
        Ok(StepsWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(WRITE_BUFFER, file),
            scratch: Vec::with_capacity(1024),
            lines: 0,
        })
    }

    /// Buffer one record as one line.
    pub fn append(&mut self, record: &StepRecord) -> Result<(), RunDirError> {
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, record)
            .map_err(|e| RunDirError::write(&self.path, std::io::Error::other(e)))?;
        self.scratch.push(b'\n');
        self.out
            .write_all(&self.scratch)
            .map_err(|e| RunDirError::write(&self.path, e))?;
        self.lines += 1;
        Ok(())
    }

    /// Pass the buffered lines to the file (readers in other processes on this machine see
    /// them from now on).
    pub fn flush(&mut self) -> Result<(), RunDirError> {
        self.out
            .flush()
            .map_err(|e| RunDirError::write(&self.path, e))
    }

    /// [`flush`](Self::flush), then ask the file system to store the data (`fsync`): what
    /// readers on *other machines* of a shared file system (NFS, Lustre) need to see the
    /// lines, and what survives a power cut. Costs milliseconds; call it at evaluations.
    pub fn sync(&mut self) -> Result<(), RunDirError> {
        self.flush()?;
        self.out
            .get_ref()
            .sync_data()
            .map_err(|e| RunDirError::write(&self.path, e))
    }

    /// Lines written so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Heap bytes held by the buffers.
    pub fn heap_bytes(&self) -> usize {
        self.out.capacity() + self.scratch.capacity()
    }
}

/// A borrowed view of one domain's energy on a line.
#[derive(Debug, Deserialize)]
pub struct DomainView<'a> {
    /// Domain name.
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    /// Cumulative joules.
    pub joules: f64,
    /// The provenance as written (parse it with [`DomainView::provenance`] only when it
    /// changed: compare the text first).
    #[serde(borrow)]
    pub provenance: &'a RawValue,
    /// Relative uncertainty.
    pub uncertainty: f64,
}

impl DomainView<'_> {
    /// The provenance, parsed.
    pub fn provenance(&self) -> Result<Provenance, serde_json::Error> {
        serde_json::from_str(self.provenance.get())
    }

    /// The owned record.
    pub fn to_record(&self) -> Result<DomainRecord, serde_json::Error> {
        Ok(DomainRecord {
            name: self.name.to_string(),
            joules: self.joules,
            provenance: self.provenance()?,
            uncertainty: self.uncertainty,
        })
    }
}

/// A borrowed view of a line's energy.
#[derive(Debug, Default, Deserialize)]
pub struct EnergyView<'a> {
    /// Sum over domains, J.
    pub total_j: f64,
    /// Relative uncertainty of the total.
    #[serde(default)]
    pub total_uncertainty: f64,
    /// Per-domain figures.
    #[serde(default, borrow)]
    pub domains: Vec<DomainView<'a>>,
}

/// A borrowed view of one `steps.jsonl` line: the fields of [`StepRecord`], with names
/// borrowed from the line (see the module docs).
#[derive(Debug, Deserialize)]
pub struct StepView<'a> {
    /// Line kind.
    pub kind: RecordKind,
    /// Optimizer steps done.
    pub step: u64,
    /// Seconds since the start.
    pub time_s: f64,
    /// Cumulative energy.
    #[serde(default, borrow)]
    pub energy: EnergyView<'a>,
    /// Metrics by name (null for NaN).
    #[serde(default, borrow)]
    pub metrics: BTreeMap<Cow<'a, str>, Option<f64>>,
    /// Forecast, when refitted at this line.
    #[serde(default)]
    pub forecast: Option<ForecastRecord>,
    /// Decision.
    #[serde(default)]
    pub decision: Option<DecisionRecord>,
    /// Metadata (start and end lines).
    #[serde(default)]
    pub meta: Option<serde_json::Value>,
}

impl StepView<'_> {
    /// The owned record (allocates every name; parses every provenance).
    pub fn to_record(&self) -> Result<StepRecord, serde_json::Error> {
        Ok(StepRecord {
            kind: self.kind,
            step: self.step,
            time_s: self.time_s,
            energy: EnergyRecord {
                total_j: self.energy.total_j,
                total_uncertainty: self.energy.total_uncertainty,
                domains: self
                    .energy
                    .domains
                    .iter()
                    .map(DomainView::to_record)
                    .collect::<Result<_, _>>()?,
            },
            metrics: self
                .metrics
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            forecast: self.forecast.clone(),
            decision: self.decision.clone(),
            meta: self.meta.clone(),
        })
    }

    /// The value of metric `name` (`None` when absent or null).
    pub fn metric(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).copied().flatten()
    }
}

/// How a read ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadEnd {
    /// Whole records delivered.
    pub records: u64,
    /// The 1-based number of a torn last line that was skipped, if any.
    pub torn_line: Option<u64>,
}

/// Streams `steps.jsonl` at `path`, calling `each` with every whole line in file order (see
/// the module docs for torn and damaged lines). Lines before a damaged one have already
/// been delivered when the error is returned.
pub fn read_steps_with(
    path: impl AsRef<Path>,
    each: impl FnMut(StepView<'_>),
) -> Result<ReadEnd, RunDirError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| RunDirError::read(path, e))?;
    // Lines bounded, so a damaged or sparse file is an error, not a buffer its size.
    let file = snuffer_energy::lines::LineLimited::new(file);
    read_lines(BufReader::with_capacity(READ_BUFFER, file), path, each)
}

/// [`read_steps_with`] over any buffered reader; `path` names the source in errors.
pub fn read_lines(
    mut reader: impl BufRead,
    path: &Path,
    mut each: impl FnMut(StepView<'_>),
) -> Result<ReadEnd, RunDirError> {
    // Bytes, not `String`: a crash can cut a line inside a multi-byte character, which
    // must read as a torn line, not as an I/O error.
    let mut line: Vec<u8> = Vec::new();
    let mut pending: Option<(u64, String)> = None;
    let mut end = ReadEnd::default();
    let mut number = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| RunDirError::read(path, e))?;
        if n == 0 {
            break;
        }
        number += 1;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        // A bad line is only forgivable if nothing follows it.
        if let Some((bad, message)) = pending.take() {
            return Err(RunDirError::BadLine {
                path: path.to_path_buf(),
                line: bad,
                message,
            });
        }
        match serde_json::from_slice::<StepView<'_>>(text) {
            Ok(view) => {
                end.records += 1;
                each(view);
            }
            Err(e) => pending = Some((number, e.to_string())),
        }
    }
    end.torn_line = pending.map(|(n, _)| n);
    Ok(end)
}

/// The records of a `steps.jsonl` file, as read back by [`read_steps`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepsLog {
    /// Every whole record, in file order.
    pub records: Vec<StepRecord>,
    /// True when the file ended in a torn line (the process was killed while writing it,
    /// or is still writing it); that partial line is not in `records`.
    pub truncated: bool,
}

impl StepsLog {
    /// The first line's metadata (run name, metric, planned steps, …), if any.
    pub fn meta(&self) -> Option<&serde_json::Value> {
        self.records
            .first()
            .filter(|r| r.kind == RecordKind::Start)
            .and_then(|r| r.meta.as_ref())
    }

    /// Whether the log has its End line (the run finished or was dropped cleanly).
    pub fn has_end(&self) -> bool {
        self.records
            .last()
            .is_some_and(|r| r.kind == RecordKind::End)
    }

    /// The evaluation lines only.
    pub fn evals(&self) -> impl Iterator<Item = &StepRecord> {
        self.records.iter().filter(|r| r.kind == RecordKind::Eval)
    }
}

/// Reads `steps.jsonl` into owned records, skipping a torn last line.
///
/// ```
/// use snuffer_rundir::{read_steps, STEPS_FILE};
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join(STEPS_FILE);
/// std::fs::write(&path, "{\"kind\":\"step\",\"step\":10,\"time_s\":1.5}\n{\"kind\":\"ev")?;
/// let log = read_steps(&path)?;
/// assert_eq!(log.records.len(), 1);
/// assert!(log.truncated);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_steps(path: impl AsRef<Path>) -> Result<StepsLog, RunDirError> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| RunDirError::read(path, e))?;
    let file = snuffer_energy::lines::LineLimited::new(file);
    collect(BufReader::with_capacity(READ_BUFFER, file), path)
}

/// Parses the bytes of a `steps.jsonl` file (see [`read_steps`]).
pub fn parse_steps(bytes: &[u8]) -> Result<StepsLog, RunDirError> {
    collect(bytes, Path::new("<bytes>"))
}

fn collect(reader: impl BufRead, path: &Path) -> Result<StepsLog, RunDirError> {
    let mut log = StepsLog::default();
    let mut bad: Option<(u64, String)> = None;
    let mut number = 0u64;
    let end = read_lines(reader, path, |view| {
        number += 1;
        match view.to_record() {
            Ok(r) => log.records.push(r),
            Err(e) => {
                bad.get_or_insert((number, e.to_string()));
            }
        }
    })?;
    if let Some((record, message)) = bad {
        return Err(RunDirError::BadLine {
            path: path.to_path_buf(),
            line: record,
            message: format!("record {record}: {message}"),
        });
    }
    log.truncated = end.torn_line.is_some();
    Ok(log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(step: u64, metric: Option<f64>) -> StepRecord {
        StepRecord {
            kind: if metric.is_some() {
                RecordKind::Eval
            } else {
                RecordKind::Step
            },
            step,
            time_s: step as f64 * 0.01,
            energy: EnergyRecord {
                total_j: step as f64 * 2.5,
                total_uncertainty: 0.4,
                domains: vec![DomainRecord {
                    name: "cpu-estimate \"ü\"".into(),
                    joules: step as f64 * 2.5,
                    provenance: Provenance::Estimated {
                        model: "test, \"quoted\"\n".into(),
                    },
                    uncertainty: 0.4,
                }],
            },
            metrics: metric
                .map(|m| ("val".to_string(), Some(m)))
                .into_iter()
                .collect(),
            forecast: None,
            decision: None,
            meta: None,
        }
    }

    fn bytes_of(records: &[StepRecord]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for r in records {
            serde_json::to_writer(&mut bytes, r).unwrap();
            bytes.push(b'\n');
            ends.push(bytes.len());
        }
        (bytes, ends)
    }

    proptest! {
        /// A file cut at any byte (a crash mid-write, or a writer still at work) reads back
        /// as a prefix of what was written, flagged as truncated exactly when a line was cut.
        #[test]
        fn any_cut_reads_back_a_prefix(
            rows in proptest::collection::vec((0u64..1_000_000, proptest::option::of(-1e300f64..1e300)), 1..20),
            cut_at in 0.0f64..1.0,
        ) {
            let records: Vec<StepRecord> = rows.iter().map(|(s, m)| record(*s, *m)).collect();
            let (bytes, ends) = bytes_of(&records);
            let cut = ((bytes.len() as f64) * cut_at) as usize;
            let log = parse_steps(&bytes[..cut]).unwrap();
            // A cut just before a newline leaves a complete object: kept, not torn.
            let whole = ends.iter().filter(|&&e| e <= cut + 1).count();
            prop_assert_eq!(log.records.len(), whole);
            prop_assert_eq!(&log.records[..], &records[..whole]);
            let mid_line = cut > 0 && !ends.contains(&cut) && !ends.contains(&(cut + 1));
            prop_assert_eq!(log.truncated, mid_line);
        }

        /// Whole files round-trip exactly (every f64 reads back bit for bit).
        #[test]
        fn whole_files_round_trip(
            rows in proptest::collection::vec((any::<u64>(), proptest::option::of(proptest::num::f64::NORMAL)), 0..20),
        ) {
            let records: Vec<StepRecord> = rows.iter().map(|(s, m)| record(*s, *m)).collect();
            let (bytes, _) = bytes_of(&records);
            let log = parse_steps(&bytes).unwrap();
            prop_assert_eq!(log.records, records);
            prop_assert!(!log.truncated);
        }

        /// Arbitrary bytes give records or an error naming a line, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_steps(&bytes);
        }

        /// Valid lines with damage in the middle are an error naming the damaged line.
        #[test]
        fn damage_before_the_last_line_is_an_error(n in 2usize..8, at in 0usize..8, garbage in "[a-z{]{1,12}") {
            let records: Vec<StepRecord> = (0..n as u64).map(|s| record(s, None)).collect();
            let at = at % (n - 1);
            let mut text = String::new();
            for (i, r) in records.iter().enumerate() {
                if i == at {
                    text.push_str(&garbage);
                    text.push('\n');
                }
                text.push_str(&serde_json::to_string(r).unwrap());
                text.push('\n');
            }
            match parse_steps(text.as_bytes()) {
                Err(RunDirError::BadLine { line, .. }) => prop_assert_eq!(line, at as u64 + 1),
                other => prop_assert!(false, "expected a bad line, got {:?}", other),
            }
        }
    }

    #[test]
    fn nan_metrics_round_trip_as_null() {
        let mut r = record(3, None);
        r.metrics.insert("val".into(), None);
        let line = serde_json::to_string(&r).unwrap();
        assert!(line.contains("\"val\":null"), "{line}");
        let back = parse_steps(format!("{line}\n").as_bytes()).unwrap();
        assert_eq!(back.records[0].metrics.get("val"), Some(&None));
    }

    #[test]
    fn a_line_cut_inside_a_multibyte_character_is_torn() {
        let (bytes, ends) = bytes_of(&[record(1, None), record(2, None)]);
        let second = &bytes[ends[0]..];
        let u = second.iter().position(|&b| b >= 0x80).unwrap();
        let log = parse_steps(&bytes[..ends[0] + u + 1]).unwrap();
        assert!(log.truncated && log.records.len() == 1);
    }

    #[test]
    fn the_writer_writes_what_the_reader_reads() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("steps.jsonl");
        let mut w = StepsWriter::create(&path)?;
        let records: Vec<StepRecord> = (1..=50).map(|s| record(s, Some(0.5))).collect();
        for r in &records {
            w.append(r)?;
        }
        w.sync()?;
        assert_eq!(w.lines(), 50);
        assert_eq!(read_steps(&path)?.records, records);
        let mut names = 0;
        let end = read_steps_with(&path, |v| {
            names += usize::from(matches!(v.energy.domains[0].name, Cow::Owned(_)));
        })?;
        assert_eq!((end.records, end.torn_line), (50, None));
        assert_eq!(names, 50, "escaped names are owned, the others borrowed");
        Ok(())
    }
}
