//! [`Budget`]: stop when the run has spent its energy, carbon or time budget, and warn in
//! advance when the forecast energy to finish the plan exceeds the energy budget.

use crate::{
    BudgetEvidence, BudgetLimit, Decision, Evidence, Observation, PolicyError, StopPolicy,
    StopReason, Warning,
};
use snuffer_energy::Joules;
use std::time::Duration;

/// Limits of a run; any that is set can stop it.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    energy: Option<Joules>,
    co2e_g: Option<(f64, f64)>,
    wall: Option<Duration>,
    warned: bool,
    warnings: Vec<Warning>,
}

impl Budget {
    /// No limits yet (never stops); add them with the `with_*` methods.
    pub fn new() -> Self {
        Budget {
            energy: None,
            co2e_g: None,
            wall: None,
            warned: false,
            warnings: Vec::new(),
        }
    }

    /// Energy limit.
    pub fn with_energy(mut self, limit: Joules) -> Result<Self, PolicyError> {
        check("energy_budget_j", limit.0)?;
        self.energy = Some(limit);
        Ok(self)
    }

    /// Energy limit in kWh.
    pub fn with_kwh(self, kwh: f64) -> Result<Self, PolicyError> {
        self.with_energy(Joules::from_kwh(kwh))
    }

    /// Carbon limit in grams CO2e, with the grid intensity (gCO2e/kWh) the caller supplies.
    pub fn with_co2e_grams(
        mut self,
        grams: f64,
        intensity_g_per_kwh: f64,
    ) -> Result<Self, PolicyError> {
        check("co2e_budget_g", grams)?;
        check("intensity_g_per_kwh", intensity_g_per_kwh)?;
        self.co2e_g = Some((grams, intensity_g_per_kwh));
        Ok(self)
    }

    /// Wall-time limit.
    pub fn with_wall_time(mut self, limit: Duration) -> Self {
        self.wall = Some(limit);
        self
    }

    /// The tightest energy limit (the energy limit, or the carbon limit converted).
    fn energy_limit(&self) -> Option<Joules> {
        let from_co2 = self
            .co2e_g
            .and_then(|(g, i)| (i > 0.0).then(|| Joules::from_kwh(g / i)));
        match (self.energy, from_co2) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new()
    }
}

fn check(name: &str, v: f64) -> Result<(), PolicyError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(PolicyError::InvalidSetting {
            name: name.into(),
            value: v.to_string(),
            expected: "a finite number ≥ 0".into(),
        })
    }
}

impl StopPolicy for Budget {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        let step = obs.step as f64;
        let evidence = |limit| {
            Evidence::Budget(BudgetEvidence {
                step: obs.step,
                limit,
            })
        };
        if let Some(limit) = self.energy {
            if obs.energy.0 >= limit.0 {
                return Decision::Stop(StopReason::new(
                    format!(
                        "energy {} reached the budget of {limit} at step {}",
                        obs.energy, obs.step
                    ),
                    evidence(BudgetLimit::Energy {
                        used_j: obs.energy.0,
                        budget_j: limit.0,
                    }),
                ));
            }
        }
        if let Some((grams, intensity)) = self.co2e_g {
            let used = obs.energy.kwh() * intensity;
            if used >= grams {
                return Decision::Stop(StopReason::new(
                    format!(
                        "emissions {used:.1} gCO2e (at {intensity} g/kWh) reached the budget of {grams} g at step {}",
                        obs.step
                    ),
                    evidence(BudgetLimit::Carbon {
                        used_g: used,
                        budget_g: grams,
                        intensity_g_per_kwh: intensity,
                    }),
                ));
            }
        }
        if let Some(wall) = self.wall {
            if obs.elapsed >= wall {
                return Decision::Stop(StopReason::new(
                    format!(
                        "wall time {:.0} s reached the budget of {:.0} s at step {}",
                        obs.elapsed.as_secs_f64(),
                        wall.as_secs_f64(),
                        obs.step
                    ),
                    evidence(BudgetLimit::WallTime {
                        elapsed_s: obs.elapsed.as_secs_f64(),
                        budget_s: wall.as_secs_f64(),
                    }),
                ));
            }
        }
        // Advance warning: energy to finish the plan at the mean energy per step so far.
        if let (false, Some(limit), Some(planned)) =
            (self.warned, self.energy_limit(), obs.planned_steps)
        {
            if obs.step > 0 && planned > obs.step {
                let per_step = obs.energy.0 / step;
                let projected = obs.energy.0 + per_step * (planned - obs.step) as f64;
                if projected > limit.0 {
                    self.warned = true;
                    let evidence = evidence(BudgetLimit::EnergyToFinish {
                        projected_j: projected,
                        budget_j: limit.0,
                        planned_steps: planned,
                    });
                    self.warnings.push(Warning {
                        policy: "budget".into(),
                        message: format!(
                            "at step {} the forecast energy to finish the plan ({planned} steps) is {}, above the budget of {limit}",
                            obs.step,
                            Joules(projected)
                        ),
                        evidence,
                    });
                }
            }
        }
        Decision::Continue
    }

    fn name(&self) -> &str {
        "budget"
    }

    fn reset(&mut self) {
        self.warned = false;
        self.warnings.clear();
    }

    fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{obs, stop_index};
    use snuffer_forecast::Direction::HigherIsBetter as Up;

    #[test]
    fn budget_table() {
        // stop_index spends 1 kWh per step, `elapsed` = step seconds.
        let rows: &[(&str, Budget, Option<usize>)] = &[
            ("no limits", Budget::new(), None),
            ("energy", Budget::new().with_kwh(3.0).unwrap(), Some(2)),
            (
                "carbon at 500 g/kWh",
                Budget::new().with_co2e_grams(1000.0, 500.0).unwrap(),
                Some(1),
            ),
            (
                "wall time",
                Budget::new().with_wall_time(Duration::from_secs(4)),
                Some(3),
            ),
        ];
        for (why, b, want) in rows {
            let mut p = b.clone();
            assert_eq!(stop_index(&mut p, &[0.5; 10], Up), *want, "{why}");
        }
        assert!(Budget::new().with_kwh(-1.0).is_err());
        assert!(Budget::new().with_co2e_grams(1.0, f64::NAN).is_err());
    }

    #[test]
    fn warns_once_when_the_plan_will_not_fit() {
        let mut b = Budget::new().with_kwh(50.0).unwrap();
        // 1 kWh per step, 100 planned steps: 100 kWh projected at step 1.
        assert!(!b.observe(&obs(1, 0.1, 1.0, 100, Up)).is_stop());
        let w = b.take_warnings();
        assert_eq!(w.len(), 1, "one warning");
        assert!(
            w[0].message.contains("above the budget"),
            "{}",
            w[0].message
        );
        let Evidence::Budget(BudgetEvidence {
            step: 1,
            limit:
                BudgetLimit::EnergyToFinish {
                    projected_j,
                    budget_j,
                    planned_steps: 100,
                },
        }) = w[0].evidence
        else {
            panic!("{:?}", w[0].evidence);
        };
        assert!(projected_j > budget_j);
        assert!(!b.observe(&obs(2, 0.1, 2.0, 100, Up)).is_stop());
        assert!(b.take_warnings().is_empty(), "warned only once");
        // A plan that fits never warns.
        let mut ok = Budget::new().with_kwh(500.0).unwrap();
        ok.observe(&obs(1, 0.1, 1.0, 100, Up));
        assert!(ok.take_warnings().is_empty());
    }
}
