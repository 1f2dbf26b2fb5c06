//! The synthetic prior: a generator of learning curves like real training produces, with the
//! share of each kind explicit ([`Mixture`]).
//!
//! A curve is made in three layers:
//!
//! 1. **Evaluations.** 5–300 of them (log-uniform), evenly spaced over the plan (70 %) or log
//!    spaced (30 %); each carries its share of the plan in `(0, 1]`, the last one at 1.
//! 2. **Quality.** A clean quality `q(s) ∈ [0, 1]` at share `s`, drawn from one [`Shape`]:
//!    LC-PFN's pow3 / ilog2 / janoschek mixture (parameter ranges of automl/lcpfn's "peaked"
//!    prior), curves that saturate then break upwards or diverge, learning-rate schedules
//!    (step decays whose jump follows a plateau, cosine with warm-up, warm restarts), a
//!    plateau before learning starts (sometimes it never starts), overfitting (improves,
//!    then degrades) and collapse (the metric turns NaN, sometimes after a blow-up).
//! 3. **Metric and noise.** Quality becomes an accuracy (higher is better, in `[0, 1]`), an
//!    error rate (lower is better, in `[0, 1]`) or a loss (lower is better, good bound 0),
//!    measured on a validation set of `n` examples, `n` log-uniform in 50–50 000: binomial
//!    noise for accuracy and error rate, multiplicative Student-t (3 degrees of freedom,
//!    heavier tails) noise for a loss.
//!
//! Every value is finite and within its metric's bounds, except the NaN suffix of a
//! collapsed curve (property-tested).
//!
//! ```
//! use snuffer_prior::generator::{Generator, Mixture};
//! use rand::SeedableRng;
//!
//! let generator = Generator::new(Mixture::default());
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let curve = generator.sample(&mut rng);
//! assert!(curve.shares.len() >= 5 && curve.shares.len() <= 300);
//! assert_eq!(*curve.shares.last().unwrap(), 1.0);
//! ```

use rand::Rng;
use rand_distr::{Binomial, Distribution, StudentT};
use snuffer_forecast::Direction;

/// The kind of a synthetic curve's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// LC-PFN's prior: a weighted sum of pow3, ilog2 and janoschek (weights uniform in
    /// `[0, 1]`, parameters from automl/lcpfn's "peaked" ranges), kept when it ends above its
    /// start and stays in `[0, 1]`.
    LcPfn,
    /// Saturates, then at a random share either breaks upwards (a second rise) or diverges
    /// (falls back, sometimes below its start).
    BreakOrDiverge,
    /// Step decays: 1–3 milestones, each followed by a fast jump of a share of the room left;
    /// the run plateaus before each.
    StepDecay,
    /// A cosine learning-rate schedule (with a warm-up half the time): progress follows the
    /// integral of the rate, and the noise floor drops as the rate anneals.
    Cosine,
    /// Warm restarts (SGDR): 2–4 cycles; each restart costs a dip, each cycle ends higher.
    Restarts,
    /// Flat at the first value until learning starts at a random share (a fifth of them never
    /// start).
    LateStart,
    /// Improves, then degrades past a peak (overfitting).
    Overfit,
    /// Learns, then collapses: the metric turns NaN from a random share on, half of the time
    /// after a short blow-up.
    Collapse,
}

impl Shape {
    /// Every shape, in the order [`Mixture::default`] lists them.
    pub const ALL: [Shape; 8] = [
        Shape::LcPfn,
        Shape::BreakOrDiverge,
        Shape::StepDecay,
        Shape::Cosine,
        Shape::Restarts,
        Shape::LateStart,
        Shape::Overfit,
        Shape::Collapse,
    ];
}

/// What the curve measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricKind {
    /// Higher is better, in `[0, 1]`, binomial noise.
    Accuracy,
    /// Lower is better, in `[0, 1]`, binomial noise.
    ErrorRate,
    /// Lower is better, good bound 0, multiplicative heavy-tailed noise.
    Loss,
}

