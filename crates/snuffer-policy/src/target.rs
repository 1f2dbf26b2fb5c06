//! [`Target`]: stop once the metric reaches a value (MLPerf-style time-to-quality).

use crate::{Decision, Observation, PolicyError, StopPolicy, StopReason};

/// Stops at the first evaluation that reaches `target` in the metric's good direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    target: f64,
}

impl Target {
    /// Stop once the metric is at least as good as `target` (own units).
    pub fn new(target: f64) -> Result<Self, PolicyError> {
        if !target.is_finite() {
            return Err(PolicyError::InvalidSetting {
                name: "target".into(),
                value: target.to_string(),
                expected: "a finite metric value".into(),
            });
        }
        Ok(Target { target })
    }

    /// The target value.
    pub fn target(&self) -> f64 {
        self.target
    }
}

impl StopPolicy for Target {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        match obs.metric {
            Some(m)
                if m.is_finite()
                    && obs.direction.orient(m) >= obs.direction.orient(self.target) =>
            {
                Decision::Stop(StopReason::new(
                    "target",
                    format!(
                        "the metric reached {m} at step {}, target {}",
                        obs.step, self.target
                    ),
                    &[
                        ("step", obs.step as f64),
                        ("metric", m),
                        ("target", self.target),
                    ],
                ))
            }
            _ => Decision::Continue,
        }
    }

    fn name(&self) -> &str {
        "target"
    }
}
