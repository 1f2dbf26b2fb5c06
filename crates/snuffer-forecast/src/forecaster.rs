//! [`Forecaster`]: validates the points, chooses the coordinates, fits, and keeps the fit to
//! warm-start the next one.

use crate::ensemble::{self, Data, Trust, Warm};
use crate::local::{backtest, local_span, local_trend, local_trend_of, Backtest};
use crate::predictive::Core;
use crate::scale::Scale;
use crate::{
    Calibration, Direction, Forecast, ForecastConfig, ForecastError, Method, Tuning, MAX_ABS_VALUE,
    MAX_INTERVAL_SCALE,
};

/// Most earlier forecasts kept to check against the points that came since.
const MAX_HISTORY: usize = 16;
/// Most later points each earlier forecast is checked against.
const MAX_CHECKS: usize = 12;
/// Earlier forecasts back over which the weight of a forecast's misses halves.
const HISTORY_HALF_LIFE: f64 = 3.0;

/// Fits forecasts, warm-starting from its previous fit and calibrating each forecast on how
/// its earlier forecasts of the same run fared.
#[derive(Debug, Clone)]
pub struct Forecaster {
    config: ForecastConfig,
    previous: Option<(Scale, Warm)>,
    /// Earlier forecasts of this run, with the number of points each was fitted on and its
    /// last value (to tell that a new call extends the same curve).
    history: Vec<(usize, f64, Forecast)>,
    /// How many leading points the last fit or refresh validated, and the bits of the last
    /// of them: a refresh that extends the same curve validates only the points after them,
    /// so refreshing at every one of n evaluations costs O(n) in all, not O(n²).
    checked: (usize, u64),
}