impl MetricKind {
    /// Which way is better.
    pub fn direction(self) -> Direction {
        match self {
            MetricKind::Accuracy => Direction::HigherIsBetter,
            MetricKind::ErrorRate | MetricKind::Loss => Direction::LowerIsBetter,
        }
    }
    /// The metric's bounds `(lower, upper)`.
    pub fn bounds(self) -> (f64, f64) {
        match self {
            MetricKind::Accuracy | MetricKind::ErrorRate => (0.0, 1.0),
            MetricKind::Loss => (0.0, f64::INFINITY),
        }
    }
}

/// The share of each [`Shape`] and [`MetricKind`] in the prior, and of log-spaced
/// evaluations and known schedules. Weights need not sum to one (they are normalised).
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture {
    /// Weight of each shape.
    pub shapes: Vec<(Shape, f64)>,
    /// Weight of each metric kind.
    pub metrics: Vec<(MetricKind, f64)>,
    /// Share of runs whose evaluations are log spaced (the rest are even).
    pub log_spaced: f64,
    /// Share of scheduled runs (step decays, restarts) whose change points the model is told.
    pub schedule_known: f64,
    /// Share of [`Shape::LateStart`] curves that never start learning (0.2 by default).
    pub late_start_never: f64,
    /// Whether a late start's share is log-uniform in 3–70 % of the plan (the longer a run
    /// has been flat, the less likely it is to start next) instead of uniform in 5–70 %
    /// (the default).
    pub late_start_log: bool,
}

impl Default for Mixture {
    /// The first shipped prior's mixture (`v1`; the shipped one is now
    /// [`crate::SHIPPED_MIXTURE`]): LC-PFN 0.25, break-or-diverge 0.10, step decay 0.12,
    /// cosine 0.10, restarts 0.05, late start 0.12, overfit 0.16, collapse 0.10; accuracy
    /// 0.40, error rate 0.15, loss 0.45; 30 % log spaced; 60 % of schedules known. Chosen a
    /// priori (broad, every kind well represented), not fitted to any source.
    fn default() -> Self {
        Mixture {
            shapes: vec![
                (Shape::LcPfn, 0.25),
                (Shape::BreakOrDiverge, 0.10),
                (Shape::StepDecay, 0.12),
                (Shape::Cosine, 0.10),
                (Shape::Restarts, 0.05),
                (Shape::LateStart, 0.12),
                (Shape::Overfit, 0.16),
                (Shape::Collapse, 0.10),
            ],
            metrics: vec![
                (MetricKind::Accuracy, 0.40),
                (MetricKind::ErrorRate, 0.15),
                (MetricKind::Loss, 0.45),
            ],
            log_spaced: 0.3,
            schedule_known: 0.6,
            late_start_never: 0.2,
            late_start_log: false,
        }
    }
}

impl Mixture {
    /// The named mixtures `train_prior --mixture` offers: `v1` (the default), `anneal` (a
    /// third of the curves on a cosine schedule annealed to the planned end, whose gains
    /// come late, instead of a tenth), `stuck` (late starts with a falling hazard, 60 % of
    /// them never starting, and 0.18 of the mixture: runs a bad learning rate left at
    /// chance, as a random search has many of), `anneal-stuck` (both), and `progress`
    /// (fewer runs that end worse than they were: overfitting 0.07, collapse 0.04, cosine
    /// 0.30, step decays 0.14). The first four were written down before any was scored;
    /// `progress` after seeing that the `v1` prior's LC-PFN accuracy curves end below their
    /// best at 20 % of the plan in 53 % of cases where real curves do so in 0–36 % (see the
    /// model card). The one shipped is chosen leave-one-source-out.
    ///
    /// ```
    /// use snuffer_prior::generator::Mixture;
    /// assert_eq!(Mixture::named("v1"), Some(Mixture::default()));
    /// assert!(Mixture::named("anneal-stuck").is_some());
    /// assert!(Mixture::named("other").is_none());
    /// ```
    pub fn named(name: &str) -> Option<Mixture> {
        const ANNEAL: &[(Shape, f64)] = &[(Shape::Cosine, 0.33)];
        const STUCK: &[(Shape, f64)] = &[(Shape::LateStart, 0.18)];
        // Fewer runs that end worse than they were (overfitting 0.07, collapse 0.04), more
        // annealed to the planned end (cosine 0.30).
        const PROGRESS: &[(Shape, f64)] = &[
            (Shape::LcPfn, 0.20),
            (Shape::BreakOrDiverge, 0.08),
            (Shape::StepDecay, 0.14),
            (Shape::Cosine, 0.30),
            (Shape::Restarts, 0.05),
            (Shape::LateStart, 0.12),
            (Shape::Overfit, 0.07),
            (Shape::Collapse, 0.04),
        ];
        let (weights, stuck): (&[&[(Shape, f64)]], bool) = match name {
            "v1" => (&[], false),
            "anneal" => (&[ANNEAL], false),
            "stuck" => (&[STUCK], true),
            "anneal-stuck" => (&[ANNEAL, STUCK], true),
            "progress" => (&[PROGRESS], false),
            _ => return None,
        };
        let mut m = Mixture::default();
        for &(shape, w) in weights.iter().copied().flatten() {
            if let Some(e) = m.shapes.iter_mut().find(|e| e.0 == shape) {
                e.1 = w;
            }
        }
        if stuck {
            m.late_start_never = 0.6;
            m.late_start_log = true;
        }
        Some(m)
    }

