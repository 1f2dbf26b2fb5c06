//! Fitting the ensemble: every family by Levenberg–Marquardt (a second start only when the
//! first fails; the previous optimum when warm), a holdout
//! of the most recent points to weight the members, and the conservative adjustments
//! (level, slope cap) that make extrapolation safe on real curves.

use crate::families::{Family, Params, ALL_FAMILIES};
use crate::fit::{fit_family, FamilyFit};
use crate::predictive::{Core, Member};
use crate::scale::Scale;
use crate::stats::{ls_factor, noise_sd, recent_slope, theil_sen_at, thin};

/// Most points handed to the solver; older points are thinned beyond this (see [`thin`]).
pub(crate) const MAX_FIT_POINTS: usize = 32;
/// Most recent points always kept when thinning.
const RECENT_POINTS: usize = 16;
/// Smallest squared holdout error (normalised units) the member weights distinguish. Real
/// curves sit far above it (their noise sets the floor); it only caps the weight of a member
/// that predicts a noiseless curve exactly.
const WEIGHT_FLOOR: f64 = 1e-12;

/// Parameters kept from the previous fit, per family, to warm-start the next one.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Warm {
    pub full: Vec<(Family, Params)>,
    pub holdout: Vec<(Family, Params)>,
    /// Holdout error per family from the last holdout refit (`None`: none possible).
    pub errors: Vec<(Family, Option<f64>)>,
    /// Number of points when the holdout was last refitted.
    pub holdout_n: usize,
    /// The holdout's evidence on the extrapolated gain (see [`Trust`]).
    pub trust: Trust,
}

/// How far the ensemble's extrapolated gain came true on the held-back recent points:
/// sums for the least-squares factor on the members' gain from the holdout's last point
/// that best explains the held-back values (1: the gain came true, 0: the curve stayed at
/// its level).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Trust {
    /// Σ predicted gain × observed change.
    pub sxy: f64,
    /// Σ predicted gain².
    pub sxx: f64,
    /// Σ observed change².
    pub syy: f64,
    /// Held-back points.
    pub points: usize,
    /// Log-step horizon from the holdout's last point to the last held-back one.
    pub horizon: f64,
}

impl Trust {
    /// The factor, its variance, and the relative error of a predicted gain (root mean
    /// square of the misses per unit of gain); `None` without evidence.
    pub fn estimate(&self) -> Option<(f64, f64, f64)> {
        // Fewer than three points cannot tell a trend that came true from noise.
        if self.points < MIN_TRUST_POINTS || self.sxx <= 1e-18 {
            return None;
        }
        let (f, rel) = ls_factor(self.sxy, self.sxx, self.syy)?;
        let dof = self.points as f64 - 1.0;
        Some((f, rel / dof, (rel / self.points as f64).sqrt()))
    }
}

/// Fewest held-back points an estimate of the trust rests on.
const MIN_TRUST_POINTS: usize = 3;

impl Warm {
    fn get(list: &[(Family, Params)], f: Family) -> Option<Params> {
        list.iter().find(|(g, _)| *g == f).map(|(_, p)| *p)
    }
}

/// Which families to fit.
pub(crate) fn families_for(single_pow3: bool) -> &'static [Family] {
    if single_pow3 {
        &[Family::Pow3]
    } else {
        &ALL_FAMILIES
    }
}

/// Normalised data of one fit.
pub(crate) struct Data<'a> {
    pub x: &'a [f64],
    pub z: &'a [f64],
}

/// Noise, recent slope against `ln x` and its standard error, of normalised data.
pub(crate) fn summaries(d: &Data<'_>) -> (f64, f64, f64) {
    let n = d.x.len();
    let noise = noise_sd(d.x, d.z, 30);
    let m = (n / 3).clamp(3, 12).min(n);
    // Slope against ln x: learning curves are close to concave in ln x, so the tangent there
    // bounds the future gain more tightly than a tangent in x.
    let u: Vec<f64> = d.x[n - m..].iter().map(|v| v.ln()).collect();
    let (slope, se) = recent_slope(&u, &d.z[n - m..], m);
    (noise, slope, se)
}

