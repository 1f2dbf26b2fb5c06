//! What the model reads and how its answer maps back to the metric: the same encoding for
//! training on synthetic curves and for asking about a real run.
//!
//! * **Orientation and scale.** Values are oriented so higher is better; a lower-is-better
//!   metric whose seen values are all positive (a loss, an error rate) is read as
//!   `−ln(value)`, so gains are ratios.
//! * **Normalisation by the seen prefix.** `y = (g − lo) / span`, with `lo`, `hi` the lowest
//!   and highest oriented value seen and `span = max(hi − lo, floor)`: the seen points span
//!   `[0, 1]`. The floor keeps a flat prefix from blowing every later change up: 5 % of the
//!   room to the good-side bound when known (linear scale), else 0.1 nats (log scale) or 5 %
//!   of the value's magnitude.
//! * **Tokens.** One per seen point (at most [`MAX_SEEN`], evenly subsampled by index, the
//!   last point always kept) and one per query share. Each token carries
//!   [`FEATURES`] numbers: share of the plan, `y` (0 for a query), a query flag, the planned
//!   number of evaluations (`ln n / ln 300`), the log-scale flag, whether the schedule is
//!   known, the known schedule changes up to the token's share (÷ 3), the share since the
//!   last of them, and the room left to the good-side bound in spans (`asinh(room/span)/4`,
//!   0 when unknown).

use snuffer_forecast::Direction;

/// Most seen points the model reads (more are subsampled evenly by index).
pub const MAX_SEEN: usize = 48;
/// Numbers per token.
pub const FEATURES: usize = 9;
/// Most query shares per request.
pub const MAX_QUERIES: usize = 16;

/// A question about one run.
#[derive(Debug, Clone, Copy)]
pub struct CurveQuery<'a> {
    /// Share of the plan at each seen evaluation (increasing, in `(0, 1]`).
    pub shares: &'a [f64],
    /// The metric at each seen evaluation (non-finite values are skipped).
    pub values: &'a [f64],
    /// Which way is better.
    pub direction: Direction,
    /// Known bounds of the metric `(lower, upper)`.
    pub bounds: (Option<f64>, Option<f64>),
    /// Evaluations planned for the whole run.
    pub planned_evaluations: f64,
    /// Shares of the plan at which the learning rate is scheduled to change, when the
    /// schedule is known in advance.
    pub schedule: Option<&'a [f64]>,
    /// Shares to predict at (each past the last seen share).
    pub horizons: &'a [f64],
}

/// Maps raw metric values to the model's normalised scale and back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normaliser {
    /// Which way is better.
    pub direction: Direction,
    /// Whether values are read as `−ln(value)`.
    pub log: bool,
    /// Lowest oriented value seen.
    pub lo: f64,
    /// Oriented span that maps to 1.
    pub span: f64,
    /// Oriented good-side bound, when known and finite on this scale.
    pub good_bound: Option<f64>,
}

impl Normaliser {
    /// From the seen values; `None` without a finite value.
    pub fn from_seen(
        values: &[f64],
        direction: Direction,
        bounds: (Option<f64>, Option<f64>),
    ) -> Option<Normaliser> {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() {
            return None;
        }
        let log = direction == Direction::LowerIsBetter && finite.iter().all(|&v| v > 0.0);
        let orient = |v: f64| orient(direction, log, v);
        let lo = finite
            .iter()
            .map(|&v| orient(v))
            .fold(f64::INFINITY, f64::min);
        let hi = finite
            .iter()
            .map(|&v| orient(v))
            .fold(f64::NEG_INFINITY, f64::max);
        let raw_good = match direction {
            Direction::HigherIsBetter => bounds.1,
            Direction::LowerIsBetter => bounds.0,
        };
        let good_bound = raw_good.map(orient).filter(|b| b.is_finite());
        let floor = if log {
            0.1
        } else if let Some(b) = good_bound {
            0.05 * (b - lo).abs()
        } else {
            0.05 * lo.abs().max(hi.abs())
        };
        let span = (hi - lo).max(floor).max(1e-12);
        Some(Normaliser {
            direction,
            log,
            lo,
            span,
            good_bound,
        })
    }
    /// Raw metric value → normalised `y` (non-finite raw values give −∞, the worst).
    pub fn to_y(&self, v: f64) -> f64 {
        let g = orient(self.direction, self.log, v);
        if g.is_nan() {
            return f64::NEG_INFINITY;
        }
        (g - self.lo) / self.span
    }
    /// Normalised `y` → oriented metric value in the metric's own units (higher is better:
    /// a lower-is-better metric comes back negated).
    pub fn to_oriented_metric(&self, y: f64) -> f64 {
        let g = self.lo + y * self.span;
        if self.log {
            -(-g).exp()
        } else {
            g
        }
    }
    /// The room left to the good-side bound from the highest seen value, in spans.
    fn room_feature(&self) -> f32 {
        match self.good_bound {
            Some(b) => (((b - self.lo) / self.span - 1.0).max(0.0).asinh() / 4.0) as f32,
            None => 0.0,
        }
    }
}

/// Oriented value on the model's scale (higher is better; `−ln v` on the log scale).
fn orient(direction: Direction, log: bool, v: f64) -> f64 {
    if log {
        -v.ln()
    } else {
        match direction {
            Direction::HigherIsBetter => v,
            Direction::LowerIsBetter => -v,
        }
    }
}

/// Indices of at most `max` of `n` points, evenly spread, first and last kept.
pub fn subsample(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    let mut out: Vec<usize> = (0..max)
        .map(|i| ((i as f64) * (n - 1) as f64 / (max - 1) as f64).round() as usize)
        .collect();
    out.dedup();
    out
}

