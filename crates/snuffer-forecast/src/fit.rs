//! Least-squares fit of one family with Levenberg–Marquardt (`levenberg-marquardt` crate).

use crate::families::{Family, Params, MAX_PARAMS};
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{storage::Owned, DMatrix, DVector, Dyn};

/// A converged fit of one family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FamilyFit {
    /// The family.
    pub family: Family,
    /// Reparametrised parameters.
    pub params: Params,
    /// Weighted residual sum of squares.
    pub rss: f64,
}

struct Problem<'a> {
    family: Family,
    x: &'a [f64],
    lx: &'a [f64],
    y: &'a [f64],
    sw: &'a [f64],
    p: DVector<f64>,
}

impl Problem<'_> {
    fn params(&self) -> Params {
        let mut out = [0.0; MAX_PARAMS];
        for (o, v) in out.iter_mut().zip(self.p.iter()) {
            *o = *v;
        }
        out
    }
}

impl LeastSquaresProblem<f64, Dyn, Dyn> for Problem<'_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, p: &DVector<f64>) {
        self.p.copy_from(p);
    }

    fn params(&self) -> DVector<f64> {
        self.p.clone()
    }

    fn residuals(&self) -> Option<DVector<f64>> {
        let k = self.family.prepare(&self.params());
        let r = DVector::from_iterator(
            self.x.len(),
            self.x
                .iter()
                .zip(self.lx)
                .zip(self.y)
                .zip(self.sw)
                .map(|(((&x, &lx), &y), &w)| w * (self.family.eval_prepared(&k, x, lx) - y)),
        );
        r.iter().all(|v| v.is_finite()).then_some(r)
    }

    fn jacobian(&self) -> Option<DMatrix<f64>> {
        let p = self.params();
        let n = self.family.n_params();
        let mut jac = DMatrix::zeros(self.x.len(), n);
        // Forward differences: the families are smooth, LM only needs a descent direction,
        // and analytic Jacobians for eleven reparametrised families would be a large surface
        // for sign mistakes. Forward differences cost half of central ones.
        let f = self.family;
        let k = f.prepare(&p);
        let base: Vec<f64> = self
            .x
            .iter()
            .zip(self.lx)
            .map(|(&x, &lx)| f.eval_prepared(&k, x, lx))
            .collect();
        for j in 0..n {
            let h = 1e-7 * (1.0 + p[j].abs());
            let mut hi = p;
            hi[j] += h;
            let kh = f.prepare(&hi);
            for (i, (((&x, &lx), &w), &b)) in self
                .x
                .iter()
                .zip(self.lx)
                .zip(self.sw)
                .zip(&base)
                .enumerate()
            {
                jac[(i, j)] = w * (f.eval_prepared(&kh, x, lx) - b) / h;
            }
        }
        jac.iter().all(|v| v.is_finite()).then_some(jac)
    }
}

/// Fit `family` to `(x, y)` with per-point weights `w`, trying each start; returns the best
/// converged fit, or `None` when every start failed (non-finite, or too few points).
pub(crate) fn fit_family(
    family: Family,
    x: &[f64],
    y: &[f64],
    w: &[f64],
    starts: &[Params],
    patience: usize,
) -> Option<FamilyFit> {
    let n = family.n_params();
    if x.len() < n + 1 {
        return None;
    }
    let sw: Vec<f64> = w.iter().map(|v| v.max(0.0).sqrt()).collect();
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let solver = LevenbergMarquardt::new()
        .with_patience(patience)
        .with_ftol(1e-6)
        .with_xtol(1e-6);
    let mut best: Option<FamilyFit> = None;
    for start in starts {
        // Further starts only rescue a failed first one: each costs a whole solve.
        if best.is_some() {
            break;
        }
        let problem = Problem {
            family,
            x,
            lx: &lx,
            y,
            sw: &sw,
            p: DVector::from_iterator(n, start.iter().copied().take(n)),
        };
        if problem.residuals().is_none() {
            continue;
        }
        let (done, report) = solver.minimize(problem);
        if report.termination.was_usage_issue() {
            continue;
        }
        let Some(r) = done.residuals() else { continue };
        let rss = r.norm_squared();
        let params = done.params();
        if !rss.is_finite() || params.iter().any(|v| !v.is_finite()) {
            continue;
        }
        if best.is_none_or(|b| rss < b.rss) {
            best = Some(FamilyFit {
                family,
                params,
                rss,
            });
        }
    }
    best
}

/// Gradient of the family's value at `x` with respect to its parameters.
pub(crate) fn gradient(family: Family, p: &Params, x: f64) -> Params {
    let mut g = [0.0; MAX_PARAMS];
    for (j, gj) in g.iter_mut().enumerate().take(family.n_params()) {
        let h = 1e-6 * (1.0 + p[j].abs());
        let mut hi = *p;
        let mut lo = *p;
        hi[j] += h;
        lo[j] -= h;
        *gj = (family.eval(&hi, x) - family.eval(&lo, x)) / (2.0 * h);
    }
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::ALL_FAMILIES;

    #[test]
    fn recovers_a_pow3_curve() {
        let truth = [0.8, (0.6f64).ln(), (0.9f64).ln(), 0.0];
        let x: Vec<f64> = (1..=30).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|&v| Family::Pow3.eval(&truth, v)).collect();
        let w = vec![1.0; x.len()];
        let starts = Family::Pow3.starts(y[0], y[29], 30.0, 0.9);
        let fit = fit_family(Family::Pow3, &x, &y, &w, &starts, 200).expect("converges");
        assert!(fit.rss < 1e-12, "rss {}", fit.rss);
        assert!((fit.params[0] - 0.8).abs() < 1e-4);
    }

    #[test]
    fn every_family_fits_a_saturating_curve_reasonably() {
        let x: Vec<f64> = (1..=20).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|&v| 1.0 - 1.0 / v).collect();
        let w = vec![1.0; x.len()];
        for fam in ALL_FAMILIES {
            let starts = fam.starts(y[0], y[19], 20.0, 1.1);
            let fit = fit_family(fam, &x, &y, &w, &starts, 200);
            let fit = fit.unwrap_or_else(|| panic!("{} failed", fam.name()));
            // loglog_linear never saturates, so it fits this curve only roughly.
            assert!(fit.rss < 0.1, "{} rss {}", fam.name(), fit.rss);
        }
    }
}
