//! Datasets that ship inside crates, split and scaled for training.

use crate::common::Rng;
use anyhow::Result;
use candle_core::{Device, Tensor};

/// Inputs and targets of one split.
#[derive(Clone)]
pub struct Split {
    /// `[n, features]` f32, or `[n, context]` u32 character ids.
    pub x: Tensor,
    /// `[n]` u32 class labels, or `[n]` f32 standardised regression targets.
    pub y: Tensor,
}

impl Split {
    pub fn len(&self) -> usize {
        self.x.dims()[0]
    }

    pub fn rows(&self, idx: &[u32]) -> candle_core::Result<Split> {
        let i = Tensor::new(idx, self.x.device())?;
        Ok(Split {
            x: self.x.index_select(&i, 0)?,
            y: self.y.index_select(&i, 0)?,
        })
    }
}

/// A dataset ready for training.
pub struct Data {
    pub train: Split,
    pub val: Split,
    /// Input width (features, or the context length for character ids).
    pub inputs: usize,
    /// Output width: classes, or 1 for regression.
    pub outputs: usize,
    /// Standard deviation of the regression target (to report MSE in its units).
    pub y_scale: f64,
    /// Vocabulary size for character models.
    pub vocab: Option<usize>,
}

/// Rows of a dense table with integer labels.
pub struct Table {
    pub x: Vec<f32>,
    pub labels: Vec<u32>,
    pub features: usize,
}

impl Table {
    pub fn n(&self) -> usize {
        self.labels.len()
    }

    pub fn from_dataset<Y: Copy>(
        ds: smartcore::dataset::Dataset<f32, Y>,
        label: impl Fn(Y) -> u32,
    ) -> Result<Self> {
        let (n, f) = (ds.num_samples, ds.num_features);
        anyhow::ensure!(
            ds.data.len() == n * f && ds.target.len() == n,
            "dataset has an unexpected layout"
        );
        Ok(Self {
            x: ds.data,
            labels: ds.target.into_iter().map(label).collect(),
            features: f,
        })
    }

    /// Scale every feature to mean 0 and variance 1 (statistics of all rows:
    /// what most users do before the split, and harmless here).
    pub fn standardise(&mut self) {
        let (n, f) = (self.n(), self.features);
        for j in 0..f {
            let col = (0..n).map(|i| f64::from(self.x[i * f + j]));
            let mean = col.clone().sum::<f64>() / n as f64;
            let var = col.map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
            let sd = var.sqrt().max(1e-12);
            for i in 0..n {
                self.x[i * f + j] = ((f64::from(self.x[i * f + j]) - mean) / sd) as f32;
            }
        }
    }

    pub fn features_of(&self, idx: &[usize]) -> Vec<f32> {
        let f = self.features;
        idx.iter()
            .flat_map(|&i| self.x[i * f..(i + 1) * f].iter().copied())
            .collect()
    }
}

/// Classification data from a table: `n_val` rows picked by `split_seed` for
/// validation, the training set optionally cut to `train_size` rows and its
/// labels flipped to a random other class with probability `label_noise`.
pub fn classification(
    table: &Table,
    classes: usize,
    n_val: usize,
    split_seed: u64,
    train_size: Option<usize>,
    label_noise: f64,
    noise_seed: u64,
) -> Result<Data> {
    let dev = Device::Cpu;
    let mut idx: Vec<usize> = (0..table.n()).collect();
    Rng::new(split_seed).shuffle(&mut idx);
    anyhow::ensure!(n_val < idx.len(), "validation set larger than the data");
    let (val_idx, train_all) = idx.split_at(n_val);
    let train_idx = &train_all[..train_size.unwrap_or(train_all.len()).min(train_all.len())];
    let mut noise = Rng::new(noise_seed ^ 0x004E_015E);
    let train_labels: Vec<u32> = train_idx
        .iter()
        .map(|&i| {
            let y = table.labels[i];
            if label_noise > 0.0 && noise.uniform() < label_noise {
                // A different class, uniformly.
                ((y as usize + 1 + noise.below(classes - 1)) % classes) as u32
            } else {
                y
            }
        })
        .collect();
    let f = table.features;
    Ok(Data {
        train: Split {
            x: Tensor::from_vec(table.features_of(train_idx), (train_idx.len(), f), &dev)?,
            y: Tensor::from_vec(train_labels, train_idx.len(), &dev)?,
        },
        val: Split {
            x: Tensor::from_vec(table.features_of(val_idx), (val_idx.len(), f), &dev)?,
            y: Tensor::from_vec(
                val_idx.iter().map(|&i| table.labels[i]).collect::<Vec<_>>(),
                val_idx.len(),
                &dev,
            )?,
        },
        inputs: f,
        outputs: classes,
        y_scale: 1.0,
        vocab: None,
    })
}

