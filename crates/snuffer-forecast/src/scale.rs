//! The internal coordinates: steps rescaled so the first observation sits at `x = 1`, and
//! the metric oriented (higher is better), optionally log-transformed against a known bound,
//! and rescaled so the observed values span `[0, 1]`.
//!
//! Why: steps range from 1 to 10⁵ and more across sources and perplexity from 10⁷ to 4, while
//! the curve families and the solver's tolerances assume numbers of order one. A loss with a
//! known floor (or an accuracy with a known ceiling) usually improves geometrically towards
//! it, so the distance to the bound is modelled on a log scale: `z = −ln(v − lower)` for a
//! loss, `z = −ln(upper − v)` for an accuracy.

use crate::{Bounds, Direction};

/// How the metric is mapped to the oriented scale `z` before normalisation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum YMap {
    /// `z = orient(v)`.
    Linear,
    /// `z = −ln(v − lower)` (loss with a known floor).
    LogAboveLower(f64),
    /// `z = −ln(upper − v)` (score with a known ceiling).
    LogBelowUpper(f64),
}

/// Affine maps between steps/metric values and normalised coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scale {
    pub direction: Direction,
    pub bounds: Bounds,
    pub ymap: YMap,
    /// `x_n = (step − x0) / xu`.
    pub x0: f64,
    pub xu: f64,
    /// `z_n = (z − z_ref) / z_unit`.
    pub z_ref: f64,
    pub z_unit: f64,
    /// The last observed value, returned exactly for a constant curve (where the maps
    /// cannot be inverted and a round trip through logs would not be exact).
    pub v_last: f64,
}

/// Largest magnitude of a forecast value. Observations are at most [`crate::MAX_ABS_VALUE`]
/// (1e300), but a far enough extrapolation of a steep curve leaves the `f64` range; its
/// quantiles are then held at ±1e306, a million times the largest accepted observation,
/// so that gains (differences of two values) and means stay finite and ordered.
pub(crate) const VALUE_LIMIT: f64 = 1e306;

/// Smallest normalised x used when a query lies before the start of the curve.
const X_FLOOR: f64 = 1e-6;

