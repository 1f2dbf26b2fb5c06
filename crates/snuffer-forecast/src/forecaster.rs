//! [`Forecaster`]: validates the points, chooses the coordinates, fits, and keeps the fit to
//! warm-start the next one.

use crate::ensemble::{self, Data, Tuning, Warm};
use crate::predictive::Core;
use crate::scale::Scale;
use crate::{
    Direction, Forecast, ForecastConfig, ForecastError, Method, MAX_ABS_VALUE, MAX_INTERVAL_SCALE,
};

/// Fits forecasts, warm-starting from its previous fit.
#[derive(Debug, Clone)]
pub struct Forecaster {
    config: ForecastConfig,
    previous: Option<(Scale, Warm)>,
}

impl Forecaster {
    /// A forecaster with the given settings.
    pub fn new(config: ForecastConfig) -> Self {
        Forecaster {
            config,
            previous: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &ForecastConfig {
        &self.config
    }

    /// Forget the previous fit, so the next [`Forecaster::fit`] starts cold.
    pub fn reset(&mut self) {
        self.previous = None;
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
    /// points extend the same curve.
    pub fn fit(&mut self, steps: &[f64], values: &[f64]) -> Result<Forecast, ForecastError> {
        validate(&self.config, steps, values)?;
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
        let tuning = Tuning {
            width: cfg.interval_scale,
            ..Tuning::default()
        };
        let last_step = steps[n - 1];
        let flat = |level: f64| -> Forecast {
            let (noise, slope, se) = ensemble::summaries(&data);
            Forecast {
                direction: cfg.direction,
                last_step,
                method: Method::LastValue,
                scale,
                core: Core {
                    members: Vec::new(),
                    level,
                    x_last: x[n - 1],
                    noise,
                    slope_cap: None,
                    trend: slope.abs() + se,
                    trend_sd: tuning.trend_sd,
                    gain_sd: 0.0,
                    drift: slope.abs() + se,
                    width: tuning.width,
                    // Baselines (and the degenerate forecast) stay centred on their value.
                    up: 0.0,
                    down: 0.0,
                    horizon_power: tuning.horizon_power,
                    up_unit: scale.up_unit(slope.abs() + se),
                    tail_weight: 0.0,
                    tail_up: 0.0,
                    tail_down: 0.0,
                    tail_unit: scale.tail_unit(slope.abs() + se),
                },
            }
        };
        if scale.is_constant() {
            return Ok(flat(z[n - 1]));
        }
        let forecast = match cfg.method {
            Method::LastValue => flat(z[n - 1]),
            Method::BestSoFar => Forecast {
                method: Method::BestSoFar,
                ..flat(z.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            },
            Method::Ensemble | Method::Pow3 => {
                let single = cfg.method == Method::Pow3;
                let fams = ensemble::families_for(single);
                match ensemble::fit(&data, &scale, fams, &tuning, warm.as_ref(), single) {
                    Some((core, warm)) => {
                        self.previous = Some((scale, warm));
                        Forecast {
                            direction: cfg.direction,
                            last_step,
                            method: cfg.method,
                            scale,
                            core,
                        }
                    }
                    None => flat(z[n - 1]),
                }
            }
        };
        Ok(forecast)
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

fn validate(cfg: &ForecastConfig, steps: &[f64], values: &[f64]) -> Result<(), ForecastError> {
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
    for (i, (&s, &v)) in steps.iter().zip(values).enumerate() {
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
