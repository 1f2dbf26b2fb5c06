//! The parametric learning-curve families (Domhan et al. 2015), reparametrised for an
//! unbounded solver.
//!
//! Every family is written for the *normalised* curve: `x ≥ 1` is the step rescaled so the
//! first observation sits at 1, and `y` is the metric oriented so that higher is better and
//! rescaled so the observed values span `[0, 1]`. Levenberg–Marquardt has no bounds, so every
//! parameter whose sign must hold (rates, exponents, scales) is fitted as its logarithm.

use serde::{Deserialize, Serialize};

/// One parametric learning-curve family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// `c − a·x^(−α)`.
    Pow3,
    /// `c − (a·x + b)^(−α)`.
    Pow4,
    /// `a / (1 + (x / e^b)^(−k))` (the increasing form of `a / (1 + (x/e^b)^c)`, `c = −k < 0`).
    LogPower,
    /// `exp(a + b/x + c·ln x)`.
    VaporPressure,
    /// `ln(a·ln x + b)`.
    LogLogLinear,
    /// `θ·x^η / (κ^η + x^η)`.
    Hill3,
    /// `α − (α − β) / (1 + (κ·x)^δ)`.
    Mmf,
    /// `c − exp(−a·x^α + b)`.
    Exp4,
    /// `α − (α − β)·exp(−κ·x^δ)`.
    Janoschek,
    /// `α − (α − β)·exp(−(κ·x)^δ)`.
    Weibull,
    /// `c − a / ln(x + 1)`.
    Ilog2,
}

/// Every family, in a fixed order.
pub const ALL_FAMILIES: [Family; 11] = [
    Family::Pow3,
    Family::Pow4,
    Family::LogPower,
    Family::VaporPressure,
    Family::LogLogLinear,
    Family::Hill3,
    Family::Mmf,
    Family::Exp4,
    Family::Janoschek,
    Family::Weibull,
    Family::Ilog2,
];

/// Largest number of parameters of any family.
pub(crate) const MAX_PARAMS: usize = 4;

/// Parameters of one family, unused trailing entries are zero.
pub(crate) type Params = [f64; MAX_PARAMS];

/// Most intermediate values one evaluation keeps for reuse (see [`Family::eval_staged`]).
pub(crate) const STAGES: usize = 2;

/// Intermediate values of one evaluation at one point (see [`Family::eval_staged`]).
pub(crate) type Stages = [f64; STAGES];

/// `exp` clamped so that absurd solver steps give large finite numbers, not infinities.
fn ex(v: f64) -> f64 {
    v.clamp(-700.0, 700.0).exp()
}