/// The tokens of one request: `seen` tokens then `queries` tokens, [`FEATURES`] numbers each.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// Row-major `(seen + queries) × FEATURES`.
    pub tokens: Vec<f32>,
    /// Seen tokens.
    pub seen: usize,
    /// Query tokens.
    pub queries: usize,
    /// How to map the answer back.
    pub normaliser: Normaliser,
}

/// Encodes a request; `None` without a finite seen value, without horizons or with more than
/// [`MAX_QUERIES`] of them.
pub fn encode(q: &CurveQuery<'_>) -> Option<Encoded> {
    if q.horizons.is_empty() || q.horizons.len() > MAX_QUERIES {
        return None;
    }
    let pairs: Vec<(f64, f64)> = q
        .shares
        .iter()
        .zip(q.values)
        .filter(|(s, v)| v.is_finite() && s.is_finite())
        .map(|(&s, &v)| (s, v))
        .collect();
    let values: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let normaliser = Normaliser::from_seen(&values, q.direction, q.bounds)?;
    let keep = subsample(pairs.len(), MAX_SEEN);
    let n_feat = (q.planned_evaluations.max(1.0).ln() / 300f64.ln()) as f32;
    let log_flag = f32::from(u8::from(normaliser.log));
    let known = q.schedule.is_some();
    let sched = q.schedule.unwrap_or(&[]);
    let room = normaliser.room_feature();
    let mut tokens = Vec::with_capacity((keep.len() + q.horizons.len()) * FEATURES);
    let mut push = |share: f64, y: f64, query: bool| {
        let before = sched.iter().filter(|&&c| c <= share).count();
        let last = sched
            .iter()
            .copied()
            .filter(|&c| c <= share)
            .fold(0.0, f64::max);
        tokens.extend_from_slice(&[
            share.clamp(0.0, 1.5) as f32,
            y.clamp(Y_MIN, Y_MAX) as f32,
            f32::from(u8::from(query)),
            n_feat,
            log_flag,
            f32::from(u8::from(known)),
            before as f32 / 3.0,
            (share - last).clamp(0.0, 1.5) as f32,
            room,
        ]);
    };
    for &i in &keep {
        push(pairs[i].0, normaliser.to_y(pairs[i].1), false);
    }
    for &h in q.horizons {
        push(h, 0.0, true);
    }
    Some(Encoded {
        tokens,
        seen: keep.len(),
        queries: q.horizons.len(),
        normaliser,
    })
}

/// Lowest normalised value the distribution covers (lower targets, NaN included, count here).
pub const Y_MIN: f64 = -5.0;
/// Highest normalised value the distribution covers.
pub const Y_MAX: f64 = 24.0;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seen_values_span_zero_to_one() {
        let v = [0.2, 0.5, 0.4, 0.7];
        let n =
            Normaliser::from_seen(&v, Direction::HigherIsBetter, (Some(0.0), Some(1.0))).unwrap();
        assert!(!n.log);
        assert!((n.to_y(0.2)).abs() < 1e-12 && (n.to_y(0.7) - 1.0).abs() < 1e-12);
        assert!((n.to_oriented_metric(n.to_y(0.55)) - 0.55).abs() < 1e-12);
    }

    #[test]
    fn a_positive_loss_is_read_on_the_log_scale() {
        let v = [2.0, 1.0, 0.5];
        let n = Normaliser::from_seen(&v, Direction::LowerIsBetter, (Some(0.0), None)).unwrap();
        assert!(n.log);
        assert!((n.to_y(0.5) - 1.0).abs() < 1e-12);
        // Back to the oriented (negated) loss.
        assert!((n.to_oriented_metric(n.to_y(0.25)) + 0.25).abs() < 1e-12);
    }

    #[test]
    fn a_flat_prefix_has_a_floor_on_its_span() {
        let n = Normaliser::from_seen(&[0.1; 5], Direction::HigherIsBetter, (Some(0.0), Some(1.0)))
            .unwrap();
        assert!((n.span - 0.045).abs() < 1e-12);
    }

    #[test]
    fn subsample_keeps_first_and_last() {
        let s = subsample(200, 48);
        assert_eq!(s.len(), 48);
        assert_eq!((s[0], s[47]), (0, 199));
        assert_eq!(subsample(10, 48).len(), 10);
    }

    #[test]
    fn too_many_or_no_horizons_are_refused() {
        let q = CurveQuery {
            shares: &[0.1, 0.2],
            values: &[0.3, 0.4],
            direction: Direction::HigherIsBetter,
            bounds: (None, None),
            planned_evaluations: 10.0,
            schedule: None,
            horizons: &[],
        };
        assert!(encode(&q).is_none());
        let many = [0.5; 17];
        assert!(encode(&CurveQuery {
            horizons: &many,
            ..q
        })
        .is_none());
    }

    proptest! {
        #[test]
        fn tokens_are_finite(values in proptest::collection::vec(-1e6f64..1e6, 1..300), lower in any::<bool>()) {
            let n = values.len();
            let shares: Vec<f64> = (1..=n).map(|i| i as f64 / (n as f64 + 1.0)).collect();
            let q = CurveQuery {
                shares: &shares,
                values: &values,
                direction: if lower { Direction::LowerIsBetter } else { Direction::HigherIsBetter },
                bounds: (None, None),
                planned_evaluations: n as f64 + 1.0,
                schedule: Some(&[0.5]),
                horizons: &[1.0],
            };
            let e = encode(&q).unwrap();
            prop_assert!(e.tokens.iter().all(|t| t.is_finite()));
            prop_assert_eq!(e.tokens.len(), (e.seen + 1) * FEATURES);
            prop_assert!(e.seen <= MAX_SEEN);
        }
    }
}
