//! Streaming min/max downsampling: bounded memory, extremes kept.
//!
//! A million-step run has a million points per series, far more than a chart
//! of a thousand pixels can show. [`Downsampler`] keeps at most `max_buckets`
//! buckets of consecutive points; each bucket remembers its first, last,
//! lowest and highest point, so spikes and dips survive (a plain stride
//! would drop them). When the buckets run out, neighbours merge pairwise and
//! each bucket covers twice as many points, so memory stays bounded however
//! long the file is and the work per point is amortised O(1).

/// One point with its arrival order (so output keeps the input order).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    seq: u64,
    x: f64,
    y: f64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    first: Seen,
    last: Seen,
    min: Seen,
    max: Seen,
    count: u64,
}

impl Bucket {
    fn new(p: Seen) -> Self {
        Bucket {
            first: p,
            last: p,
            min: p,
            max: p,
            count: 1,
        }
    }

    fn push(&mut self, p: Seen) {
        self.last = p;
        if p.y < self.min.y {
            self.min = p;
        }
        if p.y > self.max.y {
            self.max = p;
        }
        self.count += 1;
    }

    fn merge(self, later: Bucket) -> Bucket {
        Bucket {
            first: self.first,
            last: later.last,
            min: if later.min.y < self.min.y {
                later.min
            } else {
                self.min
            },
            max: if later.max.y > self.max.y {
                later.max
            } else {
                self.max
            },
            count: self.count + later.count,
        }
    }
}

/// Streaming downsampler of an (x, y) series that keeps each bucket's extremes.
///
/// ```
/// use snuffer_report::Downsampler;
/// let mut d = Downsampler::new(8);
/// for i in 0..10_000 {
///     let y = if i == 5_000 { 100.0 } else { (i % 7) as f64 };
///     d.push(i as f64, y);
/// }
/// let pts = d.points();
/// assert!(pts.len() <= 8 * 4);
/// assert!(pts.iter().any(|&(_, y)| y == 100.0)); // the spike survives
/// assert_eq!(pts.first(), Some(&(0.0, 0.0)));
/// assert_eq!(d.len(), 10_000);
/// ```
#[derive(Debug, Clone)]
pub struct Downsampler {
    max_buckets: usize,
    per_bucket: u64,
    buckets: Vec<Bucket>,
    seen: u64,
}

impl Downsampler {
    /// A downsampler that keeps at most `max_buckets` buckets (at least 2),
    /// hence at most `4 × max_buckets` output points.
    pub fn new(max_buckets: usize) -> Self {
        let max_buckets = max_buckets.max(2);
        Downsampler {
            max_buckets,
            per_bucket: 1,
            buckets: Vec::with_capacity(max_buckets),
            seen: 0,
        }
    }

    /// Adds a point; non-finite values are skipped (a gap, not a crash).
    pub fn push(&mut self, x: f64, y: f64) {
        if !x.is_finite() || !y.is_finite() {
            return;
        }
        let p = Seen {
            seq: self.seen,
            x,
            y,
        };
        self.seen += 1;
        match self.buckets.last_mut() {
            Some(b) if b.count < self.per_bucket => b.push(p),
            _ => {
                if self.buckets.len() == self.max_buckets {
                    self.halve();
                }
                match self.buckets.last_mut() {
                    Some(b) if b.count < self.per_bucket => b.push(p),
                    _ => self.buckets.push(Bucket::new(p)),
                }
            }
        }
    }

    /// Merges neighbouring buckets pairwise; each now covers twice the points.
    fn halve(&mut self) {
        let old = std::mem::take(&mut self.buckets);
        let mut it = old.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => self.buckets.push(a.merge(b)),
                None => self.buckets.push(a),
            }
        }
        self.per_bucket *= 2;
    }

    /// Number of finite points pushed so far.
    pub fn len(&self) -> u64 {
        self.seen
    }

    /// True when no finite point was pushed.
    pub fn is_empty(&self) -> bool {
        self.seen == 0
    }

    /// The kept points, in input order: each bucket's first, lowest, highest and last point.
    pub fn points(&self) -> Vec<(f64, f64)> {
        let mut out = Vec::with_capacity(self.buckets.len() * 4);
        for b in &self.buckets {
            let mut four = [b.first, b.min, b.max, b.last];
            four.sort_by_key(|p| p.seq);
            let mut prev = None;
            for p in four {
                if prev != Some(p.seq) {
                    out.push((p.x, p.y));
                    prev = Some(p.seq);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_series_is_kept_whole() {
        let mut d = Downsampler::new(16);
        for i in 0..10 {
            d.push(i as f64, (i * i) as f64);
        }
        let want: Vec<_> = (0..10).map(|i| (i as f64, (i * i) as f64)).collect();
        assert_eq!(d.points(), want);
    }

    #[test]
    fn non_finite_values_are_gaps() {
        let mut d = Downsampler::new(4);
        d.push(0.0, f64::NAN);
        d.push(1.0, 1.0);
        d.push(f64::INFINITY, 1.0);
        assert_eq!(d.len(), 1);
        assert_eq!(d.points(), vec![(1.0, 1.0)]);
    }

    proptest! {
        #[test]
        fn keeps_extremes_endpoints_and_bound(
            ys in proptest::collection::vec(-1e6f64..1e6, 1..3000),
            buckets in 2usize..64,
        ) {
            let mut d = Downsampler::new(buckets);
            for (i, &y) in ys.iter().enumerate() {
                d.push(i as f64, y);
            }
            let pts = d.points();
            prop_assert!(pts.len() <= 4 * buckets, "{} points for {} buckets", pts.len(), buckets);
            let max = ys.iter().cloned().fold(f64::MIN, f64::max);
            let min = ys.iter().cloned().fold(f64::MAX, f64::min);
            prop_assert!(pts.iter().any(|p| p.1 == max), "maximum lost");
            prop_assert!(pts.iter().any(|p| p.1 == min), "minimum lost");
            prop_assert_eq!(pts[0], (0.0, ys[0]));
            prop_assert_eq!(*pts.last().unwrap(), ((ys.len() - 1) as f64, ys[ys.len() - 1]));
            // Input order is preserved.
            prop_assert!(pts.windows(2).all(|w| w[0].0 < w[1].0));
            // Every output point is an input point.
            prop_assert!(pts.iter().all(|&(x, y)| ys[x as usize] == y));
        }
    }
}
