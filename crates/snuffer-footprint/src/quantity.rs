//! Typed quantities (mass of CO2e, volume of water, intensities) and figures
//! with a standard uncertainty.
//!
//! Uncertainties are one standard deviation in the figure's own unit. They are
//! propagated to first order assuming independent inputs: relative
//! uncertainties add in quadrature through products, absolute ones through
//! sums.

use serde::{Deserialize, Serialize};
use snuffer_energy::Joules;
use std::fmt;
use std::ops::{Add, Sub};

/// A mass of CO2-equivalent, in grams.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GramsCo2e(pub f64);

/// A volume of water, in litres.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Litres(pub f64);

/// A carbon intensity of electricity, in grams of CO2e per kWh.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GramsPerKwh(pub f64);

/// A water intensity of electricity, in litres per kWh.
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LitresPerKwh(pub f64);

impl GramsCo2e {
    /// Zero grams.
    pub const ZERO: GramsCo2e = GramsCo2e(0.0);

    /// The mass in kilograms.
    ///
    /// ```
    /// use snuffer_footprint::GramsCo2e;
    /// assert_eq!(GramsCo2e(1500.0).kg(), 1.5);
    /// ```
    pub fn kg(self) -> f64 {
        self.0 / 1e3
    }

    /// A mass from kilograms.
    pub fn from_kg(kg: f64) -> GramsCo2e {
        GramsCo2e(kg * 1e3)
    }
}

impl GramsPerKwh {
    /// Emissions of `energy` at this intensity.
    ///
    /// ```
    /// use snuffer_energy::Joules;
    /// use snuffer_footprint::{GramsCo2e, GramsPerKwh};
    /// // 2 kWh at 50 g/kWh = 100 g.
    /// assert_eq!(GramsPerKwh(50.0).emissions(Joules::from_kwh(2.0)), GramsCo2e(100.0));
    /// ```
    pub fn emissions(self, energy: Joules) -> GramsCo2e {
        GramsCo2e(self.0 * energy.kwh())
    }
}

impl LitresPerKwh {
    /// Water used by `energy` at this intensity.
    pub fn water(self, energy: Joules) -> Litres {
        Litres(self.0 * energy.kwh())
    }
}

impl Add for GramsCo2e {
    type Output = GramsCo2e;
    fn add(self, o: GramsCo2e) -> GramsCo2e {
        GramsCo2e(self.0 + o.0)
    }
}
impl Sub for GramsCo2e {
    type Output = GramsCo2e;
    fn sub(self, o: GramsCo2e) -> GramsCo2e {
        GramsCo2e(self.0 - o.0)
    }
}
impl Add for Litres {
    type Output = Litres;
    fn add(self, o: Litres) -> Litres {
        Litres(self.0 + o.0)
    }
}
impl Sub for Litres {
    type Output = Litres;
    fn sub(self, o: Litres) -> Litres {
        Litres(self.0 - o.0)
    }
}

/// Divisor and unit for a mass of CO2e of this size (grams).
fn co2e_scale(g: f64) -> (f64, &'static str) {
    if g.abs() >= 1e6 {
        (1e6, "t CO2e")
    } else if g.abs() >= 1e3 {
        (1e3, "kg CO2e")
    } else {
        (1.0, "g CO2e")
    }
}

/// Divisor and unit for a volume of water of this size (litres).
fn water_scale(l: f64) -> (f64, &'static str) {
    if l.abs() >= 1e3 {
        (1e3, "m³")
    } else {
        (1.0, "L")
    }
}

/// Three significant digits through the one number formatter
/// ([`snuffer_energy::significant`]): `672`, `1.23`, `2.50e294` (not 301 digits).
fn three(v: f64) -> String {
    snuffer_energy::significant(v, 3)
}

