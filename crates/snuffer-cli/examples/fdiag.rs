//! Temporary research diagnostic (not committed).
use snuffer_forecast::{Bounds, ForecastConfig, Forecaster};
use snuffer_policy::curves::read_curves;
fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let runs = read_curves(std::path::Path::new(&a[1]))?;
    let frac: f64 = a[2].parse()?;
    let every: usize = a.get(3).map_or(Ok(1), |s| s.parse())?;
    for (i, r) in runs.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        let n = r.len();
        let k = ((frac * n as f64).ceil() as usize).max(3).min(n);
        let vals: Vec<f64> = r.metrics[..k].to_vec();
        if vals.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let lo = vals.iter().cloned().fold(f64::INFINITY, f64::min);
        let b = if r.higher_is_better && lo >= 0.0 && vals.iter().all(|v| *v <= 1.0) {
            Bounds {
                lower: Some(0.0),
                upper: Some(1.0),
            }
        } else if !r.higher_is_better && lo >= 0.0 {
            Bounds {
                lower: Some(0.0),
                upper: None,
            }
        } else {
            Bounds::default()
        };
        let mut f = Forecaster::new(ForecastConfig::new(r.direction()).with_bounds(b));
        let fc = f.fit_history(&r.steps[..k], &vals, 1.2)?;
        let last = *r.steps.last().unwrap();
        let (l, h) = fc.interval(last, 0.8);
        let c = fc.calibration();
        println!("{} {} k={} last={:.4} pred={:.4} [{:.4},{:.4}] act={:.4} | trust {:.2}({}) gsd {:.2} up {:.2} lo {:.2} checks {} trend {:.2}",
            r.task, r.run_id, k, vals[k-1], fc.median(last), l, h, r.metrics[n-1], c.extrapolation_trust, c.holdout_points, c.gain_sd, c.upper, c.lower, c.forecast_checks, c.trend_trust);
    }
    Ok(())
}
