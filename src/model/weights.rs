//! The shipped digit U-Net: `unet.json` (its shape and how it was trained) and
//! `unet.safetensors` (float16 weights under PyTorch's names, written by
//! `scripts/train_mnist.py`), read from bytes so the page (which fetches them) and the command
//! line (which reads `assets/mnist/`) share one loader. Every way the bytes can be wrong ends
//! in a sentence for the reader, never a panic.

use burn::store::{FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::{DType, Device};
use serde::Deserialize;

use super::unet::{UNet, UNetConfig};
use crate::math::{NoiseSchedule, ScheduleKind};

/// The file names inside the weights directory (`assets/mnist/`).
pub const CONFIG_FILE: &str = "unet.json";
/// See [`CONFIG_FILE`].
pub const WEIGHTS_FILE: &str = "unet.safetensors";

/// What `unet.json` says. Fields beyond these (the trainer's record) are kept for people.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct WeightsInfo {
    /// Channels at 28x28, 14x14 and 7x7.
    pub channels: [usize; 3],
    /// Width of the time-and-class embedding.
    pub embedding: usize,
    /// Frequencies of the time embedding.
    pub time_frequencies: usize,
    /// Groups of the group norms.
    pub groups: usize,
    /// Self-attention at 7x7.
    pub attention: bool,
    /// T.
    pub diffusion_steps: usize,
    /// beta_1 and beta_T of the linear schedule.
    pub beta_start: f64,
    /// See `beta_start`.
    pub beta_end: f64,
    /// Optimisation steps the weights had.
    #[serde(default)]
    pub trained_steps: usize,
    /// Where they were trained.
    #[serde(default)]
    pub device: String,
    /// How long it took, in minutes.
    #[serde(default)]
    pub minutes: f64,
}

impl WeightsInfo {
    /// Reads `unet.json`.
    pub fn parse(json: &str) -> Result<Self, String> {
        let info: Self =
            serde_json::from_str(json).map_err(|e| format!("{CONFIG_FILE} is not valid: {e}"))?;
        if info
            .channels
            .iter()
            .any(|&c| c == 0 || c % info.groups.max(1) != 0)
        {
            return Err(format!(
                "{CONFIG_FILE}: channels {:?} must be multiples of the {} groups",
                info.channels, info.groups
            ));
        }
        Ok(info)
    }

    /// The network's shape.
    pub fn unet(&self) -> UNetConfig {
        UNetConfig::new()
            .with_channels(self.channels)
            .with_embedding(self.embedding)
            .with_time_frequencies(self.time_frequencies)
            .with_groups(self.groups)
            .with_attention(self.attention)
    }

    /// The schedule the weights were trained for.
    pub fn schedule(&self) -> Result<NoiseSchedule, String> {
        NoiseSchedule::new(
            ScheduleKind::Linear,
            self.diffusion_steps,
            self.beta_start,
            self.beta_end,
        )
        .map_err(|e| format!("{CONFIG_FILE}: {e}"))
    }
}

/// Builds the U-Net of `info` on `device` and fills it with the weights in `bytes`. Refuses
/// files that are not safetensors, that miss a tensor, or whose shapes do not fit.
pub fn load_unet(info: &WeightsInfo, bytes: Vec<u8>, device: &Device) -> Result<UNet, String> {
    if bytes.len() < 8 {
        return Err(format!(
            "{WEIGHTS_FILE} is empty or truncated ({} bytes)",
            bytes.len()
        ));
    }
    // Check the container before burn does, for a clearer message on a damaged download.
    safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| format!("{WEIGHTS_FILE} is damaged or truncated: {e}"))?;
    let mut model = info.unet().init(device);
    let adapter = PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32));
    let mut store = SafetensorsStore::from_bytes(Some(bytes)).with_from_adapter(adapter);
    let result = model
        .load_from(&mut store)
        .map_err(|e| format!("{WEIGHTS_FILE} could not be loaded: {e}"))?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        let missing: Vec<&str> = result
            .missing
            .iter()
            .map(|(name, _)| name.as_str())
            .take(3)
            .collect();
        return Err(format!(
            "{WEIGHTS_FILE} does not fit the network in {CONFIG_FILE}: {} errors ({:?}), missing {missing:?}",
            result.errors.len(),
            result.errors.first()
        ));
    }
    Ok(model)
}
