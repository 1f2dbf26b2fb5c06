//! The bar distribution (as in LC-PFN / PFNs): the normalised metric's range
//! `[Y_MIN, Y_MAX]` cut into [`BINS`] bins, the model giving a probability per bin, the
//! density uniform within a bin. Bins are fine near 1 (the best seen so far, where stop
//! decisions live) and coarse far from it: edges at `1 + sinh(u)/8`, `u` evenly spaced.

use crate::encode::{Normaliser, Y_MAX, Y_MIN};

/// Number of bins.
pub const BINS: usize = 96;
/// Sharpness of the edges around 1.
const EDGE_SCALE: f64 = 8.0;

/// The bin edges (`BINS + 1`, increasing, from [`Y_MIN`] to [`Y_MAX`]).
pub fn edges() -> Vec<f64> {
    let u0 = ((Y_MIN - 1.0) * EDGE_SCALE).asinh();
    let u1 = ((Y_MAX - 1.0) * EDGE_SCALE).asinh();
    let mut e: Vec<f64> = (0..=BINS)
        .map(|i| 1.0 + (u0 + (u1 - u0) * i as f64 / BINS as f64).sinh() / EDGE_SCALE)
        .map(|e| e.clamp(Y_MIN, Y_MAX))
        .collect();
    e[0] = Y_MIN;
    e[BINS] = Y_MAX;
    e
}

/// The bin holding `y` (values outside the range, and −∞ / NaN, count in the end bins).
pub fn bin_of(edges: &[f64], y: f64) -> usize {
    if y.is_nan() || y <= edges[0] {
        return 0;
    }
    let i = edges.partition_point(|&e| e <= y);
    i.saturating_sub(1).min(edges.len() - 2)
}

/// A predictive distribution of the normalised metric at one share.
#[derive(Debug, Clone, PartialEq)]
pub struct BarDistribution {
    /// Probability per bin (sums to 1).
    pub probs: Vec<f64>,
    /// The edges the probabilities refer to.
    pub edges: std::sync::Arc<Vec<f64>>,
}

/// Sub-points per bin when a non-linear map is integrated.
const SUB: usize = 4;

impl BarDistribution {
    /// Mean of `y`.
    pub fn mean(&self) -> f64 {
        self.probs
            .iter()
            .enumerate()
            .map(|(k, p)| p * 0.5 * (self.edges[k] + self.edges[k + 1]))
            .sum()
    }
    /// The `q`-quantile of `y`.
    pub fn quantile(&self, q: f64) -> f64 {
        let q = q.clamp(0.0, 1.0);
        let mut acc = 0.0;
        for (k, &p) in self.probs.iter().enumerate() {
            if acc + p >= q && p > 0.0 {
                let t = ((q - acc) / p).clamp(0.0, 1.0);
                return self.edges[k] + t * (self.edges[k + 1] - self.edges[k]);
            }
            acc += p;
        }
        self.edges[self.edges.len() - 1]
    }
    /// Density of `y` (what the negative log-likelihood is taken of).
    pub fn density(&self, y: f64) -> f64 {
        let k = bin_of(&self.edges, y);
        self.probs[k] / (self.edges[k + 1] - self.edges[k])
    }
    /// `E[(M − threshold)⁺]` in the metric's own oriented units (higher is better), with
    /// `M` the metric mapped back through `normaliser`.
    pub fn expected_excess(&self, normaliser: &Normaliser, threshold: f64) -> f64 {
        let mut total = 0.0;
        for (k, &p) in self.probs.iter().enumerate() {
            if p <= 0.0 {
                continue;
            }
            let (a, b) = (self.edges[k], self.edges[k + 1]);
            // Past the upper end the mapping is monotone: skip bins wholly below.
            if normaliser.to_oriented_metric(b) <= threshold {
                continue;
            }
            let mut s = 0.0;
            for j in 0..SUB {
                let y = a + (b - a) * (j as f64 + 0.5) / SUB as f64;
                s += (normaliser.to_oriented_metric(y) - threshold).max(0.0);
            }
            total += p * s / SUB as f64;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snuffer_forecast::Direction;
    use std::sync::Arc;

    #[test]
    fn edges_are_increasing_and_fine_near_one() {
        let e = edges();
        assert_eq!(e.len(), BINS + 1);
        assert!(e.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((e[0], e[BINS]), (Y_MIN, Y_MAX));
        let k = bin_of(&e, 1.0);
        assert!(e[k + 1] - e[k] < 0.02, "{}", e[k + 1] - e[k]);
    }

    #[test]
    fn bins_hold_their_values() {
        let e = edges();
        for y in [
            -10.0,
            -5.0,
            -0.3,
            0.0,
            0.99,
            1.0,
            1.01,
            3.0,
            23.9,
            30.0,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            let k = bin_of(&e, y);
            assert!(k < BINS);
            if (Y_MIN..Y_MAX).contains(&y) {
                assert!(e[k] <= y && y < e[k + 1], "{y}");
            }
        }
    }

    #[test]
    fn excess_of_a_point_mass_is_its_distance() {
        let e = Arc::new(edges());
        let k = bin_of(&e, 3.0);
        let mut probs = vec![0.0; BINS];
        probs[k] = 1.0;
        let d = BarDistribution {
            probs,
            edges: e.clone(),
        };
        let n = Normaliser {
            direction: Direction::HigherIsBetter,
            log: false,
            lo: 0.0,
            span: 2.0,
            good_bound: None,
        };
        let mid = 0.5 * (e[k] + e[k + 1]);
        assert!((d.expected_excess(&n, 2.0) - (2.0 * mid - 2.0)).abs() < 1e-9);
        assert_eq!(d.expected_excess(&n, 100.0), 0.0);
        let q = d.quantile(0.5);
        assert!(e[k] <= q && q <= e[k + 1]);
        assert!((d.mean() - mid).abs() < 1e-12);
    }
}
