//! Overhead of Snuffer on the quickstart model: one AdamW step on the digits MLP
//! (64 → 128 → 10, batch 32), bare versus wrapped in `SnufferOptimizer`, in the
//! same process on the same batches. Also the cost of `Run::step` alone.
//!
//! Besides criterion's report, the bench prints an interleaved A/B ratio
//! (wrapped / bare): blocks of steps alternate between the two so that drift
//! in the machine's speed hits both equally.
//!
//! `cargo bench --bench overhead`
#[path = "../examples/common/mod.rs"]
mod common;

use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use common::{batch_loss, seeded_init, Batches, Digits, Mlp};
use criterion::Criterion;
use snuffer::candle::SnufferOptimizer;
use snuffer::energy::{ConstantMeter, Meter, Watts};
use snuffer::{forecast::Direction, Progress, Run};
use std::hint::black_box;
use std::time::Instant;

struct Setup {
    data: Digits,
    batches: Vec<Tensor>,
}

fn model(data: &Digits) -> anyhow::Result<(VarMap, Mlp)> {
    let varmap = VarMap::new();
    let mlp = Mlp::new(
        VarBuilder::from_varmap(&varmap, DType::F32, data.train_x.device()),
        64,
        128,
        10,
    )?;
    seeded_init(&varmap, 1)?;
    Ok((varmap, mlp))
}

/// Two identical models, one with a bare AdamW and one with the same AdamW
/// wrapped in a run: the two sides of every comparison here.
fn pair(
    s: &Setup,
    dir: &std::path::Path,
    name: &str,
) -> anyhow::Result<(Mlp, AdamW, Mlp, SnufferOptimizer<AdamW>)> {
    let params = ParamsAdamW {
        lr: 1e-3,
        ..Default::default()
    };
    let (bare_map, bare_mlp) = model(&s.data)?;
    let bare = AdamW::new(bare_map.all_vars(), params.clone())?;
    let (wrapped_map, wrapped_mlp) = model(&s.data)?;
    let wrapped = run(dir, name)?.wrap(AdamW::new(wrapped_map.all_vars(), params)?);
    Ok((bare_mlp, bare, wrapped_mlp, wrapped))
}

fn run(dir: &std::path::Path, name: &str) -> anyhow::Result<Run> {
    // The default meters (CPU estimate on this VM) and sampler: what a user gets.
    Ok(Run::builder(name)
        .out_dir(dir.join(name))
        .metric("val_acc", Direction::HigherIsBetter)
        .progress(Progress::Quiet)
        .build()?)
}

fn bench(c: &mut Criterion, s: &Setup, dir: &std::path::Path) -> anyhow::Result<()> {
    let (bare_mlp, mut bare, wrapped_mlp, mut wrapped) = pair(s, dir, "criterion")?;
    let mut group = c.benchmark_group("optimizer_step");
    let mut i = 0;
    group.bench_function("bare", |b| {
        b.iter(|| {
            i = (i + 1) % s.batches.len();
            let loss = batch_loss(&bare_mlp, &s.data.train_x, &s.data.train_y, &s.batches[i])
                .expect("loss");
            bare.backward_step(&loss).expect("step");
        })
    });
    group.bench_function("wrapped", |b| {
        b.iter(|| {
            i = (i + 1) % s.batches.len();
            let loss = batch_loss(
                &wrapped_mlp,
                &s.data.train_x,
                &s.data.train_y,
                &s.batches[i],
            )
            .expect("loss");
            wrapped.backward_step(&loss).expect("step");
        })
    });
    group.finish();
    let meters: Vec<Box<dyn Meter>> = vec![Box::new(ConstantMeter::new("bench", Watts(50.0))?)];
    let mut bare_run = Run::builder("run-step")
        .out_dir(dir.join("run-step"))
        .metric("m", Direction::HigherIsBetter)
        .meters(meters)
        .progress(Progress::Quiet)
        .build()?;
    c.bench_function("run_step_alone", |b| {
        b.iter(|| black_box(&mut bare_run).step())
    });
    Ok(())
}

/// Interleaved A/B: `rounds` × (block of bare steps, block of wrapped steps),
/// the order alternating each round. Returns the per-step medians and the
/// quartiles (25 %, 50 %, 75 %) of the per-round paired ratios wrapped/bare:
/// pairing cancels the slow drifts of a shared machine.
fn interleaved(
    s: &Setup,
    dir: &std::path::Path,
    rounds: usize,
    block: usize,
) -> anyhow::Result<(f64, f64, [f64; 3])> {
    let (bare_mlp, mut bare, wrapped_mlp, mut wrapped) = pair(s, dir, "interleaved")?;
    let (x, y) = (&s.data.train_x, &s.data.train_y);
    let (mut tb, mut tw) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let (mut b, mut w) = (0.0, 0.0);
        for pass in 0..2 {
            let do_bare = (r + pass) % 2 == 0;
            let t = Instant::now();
            for k in 0..block {
                let idx = &s.batches[(r * block + k) % s.batches.len()];
                if do_bare {
                    bare.backward_step(&batch_loss(&bare_mlp, x, y, idx)?)?;
                } else {
                    wrapped.backward_step(&batch_loss(&wrapped_mlp, x, y, idx)?)?;
                }
            }
            let per_step = t.elapsed().as_secs_f64() / block as f64;
            if do_bare {
                b = per_step
            } else {
                w = per_step
            }
        }
        tb.push(b);
        tw.push(w);
    }
    let mut ratios: Vec<f64> = tw.iter().zip(&tb).map(|(w, b)| w / b).collect();
    let quantile = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * q).round() as usize]
    };
    let q = [
        quantile(&mut ratios, 0.25),
        quantile(&mut ratios, 0.5),
        quantile(&mut ratios, 0.75),
    ];
    Ok((quantile(&mut tb, 0.5), quantile(&mut tw, 0.5), q))
}

fn main() -> anyhow::Result<()> {
    let threads = common::setup_threads();
    eprintln!("{threads}");
    let dev = Device::Cpu;
    let data = Digits::load(500, 7, &dev)?;
    let mut b = Batches::new(data.n_train(), 32, 1, &dev);
    let batches = (0..256)
        .map(|_| b.next_indices())
        .collect::<candle_core::Result<Vec<_>>>()?;
    let setup = Setup { data, batches };
    let dir = tempfile::tempdir()?;
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &setup, dir.path())?;
    c.final_summary();
    let (bare, wrapped, q) = interleaved(&setup, dir.path(), 60, 200)?;
    println!(
        "interleaved A/B, 60 rounds × 200 steps: median bare {:.1} µs/step, wrapped {:.1} µs/step; \
         paired ratio wrapped/bare: median {:.4} (quartiles {:.4}–{:.4}); goal ≤ 1.003",
        bare * 1e6,
        wrapped * 1e6,
        q[1],
        q[0],
        q[2]
    );
    Ok(())
}