    /// The names [`Mixture::named`] knows.
    pub const NAMES: [&'static str; 5] = ["v1", "anneal", "stuck", "anneal-stuck", "progress"];
}

/// One synthetic learning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticCurve {
    /// Share of the plan at each evaluation: increasing, in `(0, 1]`, the last one 1.
    pub shares: Vec<f64>,
    /// The measured metric (noise included; NaN after a collapse).
    pub values: Vec<f64>,
    /// The clean quality `q ∈ [0, 1]` behind each value (higher is better).
    pub quality: Vec<f64>,
    /// What the values measure.
    pub metric: MetricKind,
    /// The shape the curve was drawn from.
    pub shape: Shape,
    /// Shares at which the learning rate changes (step-decay milestones, restarts, the end of
    /// a warm-up), when the schedule has them.
    pub schedule: Vec<f64>,
    /// Whether the schedule is told to the model (a fixed scheduler known in advance).
    pub schedule_known: bool,
    /// Validation examples behind each value.
    pub val_examples: u32,
}

/// Draws [`SyntheticCurve`]s from a [`Mixture`].
#[derive(Debug, Clone)]
pub struct Generator {
    mixture: Mixture,
    shape_cdf: Vec<(Shape, f64)>,
    metric_cdf: Vec<(MetricKind, f64)>,
}

fn cdf<T: Copy>(weights: &[(T, f64)]) -> Vec<(T, f64)> {
    let total: f64 = weights.iter().map(|w| w.1.max(0.0)).sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|&(t, w)| {
            acc += w.max(0.0) / total.max(f64::MIN_POSITIVE);
            (t, acc)
        })
        .collect()
}

fn pick<T: Copy>(cdf: &[(T, f64)], u: f64) -> T {
    cdf.iter()
        .find(|(_, c)| u < *c)
        .or(cdf.last())
        .map(|(t, _)| *t)
        .unwrap_or_else(|| unreachable!("a mixture has at least one entry"))
}

fn log_uniform<R: Rng>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

fn lognormal<R: Rng>(rng: &mut R, mu: f64, sigma: f64) -> f64 {
    (mu + sigma * normal(rng)).exp()
}

