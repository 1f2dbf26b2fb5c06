//! Snuffer run directories: the evaluation lines of `steps.jsonl`, with the energy the run
//! recorded and its provenance.
//!
//! The metric is `--metric` or the one the run monitored (its start line's `metric_name`),
//! the direction the run's, the plan its `planned_steps`. Energy is the cumulative total of
//! each evaluation line, with the provenance its domains recorded (combined: the weakest
//! wins) and the uncertainty of the last line; a run that recorded no energy domains has
//! none. The format has no learning-rate field: a rate the run logged with its metrics
//! (`lr`, `learning_rate`, …, on any line) is its learning rate ([`crate::learning_rate`]).

use crate::learning_rate::{self, LearningRate};
use crate::metric;
use crate::run::{Format, ImportedRun, RecordedEnergy, Timing};
use crate::{ImportError, ImportOptions};
use snuffer_energy::Provenance;
use snuffer_rundir::{StepsLog, STEPS_FILE};
use std::path::Path;

const FORMAT: &str = "Snuffer steps.jsonl";

// The one place that reads a run directory's log, through `snuffer-rundir`.

/// Reads `DIR/steps.jsonl`.
fn steps_log(dir: &Path) -> Result<StepsLog, ImportError> {
    let path = dir.join(STEPS_FILE);
    snuffer_rundir::read_steps(&path).map_err(|e| match e {
        snuffer_rundir::RunDirError::Read { path, source } => ImportError::Io { path, source },
        other => ImportError::malformed(&path, FORMAT, other.to_string()),
    })
}

/// Parses the bytes of a `steps.jsonl` file.
fn steps_log_from(bytes: &[u8], path: &Path) -> Result<StepsLog, ImportError> {
    snuffer_rundir::parse_steps(bytes)
        .map_err(|e| ImportError::malformed(path, FORMAT, e.to_string()))
}

/// Whether `dir` is a Snuffer run directory (it holds `steps.jsonl`).
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join(STEPS_FILE).is_file()
}

/// Reads a run directory.
pub fn read(dir: &Path, options: &ImportOptions) -> Result<ImportedRun, ImportError> {
    to_run(dir, steps_log(dir)?, options)
}

/// Parses the bytes of a `steps.jsonl` as the log of the run directory `dir` (for tests and
/// fuzzing).
pub fn parse(
    bytes: &[u8],
    dir: &Path,
    options: &ImportOptions,
) -> Result<ImportedRun, ImportError> {
    to_run(dir, steps_log_from(bytes, &dir.join(STEPS_FILE))?, options)
}

/// The cumulative energy of `rows` (step, metric, time, energy), continued across drops:
/// a total that falls (a restarted process, a counter reset) starts again from where it
/// was. Also the drops, as (step, before, after). Non-finite totals repeat the last value.
fn continued_across_drops(rows: &[(f64, f64, f64, f64)]) -> (Vec<f64>, Vec<(f64, f64, f64)>) {
    let mut drops = Vec::new();
    let (mut offset, mut last_raw, mut last_out) = (0.0f64, 0.0f64, 0.0f64);
    let cumulative = rows
        .iter()
        .map(|&(step, _, _, x)| {
            if x.is_finite() && x >= 0.0 {
                if x < last_raw {
                    drops.push((step, last_raw, x));
                    offset += last_raw;
                }
                last_raw = x;
                last_out = last_out.max(offset + x);
            }
            last_out
        })
        .collect();
    (cumulative, drops)
}

