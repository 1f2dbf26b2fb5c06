//! [`Tau`]: the user's threshold, "a gain below τ metric units per kWh is not worth it".

use crate::PolicyError;
use serde::{Deserialize, Serialize};

/// The stop threshold of [`crate::MarginalGain`] in one of three friendly forms; all resolve
/// to metric units (in the good direction) per kWh.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tau {
    /// Metric units per kWh (e.g. 0.5 accuracy points per kWh).
    PerKwh(f64),
    /// A fraction of the gain so far per fraction of the energy so far: with 0.1, stop when
    /// one more "energy so far" would buy less than 10 % of the gain so far. Resolves to
    /// `r × gain_so_far / energy_so_far_kwh`. For a loss-like metric (lower is better, good
    /// bound 0) the gains are log-gains, `ln(first / best)` so far (see
    /// [`crate::GainScale`]): a 135-fold fall ahead is never "small" next to a 10-fold one
    /// behind.
    Relative(f64),
    /// A price: electricity in €/kWh and the value of one metric unit in €; the threshold is
    /// their ratio (metric units per kWh that pay for the electricity).
    Price {
        /// Cost of one kWh.
        eur_per_kwh: f64,
        /// Value of one metric unit.
        eur_per_metric_unit: f64,
    },
}

impl Tau {
    /// Check the numbers: finite, τ ≥ 0, a metric unit's value > 0.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let bad = |name: &str, v: f64, expected: &str| PolicyError::InvalidSetting {
            name: name.to_string(),
            value: v.to_string(),
            expected: expected.to_string(),
        };
        match *self {
            Tau::PerKwh(v) if !(v.is_finite() && v >= 0.0) => {
                Err(bad("tau", v, "a finite number ≥ 0 of metric units per kWh"))
            }
            Tau::Relative(v) if !(v.is_finite() && v >= 0.0) => Err(bad(
                "tau_relative",
                v,
                "a finite fraction ≥ 0 (gain share per energy share)",
            )),
            Tau::Price {
                eur_per_kwh,
                eur_per_metric_unit,
            } => {
                if !(eur_per_kwh.is_finite() && eur_per_kwh >= 0.0) {
                    Err(bad("eur_per_kwh", eur_per_kwh, "a finite price ≥ 0"))
                } else if !(eur_per_metric_unit.is_finite() && eur_per_metric_unit > 0.0) {
                    Err(bad(
                        "eur_per_metric_unit",
                        eur_per_metric_unit,
                        "a finite value > 0",
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// τ in metric units per kWh when it does not depend on the run (`PerKwh`, `Price`);
    /// `None` for `Relative`, which resolves at each check.
    ///
    /// ```
    /// use snuffer_policy::Tau;
    /// assert_eq!(Tau::PerKwh(0.5).fixed_per_kwh(), Some(0.5));
    /// assert_eq!(Tau::Price { eur_per_kwh: 0.3, eur_per_metric_unit: 60.0 }.fixed_per_kwh(), Some(0.005));
    /// assert_eq!(Tau::Relative(0.1).fixed_per_kwh(), None);
    /// ```
    pub fn fixed_per_kwh(&self) -> Option<f64> {
        match self {
            Tau::Relative(_) => None,
            fixed => Some(fixed.per_kwh(0.0, 1.0)),
        }
    }

    /// τ in metric units per kWh, given the gain and energy so far (used by `Relative` only).
    ///
    /// ```
    /// use snuffer_policy::Tau;
    /// assert_eq!(Tau::PerKwh(0.5).per_kwh(0.0, 1.0), 0.5);
    /// assert_eq!(Tau::Relative(0.1).per_kwh(0.3, 2.0), 0.1 * 0.3 / 2.0);
    /// assert_eq!(Tau::Price { eur_per_kwh: 0.3, eur_per_metric_unit: 60.0 }.per_kwh(0.0, 1.0), 0.005);
    /// ```
    pub fn per_kwh(&self, gain_so_far: f64, energy_so_far_kwh: f64) -> f64 {
        match *self {
            Tau::PerKwh(v) => v,
            Tau::Relative(r) => {
                if energy_so_far_kwh > 0.0 {
                    r * gain_so_far.max(0.0) / energy_so_far_kwh
                } else {
                    // No energy spent yet: nothing is "not worth it".
                    0.0
                }
            }
            Tau::Price {
                eur_per_kwh,
                eur_per_metric_unit,
            } => eur_per_kwh / eur_per_metric_unit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_table() {
        let rows: &[(Tau, bool, &str)] = &[
            (Tau::PerKwh(0.5), true, "plain"),
            (Tau::PerKwh(0.0), true, "zero never stops on gain"),
            (Tau::PerKwh(-1.0), false, "negative"),
            (Tau::PerKwh(f64::NAN), false, "nan"),
            (Tau::Relative(0.1), true, "relative"),
            (Tau::Relative(f64::INFINITY), false, "infinite relative"),
            (
                Tau::Price {
                    eur_per_kwh: 0.3,
                    eur_per_metric_unit: 0.0,
                },
                false,
                "worthless metric",
            ),
            (
                Tau::Price {
                    eur_per_kwh: 0.3,
                    eur_per_metric_unit: 10.0,
                },
                true,
                "price",
            ),
        ];
        for (tau, ok, why) in rows {
            assert_eq!(tau.validate().is_ok(), *ok, "{why}");
        }
    }

    #[test]
    fn relative_tau_without_energy_is_zero() {
        assert_eq!(Tau::Relative(0.5).per_kwh(1.0, 0.0), 0.0);
    }
}