/// Fit the ensemble (or the single pow3 baseline) to normalised data.
///
/// `warm` holds the previous fit's parameters in the same coordinates (a warm start tries only
/// those, with a smaller iteration budget); returns the predictive core and the parameters to
/// warm-start from next time. Returns `None` when no family produced a usable fit.
pub(crate) fn fit(
    d: &Data<'_>,
    scale: &Scale,
    families: &[Family],
    warm: Option<&Warm>,
    naive: bool,
) -> Option<(Core, Warm, Trust)> {
    let n = d.x.len();
    let idx = thin(n, MAX_FIT_POINTS, RECENT_POINTS);
    let x: Vec<f64> = idx.iter().map(|&i| d.x[i]).collect();
    let z: Vec<f64> = idx.iter().map(|&i| d.z[i]).collect();
    let m = x.len();
    let w = vec![1.0; m];
    let x_last = d.x[n - 1];
    let (noise, slope, se) = summaries(d);

    // Starting-point summaries: level at both ends and a guess of the asymptote.
    let k = (m / 4).clamp(1, 3);
    let y0 = z[..k].iter().sum::<f64>() / k as f64;
    let y1 = z[m - k..].iter().sum::<f64>() / k as f64;
    let top = y1 + 0.25 * (y1 - y0).abs().max(0.05);

    // Holdout: the most recent ~20 % of the (thinned) points, at least one.
    let h = ((m as f64 * 0.2).round() as usize).max(1);
    let fit_n = m.saturating_sub(h);

    // Solver budgets (LM evaluates at most `patience × (params + 1)` residual vectors): a
    // start at the previous optimum needs only to confirm or nudge it.
    let patience_cold = 20;
    let patience_warm = 10;
    let patience_refit = 5;
    let mut new_warm = Warm::default();
    // The holdout weights barely move when one point arrives: a warm refit reuses them until
    // the curve has grown by a tenth since the last holdout refit, halving the solver work.
    let reuse = warm.filter(|wm| n < wm.holdout_n + (wm.holdout_n / 10).max(1));
    new_warm.holdout_n = reuse.map_or(n, |wm| wm.holdout_n);
    let mut fulls: Vec<FamilyFit> = Vec::new();
    let mut errs: Vec<Option<f64>> = Vec::new();
    // Holdout parameters per kept family (for the trust in the extrapolated gain).
    let mut holds: Vec<Option<Params>> = Vec::new();
    for &fam in families {
        let prev_full = warm.and_then(|wm| Warm::get(&wm.full, fam));
        let (starts, patience) = match prev_full {
            Some(p) => (vec![p], patience_refit),
            None => (fam.starts(y0, y1, x[m - 1], top), patience_cold),
        };
        let Some(full) = fit_family(fam, &x, &z, &w, &starts, patience) else {
            continue;
        };
        if !usable(&full, &x, &z, x_last, scale) {
            continue;
        }
        new_warm.full.push((fam, full.params));
        // Holdout fit, started from the full fit (close to the answer, so cheap).
        let prev_hold = warm.and_then(|wm| Warm::get(&wm.holdout, fam));
        let hstarts = match prev_hold {
            Some(p) => vec![p],
            None => vec![full.params],
        };
        let reused =
            reuse.and_then(|wm| wm.errors.iter().find(|(g, _)| *g == fam).map(|(_, e)| *e));
        if let Some(hp) = reuse.and_then(|wm| Warm::get(&wm.holdout, fam)) {
            new_warm.holdout.push((fam, hp));
        }
        let mut hold = reuse.and_then(|wm| Warm::get(&wm.holdout, fam));
        let err = if let Some(e) = reused {
            e
        } else if fit_n > fam.n_params() {
            fit_family(
                fam,
                &x[..fit_n],
                &z[..fit_n],
                &w[..fit_n],
                &hstarts,
                patience_warm,
            )
            .map(|hf| {
                hold = Some(hf.params);
                new_warm.holdout.push((fam, hf.params));
                let se: f64 = x[fit_n..]
                    .iter()
                    .zip(&z[fit_n..])
                    .map(|(&xi, &zi)| (fam.eval(&hf.params, xi) - zi).powi(2))
                    .sum();
                (se / h as f64).sqrt()
            })
        } else {
            None
        };
        let err = err.filter(|e| e.is_finite());
        new_warm.errors.push((fam, err));
        errs.push(err);
        holds.push(hold);
        fulls.push(full);
    }
    if fulls.is_empty() {
        return None;
    }

    // Weights from the holdout error; members without a holdout fit get the median error.
    let mut known: Vec<f64> = errs.iter().flatten().copied().collect();
    known.sort_by(f64::total_cmp);
    let median_err = known.get(known.len() / 2).copied();
    let floor = (noise * noise).max(WEIGHT_FLOOR);
    let mut weights: Vec<f64> = errs
        .iter()
        .zip(&fulls)
        .map(|(e, f)| {
            let e = e
                .or(median_err)
                .unwrap_or_else(|| (f.rss / m as f64).sqrt());
            1.0 / (e * e + floor)
        })
        .collect();
    let total: f64 = weights.iter().sum();
    for v in &mut weights {
        *v /= total;
    }

    let mut members: Vec<Member> = fulls
        .iter()
        .zip(&weights)
        .map(|(f, &wt)| Member {
            family: f.family,
            params: f.params,
            weight: wt,
            fit_level: f.family.eval(&f.params, x_last),
        })
        .collect();
    members.retain(|mm| mm.weight > 1e-4 && mm.fit_level.is_finite());
    let total: f64 = members.iter().map(|mm| mm.weight).sum();
    if members.is_empty() || total <= 0.0 {
        return None;
    }
    for mm in &mut members {
        mm.weight /= total;
    }

    // Level at the end: the weighted fit, corrected by the residuals of the last points (a
    // curve that just collapsed or jumped is not where a monotone family says it is).
    let fitted_at = |xi: f64| -> f64 {
        members
            .iter()
            .map(|mm| mm.weight * mm.family.eval(&mm.params, xi))
            .sum()
    };
    let tail = (n / 3).clamp(3, 8).min(n);
    let rx: Vec<f64> = (n - tail..n).map(|i| d.x[i]).collect();
    let rr: Vec<f64> = (n - tail..n).map(|i| d.z[i] - fitted_at(d.x[i])).collect();
    // Robust (Theil–Sen) line through the last residuals, evaluated at the last point:
    // unbiased when the curve just turned away from the fit, and a single spike or a noisy
    // evaluation does not move it.
    let resid = theil_sen_at(&rx, &rr, x_last);
    let level = if naive {
        fitted_at(x_last)
    } else {
        fitted_at(x_last) + resid
    };

    // Trust in the extrapolated gain: did the holdout fits' gain from their last point come
    // true on the held-back points? Reused with the holdout errors on warm refits.
    let trust = match reuse {
        Some(wm) => wm.trust,
        None if naive => Trust::default(),
        None => holdout_trust(&x, &z, fit_n, &fulls, &holds, &weights),
    };
    new_warm.trust = trust;
    let core = Core {
        members,
        level,
        x_last,
        slope_cap: (!naive).then(|| (slope + CAP_SE * se).max(0.0)),
    };
    Some((core, new_warm, trust))
}

