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
impl fmt::Display for Joules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.abs() >= 3.6e5 {
            write!(f, "{:.4} kWh", self.kwh())
        } else if self.0.abs() >= 1e3 {
            write!(f, "{:.2} kJ", self.0 / 1e3)
        } else {
            write!(f, "{:.2} J", self.0)
        }
    }
}
impl fmt::Display for Watts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} W", self.0)
    }
}
