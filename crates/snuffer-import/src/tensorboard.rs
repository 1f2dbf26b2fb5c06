//! TensorBoard event files (`events.out.tfevents.*`), as PyTorch's `SummaryWriter`, Lightning,
//! Keras, the Hugging Face Trainer and JAX write them.
//!
//! The TFRecord framing and its masked CRC-32C checksums (of the length and of the data) are
//! checked by the `tfrecord` crate's reader functions, and each record is decoded by its
//! `prost` types for TensorFlow's `Event` protocol buffer (generated code shipped in the
//! crate: no `protoc` at build time). This module adds what a reader of other people's files
//! needs on top:
//!
//! * a record length beyond the end of the file is a truncated last record (a writer still
//!   running, or killed): the records before it are kept and a note says so, and no buffer is
//!   ever sized from an unchecked length;
//! * scalars come as `simple_value` (PyTorch, TF1) or as a rank-0 `tensor` (TF2, Keras);
//! * one directory is one run: its event files are read in name order (their names start
//!   with the creation time), as TensorBoard does;
//! * when a tag's step goes backwards (a run restarted from a checkpoint), the points at or
//!   after the new step are dropped, as TensorBoard's purge of orphaned data does.

use crate::metric;
use crate::run::{Format, ImportedRun, Timing};
use crate::{ImportError, ImportOptions};
use std::collections::HashMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use tfrecord::protobuf::event::What;
use tfrecord::protobuf::summary::value::Value as SummaryValue;
use tfrecord::protobuf::{DataType, TensorProto};
use tfrecord::{Event, Record};

const FORMAT: &str = "TensorBoard event file";

/// Bytes of a record's header: the length (u64) and its checksum (u32).
const HEADER: u64 = 12;
/// Bytes of a record's trailing data checksum.
const FOOTER: u64 = 4;

/// Whether a file name is a TensorBoard event file's.
pub fn is_event_file(name: &str) -> bool {
    name.contains("tfevents")
}

/// One scalar point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalarPoint {
    /// The event's step.
    pub step: i64,
    /// The event's wall time (seconds since the Unix epoch).
    pub wall_time: f64,
    /// The value.
    pub value: f64,
}

/// Every scalar series of a run's event files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scalars {
    /// Tag → its points, in file order (after the purge of orphaned points).
    pub series: HashMap<String, Vec<ScalarPoint>>,
    /// Earliest wall time of any event (the run's start).
    pub first_wall_time: Option<f64>,
    /// Records read.
    pub events: u64,
    /// Points dropped because a later event of the same tag went back to an earlier step.
    pub purged: u64,
    /// Files whose last record was cut short.
    pub truncated: Vec<PathBuf>,
}

impl Scalars {
    fn push(&mut self, tag: &str, point: ScalarPoint) {
        let series = match self.series.get_mut(tag) {
            Some(s) => s,
            None => self.series.entry(tag.to_string()).or_default(),
        };
        if series.last().is_some_and(|last| point.step < last.step) {
            let before = series.len();
            series.retain(|p| p.step < point.step);
            self.purged += (before - series.len()) as u64;
        }
        series.push(point);
    }

    fn add_event(&mut self, event: &Event) {
        if event.wall_time.is_finite() {
            self.first_wall_time = Some(
                self.first_wall_time
                    .map_or(event.wall_time, |w| w.min(event.wall_time)),
            );
        }
        let Some(What::Summary(summary)) = &event.what else {
            return;
        };
        for v in &summary.value {
            let value = match &v.value {
                Some(SummaryValue::SimpleValue(x)) => Some(f64::from(*x)),
                Some(SummaryValue::Tensor(t)) => scalar_of(t),
                _ => None,
            };
            if let Some(value) = value {
                self.push(
                    &v.tag,
                    ScalarPoint {
                        step: event.step,
                        wall_time: event.wall_time,
                        value,
                    },
                );
            }
        }
    }

