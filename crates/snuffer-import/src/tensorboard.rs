//! TensorBoard event files (`events.out.tfevents.*`), as PyTorch's `SummaryWriter`, Lightning,
//! Keras, the Hugging Face Trainer and JAX write them.
//!
//! The TFRecord framing and its masked CRC-32C checksums (of the length and of the data)
//! are this crate's own ([`record`]: a few dozen lines over the `crc` crate), and each
//! record is decoded as TensorFlow's `Event` protocol buffer by `prost`-derived messages
//! declared here (`proto.rs`: no generated code, no `protoc`, no network stack). On top of
//! that, what a reader of other people's files needs:
//!
//! * a record length beyond the end of the file is a truncated last record (a writer still
//!   running, or killed): the records before it are kept and a note says so; no buffer is
//!   ever sized from a claimed length (data is read in bounded chunks), and a header
//!   claiming more than [`record::MAX_RECORD_BYTES`] is an error naming the limit;
//! * scalars come as `simple_value` (PyTorch, TF1) or as a rank-0 `tensor` (TF2, Keras);
//! * one directory is one run: its event files are read in name order (their names start
//!   with the creation time), as TensorBoard does;
//! * a scalar whose tag names a learning rate (`learning_rate`, `train/learning_rate`,
//!   `lr-Adam`, Keras's `epoch_learning_rate`, …) is the run's learning rate
//!   ([`crate::learning_rate`]); Keras writes it with the training scalars (`train/`), so a
//!   run directory named `validation` without one takes its sibling `train` directory's;
//! * when a tag's step goes backwards (a run restarted from a checkpoint), the points at or
//!   after the new step are dropped, as TensorBoard's purge of orphaned data does.

use crate::learning_rate::{self, LearningRate};
use crate::metric;
use crate::run::{Format, ImportedRun, Timing};
use crate::{ImportError, ImportOptions};
use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

mod proto;
pub mod record;

use prost::Message as _;
use proto::{Event, TensorProto, Value as SummaryValue, What, DT_DOUBLE, DT_FLOAT};

/// The format's name in errors ("… is not a valid TensorBoard event: …").
const FORMAT: &str = "TensorBoard event";

/// Bytes of a record's header and trailing checksum.
const FRAMING: u64 = 16;

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

    /// Reads the records of one event file from `reader`; `origin` names it in errors.
    pub fn read_from<R: Read>(&mut self, mut reader: R, origin: &Path) -> Result<(), ImportError> {
        let mut offset = 0u64;
        loop {
            let data = match record::read_record(&mut reader) {
                Ok(record::Frame::End) => return Ok(()),
                Ok(record::Frame::Truncated) => {
                    // The writer had not finished this record.
                    self.truncated.push(origin.to_path_buf());
                    return Ok(());
                }
                Ok(record::Frame::Record(data)) => data,
                Err(e) => return Err(frame_error(origin, offset, &e)),
            };
            let event = Event::decode(data.as_slice()).map_err(|e| {
                ImportError::malformed(origin, FORMAT, format!("record at byte {offset}: {e}"))
            })?;
            self.events += 1;
            self.add_event(&event);
            offset = offset
                .saturating_add(FRAMING)
                .saturating_add(data.len() as u64);
        }
    }

    /// Reads one event file.
    pub fn read_file(&mut self, path: &Path) -> Result<(), ImportError> {
        let file = std::fs::File::open(path).map_err(|e| ImportError::io(path, e))?;
        self.read_from(BufReader::with_capacity(1 << 18, file), path)
    }
}

