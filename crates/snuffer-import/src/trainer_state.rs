//! Hugging Face Trainer `trainer_state.json`.
//!
//! The Trainer writes its state as JSON with Python's `json.dumps`, so a diverged run's file
//! holds the bare tokens `NaN`, `Infinity` and `-Infinity`, which are not JSON; they are read
//! as the numbers they stand for. `log_history` holds one object per log call: training-loss
//! entries (`loss`, `learning_rate`, `grad_norm`), evaluation entries (`eval_*`, with
//! `eval_runtime` and the speed figures) and a last summary entry (`train_runtime`, …).
//!
//! * **Metric**: `--metric` (exactly, or without its `eval_` prefix); else the metric behind
//!   `best_metric` (a top-level `metric_for_best_model` when a trainer wrote one, or the one
//!   `eval_*` series whose value at `best_global_step` equals `best_metric`); else
//!   `eval_loss`.
//! * **Plan**: `max_steps`.
//! * **Learning rate**: `learning_rate` of the training entries (see [`crate::learning_rate`]).
//! * **Time**: the Trainer logs no timestamps per entry; `train_runtime` (the whole training
//!   call's seconds) is spread over the steps, which is all that can be said.

use crate::learning_rate::{self, LearningRate};
use crate::metric;
use crate::run::{Format, ImportedRun, Timing};
use crate::{ImportError, ImportOptions};
use serde_json::Value;
use std::borrow::Cow;
use std::path::Path;

const FORMAT: &str = "trainer_state.json";

/// File name the Trainer writes.
pub const FILE_NAME: &str = "trainer_state.json";

/// Keys of `log_history` entries that are bookkeeping, not metrics.
fn is_bookkeeping(key: &str) -> bool {
    matches!(key, "step" | "epoch" | "total_flos")
        || key.ends_with("_runtime")
        || key.ends_with("_per_second")
}

/// Reads a `trainer_state.json` file.
pub fn read(path: &Path, options: &ImportOptions) -> Result<ImportedRun, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
    parse(&bytes, path, options)
}

/// Replaces Python's bare `NaN`, `Infinity`, `-Infinity` outside strings by the strings
/// `"NaN"`, `"Infinity"`, `"-Infinity"` so that a JSON parser accepts the text; everything
/// else is left byte for byte.
fn python_constants_as_strings(bytes: &[u8]) -> Cow<'_, [u8]> {
    const TOKENS: [&[u8]; 3] = [b"-Infinity", b"Infinity", b"NaN"];
    let mut out: Option<Vec<u8>> = None;
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some(t) = TOKENS.iter().find(|t| bytes[i..].starts_with(t)) {
            let o = out.get_or_insert_with(|| bytes[..i].to_vec());
            o.push(b'"');
            o.extend_from_slice(t);
            o.push(b'"');
            i += t.len();
            continue;
        }
        if let Some(o) = out.as_mut() {
            o.push(b);
        }
        i += 1;
    }
    out.map_or(Cow::Borrowed(bytes), Cow::Owned)
}

