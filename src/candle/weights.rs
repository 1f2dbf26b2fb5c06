//! Best weights on disk: saved atomically, restored in place.
//!
//! A new best evaluation overwrites `best.safetensors` in the run directory.
//! The bytes go to a temporary file in the same directory, are synced, and the
//! file is renamed over the old one: a reader (or a crash) sees either the old
//! complete file or the new complete file, never a torn one.

use crate::Error;
use candle_core::{Device, Tensor};
use candle_nn::VarMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The path of the best weights inside a run directory.
pub fn best_weights_path(run_dir: &Path) -> PathBuf {
    run_dir.join(snuffer_rundir::BEST_WEIGHTS_FILE)
}

/// Snapshot the tensors of a [`VarMap`] (cheap handles, no copy of the data).
fn snapshot(varmap: &VarMap) -> HashMap<String, Tensor> {
    // A poisoned lock only means another thread panicked while holding it; the
    // map itself is still a valid set of handles, so keep going.
    let data = varmap.data().lock().unwrap_or_else(|e| e.into_inner());
    data.iter()
        .map(|(name, var)| (name.clone(), var.as_tensor().clone()))
        .collect()
}

/// Save every variable of `varmap` to `path` in the safetensors format, atomically.
///
/// Writes `path` plus a `.tmp` suffix in the same directory, syncs it to disk and
/// renames it over `path`, so `path` is never a partly written file.
///
/// # Example
/// ```
/// use candle_core::{DType, Device};
/// use candle_nn::{VarBuilder, VarMap};
/// let dir = tempfile::tempdir()?;
/// let varmap = VarMap::new();
/// let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
/// let _layer = candle_nn::linear(4, 2, vb.pp("fc"))?;
/// let path = dir.path().join("best.safetensors");
/// snuffer::candle::save_weights(&varmap, &path)?;
/// snuffer::candle::restore_weights(&varmap, &path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn save_weights(varmap: &VarMap, path: &Path) -> Result<(), Error> {
    let tensors = snapshot(varmap);
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let weights_err = |action, source: Box<dyn std::error::Error + Send + Sync>| Error::Weights {
        action,
        path: path.to_path_buf(),
        source,
    };
    candle_core::safetensors::save(&tensors, &tmp).map_err(|e| weights_err("save", e.into()))?;
    // Sync before the rename so that after a power cut the new name never points
    // at a file whose data blocks were not written yet.
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| weights_err("save", e.into()))?;
    std::fs::rename(&tmp, path).map_err(|e| weights_err("rename", e.into()))?;
    Ok(())
}

/// Load the tensors saved by [`save_weights`] back into the variables of `varmap`, in place.
///
/// The variables keep their identity (optimizers holding them see the new values).
/// Every variable of the map must be in the file with the same shape; extra
/// tensors in the file are ignored.
pub fn restore_weights(varmap: &VarMap, path: &Path) -> Result<(), Error> {
    let weights_err = |source: Box<dyn std::error::Error + Send + Sync>| Error::Weights {
        action: "restore",
        path: path.to_path_buf(),
        source,
    };
    let saved =
        candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| weights_err(e.into()))?;
    let data = varmap.data().lock().unwrap_or_else(|e| e.into_inner());
    for (name, var) in data.iter() {
        let tensor = saved
            .get(name)
            .ok_or_else(|| weights_err(format!("the file has no tensor named `{name}`").into()))?;
        let tensor = tensor
            .to_device(var.device())
            .and_then(|t| t.to_dtype(var.dtype()))
            .map_err(|e| weights_err(e.into()))?;
        var.set(&tensor)
            .map_err(|e| weights_err(format!("tensor `{name}`: {e}").into()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;
    use candle_nn::VarBuilder;

    #[test]
    fn round_trip_restores_the_saved_values() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let _ = candle_nn::linear(3, 2, vb.pp("fc"))?;
        let path = best_weights_path(dir.path());
        save_weights(&varmap, &path)?;
        let before = snapshot(&varmap);
        for var in varmap.all_vars() {
            var.set(&var.as_tensor().ones_like()?)?;
        }
        restore_weights(&varmap, &path)?;
        let after = snapshot(&varmap);
        for (name, t) in before {
            let diff = (t - &after[&name])?.abs()?.sum_all()?.to_scalar::<f32>()?;
            assert_eq!(diff, 0.0, "tensor {name} was not restored");
        }
        assert!(
            !dir.path().join("best.safetensors.tmp").exists(),
            "temp file left behind"
        );
        Ok(())
    }

    #[test]
    fn restoring_a_missing_file_names_the_path() {
        let varmap = VarMap::new();
        let path = Path::new("/nonexistent/best.safetensors");
        let err = restore_weights(&varmap, path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("/nonexistent/best.safetensors"), "{err}");
    }

    #[test]
    fn restoring_into_a_different_model_is_an_error() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let small = VarMap::new();
        let _ = candle_nn::linear(
            3,
            2,
            VarBuilder::from_varmap(&small, DType::F32, &Device::Cpu).pp("a"),
        )?;
        let path = best_weights_path(dir.path());
        save_weights(&small, &path)?;
        let other = VarMap::new();
        let _ = candle_nn::linear(
            3,
            2,
            VarBuilder::from_varmap(&other, DType::F32, &Device::Cpu).pp("b"),
        )?;
        let err = restore_weights(&other, &path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("no tensor named"), "{err}");
        Ok(())
    }
}
