//! The shipped digit U-Net: `unet.json` (its shape and how it was trained) and
//! `unet.safetensors` (float16 weights under PyTorch's names, written by
//! `scripts/train_mnist.py`), read from bytes so the page (which fetches them) and the command
//! line (which reads `assets/mnist/`) share one loader. Every way the bytes can be wrong ends
//! in a sentence for the reader, never a panic.

use burn::store::{FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};
use burn::tensor::{DType, Device};

use super::unet::{UNet, UNetConfig};

pub use crate::sampling::digits::{CONFIG_FILE, WEIGHTS_FILE, WeightsInfo};

/// The network `info` describes.
pub fn unet_config(info: &WeightsInfo) -> UNetConfig {
    UNetConfig::new()
        .with_channels(info.channels)
        .with_embedding(info.embedding)
        .with_time_frequencies(info.time_frequencies)
        .with_groups(info.groups)
        .with_attention(info.attention)
}

/// Builds the U-Net of `info` on `device` and fills it with the weights in `bytes`. Refuses
/// files that are not safetensors, that miss a tensor, or whose shapes do not fit.
pub fn load_unet(info: &WeightsInfo, bytes: Vec<u8>, device: &Device) -> Result<UNet, String> {
    let mut model = unet_config(info).init(device);
    let network = format!("the network in {CONFIG_FILE}");
    fill_from_pytorch(&mut model, bytes, WEIGHTS_FILE, &network)?;
    Ok(model)
}

/// Fills `module` with the float16 or float32 weights of a safetensors file written by PyTorch
/// (`file` and `network` name them in messages). Every way the bytes can be wrong ends in one
/// sentence: too short, not safetensors, or not fitting the network.
pub fn fill_from_pytorch<M: ModuleSnapshot>(
    module: &mut M,
    bytes: Vec<u8>,
    file: &str,
    network: &str,
) -> Result<(), String> {
    if bytes.len() < 8 {
        return Err(format!("{file} is empty or truncated ({} bytes)", bytes.len()));
    }
    // Check the container before burn does, for a clearer message on a damaged download.
    safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| format!("{file} is damaged or truncated: {e}"))?;
    let adapter = PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32));
    let mut store = SafetensorsStore::from_bytes(Some(bytes)).with_from_adapter(adapter);
    let result = module.load_from(&mut store).map_err(|e| {
        // burn's error is a many-line report; the reader gets its first line.
        let text = e.to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .trim_end_matches(':');
        format!("{file} does not fit {network} ({first})")
    })?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        let missing: Vec<&str> = result
            .missing
            .iter()
            .map(|(name, _)| name.as_str())
            .take(3)
            .collect();
        return Err(format!(
            "{file} does not fit {network}: {} errors ({:?}), missing {missing:?}",
            result.errors.len(),
            result.errors.first()
        ));
    }
    Ok(())
}