impl Family {
    /// The family's name as used in reports (`pow3`, `log_power`, …).
    pub fn name(self) -> &'static str {
        match self {
            Family::Pow3 => "pow3",
            Family::Pow4 => "pow4",
            Family::LogPower => "log_power",
            Family::VaporPressure => "vapor_pressure",
            Family::LogLogLinear => "loglog_linear",
            Family::Hill3 => "hill3",
            Family::Mmf => "mmf",
            Family::Exp4 => "exp4",
            Family::Janoschek => "janoschek",
            Family::Weibull => "weibull",
            Family::Ilog2 => "ilog2",
        }
    }

    /// Number of free parameters.
    pub fn n_params(self) -> usize {
        match self {
            Family::LogLogLinear | Family::Ilog2 => 2,
            Family::Pow3 | Family::LogPower | Family::VaporPressure | Family::Hill3 => 3,
            Family::Pow4 | Family::Mmf | Family::Exp4 | Family::Janoschek | Family::Weibull => 4,
        }
    }

    /// The curve at normalised `x` (> 0) for (reparametrised) parameters `p`.
    pub(crate) fn eval(self, p: &Params, x: f64) -> f64 {
        self.eval_prepared(&self.prepare(p), x, x.ln())
    }

    /// Parameter transforms that do not depend on x (the `exp`s of log-parameters), computed
    /// once per parameter vector instead of once per point: `exp` dominates the fit's time.
    /// Entry `j` depends on `p[j]` alone (see [`Family::prepare_entry`]); unused trailing
    /// entries are zero.
    pub(crate) fn prepare(self, p: &Params) -> Params {
        let mut k = [0.0; MAX_PARAMS];
        for (j, kj) in k.iter_mut().enumerate().take(self.n_params()) {
            *kj = self.prepare_entry(j, p[j]);
        }
        k
    }

    /// Entry `j` of [`Family::prepare`] for `p[j] = v`: a finite difference in one parameter
    /// changes one prepared entry, so it need not redo the others' `exp`s.
    pub(crate) fn prepare_entry(self, j: usize, v: f64) -> f64 {
        // Which parameters are fitted as logarithms.
        let log = match self {
            Family::Pow3 => [false, true, true, false],
            Family::Pow4 => [false, true, true, true],
            Family::LogPower => [false, false, true, false],
            Family::VaporPressure => [false; MAX_PARAMS],
            Family::LogLogLinear => [true, true, false, false],
            Family::Hill3 => [false, true, false, false],
            Family::Mmf | Family::Weibull => [false, false, false, true],
            Family::Exp4 => [false, true, false, true],
            Family::Janoschek => [false, false, true, true],
            Family::Ilog2 => [false, true, false, false],
        };
        if log[j] {
            ex(v)
        } else {
            v
        }
    }

    /// The curve at `x` (with `lx = ln x`) for prepared parameters `k` (see [`Family::prepare`]).
    pub(crate) fn eval_prepared(self, k: &Params, x: f64, lx: f64) -> f64 {
        self.eval_staged(k, x, lx, &mut [0.0; STAGES], 0)
    }

    /// How many leading [`Stages`] of an evaluation at one point stay valid when only prepared
    /// parameter `changed` differs from the evaluation that filled them (`None`: any may
    /// differ; ilog2's only stage depends on x alone).
    pub(crate) fn stages_kept(self, changed: Option<usize>) -> usize {
        let Some(j) = changed else {
            return usize::from(self == Family::Ilog2);
        };
        match self {
            Family::Pow3 => usize::from(j != 2),
            Family::Pow4 => match j {
                0 => 2,
                3 => 1,
                _ => 0,
            },
            Family::LogPower | Family::Hill3 => usize::from(j == 0),
            Family::VaporPressure | Family::LogLogLinear => 0,
            Family::Mmf => usize::from(j <= 1),
            Family::Exp4 => match j {
                0 => 2,
                3 => 0,
                _ => 1,
            },
            Family::Janoschek => match j {
                3 => 0,
                2 => 1,
                _ => 2,
            },
            Family::Weibull => {
                if j <= 1 {
                    2
                } else {
                    0
                }
            }
            Family::Ilog2 => 1,
        }
    }

    /// [`Family::eval_prepared`], keeping its expensive intermediate values (`exp`s, `ln`s) in
    /// `s`: the first `kept` of them are taken from `s` as a previous evaluation at the same
    /// point left them (see [`Family::stages_kept`]), the others are computed and stored.
    /// Each value is the same expression either way, so reuse changes no bit of the result;
    /// it spares most of the `exp`s of a finite-difference Jacobian.
    pub(crate) fn eval_staged(
        self,
        k: &Params,
        x: f64,
        lx: f64,
        s: &mut Stages,
        kept: usize,
    ) -> f64 {
        match self {
            Family::Pow3 => {
                if kept < 1 {
                    s[0] = ex(-k[2] * lx);
                }
                k[0] - k[1] * s[0]
            }
            Family::Pow4 => {
                if kept < 1 {
                    s[0] = (k[1] * x + k[2]).ln();
                }
                if kept < 2 {
                    s[1] = ex(-k[3] * s[0]);
                }
                k[0] - s[1]
            }
            Family::LogPower => {
                if kept < 1 {
                    s[0] = ex(-k[2] * (lx - k[1]));
                }
                k[0] / (1.0 + s[0])
            }
            Family::VaporPressure => ex(k[0] + k[1] / x + k[2] * lx),
            Family::LogLogLinear => (k[0] * lx + k[1]).ln(),
            // θ / (1 + (κ/x)^η), written to stay finite for large exponents.
            Family::Hill3 => {
                if kept < 1 {
                    s[0] = ex(k[1] * (k[2] - lx));
                }
                k[0] / (1.0 + s[0])
            }
            Family::Mmf => {
                if kept < 1 {
                    s[0] = ex(k[3] * (k[2] + lx));
                }
                k[0] - (k[0] - k[1]) / (1.0 + s[0])
            }
            Family::Exp4 => {
                if kept < 1 {
                    s[0] = ex(k[3] * lx);
                }
                if kept < 2 {
                    s[1] = ex(-k[1] * s[0] + k[2]);
                }
                k[0] - s[1]
            }
            Family::Janoschek => {
                if kept < 1 {
                    s[0] = ex(k[3] * lx);
                }
                if kept < 2 {
                    s[1] = ex(-k[2] * s[0]);
                }
                k[0] - (k[0] - k[1]) * s[1]
            }
            Family::Weibull => {
                if kept < 1 {
                    s[0] = ex(k[3] * (k[2] + lx));
                }
                if kept < 2 {
                    s[1] = ex(-s[0]);
                }
                k[0] - (k[0] - k[1]) * s[1]
            }
            Family::Ilog2 => {
                if kept < 1 {
                    s[0] = (x + 1.0).ln();
                }
                k[0] - k[1] / s[0]
            }
        }
    }

    /// The limit for `x → ∞`, where the family has a finite one.
    pub(crate) fn asymptote(self, p: &Params) -> Option<f64> {
        let a = match self {
            Family::Pow3 | Family::Pow4 | Family::Exp4 | Family::Ilog2 => p[0],
            Family::LogPower | Family::Hill3 => p[0],
            Family::Mmf | Family::Janoschek | Family::Weibull => p[0],
            Family::VaporPressure => {
                if p[2] < -1e-9 {
                    0.0
                } else if p[2] <= 1e-9 {
                    ex(p[0])
                } else {
                    return None;
                }
            }
            Family::LogLogLinear => return None,
        };
        a.is_finite().then_some(a)
    }

    /// Starting points for the solver, from the normalised data: `y0` is the level at the
    /// first point, `y1` the level at the last one (`x1` its position), `top` a guess of the
    /// asymptote above `y1`.
    pub(crate) fn starts(self, y0: f64, y1: f64, x1: f64, top: f64) -> Vec<Params> {
        let rise = (top - y0).max(1e-3);
        let lx1 = x1.max(1.0 + 1e-6).ln();
        let mut out = Vec::with_capacity(3);
        match self {
            Family::Pow3 => {
                for alpha in [0.5f64, 1.5] {
                    out.push([top, rise.ln(), alpha.ln(), 0.0]);
                }
            }
            Family::Pow4 => {
                for alpha in [0.5f64, 1.5] {
                    // At x = 1: (a + b)^(−α) ≈ rise.
                    let base = rise.powf(-1.0 / alpha);
                    out.push([top, (0.5 * base).ln(), (0.5 * base).ln(), alpha.ln()]);
                }
            }
            Family::LogPower => {
                for k in [1.0f64, 3.0] {
                    out.push([top.max(1e-3), 0.5 * lx1, k.ln(), 0.0]);
                }
            }
            Family::VaporPressure => {
                let hi = y1.max(1e-3);
                let lo = y0.max(1e-3 * hi);
                // exp(a + b/x): b from the ratio of the ends, c = 0.
                let b = (hi / lo).ln().min(20.0) / (1.0 / x1 - 1.0).min(-1e-6);
                out.push([hi.ln() - b / x1, b, 0.0, 0.0]);
                out.push([lo.ln(), 0.0, (hi / lo).ln() / lx1.max(1e-6), 0.0]);
            }
            Family::LogLogLinear => {
                // ln(a·ln x + b): b = e^{y0}, a from the last point.
                let b = ex(y0);
                let a = ((ex(y1) - b) / lx1.max(1e-6)).max(1e-6);
                out.push([a.ln(), b.ln(), 0.0, 0.0]);
            }
            Family::Hill3 => {
                for eta in [1.0f64, 3.0] {
                    out.push([top.max(1e-3), eta.ln(), 0.5 * lx1, 0.0]);
                }
            }
            Family::Mmf => {
                for delta in [1.0f64, 3.0] {
                    out.push([top, y0, -0.5 * lx1, delta.ln()]);
                }
            }
            Family::Exp4 => {
                for alpha in [0.5f64, 1.0] {
                    // At x = 1: exp(−a + b) = rise; a chosen so the gap shrinks by e over the data.
                    let a = 1.0 / (x1.powf(alpha) - 1.0).max(1e-3);
                    out.push([top, a.ln(), rise.ln() + a, alpha.ln()]);
                }
            }
            Family::Janoschek => {
                for delta in [0.5f64, 1.0] {
                    let k = 1.0 / (x1.powf(delta) - 1.0).max(1e-3);
                    out.push([top, y0 - 0.1 * rise, k.ln(), delta.ln()]);
                }
            }
            Family::Weibull => {
                for delta in [0.5f64, 1.0] {
                    out.push([top, y0 - 0.1 * rise, -0.5 * lx1, delta.ln()]);
                }
            }
            Family::Ilog2 => {
                // c − a/ln 2 = y0 at x = 1, c − a/ln(x1 + 1) = y1.
                let d = (1.0 / 2f64.ln() - 1.0 / (x1 + 1.0).ln()).max(1e-6);
                let a = ((y1 - y0) / d).max(1e-6);
                out.push([y0 + a / 2f64.ln(), a.ln(), 0.0, 0.0]);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_start_is_finite_and_increasing_for_every_family() {
        for fam in ALL_FAMILIES {
            for p in fam.starts(0.0, 1.0, 5.0, 1.3) {
                let a = fam.eval(&p, 1.0);
                let b = fam.eval(&p, 5.0);
                assert!(a.is_finite() && b.is_finite(), "{}: {a} {b}", fam.name());
                assert!(b >= a - 1e-9, "{} start decreases: {a} -> {b}", fam.name());
            }
        }
    }

    /// The formulas as written before the staged evaluation, term for term.
    fn reference(f: Family, p: &Params, x: f64) -> f64 {
        let lx = x.ln();
        match f {
            Family::Pow3 => p[0] - ex(p[1]) * ex(-ex(p[2]) * lx),
            Family::Pow4 => p[0] - ex(-ex(p[3]) * (ex(p[1]) * x + ex(p[2])).ln()),
            Family::LogPower => p[0] / (1.0 + ex(-ex(p[2]) * (lx - p[1]))),
            Family::VaporPressure => ex(p[0] + p[1] / x + p[2] * lx),
            Family::LogLogLinear => (ex(p[0]) * lx + ex(p[1])).ln(),
            Family::Hill3 => p[0] / (1.0 + ex(ex(p[1]) * (p[2] - lx))),
            Family::Mmf => p[0] - (p[0] - p[1]) / (1.0 + ex(ex(p[3]) * (p[2] + lx))),
            Family::Exp4 => p[0] - ex(-ex(p[1]) * ex(ex(p[3]) * lx) + p[2]),
            Family::Janoschek => p[0] - (p[0] - p[1]) * ex(-ex(p[2]) * ex(ex(p[3]) * lx)),
            Family::Weibull => p[0] - (p[0] - p[1]) * ex(-ex(ex(p[3]) * (p[2] + lx))),
            Family::Ilog2 => p[0] - ex(p[1]) / (x + 1.0).ln(),
        }
    }

    proptest::proptest! {
        /// Reusing stages after a change of one parameter gives the same bits as evaluating
        /// from scratch, and both match the plain formulas.
        #[test]
        fn staged_evaluation_is_bit_identical(
            p in proptest::array::uniform4(-3.0f64..3.0),
            d in -0.5f64..0.5,
            x in 1.0f64..1e4,
        ) {
            for f in ALL_FAMILIES {
                let mut p = p;
                p[f.n_params()..].fill(0.0);
                let lx = x.ln();
                let mut s = [0.0; STAGES];
                let v = f.eval_staged(&f.prepare(&p), x, lx, &mut s, 0);
                proptest::prop_assert_eq!(v.to_bits(), reference(f, &p, x).to_bits());
                for j in 0..f.n_params() {
                    let mut q = p;
                    q[j] += d;
                    let mut k = f.prepare(&p);
                    k[j] = f.prepare_entry(j, q[j]);
                    let mut t = s;
                    let w = f.eval_staged(&k, x, lx, &mut t, f.stages_kept(Some(j)));
                    proptest::prop_assert_eq!(w.to_bits(), reference(f, &q, x).to_bits());
                }
                let mut t = s;
                let kept = f.stages_kept(None);
                let w = f.eval_staged(&f.prepare(&p), x, lx, &mut t, kept);
                proptest::prop_assert_eq!(w.to_bits(), v.to_bits());
            }
        }
    }

    #[test]
    fn asymptotes_match_far_values() {
        let p = [0.9, (0.5f64).ln(), (0.7f64).ln(), 0.0];
        let far = Family::Pow3.eval(&p, 1e12);
        assert!((far - 0.9).abs() < 1e-6);
        assert_eq!(Family::Pow3.asymptote(&p), Some(0.9));
        assert_eq!(Family::LogLogLinear.asymptote(&p), None);
    }
}