impl Forecaster {
    /// A forecaster with the given settings.
    pub fn new(config: ForecastConfig) -> Self {
        Forecaster {
            config,
            previous: None,
            history: Vec::new(),
            checked: (0, 0),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ForecastConfig {
        &self.config
    }

    /// Forget the previous fits, so the next [`Forecaster::fit`] starts cold (no warm start,
    /// no earlier forecasts to calibrate on).
    pub fn reset(&mut self) {
        self.previous = None;
        self.history.clear();
        self.checked = (0, 0);
    }

    /// Fewest points [`Forecaster::fit`] accepts for the configured method.
    pub fn min_points(&self) -> usize {
        self.config.method.min_points()
    }

    /// Fit the observed `(steps[i], values[i])` points (values in the metric's own units).
    ///
    /// Steps must be finite and strictly increasing, values finite and within the configured
    /// bounds, both at most [`MAX_ABS_VALUE`] in magnitude (as the bounds); otherwise the
    /// error names the first offending index. The configured interval scale must lie in
    /// `[0, MAX_INTERVAL_SCALE]`. A constant curve, or one
    /// no family fits, gives a well-defined flat forecast ([`Forecast::method`] then says
    /// [`Method::LastValue`]). Warm-starts from the previous call's parameters when the new
    /// points extend the same curve, and calibrates the spread on how the earlier forecasts
    /// of the same curve fared on the points seen since (call it as points arrive: each
    /// call is one rolling origin).
    pub fn fit(&mut self, steps: &[f64], values: &[f64]) -> Result<Forecast, ForecastError> {
        validate(&self.config, steps, values, 0)?;
        let n = steps.len();
        self.checked = (n, values[n - 1].to_bits());
        // Earlier forecasts count only while the new points extend their curve.
        self.history
            .retain(|(k, last, _)| *k <= n && values[*k - 1].to_bits() == last.to_bits());
        let g: Vec<f64> = values
            .iter()
            .map(|&v| self.config.direction.orient(v))
            .collect();
        let mut forecast = self.fit_raw(steps, values)?;
        let (gains, misses) = history_checks(&self.history, steps, &g);
        forecast.gains = gains;
        let checked = forecast.gains.iter().map(|g| g.0).fold(0.0, f64::max);
        if forecast.method == Method::Ensemble {
            forecast.calibration.extrapolation_trust = forecast.trust_at(checked);
        }
        forecast.calibration.forecast_checks = misses.len();
        let longest = misses.iter().map(|m| m.0).fold(0.0, f64::max);
        forecast.misses = misses;
        forecast.calibration.upper = forecast.spread_factor(longest, true);
        forecast.calibration.lower = forecast.spread_factor(longest, false);
        if self.history.len() >= MAX_HISTORY {
            // Thin the older half: keep every other one.
            let half = self.history.len() / 2;
            let mut i = 0;
            self.history.retain(|_| {
                i += 1;
                i > half || i % 2 == 0
            });
        }
        if self.history.last().is_none_or(|(k, _, _)| *k < n) {
            self.history.push((n, values[n - 1], forecast.clone()));
        }
        Ok(forecast)
    }

    /// Bring the last forecast up to date with new points without refitting: the recent
    /// trend and the noise are recomputed from `steps`/`values` (cheap: a line through the
    /// last few points), the ensemble, its trust and the calibration stay as fitted. A stop
    /// rule that is asked between refits then weighs the run's current trend, not the one
    /// of the last refit. `None` before the first fit or when the points do not extend the
    /// last fitted curve (or fail validation).
    ///
    /// Costs O(points since the previous call): the points before were validated then (the
    /// same curve is recognised, as by [`Forecaster::fit`], by its earlier last value), and
    /// the trend reads only the last few points.
    pub fn refresh(&mut self, steps: &[f64], values: &[f64]) -> Option<Forecast> {
        let (k, last, previous) = self.history.last()?;
        let n = steps.len();
        if *k > n || values[*k - 1].to_bits() != last.to_bits() {
            return None;
        }
        // The caller appends points, and may replace the last one (a repeated step keeps
        // its latest value): validate from the first point that may be new.
        let (c, bits) = self.checked;
        let from = match c {
            c if c < *k || c > n => 0,
            c if values[c - 1].to_bits() == bits => c,
            c => c - 1,
        };
        validate(&self.config, steps, values, from).ok()?;
        let tail = n - local_span(n);
        let g: Vec<f64> = values[tail..]
            .iter()
            .map(|&v| self.config.direction.orient(v))
            .collect();
        let mut f = previous.clone();
        f.local = local_trend_of(n, &steps[tail..], &g);
        f.last_step = steps[n - 1];
        self.checked = (n, values[n - 1].to_bits());
        Some(f)
    }

    /// Fit all points as a run that refitted along the way would have: first on the fewest
    /// points the method needs, then each time the curve has grown by `growth` (e.g. 1.2:
    /// 20 % more points), and finally on all of them. The last forecast is returned,
    /// calibrated on how the earlier ones fared. Use it for a finished or recorded curve;
    /// a live run calls [`Forecaster::fit`] as points arrive.
    ///
    /// ```
    /// use snuffer_forecast::{Direction, ForecastConfig, Forecaster};
    /// let steps: Vec<f64> = (1..=40).map(f64::from).collect();
    /// let acc: Vec<f64> = steps.iter().map(|t| 0.8 - 0.5 / t.sqrt()).collect();
    /// let mut f = Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter));
    /// let forecast = f.fit_history(&steps, &acc, 1.2)?;
    /// assert!(forecast.calibration().forecast_checks > 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit_history(
        &mut self,
        steps: &[f64],
        values: &[f64],
        growth: f64,
    ) -> Result<Forecast, ForecastError> {
        let n = steps.len();
        let growth = if growth.is_finite() && growth > 1.0 {
            growth
        } else {
            1.2
        };
        let mut k = self.min_points().max(1);
        while k < n {
            // Earlier prefixes that fail (e.g. too few distinct values) are simply skipped.
            let _ = self.fit(&steps[..k], &values[..k]);
            k = ((k as f64 * growth).ceil() as usize).max(k + 1);
        }
        self.fit(steps, values)
    }

    /// The fit proper, before the earlier forecasts' evidence is added.
    fn fit_raw(&mut self, steps: &[f64], values: &[f64]) -> Result<Forecast, ForecastError> {
        let cfg = &self.config;
        let n = steps.len();
        // `zs`: the oriented values, shared by the compatibility check and the normalisation.
        let (fresh, zs) = Scale::new(cfg.direction, cfg.bounds, cfg.log_scale, steps, values);
        // Keep the previous coordinates while the curve stays within them, so the previous
        // parameters remain a valid warm start.
        let (mut scale, warm) = match self.previous.take() {
            Some((old, warm)) if compatible(&old, &fresh, &zs) => (old, Some(warm)),
            _ => (fresh, None),
        };
        scale.v_last = values[n - 1];
        let x: Vec<f64> = steps.iter().map(|&s| scale.x(s)).collect();
        let mut z = zs;
        for v in &mut z {
            *v = scale.normalise(*v);
        }
        let data = Data { x: &x, z: &z };
        let last_step = steps[n - 1];
        // The run's own recent trend and backtests, in oriented metric units.
        let g: Vec<f64> = values.iter().map(|&v| cfg.direction.orient(v)).collect();
        let local = local_trend(steps, &g);
        let bt = backtest(steps, &g);
        let make = |method: Method, core: Core, trust: Trust, scale: Scale| -> Forecast {
            Forecast {
                direction: cfg.direction,
                bounds: cfg.bounds,
                last_step,
                method,
                scale,
                core,
                local,
                calibration: calibrate(&cfg.tuning, &bt, trust, method),
                misses: Vec::new(),
                gains: Vec::new(),
                holdout: trust.estimate().map(|(f, var, _)| (f, var)),
                holdout_horizon: trust.horizon,
                baseline: matches!(cfg.method, Method::LastValue | Method::BestSoFar),
                tuning: cfg.tuning,
                width: cfg.interval_scale,
            }
        };
        let x_last = x[n - 1];
        if scale.is_constant() {
            return Ok(make(
                Method::LastValue,
                Core::flat(z[n - 1], x_last),
                Trust::default(),
                scale,
            ));
        }
        let forecast = match cfg.method {
            Method::LastValue => make(
                Method::LastValue,
                Core::flat(z[n - 1], x_last),
                Trust::default(),
                scale,
            ),
            Method::BestSoFar => make(
                Method::BestSoFar,
                Core::flat(z.iter().copied().fold(f64::NEG_INFINITY, f64::max), x_last),
                Trust::default(),
                scale,
            ),
            Method::Ensemble | Method::Pow3 => {
                let single = cfg.method == Method::Pow3;
                let fams = ensemble::families_for(single);
                match ensemble::fit(&data, &scale, fams, warm.as_ref(), single) {
                    Some((core, warm, trust)) => {
                        self.previous = Some((scale, warm));
                        make(cfg.method, core, trust, scale)
                    }
                    None => make(
                        Method::LastValue,
                        Core::flat(z[n - 1], x_last),
                        Trust::default(),
                        scale,
                    ),
                }
            }
        };
        Ok(forecast)
    }
}

/// Spread factor on one side: the root mean square of the standardised misses there,
/// pooled with `spread_weight` pseudo-misses at the prior (half of them on each side).
pub(crate) fn spread_factor(t: &Tuning, rms: Option<f64>, count: f64) -> f64 {
    let w = 0.5 * t.spread_weight;
    match rms {
        Some(r) if r.is_finite() && count > 0.0 => {
            ((w * t.spread_prior.powi(2) + count * r * r) / (w + count)).sqrt()
        }
        _ => t.spread_prior,
    }
}

/// What came of the earlier forecasts of the run, on the points seen since each: for every
/// checked point, `(log-step horizon, predicted gain, observed change, weight)` — how far
/// the extrapolated gain came true, in the metric's oriented units (`None` for baselines) —
/// and `(log-step horizon, standardised miss, weight)` — the miss of the forecast's median
/// over its own spread on that side. Recent forecasts weigh more (the weight halves every
/// [`HISTORY_HALF_LIFE`] forecasts back): the forecaster's reliability now is what the
/// next forecast needs, and a fit on the first few points says little about it.
#[allow(clippy::type_complexity)]
fn history_checks(
    history: &[(usize, f64, Forecast)],
    steps: &[f64],
    g: &[f64],
) -> (Vec<(f64, f64, f64, f64)>, Vec<(f64, f64, f64)>) {
    let (mut gains, mut misses) = (Vec::new(), Vec::new());
    let count = history.len();
    for (i, (k, _, f)) in history.iter().enumerate() {
        let later = steps.len() - k;
        if later == 0 {
            continue;
        }
        let w = 0.5f64.powf((count - 1 - i) as f64 / HISTORY_HALF_LIFE);
        let stride = later.div_ceil(MAX_CHECKS).max(1);
        for j in (*k..steps.len()).step_by(stride) {
            let d = f.log_horizon(steps[j]);
            if !d.is_finite() {
                continue;
            }
            if let Some((level, full)) = f.path(steps[j]) {
                let (gain, came) = (full - level, g[j] - level);
                if gain.is_finite() && came.is_finite() {
                    gains.push((d, gain, came, w));
                }
            }
            let (median, lo, hi) = f.raw(steps[j]);
            let r = g[j] - median;
            let sd = if r > 0.0 { hi } else { lo };
            if sd > 0.0 && r.is_finite() {
                misses.push((d, (r / sd).clamp(-10.0, 10.0), w));
            }
        }
    }
    (gains, misses)
}

/// Combine the priors with the run's evidence: trusts by precision (the prior's standard
/// deviation against the estimate's own), spreads by counts (each prior weighs as its
/// weight in misses of the same kind). The forecast's own spread factors start at their
/// prior; [`Forecaster::fit`] sets them from the earlier forecasts.
fn calibrate(t: &Tuning, bt: &Backtest, trust: Trust, method: Method) -> Calibration {
    let by_precision = |prior: f64, prior_sd: f64, est: Option<(f64, f64)>| -> f64 {
        match est {
            Some((v, var)) if v.is_finite() && var.is_finite() => {
                let v = v.clamp(0.0, 1.5);
                let p0 = 1.0 / (prior_sd * prior_sd);
                let p1 = 1.0 / var.max(1e-24);
                (p0 * prior + p1 * v) / (p0 + p1)
            }
            _ => prior,
        }
    };
    let trend =
        by_precision(t.trend_trust_prior, t.trend_trust_sd, bt.trend_factor()).clamp(0.0, 1.5);
    let ((up, up_n), (down, down_n)) = bt.misses(trend);
    let holdout = trust.estimate();
    let (extrapolation, gain_sd) = match method {
        Method::Pow3 => (1.0, t.gain_sd),
        Method::LastValue | Method::BestSoFar => (0.0, 0.0),
        Method::Ensemble => {
            // The trust is set per horizon by `Forecast::trust_at` (prior, holdout and earlier
            // forecasts); `fit` reports it at the longest horizon checked.
            let lambda = t.extrapolation_trust_prior;
            let gain_sd = match holdout {
                Some((_, _, rel)) if rel.is_finite() => {
                    let (w, n) = (t.gain_sd_weight, trust.points as f64);
                    ((w * t.gain_sd.powi(2) + n * rel.min(3.0).powi(2)) / (w + n)).sqrt()
                }
                _ => t.gain_sd,
            };
            (lambda, gain_sd)
        }
    };
    Calibration {
        backtests: bt.pairs.len(),
        origins: bt.origins,
        trend_trust: trend,
        continuation_upper: spread_factor(t, up, up_n as f64),
        continuation_lower: spread_factor(t, down, down_n as f64),
        forecast_checks: 0,
        upper: t.spread_prior,
        lower: t.spread_prior,
        extrapolation_trust: extrapolation.clamp(0.0, 1.0),
        gain_sd,
        holdout_points: trust.points,
    }
}

/// Whether the previous coordinates can be kept for the new points, whose oriented values
/// under `fresh` are `zs` (the same under `old` when both map values alike).
fn compatible(old: &Scale, fresh: &Scale, zs: &[f64]) -> bool {
    old.x0 == fresh.x0
        && old.xu == fresh.xu
        && old.ymap == fresh.ymap
        && old.direction == fresh.direction
        && !old.is_constant()
        && zs.iter().all(|&z| {
            let z = old.normalise(z);
            (-0.25..=1.25).contains(&z)
        })
}

/// Check the points from index `from` on (and the settings); the earlier ones are known
/// valid (`from` = 0 checks all).
fn validate(
    cfg: &ForecastConfig,
    steps: &[f64],
    values: &[f64],
    from: usize,
) -> Result<(), ForecastError> {
    if steps.len() != values.len() {
        return Err(ForecastError::LengthMismatch {
            steps: steps.len(),
            values: values.len(),
        });
    }
    let needed = cfg.method.min_points();
    if steps.len() < needed {
        return Err(ForecastError::TooFewPoints {
            needed,
            got: steps.len(),
        });
    }
    let scale = cfg.interval_scale;
    if !(0.0..=MAX_INTERVAL_SCALE).contains(&scale) {
        return Err(ForecastError::InvalidIntervalScale {
            value: scale,
            max: MAX_INTERVAL_SCALE,
        });
    }
    let lower = cfg.bounds.lower.unwrap_or(f64::NEG_INFINITY);
    let upper = cfg.bounds.upper.unwrap_or(f64::INFINITY);
    let huge = |b: Option<f64>| b.is_some_and(|b| b.is_nan() || b.abs() > MAX_ABS_VALUE);
    if lower.is_nan()
        || upper.is_nan()
        || lower >= upper
        || huge(cfg.bounds.lower)
        || huge(cfg.bounds.upper)
    {
        return Err(ForecastError::InvalidBounds { lower, upper });
    }
    let too_large = |what, index, value| ForecastError::TooLarge {
        what,
        index,
        value,
        limit: MAX_ABS_VALUE,
    };
    for (i, (&s, &v)) in steps.iter().zip(values).enumerate().skip(from) {
        if !s.is_finite() {
            return Err(ForecastError::NonFiniteStep { index: i, value: s });
        }
        if s.abs() > MAX_ABS_VALUE {
            return Err(too_large("step", i, s));
        }
        if i > 0 && s <= steps[i - 1] {
            return Err(ForecastError::NonIncreasingStep {
                index: i,
                step: s,
                previous: steps[i - 1],
            });
        }
        if !v.is_finite() {
            return Err(ForecastError::NonFiniteValue {
                index: i,
                step: s,
                value: v,
            });
        }
        if v.abs() > MAX_ABS_VALUE {
            return Err(too_large("metric", i, v));
        }
        if v < lower || v > upper {
            return Err(ForecastError::OutOfBounds {
                index: i,
                value: v,
                lower,
                upper,
            });
        }
    }
    Ok(())
}

impl Method {
    /// Fewest points the method needs.
    pub fn min_points(self) -> usize {
        match self {
            Method::LastValue | Method::BestSoFar => 1,
            Method::Ensemble => 3,
            Method::Pow3 => 4,
        }
    }
}

impl Direction {
    /// Whether `a` is better than `b` in this direction.
    pub fn is_better(self, a: f64, b: f64) -> bool {
        self.orient(a) > self.orient(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Bounds;

    fn curve(n: usize) -> (Vec<f64>, Vec<f64>) {
        let steps: Vec<f64> = (1..=n).map(|i| (10 * i) as f64).collect();
        let values = (1..=n)
            .map(|i| 0.3 + 2.0 * (i as f64).powf(-0.3) + 0.01 * ((i * 7919 % 13) as f64 - 6.0))
            .collect();
        (steps, values)
    }

    /// Refreshing at every point, each validating only the new ones, gives the forecast the
    /// full validation and a trend over all points gave (to the bit).
    #[test]
    fn incremental_refresh_equals_a_refresh_over_all_points() {
        let (steps, values) = curve(200);
        let cfg = ForecastConfig::new(Direction::LowerIsBetter);
        let mut f = Forecaster::new(cfg);
        f.fit(&steps[..20], &values[..20]).expect("a fit");
        let fitted = f.clone();
        for n in 21..=200 {
            let got = f.refresh(&steps[..n], &values[..n]).expect("a refresh");
            let g: Vec<f64> = values[..n]
                .iter()
                .map(|&v| Direction::LowerIsBetter.orient(v))
                .collect();
            assert_eq!(got.local, local_trend(&steps[..n], &g), "n = {n}");
            // A forecaster that never refreshed in between agrees too.
            assert_eq!(Some(got), fitted.clone().refresh(&steps[..n], &values[..n]));
        }
    }

    /// A replaced last point is validated again.
    #[test]
    fn refresh_validates_a_replaced_last_point() {
        let (steps, mut values) = curve(40);
        let cfg = ForecastConfig::new(Direction::LowerIsBetter).with_bounds(Bounds {
            lower: Some(0.0),
            upper: Some(10.0),
        });
        let mut f = Forecaster::new(cfg);
        f.fit(&steps[..20], &values[..20]).expect("a fit");
        assert!(f.refresh(&steps[..30], &values[..30]).is_some());
        values[29] = 11.0;
        assert!(f.refresh(&steps[..30], &values[..30]).is_none());
        values[29] = 1.0;
        assert!(f.refresh(&steps[..30], &values[..30]).is_some());
    }

    /// A bad new point is refused however the earlier points were validated, and it stays
    /// refused at later refreshes.
    #[test]
    fn refresh_refuses_bad_new_points() {
        let (steps, mut values) = curve(60);
        let cfg = ForecastConfig::new(Direction::LowerIsBetter).with_bounds(Bounds {
            lower: Some(0.0),
            upper: Some(10.0),
        });
        let mut f = Forecaster::new(cfg);
        f.fit(&steps[..20], &values[..20]).expect("a fit");
        assert!(f.refresh(&steps[..30], &values[..30]).is_some());
        values[35] = 11.0; // out of bounds
        for n in 36..=60 {
            assert!(f.refresh(&steps[..n], &values[..n]).is_none(), "n = {n}");
        }
        let mut back = steps.clone();
        back[31] = back[30]; // not increasing
        values[35] = 1.0;
        assert!(f.refresh(&back[..40], &values[..40]).is_none());
        assert!(f.refresh(&steps[..40], &values[..40]).is_some());
    }
}
