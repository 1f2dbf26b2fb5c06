//! Development tool: score many `MarginalGain` settings on a folder of curves at once, with
//! the project's evaluator maths (per task: energy normalised so the median full run is
//! 1 kWh, τ = τ_n × the median improvement; capture pooled per source). Forecasts are fitted
//! once per run (same cadence as the replay) and shared by every setting.
//!
//! usage: cargo run --release -p snuffer-policy --example tune -- DIR \
//!        level,warmup,consecutive,min_evals,idle_warmup,agree_span ...
//!
//! e.g. `0.95,0.15,3,5,0,0.05` (the defaults). LCDB files are left out, as the evaluator does.

use snuffer_energy::{Joules, Provenance};
use snuffer_forecast::{Forecast, Forecaster};
use snuffer_policy::curves::{read_curves, CurveRun, EnergyAssumptions};
use snuffer_policy::replay::forecast_config_for;
use snuffer_policy::{Decision, MarginalGain, MarginalGainConfig, Observation, StopPolicy, Tau};
use std::collections::BTreeMap;

struct Prepared {
    run: CurveRun,
    kwh: Vec<f64>,
    b: Vec<f64>,
    imp: f64,
    forecasts: Vec<Option<Forecast>>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        anyhow::bail!("usage: tune DIR SETTING...");
    };
    let mut runs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        if !name.ends_with(".csv") || name.starts_with("lcdb") {
            continue;
        }
        if let Ok(r) = read_curves(&p) {
            runs.extend(r);
        }
    }
    let unit = EnergyAssumptions {
        power: snuffer_energy::Watts(1.0),
        step_energy: Joules(1.0),
    };
    let mut by_task: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut prepared = Vec::new();
    let t0 = std::time::Instant::now();
    for run in runs {
        let e: Vec<f64> = run.cumulative_energy(unit).iter().map(|j| j.0).collect();
        let g: Vec<f64> = run
            .metrics
            .iter()
            .map(|&m| run.direction().orient(m))
            .collect();
        let Some(worst) = g.iter().copied().filter(|v| v.is_finite()).reduce(f64::min) else {
            continue;
        };
        let mut best = f64::NEG_INFINITY;
        let b: Vec<f64> = g
            .iter()
            .map(|&v| {
                best = best.max(if v.is_finite() { v } else { worst });
                best
            })
            .collect();
        by_task
            .entry(run.task.clone())
            .or_default()
            .push((b[b.len() - 1] - b[0].min(g[0]), e[e.len() - 1]));
        // Forecast cadence as in replay; fractional steps are scaled to whole ones alike.
        let mut run = run;
        if run.steps.iter().any(|s| s.fract() != 0.0) {
            run.steps.iter_mut().for_each(|s| *s = (*s * 1e6).round());
        }
        let mut f = Forecaster::new(forecast_config_for(&run));
        let (mut xs, mut ys, mut next, mut last_fit) =
            (Vec::new(), Vec::new(), f.min_points(), f64::NEG_INFINITY);
        let span = run.steps[run.len() - 1] / 10.0;
        let forecasts = (0..run.len())
            .map(|i| {
                let (x, y) = (run.steps[i], run.metrics[i]);
                if !y.is_finite() {
                    return None;
                }
                if xs.last() == Some(&x) {
                    if let Some(last) = ys.last_mut() {
                        *last = y;
                    }
                } else {
                    xs.push(x);
                    ys.push(y);
                }
                if xs.len() >= next.max(f.min_points()) || x - last_fit >= span {
                    if xs.len() < f.min_points() {
                        return None;
                    }
                    next = ((xs.len() as f64 * 1.2).ceil() as usize).max(xs.len() + 1);
                    last_fit = x;
                    return f.fit(&xs, &ys).ok();
                }
                None
            })
            .collect();
        prepared.push(Prepared {
            run,
            kwh: e,
            b,
            imp: 0.0,
            forecasts,
        });
    }
    eprintln!("fitted in {:.1} s", t0.elapsed().as_secs_f64());
    let scales: BTreeMap<String, (f64, f64)> = by_task
        .into_iter()
        .map(|(t, v)| {
            let imp = median(v.iter().map(|p| p.0).collect());
            let en = median(v.iter().map(|p| p.1).collect());
            (
                t,
                (
                    if imp > 1e-12 { imp } else { 1.0 },
                    if en > 0.0 { en } else { 1.0 },
                ),
            )
        })
        .collect();
    for p in &mut prepared {
        let (imp, en) = scales[&p.run.task];
        p.imp = imp;
        p.kwh.iter_mut().for_each(|e| *e /= en);
    }
    let prov = Provenance::Counter;
    for spec in &args[1..] {
        let v: Vec<f64> = spec
            .split(',')
            .map(|s| s.parse::<f64>())
            .collect::<Result<_, _>>()?;
        anyhow::ensure!(
            v.len() == 6,
            "a setting is level,warmup,consecutive,min_evals,idle_warmup,agree_span; got {spec}"
        );
        let mut line = format!("{spec}:");
        for tn in [0.1, 0.3] {
            let mut per: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
            for p in &prepared {
                let cfg = MarginalGainConfig::new(Tau::PerKwh(tn * p.imp))
                    .with_level(v[0])
                    .with_warmup_fraction(v[1])
                    .with_consecutive(v[2] as u32)
                    .with_min_evaluations(v[3] as usize)
                    .with_idle_warmup_fraction(v[4])
                    .with_agree_span_fraction(v[5]);
                let mut pol = MarginalGain::new(cfg)?;
                let n = p.run.len();
                let planned = p.run.steps[n - 1].round() as u64;
                let mut stop = n - 1;
                for i in 0..n {
                    let m = p.run.metrics[i];
                    if !m.is_finite() {
                        stop = i;
                        break;
                    }
                    let obs = Observation {
                        step: p.run.steps[i].round() as u64,
                        planned_steps: Some(planned),
                        elapsed: Default::default(),
                        energy: Joules::from_kwh(p.kwh[i]),
                        provenance: &prov,
                        recent_power: None,
                        metric: Some(m),
                        loss: None,
                        direction: p.run.direction(),
                        forecast: p.forecasts[i].as_ref(),
                    };
                    if let Decision::Stop(_) = pol.observe(&obs) {
                        stop = i;
                        break;
                    }
                }
                let u = |k: usize| p.b[k] / p.imp - tn * p.kwh[k];
                let oracle = (0..n).fold(0, |o, k| if u(k) > u(o) { k } else { o });
                let e = per.entry(p.run.source.clone()).or_default();
                e.0 += u(stop) - u(n - 1);
                e.1 += u(oracle) - u(n - 1);
                e.2 += 1;
            }
            let (mut g, mut o) = (0.0, 0.0);
            let mut parts = String::new();
            for (s, (gs, os, k)) in &per {
                g += gs / *k as f64;
                o += os / *k as f64;
                parts += &format!(" {s}={:.2}", gs / os);
            }
            line += &format!("  tn={tn}: {:.3} [{parts} ]", g / o);
        }
        println!("{line}");
    }
    Ok(())
}