/// A value and its standard deviation in one unit: the value with three significant
/// digits, the sd to the same last decimal (`672 ± 101`, `2.46 ± 0.37`), and in scientific
/// notation when the value is (`2.50e294 ± 2.50e293`).
fn with_sd(v: f64, sd: f64) -> (String, String) {
    let value = three(v);
    if value.contains('e') || !sd.is_finite() {
        return (value, three(sd));
    }
    let decimals = value.split_once('.').map_or(0, |(_, d)| d.len());
    (value, format!("{sd:.decimals$}"))
}

impl fmt::Display for GramsCo2e {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, unit) = co2e_scale(self.0);
        write!(f, "{} {unit}", three(self.0 / k))
    }
}
impl fmt::Display for Litres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, unit) = water_scale(self.0);
        write!(f, "{} {unit}", three(self.0 / k))
    }
}
impl fmt::Display for GramsPerKwh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} g/kWh", three(self.0))
    }
}
impl fmt::Display for LitresPerKwh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} L/kWh", three(self.0))
    }
}

/// A mass of CO2e with its standard uncertainty.
///
/// Serialised as `{"co2e_g": …, "co2e_g_sd": …}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Co2e {
    /// Best estimate.
    #[serde(rename = "co2e_g")]
    pub value: GramsCo2e,
    /// One standard deviation.
    #[serde(rename = "co2e_g_sd")]
    pub sd: GramsCo2e,
}

/// A volume of water with its standard uncertainty.
///
/// Serialised as `{"water_l": …, "water_l_sd": …}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Water {
    /// Best estimate.
    #[serde(rename = "water_l")]
    pub value: Litres,
    /// One standard deviation.
    #[serde(rename = "water_l_sd")]
    pub sd: Litres,
}

impl Co2e {
    /// The relative uncertainty (sd / value; 0 for a zero value).
    pub fn rel_uncertainty(&self) -> f64 {
        Estimate::new(self.value.0, self.sd.0).rel()
    }
    pub(crate) fn from_estimate(e: Estimate) -> Co2e {
        Co2e {
            value: GramsCo2e(e.value),
            sd: GramsCo2e(e.sd),
        }
    }
    pub(crate) fn estimate(&self) -> Estimate {
        Estimate::new(self.value.0, self.sd.0)
    }
}

impl Water {
    /// The relative uncertainty (sd / value; 0 for a zero value).
    pub fn rel_uncertainty(&self) -> f64 {
        Estimate::new(self.value.0, self.sd.0).rel()
    }
    pub(crate) fn from_estimate(e: Estimate) -> Water {
        Water {
            value: Litres(e.value),
            sd: Litres(e.sd),
        }
    }
}

/// Value and sd in the value's unit: `2.464 ± 0.370 kg CO2e`.
impl fmt::Display for Co2e {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, unit) = co2e_scale(self.value.0);
        let (v, sd) = with_sd(self.value.0 / k, self.sd.0 / k);
        write!(f, "{v} ± {sd} {unit}")
    }
}
/// Value and sd in the value's unit: `8.000 ± 2.400 L`.
impl fmt::Display for Water {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (k, unit) = water_scale(self.value.0);
        let (v, sd) = with_sd(self.value.0 / k, self.sd.0 / k);
        write!(f, "{v} ± {sd} {unit}")
    }
}

/// An untyped value with an absolute standard deviation, used inside the
/// crate to propagate uncertainty before the result is given its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Estimate {
    pub value: f64,
    pub sd: f64,
}

impl Estimate {
    pub fn new(value: f64, sd: f64) -> Estimate {
        Estimate {
            value,
            sd: sd.abs(),
        }
    }

    /// A value with a relative uncertainty.
    pub fn rel(self) -> f64 {
        if self.value == 0.0 {
            0.0
        } else {
            self.sd / self.value.abs()
        }
    }

    pub fn with_rel(value: f64, rel: f64) -> Estimate {
        Estimate::new(value, value.abs() * rel)
    }

