//! Typed quantities: energy never crosses an API as a bare `f64`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// Joules per kilowatt-hour.
pub const JOULES_PER_KWH: f64 = 3.6e6;

/// An amount of energy in joules.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Joules(pub f64);

/// A power in watts.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Watts(pub f64);

impl Joules {
    /// Zero joules.
    pub const ZERO: Joules = Joules(0.0);

    /// The value in kilowatt-hours.
    ///
    /// ```
    /// use snuffer_energy::Joules;
    /// assert_eq!(Joules(3.6e6).kwh(), 1.0);
    /// ```
    pub fn kwh(self) -> f64 {
        self.0 / JOULES_PER_KWH
    }

    /// Energy from kilowatt-hours.
    pub fn from_kwh(kwh: f64) -> Joules {
        Joules(kwh * JOULES_PER_KWH)
    }

    /// Mean power over `d` (zero for an empty duration).
    pub fn per(self, d: Duration) -> Watts {
        let s = d.as_secs_f64();
        if s > 0.0 {
            Watts(self.0 / s)
        } else {
            Watts(0.0)
        }
    }
}

impl Watts {
    /// Energy spent at this power over `d`.
    ///
    /// ```
    /// use snuffer_energy::{Joules, Watts};
    /// use std::time::Duration;
    /// assert_eq!(Watts(10.0).over(Duration::from_secs(3)), Joules(30.0));
    /// ```
    pub fn over(self, d: Duration) -> Joules {
        Joules(self.0 * d.as_secs_f64())
    }
}

impl Add for Joules {
    type Output = Joules;
    fn add(self, o: Joules) -> Joules {
        Joules(self.0 + o.0)
    }
}
impl AddAssign for Joules {
    fn add_assign(&mut self, o: Joules) {
        self.0 += o.0;
    }
}
impl Sub for Joules {
    type Output = Joules;
    fn sub(self, o: Joules) -> Joules {
        Joules(self.0 - o.0)
    }
}
/// Significant digits of [`Joules`] and [`Watts`] when no precision is given.
pub const DEFAULT_SIGNIFICANT: usize = 3;

impl Joules {
    /// The unit this amount reads best in, with the value in that unit: J below 1 kJ, kJ
    /// below 10 Wh, Wh below 1 kWh, kWh below 1 MWh, then MWh.
    ///
    /// ```
    /// use snuffer_energy::Joules;
    /// assert_eq!(Joules(6.2).scaled(), (6.2, "J"));
    /// assert_eq!(Joules(7_200.0).scaled(), (7.2, "kJ"));
    /// assert_eq!(Joules(3.6e5).scaled(), (100.0, "Wh"));
    /// assert_eq!(Joules(5.4e6).scaled(), (1.5, "kWh"));
    /// ```
    pub fn scaled(self) -> (f64, &'static str) {
        let (factor, unit) = unit_of(self.0);
        (self.0 / factor, unit)
    }
}

/// Joules per unit and the unit's name, for an amount of `j` joules.
fn unit_of(j: f64) -> (f64, &'static str) {
    let a = j.abs();
    if !a.is_finite() || a < 1e3 {
        (1.0, "J")
    } else if a < 3.6e4 {
        (1e3, "kJ")
    } else if a < JOULES_PER_KWH {
        (3.6e3, "Wh")
    } else if a < 1e3 * JOULES_PER_KWH {
        (JOULES_PER_KWH, "kWh")
    } else {
        (1e3 * JOULES_PER_KWH, "MWh")
    }
}

/// `x` with `digits` significant digits (at least 1), in plain notation from 10⁻⁶ to 10⁹
/// and in scientific notation beyond; `NaN`, `inf`, `-inf` for non-finite values.
///
/// This is the one number formatter of every Snuffer output (terminal, logs, reports),
/// so the same quantity prints the same digits everywhere.
///
/// ```
/// use snuffer_energy::significant;
/// assert_eq!(significant(36_556.8, 4), "36557");
/// assert_eq!(significant(0.012_003, 4), "0.01200");
/// assert_eq!(significant(9.9996, 4), "10.00");
/// assert_eq!(significant(1.5e-9, 3), "1.50e-9");
/// assert_eq!(significant(0.0, 3), "0");
/// ```
pub fn significant(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    let plain = |mag: i32| {
        let decimals = (digits as i32 - 1 - mag).max(0) as usize;
        format!("{x:.decimals$}")
    };
    let mag = x.abs().log10().floor() as i32;
    if !(-6..9).contains(&mag) {
        return format!("{x:.*e}", digits - 1);
    }
    let s = plain(mag);
    // Rounding can carry into the next power of ten (9.9996 → 10.000): one digit less.
    match s.trim_start_matches('-').parse::<f64>() {
        Ok(v) if v >= 10f64.powi(mag + 1) => plain(mag + 1),
        _ => s,
    }
}

