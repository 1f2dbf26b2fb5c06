//! The learning rate a log records, and the change points of its schedule.
//!
//! Logs record the learning rate next to the metrics: the Hugging Face Trainer as
//! `learning_rate` in the training entries of `log_history`, TensorBoard as a scalar
//! (`learning_rate`, `train/learning_rate`, `lr`, Lightning's `LearningRateMonitor` as
//! `lr-Adam`, `lr-SGD`, `lr-AdamW/pg1`, Keras as `epoch_learning_rate`), CSV histories as an
//! `lr` or `learning_rate` column. [`is_learning_rate_name`] says which series names are
//! one; [`LearningRate`] holds the series, in the log's steps.
//!
//! [`change_points`] turns the series into the steps at which the schedule changes, what
//! the marginal-gain rule's `with_schedule` and a learned prior's query take:
//!
//! * **the end of a rise** — a warm-up's end, or a warm restart's new top: the last record of
//!   a stretch in which the rate rose by more than [`RISE`] (10 %) and then stays or falls;
//!   the record at which it first came within [`FLAT_TOL`] of its top. A rise still under
//!   way at the last record has no end yet, and none is given;
//! * **a step decay** — the rate falls by more than [`STEP_DROP`] (10 %) from one record to
//!   the next after two records at the same rate (StepLR, MultiStepLR, ReduceLROnPlateau):
//!   the last record at the old rate;
//! * **the start of an anneal** — after at least three records at one rate (within
//!   [`FLAT_TOL`]), the rate begins to fall, and within as many steps as the flat stretch
//!   lasted it loses more than [`ANNEAL_RATIO`] (10) times the stretch's own spread and more
//!   than [`ANNEAL_FLOOR`] (0.2 %) of its rate (a warmup–stable–decay schedule's decay): the
//!   last record of the flat stretch. A smooth curve cannot do that: where it looks flat,
//!   it loses about 2–4 times as much over the next equal stretch as within it.
//!
//! Every change point is thus the step of the last record before the change, so a change
//! point is never later than the change it marks. A smooth schedule (a cosine or linear
//! decay without warm-up, an exponential decay) has none: its rate at no point goes from
//! flat to falling faster than the curve itself bends. Rates equal within [`FLAT_TOL`]
//! (0.1 %, far above float round-off) are the same rate.
//!
//! ```
//! use snuffer_import::learning_rate::change_points;
//!
//! // StepLR(step_size=30, gamma=0.1), logged every 10 steps.
//! let steps: Vec<f64> = (1..=9).map(|k| 10.0 * k as f64).collect();
//! let rates = [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001, 0.001, 0.001];
//! assert_eq!(change_points(&steps, &rates), vec![30.0, 60.0]);
//!
//! // A cosine decay without warm-up has none.
//! let rates: Vec<f64> = (0..200)
//!     .map(|k| 0.5 * (1.0 + (std::f64::consts::PI * k as f64 / 199.0).cos()))
//!     .collect();
//! let steps: Vec<f64> = (0..200).map(f64::from).collect();
//! assert!(change_points(&steps, &rates).is_empty());
//! ```

/// Relative difference within which two rates are the same rate (float round-off, a log
/// printing 6 digits).
pub const FLAT_TOL: f64 = 1e-3;
/// Least relative rise (top over start) that counts as a warm-up or a restart.
pub const RISE: f64 = 0.1;
/// Least relative fall from one record to the next that counts as a step decay.
pub const STEP_DROP: f64 = 0.1;
/// How many times the spread of a flat stretch the rate must lose, within as many steps as
/// the stretch lasted, for its fall to be the start of an anneal.
pub const ANNEAL_RATIO: f64 = 10.0;
/// Least relative fall, within as many steps as the flat stretch before it lasted, that
/// counts as the start of an anneal.
pub const ANNEAL_FLOOR: f64 = 2.0 * FLAT_TOL;

/// A recorded learning-rate series, sorted by step.
#[derive(Debug, Clone, PartialEq)]
pub struct LearningRate {
    /// The series' name in the log (`learning_rate`, `lr-Adam`, …).
    pub name: String,
    /// Steps of the records, ascending and distinct, in the log's units (the same as the
    /// metric's).
    pub steps: Vec<f64>,
    /// The rate at each record (finite, ≥ 0).
    pub rates: Vec<f64>,
}

