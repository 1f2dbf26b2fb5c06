//! The monitored metric's history, the forecaster and its refit cadence.

use snuffer_forecast::{Bounds, Forecast, ForecastConfig, Forecaster};
use snuffer_rundir::ForecastRecord;

/// When the forecaster is refitted.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Refit {
    /// Every `n`-th evaluation (`Every(1)`: at each one, the default).
    Every(u32),
    /// Geometrically: refit when the number of evaluations has grown by this
    /// factor (> 1) since the last fit, e.g. 1.2 refits at 10, 12, 15, 18, …
    /// evaluations. Cheaper on runs with thousands of evaluations.
    Geometric(f64),
}

impl Default for Refit {
    fn default() -> Refit {
        Refit::Every(1)
    }
}

impl std::fmt::Display for Refit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refit::Every(1) => f.write_str("every evaluation"),
            Refit::Every(n) => write!(f, "every {n} evaluations"),
            Refit::Geometric(r) => write!(f, "geometric ×{r}"),
        }
    }
}

/// Confidence level of the intervals written to the logs.
pub(crate) const LEVEL: f64 = 0.8;
/// Rows in a forecast record's sampled path.
const PATH_POINTS: usize = 12;

/// The metric's finite observations and the latest forecast.
pub(crate) struct Curve {
    forecaster: Forecaster,
    /// The metric's name while its bounds are still to be inferred from the first finite
    /// value ([`Bounds::infer`]); `None` once they are known or were given.
    infer_bounds: Option<String>,
    /// Bounds inferred (not given), dropped if a later value falls outside them.
    pub(crate) inferred: Option<Bounds>,
    refit: Refit,
    steps: Vec<f64>,
    values: Vec<f64>,
    evals_since_fit: u32,
    points_at_fit: usize,
    latest: Option<Forecast>,
    /// The last fitting error, for the summary (forecasting is best effort).
    pub(crate) last_error: Option<String>,
    /// Fits done.
    pub(crate) fits: u32,
    /// Times the cadence called for a fit (successful or not): the clock of the work
    /// that follows the refit cadence (reading the sweep).
    pub(crate) attempts: u32,
}

impl Curve {
    /// A curve; `infer_bounds` names the metric when its bounds were not given, so they are
    /// inferred from its first finite value, as replay and `snuffer forecast` do.
    pub(crate) fn new(config: ForecastConfig, refit: Refit, infer_bounds: Option<String>) -> Curve {
        Curve {
            forecaster: Forecaster::new(config),
            infer_bounds,
            inferred: None,
            refit,
            steps: Vec::new(),
            values: Vec::new(),
            evals_since_fit: 0,
            points_at_fit: 0,
            latest: None,
            last_error: None,
            fits: 0,
            attempts: 0,
        }
    }

    /// Record an evaluation; a non-finite value is not a point of the curve
    /// (divergence policies see it through the observation instead).
    pub(crate) fn push(&mut self, step: u64, value: f64) {
        self.evals_since_fit += 1;
        if value.is_finite() {
            if let Some(name) = self.infer_bounds.take() {
                let config = self.forecaster.config().clone();
                let bounds = Bounds::infer(&name, config.direction, &[value]);
                if bounds != Bounds::default() {
                    self.inferred = Some(bounds);
                    self.forecaster = Forecaster::new(config.with_bounds(bounds));
                }
            }
            self.steps.push(step as f64);
            self.values.push(value);
        }
    }

    fn due(&self) -> bool {
        let n = self.steps.len();
        if n < self.forecaster.min_points() || n == self.points_at_fit {
            return false;
        }
        match self.refit {
            Refit::Every(k) => self.latest.is_none() || self.evals_since_fit >= k.max(1),
            Refit::Geometric(r) => {
                self.latest.is_none() || n as f64 >= self.points_at_fit as f64 * r
            }
        }
    }

    /// Refit if the cadence says so (or `force` and there are new points);
    /// returns whether a new forecast was made.
    pub(crate) fn maybe_refit(&mut self, force: bool) -> bool {
        let n = self.steps.len();
        let due =
            self.due() || (force && n >= self.forecaster.min_points() && n != self.points_at_fit);
        if !due {
            return false;
        }
        self.evals_since_fit = 0;
        self.points_at_fit = n;
        self.attempts += 1;
        let mut result = self.forecaster.fit(&self.steps, &self.values);
        if result.is_err() && self.inferred.take().is_some() {
            // A value left the inferred bounds: they were a guess, so drop them.
            let config = self.forecaster.config().clone();
            self.forecaster = Forecaster::new(config.with_bounds(Bounds::default()));
            result = self.forecaster.fit(&self.steps, &self.values);
        }
        match result {
            Ok(f) => {
                self.latest = Some(f);
                self.fits += 1;
                true
            }
            Err(e) => {
                self.last_error = Some(e.to_string());
                false
            }
        }
    }