/// A standard normal draw (Box–Muller).
fn normal<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn uniform<R: Rng>(rng: &mut R, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// A saturating rise from 0 to 1: `1 − exp(−(s/τ)^δ)` (Weibull / janoschek form).
fn rise(s: f64, tau: f64, delta: f64) -> f64 {
    if s <= 0.0 {
        0.0
    } else {
        1.0 - (-(s / tau).powf(delta)).exp()
    }
}

/// A random saturating base: start, end and rise parameters.
struct Base {
    q0: f64,
    q1: f64,
    tau: f64,
    delta: f64,
}

impl Base {
    fn draw<R: Rng>(rng: &mut R) -> Base {
        let q0 = uniform(rng, 0.0, 0.5);
        let q1 = uniform(rng, q0 + 0.05, 1.0);
        Base {
            q0,
            q1,
            tau: log_uniform(rng, 0.02, 1.0),
            delta: lognormal(rng, 0.0, 0.4),
        }
    }
    fn at(&self, s: f64) -> f64 {
        self.q0 + (self.q1 - self.q0) * rise(s, self.tau, self.delta)
    }
}

impl Generator {
    /// A generator for this mixture.
    pub fn new(mixture: Mixture) -> Generator {
        let shape_cdf = cdf(&mixture.shapes);
        let metric_cdf = cdf(&mixture.metrics);
        Generator {
            mixture,
            shape_cdf,
            metric_cdf,
        }
    }

    /// The mixture.
    pub fn mixture(&self) -> &Mixture {
        &self.mixture
    }

    /// Draws one curve.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> SyntheticCurve {
        let shape = pick(&self.shape_cdf, rng.random());
        self.sample_shape(rng, shape)
    }

    /// Draws one curve of the given shape.
    pub fn sample_shape<R: Rng>(&self, rng: &mut R, shape: Shape) -> SyntheticCurve {
        let metric = pick(&self.metric_cdf, rng.random());
        let n = log_uniform(rng, 5.0, 301.0).floor().clamp(5.0, 300.0) as usize;
        let shares = if rng.random::<f64>() < self.mixture.log_spaced {
            let first = log_uniform(rng, 0.002, 1.0 / n as f64);
            (0..n)
                .map(|i| (first.ln() * (1.0 - i as f64 / (n - 1) as f64)).exp())
                .collect::<Vec<f64>>()
        } else {
            (1..=n).map(|i| i as f64 / n as f64).collect()
        };
        let (quality, schedule, collapse_at) = self.quality(rng, shape, &shares);
        let val_examples = log_uniform(rng, 50.0, 50_000.0).round() as u32;
        let values = noisy_values(rng, metric, &quality, val_examples, collapse_at, &shares);
        let schedule_known =
            !schedule.is_empty() && rng.random::<f64>() < self.mixture.schedule_known;
        SyntheticCurve {
            shares,
            values,
            quality,
            metric,
            shape,
            schedule,
            schedule_known,
            val_examples,
        }
    }

    /// The clean quality at each share, the schedule's change points and the share from
    /// which the metric is NaN (collapse).
    fn quality<R: Rng>(
        &self,
        rng: &mut R,
        shape: Shape,
        shares: &[f64],
    ) -> (Vec<f64>, Vec<f64>, Option<f64>) {
        let mut schedule = Vec::new();
        let mut collapse = None;
        let q: Vec<f64> = match shape {
            Shape::LcPfn => return (lcpfn(rng, shares), schedule, None),
            Shape::BreakOrDiverge => {
                let base = Base::draw(rng);
                let at = uniform(rng, 0.2, 0.85);
                let width = log_uniform(rng, 0.005, 0.1);
                let up = rng.random::<f64>() < 0.5;
                let size = if up {
                    uniform(rng, 0.2, 0.8) * (1.0 - base.q1)
                } else {
                    -uniform(rng, 0.2, 1.2) * (base.q1 - base.q0)
                };
                shares
                    .iter()
                    .map(|&s| base.at(s) + size * rise(s - at, width, 1.0))
                    .collect()
            }
            Shape::StepDecay => {
                let base = Base::draw(rng);
                let k = 1 + (rng.random::<f64>() * 3.0) as usize;
                let mut ms: Vec<f64> = (0..k).map(|_| uniform(rng, 0.25, 0.9)).collect();
                ms.sort_by(f64::total_cmp);
                let mut room = 1.0 - base.q1;
                let mut jumps = Vec::new();
                for &m in &ms {
                    let j = uniform(rng, 0.2, 0.7) * room;
                    room -= j;
                    jumps.push((m, j, log_uniform(rng, 0.003, 0.05)));
                }
                schedule = ms;
                shares
                    .iter()
                    .map(|&s| {
                        base.at(s)
                            + jumps
                                .iter()
                                .map(|&(m, j, w)| j * rise(s - m, w, 1.0))
                                .sum::<f64>()
                    })
                    .collect()
            }
            Shape::Cosine => {
                let base = Base::draw(rng);
                let warm = if rng.random::<f64>() < 0.5 {
                    uniform(rng, 0.01, 0.1)
                } else {
                    0.0
                };
                if warm > 0.0 {
                    schedule.push(warm);
                }
                let anneal = uniform(rng, 0.0, 0.5) * (1.0 - base.q1);
                // Progress: the integral of the rate, normalised to 1 at the end.
                let progress = |s: f64| -> f64 {
                    let cos_int =
                        |t: f64| t + (std::f64::consts::PI * t).sin() / std::f64::consts::PI;
                    let warm_part = if warm > 0.0 {
                        0.5 * s.min(warm).powi(2) / warm
                    } else {
                        0.0
                    };
                    (warm_part + 0.5 * (cos_int(s) - cos_int(warm.min(s))).max(0.0))
                        / (0.5 * warm + 0.5 * (1.0 - cos_int(warm)))
                };
                shares
                    .iter()
                    .map(|&s| {
                        let lr = 0.5 * (1.0 + (std::f64::consts::PI * s).cos());
                        base.at(progress(s)) + anneal * (1.0 - lr) * rise(s, 0.3, 1.0)
                    })
                    .collect()
            }
            Shape::Restarts => {
                let base = Base::draw(rng);
                let cycles = 2 + (rng.random::<f64>() * 3.0) as usize;
                let dip = uniform(rng, 0.0, 0.4);
                let gain = uniform(rng, 0.1, 0.6) * (1.0 - base.q1);
                schedule = (1..cycles).map(|c| c as f64 / cycles as f64).collect();
                shares
                    .iter()
                    .map(|&s| {
                        let c = ((s * cycles as f64).floor() as usize).min(cycles - 1);
                        let t = s * cycles as f64 - c as f64;
                        let lr = 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
                        let level = base.at(s) + gain * c as f64 / cycles as f64;
                        let within = (base.at(s) - base.q0) * dip * lr * (c > 0) as u8 as f64;
                        level - within + gain / cycles as f64 * (1.0 - lr)
                    })
                    .collect()
            }
            Shape::LateStart => {
                let base = Base::draw(rng);
                let start = if rng.random::<f64>() < self.mixture.late_start_never {
                    2.0
                } else if self.mixture.late_start_log {
                    log_uniform(rng, 0.03, 0.7)
                } else {
                    uniform(rng, 0.05, 0.7)
                };
                shares.iter().map(|&s| base.at(s - start)).collect()
            }
            Shape::Overfit => {
                let base = Base::draw(rng);
                let peak = uniform(rng, 0.1, 0.7);
                let fall = uniform(rng, 0.05, 0.8) * (base.q1 - base.q0);
                let power = uniform(rng, 0.7, 2.0);
                shares
                    .iter()
                    .map(|&s| {
                        let past = ((s - peak) / (1.0 - peak)).max(0.0);
                        base.at(s) - fall * past.powf(power)
                    })
                    .collect()
            }
            Shape::Collapse => {
                let base = Base::draw(rng);
                let at = uniform(rng, 0.2, 0.95);
                let blow_up = rng.random::<f64>() < 0.5;
                let nan_from = if blow_up {
                    at + uniform(rng, 0.02, 0.1)
                } else {
                    at
                };
                collapse = Some(nan_from);
                shares
                    .iter()
                    .map(|&s| {
                        if blow_up && s >= at {
                            base.at(at) * (1.0 - ((s - at) / 0.05).min(1.0))
                        } else {
                            base.at(s)
                        }
                    })
                    .collect()
            }
        };
        (
            q.into_iter().map(|v| v.clamp(0.0, 1.0)).collect(),
            schedule,
            collapse,
        )
    }
}

