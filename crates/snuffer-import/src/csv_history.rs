//! CSV histories: one row per log call, a step column and metric columns.
//!
//! * Lightning's `CSVLogger` (`metrics.csv`): `epoch`, `step` and every logged key; training
//!   rows leave the validation columns empty and the other way round.
//! * Keras' `CSVLogger`: `epoch` (counted from 0) and `loss`, `accuracy`, `val_loss`, ….
//! * W&B history exports (`run.history()` saved as CSV): `_step` (W&B's count of log calls),
//!   `_runtime` (seconds since the start), `_timestamp` and the logged keys, among them the
//!   training step the integrations log (`train/global_step` from the Hugging Face Trainer,
//!   `trainer/global_step` from Lightning), which is preferred to `_step`.
//!
//! The step column is `--step-column`, else the first of [`STEP_COLUMNS`] present (a
//! column named `step` beats `epoch`). An `epoch` column that starts at 0 counts epochs
//! completed minus one (Keras), so its steps are `epoch + 1`, epochs completed: Keras's
//! `start_from_epoch = N` (epochs 0..N−1 ignored) is then exactly the patience policy's
//! `start_from = N` (steps ≤ N ignored), `--start-from-epoch N`. Rows whose metric cell is
//! empty are not evaluations and are skipped; `nan` and `inf` are kept as the values they
//! are. Time comes from `_runtime`, `elapsed_s` or `time_s` (seconds since the start), else
//! from `_timestamp` or `wall_time` (Unix seconds, counted from the first row). A column named
//! like a learning rate (`lr`, `learning_rate`, Lightning's `lr-Adam`, …) is the run's
//! learning rate ([`crate::learning_rate`]), on the same steps.

use crate::learning_rate::{self, LearningRate};
use crate::metric;
use crate::run::{Format, ImportedRun, Timing};
use crate::{ImportError, ImportOptions};
use snuffer_energy::lines::LineLimited;
use std::io::Read;
use std::path::Path;

const FORMAT: &str = "CSV history";

/// Step columns tried in order when `--step-column` is not given (case-insensitive).
pub const STEP_COLUMNS: [&str; 8] = [
    "step",
    "global_step",
    "train/global_step",
    "trainer/global_step",
    "_step",
    "iteration",
    "iter",
    "epoch",
];
/// Columns holding seconds since the run started.
const ELAPSED_COLUMNS: [&str; 4] = ["_runtime", "elapsed_s", "time_s", "relative_time"];
/// Columns holding Unix timestamps.
const TIMESTAMP_COLUMNS: [&str; 3] = ["_timestamp", "wall_time", "timestamp"];

fn find(header: &csv::StringRecord, name: &str) -> Option<usize> {
    header
        .iter()
        .position(|h| h == name)
        .or_else(|| header.iter().position(|h| h.eq_ignore_ascii_case(name)))
}

fn step_column(header: &csv::StringRecord, options: &ImportOptions) -> Option<usize> {
    match &options.step_column {
        Some(name) => find(header, name),
        None => STEP_COLUMNS.iter().find_map(|c| find(header, c)),
    }
}

