//! A trained 2-D model on disk: `config.json` (the [`TrainConfig`], shape included) beside
//! `model.bpk` (burn's burnpack of the weights); or, for the page's export and import, the same
//! two in one JSON file with the loss history (a [`Bundle`]).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use burn::config::Config;
use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, Device};
use serde::{Deserialize, Serialize};

use super::denoiser::Denoiser;
use super::train::TrainConfig;

/// The weights' file name inside a model directory.
pub const WEIGHTS: &str = "model.bpk";
/// The config's file name inside a model directory.
pub const CONFIG: &str = "config.json";

/// Writes the model and its training config into `dir` (created if needed).
pub fn save(dir: &Path, model: Denoiser, config: &TrainConfig) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (name, bytes) in files(model, config)? {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The files of a model directory, `(name, contents)`: what [`save`] writes, for a caller that
/// writes them its own way (the command line, through a temporary file and a rename).
pub fn files(model: Denoiser, config: &TrainConfig) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let weights = model
        .into_record()
        .into_bytes()
        .map_err(|e| format!("cannot write the weights: {e:?}"))?;
    let config = serde_json::to_vec_pretty(config).map_err(|e| format!("cannot write the config: {e}"))?;
    Ok(vec![(CONFIG, config), (WEIGHTS, weights.to_vec())])
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

/// A model from a directory written by [`save`], or from one file exported by the page (a
/// bundle, see [`read_bundle`]).
pub fn load_any(path: &Path, device: &Device) -> Result<(Denoiser, TrainConfig), String> {
    if !path.is_file() {
        return load(path, device);
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let imported = read_bundle(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let model = imported
        .config
        .model
        .init(device)
        .try_load_record(imported.record)
        .map_err(|e| format!("the weights in {} do not fit its config: {e:?}", path.display()))?;
    Ok((model, imported.config))
}

/// What a bundle's `format` field says.
pub const BUNDLE_FORMAT: &str = "diffusion-playground/2d-model";
pub use crate::protocol::MAX_BUNDLE_BYTES;

/// A trained 2-D model in one file: its config, burn's burnpack of its weights (base64), and the
/// loss of every training step, so an imported model shows how it was trained.
#[derive(Serialize, Deserialize)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// 1.
    pub version: u32,
    /// The run that trained it, the network's shape included.
    pub config: TrainConfig,
    /// The loss of each step.
    pub losses: Vec<f32>,
    /// burn's burnpack of the weights, base64.
    pub weights: String,
}

/// Writes a model, its config and its losses as one bundle (JSON).
pub fn to_bundle(model: Denoiser, config: &TrainConfig, losses: &[f32]) -> Result<Vec<u8>, String> {
    let weights = model
        .into_record()
        .into_bytes()
        .map_err(|e| format!("cannot write the weights: {e:?}"))?;
    let bundle = Bundle {
        format: BUNDLE_FORMAT.into(),
        version: 1,
        config: config.clone(),
        losses: losses.to_vec(),
        weights: BASE64.encode(&weights[..]),
    };
    serde_json::to_vec(&bundle).map_err(|e| format!("cannot write the model: {e}"))
}

/// A bundle read back: the run's config and losses, and the weights to load.
pub struct Imported {
    /// The run that trained the model.
    pub config: TrainConfig,
    /// Its loss at each step.
    pub losses: Vec<f32>,
    /// The weights.
    pub record: ModuleRecord,
}

/// Reads a bundle written by [`to_bundle`]. Anything else (an empty or truncated file, another
/// program's JSON, a network larger than the page trains) is refused with a reason; weights of
/// another network are refused when they are loaded ([`super::train::Trainer::imported`]).
pub fn read_bundle(bytes: &[u8]) -> Result<Imported, String> {
    if bytes.is_empty() {
        return Err("the file is empty".into());
    }
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(format!(
            "the file has {:.1} MB; a model of this page has at most {} MB",
            bytes.len() as f64 / 1e6,
            MAX_BUNDLE_BYTES >> 20
        ));
    }
    let bundle: Bundle = serde_json::from_slice(bytes)
        .map_err(|e| format!("this is not a model exported by Diffusion Playground ({e})"))?;
    if bundle.format != BUNDLE_FORMAT || bundle.version != 1 {
        return Err(format!(
            "this file is a '{}' version {}, not a Diffusion Playground 2-D model version 1",
            bundle.format.chars().take(60).collect::<String>(),
            bundle.version
        ));
    }
    let c = &bundle.config;
    if !(2..=512).contains(&c.model.hidden) || !(2..=2000).contains(&c.diffusion_steps) {
        return Err(format!(
            "its network ({} wide, T = {}) is outside what the page trains (2 to 512 wide, T = 2 to 2000)",
            c.model.hidden, c.diffusion_steps
        ));
    }
    c.noise_schedule()
        .map_err(|e| format!("its noise schedule is invalid: {e}"))?;
    let weights = BASE64
        .decode(bundle.weights.as_bytes())
        .map_err(|e| format!("its weights are damaged ({e})"))?;
    let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(weights))
        .map_err(|e| format!("its weights are damaged ({e:?})"))?;
    Ok(Imported {
        config: bundle.config,
        losses: bundle.losses,
        record,
    })
}