/// LC-PFN's prior (automl/lcpfn, `domhan_prior.py` / `curves.py`, "peaked"): `Σ w_f f(x)`
/// over pow3, ilog2 and janoschek with `w_f ~ U(0, 1)`, at `x = 1 + 99·share` (LC-PFN's
/// 100-epoch axis), redrawn until it ends above its start and stays within `[0, 1]` (on the
/// 100-point grid and the evaluations). After 200 rejected draws a plain pow3 rise is used.
fn lcpfn<R: Rng>(rng: &mut R, shares: &[f64]) -> Vec<f64> {
    let grid: Vec<f64> = (1..=100).map(f64::from).collect();
    let xs: Vec<f64> = shares.iter().map(|s| 1.0 + 99.0 * s).collect();
    for _ in 0..200 {
        let (w1, w2, w3) = (
            rng.random::<f64>(),
            rng.random::<f64>(),
            rng.random::<f64>(),
        );
        // pow3: c − a·x^−α, a ~ U(−0.6, 0.6), c ~ U(0, 1.25), α ~ LogN(0, 2).
        let (pa, pc, palpha) = (
            uniform(rng, -0.6, 0.6),
            uniform(rng, 0.0, 1.25),
            lognormal(rng, 0.0, 2.0),
        );
        // ilog2: c − a / ln(x + 1), c ~ U(0, 1), a ~ U(−0.5, 0.5).
        let (ic, ia) = (uniform(rng, 0.0, 1.0), uniform(rng, -0.5, 0.5));
        // janoschek: a − (a − β)·exp(−k·x^δ), a ~ U(0, 1), β ~ U(0, 2), k ~ LogN(−2, 1),
        // δ ~ LogN(0, 0.5).
        let (ja, jb, jk, jd) = (
            uniform(rng, 0.0, 1.0),
            uniform(rng, 0.0, 2.0),
            lognormal(rng, -2.0, 1.0),
            lognormal(rng, 0.0, 0.5),
        );
        let f = |x: f64| {
            w1 * (pc - pa * x.powf(-palpha))
                + w2 * (ic - ia / (x + 1.0).ln())
                + w3 * (ja - (ja - jb) * (-jk * x.powf(jd)).exp())
        };
        let ok = |x: &f64| {
            let y = f(*x);
            y.is_finite() && (0.0..=1.0).contains(&y)
        };
        if f(100.0) > f(1.0) && grid.iter().all(ok) && xs.iter().all(ok) {
            return xs.iter().map(|&x| f(x)).collect();
        }
    }
    xs.iter().map(|&x| 0.9 - 0.8 * x.powf(-0.5)).collect()
}

