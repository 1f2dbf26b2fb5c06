//! Sweeps: what the earlier runs of a sweep recorded, and what it says about the run in
//! front of the policy.
//!
//! A sweep is a set of runs of the same task and metric (a hyperparameter search, seeds, a
//! benchmark comparison), run one after another or side by side. Its owner keeps the best
//! run, so a run is worth continuing only for what it may add *beyond the sweep's best so
//! far* (the incumbent), against the energy that costs. [`SweepReferences`] holds the earlier
//! runs exactly as far as they were recorded: a run stopped at step `s` is known up to `s`,
//! never beyond.
//!
//! [`SweepReferences::outlook`] turns them into a forecast of the current run's final best:
//! the earlier runs whose best-so-far curve (aligned by the share of the planned energy)
//! was closest to this run's are its references, and what each of them gained from the same
//! share to the end of what is known of it is a sample of what this run may gain. With
//! `K` references the forecast is a Student-t with `K − 1` degrees of freedom around the
//! mean gain (scale: their spread, inflated for the small sample, and this run's noise),
//! so few references mean fat tails: the rule is cautious until the sweep has evidence.
//!
//! ```
//! use snuffer_policy::{ReferenceRun, SweepReferences};
//!
//! // Three earlier runs of a sweep that all plateaued at 0.6 to 0.7 by the middle.
//! let mut refs = SweepReferences::new();
//! for top in [0.6, 0.65, 0.7] {
//!     let shares: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
//!     let best: Vec<f64> = shares.iter().map(|s| top * (s / 0.5).min(1.0)).collect();
//!     refs.push(ReferenceRun::new(shares, best)?);
//! }
//! assert!((refs.incumbent().unwrap() - 0.7).abs() < 1e-12);
//! // A run at 0.2 by 30 % of its plan, where the references were at 0.36 to 0.42.
//! let shares = [0.1, 0.2, 0.3];
//! let best = [0.1, 0.15, 0.2];
//! let outlook = refs.outlook(&shares, &best, 0.01, 3).expect("enough references");
//! // Its references gained about 0.3 from here: it may reach 0.5, far below the incumbent.
//! assert!(outlook.expected_excess(0.7) < 0.01);
//! # Ok::<(), snuffer_policy::PolicyError>(())
//! ```

use crate::{PolicyError, RuleTuning};
use statrs::distribution::{Continuous, ContinuousCDF, StudentsT};

/// One earlier run of a sweep, as far as it was recorded: its best-so-far (oriented so that
/// higher is better) at each share of its planned energy (or steps).
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceRun {
    shares: Vec<f64>,
    best: Vec<f64>,
}

impl ReferenceRun {
    /// A reference from shares of the plan (0–1, increasing) and the best-so-far at each
    /// (oriented: higher is better; non-decreasing). Non-finite values are an error.
    pub fn new(shares: Vec<f64>, best: Vec<f64>) -> Result<Self, PolicyError> {
        let bad = |why: String| {
            Err(PolicyError::InvalidSetting {
                name: "reference run".into(),
                value: why,
                expected: "increasing finite shares of the plan with one finite best-so-far each"
                    .into(),
            })
        };
        if shares.is_empty() || shares.len() != best.len() {
            return bad(format!("{} shares, {} values", shares.len(), best.len()));
        }
        if shares.iter().chain(&best).any(|v| !v.is_finite()) {
            return bad("a non-finite number".into());
        }
        if shares.windows(2).any(|w| w[1] < w[0]) {
            return bad("shares that go backwards".into());
        }
        // Best-so-far by construction, whatever the caller passed.
        let mut running = f64::NEG_INFINITY;
        let best = best
            .into_iter()
            .map(|v| {
                running = running.max(v);
                running
            })
            .collect();
        Ok(ReferenceRun { shares, best })
    }

