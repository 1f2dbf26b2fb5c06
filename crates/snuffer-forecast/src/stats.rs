//! Model-free summaries of a curve: noise level, recent slope, thinning.

/// Observation noise (standard deviation) estimated from how far each point lies from the
/// straight line through its two neighbours, over the most recent `window` points. Robust
/// (median based) so that a single jump does not count as noise. Zero with fewer than 3 points.
pub(crate) fn noise_sd(x: &[f64], y: &[f64], window: usize) -> f64 {
    let n = x.len();
    if n < 3 {
        return 0.0;
    }
    let start = n.saturating_sub(window).max(1);
    let mut dev: Vec<f64> = Vec::with_capacity(n);
    for i in start.max(1)..n - 1 {
        let span = x[i + 1] - x[i - 1];
        if span <= 0.0 {
            continue;
        }
        let a = (x[i + 1] - x[i]) / span;
        let b = 1.0 - a;
        let r = y[i] - (a * y[i - 1] + b * y[i + 1]);
        // Var(r) = σ²(1 + a² + b²) for independent noise on a locally straight curve.
        dev.push(r.abs() / (1.0 + a * a + b * b).sqrt());
    }
    if dev.is_empty() {
        return 0.0;
    }
    dev.sort_by(f64::total_cmp);
    1.4826 * dev[dev.len() / 2]
}

/// The least-squares factor `f` that best explains observed changes `y` by predicted ones
/// `x` (`y ≈ f·x`), from the (weighted) sums `Σxy`, `Σx²`, `Σy²`, with the residual sum of
/// squares per unit of `Σx²` (`rss / Σx²`: the caller turns it into the factor's variance
/// with the degrees of freedom its weighting implies). `None` when `Σx²` is not positive
/// or a sum is not finite.
pub(crate) fn ls_factor(sxy: f64, sxx: f64, syy: f64) -> Option<(f64, f64)> {
    if !(sxx > 1e-300 && sxx.is_finite() && sxy.is_finite() && syy.is_finite()) {
        return None;
    }
    let f = sxy / sxx;
    let rss = (syy - 2.0 * f * sxy + f * f * sxx).max(0.0);
    Some((f, rss / sxx))
}

/// Least-squares slope (and its standard error) of `y` on `x` over the last `m` points.
pub(crate) fn recent_slope(x: &[f64], y: &[f64], m: usize) -> (f64, f64) {
    let n = x.len();
    let m = m.min(n);
    if m < 2 {
        return (0.0, 0.0);
    }
    let xs = &x[n - m..];
    let ys = &y[n - m..];
    let mx = xs.iter().sum::<f64>() / m as f64;
    let my = ys.iter().sum::<f64>() / m as f64;
    let sxx: f64 = xs.iter().map(|v| (v - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return (0.0, 0.0);
    }
    let sxy: f64 = xs.iter().zip(ys).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    if m < 3 {
        return (slope, slope.abs());
    }
    let rss: f64 = xs
        .iter()
        .zip(ys)
        .map(|(a, b)| (b - my - slope * (a - mx)).powi(2))
        .sum();
    let se = (rss / (m as f64 - 2.0) / sxx).sqrt();
    (slope, se)
}

/// Value at `at` of the Theil–Sen line through `(x, y)`: the median of pairwise slopes, and
/// the median intercept. Robust to a single outlier among three points. Zero when empty.
pub(crate) fn theil_sen_at(x: &[f64], y: &[f64], at: f64) -> f64 {
    let n = x.len();
    if n == 0 {
        return 0.0;
    }
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            if x[j] != x[i] {
                slopes.push((y[j] - y[i]) / (x[j] - x[i]));
            }
        }
    }
    let b = median(&mut slopes);
    let mut icepts: Vec<f64> = x.iter().zip(y).map(|(a, v)| v - b * (a - at)).collect();
    median(&mut icepts)
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2]
    } else {
        0.5 * (v[k / 2 - 1] + v[k / 2])
    }
}

/// Indices of at most `max` points to fit: the `recent` most recent points all, and the
/// older ones evenly thinned. Old points describe an earlier regime and cost solver time;
/// keeping a sparse sample of them preserves the curve's shape.
pub(crate) fn thin(n: usize, max: usize, recent: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    let recent = recent.min(max.saturating_sub(2)).max(1);
    let old_n = n - recent;
    let keep_old = max - recent;
    let mut idx: Vec<usize> = (0..keep_old)
        .map(|k| {
            if keep_old <= 1 {
                0
            } else {
                (k * (old_n - 1)) / (keep_old - 1)
            }
        })
        .collect();
    idx.dedup();
    idx.extend(old_n..n);
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_of_a_straight_line_is_zero() {
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
        assert!(noise_sd(&x, &y, 10) < 1e-12);
        let (s, se) = recent_slope(&x, &y, 5);
        assert!((s - 2.0).abs() < 1e-12 && se < 1e-9);
    }

    #[test]
    fn noise_of_alternating_points_is_seen() {
        let x: Vec<f64> = (0..20).map(f64::from).collect();
        let y: Vec<f64> = (0..20)
            .map(|i| if i % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let s = noise_sd(&x, &y, 20);
        assert!(s > 0.1 && s < 0.3, "{s}");
    }

    #[test]
    fn thinning_keeps_ends_and_recent_points() {
        let idx = thin(1000, 48, 16);
        assert!(idx.len() <= 48);
        assert_eq!(idx[0], 0);
        assert_eq!(*idx.last().unwrap(), 999);
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(thin(10, 48, 16), (0..10).collect::<Vec<_>>());
    }
}