/// A share (0.833) as a percentage with one decimal (`83.3 %`): the one way every output
/// prints a share, so a saving reads the same in the terminal, the summary and the report.
///
/// ```
/// assert_eq!(snuffer_energy::percent(0.8333), "83.3 %");
/// assert_eq!(snuffer_energy::percent(f64::NAN), "NaN %");
/// ```
pub fn percent(share: f64) -> String {
    let p = 100.0 * share;
    if p.is_finite() {
        format!("{p:.1} %")
    } else {
        format!("{} %", significant(p, 3))
    }
}

/// Energy in the unit it reads best in ([`Joules::scaled`]) with three significant
/// digits, or the precision given (`{:.4}` → four significant digits).
///
/// ```
/// use snuffer_energy::Joules;
/// assert_eq!(Joules(6.2).to_string(), "6.20 J");
/// assert_eq!(format!("{:.2}", Joules(6.73)), "6.7 J");
/// assert_eq!(Joules(24_500.0).to_string(), "24.5 kJ");
/// assert_eq!(Joules(1.13e6).to_string(), "314 Wh");
/// assert_eq!(Joules(4.5e7).to_string(), "12.5 kWh");
/// ```
impl fmt::Display for Joules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = f.precision().unwrap_or(DEFAULT_SIGNIFICANT);
        let (factor, unit) = unit_of(self.0);
        let text = significant(self.0 / factor, digits);
        // Rounding can reach the next unit (999.6 J → "1000 J"): print that unit instead.
        let rounded = text.parse::<f64>().map_or(self.0, |v| v * factor);
        let out = match unit_of(rounded) {
            (next, u) if u != unit => format!("{} {u}", significant(rounded / next, digits)),
            _ => format!("{text} {unit}"),
        };
        pad(f, &out)
    }
}

/// Writes `text` with the formatter's width, fill and alignment (left by default); the
/// precision is not a truncation here, it was the number of significant digits.
fn pad(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    let len = text.chars().count();
    let Some(width) = f.width().filter(|w| *w > len) else {
        return f.write_str(text);
    };
    let fill = |f: &mut fmt::Formatter<'_>, n: usize| -> fmt::Result {
        (0..n).try_for_each(|_| write!(f, "{}", f.fill()))
    };
    let gap = width - len;
    let (before, after) = match f.align() {
        Some(fmt::Alignment::Right) => (gap, 0),
        Some(fmt::Alignment::Center) => (gap / 2, gap - gap / 2),
        _ => (0, gap),
    };
    fill(f, before)?;
    f.write_str(text)?;
    fill(f, after)
}

/// Power in W with three significant digits, or the precision given.
impl fmt::Display for Watts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = f.precision().unwrap_or(DEFAULT_SIGNIFICANT);
        pad(f, &format!("{} W", significant(self.0, digits)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn units_table() {
        let rows = [
            (0.0, "0 J"),
            (1.354, "1.35 J"),
            (999.4, "999 J"),
            (999.6, "1.00 kJ"),
            (35_000.0, "35.0 kJ"),
            (35_999.0, "10.0 Wh"),
            (36_000.0, "10.0 Wh"),
            (3.59e6, "997 Wh"),
            (3.6e6, "1.00 kWh"),
            (3.6e9, "1.00 MWh"),
            (-2.5, "-2.50 J"),
            (f64::NAN, "NaN J"),
        ];
        for (j, want) in rows {
            assert_eq!(Joules(j).to_string(), want, "Joules({j})");
        }
        assert_eq!(Watts(12.0).to_string(), "12.0 W");
        assert_eq!(
            format!("[{:>8}]", Joules(6.2)),
            "[  6.20 J]",
            "width and alignment"
        );
        assert_eq!(format!("[{:<8.2}]", Joules(6.2)), "[6.2 J   ]");
        assert_eq!(format!("{:.2}", Watts(0.126)), "0.13 W");
    }

    #[test]
    fn significant_table() {
        let rows = [
            (0.91234, 3, "0.912"),
            (123.456, 3, "123"),
            (123_456.0, 3, "123456"),
            (0.000_123_456, 3, "0.000123"),
            (2.5e9, 3, "2.50e9"),
            (-1.5, 4, "-1.500"),
            (0.999_96, 4, "1.000"),
            (-9.9996, 4, "-10.00"),
            (f64::NEG_INFINITY, 3, "-inf"),
            (5.0, 0, "5"),
        ];
        for (x, d, want) in rows {
            assert_eq!(significant(x, d), want, "significant({x}, {d})");
        }
    }

    proptest! {
        /// The text reads back within half a unit of its last digit.
        #[test]
        fn significant_reads_back_close(x in proptest::num::f64::NORMAL, digits in 1usize..8) {
            let s = significant(x, digits);
            let back: f64 = s.parse().unwrap();
            let tolerance = x.abs() * 10f64.powi(1 - digits as i32);
            prop_assert!((back - x).abs() <= tolerance, "{x} → {s}");
        }
    }
}
