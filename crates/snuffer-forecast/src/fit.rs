//! Least-squares fit of one family with Levenberg–Marquardt (`levenberg-marquardt` crate).

use crate::families::{Family, Params, Stages, MAX_PARAMS, STAGES};
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{storage::Owned, DMatrix, DVector, Dyn};
use std::cell::{RefCell, RefMut};

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
    /// The model at the parameters last evaluated: LM asks for the Jacobian right after the
    /// residuals at the same point, and the forward differences need those values again.
    cache: RefCell<Cache>,
}

/// Model values and their [`Stages`] at one parameter vector.
struct Cache {
    /// Bit patterns of the parameters (bits, so that `-0.0` and `0.0` or NaNs never mix).
    p: [u64; MAX_PARAMS],
    values: Vec<f64>,
    stages: Vec<Stages>,
}

impl<'a> Problem<'a> {
    fn new(
        family: Family,
        x: &'a [f64],
        lx: &'a [f64],
        y: &'a [f64],
        sw: &'a [f64],
        start: &Params,
    ) -> Self {
        let n = family.n_params();
        let mut problem = Problem {
            family,
            x,
            lx,
            y,
            sw,
            p: DVector::from_iterator(n, start.iter().copied().take(n)),
            cache: RefCell::new(Cache {
                p: [0; MAX_PARAMS],
                values: vec![0.0; x.len()],
                stages: vec![[0.0; STAGES]; x.len()],
            }),
        };
        // Fill every stage once, so that those independent of the parameters stay valid.
        let p = problem.params();
        evaluate(family, &p, x, lx, problem.cache.get_mut(), 0);
        problem
    }

    fn params(&self) -> Params {
        let mut out = [0.0; MAX_PARAMS];
        for (o, v) in out.iter_mut().zip(self.p.iter()) {
            *o = *v;
        }
        out
    }

    /// The cache, brought up to the current parameters.
    fn current(&self) -> RefMut<'_, Cache> {
        let p = self.params();
        let mut cache = self.cache.borrow_mut();
        if cache.p != p.map(f64::to_bits) {
            let kept = self.family.stages_kept(None);
            evaluate(self.family, &p, self.x, self.lx, &mut cache, kept);
        }
        cache
    }
}

/// Evaluate the model at `p` into `cache`, reusing its first `kept` stages.
fn evaluate(family: Family, p: &Params, x: &[f64], lx: &[f64], cache: &mut Cache, kept: usize) {
    let k = family.prepare(p);
    for (((v, s), &x), &lx) in cache
        .values
        .iter_mut()
        .zip(cache.stages.iter_mut())
        .zip(x)
        .zip(lx)
    {
        *v = family.eval_staged(&k, x, lx, s, kept);
    }
    cache.p = p.map(f64::to_bits);
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
        let cache = self.current();
        let r = DVector::from_iterator(
            self.x.len(),
            cache
                .values
                .iter()
                .zip(self.y)
                .zip(self.sw)
                .map(|((&f, &y), &w)| w * (f - y)),
        );
        r.iter().all(|v| v.is_finite()).then_some(r)
    }

    fn jacobian(&self) -> Option<DMatrix<f64>> {
        let p = self.params();
        let n = self.family.n_params();
        let mut jac = DMatrix::zeros(self.x.len(), n);
        // Forward differences: the families are smooth, LM only needs a descent direction,
        // and analytic Jacobians for eleven reparametrised families would be a large surface
        // for sign mistakes. Forward differences cost half of central ones, and the base
        // values (and the stages a column's parameter does not touch) come from the cache.
        let f = self.family;
        let cache = self.current();
        let k = f.prepare(&p);
        for j in 0..n {
            let h = 1e-7 * (1.0 + p[j].abs());
            let mut kh = k;
            kh[j] = f.prepare_entry(j, p[j] + h);
            let kept = f.stages_kept(Some(j));
            for (i, ((((&x, &lx), &w), &b), s)) in self
                .x
                .iter()
                .zip(self.lx)
                .zip(self.sw)
                .zip(&cache.values)
                .zip(&cache.stages)
                .enumerate()
            {
                let mut s = *s;
                jac[(i, j)] = w * (f.eval_staged(&kh, x, lx, &mut s, kept) - b) / h;
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
        let problem = Problem::new(family, x, &lx, y, &sw, start);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::families::ALL_FAMILIES;

    /// The cached, staged Jacobian gives the same bits as the plain finite differences over
    /// [`Family::eval`], at the start and after a parameter change.
    #[test]
    fn cached_derivatives_match_plain_finite_differences_bit_for_bit() {
        let x: Vec<f64> = (1..=20).map(|i| 1.0 + 0.7 * f64::from(i)).collect();
        let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
        let y: Vec<f64> = x.iter().map(|&v| 1.0 - 0.8 / v).collect();
        let sw: Vec<f64> = (0..x.len()).map(|i| 1.0 + 0.1 * i as f64).collect();
        for fam in ALL_FAMILIES {
            let n = fam.n_params();
            for start in fam.starts(y[0], y[19], x[19], 1.1) {
                let mut problem = Problem::new(fam, &x, &lx, &y, &sw, &start);
                for round in 0..2 {
                    let p = problem.params();
                    let r = problem.residuals().expect("finite residuals");
                    let jac = problem.jacobian().expect("finite jacobian");
                    for (i, &xi) in x.iter().enumerate() {
                        let base = fam.eval(&p, xi);
                        assert_eq!(r[i].to_bits(), (sw[i] * (base - y[i])).to_bits());
                        for j in 0..n {
                            let h = 1e-7 * (1.0 + p[j].abs());
                            let mut hi = p;
                            hi[j] += h;
                            let plain = sw[i] * (fam.eval(&hi, xi) - base) / h;
                            assert_eq!(jac[(i, j)].to_bits(), plain.to_bits(), "{fam:?} {j}");
                        }
                    }
                    let moved = DVector::from_iterator(
                        n,
                        p.iter()
                            .take(n)
                            .enumerate()
                            .map(|(j, v)| v + 0.01 * (j + round) as f64),
                    );
                    problem.set_params(&moved);
                }
            }
        }
    }

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
