//! The evaluated points of a run as a policy sees them, oriented so that higher is better.

use snuffer_energy::StepEnergy;
use snuffer_forecast::Direction;

/// One evaluation: step, cumulative energy (J) and oriented metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub step: f64,
    pub energy_j: f64,
    pub value: f64,
}

/// Finite evaluations seen so far, and their best; the energy at every evaluation.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    pub points: Vec<Point>,
    pub best: Option<f64>,
    /// Energy at every evaluation (finite metric or not): the one estimate of energy per
    /// step the run tracker uses too.
    pub energy: StepEnergy,
}

impl History {
    /// Record one finite evaluation (non-finite values are ignored: the divergence rule
    /// deals with them, and they must not poison the best).
    pub fn push(&mut self, step: f64, energy_j: f64, value: f64, direction: Direction) {
        self.energy.push(step, energy_j);
        let v = direction.orient(value);
        if !v.is_finite() {
            return;
        }
        self.best = Some(self.best.map_or(v, |b| b.max(v)));
        self.points.push(Point {
            step,
            energy_j,
            value: v,
        });
    }

    /// First finite oriented value.
    pub fn first(&self) -> Option<f64> {
        self.points.first().map(|p| p.value)
    }

    /// Energy per step ([`StepEnergy::per_step_at`]: over the later half of the run so far);
    /// `None` when no step has been made.
    pub fn joules_per_step(&self, step: f64, energy_j: f64) -> Option<f64> {
        self.energy.per_step_at(step, energy_j)
    }

    /// Robust noise level: the median absolute difference of successive values, scaled to a
    /// standard deviation (a trend adds to it, which only makes the test below stricter).
    pub fn noise_sd(&self) -> f64 {
        let mut d: Vec<f64> = self
            .points
            .windows(2)
            .map(|w| (w[1].value - w[0].value).abs())
            .collect();
        if d.is_empty() {
            return 0.0;
        }
        d.sort_by(f64::total_cmp);
        1.4826 * d[d.len() / 2] / std::f64::consts::SQRT_2
    }

    /// Whether the run has shown learning: its best beats its first value by more than
    /// `k` noise levels.
    pub fn has_learned(&self, k: f64) -> bool {
        match (self.best, self.first()) {
            (Some(b), Some(f)) => {
                let margin = (k * self.noise_sd()).max(1e-9 * (1.0 + f.abs()));
                b - f > margin
            }
            _ => false,
        }
    }

    pub fn clear(&mut self) {
        self.points.clear();
        self.best = None;
        self.energy.clear();
    }
}
