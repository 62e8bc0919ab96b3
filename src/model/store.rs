//! A trained 2-D model on disk: `config.json` (the [`TrainConfig`], shape included) beside
//! `model.bpk` (burn's burnpack of the weights).

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Device;

use super::denoiser::Denoiser;
use super::train::TrainConfig;

/// The weights' file name inside a model directory.
pub const WEIGHTS: &str = "model.bpk";
/// The config's file name inside a model directory.
pub const CONFIG: &str = "config.json";

/// Writes the model and its training config into `dir` (created if needed).
pub fn save(dir: &Path, model: Denoiser, config: &TrainConfig) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    config
        .save(dir.join(CONFIG))
        .map_err(|e| format!("cannot write {}: {e}", dir.join(CONFIG).display()))?;
    model
        .save_file(dir.join(WEIGHTS))
        .map_err(|e| format!("cannot write {}: {e:?}", dir.join(WEIGHTS).display()))
}

/// Reads a model directory written by [`save`].
pub fn load(dir: &Path, device: &Device) -> Result<(Denoiser, TrainConfig), String> {
    let config_path = dir.join(CONFIG);
    let config = TrainConfig::load(&config_path)
        .map_err(|e| format!("cannot read the model config {}: {e}", config_path.display()))?;
    let weights = dir.join(WEIGHTS);
    let record = ModuleRecord::load(&weights)
        .map_err(|e| format!("cannot read the weights {}: {e:?}", weights.display()))?;
    let model = config.model.init(device).try_load_record(record).map_err(|e| {
        format!(
            "the weights in {} do not fit the config: {e:?}",
            weights.display()
        )
    })?;
    Ok((model, config))
}