impl Scale {
    /// Choose the maps for validated, strictly increasing `steps` and in-bounds `values`;
    /// also returns each value's [`Scale::z`], which the caller would otherwise recompute
    /// (one `ln` per point on the log maps).
    pub fn new(
        direction: Direction,
        bounds: Bounds,
        log_scale: bool,
        steps: &[f64],
        values: &[f64],
    ) -> (Scale, Vec<f64>) {
        let first = steps[0];
        let (x0, xu) = if first > 0.0 {
            // Keep the origin at step 0 so power laws keep their meaning; only rescale.
            (0.0, first)
        } else {
            // A curve starting at step 0 (or below): shift by one typical spacing so the
            // first point sits at 1 and logs stay finite.
            let d = steps
                .get(1)
                .map_or(1.0, |s| s - first)
                .max(f64::MIN_POSITIVE);
            (first - d, d)
        };
        let ymap = choose_ymap(direction, bounds, log_scale, values);
        let mut scale = Scale {
            direction,
            bounds,
            ymap,
            x0,
            xu,
            z_ref: 0.0,
            z_unit: 1.0,
            v_last: values[values.len() - 1],
        };
        let zs: Vec<f64> = values.iter().map(|&v| scale.z(v)).collect();
        let (lo, hi) = zs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &z| {
                (a.min(z), b.max(z))
            });
        scale.z_ref = lo;
        scale.z_unit = hi - lo;
        (scale, zs)
    }

    /// Whether every observed value maps to the same normalised level (a constant curve).
    pub fn is_constant(&self) -> bool {
        self.z_unit.is_nan() || self.z_unit <= 1e-12 * (1.0 + self.z_ref.abs())
    }

    /// Normalised x of a step.
    pub fn x(&self, step: f64) -> f64 {
        // NaN maps to the floor; infinities are kept out of the families.
        let x = (step - self.x0) / self.xu;
        if x.is_nan() {
            X_FLOOR
        } else {
            x.clamp(X_FLOOR, 1e300)
        }
    }

    /// Oriented (and possibly log-transformed) value, before normalisation.
    pub fn z(&self, v: f64) -> f64 {
        match self.ymap {
            YMap::Linear => self.direction.orient(v),
            YMap::LogAboveLower(b) => -(v - b).max(f64::MIN_POSITIVE).ln(),
            YMap::LogBelowUpper(b) => -(b - v).max(f64::MIN_POSITIVE).ln(),
        }
    }

    /// Normalised value of an oriented value `z` (see [`Scale::z`]).
    pub fn normalise(&self, z: f64) -> f64 {
        if self.is_constant() {
            return 0.0;
        }
        (z - self.z_ref) / self.z_unit
    }

    /// Metric value (own units) of a normalised value, clamped to the known bounds and to
    /// ±[`VALUE_LIMIT`].
    pub fn value(&self, zn: f64) -> f64 {
        if self.is_constant() {
            return self.v_last;
        }
        let z = self.z_ref + zn * self.z_unit;
        let v = match self.ymap {
            YMap::Linear => self.direction.orient(z),
            YMap::LogAboveLower(b) => b + (-z).clamp(-700.0, 700.0).exp(),
            YMap::LogBelowUpper(b) => b - (-z).clamp(-700.0, 700.0).exp(),
        };
        let lo = self.bounds.lower.unwrap_or(f64::NEG_INFINITY);
        let hi = self.bounds.upper.unwrap_or(f64::INFINITY);
        v.max(lo).min(hi).clamp(-VALUE_LIMIT, VALUE_LIMIT)
    }

    /// Whether a normalised value is admissible under the known bounds (with the log maps
    /// every finite value is).
    pub fn admissible(&self, zn: f64) -> bool {
        if !zn.is_finite() {
            return false;
        }
        if self.ymap != YMap::Linear {
            return true;
        }
        let v = self.direction.orient(self.z_ref + zn * self.z_unit);
        let lo = self.bounds.lower.unwrap_or(f64::NEG_INFINITY);
        let hi = self.bounds.upper.unwrap_or(f64::INFINITY);
        let slack = 1e-9 * (1.0 + v.abs());
        v >= lo - slack && v <= hi + slack
    }
}

fn choose_ymap(direction: Direction, bounds: Bounds, log_scale: bool, values: &[f64]) -> YMap {
    if !log_scale {
        return YMap::Linear;
    }
    match direction {
        Direction::LowerIsBetter => match bounds.lower {
            Some(b) if values.iter().all(|&v| v > b) => YMap::LogAboveLower(b),
            _ => YMap::Linear,
        },
        Direction::HigherIsBetter => match bounds.upper {
            Some(b) if values.iter().all(|&v| v < b) => YMap::LogBelowUpper(b),
            _ => YMap::Linear,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_for_every_map() {
        let cases = [
            (Direction::HigherIsBetter, Bounds::default(), false),
            (
                Direction::LowerIsBetter,
                Bounds {
                    lower: Some(0.0),
                    upper: None,
                },
                true,
            ),
            (
                Direction::HigherIsBetter,
                Bounds {
                    lower: Some(0.0),
                    upper: Some(1.0),
                },
                true,
            ),
        ];
        let steps = [0.0, 10.0, 20.0];
        let values = [0.2, 0.5, 0.6];
        for (dir, b, log) in cases {
            let (s, zs) = Scale::new(dir, b, log, &steps, &values);
            for (v, z) in values.into_iter().zip(zs) {
                assert_eq!(s.z(v).to_bits(), z.to_bits());
                let back = s.value(s.normalise(z));
                assert!((back - v).abs() < 1e-12, "{dir:?} {b:?}: {v} -> {back}");
            }
            assert!((s.x(0.0) - 1.0).abs() < 1e-12);
            assert!((s.x(20.0) - 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn positive_first_step_keeps_origin() {
        let (s, _) = Scale::new(
            Direction::HigherIsBetter,
            Bounds::default(),
            false,
            &[5.0, 10.0],
            &[0.1, 0.2],
        );
        assert!((s.x(10.0) - 2.0).abs() < 1e-12);
    }
}
