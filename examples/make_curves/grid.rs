//! The tasks and their configurations: what is trained, and on which data.

use crate::data::{
    classification, digit_subset, digits_table, liber_primus, regression, Data, Table,
};
use crate::train::{init, train_loss, Act, Metric, Net, Opt, OptKind, Order, Schedule};
use anyhow::{bail, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use serde::Serialize;

/// One run's fixed plan; serialised as the `config_json` of the runs file.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// Hidden widths (empty: linear / logistic regression).
    pub hidden: Vec<usize>,
    /// Hidden-layer activation (left out of the JSON for linear models).
    pub act: Act,
    /// Character-embedding width (character models only).
    #[serde(skip_serializing_if = "is_zero")]
    pub embed: usize,
    pub optimizer: OptKind,
    pub lr: f64,
    pub weight_decay: f64,
    pub schedule: Schedule,
    pub batch: usize,
    /// Planned optimizer steps (every run does all of them).
    pub steps: u64,
    /// Evaluate every this many steps.
    pub eval_every: u64,
    /// Seed of the initial weights and the batch order.
    pub seed: u64,
    /// Multiplier of the default initial-weight range.
    pub init_scale: f64,
    /// Training rows used (`None`: all that are left after the validation split).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train_size: Option<usize>,
    /// Share of training labels flipped to another class.
    #[serde(skip_serializing_if = "is_zero_f")]
    pub label_noise: f64,
    /// Fine-tune from the body pretrained on digits 0–4 (`finetune` task only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pretrained: bool,
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

fn is_zero_f(v: &f64) -> bool {
    *v == 0.0
}

impl Config {
    pub fn base(optimizer: OptKind, lr: f64, steps: u64, eval_every: u64, batch: usize) -> Self {
        Self {
            hidden: Vec::new(),
            act: Act::Relu,
            embed: 0,
            optimizer,
            lr,
            weight_decay: 0.0,
            schedule: Schedule::Constant,
            batch,
            steps,
            eval_every,
            seed: 1,
            init_scale: 1.0,
            train_size: None,
            label_noise: 0.0,
            pretrained: false,
        }
    }
}

/// `1e-3` style, short and exact for the grid's values.
pub fn lr_tag(lr: f64) -> String {
    format!("{lr:e}")
}

pub fn sched_tag(s: Schedule) -> &'static str {
    match s {
        Schedule::Constant => "const",
        Schedule::Step => "step",
        Schedule::Cosine => "cos",
        Schedule::WarmupLinear => "wlin",
        Schedule::WarmupCosine => "wcos",
    }
}

pub fn opt_tag(o: OptKind) -> &'static str {
    match o {
        OptKind::Sgd => "sgd",
        OptKind::Momentum => "mom",
        OptKind::Adamw => "adamw",
    }
}

/// A task: one dataset, one metric, a small sweep of configurations.
pub struct Task {
    pub name: &'static str,
    pub metric: Metric,
    pub what: &'static str,
    pub runs: Vec<(String, Config)>,
}

