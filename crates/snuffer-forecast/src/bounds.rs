//! [`Bounds::infer`]: the one place that guesses a metric's bounds from its name and values.
//!
//! Curves files, live runs without `.bounds(..)` and `snuffer forecast`/`snuffer replay` all
//! go through it, so the same curve is always bounded the same way.

use crate::{Bounds, Direction};

/// Name fragments of higher-is-better metrics that are fractions in [0, 1] (or percentages
/// in [0, 100] when the name also says so).
const FRACTION_NAMES: [&str; 11] = [
    "acc",
    "auc",
    "f1",
    "precision",
    "recall",
    "win_rate",
    "iou",
    "dice",
    "top1",
    "top5",
    "exact_match",
];

/// Name fragments of metrics that are percentages.
const PERCENT_NAMES: [&str; 3] = ["pct", "percent", "%"];

impl Bounds {
    /// Bounds of a metric that the caller did not state, from its name, its direction and the
    /// values seen so far (pass only values already observed: a live run or a replay must
    /// not look ahead).
    ///
    /// The rule:
    /// * **higher is better**, and the name says the metric is a fraction (it contains
    ///   `acc`, `auc`, `f1`, `precision`, `recall`, `win_rate`, `iou`, `dice`, `top1`,
    ///   `top5` or `exact_match`): `[0, 1]` when every finite value lies in `[0, 1]`, or
    ///   `[0, 100]` when the name also says `pct`/`percent`/`%` and the values lie there. Any
    ///   other name (`score`, `reward`, `bleu`) gets no bounds: its range is unknown;
    /// * **lower is better**: a floor at 0 when every finite value is ≥ 0 (a loss, an error
    ///   rate, a perplexity), whatever the name;
    /// * no bounds when no value is finite, or the values contradict the rule (a negative
    ///   loss, an accuracy of 1.5).
    ///
    /// The bounds are a guess from what was seen: a later value outside them makes the
    /// forecaster refuse the fit, and callers then refit without bounds.
    ///
    /// ```
    /// use snuffer_forecast::{Bounds, Direction};
    /// let unit = Bounds { lower: Some(0.0), upper: Some(1.0) };
    /// assert_eq!(Bounds::infer("val_acc", Direction::HigherIsBetter, &[0.1, 0.4]), unit);
    /// assert_eq!(
    ///     Bounds::infer("acc_pct", Direction::HigherIsBetter, &[12.0, 40.0]).upper,
    ///     Some(100.0)
    /// );
    /// assert_eq!(Bounds::infer("score", Direction::HigherIsBetter, &[0.5, 0.6]), Bounds::default());
    /// assert_eq!(Bounds::infer("loss", Direction::LowerIsBetter, &[2.3]).lower, Some(0.0));
    /// assert_eq!(Bounds::infer("loss", Direction::LowerIsBetter, &[f64::NAN]), Bounds::default());
    /// ```
    pub fn infer(metric_name: &str, direction: Direction, values: &[f64]) -> Bounds {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return Bounds::default();
        }
        let within = |lo: f64, hi: f64| finite.iter().all(|v| (lo..=hi).contains(v));
        let name = metric_name.to_ascii_lowercase();
        let says = |fragments: &[&str]| fragments.iter().any(|f| name.contains(f));
        match direction {
            Direction::HigherIsBetter if !says(&FRACTION_NAMES) => Bounds::default(),
            Direction::HigherIsBetter if says(&PERCENT_NAMES) && within(0.0, 100.0) => Bounds {
                lower: Some(0.0),
                upper: Some(100.0),
            },
            Direction::HigherIsBetter if within(0.0, 1.0) => Bounds {
                lower: Some(0.0),
                upper: Some(1.0),
            },
            Direction::LowerIsBetter if within(0.0, f64::INFINITY) => Bounds {
                lower: Some(0.0),
                upper: None,
            },
            _ => Bounds::default(),
        }
    }

    /// Whether `value` lies within the bounds (a missing bound does not limit).
    pub fn contains(&self, value: f64) -> bool {
        self.lower.is_none_or(|l| value >= l) && self.upper.is_none_or(|u| value <= u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Direction::{HigherIsBetter as Up, LowerIsBetter as Down};

    #[test]
    fn inference_table() {
        let unit = Bounds {
            lower: Some(0.0),
            upper: Some(1.0),
        };
        let floor = Bounds {
            lower: Some(0.0),
            upper: None,
        };
        let none = Bounds::default();
        let rows: &[(&str, &str, Direction, &[f64], Bounds)] = &[
            ("accuracy in [0, 1]", "val_top1_acc", Up, &[0.1, 0.7], unit),
            (
                "unknown name, values in [0, 1]",
                "score",
                Up,
                &[0.2, 0.3],
                none,
            ),
            ("values above 1", "top1_acc", Up, &[0.2, 1.3], none),
            ("negative values", "auc", Up, &[-0.1, 0.3], none),
            (
                "a percentage",
                "acc_percent",
                Up,
                &[40.0, 75.5],
                Bounds {
                    lower: Some(0.0),
                    upper: Some(100.0),
                },
            ),
            ("a percentage still in [0, 1]", "acc_pct", Up, &[0.5], {
                Bounds {
                    lower: Some(0.0),
                    upper: Some(100.0),
                }
            }),
            ("a loss", "loss", Down, &[2.3, 1.1], floor),
            ("perplexity", "ppl", Down, &[35.0, 12.0], floor),
            ("a negative loss", "nll", Down, &[-0.5, 1.0], none),
            ("NaN is ignored", "wer", Down, &[f64::NAN, 0.4], floor),
            ("nothing finite", "acc", Up, &[f64::NAN], none),
            ("no values", "acc", Up, &[], none),
        ];
        for (why, name, dir, values, want) in rows {
            assert_eq!(Bounds::infer(name, *dir, values), *want, "{why}");
        }
    }

    proptest! {
        /// Every finite value seen lies within the inferred bounds.
        #[test]
        fn inferred_bounds_hold_the_values(
            values in proptest::collection::vec(prop_oneof![Just(f64::NAN), -2.0f64..150.0], 0..20),
            up in any::<bool>(),
            name in "(acc|loss|pct|x)",
        ) {
            let dir = if up { Up } else { Down };
            let b = Bounds::infer(&name, dir, &values);
            for v in values.iter().filter(|v| v.is_finite()) {
                prop_assert!(b.contains(*v), "{v} outside {b:?}");
            }
        }
    }
}
