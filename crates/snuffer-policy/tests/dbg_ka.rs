use snuffer_forecast::{Direction, ForecastConfig, Forecaster};
#[test]
fn dbg() {
    let (m_inf, k, c, t_star) = (0.9f64, 40.0f64, 0.01f64, 120.0f64);
    let tau = m_inf / (k * c) * (-t_star / k).exp();
    let steps: Vec<f64> = (1..=200).map(|t| t as f64).collect();
    let vals: Vec<f64> = steps
        .iter()
        .map(|t| m_inf * (1.0 - (-t / k).exp()))
        .collect();
    let mut f = Forecaster::new(ForecastConfig::new(Direction::HigherIsBetter));
    let mut next = 3usize;
    for n in 3..=145 {
        let fc = if n >= next {
            next = ((n as f64 * 1.2).ceil() as usize).max(n + 1);
            f.fit(&steps[..n], &vals[..n]).unwrap()
        } else {
            f.refresh(&steps[..n], &vals[..n]).unwrap()
        };
        if n < 112 || n % 3 != 0 {
            continue;
        }
        let t = n as f64;
        let best = vals[n - 1];
        for share in [0.125f64, 0.25] {
            let h = t + share * (200.0 - t);
            let e = fc.expected_excess(h, best);
            let cx = fc.continuation_excess(h, best);
            let truth = m_inf * (1.0 - (-h / k).exp()) - best;
            eprintln!("n {n} h {h:.0} ens {e:.5} cont {cx:.5} truth {truth:.5} cost {:.5} med-err {:.6} q90 {:.6}", tau*c*(h-t), fc.median(h) - m_inf*(1.0-(-h/k).exp()), fc.quantile(h,0.9)-fc.median(h));
        }
    }
}