/// Standard errors of the recent slope added to it for the cap on each member's gain.
const CAP_SE: f64 = 1.0;

/// The least-squares factor on the holdout fits' extrapolated gain (weighted like the
/// members) that best explains the held-back points, measured from the holdout's last point.
fn holdout_trust(
    x: &[f64],
    z: &[f64],
    fit_n: usize,
    fulls: &[FamilyFit],
    holds: &[Option<Params>],
    weights: &[f64],
) -> Trust {
    if fit_n == 0 || fit_n >= x.len() {
        return Trust::default();
    }
    let xo = x[fit_n - 1];
    let total: f64 = holds
        .iter()
        .zip(weights)
        .filter(|(h, _)| h.is_some())
        .map(|(_, w)| w)
        .sum();
    if total <= 0.0 {
        return Trust::default();
    }
    let at = |xi: f64| -> f64 {
        holds
            .iter()
            .zip(weights)
            .zip(fulls)
            .filter_map(|((h, w), f)| h.map(|p| w * f.family.eval(&p, xi)))
            .sum::<f64>()
            / total
    };
    let level = at(xo);
    let mut t = Trust {
        horizon: (x[x.len() - 1] / xo).ln().max(0.0),
        ..Trust::default()
    };
    for i in fit_n..x.len() {
        let gain = at(x[i]) - level;
        let came = z[i] - level;
        if gain.is_finite() && came.is_finite() {
            t.sxy += gain * came;
            t.sxx += gain * gain;
            t.syy += came * came;
            t.points += 1;
        }
    }
    t
}

/// A fit is usable when it is finite, follows the data, and does not run off to absurd or
/// inadmissible values within a horizon ten times the observed one.
fn usable(f: &FamilyFit, x: &[f64], z: &[f64], x_last: f64, scale: &Scale) -> bool {
    let m = x.len() as f64;
    let var: f64 = {
        let mean = z.iter().sum::<f64>() / m;
        z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m
    };
    // Worse than a constant line: the family cannot describe this curve.
    if f.rss / m > var.max(1e-12) * 1.0001 {
        return false;
    }
    for factor in [1.0, 3.0, 10.0] {
        let v = f.family.eval(&f.params, x_last * factor);
        if !v.is_finite() || v.abs() > 50.0 || !scale.admissible(v) {
            return false;
        }
    }
    f.family
        .asymptote(&f.params)
        .is_none_or(|a| scale.admissible(a))
}