fn frame_error(origin: &Path, offset: u64, e: &record::FrameError) -> ImportError {
    let problem = match e {
        record::FrameError::Io(_) => format!("record at byte {offset}: {e}"),
        _ => format!("record at byte {offset}: {e} (the file is damaged, or not an event file)"),
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
    if t.dtype == DT_FLOAT {
        match (t.float_val.as_slice(), t.tensor_content.as_slice()) {
            ([v], _) => Some(f64::from(*v)),
            (_, c) => <[u8; 4]>::try_from(c)
                .ok()
                .map(|b| f64::from(f32::from_le_bytes(b))),
        }
    } else if t.dtype == DT_DOUBLE {
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
    let mut run = to_run(dir, scalars, options)?;
    if run.learning_rate.is_none() {
        train_sibling_learning_rate(dir, &mut run);
    }
    Ok(run)
}

/// Keras writes the learning rate (`epoch_learning_rate`) with the training scalars in
/// `train/`, next to `validation/`: a validation run without one takes its sibling's, and
/// says so. A sibling that cannot be read leaves the run without one (and a note).
fn train_sibling_learning_rate(dir: &Path, run: &mut ImportedRun) {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(name.as_str(), "validation" | "val" | "eval" | "valid") {
        return;
    }
    let Some(train) = dir.parent().map(|p| p.join("train")) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(&train) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| is_event_file(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    files.sort();
    let mut scalars = Scalars::default();
    for f in &files {
        if let Err(e) = scalars.read_file(f) {
            run.notes.push(format!(
                "no learning rate read from {}: {e}",
                train.display()
            ));
            return;
        }
    }
    if let Some(lr) = learning_rate_of(&scalars) {
        run.notes.push(format!(
            "learning rate `{}` read from the training scalars in {}",
            lr.name,
            train.display()
        ));
        run.learning_rate = Some(lr);
    }
}

/// Parses the bytes of one event file (for tests and fuzzing); errors name `path`.
pub fn parse(
    bytes: &[u8],
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportedRun, ImportError> {
    let mut scalars = Scalars::default();
    scalars.read_from(bytes, path)?;
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
    let learning_rate = learning_rate_of(&scalars);
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
        learning_rate,
        notes,
    })
}

/// The learning rate among the run's scalars: the tag named like one with the most points
/// (see [`crate::learning_rate::is_learning_rate_name`]).
fn learning_rate_of(scalars: &Scalars) -> Option<LearningRate> {
    learning_rate::most_recorded(
        scalars
            .series
            .iter()
            .filter(|(tag, _)| learning_rate::is_learning_rate_name(tag))
            .filter_map(|(tag, points)| {
                LearningRate::new(
                    tag.as_str(),
                    points.iter().map(|p| (p.step.max(0) as f64, p.value)),
                )
            })
            .collect(),
    )
}

/// Writes TensorBoard event files as PyTorch's `SummaryWriter` does (a file-version event,
/// then one event per scalar): the reader's counterpart, for examples, tests and benches.
#[derive(Debug)]
pub struct EventWriter<W: Write> {
    inner: W,
}

impl<W: Write> EventWriter<W> {
    /// Starts an event file on `inner` with its file-version event at `wall_time`.
    pub fn new(inner: W, wall_time: f64) -> std::io::Result<EventWriter<W>> {
        let mut w = EventWriter { inner };
        w.event(&Event {
            wall_time,
            step: 0,
            what: Some(What::FileVersion("brain.Event:2".into())),
        })?;
        Ok(w)
    }

    /// Writes one scalar as a `simple_value` (PyTorch, TF1).
    pub fn scalar(
        &mut self,
        tag: &str,
        step: i64,
        wall_time: f64,
        value: f32,
    ) -> std::io::Result<()> {
        self.value(tag, step, wall_time, SummaryValue::SimpleValue(value))
    }

    /// Writes one scalar as a rank-0 float tensor (TF2, Keras).
    pub fn tensor_scalar(
        &mut self,
        tag: &str,
        step: i64,
        wall_time: f64,
        value: f32,
    ) -> std::io::Result<()> {
        let tensor = TensorProto {
            dtype: DT_FLOAT,
            tensor_shape: Some(proto::TensorShapeProto::default()),
            tensor_content: Vec::new(),
            float_val: vec![value],
            double_val: Vec::new(),
        };
        self.value(tag, step, wall_time, SummaryValue::Tensor(tensor))
    }

    fn value(
        &mut self,
        tag: &str,
        step: i64,
        wall_time: f64,
        value: SummaryValue,
    ) -> std::io::Result<()> {
        self.event(&Event {
            wall_time,
            step,
            what: Some(What::Summary(proto::Summary {
                value: vec![proto::SummaryValue {
                    tag: tag.to_string(),
                    value: Some(value),
                }],
            })),
        })
    }

    fn event(&mut self, event: &Event) -> std::io::Result<()> {
        record::write_record(&mut self.inner, &event.encode_to_vec())
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> std::io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
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
    use proto::TensorShapeProto;
    use record::masked_crc32c as masked_crc;

    fn file(points: &[(&str, i64, f32)]) -> Vec<u8> {
        let mut w = EventWriter::new(Vec::new(), 999.0).unwrap();
        for (i, (tag, step, v)) in points.iter().enumerate() {
            w.scalar(tag, *step, 1000.0 + i as f64, *v).unwrap();
        }
        w.into_inner().unwrap()
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
        assert_eq!(r.timing.unwrap().elapsed_s, vec![2.0, 4.0]);
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
            dtype: DT_FLOAT,
            tensor_shape: Some(TensorShapeProto::default()),
            tensor_content: content,
            float_val,
            double_val: vec![],
        };
        assert_eq!(
            scalar_of(&tensor(0.25f32.to_le_bytes().to_vec(), vec![])),
            Some(0.25)
        );
        assert_eq!(scalar_of(&tensor(vec![], vec![0.5])), Some(0.5));
        assert_eq!(scalar_of(&tensor(vec![1, 2, 3], vec![])), None);
        let mut w = EventWriter::new(Vec::new(), 5.0).unwrap();
        w.tensor_scalar("epoch_loss", 3, 5.0, 0.5).unwrap();
        let bytes = w.into_inner().unwrap();
        let r = parse(
            &bytes,
            Path::new("logs/k/validation"),
            &ImportOptions::default(),
        )
        .unwrap();
        assert_eq!((r.metric_name.as_str(), r.metrics[0]), ("epoch_loss", 0.5));
        assert_eq!(r.run_id, "k/validation");
    }

    #[test]
    fn learning_rate_scalars_are_read_under_their_usual_tags() {
        // Lightning's LearningRateMonitor (one per parameter group), HF's train/learning_rate.
        for tag in ["lr-AdamW/pg1", "train/learning_rate", "lr"] {
            let mut points = vec![("val/loss", 100, 1.0f32), ("lr-AdamW-momentum", 10, 0.9)];
            for k in 1..=6i64 {
                points.push((tag, 10 * k, if k <= 3 { 0.1 } else { 0.01 }));
            }
            let r = parse(&file(&points), p(), &ImportOptions::default()).unwrap();
            let lr = r.learning_rate.expect(tag);
            assert_eq!(lr.name, tag);
            assert_eq!(lr.steps, vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
            assert_eq!(lr.rates[0], f64::from(0.1f32));
            assert_eq!(lr.change_points(), vec![30.0]);
        }
        let r = parse(
            &file(&[("val/loss", 1, 1.0)]),
            p(),
            &ImportOptions::default(),
        )
        .unwrap();
        assert!(r.learning_rate.is_none());
    }

    #[test]
    fn a_keras_validation_run_takes_the_learning_rate_of_its_train_sibling() {
        let tmp = tempfile::tempdir().unwrap();
        let (train, val) = (tmp.path().join("train"), tmp.path().join("validation"));
        std::fs::create_dir_all(&train).unwrap();
        std::fs::create_dir_all(&val).unwrap();
        let write = |dir: &Path, tag: &str, values: &[f32]| {
            let mut w = EventWriter::new(Vec::new(), 5.0).unwrap();
            for (e, v) in values.iter().enumerate() {
                w.tensor_scalar(tag, e as i64, 5.0 + e as f64, *v).unwrap();
            }
            let f = dir.join("events.out.tfevents.1.host.v2");
            std::fs::write(&f, w.into_inner().unwrap()).unwrap();
            f
        };
        write(
            &train,
            "epoch_learning_rate",
            &[1e-3, 1e-3, 1e-3, 1e-4, 1e-4],
        );
        let f = write(&val, "epoch_loss", &[1.0, 0.8, 0.7, 0.5, 0.45]);
        let r = read(&val, &[f], &ImportOptions::default()).unwrap();
        let lr = r.learning_rate.expect("the train sibling's rate");
        assert_eq!(lr.name, "epoch_learning_rate");
        assert_eq!(lr.change_points(), vec![2.0]);
        assert!(
            r.notes.iter().any(|n| n.contains("training scalars")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn a_huge_checksummed_length_in_a_sparse_file_is_refused_at_its_header() {
        // Issue 20 item 5: a header claiming ~2 GB, correctly checksummed, in a file
        // sparse-extended to 2 GB: refused at once, naming the limit; no 2 GB buffer.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("events.out.tfevents.1.host");
        let mut bytes = file(&[("val/loss", 10, 1.0)]);
        let len = 2_147_482_099u64.to_le_bytes();
        bytes.extend_from_slice(&len);
        bytes.extend_from_slice(&masked_crc(&len).to_le_bytes());
        bytes.extend_from_slice(&[7; 1500]);
        let f = std::fs::File::create(&path).unwrap();
        std::io::Write::write_all(&mut &f, &bytes).unwrap();
        f.set_len(2 << 30).unwrap();
        let started = std::time::Instant::now();
        let err = Scalars::default().read_file(&path).unwrap_err().to_string();
        assert!(
            err.contains("2147482099 bytes")
                && err.contains("MiB limit")
                && err.contains("tfevents"),
            "{err}"
        );
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }

    #[test]
    fn errors_say_event_file_once() {
        let mut bytes = file(&[("val/loss", 10, 1.0)]);
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        let err = parse(&bytes, p(), &ImportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("TensorBoard event file (") && !err.contains("file file"),
            "{err}"
        );
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
                record::write_record(&mut bytes, &p).unwrap();
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