/// Regression data: features standardised, the target standardised with the
/// training rows' mean and standard deviation (MSE is reported in its units).
pub fn regression(
    x: Vec<f32>,
    y: Vec<f64>,
    features: usize,
    n_val: usize,
    split_seed: u64,
) -> Result<Data> {
    let dev = Device::Cpu;
    let mut table = Table {
        x,
        labels: vec![0; y.len()],
        features,
    };
    anyhow::ensure!(
        table.x.len() == y.len() * features,
        "regression data has an unexpected layout"
    );
    table.standardise();
    let mut idx: Vec<usize> = (0..y.len()).collect();
    Rng::new(split_seed).shuffle(&mut idx);
    let (val_idx, train_idx) = idx.split_at(n_val);
    let mean = train_idx.iter().map(|&i| y[i]).sum::<f64>() / train_idx.len() as f64;
    let sd = (train_idx
        .iter()
        .map(|&i| (y[i] - mean).powi(2))
        .sum::<f64>()
        / train_idx.len() as f64)
        .sqrt();
    let ys =
        |ix: &[usize]| -> Vec<f32> { ix.iter().map(|&i| ((y[i] - mean) / sd) as f32).collect() };
    Ok(Data {
        train: Split {
            x: Tensor::from_vec(
                table.features_of(train_idx),
                (train_idx.len(), features),
                &dev,
            )?,
            y: Tensor::from_vec(ys(train_idx), train_idx.len(), &dev)?,
        },
        val: Split {
            x: Tensor::from_vec(table.features_of(val_idx), (val_idx.len(), features), &dev)?,
            y: Tensor::from_vec(ys(val_idx), val_idx.len(), &dev)?,
        },
        inputs: features,
        outputs: 1,
        y_scale: sd,
        vocab: None,
    })
}

pub fn digits_table() -> Result<Table> {
    let mut t = Table::from_dataset(smartcore::dataset::digits::load_dataset(), |v: f32| {
        v as u32
    })?;
    t.x.iter_mut().for_each(|v| *v /= 16.0);
    Ok(t)
}

/// Character windows of *Liber Primus*: every window of `context` characters
/// in the first 90 % of the text for training, every window of the last 10 %
/// for validation (fixed, so evaluation noise is the model's, not the sample's).
/// `train_chars` keeps only the first that many training characters.
pub fn liber_primus(context: usize, train_chars: Option<usize>) -> Result<Data> {
    let text = lipsum::LIBER_PRIMUS;
    let vocab: Vec<char> = text
        .chars()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let ids: Vec<u32> = text
        .chars()
        .map(|c| vocab.binary_search(&c).map(|i| i as u32))
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!("character outside the vocabulary"))?;
    let cut = ids.len() * 9 / 10;
    let train_end = train_chars.unwrap_or(cut).min(cut);
    anyhow::ensure!(train_end > 2 * context, "training text too short");
    let windows = |part: &[u32]| -> Result<Split> {
        let n = part.len() - context;
        let mut xs = Vec::with_capacity(n * context);
        for s in 0..n {
            xs.extend_from_slice(&part[s..s + context]);
        }
        Ok(Split {
            x: Tensor::from_vec(xs, (n, context), &Device::Cpu)?,
            y: Tensor::from_vec(part[context..].to_vec(), n, &Device::Cpu)?,
        })
    };
    Ok(Data {
        train: windows(&ids[..train_end])?,
        val: windows(&ids[cut..])?,
        inputs: context,
        outputs: vocab.len(),
        y_scale: 1.0,
        vocab: Some(vocab.len()),
    })
}

/// Rows of digits whose label is in `lo..lo+5`, relabelled 0–4.
pub fn digit_subset(t: &Table, lo: u32) -> Table {
    let keep: Vec<usize> = (0..t.n())
        .filter(|&i| (lo..lo + 5).contains(&t.labels[i]))
        .collect();
    Table {
        x: t.features_of(&keep),
        labels: keep.iter().map(|&i| t.labels[i] - lo).collect(),
        features: t.features,
    }
}