impl LearningRate {
    /// The series from `(step, rate)` records in any order: records with a step or rate
    /// that is not a finite number ≥ 0 are dropped, and of two records at one step the
    /// later is kept. `None` when no record is left.
    ///
    /// ```
    /// use snuffer_import::learning_rate::LearningRate;
    /// let lr = LearningRate::new("lr", [(20.0, 0.01), (10.0, f64::NAN), (10.0, 0.1)]).unwrap();
    /// assert_eq!((lr.steps, lr.rates), (vec![10.0, 20.0], vec![0.1, 0.01]));
    /// ```
    pub fn new(
        name: impl Into<String>,
        records: impl IntoIterator<Item = (f64, f64)>,
    ) -> Option<LearningRate> {
        let (steps, rates) = clean(records);
        (!steps.is_empty()).then(|| LearningRate {
            name: name.into(),
            steps,
            rates,
        })
    }

    /// The schedule's change points ([`change_points`]), in the log's steps.
    pub fn change_points(&self) -> Vec<f64> {
        change_points(&self.steps, &self.rates)
    }
}

/// Of the series a log holds under learning-rate names, the one with the most records (the
/// first in name order among equals): a log with one per parameter group
/// (`lr-AdamW/pg1`, `lr-AdamW/pg2`) or under two names gives one.
pub(crate) fn most_recorded(mut series: Vec<LearningRate>) -> Option<LearningRate> {
    series.sort_by(|a, b| b.steps.len().cmp(&a.steps.len()).then(a.name.cmp(&b.name)));
    series.into_iter().next()
}

/// Sorted by step (stable: of equal steps the later record wins), only finite values ≥ 0.
fn clean(records: impl IntoIterator<Item = (f64, f64)>) -> (Vec<f64>, Vec<f64>) {
    let mut v: Vec<(f64, f64)> = records
        .into_iter()
        .filter(|(s, r)| s.is_finite() && *s >= 0.0 && r.is_finite() && *r >= 0.0)
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut steps: Vec<f64> = Vec::with_capacity(v.len());
    let mut rates: Vec<f64> = Vec::with_capacity(v.len());
    for (s, r) in v {
        if steps.last() == Some(&s) {
            if let Some(last) = rates.last_mut() {
                *last = r;
            }
        } else {
            steps.push(s);
            rates.push(r);
        }
    }
    (steps, rates)
}

/// Whether a series name is a learning rate's: `learning_rate`, `lr`, `learning-rate`,
/// `learningrate`, each possibly with a `train/`-like path or an `epoch_`/`train_`/`batch_`
/// prefix (`train/learning_rate`, `epoch_learning_rate`), and Lightning's
/// `LearningRateMonitor` names (`lr-Adam`, `lr-SGD`, `lr-AdamW/pg1`); case-insensitive.
/// Momentum and weight-decay series are not.
///
/// ```
/// use snuffer_import::learning_rate::is_learning_rate_name;
/// for name in ["learning_rate", "train/learning_rate", "lr", "lr-Adam", "lr-AdamW/pg2", "epoch_learning_rate"] {
///     assert!(is_learning_rate_name(name), "{name}");
/// }
/// for name in ["loss", "eval_loss", "lr-Adam-momentum", "weight_decay", "flr", "lrs_count"] {
///     assert!(!is_learning_rate_name(name), "{name}");
/// }
/// ```
pub fn is_learning_rate_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if n.contains("momentum") || n.contains("weight_decay") || n.contains("beta") {
        return false;
    }
    const BARE: [&str; 4] = ["learning_rate", "lr", "learning-rate", "learningrate"];
    n.split('/').any(|part| {
        let bare = ["epoch_", "train_", "batch_", "optimizer_", "opt_"]
            .iter()
            .find_map(|p| part.strip_prefix(p))
            .unwrap_or(part);
        BARE.contains(&bare) || part.starts_with("lr-")
    })
}

/// Whether two rates are the same rate (within [`FLAT_TOL`] of the larger).
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= FLAT_TOL * a.abs().max(b.abs())
}

