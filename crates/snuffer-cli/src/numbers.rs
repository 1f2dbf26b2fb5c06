//! Numbers as people read them: fixed decimals for ordinary magnitudes, scientific notation
//! for huge or tiny ones (`1e308`, not 309 digits), the same way in every subcommand.

/// `x` with `decimals` decimals, or in scientific notation (with as many) when its
/// magnitude is at least 1e9 or below 1e-4.
pub(crate) fn fixed(x: f64, decimals: usize) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:.decimals$e}")
    } else {
        format!("{x:.decimals$}")
    }
}

/// A setting or input as the user wrote it: the shortest form that reads back the same,
/// scientific when huge or tiny.
pub(crate) fn short(x: f64) -> String {
    if x != 0.0 && x.is_finite() && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_numbers_are_plain_and_extreme_ones_scientific() {
        let rows = [
            (0.5, 4, "0.5000", "0.5"),
            (12.0, 1, "12.0", "12"),
            (1e308, 4, "1.0000e308", "1e308"),
            (-1e300, 3, "-1.000e300", "-1e300"),
            (2e-9, 2, "2.00e-9", "2e-9"),
            (0.0, 2, "0.00", "0"),
            (f64::NAN, 2, "NaN", "NaN"),
        ];
        for (x, d, want_fixed, want_short) in rows {
            assert_eq!(fixed(x, d), want_fixed, "{x}");
            assert_eq!(short(x), want_short, "{x}");
        }
    }
}