    /// Between refits, bring the latest forecast up to date with the points since (the
    /// recent trend only, no refit: see [`Forecaster::refresh`]); returns whether it changed.
    pub(crate) fn refresh(&mut self) -> bool {
        if self.steps.len() == self.points_at_fit {
            return false;
        }
        match self.forecaster.refresh(&self.steps, &self.values) {
            Some(f) => {
                self.latest = Some(f);
                true
            }
            None => false,
        }
    }

    /// The latest forecast.
    pub(crate) fn latest(&self) -> Option<&Forecast> {
        self.latest.as_ref()
    }

    /// The latest forecast at `target`, with a short sampled path from the
    /// last observation to `target` for plotting.
    pub(crate) fn record(&self, target: f64) -> Option<ForecastRecord> {
        let f = self.latest.as_ref()?;
        let (lo, hi) = f.interval(target, LEVEL);
        let median = f.quantile(target, 0.5);
        if ![median, lo, hi].iter().all(|v| v.is_finite()) {
            return None;
        }
        let from = f.last_step().min(target);
        let path = (0..=PATH_POINTS)
            .map(|i| {
                let s = from + (target - from) * i as f64 / PATH_POINTS as f64;
                let (l, h) = f.interval(s, LEVEL);
                [s, f.quantile(s, 0.5), l, h]
            })
            .filter(|row| row.iter().all(|v| v.is_finite()))
            .collect();
        Some(ForecastRecord {
            target_step: target,
            median,
            lo,
            hi,
            level: LEVEL,
            asymptote: f.asymptote().filter(|a| a.is_finite()),
            path,
        })
    }

    /// Finite points so far.
    pub(crate) fn len(&self) -> usize {
        self.steps.len()
    }

    /// Heap bytes held by the history.
    pub(crate) fn heap_bytes(&self) -> usize {
        (self.steps.capacity() + self.values.capacity()) * std::mem::size_of::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snuffer_forecast::Direction;

    /// Evaluation counts at which a forecast was refitted, over `n` evaluations.
    fn fits(refit: Refit, n: u64) -> Vec<usize> {
        let mut c = Curve::new(ForecastConfig::new(Direction::HigherIsBetter), refit, None);
        let mut at = Vec::new();
        for i in 1..=n {
            c.push(i * 10, 0.9 - 0.5 / (i as f64).sqrt());
            if c.maybe_refit(false) {
                at.push(c.len());
            }
        }
        at
    }

    #[test]
    fn refit_cadences() {
        let min = Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter)).min_points();
        let every = fits(Refit::Every(1), 20);
        assert_eq!(
            every.first(),
            Some(&min),
            "first fit as soon as there are enough points"
        );
        assert_eq!(every.len(), 20 - min + 1, "then at every evaluation");
        let third = fits(Refit::Every(3), 20);
        assert!(
            third.windows(2).all(|w| w[1] - w[0] == 3),
            "every third: {third:?}"
        );
        let geo = fits(Refit::Geometric(1.5), 60);
        assert!(
            geo.windows(2).all(|w| w[1] as f64 >= 1.5 * w[0] as f64),
            "geometric: {geo:?}"
        );
        assert!(geo.len() < 10, "geometric refits are few: {geo:?}");
    }

    #[test]
    fn non_finite_values_are_not_points_and_records_stay_finite() {
        let mut c = Curve::new(
            ForecastConfig::new(Direction::LowerIsBetter),
            Refit::Every(1),
            None,
        );
        for (i, v) in [2.0, f64::NAN, 1.5, f64::INFINITY, 1.2, 1.1, 1.05, 1.0]
            .into_iter()
            .enumerate()
        {
            c.push(i as u64 * 100, v);
            c.maybe_refit(false);
        }
        assert_eq!(c.len(), 6, "NaN and infinity are skipped");
        let r = c.record(2000.0).expect("a forecast");
        assert!(r.lo <= r.median && r.median <= r.hi, "{r:?}");
        assert!(r.path.iter().flatten().all(|v| v.is_finite()));
        assert_eq!(
            r.path.first().map(|row| row[0]),
            Some(700.0),
            "path starts at the last observation"
        );
    }

    #[test]
    fn bounds_are_inferred_and_dropped_when_a_value_leaves_them() {
        let mut c = Curve::new(
            ForecastConfig::new(Direction::HigherIsBetter),
            Refit::Every(1),
            Some("val_acc".into()),
        );
        for i in 1..=8u64 {
            c.push(i * 10, 0.9 - 0.5 / (i as f64).sqrt());
            c.maybe_refit(false);
        }
        assert_eq!(
            c.inferred.and_then(|b| b.upper),
            Some(1.0),
            "an accuracy ≤ 1"
        );
        // Not an accuracy after all: the guess goes, the forecast stays.
        c.push(90, 1.7);
        assert!(c.maybe_refit(false), "refitted without the bounds");
        assert_eq!(c.inferred, None);
        assert!(c.record(200.0).is_some());
    }
}
