//! Turning a wrapping hardware counter into a monotone cumulative total.
//!
//! RAPL's `energy_uj` counts up to `max_energy_range_uj` and starts again from
//! zero (on a 200 W package with the common 262 kJ range, every ~22 min). One
//! wrap between two reads shows as a decrease. Several wraps between two reads
//! cannot be seen in the values themselves; they are possible only when the
//! interval is long enough for `max_power × elapsed` to exceed the range. In
//! that case the number of extra wraps is chosen so that the interval's mean
//! power is closest to the previous interval's (the best guess without more
//! data) and the reading is counted in [`WrapCounter::guessed`].

use crate::{Joules, Watts};
use std::time::Duration;

/// Default upper bound on the power of one RAPL zone, used to decide whether
/// several wraps could have happened between two reads. The largest server
/// sockets today are rated at ≈ 500 W (AMD EPYC 9965: 500 W TDP).
pub const DEFAULT_MAX_ZONE_POWER: Watts = Watts(500.0);

/// Accumulates a wrapping counter (in micro-units, e.g. µJ) into a total that
/// never decreases and is never NaN.
#[derive(Debug, Clone)]
pub struct WrapCounter {
    range: Option<u64>,
    max_power: Watts,
    last_raw: Option<u64>,
    last_power_w: Option<f64>,
    total_micro: f64,
    wraps: u64,
    guessed: u64,
}

impl WrapCounter {
    /// A counter that wraps after `range` micro-units (`None` when the kernel does
    /// not say, e.g. `max_energy_range_uj` is missing), whose true rate never
    /// exceeds `max_power`.
    pub fn new(range: Option<u64>, max_power: Watts) -> WrapCounter {
        WrapCounter {
            range: range.filter(|r| *r > 0),
            max_power,
            last_raw: None,
            last_power_w: None,
            total_micro: 0.0,
            wraps: 0,
            guessed: 0,
        }
    }

    /// Feed the next raw reading, taken `elapsed` after the previous one; returns
    /// the cumulative energy since the first reading.
    pub fn update(&mut self, raw: u64, elapsed: Duration) -> Joules {
        let Some(last) = self.last_raw.replace(raw) else {
            return self.total();
        };
        let dt = elapsed.as_secs_f64();
        let mut delta = if raw >= last {
            (raw - last) as f64
        } else {
            match self.range {
                Some(range) if last <= range => {
                    self.wraps += 1;
                    (range - last) as f64 + raw as f64
                }
                // Unknown range: the counter restarted from zero, so at least `raw`
                // was spent; use the previous power when it says more.
                _ => {
                    self.wraps += 1;
                    self.guessed += 1;
                    let by_power = self.last_power_w.map_or(0.0, |p| p * 1e6 * dt);
                    (raw as f64).max(by_power)
                }
            }
        };
        if let Some(range) = self.range {
            let ceiling = self.max_power.0.max(0.0) * 1e6 * dt;
            let spare = ((ceiling - delta) / range as f64).floor();
            if spare >= 1.0 {
                // Extra whole wraps are physically possible: pick the count that keeps
                // the power closest to the previous interval's.
                self.guessed += 1;
                if let Some(p) = self.last_power_w {
                    let expected = p * 1e6 * dt;
                    let k = ((expected - delta) / range as f64)
                        .round()
                        .clamp(0.0, spare);
                    if k.is_finite() && k > 0.0 {
                        self.wraps += k as u64;
                        delta += k * range as f64;
                    }
                }
            }
        }
        if !delta.is_finite() || delta < 0.0 {
            delta = 0.0;
        }
        if dt > 0.0 {
            self.last_power_w = Some(delta / 1e6 / dt);
        }
        self.total_micro += delta;
        self.total()
    }

    /// Cumulative energy since the first reading.
    pub fn total(&self) -> Joules {
        Joules(self.total_micro / 1e6)
    }

    /// Wraps detected or inferred so far.
    pub fn wraps(&self) -> u64 {
        self.wraps
    }

    /// Readings whose delta involved a guess (unknown range, or an interval long
    /// enough for several wraps).
    pub fn guessed(&self) -> u64 {
        self.guessed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MS100: Duration = Duration::from_millis(100);

    #[test]
    fn counts_normally() {
        let mut c = WrapCounter::new(Some(1_000_000_000), DEFAULT_MAX_ZONE_POWER);
        assert_eq!(c.update(5_000_000, MS100), Joules(0.0));
        assert_eq!(c.update(7_000_000, MS100), Joules(2.0));
        assert_eq!(c.update(7_500_000, MS100), Joules(2.5));
        assert_eq!(c.wraps(), 0);
    }

    #[test]
    fn one_wrap_uses_the_range() {
        let range = 262_143_328_850;
        let mut c = WrapCounter::new(Some(range), DEFAULT_MAX_ZONE_POWER);
        c.update(range - 1_000_000, MS100);
        let total = c.update(2_000_000, MS100);
        assert!((total.0 - 3.0).abs() < 1e-9, "{total:?}");
        assert_eq!(c.wraps(), 1);
        assert_eq!(c.guessed(), 0);
    }

    #[test]
    fn several_wraps_follow_the_previous_power() {
        // A tiny range (10 J) so that a 2 s gap at ~20 W spans several wraps.
        let range = 10_000_000;
        let mut c = WrapCounter::new(Some(range), DEFAULT_MAX_ZONE_POWER);
        c.update(0, Duration::ZERO);
        c.update(2_000_000, MS100); // 2 J in 0.1 s = 20 W
                                    // 2 s at 20 W = 40 J = 4 ranges; the counter moved from 2 J to 2 J (+40 J).
        let total = c.update(2_000_000, Duration::from_secs(2));
        assert!((total.0 - 42.0).abs() < 1e-9, "{total:?}");
        assert_eq!(c.wraps(), 4);
        // Both readings were ambiguous (50 J and 1 kJ possible at 500 W).
        assert_eq!(c.guessed(), 2);
    }

    #[test]
    fn missing_range_counts_at_least_the_new_value() {
        let mut c = WrapCounter::new(None, DEFAULT_MAX_ZONE_POWER);
        c.update(9_000_000, MS100);
        c.update(9_500_000, MS100); // 5 W
        let total = c.update(100_000, MS100); // wrapped, range unknown: 5 W × 0.1 s
        assert!((total.0 - 1.0).abs() < 1e-9, "{total:?}");
        assert_eq!(c.guessed(), 1);
    }

    proptest! {
        #[test]
        fn never_negative_nor_nan(
            range in prop::option::of(1u64..=u64::MAX / 2),
            max_w in 0.0f64..2000.0,
            steps in prop::collection::vec((any::<u64>(), 0u64..10_000_000_000), 1..60),
        ) {
            let mut c = WrapCounter::new(range, Watts(max_w));
            let mut prev = 0.0;
            for (raw, ns) in steps {
                let raw = match range { Some(r) => raw % (r + 1), None => raw };
                let t = c.update(raw, Duration::from_nanos(ns)).0;
                prop_assert!(t.is_finite() && t >= 0.0, "total {t}");
                prop_assert!(t >= prev, "decreased {prev} -> {t}");
                prev = t;
            }
        }
    }
}