/// Whether the CSV file's header has a step column (how a directory walk tells histories from
/// other CSV files). Unreadable files count as histories, so that their error is reported.
pub fn looks_like_history(path: &Path, options: &ImportOptions) -> bool {
    let Ok(file) = std::fs::File::open(path) else {
        return true;
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(LineLimited::new(std::io::BufReader::new(file)));
    match rdr.headers() {
        Ok(h) => step_column(h, options).is_some(),
        Err(_) => true,
    }
}

/// Reads a CSV history file.
pub fn read(path: &Path, options: &ImportOptions) -> Result<ImportedRun, ImportError> {
    let file = std::fs::File::open(path).map_err(|e| ImportError::io(path, e))?;
    parse_from(std::io::BufReader::new(file), path, options)
}

/// Parses the bytes of a CSV history; errors name `path`.
pub fn parse(
    bytes: &[u8],
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportedRun, ImportError> {
    parse_from(bytes, path, options)
}

fn csv_error(path: &Path, e: &csv::Error) -> ImportError {
    let line = e.position().map_or(0, |p| p.line());
    ImportError::malformed(path, FORMAT, format!("line {line}: {e}"))
}

fn parse_from<R: Read>(
    reader: R,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportedRun, ImportError> {
    // Lines bounded: a sparse or damaged file is an error naming the limit, never an
    // allocation the size of the file.
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(LineLimited::new(reader));
    let header = rdr.headers().map_err(|e| csv_error(path, &e))?.clone();
    let step_col = step_column(&header, options).ok_or_else(|| ImportError::NoStepColumn {
        path: path.to_path_buf(),
        looked_for: options.step_column.clone().map_or_else(
            || STEP_COLUMNS.iter().map(|s| s.to_string()).collect(),
            |s| vec![s],
        ),
    })?;
    let elapsed_col = ELAPSED_COLUMNS.iter().find_map(|c| find(&header, c));
    let stamp_col = TIMESTAMP_COLUMNS.iter().find_map(|c| find(&header, c));
    let skip: Vec<usize> = [
        Some(step_col),
        elapsed_col,
        stamp_col,
        find(&header, "epoch"),
    ]
    .into_iter()
    .flatten()
    .chain(
        header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.starts_with('_') || h.is_empty())
            .map(|(i, _)| i),
    )
    .collect();

    let records: Vec<(u64, csv::StringRecord)> = rdr
        .records()
        .map(|r| {
            r.map(|rec| (rec.position().map_or(0, |p| p.line()), rec))
                .map_err(|e| csv_error(path, &e))
        })
        .collect::<Result<_, _>>()?;

    // A metric column is one with at least one number in it.
    let available: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| !skip.contains(i))
        .filter(|(i, _)| {
            records.iter().any(|(_, r)| {
                r.get(*i)
                    .is_some_and(|v| !v.is_empty() && v.parse::<f64>().is_ok())
            })
        })
        .map(|(_, h)| h.to_string())
        .collect();
    let mut sorted = available.clone();
    sorted.sort();
    let name = metric::choose(path, &sorted, options.metric.as_deref(), None, false)?;
    let metric_col = header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| ImportError::Empty {
            path: path.to_path_buf(),
            metric: name.clone(),
        })?;
    let step_name = header.get(step_col).unwrap_or("step").to_string();

    let bad = |line: u64, column: &str, value: &str, problem: &str| ImportError::BadValue {
        path: path.to_path_buf(),
        line,
        column: column.to_string(),
        value: value.to_string(),
        problem: problem.to_string(),
    };
    // (step, metric, time)
    let mut rows: Vec<(f64, f64, Option<f64>)> = Vec::new();
    for (line, rec) in &records {
        let raw = rec.get(metric_col).unwrap_or("");
        if raw.is_empty() {
            continue;
        }
        let value = raw.parse::<f64>().map_err(|_| {
            bad(
                *line,
                &name,
                raw,
                "expected a number (nan and inf are accepted), or an empty cell",
            )
        })?;
        let raw_step = rec.get(step_col).unwrap_or("");
        let step = raw_step
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| {
                bad(
                    *line,
                    &step_name,
                    raw_step,
                    "the step of an evaluation row must be a number ≥ 0",
                )
            })?;
        let time = elapsed_col
            .or(stamp_col)
            .and_then(|c| rec.get(c))
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|t| t.is_finite());
        rows.push((step, value, time));
    }
    if rows.is_empty() {
        return Err(ImportError::Empty {
            path: path.to_path_buf(),
            metric: name,
        });
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut notes = Vec::new();
    // Keras counts epochs from 0: steps are epochs completed (every series alike).
    let mut shift = 0.0;
    let is_epoch = step_name.eq_ignore_ascii_case("epoch");
    if is_epoch && rows[0].0 == 0.0 && rows.iter().all(|r| r.0.fract() == 0.0) {
        shift = 1.0;
        for r in &mut rows {
            r.0 += shift;
        }
        notes.push(
            "steps are epochs completed: the epoch column counts from 0, so step = epoch + 1"
                .into(),
        );
    }
    let learning_rate = learning_rate::most_recorded(
        header
            .iter()
            .enumerate()
            .filter(|(i, h)| !skip.contains(i) && learning_rate::is_learning_rate_name(h))
            .filter_map(|(i, h)| {
                LearningRate::new(
                    h,
                    records.iter().filter_map(|(_, rec)| {
                        let step = rec.get(step_col)?.parse::<f64>().ok()?;
                        let lr = rec.get(i).filter(|v| !v.is_empty())?.parse::<f64>().ok()?;
                        Some((step + shift, lr))
                    }),
                )
            })
            .collect(),
    );
    let timing = timing(
        &rows,
        elapsed_col.is_some(),
        &header,
        elapsed_col.or(stamp_col),
        &mut notes,
    );
    let higher = metric::resolve_direction(options, &name, None);
    Ok(ImportedRun {
        path: path.to_path_buf(),
        format: Format::CsvHistory,
        run_id: run_id(path),
        metric_name: name,
        higher_is_better: higher,
        steps: rows.iter().map(|r| r.0).collect(),
        metrics: rows.iter().map(|r| r.1).collect(),
        timing,
        energy: None,
        planned_steps: None,
        available_metrics: sorted,
        learning_rate,
        notes,
    })
}