    /// A reference from a recorded curve: shares of the plan and the raw oriented metric
    /// (non-finite values count as the worst finite value so far, as the scorers do).
    /// `None` when no value is finite.
    pub fn from_values(shares: &[f64], oriented: &[f64]) -> Option<Self> {
        let n = shares.len().min(oriented.len());
        let worst = oriented[..n]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::min)?;
        let mut s = Vec::with_capacity(n);
        let mut b = Vec::with_capacity(n);
        let mut running = f64::NEG_INFINITY;
        for i in 0..n {
            let share = shares[i];
            if !share.is_finite() || s.last().is_some_and(|&l| share < l) {
                continue;
            }
            let v = if oriented[i].is_finite() {
                oriented[i]
            } else {
                worst
            };
            running = running.max(v);
            s.push(share);
            b.push(running);
        }
        ReferenceRun::new(s, b).ok()
    }

    /// Share of the plan up to which the run is known.
    pub fn known(&self) -> f64 {
        self.shares.last().copied().unwrap_or(0.0)
    }

    /// Best-so-far at the end of what is known.
    pub fn final_best(&self) -> f64 {
        self.best.last().copied().unwrap_or(f64::NEG_INFINITY)
    }

    /// First recorded value.
    pub fn first(&self) -> f64 {
        self.best.first().copied().unwrap_or(f64::NEG_INFINITY)
    }

    /// Best-so-far at `share` (the last point at or before it; the first point before the
    /// curve starts); `None` beyond what is known.
    pub fn best_at(&self, share: f64) -> Option<f64> {
        if share > self.known() + 1e-12 {
            return None;
        }
        let i = self.shares.partition_point(|&s| s <= share + 1e-12);
        Some(self.best[i.saturating_sub(1)])
    }
}

/// The earlier runs of a sweep (see the module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepReferences {
    runs: Vec<ReferenceRun>,
}

/// What the earlier runs of a sweep say about the current one's final best (oriented).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outlook {
    /// The current run's best so far.
    pub best: f64,
    /// Mean gain of its references from the current share to the end of what is known.
    pub mean_gain: f64,
    /// Scale of the Student-t around `best + mean_gain`.
    pub scale: f64,
    /// Number of references (degrees of freedom + 1).
    pub references: usize,
}

impl Outlook {
    /// `E[(final − threshold)⁺]`: the expected amount by which the run's final best exceeds
    /// `threshold` (oriented).
    pub fn expected_excess(&self, threshold: f64) -> f64 {
        let mu = self.best + self.mean_gain;
        let s = self.scale;
        if !(mu.is_finite() && threshold.is_finite()) {
            return 0.0;
        }
        if s <= 0.0 || !s.is_finite() {
            return (mu - threshold).max(0.0);
        }
        // Fewer than 3 references would leave an infinite mean; 1.5 degrees of freedom at
        // least keeps the tail fat but finite (an engineering bound, not fitted).
        let nu = (self.references as f64 - 1.0).max(1.5);
        let Ok(t) = StudentsT::new(0.0, 1.0, nu) else {
            return (mu - threshold).max(0.0);
        };
        let z = (mu - threshold) / s;
        // E[(μ + sT − b)⁺] = s·((ν + z²)/(ν − 1))·f(z) + (μ − b)·F(z).
        let v = s * ((nu + z * z) / (nu - 1.0)) * t.pdf(z) + (mu - threshold) * t.cdf(z);
        if v.is_finite() {
            v.max(0.0)
        } else {
            0.0
        }
    }
}

impl SweepReferences {
    /// No earlier runs.
    pub fn new() -> Self {
        SweepReferences::default()
    }

    /// Add an earlier run.
    pub fn push(&mut self, run: ReferenceRun) {
        self.runs.push(run);
    }

    /// Number of earlier runs.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// True without earlier runs.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The earlier runs.
    pub fn runs(&self) -> &[ReferenceRun] {
        &self.runs
    }

    /// The sweep's best so far (oriented): the highest best-so-far any earlier run reached in
    /// what was recorded of it.
    pub fn incumbent(&self) -> Option<f64> {
        self.runs
            .iter()
            .map(ReferenceRun::final_best)
            .filter(|v| v.is_finite())
            .reduce(f64::max)
    }

    /// Improvement of the run that holds the incumbent (its best minus its first value): the
    /// scale of what "a little worse than the best" means in this sweep.
    pub fn incumbent_improvement(&self) -> Option<f64> {
        self.runs
            .iter()
            .filter(|r| r.final_best().is_finite())
            .max_by(|a, b| a.final_best().total_cmp(&b.final_best()))
            .map(|r| (r.final_best() - r.first()).max(0.0))
    }

    /// The outlook of a run whose best-so-far is `best[i]` at plan share `shares[i]` (the
    /// last entry is now), from its `k` nearest references among the earlier runs known at
    /// least as far as it has gone; `noise` is the run's own observation noise. `None` with
    /// fewer than `min_references` such runs. Curves are compared at the default
    /// [`RuleTuning::prefix_shares`] of the current share.
    pub fn outlook(
        &self,
        shares: &[f64],
        best: &[f64],
        noise: f64,
        min_references: usize,
    ) -> Option<Outlook> {
        self.outlook_compared_at(
            shares,
            best,
            noise,
            min_references,
            &RuleTuning::DEFAULT.prefix_shares,
        )
    }