fn to_run(dir: &Path, log: StepsLog, options: &ImportOptions) -> Result<ImportedRun, ImportError> {
    let meta = log.meta();
    let meta_str = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let recorded = meta_str("metric_name");
    let mut available: Vec<String> = Vec::new();
    for r in log.evals() {
        for k in r.metrics.keys() {
            if !available.contains(k) {
                available.push(k.clone());
            }
        }
    }
    available.sort();
    let name = metric::choose(
        dir,
        &available,
        options.metric.as_deref(),
        recorded.as_deref(),
        false,
    )?;
    let mut rows: Vec<(f64, f64, f64, f64)> = Vec::new(); // step, metric, time, energy
    let mut provenance: Option<Provenance> = None;
    let mut uncertainty = 0.0;
    for r in log.evals() {
        let Some(value) = r.metrics.get(&name) else {
            continue;
        };
        rows.push((
            r.step as f64,
            value.unwrap_or(f64::NAN),
            r.time_s,
            r.energy.total_j,
        ));
        // The domains are the same on every line: the last line's say how the total was made.
        if let Some(p) = r
            .energy
            .domains
            .iter()
            .map(|d| d.provenance.clone())
            .reduce(|a, b| a.combine(&b))
        {
            provenance = Some(p);
            uncertainty = r.energy.total_uncertainty;
        }
    }
    if rows.is_empty() {
        return Err(ImportError::Empty {
            path: dir.to_path_buf(),
            metric: name,
        });
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut notes = Vec::new();
    if log.truncated {
        notes.push(
            "steps.jsonl ends in a torn line (the run was killed while writing); read up to it"
                .into(),
        );
    }
    let monotone = |v: Vec<f64>| {
        let mut last = 0.0f64;
        v.into_iter()
            .map(|x| {
                last = last.max(if x.is_finite() { x } else { last });
                last
            })
            .collect::<Vec<f64>>()
    };
    let (cumulative_j, drops) = continued_across_drops(&rows);
    if let Some(&(step, from, to)) = drops.first() {
        notes.push(format!(
            "the recorded energy drops {} time(s), first from {} to {} at step {step} (a \
             restart or a counter reset): read as starting again there, so the energy is \
             marked as an estimate",
            drops.len(),
            snuffer_energy::Joules(from),
            snuffer_energy::Joules(to)
        ));
    }
    let energy = provenance
        .filter(|_| rows.iter().any(|r| r.3 > 0.0))
        .map(|provenance| RecordedEnergy {
            cumulative_j,
            provenance: if drops.is_empty() {
                provenance
            } else {
                Provenance::Estimated {
                    model: format!("{provenance}, with drops read as restarts"),
                }
            },
            uncertainty,
        });
    if energy.is_none() {
        notes.push("the run recorded no energy".into());
    }
    let meta_higher = meta
        .and_then(|m| m.get("higher_is_better"))
        .and_then(|v| v.as_bool());
    let from_log = meta_higher.filter(|_| recorded.as_deref() == Some(name.as_str()));
    let higher = metric::resolve_direction(options, &name, from_log);
    let run_id = meta_str("run_name")
        .filter(|n| !n.is_empty())
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "run".into());
    // A run directory has no learning-rate field of its own; a run that logs its rate with
    // its metrics (`lr`, `learning_rate`, …) on any line has one.
    let mut lr_names: Vec<&String> = log
        .records
        .iter()
        .flat_map(|r| r.metrics.keys())
        .filter(|k| learning_rate::is_learning_rate_name(k))
        .collect();
    lr_names.sort();
    lr_names.dedup();
    let learning_rate = learning_rate::most_recorded(
        lr_names
            .into_iter()
            .filter_map(|k| {
                LearningRate::new(
                    k.as_str(),
                    log.records
                        .iter()
                        .filter_map(|r| Some((r.step as f64, (*r.metrics.get(k)?)?))),
                )
            })
            .collect(),
    );
    Ok(ImportedRun {
        path: dir.to_path_buf(),
        format: Format::SnufferRun,
        run_id,
        metric_name: name,
        higher_is_better: higher,
        steps: rows.iter().map(|r| r.0).collect(),
        metrics: rows.iter().map(|r| r.1).collect(),
        timing: Some(Timing {
            elapsed_s: monotone(rows.iter().map(|r| r.2).collect()),
            source: "Snuffer time_s".into(),
        }),
        energy,
        planned_steps: meta
            .and_then(|m| m.get("planned_steps"))
            .and_then(|v| v.as_u64()),
        available_metrics: available,
        learning_rate,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LOG: &str = concat!(
        r#"{"kind":"start","step":0,"time_s":0,"meta":{"run_name":"digits","metric_name":"val_acc","higher_is_better":true,"planned_steps":300}}"#,
        "\n",
        r#"{"kind":"step","step":50,"time_s":0.5,"energy":{"total_j":5,"domains":[{"name":"cpu-estimate","joules":5,"provenance":{"kind":"estimated","model":"m"},"uncertainty":0.4}]}}"#,
        "\n",
        r#"{"kind":"eval","step":100,"time_s":1.0,"energy":{"total_j":10,"total_uncertainty":0.4,"domains":[{"name":"cpu-estimate","joules":10,"provenance":{"kind":"estimated","model":"m"},"uncertainty":0.4}]},"metrics":{"val_acc":0.5,"loss":1.0}}"#,
        "\n",
        r#"{"kind":"eval","step":200,"time_s":2.0,"energy":{"total_j":20,"total_uncertainty":0.4,"domains":[{"name":"cpu-estimate","joules":20,"provenance":{"kind":"estimated","model":"m"},"uncertainty":0.4}]},"metrics":{"val_acc":null,"loss":0.5}}"#,
        "\n",
        r#"{"kind":"eval","step":300,"time_s":3.0,"energy":{"total_j":30,"total_uncertainty":0.4,"domains":[{"name":"cpu-estimate","joules":30,"provenance":{"kind":"estimated","model":"m"},"uncertainty":0.4}]},"metrics":{"val_acc":0.8,"loss":0.4}}"#,
        "\n",
    );

    fn dir() -> &'static Path {
        Path::new("runs/digits-1")
    }

    #[test]
    fn a_rate_logged_with_the_metrics_is_the_learning_rate() {
        let r = parse(LOG.as_bytes(), dir(), &ImportOptions::default()).unwrap();
        assert!(
            r.learning_rate.is_none(),
            "the format has no field of its own"
        );
        let with_lr = LOG
            .replace("\"loss\":1.0", "\"loss\":1.0,\"lr\":0.1")
            .replace("\"loss\":0.5", "\"loss\":0.5,\"lr\":0.1")
            .replace("\"loss\":0.4", "\"loss\":0.4,\"lr\":0.1");
        let r = parse(with_lr.as_bytes(), dir(), &ImportOptions::default()).unwrap();
        let lr = r.learning_rate.unwrap();
        assert_eq!(
            (lr.name.as_str(), lr.steps),
            ("lr", vec![100.0, 200.0, 300.0])
        );
        assert_eq!(
            r.metric_name, "val_acc",
            "the rate is not the metric replayed"
        );
    }

    #[test]
    fn a_recorded_counter_that_drops_is_continued_noted_and_no_longer_a_counter() {
        let line = |step: u64, j: f64, v: f64| {
            format!(
                r#"{{"kind":"eval","step":{step},"time_s":1.0,"energy":{{"total_j":{j},"total_uncertainty":0.05,"domains":[{{"name":"cpu-package:0","joules":{j},"provenance":{{"kind":"counter"}},"uncertainty":0.05}}]}},"metrics":{{"val_acc":{v}}}}}"#
            )
        };
        let text = [
            line(100, 10_000.0, 0.5),
            line(200, 20_000.0, 0.6),
            line(300, 50.0, 0.7),
        ]
        .join("\n");
        let r = parse(
            text.as_bytes(),
            Path::new("runs/a"),
            &ImportOptions::default(),
        )
        .unwrap();
        let e = r.energy.unwrap();
        assert_eq!(e.cumulative_j, vec![10_000.0, 20_000.0, 20_050.0]);
        assert!(e.provenance.is_estimate(), "{:?}", e.provenance);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("drops") && n.contains("step 300")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn reads_evaluations_with_recorded_energy_and_its_provenance() {
        let r = parse(LOG.as_bytes(), dir(), &ImportOptions::default()).unwrap();
        assert_eq!(
            (r.run_id.as_str(), r.metric_name.as_str()),
            ("digits", "val_acc")
        );
        assert!(r.higher_is_better);
        assert_eq!(r.steps, vec![100.0, 200.0, 300.0]);
        assert!(r.metrics[1].is_nan(), "null is a non-number");
        let e = r.energy.unwrap();
        assert_eq!(e.cumulative_j, vec![10.0, 20.0, 30.0]);
        assert!(e.provenance.is_estimate() && e.uncertainty == 0.4);
        assert_eq!(r.planned_steps, Some(300));
        let loss = ImportOptions {
            metric: Some("loss".into()),
            ..ImportOptions::default()
        };
        let r = parse(LOG.as_bytes(), dir(), &loss).unwrap();
        assert!(
            !r.higher_is_better,
            "the run's direction is for its own metric only"
        );
    }

    #[test]
    fn a_torn_last_line_is_noted_and_a_damaged_one_is_an_error() {
        let torn = &LOG[..LOG.len() - 20];
        let r = parse(torn.as_bytes(), dir(), &ImportOptions::default()).unwrap();
        assert_eq!(r.steps.len(), 2);
        assert!(r.notes.iter().any(|n| n.contains("torn")));
        let damaged = LOG.replacen("\"kind\":\"eval\"", "\"kind\":eval", 1);
        let err = parse(damaged.as_bytes(), dir(), &ImportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("runs/digits-1/steps.jsonl") && err.contains("line 3"),
            "{err}"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Err(e) = parse(&bytes, dir(), &ImportOptions::default()) {
                prop_assert!(e.to_string().contains("runs/digits-1"));
            }
        }
    }
}
