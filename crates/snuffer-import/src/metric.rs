//! Which series of a log is the metric to replay, and which way is better.
//!
//! Names are compared as lower-case tokens split at anything that is not a letter or digit
//! (`eval/loss` → `eval`, `loss`), so the rules work across the formats' conventions:
//! `eval_loss` (Hugging Face), `val_loss` (Keras, Lightning), `eval/loss` (TensorBoard from
//! the Trainer), `val/loss` (W&B).

use crate::ImportError;
use std::path::Path;

/// Tokens that mark a validation (held-out) metric.
const VALIDATION: [&str; 6] = ["val", "valid", "validation", "eval", "evaluation", "dev"];
/// Tokens of bookkeeping series that are never a default metric.
const BOOKKEEPING: [&str; 8] = [
    "runtime",
    "second",
    "samples",
    "steps",
    "flos",
    "lr",
    "learning",
    "timestamp",
];
/// Tokens of metrics where lower is better: losses, errors, perplexities, and every Keras
/// metric whose `_direction` is "down" (hinge, squared/categorical hinge, crossentropies,
/// KL divergence, Poisson, log-cosh, MSLE; Huber is a loss).
const LOWER: &[&str] = &[
    "loss",
    "error",
    "err",
    "perplexity",
    "ppl",
    "mse",
    "mae",
    "rmse",
    "msle",
    "wer",
    "cer",
    "nll",
    "bpc",
    "bpb",
    "mape",
    "ter",
    "hinge",
    "crossentropy",
    "xent",
    "kld",
    "kl",
    "divergence",
    "kullback",
    "poisson",
    "logcosh",
    "cosh",
    "huber",
];
/// Tokens of accuracy-like metrics.
const ACCURACY: [&str; 6] = ["acc", "accuracy", "top1", "f1", "auc", "map"];
/// Prefixes tried when `--metric NAME` matches no series exactly.
const PREFIXES: [&str; 8] = [
    "eval_",
    "eval/",
    "val_",
    "val/",
    "validation_",
    "validation/",
    "valid_",
    "epoch_",
];

/// Abbreviations and their full names: `--metric accuracy` finds `val_acc` and
/// `--metric acc` finds `eval_accuracy`.
const ALIASES: [(&str, &str); 3] = [("acc", "accuracy"), ("ppl", "perplexity"), ("err", "error")];

/// A metric's name reduced to what it measures: lower-case tokens with abbreviations
/// spelled out and the validation and epoch markers dropped (`val_acc`, `eval/accuracy`
/// and `accuracy` all read `["accuracy"]`).
fn canonical(name: &str) -> Vec<String> {
    tokens(name)
        .into_iter()
        .filter(|t| !VALIDATION.contains(&t.as_str()) && t != "epoch")
        .map(|t| {
            ALIASES
                .iter()
                .find(|(short, _)| *short == t)
                .map_or(t, |(_, long)| long.to_string())
        })
        .collect()
}