    /// Reads the records of one event file of `size` bytes from `reader`; `origin` names it
    /// in errors.
    pub fn read_from<R: Read>(
        &mut self,
        mut reader: R,
        size: u64,
        origin: &Path,
    ) -> Result<(), ImportError> {
        let mut offset = 0u64;
        loop {
            let remaining = size - offset;
            if remaining == 0 {
                return Ok(());
            }
            if remaining < HEADER + FOOTER {
                self.truncated.push(origin.to_path_buf());
                return Ok(());
            }
            let len = tfrecord::io::sync::try_read_len(&mut reader, true)
                .map_err(|e| frame_error(origin, offset, &e))?
                .ok_or_else(|| {
                    ImportError::malformed(
                        origin,
                        FORMAT,
                        format!("file ends early at byte {offset}"),
                    )
                })?;
            let len = len as u64;
            if len > remaining - HEADER - FOOTER {
                // A length past the end: the writer had not finished this record.
                self.truncated.push(origin.to_path_buf());
                return Ok(());
            }
            let data = tfrecord::io::sync::try_read_record_data(&mut reader, len as usize, true)
                .map_err(|e| frame_error(origin, offset, &e))?;
            let event = <Event as Record>::from_bytes(data).map_err(|e| {
                ImportError::malformed(origin, FORMAT, format!("record at byte {offset}: {e}"))
            })?;
            self.events += 1;
            self.add_event(&event);
            offset += HEADER + len + FOOTER;
        }
    }

    /// Reads one event file.
    pub fn read_file(&mut self, path: &Path) -> Result<(), ImportError> {
        let file = std::fs::File::open(path).map_err(|e| ImportError::io(path, e))?;
        let size = file.metadata().map_err(|e| ImportError::io(path, e))?.len();
        self.read_from(BufReader::with_capacity(1 << 18, file), size, path)
    }
}

fn frame_error(origin: &Path, offset: u64, e: &tfrecord::Error) -> ImportError {
    let problem = match e {
        tfrecord::Error::ChecksumMismatch { .. } => {
            format!("record at byte {offset}: {e} (the file is damaged, or not an event file)")
        }
        _ => format!("record at byte {offset}: {e}"),
    };
    ImportError::malformed(origin, FORMAT, problem)
}

/// The value of a rank-0 float tensor (TF2 scalar summaries), if it is one.
fn scalar_of(t: &TensorProto) -> Option<f64> {
    let elements = t
        .tensor_shape
        .as_ref()
        .map_or(1, |s| s.dim.iter().map(|d| d.size).product::<i64>());
    if elements != 1 {
        return None;
    }
    if t.dtype == DataType::DtFloat as i32 {
        match (t.float_val.as_slice(), t.tensor_content.as_slice()) {
            ([v], _) => Some(f64::from(*v)),
            (_, c) => <[u8; 4]>::try_from(c)
                .ok()
                .map(|b| f64::from(f32::from_le_bytes(b))),
        }
    } else if t.dtype == DataType::DtDouble as i32 {
        match (t.double_val.as_slice(), t.tensor_content.as_slice()) {
            ([v], _) => Some(*v),
            (_, c) => <[u8; 8]>::try_from(c).ok().map(f64::from_le_bytes),
        }
    } else {
        None
    }
}