    /// An exact value.
    pub fn exact(value: f64) -> Estimate {
        Estimate::new(value, 0.0)
    }

    /// Product of independent estimates: relative uncertainties add in quadrature.
    ///
    /// Written with absolute terms (a·σb, b·σa) so a zero factor stays exact
    /// instead of producing 0·∞.
    pub fn mul(self, o: Estimate) -> Estimate {
        let a = self.value * o.sd;
        let b = o.value * self.sd;
        Estimate::new(self.value * o.value, a.hypot(b))
    }

    /// Scale by an exact factor.
    pub fn scale(self, k: f64) -> Estimate {
        Estimate::new(self.value * k, self.sd * k.abs())
    }

    /// Sum of independent estimates: standard deviations add in quadrature.
    pub fn add(self, o: Estimate) -> Estimate {
        Estimate::new(self.value + o.value, self.sd.hypot(o.sd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kwh_times_intensity() {
        // 3.6 MJ = 1 kWh; 1 kWh at 400 g/kWh = 400 g.
        assert_eq!(
            GramsPerKwh(400.0).emissions(Joules(3.6e6)),
            GramsCo2e(400.0)
        );
        // 0.5 kWh at 1.8 L/kWh = 0.9 L.
        let w = LitresPerKwh(1.8).water(Joules::from_kwh(0.5));
        assert!((w.0 - 0.9).abs() < 1e-12);
    }

    #[test]
    fn propagation_by_hand() {
        // 10 ± 1 (10 %) times 20 ± 4 (20 %) = 200 with √(0.1² + 0.2²) = 22.36 %.
        let p = Estimate::new(10.0, 1.0).mul(Estimate::new(20.0, 4.0));
        assert_eq!(p.value, 200.0);
        assert!((p.sd - 200.0 * (0.01f64 + 0.04).sqrt()).abs() < 1e-9);
        // (3 ± 3) + (4 ± 4) = 7 ± 5.
        let s = Estimate::new(3.0, 3.0).add(Estimate::new(4.0, 4.0));
        assert_eq!((s.value, s.sd), (7.0, 5.0));
        // Zero times a big uncertainty stays exact.
        let z = Estimate::exact(0.0).mul(Estimate::new(5.0, 1e9));
        assert_eq!((z.value, z.sd), (0.0, 0.0));
    }

    #[test]
    fn display_picks_a_readable_unit() {
        assert_eq!(GramsCo2e(12.0).to_string(), "12.0 g CO2e");
        assert_eq!(GramsCo2e(1234.0).to_string(), "1.23 kg CO2e");
        assert_eq!(GramsCo2e(2.5e6).to_string(), "2.50 t CO2e");
        assert_eq!(Litres(0.25).to_string(), "0.250 L");
        // The one formatter: 672.000 ± 100.800 g read as 672 ± 101 g.
        let fr = Co2e {
            value: GramsCo2e(672.0),
            sd: GramsCo2e(100.8),
        };
        assert_eq!(fr.to_string(), "672 ± 101 g CO2e");
        let c = Co2e {
            value: GramsCo2e(2464.0),
            sd: GramsCo2e(369.6),
        };
        assert_eq!(c.to_string(), "2.46 ± 0.37 kg CO2e");
        let huge = Co2e {
            value: GramsCo2e(2.5e300),
            sd: GramsCo2e(2.5e299),
        };
        assert_eq!(huge.to_string(), "2.50e294 ± 2.50e293 t CO2e");
    }

    #[test]
    fn figures_serialise_with_unit_names() {
        let c = Co2e {
            value: GramsCo2e(5.0),
            sd: GramsCo2e(0.5),
        };
        let v = serde_json::to_value(c).unwrap();
        assert_eq!(v, serde_json::json!({"co2e_g": 5.0, "co2e_g_sd": 0.5}));
        assert!((c.rel_uncertainty() - 0.1).abs() < 1e-12);
    }
}