pub fn tasks() -> Vec<Task> {
    let mut out = Vec::new();

    // 1. Iris, logistic regression with plain SGD on raw (unscaled) features,
    //    30 validation flowers: accuracy moves in steps of 1/30. Two seeds.
    let mut runs = Vec::new();
    for &lr in &[1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0] {
        for sched in [Schedule::Constant, Schedule::Step] {
            for seed in [1, 2] {
                let mut c = Config::base(OptKind::Sgd, lr, 1500, 25, 8);
                c.schedule = sched;
                c.seed = seed;
                runs.push((
                    format!("logreg-sgd-lr{}-{}-s{seed}", lr_tag(lr), sched_tag(sched)),
                    c,
                ));
            }
        }
    }
    out.push(Task {
        name: "iris/logreg-sgd",
        metric: Metric::Accuracy,
        what: "Iris (150 flowers, raw features in cm), logistic regression, plain SGD, two seeds, 30 validation flowers",
        runs,
    });

    // 2. Digits MLP, AdamW sweep: lr × width × schedule.
    let mut runs = Vec::new();
    for &lr in &[1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1] {
        for &w in &[32usize, 256] {
            for sched in [Schedule::Constant, Schedule::Cosine, Schedule::WarmupCosine] {
                let mut c = Config::base(OptKind::Adamw, lr, 2000, 100, 32);
                c.hidden = vec![w];
                c.weight_decay = 0.01;
                c.schedule = sched;
                c.seed = 10 + w as u64;
                runs.push((
                    format!("mlp{w}-adamw-lr{}-{}", lr_tag(lr), sched_tag(sched)),
                    c,
                ));
            }
        }
    }
    out.push(Task {
        name: "digits/mlp-adamw",
        metric: Metric::Accuracy,
        what: "UCI digits (8×8), one-hidden-layer MLP, AdamW, 300 validation images",
        runs,
    });

    // 3. Digits, deep ReLU MLP (3 × 64) with SGD / momentum, small and normal
    //    initial weights, step decay: plateaus before learning and late jumps.
    let mut runs = Vec::new();
    for opt in [OptKind::Sgd, OptKind::Momentum] {
        for &init_scale in &[0.4, 1.0] {
            for &lr in &[0.01, 0.03, 0.1, 0.3] {
                for sched in [Schedule::Step, Schedule::Constant] {
                    let mut c = Config::base(opt, lr, 3000, 30, 32);
                    c.hidden = vec![64, 64, 64];
                    c.init_scale = init_scale;
                    c.schedule = sched;
                    c.seed = 20;
                    runs.push((
                        format!(
                            "deep3x64-{}-init{init_scale}-lr{}-{}",
                            opt_tag(opt),
                            lr_tag(lr),
                            sched_tag(sched)
                        ),
                        c,
                    ));
                }
            }
        }
    }
    out.push(Task {
        name: "digits/deep-sgd",
        metric: Metric::Accuracy,
        what: "UCI digits, 3-hidden-layer ReLU MLP (64 each), SGD or momentum 0.9, initial weights ×0.4 or ×1, 100 validation images",
        runs,
    });

    // 4. Digits, small training sets (and noisy labels) with a validation loss:
    //    the loss turns up as the model memorises.
    let mut runs = Vec::new();
    for &n in &[50usize, 100, 200, 400, 1000] {
        for &noise in &[0.0, 0.2] {
            for &w in &[64usize, 512] {
                let mut c = Config::base(OptKind::Adamw, 1e-3, 2000, 20, 32);
                c.hidden = vec![w];
                c.train_size = Some(n);
                c.label_noise = noise;
                c.seed = 30 + n as u64;
                runs.push((format!("mlp{w}-n{n}-noise{noise}"), c));
            }
        }
    }
    out.push(Task {
        name: "digits/small-train",
        metric: Metric::Loss,
        what: "UCI digits, 50–1000 training images (optionally 20 % flipped labels), MLP, AdamW 1e-3, cross-entropy on 500 validation images",
        runs,
    });

    // 5. Breast cancer, MLP with momentum SGD on standardised features, lr from
    //    too small to far too large; 57 validation cases (steps of 1/57).
    let mut runs = Vec::new();
    for &lr in &[1e-4, 3e-4, 1e-3, 1e-2, 0.1, 0.3, 1.0] {
        for &batch in &[8usize, 64] {
            for sched in [Schedule::Constant, Schedule::Step] {
                let mut c = Config::base(OptKind::Momentum, lr, 1000, 5, batch);
                c.hidden = vec![64];
                c.schedule = sched;
                c.seed = 40 + batch as u64;
                runs.push((
                    format!("mlp64-mom-lr{}-b{batch}-{}", lr_tag(lr), sched_tag(sched)),
                    c,
                ));
            }
        }
    }
    out.push(Task {
        name: "breast_cancer/mlp-momentum",
        metric: Metric::Accuracy,
        what: "Wisconsin breast cancer (569 × 30, standardised), MLP 64, SGD momentum 0.9, 57 validation cases",
        runs,
    });

    // 6. Diabetes regression, linear and MLP models, SGD / momentum: too large
    //    rates diverge to NaN, wide MLPs overfit 354 training rows.
    let mut runs = Vec::new();
    for hidden in [vec![], vec![64], vec![256, 256]] {
        for opt in [OptKind::Sgd, OptKind::Momentum] {
            for &lr in &[3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.3] {
                let mut c = Config::base(opt, lr, 2000, 10, 16);
                let tag = match hidden.len() {
                    0 => "linear".to_string(),
                    1 => format!("mlp{}", hidden[0]),
                    _ => format!("mlp{}x{}", hidden[0], hidden.len()),
                };
                c.hidden = hidden.clone();
                c.seed = 60 + hidden.len() as u64;
                runs.push((format!("{tag}-{}-lr{}", opt_tag(opt), lr_tag(lr)), c));
            }
        }
    }
    out.push(Task {
        name: "diabetes/sgd-mse",
        metric: Metric::Mse,
        what: "Diabetes progression (442 × 10), linear or MLP regression, SGD or momentum, MSE in the target's units on 88 validation patients",
        runs,
    });

    // 7. Boston housing, AdamW with warm-up and linear decay (the Trainer default).
    let mut runs = Vec::new();
    for &lr in &[1e-4, 1e-3, 1e-2, 1e-1] {
        for &w in &[16usize, 128] {
            for &batch in &[16usize, 64] {
                for sched in [Schedule::WarmupLinear, Schedule::Constant] {
                    if sched == Schedule::Constant && batch == 64 {
                        continue;
                    }
                    let mut c = Config::base(OptKind::Adamw, lr, 1500, 60, batch);
                    c.hidden = vec![w, w];
                    c.weight_decay = 0.01;
                    c.schedule = sched;
                    c.seed = 70 + w as u64;
                    runs.push((
                        format!(
                            "mlp{w}x2-adamw-lr{}-b{batch}-{}",
                            lr_tag(lr),
                            sched_tag(sched)
                        ),
                        c,
                    ));
                }
            }
        }
    }
    out.push(Task {
        name: "boston/adamw-mse",
        metric: Metric::Mse,
        what: "Boston housing (506 × 13, standardised), 2-hidden-layer MLP, AdamW with warm-up + linear decay or constant, MSE in ($1000)² on 101 validation tracts",
        runs,
    });

    // 8. Character language model on Liber Primus: bits per character.
    let mut runs = Vec::new();
    let char_grid: [(OptKind, &[f64], &[Schedule]); 2] = [
        (
            OptKind::Adamw,
            &[3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
            &[Schedule::Constant, Schedule::Cosine, Schedule::WarmupCosine],
        ),
        (
            OptKind::Momentum,
            &[0.03, 0.1, 0.3, 1.0],
            &[Schedule::Constant, Schedule::Step],
        ),
    ];
    for (opt, lrs, scheds) in char_grid {
        for &lr in lrs {
            for &sched in scheds {
                let mut c = Config::base(opt, lr, 3000, 25, 64);
                c.hidden = vec![256];
                c.act = Act::Tanh;
                c.embed = 24;
                c.schedule = sched;
                c.seed = 80;
                runs.push((
                    format!(
                        "charmlp256-{}-lr{}-{}",
                        opt_tag(opt),
                        lr_tag(lr),
                        sched_tag(sched)
                    ),
                    c,
                ));
            }
        }
    }
    out.push(Task {
        name: "liber_primus/char-mlp",
        metric: Metric::Bpc,
        what: "Character model of Cicero's Liber Primus (16-character context, embedding 24, tanh MLP 256), bits per character on every held-out window",
        runs,
    });

    // 9. A wider character model on part of the training text: on a few
    //    thousand characters it memorises, and held-out bits per character turn up.
    let mut runs = Vec::new();
    for &chars in &[5_000usize, 15_000, 44_000] {
        for &lr in &[1e-3, 3e-3] {
            for sched in [Schedule::Constant, Schedule::WarmupCosine] {
                let mut c = Config::base(OptKind::Adamw, lr, 4000, 40, 64);
                c.hidden = vec![512];
                c.act = Act::Tanh;
                c.embed = 32;
                c.schedule = sched;
                c.weight_decay = 0.01;
                c.train_size = Some(chars);
                c.seed = 85;
                runs.push((
                    format!(
                        "charmlp512-text{}k-adamw-lr{}-{}",
                        chars / 1000,
                        lr_tag(lr),
                        sched_tag(sched)
                    ),
                    c,
                ));
            }
        }
    }
    out.push(Task {
        name: "liber_primus/char-mlp-small-text",
        metric: Metric::Bpc,
        what: "The same text and held-out windows, a wider character model (embedding 32, tanh MLP 512) trained on the first 5 000, 15 000 or all ≈ 44 000 training characters, AdamW, 4 000 steps of 64 windows",
        runs,
    });

    // 10. Fine-tuning: a body pretrained on digits 0–4, a new head for 5–9 with
    //    20–250 labelled images; validation loss on 200 images of 5–9.
    let mut runs = Vec::new();
    for &n in &[20usize, 50, 100, 250] {
        for &lr in &[1e-4, 3e-4, 1e-3, 3e-3, 1e-2] {
            let mut c = Config::base(OptKind::Adamw, lr, 400, 25, 16);
            c.hidden = vec![128, 128];
            c.weight_decay = 0.01;
            c.schedule = Schedule::WarmupLinear;
            c.train_size = Some(n);
            c.pretrained = true;
            c.seed = 90 + n as u64;
            runs.push((format!("ft-n{n}-lr{}", lr_tag(lr)), c));
        }
    }
    out.push(Task {
        name: "digits/finetune",
        metric: Metric::Loss,
        what: "UCI digits 5–9, fine-tuning an MLP body pretrained on digits 0–4 (new head), 20–250 training images, AdamW with warm-up + linear decay, cross-entropy on 200 validation images",
        runs,
    });
    out
}

/// The data a configuration of a task trains on.
pub fn data_for(task: &Task, cfg: &Config, cache: &mut DataCache) -> Result<Data> {
    match task.name {
        "iris/logreg-sgd" => {
            let t = Table::from_dataset(smartcore::dataset::iris::load_dataset(), |v: u32| v)?;
            classification(&t, 3, 30, 1, cfg.train_size, cfg.label_noise, cfg.seed)
        }
        "digits/mlp-adamw" => classification(&digits_table()?, 10, 300, 2, None, 0.0, cfg.seed),
        "digits/deep-sgd" => classification(&digits_table()?, 10, 100, 3, None, 0.0, cfg.seed),
        "digits/small-train" => classification(
            &digits_table()?,
            10,
            500,
            4,
            cfg.train_size,
            cfg.label_noise,
            cfg.seed,
        ),
        "breast_cancer/mlp-momentum" => {
            let mut t = Table::from_dataset(
                smartcore::dataset::breast_cancer::load_dataset(),
                |v: u32| v,
            )?;
            t.standardise();
            classification(&t, 2, 57, 5, None, 0.0, cfg.seed)
        }
        "diabetes/sgd-mse" => {
            let ds = smartcore::dataset::diabetes::load_dataset();
            let y = ds.target.iter().map(|&v| f64::from(v)).collect();
            regression(ds.data, y, ds.num_features, 88, 6)
        }
        "boston/adamw-mse" => {
            let ds = smartcore::dataset::boston::load_dataset();
            let y = ds.target.iter().map(|&v| f64::from(v)).collect();
            regression(ds.data, y, ds.num_features, 101, 7)
        }
        "liber_primus/char-mlp" | "liber_primus/char-mlp-small-text" => {
            liber_primus(16, cfg.train_size)
        }
        "digits/finetune" => finetune_data(cfg, cache),
        other => bail!("no data for task {other}"),
    }
}

/// Digits split by class for the fine-tuning task, and the pretrained body.
#[derive(Default)]
pub struct DataCache {
    /// Variables of the body (`l0.*`, `l1.*`) after pretraining on digits 0–4.
    pub body: Option<Vec<(String, Tensor)>>,
}

pub fn finetune_data(cfg: &Config, cache: &mut DataCache) -> Result<Data> {
    let t = digits_table()?;
    if cache.body.is_none() {
        cache.body = Some(pretrain_body(&digit_subset(&t, 0), &cfg.hidden)?);
    }
    classification(
        &digit_subset(&t, 5),
        5,
        200,
        9,
        cfg.train_size,
        0.0,
        cfg.seed,
    )
}

/// Pretrain the fine-tuning body on digits 0–4 (AdamW 1e-3, 1 500 steps of 64).
/// Its cost is not part of any fine-tuning run's energy, as in real fine-tunes.
pub fn pretrain_body(t: &Table, hidden: &[usize]) -> Result<Vec<(String, Tensor)>> {
    // Every image of digits 0–4 but one (the split wants a validation row).
    let data = classification(t, 5, 1, 99, None, 0.0, 99)?;
    let mut cfg = Config::base(OptKind::Adamw, 1e-3, 1500, 1500, 64);
    cfg.hidden = hidden.to_vec();
    let varmap = VarMap::new();
    let net = Net::new(
        &VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu),
        &data,
        &cfg,
    )?;
    init(&varmap, 99, 1.0)?;
    let mut opt = Opt::new(varmap.all_vars(), &cfg)?;
    let mut order = Order::new(data.train.len(), 99);
    for _ in 0..cfg.steps {
        let batch = data.train.rows(&order.next(cfg.batch))?;
        opt.step(&train_loss(&net, &batch)?.backward()?)?;
    }
    let vars = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("VarMap lock poisoned"))?;
    Ok(vars
        .iter()
        .filter(|(k, _)| !k.starts_with("out"))
        .map(|(k, v)| (k.clone(), v.as_tensor().clone()))
        .collect())
}