/// A JSON value as a number: numbers, and the strings the Python constants became.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// Parses the bytes of a `trainer_state.json`; errors name `path`.
pub fn parse(
    bytes: &[u8],
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportedRun, ImportError> {
    let text = python_constants_as_strings(bytes);
    let state: Value = serde_json::from_slice(&text).map_err(|e| {
        ImportError::malformed(
            path,
            FORMAT,
            format!("line {}, column {}: {e}", e.line(), e.column()),
        )
    })?;
    let history = state
        .get("log_history")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ImportError::malformed(
                path,
                FORMAT,
                "no `log_history` array; is this a Trainer state file?",
            )
        })?;
    // (index in log_history, step, entry)
    let mut entries: Vec<(usize, f64, &serde_json::Map<String, Value>)> = Vec::new();
    let mut available: Vec<String> = Vec::new();
    for (i, e) in history.iter().enumerate() {
        let Some(obj) = e.as_object() else {
            return Err(ImportError::malformed(
                path,
                FORMAT,
                format!("log_history[{i}] is not an object"),
            ));
        };
        let step = obj
            .get("step")
            .and_then(number)
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| {
                ImportError::malformed(
                    path,
                    FORMAT,
                    format!("log_history[{i}] has no `step` that is a number ≥ 0"),
                )
            })?;
        for (k, v) in obj {
            if !is_bookkeeping(k) && number(v).is_some() && !available.contains(k) {
                available.push(k.clone());
            }
        }
        entries.push((i, step, obj));
    }
    available.sort();

    let best_metric = state.get("best_metric").and_then(number);
    let best_step = state.get("best_global_step").and_then(number);
    let recorded = state
        .get("metric_for_best_model")
        .and_then(Value::as_str)
        .map(|m| {
            if m.starts_with("eval_") {
                m.to_string()
            } else {
                format!("eval_{m}")
            }
        })
        .or_else(|| infer_best_metric(&entries, &available, best_metric, best_step));
    let name = metric::choose(
        path,
        &available,
        options.metric.as_deref(),
        recorded.as_deref(),
        false,
    )?;
    let mut points: Vec<(f64, f64)> = entries
        .iter()
        .filter_map(|(_, s, o)| o.get(&name).and_then(number).map(|v| (*s, v)))
        .collect();
    if points.is_empty() {
        return Err(ImportError::Empty {
            path: path.to_path_buf(),
            metric: name,
        });
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let from_log = best_direction(&points, best_metric, recorded.as_deref() == Some(&name));
    let higher = metric::resolve_direction(options, &name, from_log);

    let mut notes = Vec::new();
    if recorded.as_deref() == Some(name.as_str()) && options.metric.is_none() {
        notes.push(format!(
            "metric `{name}`: the one behind the Trainer's best_metric"
        ));
    }
    let last_step = entries.iter().map(|e| e.1).fold(0.0, f64::max);
    let runtime = entries
        .iter()
        .rev()
        .find_map(|(_, _, o)| o.get("train_runtime").and_then(number))
        .filter(|t| t.is_finite() && *t > 0.0);
    let timing = match runtime {
        Some(total) if last_step > 0.0 => Some(Timing {
            elapsed_s: points.iter().map(|(s, _)| total * s / last_step).collect(),
            source: "train_runtime spread evenly over steps".into(),
        }),
        _ => None,
    };
    let planned_steps = state
        .get("max_steps")
        .and_then(Value::as_u64)
        .filter(|&m| m > 0);
    let learning_rate = learning_rate::most_recorded(
        available
            .iter()
            .filter(|k| learning_rate::is_learning_rate_name(k))
            .filter_map(|k| {
                LearningRate::new(
                    k.as_str(),
                    entries
                        .iter()
                        .filter_map(|(_, s, o)| o.get(k).and_then(number).map(|v| (*s, v))),
                )
            })
            .collect(),
    );
    Ok(ImportedRun {
        path: path.to_path_buf(),
        format: Format::TrainerState,
        run_id: run_id(path),
        metric_name: name,
        higher_is_better: higher,
        steps: points.iter().map(|p| p.0).collect(),
        metrics: points.iter().map(|p| p.1).collect(),
        timing,
        energy: None,
        planned_steps,
        available_metrics: available,
        learning_rate,
        notes,
    })
}