/// Reads the event files of one run directory (`files` in any order; they are read in name
/// order) and picks the metric.
pub fn read(
    dir: &Path,
    files: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportedRun, ImportError> {
    let mut files = files.to_vec();
    files.sort();
    let mut scalars = Scalars::default();
    for f in &files {
        scalars.read_file(f)?;
    }
    to_run(dir, scalars, options)
}

/// Parses the bytes of one event file (for tests and fuzzing); errors name `path`.
pub fn parse(
    bytes: &[u8],
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportedRun, ImportError> {
    let mut scalars = Scalars::default();
    scalars.read_from(bytes, bytes.len() as u64, path)?;
    to_run(path, scalars, options)
}

fn to_run(
    path: &Path,
    mut scalars: Scalars,
    options: &ImportOptions,
) -> Result<ImportedRun, ImportError> {
    let mut available: Vec<String> = scalars.series.keys().cloned().collect();
    available.sort();
    let dir_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let validation_dir = matches!(dir_name.as_str(), "validation" | "val" | "eval" | "valid");
    let name = metric::choose(
        path,
        &available,
        options.metric.as_deref(),
        None,
        validation_dir,
    )?;
    let mut points = scalars.series.remove(&name).unwrap_or_default();
    if points.is_empty() {
        return Err(ImportError::Empty {
            path: path.to_path_buf(),
            metric: name,
        });
    }
    points.sort_by_key(|p| p.step);
    let start = scalars.first_wall_time.unwrap_or(points[0].wall_time);
    let mut elapsed = Vec::with_capacity(points.len());
    let mut last = 0.0f64;
    for p in &points {
        // Wall clocks can step back (NTP); elapsed time never does.
        last = last.max(p.wall_time - start);
        elapsed.push(last);
    }
    let timing = elapsed.iter().all(|t| t.is_finite()).then(|| Timing {
        elapsed_s: elapsed,
        source: "TensorBoard wall_time".into(),
    });
    let mut notes = Vec::new();
    if scalars.purged > 0 {
        notes.push(format!(
            "{} points dropped: a later event went back to an earlier step (a restart), as TensorBoard does",
            scalars.purged
        ));
    }
    for t in &scalars.truncated {
        notes.push(format!(
            "{}: last record cut short (still being written?); read up to it",
            t.display()
        ));
    }
    let higher = metric::resolve_direction(options, &name, None);
    Ok(ImportedRun {
        path: path.to_path_buf(),
        format: Format::TensorBoard,
        run_id: run_id(path),
        metric_name: name,
        higher_is_better: higher,
        steps: points.iter().map(|p| p.step.max(0) as f64).collect(),
        metrics: points.iter().map(|p| p.value).collect(),
        timing,
        energy: None,
        planned_steps: None,
        available_metrics: available,
        notes,
    })
}

/// The directory's name, with its parent's for Keras' `train/` and `validation/`.
fn run_id(dir: &Path) -> String {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    match name(dir) {
        Some(n)
            if matches!(
                n.as_str(),
                "train" | "validation" | "val" | "eval" | "valid"
            ) =>
        {
            match dir.parent().and_then(name) {
                Some(up) => format!("{up}/{n}"),
                None => n,
            }
        }
        Some(n) => n,
        None => "tensorboard".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tfrecord::protobuf::{Summary, TensorShapeProto};
    use tfrecord::{EventMeta, EventWriter, EventWriterConfig};

    fn file(points: &[(&str, i64, f32)]) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut w = EventWriter::from_writer(&mut bytes, EventWriterConfig::default()).unwrap();
        for (i, (tag, step, v)) in points.iter().enumerate() {
            w.write_scalar(*tag, EventMeta::new(*step, 1000.0 + i as f64), *v)
                .unwrap();
        }
        w.flush().unwrap();
        bytes
    }

    /// TFRecord's masked CRC-32C, to forge a header that passes the length check.
    fn masked_crc(bytes: &[u8]) -> u32 {
        let c = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI).checksum(bytes);
        c.rotate_right(15).wrapping_add(0xa282_ead8)
    }

    fn p() -> &'static Path {
        Path::new("logs/run-a")
    }

    #[test]
    fn reads_scalars_with_wall_time_and_picks_the_validation_loss() {
        let bytes = file(&[
            ("train/loss", 1, 2.0),
            ("eval/loss", 10, 1.0),
            ("eval/accuracy", 10, 0.5),
            ("eval/loss", 20, 0.5),
            ("eval/accuracy", 20, 0.75),
        ]);
        let r = parse(&bytes, p(), &ImportOptions::default()).unwrap();
        assert_eq!(r.metric_name, "eval/loss");
        assert!(!r.higher_is_better);
        assert_eq!((r.steps, r.metrics), (vec![10.0, 20.0], vec![1.0, 0.5]));
        assert_eq!(r.timing.unwrap().elapsed_s, vec![1.0, 3.0]);
        let acc = ImportOptions {
            metric: Some("accuracy".into()),
            ..ImportOptions::default()
        };
        let r = parse(&bytes, p(), &acc).unwrap();
        assert_eq!(
            (r.metric_name.as_str(), r.higher_is_better),
            ("eval/accuracy", true)
        );
    }

    #[test]
    fn a_restart_purges_the_orphaned_points() {
        let bytes = file(&[
            ("val/loss", 10, 1.0),
            ("val/loss", 20, 0.9),
            ("val/loss", 30, 0.8),
            ("val/loss", 20, 0.75),
            ("val/loss", 30, 0.5),
        ]);
        let r = parse(&bytes, p(), &ImportOptions::default()).unwrap();
        assert_eq!(
            (r.steps, r.metrics),
            (vec![10.0, 20.0, 30.0], vec![1.0, 0.75, 0.5])
        );
        assert!(r.notes[0].starts_with("2 points dropped"), "{:?}", r.notes);
    }

    #[test]
    fn a_truncated_last_record_keeps_what_came_before() {
        let bytes = file(&[("val/loss", 10, 1.0), ("val/loss", 20, 0.5)]);
        for cut in 1..30 {
            let r = parse(&bytes[..bytes.len() - cut], p(), &ImportOptions::default()).unwrap();
            assert_eq!(r.steps, vec![10.0], "cut {cut}");
            assert!(r.notes.iter().any(|n| n.contains("cut short")), "cut {cut}");
        }
    }

    #[test]
    fn damaged_records_are_errors_naming_the_file_and_offset() {
        let mut bytes = file(&[("val/loss", 10, 1.0), ("val/loss", 20, 0.5)]);
        let n = bytes.len();
        bytes[n - 6] ^= 0xff; // inside the second record's data
        let err = parse(&bytes, p(), &ImportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("logs/run-a") && err.contains("checksum") && err.contains("byte"),
            "{err}"
        );
    }

    #[test]
    fn tf2_tensor_scalars_are_read() {
        let tensor = |content: Vec<u8>, float_val: Vec<f32>| TensorProto {
            dtype: DataType::DtFloat as i32,
            tensor_shape: Some(TensorShapeProto::default()),
            tensor_content: content,
            float_val,
            ..TensorProto::default()
        };
        assert_eq!(
            scalar_of(&tensor(0.25f32.to_le_bytes().to_vec(), vec![])),
            Some(0.25)
        );
        assert_eq!(scalar_of(&tensor(vec![], vec![0.5])), Some(0.5));
        assert_eq!(scalar_of(&tensor(vec![1, 2, 3], vec![])), None);
        let summary = Summary {
            value: vec![tfrecord::protobuf::summary::Value {
                tag: "epoch_loss".into(),
                value: Some(SummaryValue::Tensor(tensor(vec![], vec![0.5]))),
                ..Default::default()
            }],
        };
        let event = EventMeta::new(3, 5.0).build_with_summary(summary);
        let mut bytes = Vec::new();
        tfrecord::io::sync::try_write_record(
            &mut bytes,
            <Event as Record>::to_bytes(event).unwrap(),
        )
        .unwrap();
        let r = parse(
            &bytes,
            Path::new("logs/k/validation"),
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!((r.metric_name.as_str(), r.metrics[0]), ("epoch_loss", 0.5));
        assert_eq!(r.run_id, "k/validation");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Err(e) = parse(&bytes, p(), &ImportOptions::default()) {
                prop_assert!(e.to_string().contains("logs/run-a"));
            }
        }

        #[test]
        fn valid_frames_with_arbitrary_payloads_never_panic(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..8),
            huge in any::<bool>(),
        ) {
            let mut bytes = Vec::new();
            for p in payloads {
                tfrecord::io::sync::try_write_record(&mut bytes, p).unwrap();
            }
            if huge {
                // A correctly checksummed header that claims far more than the file holds.
                let len = (u64::MAX / 2).to_le_bytes();
                bytes.extend_from_slice(&len);
                bytes.extend_from_slice(&masked_crc(&len).to_le_bytes());
                bytes.extend_from_slice(&[0; 8]);
            }
            if let Err(e) = parse(&bytes, p(), &ImportOptions::default()) {
                prop_assert!(e.to_string().contains("logs/run-a"));
            }
        }
    }
}
