//! Linear time: `snuffer replay`, `snuffer whatif`'s path and `snuffer plan` at 10 000 and
//! 100 000 evaluations (rows), and the time ratio 100k / 10k (about 10 when the cost grows
//! linearly; the goal is ≤ 15).
//!
//! ```text
//! cargo bench -p snuffer-cli --bench linear
//! cargo bench -p snuffer-cli --bench linear -- replay      # one group
//! ```
//!
//! * **replay**: one recorded run through `AnyOf(Divergence, MarginalGain)`, as
//!   `snuffer replay --policy marginal` builds it, at τ = 0 so the run is never stopped and
//!   every evaluation is observed (refits on the geometric cadence, a refresh of the trend
//!   at every evaluation, the rule's checks).
//! * **whatif**: the bytes of a Lightning `metrics.csv` imported (`csv_history::parse`),
//!   turned into a curve with recorded time × 300 W, and replayed as above.
//! * **plan**: an intensity CSV of five-minute rows parsed, then the best start of a 4-hour
//!   run searched over the whole series.
//!
//! The inputs are generated here (deterministic noisy curves). The time measured is the
//! benchmark thread's CPU time (`getrusage(RUSAGE_THREAD)`): on a shared machine it is the
//! steady figure, where wall time counts the other processes too. Each group prints
//! criterion's statistics; the last lines print the ratios of the mean times per iteration.

use criterion::Criterion;
use snuffer_energy::{Joules, Watts};
use snuffer_footprint::{plan, IntensitySeries, Window};
use snuffer_import::{ImportOptions, Power};
use snuffer_policy::{AnyOf, Divergence, MarginalGain, MarginalGainConfig, StopPolicy, Tau};
use snuffer_replay::curves::{CurveRun, EnergyAssumptions};
use snuffer_replay::replay::{replay_run, ReplayConfig};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

const SIZES: [usize; 2] = [10_000, 100_000];

/// Total time and iterations measured, per (group, size).
type Times = BTreeMap<(&'static str, usize), (Duration, u64)>;

/// What every measurement took, for the ratios.
static TIMES: Mutex<Times> = Mutex::new(BTreeMap::new());

/// CPU time of the calling thread so far.
fn thread_cpu() -> Duration {
    // SAFETY: `getrusage` only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a `rusage`; RUSAGE_THREAD is Linux's per-thread usage.
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut u) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// A deterministic noisy loss curve (pseudo-random noise, no dependency).
fn loss(i: usize) -> f64 {
    let noise = ((i.wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0 - 0.5) * 0.02;
    0.3 + 2.0 * (i as f64).powf(-0.3) + noise
}

fn curve(n: usize) -> CurveRun {
    CurveRun {
        source: "bench".into(),
        task: "long".into(),
        run_id: format!("run-{n}"),
        metric_name: "val_loss".into(),
        higher_is_better: false,
        steps: (1..=n).map(|i| (10 * i) as f64).collect(),
        metrics: (1..=n).map(loss).collect(),
        epoch_time_s: Some(vec![0.5; n]),
        energy_j: Some(vec![150.0; n]),
    }
}

fn metrics_csv(n: usize) -> Vec<u8> {
    let mut s = String::from("epoch,step,val_loss,_runtime\n");
    for i in 1..=n {
        s.push_str(&format!(
            "{i},{},{:.6},{}\n",
            10 * i,
            loss(i),
            i as f64 * 0.5
        ));
    }
    s.into_bytes()
}

fn intensity_csv(n: usize) -> Vec<u8> {
    let t0 = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
        .expect("a valid time")
        .with_timezone(&chrono::Utc);
    let mut s = String::from("timestamp,g_per_kwh\n");
    for i in 0..n {
        let t = t0 + chrono::Duration::minutes(5 * i as i64);
        let v = 200.0 + 100.0 * (i as f64 / 288.0 * std::f64::consts::TAU).sin() + loss(i + 1);
        s.push_str(&format!("{},{v:.1}\n", t.format("%Y-%m-%dT%H:%M:%SZ")));
    }
    s.into_bytes()
}

/// The policy `snuffer replay --policy marginal` builds, at τ = 0 (never stops).
fn policy() -> AnyOf {
    AnyOf::new()
        .with(Divergence::non_finite())
        .with(MarginalGain::new(MarginalGainConfig::new(Tau::PerKwh(0.0))).expect("a valid policy"))
}

fn timed(c: &mut Criterion, group: &'static str, n: usize, mut f: impl FnMut()) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    g.bench_function(format!("{n}"), |b| {
        b.iter_custom(|iters| {
            let start = thread_cpu();
            for _ in 0..iters {
                f();
            }
            let took = thread_cpu().saturating_sub(start);
            if let Ok(mut t) = TIMES.lock() {
                let e = t.entry((group, n)).or_default();
                e.0 += took;
                e.1 += iters;
            }
            took
        })
    });
    g.finish();
}

fn replay(c: &mut Criterion) {
    for n in SIZES {
        let run = curve(n);
        let config = ReplayConfig::default();
        let mut p = policy();
        timed(c, "replay", n, || {
            let r = replay_run(&run, &mut p as &mut dyn StopPolicy, &config);
            assert!(!r.stopped);
            black_box(r);
        });
    }
}

fn whatif(c: &mut Criterion) {
    for n in SIZES {
        let bytes = metrics_csv(n);
        let power = Power::given(300.0).expect("a valid power");
        let config = ReplayConfig {
            energy: EnergyAssumptions {
                power: Watts(300.0),
                step_energy: Joules(1.0),
            },
            ..ReplayConfig::default()
        };
        let mut p = policy();
        timed(c, "whatif", n, || {
            let run = snuffer_import::csv_history::parse(
                &bytes,
                Path::new("metrics.csv"),
                &ImportOptions::default(),
            )
            .expect("a valid history");
            let (curve, _) = run.to_curve(Some(&power), Joules(1.0));
            let r = replay_run(&curve, &mut p as &mut dyn StopPolicy, &config);
            assert_eq!(r.stop_step, (10 * n) as f64);
            black_box(r);
        });
    }
}

fn plan_series(c: &mut Criterion) {
    for n in SIZES {
        let bytes = intensity_csv(n);
        timed(c, "plan", n, || {
            let series = IntensitySeries::from_csv_reader(bytes.as_slice()).expect("a series");
            let p = plan(
                &series,
                Joules::from_kwh(10.0),
                Duration::from_secs(4 * 3600),
                Window {
                    earliest_start: series.start(),
                    deadline: None,
                },
            )
            .expect("a plan");
            black_box(p);
        });
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    replay(&mut c);
    whatif(&mut c);
    plan_series(&mut c);
    c.final_summary();
    let Ok(t) = TIMES.lock() else {
        return;
    };
    let mean = |g: &'static str, n: usize| {
        t.get(&(g, n))
            .filter(|(_, iters)| *iters > 0)
            .map(|(d, iters)| d.as_secs_f64() / *iters as f64)
    };
    for g in ["replay", "whatif", "plan"] {
        if let (Some(a), Some(b)) = (mean(g, SIZES[0]), mean(g, SIZES[1])) {
            println!(
                "{g}: {:.4} s at {}, {:.4} s at {}: ratio {:.1} (goal ≤ 15)",
                a,
                SIZES[0],
                b,
                SIZES[1],
                b / a
            );
        }
    }
}