fn tokens(name: &str) -> Vec<String> {
    name.to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn has_any(tokens: &[String], set: &[&str]) -> bool {
    tokens.iter().any(|t| set.contains(&t.as_str()))
}

/// Whether higher values of the metric called `name` are better: false for losses, errors,
/// perplexities and the like, true otherwise.
pub fn higher_is_better(name: &str) -> bool {
    let t = tokens(name);
    !(has_any(&t, LOWER) || name.to_ascii_lowercase().ends_with("loss"))
}

/// Whether higher is better for the metric `name`: `--direction` if given, else what the log
/// says (`from_log`), else what the name says ([`higher_is_better`]).
pub(crate) fn resolve_direction(
    options: &crate::ImportOptions,
    name: &str,
    from_log: Option<bool>,
) -> bool {
    options
        .direction
        .map(|d| d == snuffer_forecast::Direction::HigherIsBetter)
        .or(from_log)
        .unwrap_or_else(|| higher_is_better(name))
}

/// Picks the metric: `requested` (exactly, or with a usual validation prefix such as `eval_`
/// or `val/`), else `recorded` (the log's own choice, e.g. the Trainer's best-model metric),
/// else the validation loss, else a validation accuracy, else the first validation series.
/// `validation_context` says that every series of the log is a validation one (a Keras
/// `validation/` TensorBoard directory).
pub(crate) fn choose(
    path: &Path,
    available: &[String],
    requested: Option<&str>,
    recorded: Option<&str>,
    validation_context: bool,
) -> Result<String, ImportError> {
    let no_metric = |problem: String| ImportError::NoMetric {
        path: path.to_path_buf(),
        problem,
        available: available.to_vec(),
    };
    if let Some(want) = requested {
        if available.iter().any(|a| a == want) {
            return Ok(want.to_string());
        }
        let mut matches: Vec<&String> = available
            .iter()
            .filter(|a| PREFIXES.iter().any(|p| **a == format!("{p}{want}")))
            .collect();
        if matches.is_empty() {
            // The same measure under another spelling (`accuracy` ↔ `val_acc`), a
            // validation series first.
            let want_c = canonical(want);
            let same: Vec<&String> = available
                .iter()
                .filter(|a| !want_c.is_empty() && canonical(a) == want_c)
                .collect();
            let validation: Vec<&String> = same
                .iter()
                .copied()
                .filter(|a| validation_context || has_any(&tokens(a), &VALIDATION))
                .collect();
            matches = if validation.is_empty() {
                same
            } else {
                validation
            };
        }
        return match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(no_metric(format!(
                "no series named `{want}` (nor one with a validation prefix or another \
                 spelling of it, such as acc for accuracy)"
            ))),
            many => Err(no_metric(format!(
                "`{want}` matches several series ({}); name one exactly",
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        };
    }
    if let Some(r) = recorded.filter(|r| available.iter().any(|a| a == r)) {
        return Ok(r.to_string());
    }
    let candidates: Vec<(&String, Vec<String>)> = available
        .iter()
        .map(|a| (a, tokens(a)))
        .filter(|(_, t)| {
            (validation_context || has_any(t, &VALIDATION)) && !has_any(t, &BOOKKEEPING)
        })
        .collect();
    let pick = |test: &dyn Fn(&[String]) -> bool| {
        candidates
            .iter()
            .find(|(_, t)| test(t))
            .map(|(a, _)| (*a).clone())
    };
    pick(&|t| t.iter().any(|x| x == "loss"))
        .or_else(|| pick(&|t| has_any(t, &ACCURACY)))
        .or_else(|| pick(&|_| true))
        .ok_or_else(|| {
            no_metric(
                "no validation metric (a name with eval, val or validation) to default to".into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn directions_follow_the_name() {
        let rows = [
            ("eval_loss", false),
            ("val/loss", false),
            ("valloss", false),
            ("eval_accuracy", true),
            ("val_acc", true),
            ("eval/perplexity", false),
            ("test_wer", false),
            ("bleu", true),
            ("eval_f1", true),
            // Keras metrics whose direction is "down".
            ("hinge", false),
            ("val_hinge", false),
            ("squared_hinge", false),
            ("val_categorical_hinge", false),
            ("binary_crossentropy", false),
            ("val_sparse_categorical_crossentropy", false),
            ("kl_divergence", false),
            ("poisson", false),
            ("logcosh", false),
            ("log_cosh", false),
            ("val_mean_squared_logarithmic_error", false),
            ("msle", false),
            // … and "up".
            ("val_auc", true),
            ("cosine_similarity", true),
            ("val_precision", true),
            ("recall", true),
        ];
        for (name, want) in rows {
            assert_eq!(higher_is_better(name), want, "{name}");
        }
    }

    #[test]
    fn requested_metrics_match_abbreviations_and_prefer_validation_series() {
        let p = Path::new("x");
        let rows: [(&[&str], &str, &str); 6] = [
            // Lightning's metrics.csv: `--metric accuracy` is its val_acc.
            (
                &["epoch", "step", "train_loss", "val_acc", "val_loss"],
                "accuracy",
                "val_acc",
            ),
            (&["eval_accuracy", "eval_loss"], "acc", "eval_accuracy"),
            (&["acc", "val_acc", "loss"], "accuracy", "val_acc"),
            (&["val/perplexity"], "ppl", "val/perplexity"),
            (&["eval_loss", "val_loss"], "val_loss", "val_loss"),
            (
                &["train_accuracy", "eval/accuracy"],
                "accuracy",
                "eval/accuracy",
            ),
        ];
        for (avail, want, got) in rows {
            assert_eq!(
                choose(p, &names(avail), Some(want), None, false).unwrap(),
                got,
                "{want} in {avail:?}"
            );
        }
        let e = choose(p, &names(&["val_loss"]), Some("accuracy"), None, false).unwrap_err();
        assert!(e.to_string().contains("accuracy"), "{e}");
    }

    #[test]
    fn defaults_prefer_validation_loss_then_accuracy() {
        let p = Path::new("x");
        let rows: [(&[&str], &str); 5] = [
            (
                &["loss", "eval_accuracy", "eval_loss", "eval_runtime"],
                "eval_loss",
            ),
            (
                &["train/loss", "eval/runtime", "eval/accuracy"],
                "eval/accuracy",
            ),
            (&["epoch", "val_acc", "train_loss"], "val_acc"),
            (&["_runtime", "val/bleu", "train/loss"], "val/bleu"),
            (&["eval_steps_per_second", "eval_loss"], "eval_loss"),
        ];
        for (avail, want) in rows {
            assert_eq!(
                choose(p, &names(avail), None, None, false).unwrap(),
                want,
                "{avail:?}"
            );
        }
        assert_eq!(
            choose(
                p,
                &names(&["epoch_accuracy", "epoch_loss"]),
                None,
                None,
                true
            )
            .unwrap(),
            "epoch_loss",
            "a validation/ directory"
        );
        let err = choose(p, &names(&["loss", "lr"]), None, None, false).unwrap_err();
        assert!(err.to_string().contains("--metric"), "{err}");
    }

    #[test]
    fn requested_names_match_exactly_or_with_a_validation_prefix() {
        let p = Path::new("x");
        let a = names(&["eval_accuracy", "eval_loss", "loss"]);
        assert_eq!(choose(p, &a, Some("loss"), None, false).unwrap(), "loss");
        assert_eq!(
            choose(p, &a, Some("accuracy"), None, false).unwrap(),
            "eval_accuracy"
        );
        let err = choose(p, &a, Some("f1"), None, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`f1`") && err.contains("eval_accuracy"),
            "{err}"
        );
        let ambiguous = names(&["eval_acc", "val_acc"]);
        let err = choose(p, &ambiguous, Some("acc"), None, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("several"), "{err}");
        assert_eq!(
            choose(p, &a, None, Some("eval_accuracy"), false).unwrap(),
            "eval_accuracy",
            "the log's own choice beats the default"
        );
    }
}