/// The steps at which the schedule of `rates` (recorded at `steps`) changes: the end of each
/// rise, each step decay and the start of each anneal, as the module docs define them;
/// ascending and distinct, each one of `steps` (never the last).
///
/// `steps` and `rates` are paired by position (extra elements of the longer are ignored);
/// records that are not finite numbers ≥ 0 are dropped and the rest sorted by step first.
pub fn change_points(steps: &[f64], rates: &[f64]) -> Vec<f64> {
    let (s, r) = clean(steps.iter().copied().zip(rates.iter().copied()));
    let n = r.len();
    let mut out: Vec<f64> = Vec::new();
    if n < 2 {
        return out;
    }
    // The end of each rise.
    let mut i = 0;
    while i + 1 < n {
        if r[i + 1] <= r[i] || same(r[i], r[i + 1]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut top = r[i + 1];
        let mut k = i + 1;
        // Up, or level with the top (stairs, round-off); a fall below the top ends it.
        while k + 1 < n && (r[k + 1] >= r[k] || same(r[k + 1], top)) {
            k += 1;
            top = top.max(r[k]);
        }
        let peak = (start..=k).find(|&j| same(r[j], top)).unwrap_or(k);
        if top > r[start] * (1.0 + RISE) && peak + 1 < n {
            out.push(s[peak]);
        }
        i = k;
    }
    // Step decays: a clear fall after two records at one rate.
    for i in 2..n {
        if r[i] < r[i - 1] * (1.0 - STEP_DROP) && same(r[i - 2], r[i - 1]) {
            out.push(s[i - 1]);
        }
    }
    // Anneals: a flat stretch of at least three records, then a fall within as many steps
    // as it lasted that no smooth curve makes.
    let mut a = 0;
    while a < n {
        let (mut lo, mut hi) = (r[a], r[a]);
        let mut j = a;
        while j + 1 < n {
            let (l, h) = (lo.min(r[j + 1]), hi.max(r[j + 1]));
            if h - l > FLAT_TOL * h {
                break;
            }
            (lo, hi) = (l, h);
            j += 1;
        }
        if j >= a + 2 && j + 1 < n && r[j + 1] < lo {
            let end = s[j] + (s[j] - s[a]);
            let fallen = (j + 1..n)
                .take_while(|&m| m == j + 1 || s[m] <= end)
                .map(|m| r[m])
                .fold(f64::INFINITY, f64::min);
            let fall = hi - fallen;
            if fall > ANNEAL_RATIO * (hi - lo) && fall > ANNEAL_FLOOR * hi {
                out.push(s[j]);
            }
        }
        a = j + 1;
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::f64::consts::PI;

    fn cosine(k: usize, n: usize, top: f64, floor: f64) -> f64 {
        floor + (top - floor) * 0.5 * (1.0 + (PI * k as f64 / (n - 1).max(1) as f64).cos())
    }

    /// Hugging Face's `get_cosine_schedule_with_warmup`, logged every `every` steps.
    fn warmup_cosine(warmup: u64, total: u64, every: u64, top: f64) -> (Vec<f64>, Vec<f64>) {
        (1..=total / every)
            .map(|k| {
                let t = k * every;
                let lr = if t < warmup {
                    top * t as f64 / warmup as f64
                } else {
                    let p = (t - warmup) as f64 / (total - warmup) as f64;
                    top * 0.5 * (1.0 + (PI * p).cos())
                };
                (t as f64, lr)
            })
            .unzip()
    }

    /// Float32 storage, as TensorBoard keeps a scalar.
    fn f32_round(v: &[f64]) -> Vec<f64> {
        v.iter().map(|&x| f64::from(x as f32)).collect()
    }

    #[test]
    fn linear_warmup_then_cosine_has_the_warmup_end_only() {
        let (s, r) = warmup_cosine(500, 10_000, 50, 5e-5);
        assert_eq!(change_points(&s, &r), vec![500.0]);
        assert_eq!(change_points(&s, &f32_round(&r)), vec![500.0]);
        // Logged every step: a dense log finds the same end.
        let (s, r) = warmup_cosine(300, 6_000, 1, 3e-4);
        assert_eq!(change_points(&s, &r), vec![300.0]);
    }

    #[test]
    fn step_and_multistep_decays_are_the_last_records_before_each_fall() {
        // StepLR(step_size=30 epochs, gamma=0.1), logged per epoch.
        let s: Vec<f64> = (0..90).map(f64::from).collect();
        let r: Vec<f64> = (0..90).map(|e| 0.1 * 0.1f64.powi(e / 30)).collect();
        assert_eq!(change_points(&s, &f32_round(&r)), vec![29.0, 59.0]);
        // MultiStepLR(milestones=[30, 80], gamma=0.2) with a 5-epoch linear warm-up.
        let r: Vec<f64> = (0..100)
            .map(|e| {
                let warm = ((e + 1) as f64 / 5.0).min(1.0);
                0.4 * warm * 0.2f64.powi(i32::from(e >= 30) + i32::from(e >= 80))
            })
            .collect();
        let s: Vec<f64> = (0..100).map(f64::from).collect();
        assert_eq!(change_points(&s, &r), vec![4.0, 29.0, 79.0]);
    }

    #[test]
    fn warmup_stable_decay_has_the_warmup_end_and_the_decay_start() {
        // 200 steps warm-up, stable to 8 000, linear decay to 0 by 10 000; logged every 100.
        let lr = |t: f64| {
            if t < 200.0 {
                1e-3 * t / 200.0
            } else if t <= 8_000.0 {
                1e-3
            } else {
                1e-3 * (10_000.0 - t) / 2_000.0
            }
        };
        let s: Vec<f64> = (1..=100).map(|k| 100.0 * k as f64).collect();
        let r: Vec<f64> = s.iter().map(|&t| lr(t)).collect();
        assert_eq!(change_points(&s, &r), vec![200.0, 8_000.0]);
        // A 1 − sqrt decay, logged every 10 steps.
        let s: Vec<f64> = (1..=1000).map(|k| 10.0 * k as f64).collect();
        let r: Vec<f64> = s
            .iter()
            .map(|&t| {
                if t <= 9_000.0 {
                    1e-3
                } else {
                    1e-3 * (1.0 - ((t - 9_000.0) / 1_000.0).sqrt())
                }
            })
            .collect();
        assert_eq!(change_points(&s, &f32_round(&r)), vec![9_000.0]);
    }

    #[test]
    fn constant_and_smooth_schedules_have_none() {
        let s: Vec<f64> = (0..500).map(f64::from).collect();
        assert!(change_points(&s, &vec![2e-5; 500]).is_empty());
        let cos: Vec<f64> = (0..500).map(|k| cosine(k, 500, 1e-3, 0.0)).collect();
        assert!(change_points(&s, &cos).is_empty());
        let lin: Vec<f64> = (0..500).map(|k| 1e-3 * (1.0 - k as f64 / 500.0)).collect();
        assert!(change_points(&s, &lin).is_empty());
        let exp: Vec<f64> = (0..500).map(|k| 0.1 * 0.99f64.powi(k)).collect();
        assert!(change_points(&s, &exp).is_empty());
        // A warm-up still under way at the last record has no end yet.
        let up: Vec<f64> = (0..500).map(|k| 1e-3 * k as f64 / 500.0).collect();
        assert!(change_points(&s, &up).is_empty());
        assert!(change_points(&[], &[]).is_empty());
        assert!(change_points(&[1.0], &[0.1]).is_empty());
    }

    #[test]
    fn linear_constant_and_restart_schedules() {
        let s: Vec<f64> = (1..=200).map(|k| 10.0 * k as f64).collect();
        // Hugging Face's linear schedule with a 100-step warm-up: the warm-up's end only.
        let lin = |t: f64| {
            if t < 100.0 {
                t / 100.0
            } else {
                (2_000.0 - t) / 1_900.0
            }
        };
        let r: Vec<f64> = s.iter().map(|&t| 5e-5 * lin(t)).collect();
        assert_eq!(change_points(&s, &r), vec![100.0]);
        // constant_with_warmup: the same.
        let r: Vec<f64> = s.iter().map(|&t| 5e-5 * (t / 100.0).min(1.0)).collect();
        assert_eq!(change_points(&s, &r), vec![100.0]);
        // Cosine with warm restarts every 500 steps (SGDR): each restart's new top.
        let r: Vec<f64> = s
            .iter()
            .map(|&t| 0.5 * (1.0 + (PI * (t % 500.0) / 500.0).cos()))
            .collect();
        assert_eq!(change_points(&s, &r), vec![500.0, 1_000.0, 1_500.0]);
        // ReduceLROnPlateau (factor 0.5) cuts like a step decay: found, and only the
        // caller can know it was reactive.
        let r: Vec<f64> = s
            .iter()
            .map(|&t| 1e-3 * 0.5f64.powi(i32::from(t > 730.0) + i32::from(t > 1_420.0)))
            .collect();
        assert_eq!(change_points(&s, &r), vec![730.0, 1_420.0]);
    }

    #[test]
    fn unsorted_and_invalid_records_are_cleaned_first() {
        let s = [40.0, 10.0, 20.0, f64::NAN, 30.0, 50.0, 60.0];
        let r = [0.01, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01];
        assert_eq!(change_points(&s, &r), vec![30.0]);
        assert_eq!(
            change_points(&[1.0, 2.0], &[f64::INFINITY, -1.0]),
            Vec::<f64>::new()
        );
    }

    proptest! {
        #[test]
        fn any_input_gives_sorted_distinct_recorded_steps_before_the_last(
            recs in proptest::collection::vec((0u32..500, prop_oneof![Just(f64::NAN), Just(0.0), 0.0f64..1.0]), 0..80)
        ) {
            let s: Vec<f64> = recs.iter().map(|x| f64::from(x.0)).collect();
            let r: Vec<f64> = recs.iter().map(|x| x.1).collect();
            let cps = change_points(&s, &r);
            prop_assert!(cps.windows(2).all(|w| w[0] < w[1]));
            let lr = LearningRate::new("lr", s.iter().copied().zip(r.iter().copied()));
            if let Some(lr) = lr {
                let last = *lr.steps.last().unwrap();
                prop_assert!(cps.iter().all(|c| lr.steps.contains(c) && *c < last));
                prop_assert_eq!(lr.change_points(), cps);
            } else {
                prop_assert!(cps.is_empty());
            }
        }

        #[test]
        fn scaling_the_rates_by_a_power_of_two_changes_nothing(
            rates in proptest::collection::vec(prop_oneof![Just(0.1), Just(0.01), 0.0f64..1.0], 2..60),
            e in -20i32..20,
        ) {
            let s: Vec<f64> = (0..rates.len()).map(|k| k as f64 * 7.0).collect();
            let scaled: Vec<f64> = rates.iter().map(|r| r * 2f64.powi(e)).collect();
            prop_assert_eq!(change_points(&s, &rates), change_points(&s, &scaled));
        }

        #[test]
        fn constants_with_round_off_noise_have_none(
            noise in proptest::collection::vec(-1e-5f64..1e-5, 2..400),
            level in 1e-7f64..1.0,
        ) {
            let s: Vec<f64> = (0..noise.len()).map(|k| 10.0 * k as f64).collect();
            let r: Vec<f64> = noise.iter().map(|e| level * (1.0 + e)).collect();
            prop_assert!(change_points(&s, &r).is_empty());
        }

        #[test]
        fn cosines_without_warmup_have_none(
            n in 3usize..3000, floor in 0.0f64..0.5, every in 1u32..100, noise in 0.0f64..1e-6,
        ) {
            let s: Vec<f64> = (0..n).map(|k| f64::from(every) * k as f64).collect();
            let r: Vec<f64> = (0..n)
                .map(|k| cosine(k, n, 1.0, floor) * (1.0 + noise * ((k * 7919 % 13) as f64 / 6.0 - 1.0)))
                .collect();
            prop_assert!(change_points(&s, &r).is_empty(), "{:?}", change_points(&s, &r));
        }

        #[test]
        fn warmup_then_cosine_has_one_point_at_the_warmup_end(
            warm in 2usize..200, decay in 3usize..3000, floor in 0.0f64..0.3,
        ) {
            let mut r: Vec<f64> = (1..=warm).map(|k| k as f64 / warm as f64).collect();
            r.extend((1..decay).map(|k| cosine(k, decay, 1.0, floor)));
            let s: Vec<f64> = (0..r.len()).map(|k| k as f64).collect();
            let cps = change_points(&s, &f32_round(&r));
            prop_assert_eq!(cps.len(), 1, "{:?}", cps);
            // At the peak, or where a dense warm-up came within round-off of it.
            prop_assert!(cps[0] <= (warm - 1) as f64 && cps[0] >= (warm - 1) as f64 * 0.99 - 1.0, "{:?}", cps);
        }

        #[test]
        fn step_decays_are_found_at_every_plateau_end(
            plateaus in proptest::collection::vec(2usize..40, 2..6), gamma in 0.05f64..0.85,
        ) {
            let mut r = Vec::new();
            let mut ends = Vec::new();
            for (level, len) in plateaus.iter().enumerate() {
                r.extend(std::iter::repeat_n(0.1 * gamma.powi(level as i32), *len));
                ends.push((r.len() - 1) as f64);
            }
            ends.pop();
            let s: Vec<f64> = (0..r.len()).map(|k| 5.0 * k as f64).collect();
            let want: Vec<f64> = ends.iter().map(|e| 5.0 * e).collect();
            prop_assert_eq!(change_points(&s, &f32_round(&r)), want);
        }

        #[test]
        fn wsd_decays_are_found_where_they_start(
            warm in 0usize..50, stable in 3usize..500, decay in 1usize..200, sqrt in any::<bool>(),
        ) {
            let mut r: Vec<f64> = (1..=warm).map(|k| k as f64 / warm as f64).collect();
            r.extend(std::iter::repeat_n(1.0, stable));
            r.extend((1..=decay).map(|k| {
                let p = k as f64 / decay as f64;
                if sqrt { 1.0 - p.sqrt() } else { 1.0 - p }
            }));
            let s: Vec<f64> = (0..r.len()).map(|k| 3.0 * k as f64).collect();
            let mut want = Vec::new();
            if warm >= 2 {
                want.push(3.0 * (warm - 1) as f64);
            }
            want.push(3.0 * (warm + stable - 1) as f64);
            prop_assert_eq!(change_points(&s, &f32_round(&r)), want);
        }
    }
}