fn timing(
    rows: &[(f64, f64, Option<f64>)],
    elapsed: bool,
    header: &csv::StringRecord,
    col: Option<usize>,
    notes: &mut Vec<String>,
) -> Option<Timing> {
    let col_name = header.get(col?)?.to_string();
    let times: Option<Vec<f64>> = rows.iter().map(|r| r.2).collect();
    let Some(times) = times else {
        notes.push(format!(
            "`{col_name}` is missing on some evaluation rows: time not used"
        ));
        return None;
    };
    let origin = if elapsed {
        0.0
    } else {
        times.iter().copied().fold(f64::INFINITY, f64::min)
    };
    let mut last = 0.0f64;
    let elapsed_s = times
        .iter()
        .map(|t| {
            last = last.max(t - origin);
            last
        })
        .collect();
    Some(Timing {
        elapsed_s,
        source: if elapsed {
            format!("`{col_name}` (seconds since the start)")
        } else {
            format!("`{col_name}` (from the first evaluation row; time before it is not counted)")
        },
    })
}

/// The file's stem, or its directory's name for the usual generic file names.
fn run_id(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let generic = [
        "metrics",
        "history",
        "training",
        "log",
        "wandb_export",
        "export",
    ];
    let parent = path
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned());
    match parent {
        Some(p) if generic.iter().any(|g| stem.eq_ignore_ascii_case(g)) => p,
        _ if stem.is_empty() => "csv".into(),
        _ => stem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p() -> &'static Path {
        Path::new("logs/version_0/metrics.csv")
    }

    fn read(text: &str, options: &ImportOptions) -> Result<ImportedRun, ImportError> {
        parse(text.as_bytes(), p(), options)
    }

    #[test]
    fn a_learning_rate_column_is_read_on_the_same_steps() {
        // Keras's CSVLogger with a LearningRateScheduler: `learning_rate` (Keras 3) or `lr`
        // (Keras 2), epochs from 0, so steps are epoch + 1.
        for col in ["learning_rate", "lr"] {
            let text = format!(
                "epoch,loss,{col},val_loss\n0,1.0,0.1,0.9\n1,0.9,0.1,0.8\n2,0.8,0.1,0.7\n3,0.7,0.01,0.6\n4,0.6,0.01,0.55\n"
            );
            let r = read(&text, &ImportOptions::default()).unwrap();
            assert_eq!(r.steps, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
            let lr = r.learning_rate.unwrap();
            assert_eq!((lr.name.as_str(), lr.steps.clone()), (col, r.steps.clone()));
            assert_eq!(lr.change_points(), vec![3.0]);
        }
        // Lightning's metrics.csv: lr-SGD on training rows, the metric on validation rows.
        let text = "epoch,step,lr-SGD,val_loss\n0,9,0.1,\n0,19,0.1,\n0,19,,1.0\n1,29,0.1,\n1,39,0.02,\n1,39,,0.8\n";
        let r = read(text, &ImportOptions::default()).unwrap();
        let lr = r.learning_rate.unwrap();
        assert_eq!(
            (lr.steps, lr.rates),
            (vec![9.0, 19.0, 29.0, 39.0], vec![0.1, 0.1, 0.1, 0.02])
        );
        assert!(read("step,val_loss\n1,1.0\n", &ImportOptions::default())
            .unwrap()
            .learning_rate
            .is_none());
    }

    #[test]
    fn lightning_rows_without_the_metric_are_skipped() {
        let text = "epoch,step,train_loss,val_accuracy,val_loss\n\
                    0,49,2.1,,\n0,99,1.9,,\n0,99,,0.5,1.2\n1,149,1.0,,\n1,199,,0.8,nan\n";
        let r = read(text, &ImportOptions::default()).unwrap();
        assert_eq!(r.metric_name, "val_loss");
        assert_eq!(r.steps, vec![99.0, 199.0]);
        assert!(r.metrics[0] == 1.2 && r.metrics[1].is_nan());
        assert_eq!(r.run_id, "version_0");
        assert!(r.timing.is_none());
        assert_eq!(
            r.available_metrics,
            vec!["train_loss", "val_accuracy", "val_loss"]
        );
    }

    #[test]
    fn keras_epochs_count_from_zero() {
        let text =
            "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.0,0.55,0.9\n1,0.7,0.6,0.72,0.5\n";
        let opt = ImportOptions {
            metric: Some("accuracy".into()),
            ..ImportOptions::default()
        };
        let r = read(text, &opt).unwrap();
        assert_eq!(
            (r.metric_name.as_str(), r.higher_is_better),
            ("accuracy", true),
            "exact name first"
        );
        assert_eq!(r.steps, vec![1.0, 2.0]);
        assert!(r.notes[0].contains("epoch + 1"));
    }

    #[test]
    fn wandb_runtime_is_the_time() {
        let text = "_step,_runtime,_timestamp,val/loss,train/loss\n0,1.5,1700000001.5,,2.0\n10,12.0,1700000012,1.0,\n20,20.5,1700000020.5,0.7,\n";
        let r = read(text, &ImportOptions::default()).unwrap();
        assert_eq!(r.metric_name, "val/loss");
        let t = r.timing.unwrap();
        assert_eq!(t.elapsed_s, vec![12.0, 20.5]);
        assert!(t.source.contains("_runtime"));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let opt = ImportOptions::default();
        let err = read("epoch,val_loss\n0,0.5\n1,abc\n", &opt)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("metrics.csv, line 3, column `val_loss`"),
            "{err}"
        );
        let err = read("step,val_loss\n-1,0.5\n", &opt)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("`step`"), "{err}");
        let err = read("when,val_loss\n1,0.5\n", &opt)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--step-column") && err.contains("metrics.csv"),
            "{err}"
        );
        let err = read("step,val_loss\n1,0.5,3\n", &opt)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let with_col = ImportOptions {
            step_column: Some("when".into()),
            ..ImportOptions::default()
        };
        assert_eq!(
            read("when,val_loss\n1,0.5\n", &with_col).unwrap().steps,
            vec![1.0]
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Err(e) = parse(&bytes, p(), &ImportOptions::default()) {
                prop_assert!(e.to_string().contains("metrics.csv"));
            }
        }

        #[test]
        fn arbitrary_rows_never_panic(rows in proptest::collection::vec(
            proptest::collection::vec("[0-9.e-]{0,5}|nan|inf|", 4), 0..20)) {
            let mut text = String::from("step,_runtime,val_loss,train_loss\n");
            for r in rows {
                text.push_str(&r.join(","));
                text.push('\n');
            }
            if let Ok(r) = read(&text, &ImportOptions::default()) {
                prop_assert_eq!(r.steps.len(), r.metrics.len());
                prop_assert!(r.steps.windows(2).all(|w| w[0] <= w[1]));
                if let Some(t) = r.timing {
                    prop_assert!(t.elapsed_s.windows(2).all(|w| w[0] <= w[1]));
                }
            }
        }
    }
}