/// Metric values from quality: binomial accuracy / error rate, heavy-tailed loss; NaN from
/// `collapse_at` on.
fn noisy_values<R: Rng>(
    rng: &mut R,
    metric: MetricKind,
    quality: &[f64],
    n: u32,
    collapse_at: Option<f64>,
    shares: &[f64],
) -> Vec<f64> {
    let (l0, lmin) = {
        let l0 = log_uniform(rng, 0.3, 10.0);
        (l0, l0 * (-uniform(rng, 0.3, 5.0)).exp())
    };
    let loss_noise = uniform(rng, 0.5, 3.0) / f64::from(n).sqrt();
    let student = StudentT::new(3.0).ok();
    quality
        .iter()
        .zip(shares)
        .map(|(&q, &s)| {
            if collapse_at.is_some_and(|c| s >= c) {
                return f64::NAN;
            }
            match metric {
                MetricKind::Accuracy | MetricKind::ErrorRate => {
                    let p = q.clamp(0.0, 1.0);
                    let hits = Binomial::new(u64::from(n), p)
                        .map(|b| b.sample(rng) as f64)
                        .unwrap_or(p * f64::from(n));
                    let acc = hits / f64::from(n);
                    if metric == MetricKind::Accuracy {
                        acc
                    } else {
                        1.0 - acc
                    }
                }
                MetricKind::Loss => {
                    let clean = (l0.ln() + q * (lmin.ln() - l0.ln())).exp();
                    let t = student
                        .as_ref()
                        .map(|d| -> f64 { d.sample(rng) })
                        .unwrap_or(0.0)
                        .clamp(-20.0, 20.0);
                    clean * (loss_noise * t).exp()
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;

    fn check(c: &SyntheticCurve) -> Result<(), TestCaseError> {
        let n = c.shares.len();
        prop_assert!((5..=300).contains(&n));
        prop_assert_eq!(c.values.len(), n);
        prop_assert_eq!(c.quality.len(), n);
        prop_assert_eq!(c.shares[n - 1], 1.0);
        prop_assert!(c.shares.windows(2).all(|w| w[0] < w[1]), "{:?}", c.shares);
        prop_assert!(c.shares[0] > 0.0);
        let (lo, hi) = c.metric.bounds();
        let mut seen_nan = false;
        for (&v, &q) in c.values.iter().zip(&c.quality) {
            prop_assert!(q.is_finite() && (0.0..=1.0).contains(&q));
            if v.is_nan() {
                prop_assert_eq!(c.shape, Shape::Collapse);
                seen_nan = true;
            } else {
                prop_assert!(!seen_nan, "NaN only as a suffix");
                prop_assert!(
                    v.is_finite() && v >= lo && v <= hi,
                    "{} outside {}..{}",
                    v,
                    lo,
                    hi
                );
            }
        }
        prop_assert!((50..=50_000).contains(&c.val_examples));
        prop_assert!(c.schedule.iter().all(|s| (0.0..1.0).contains(s)));
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn curves_are_finite_and_within_bounds(seed in any::<u64>()) {
            let g = Generator::new(Mixture::default());
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            check(&g.sample(&mut rng))?;
        }

        #[test]
        fn every_shape_is_finite_and_within_bounds(seed in any::<u64>(), k in 0usize..8) {
            let g = Generator::new(Mixture::default());
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            check(&g.sample_shape(&mut rng, Shape::ALL[k]))?;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(100))]
        #[test]
        fn every_named_mixture_is_finite_and_within_bounds(seed in any::<u64>(), k in 0usize..5) {
            let g = Generator::new(Mixture::named(Mixture::NAMES[k]).unwrap_or_default());
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            check(&g.sample(&mut rng))?;
        }
    }

    /// Share of late starts whose quality never leaves its first value.
    fn never_started(m: Mixture) -> f64 {
        let g = Generator::new(m);
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let n = 4000;
        let flat = (0..n)
            .filter(|_| {
                let c = g.sample_shape(&mut rng, Shape::LateStart);
                c.quality.iter().all(|q| (q - c.quality[0]).abs() < 1e-12)
            })
            .count();
        flat as f64 / n as f64
    }

    #[test]
    fn named_mixtures_set_what_they_say() {
        let Some(stuck) = Mixture::named("stuck") else {
            panic!("stuck is a named mixture")
        };
        assert!((never_started(Mixture::default()) - 0.2).abs() < 0.03);
        assert!((never_started(stuck.clone()) - 0.6).abs() < 0.03);
        let share = |m: &Mixture, shape: Shape| {
            let total: f64 = m.shapes.iter().map(|e| e.1).sum();
            m.shapes.iter().find(|e| e.0 == shape).map_or(0.0, |e| e.1) / total
        };
        let Some(anneal) = Mixture::named("anneal") else {
            panic!("anneal is a named mixture")
        };
        assert!(share(&anneal, Shape::Cosine) > 0.25);
        assert!(share(&stuck, Shape::LateStart) > 0.15);
        for name in Mixture::NAMES {
            assert!(Mixture::named(name).is_some(), "{name}");
        }
    }

    #[test]
    fn same_seed_same_curve() {
        let g = Generator::new(Mixture::default());
        let a = g.sample(&mut rand::rngs::StdRng::seed_from_u64(3));
        let b = g.sample(&mut rand::rngs::StdRng::seed_from_u64(3));
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn the_mixture_shares_hold() {
        let g = Generator::new(Mixture::default());
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let n = 20_000;
        let mut counts = std::collections::HashMap::new();
        for _ in 0..n {
            *counts.entry(g.sample(&mut rng).shape).or_insert(0usize) += 1;
        }
        for (shape, w) in Mixture::default().shapes {
            let share = counts.get(&shape).copied().unwrap_or(0) as f64 / n as f64;
            assert!((share - w).abs() < 0.02, "{shape:?}: {share} vs {w}");
        }
    }

    #[test]
    fn step_decays_jump_after_their_milestones() {
        let g = Generator::new(Mixture::default());
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for _ in 0..50 {
            let c = g.sample_shape(&mut rng, Shape::StepDecay);
            let m = c.schedule[0];
            let before = c
                .quality
                .iter()
                .zip(&c.shares)
                .filter(|(_, &s)| s <= m)
                .map(|(q, _)| *q)
                .fold(0.0, f64::max);
            let last = *c.quality.last().unwrap();
            assert!(last >= before - 1e-9);
        }
    }
}