    /// [`Self::outlook`] with the curves compared at `prefix_shares` of the current share
    /// (the root mean square of the differences of the best-so-far there): the `k` nearest
    /// are the `⌈√n⌉` closest of the `n` candidates, at least `min_references` (and at
    /// least 2, so a spread can be estimated).
    pub fn outlook_compared_at(
        &self,
        shares: &[f64],
        best: &[f64],
        noise: f64,
        min_references: usize,
        prefix_shares: &[f64],
    ) -> Option<Outlook> {
        let (&now, &b_now) = (shares.last()?, best.last()?);
        if !(now.is_finite() && b_now.is_finite()) {
            return None;
        }
        let own_at = |q: f64| -> f64 {
            let i = shares.partition_point(|&s| s <= q + 1e-12);
            best[i.saturating_sub(1)]
        };
        let mut cands: Vec<(f64, f64)> = self
            .runs
            .iter()
            .filter_map(|r| {
                let at_now = r.best_at(now)?;
                let mut d2 = 0.0;
                for &q in prefix_shares {
                    let theirs = r.best_at(q * now)?;
                    d2 += (theirs - own_at(q * now)).powi(2);
                }
                let dist = (d2 / prefix_shares.len() as f64).sqrt();
                let gain = r.final_best() - at_now;
                (dist.is_finite() && gain.is_finite()).then_some((dist, gain))
            })
            .collect();
        let min_references = min_references.max(2);
        if cands.len() < min_references {
            return None;
        }
        cands.sort_by(|a, b| a.0.total_cmp(&b.0));
        let k = ((cands.len() as f64).sqrt().ceil() as usize)
            .max(min_references)
            .min(cands.len());
        let gains: Vec<f64> = cands[..k].iter().map(|c| c.1).collect();
        let kf = k as f64;
        let mean = gains.iter().sum::<f64>() / kf;
        let var = gains.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (kf - 1.0);
        // The references' spread, inflated for predicting one more draw, and this run's own
        // noise (twice: its best so far and its final best are both noisy).
        let noise = if noise.is_finite() { noise } else { 0.0 };
        let scale = (var * (1.0 + 1.0 / kf) + 2.0 * noise * noise).sqrt();
        Some(Outlook {
            best: b_now,
            mean_gain: mean,
            scale,
            references: k,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_known_only_as_far_as_recorded() {
        let r = ReferenceRun::new(vec![0.1, 0.2, 0.5], vec![0.3, 0.2, 0.6]).unwrap();
        assert_eq!(r.best_at(0.15), Some(0.3));
        assert_eq!(r.best_at(0.3), Some(0.3), "best so far, not the raw value");
        assert_eq!(r.best_at(0.5), Some(0.6));
        assert_eq!(r.best_at(0.6), None, "never beyond the stop");
        assert!(ReferenceRun::new(vec![0.2, 0.1], vec![0.0, 0.0]).is_err());
        assert!(ReferenceRun::new(vec![0.2], vec![f64::NAN]).is_err());
    }

    #[test]
    fn expected_excess_of_the_t_matches_integration() {
        let o = Outlook {
            best: 0.5,
            mean_gain: 0.1,
            scale: 0.05,
            references: 4,
        };
        let t = StudentsT::new(0.0, 1.0, 3.0).unwrap();
        for b in [0.4, 0.6, 0.7] {
            let n = 200_000;
            let num: f64 = (0..n)
                .map(|i| {
                    let q = (i as f64 + 0.5) / n as f64;
                    (0.6 + 0.05 * t.inverse_cdf(q) - b).max(0.0)
                })
                .sum::<f64>()
                / n as f64;
            assert!((num - o.expected_excess(b)).abs() < 1e-3, "{b}: {num}");
        }
    }

    #[test]
    fn few_references_mean_a_cautious_outlook() {
        let mk = |tops: &[f64]| {
            let mut refs = SweepReferences::new();
            for &top in tops {
                let s: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
                let b: Vec<f64> = s.iter().map(|x| top * x).collect();
                refs.push(ReferenceRun::new(s, b).unwrap());
            }
            refs
        };
        let few = mk(&[0.5, 0.52, 0.54]);
        let many = mk(&[
            0.5, 0.52, 0.54, 0.5, 0.52, 0.54, 0.5, 0.52, 0.54, 0.51, 0.53,
        ]);
        let (s, b) = ([0.1, 0.2], [0.05, 0.1]);
        let o_few = few.outlook(&s, &b, 0.0, 3).unwrap();
        let o_many = many.outlook(&s, &b, 0.0, 3).unwrap();
        assert!(o_few.expected_excess(0.6) > o_many.expected_excess(0.6));
        assert!(few.outlook(&s, &b, 0.0, 4).is_none(), "too few references");
    }
}