/// The one `eval_*` series whose value at the best step (or anywhere, without one) equals
/// `best_metric`.
fn infer_best_metric(
    entries: &[(usize, f64, &serde_json::Map<String, Value>)],
    available: &[String],
    best: Option<f64>,
    best_step: Option<f64>,
) -> Option<String> {
    let best = best.filter(|b| b.is_finite())?;
    let matching: Vec<&String> = available
        .iter()
        .filter(|k| k.starts_with("eval_"))
        .filter(|k| {
            entries
                .iter()
                .filter(|(_, s, _)| best_step.is_none_or(|b| *s == b))
                .any(|(_, _, o)| o.get(k.as_str()).and_then(number) == Some(best))
        })
        .collect();
    match matching.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

/// Direction from `best_metric`: the maximum of the series means higher is better, the
/// minimum lower; only for the series behind it.
fn best_direction(points: &[(f64, f64)], best: Option<f64>, is_best_series: bool) -> Option<bool> {
    let best = best.filter(|b| b.is_finite() && is_best_series)?;
    let finite = points.iter().map(|p| p.1).filter(|v| v.is_finite());
    let max = finite.clone().fold(f64::NEG_INFINITY, f64::max);
    let min = finite.fold(f64::INFINITY, f64::min);
    match (best == max, best == min) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// The output directory's name (the parent of `checkpoint-N` for a checkpoint's state).
fn run_id(path: &Path) -> String {
    let parent = path.parent();
    let name = |p: Option<&Path>| {
        p.and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
    };
    match name(parent) {
        Some(n) if n.starts_with("checkpoint-") => {
            let up = name(parent.and_then(Path::parent)).unwrap_or_default();
            if up.is_empty() {
                n
            } else {
                format!("{up}/{n}")
            }
        }
        Some(n) if !n.is_empty() => n,
        _ => "trainer_state".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const STATE: &str = r#"{
      "best_metric": 0.9, "best_global_step": 20, "max_steps": 30, "global_step": 30,
      "log_history": [
        {"epoch": 0.5, "loss": 2.0, "learning_rate": 1e-3, "step": 10},
        {"epoch": 0.5, "eval_loss": 1.0, "eval_accuracy": 0.5, "eval_runtime": 1.5, "step": 10},
        {"epoch": 1.0, "loss": NaN, "step": 20},
        {"epoch": 1.0, "eval_loss": 0.6, "eval_accuracy": 0.9, "eval_runtime": 1.5, "step": 20},
        {"epoch": 1.5, "eval_loss": Infinity, "eval_accuracy": 0.85, "eval_runtime": 1.5, "step": 30},
        {"epoch": 1.5, "step": 30, "train_runtime": 60.0, "train_loss": 1.1, "total_flos": 1e12}
      ]}"#;

    fn p() -> &'static Path {
        Path::new("out/run-a/trainer_state.json")
    }

    #[test]
    fn reads_the_best_model_metric_with_python_constants() {
        let r = parse(STATE.as_bytes(), p(), &ImportOptions::default()).unwrap();
        assert_eq!(r.metric_name, "eval_accuracy", "inferred from best_metric");
        assert!(r.higher_is_better);
        assert_eq!(r.steps, vec![10.0, 20.0, 30.0]);
        assert_eq!(r.metrics, vec![0.5, 0.9, 0.85]);
        assert_eq!(r.planned_steps, Some(30));
        assert_eq!(r.run_id, "run-a");
        let t = r.timing.unwrap();
        assert_eq!(t.elapsed_s, vec![20.0, 40.0, 60.0]);
        assert!(!r.available_metrics.contains(&"eval_runtime".to_string()));

        let loss = ImportOptions {
            metric: Some("loss".into()),
            ..ImportOptions::default()
        };
        let r = parse(STATE.as_bytes(), p(), &loss).unwrap();
        assert_eq!(
            r.metric_name, "loss",
            "an exact name wins over the eval_ prefix"
        );
        assert!(r.metrics[1].is_nan() && !r.higher_is_better);
        let eval_loss = ImportOptions {
            metric: Some("eval_loss".into()),
            ..ImportOptions::default()
        };
        let r = parse(STATE.as_bytes(), p(), &eval_loss).unwrap();
        assert_eq!(r.metrics[2], f64::INFINITY);
    }

    #[test]
    fn the_learning_rate_comes_from_the_training_entries() {
        let r = parse(STATE.as_bytes(), p(), &ImportOptions::default()).unwrap();
        let lr = r.learning_rate.unwrap();
        assert_eq!(
            (lr.name.as_str(), lr.steps.as_slice(), lr.rates.as_slice()),
            ("learning_rate", &[10.0][..], &[1e-3][..])
        );
        // StepLR-like: 3 logs at 0.1, then 0.01.
        let entries: Vec<String> = (1..=6)
            .map(|k| {
                let lr = if k <= 3 { 0.1 } else { 0.01 };
                format!("{{\"loss\": 1.0, \"learning_rate\": {lr}, \"step\": {}}}, {{\"eval_loss\": 1.0, \"step\": {}}}", 10 * k, 10 * k)
            })
            .collect();
        let text = format!("{{\"log_history\": [{}]}}", entries.join(","));
        let r = parse(text.as_bytes(), p(), &ImportOptions::default()).unwrap();
        assert_eq!(r.learning_rate.unwrap().change_points(), vec![30.0]);
        let none = r#"{"log_history": [{"eval_loss": 1.0, "step": 1}]}"#;
        let r = parse(none.as_bytes(), p(), &ImportOptions::default()).unwrap();
        assert!(r.learning_rate.is_none());
    }

    #[test]
    fn without_best_metric_it_defaults_to_eval_loss() {
        let s = STATE.replace("\"best_metric\": 0.9,", "");
        let r = parse(s.as_bytes(), p(), &ImportOptions::default()).unwrap();
        assert_eq!(r.metric_name, "eval_loss");
        assert!(!r.higher_is_better);
    }

    #[test]
    fn strings_keep_their_constants() {
        let s = br#"{"a": "NaN in a \"string\" NaN", "b": NaN, "c": -Infinity}"#;
        let out = python_constants_as_strings(s);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["a"], "NaN in a \"string\" NaN");
        assert!(number(&v["b"]).unwrap().is_nan());
        assert_eq!(number(&v["c"]), Some(f64::NEG_INFINITY));
        assert!(matches!(
            python_constants_as_strings(b"{}"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let rows: [(&str, &str); 4] = [
            ("{\"log_history\": [", "line 1"),
            ("{}", "log_history"),
            ("{\"log_history\": [{\"loss\": 1}]}", "log_history[0]"),
            (
                "{\"log_history\": [{\"loss\": 1, \"step\": 1}]}",
                "--metric",
            ),
        ];
        for (text, want) in rows {
            let err = parse(text.as_bytes(), p(), &ImportOptions::default())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("run-a/trainer_state.json") && err.contains(want),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn checkpoint_states_are_named_after_their_run() {
        assert_eq!(
            run_id(Path::new("out/bert/checkpoint-500/trainer_state.json")),
            "bert/checkpoint-500"
        );
        assert_eq!(run_id(Path::new("trainer_state.json")), "trainer_state");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Err(e) = parse(&bytes, p(), &ImportOptions::default()) {
                prop_assert!(e.to_string().contains("run-a/trainer_state.json"));
            }
        }

        #[test]
        fn arbitrary_histories_never_panic_and_stay_sorted(
            rows in proptest::collection::vec((0u32..1000, prop_oneof![Just("NaN".to_string()), (-5.0f64..5.0).prop_map(|v| v.to_string())], any::<bool>()), 0..30)
        ) {
            let entries: Vec<String> = rows
                .iter()
                .map(|(s, v, eval)| if *eval { format!("{{\"eval_loss\": {v}, \"step\": {s}}}") } else { format!("{{\"loss\": {v}, \"step\": {s}}}") })
                .collect();
            let text = format!("{{\"log_history\": [{}]}}", entries.join(","));
            if let Ok(r) = parse(text.as_bytes(), p(), &ImportOptions::default()) {
                prop_assert_eq!(r.steps.len(), r.metrics.len());
                prop_assert!(r.steps.windows(2).all(|w| w[0] <= w[1]));
            }
        }
    }
}
