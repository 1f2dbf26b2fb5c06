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
//!
//! A decrease is not always a wrap. A driver reload, a host reboot under a VM or a switch to
//! another counter restarts the count from an unrelated value: then the "wrap" would mean
//! more energy than the zone can draw in the interval (in the field, 262 kJ in a tenth of a
//! second, 2.6 MW). A decrease whose wrapped delta exceeds `max_power × (elapsed + 50 ms)`
//! is therefore a **reset**: the interval's energy is not known, so it is bridged at the
//! previous interval's power (zero when there was none) and counted in
//! [`WrapCounter::resets`] and [`WrapCounter::bridged`], so that the meter can label the
//! figure as partly estimated.

use crate::{Joules, Watts};
use std::time::Duration;

/// Default upper bound on the power of one RAPL zone, used to decide whether
/// several wraps could have happened between two reads. The largest server
/// sockets today are rated at ≈ 500 W (AMD EPYC 9965: 500 W TDP).
pub const DEFAULT_MAX_ZONE_POWER: Watts = Watts(500.0);

/// Timing slack added to an interval when judging whether a wrap is physically possible:
/// the kernel updates RAPL counters about every millisecond, and a read is not instantaneous.
const PLAUSIBILITY_SLACK_S: f64 = 0.05;

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
    resets: u64,
    bridged_micro: f64,
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
            resets: 0,
            bridged_micro: 0.0,
        }
    }

    /// Feed the next raw reading, taken `elapsed` after the previous one; returns
    /// the cumulative energy since the first reading.
    pub fn update(&mut self, raw: u64, elapsed: Duration) -> Joules {
        let Some(last) = self.last_raw.replace(raw) else {
            return self.total();
        };
        let dt = elapsed.as_secs_f64();
        let plausible = self.max_power.0.max(0.0) * 1e6 * (dt + PLAUSIBILITY_SLACK_S);
        let mut delta = if raw >= last {
            (raw - last) as f64
        } else {
            match self.range {
                Some(range)
                    if last <= range && ((range - last) as f64 + raw as f64) > plausible =>
                {
                    // Not a wrap: more than the zone can draw in the interval. The counter
                    // was reset; bridge the interval at the previous power.
                    self.resets += 1;
                    let bridge = self.last_power_w.map_or(0.0, |p| p * 1e6 * dt);
                    let bridge = if bridge.is_finite() {
                        bridge.max(0.0)
                    } else {
                        0.0
                    };
                    self.bridged_micro += bridge;
                    self.total_micro += bridge;
                    // The previous power stays the best guess for the next interval too.
                    return self.total();
                }
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

    /// Decreases that could not be wraps (more energy than the zone can draw in the
    /// interval): the counter was reset.
    pub fn resets(&self) -> u64 {
        self.resets
    }

    /// Energy put in for the intervals that contained a reset (at the previous interval's
    /// power): an estimate inside the total, not a count.
    pub fn bridged(&self) -> Joules {
        Joules(self.bridged_micro / 1e6)
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

    /// The field case: 50 J on a 262 kJ range, then `1000` µJ a tenth of a second later.
    /// A wrap would mean 262 093 J in 0.1 s (2.6 MW): it is a reset.
    #[test]
    fn a_drop_no_zone_could_draw_is_a_reset_bridged_at_the_previous_power() {
        let range = 262_143_328_850;
        let mut c = WrapCounter::new(Some(range), DEFAULT_MAX_ZONE_POWER);
        c.update(48_000_000, Duration::ZERO);
        c.update(50_000_000, MS100); // 2 J in 0.1 s = 20 W
        let t = c.update(1_000, MS100);
        assert!((t.0 - 4.0).abs() < 1e-9, "bridged at 20 W: {t:?}");
        assert_eq!((c.resets(), c.wraps()), (1, 0));
        assert!((c.bridged().0 - 2.0).abs() < 1e-9);
        // Counting goes on from the new value.
        let t = c.update(501_000, MS100);
        assert!((t.0 - 4.5).abs() < 1e-9, "{t:?}");
    }

    #[test]
    fn a_reset_before_any_power_is_known_adds_nothing() {
        let mut c = WrapCounter::new(Some(262_143_328_850), DEFAULT_MAX_ZONE_POWER);
        c.update(50_000_000, Duration::ZERO);
        assert_eq!(c.update(1_000, Duration::from_millis(1200)), Joules(0.0));
        assert_eq!(c.resets(), 1);
    }

    #[test]
    fn a_wrap_the_zone_could_draw_is_still_a_wrap() {
        // 4.3 kJ range (a 32-bit AMD counter); 3 kJ in 10 s is 300 W, within 500 W.
        let range = 4_294_967_295;
        let mut c = WrapCounter::new(Some(range), DEFAULT_MAX_ZONE_POWER);
        c.update(range - 1_000_000_000, Duration::ZERO);
        let t = c.update(2_000_000_000, Duration::from_secs(10));
        assert!((t.0 - 3000.0).abs() < 1e-6, "{t:?}");
        assert_eq!((c.wraps(), c.resets()), (1, 0));
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
                prop_assert!(c.bridged().0 <= t + 1e-9);
                prev = t;
            }
        }

        /// Whatever the values, a reset adds the previous power over the interval, no more.
        #[test]
        fn a_reset_is_bridged_at_the_previous_power(
            before in 1_000_000u64..1_000_000_000,
            step in 0u64..10_000_000,
            after in 0u64..1_000_000,
            ms in 1u64..1000,
        ) {
            let range = 262_143_328_850;
            let dt = Duration::from_millis(ms);
            let mut c = WrapCounter::new(Some(range), DEFAULT_MAX_ZONE_POWER);
            c.update(before, Duration::ZERO);
            let t1 = c.update(before + step, dt).0;
            let t2 = c.update(after, dt).0;
            prop_assert_eq!(c.resets(), 1);
            prop_assert!((t2 - t1 - t1).abs() < 1e-6, "{} then {}", t1, t2);
        }
    }
}
