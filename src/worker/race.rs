//! Which backend each model runs on, where the browser offers a hardware WebGPU adapter: time
//! the model's own work on both, warm, and keep the faster. A GPU is not faster at everything:
//! the 2-D network is small enough that launching its kernels can cost more than computing it
//! on the CPU, while the U-Net's convolutions are the work a GPU is built for.
//!
//! Each side first runs once untimed (WebGPU compiles its shaders then; the CPU's allocator
//! warms up), then [`RUNS`] timed runs; the race's time is their median.

use std::future::Future;

use burn::tensor::{Device, Tensor};

use super::{milliseconds, read};
use crate::model::digits::{DigitInputs, NO_LABEL, forward_lazy};
use crate::model::train::{TrainConfig, Trainer};
use crate::model::unet::UNet;
use crate::params::Params;
use crate::protocol::Race;

/// Timed runs after the untimed one.
const RUNS: usize = 3;
/// Training steps in one timed run of the 2-D network (one step alone is mostly overhead).
const TRAIN_STEPS: usize = 5;
/// Images in one timed pass of the U-Net: the page's grid of 16.
const DIGITS: usize = 16;

/// The 2-D network with the page's default settings: milliseconds a training step.
pub async fn training(gpu: &Device) -> Result<Race, String> {
    let config = TrainConfig::from_params(&Params::default())?;
    let on = |device: Device| {
        let config = config.clone();
        async move {
            let mut trainer =
                Trainer::new(config, crate::data::swiss_roll(2000, 0), &device).map_err(|e| e.to_string())?;
            warm_median(|| {
                let losses: Vec<Tensor<1>> = (0..TRAIN_STEPS).map(|_| trainer.step_lazy()).collect();
                async move { read(Tensor::cat(losses, 0)).await.map(drop) }
            })
            .await
            .map(|ms| ms / TRAIN_STEPS as f64)
        }
    };
    let cpu_ms = on(Device::flex()).await?;
    let gpu_ms = on(gpu.clone()).await;
    Ok(race("a training step of the 2-D network", cpu_ms, gpu_ms))
}

/// The digit U-Net, loaded on both devices: milliseconds a pass over a batch of 16.
pub async fn unet(cpu: &UNet, gpu: &UNet, gpu_device: &Device) -> Result<Race, String> {
    let inputs = DigitInputs {
        pixels: vec![0.0; DIGITS * crate::data::mnist::PIXELS],
        timesteps: vec![500; DIGITS],
        labels: vec![NO_LABEL; DIGITS],
    };
    let on = |model: &UNet, device: Device| {
        let (model, inputs) = (model.clone(), inputs.clone());
        warm_median(move || {
            let output = forward_lazy(&model, inputs.clone(), &device);
            async move { read(output).await.map(drop) }
        })
    };
    let cpu_ms = on(cpu, Device::flex()).await?;
    let gpu_ms = on(gpu, gpu_device.clone()).await;
    Ok(race("a pass of the U-Net over 16 digits", cpu_ms, gpu_ms))
}

fn race(work: &str, cpu_ms: f64, gpu_ms: Result<f64, String>) -> Race {
    let gpu_ms = gpu_ms
        .inspect_err(|e| web_sys::console::warn_1(&format!("{work} failed on WebGPU: {e}").into()))
        .ok()
        .map(|ms| ms / gpu_speedup());
    Race {
        work: work.into(),
        cpu_ms,
        gpu_ms,
    }
}

/// The median of [`RUNS`] timed runs of `work`, after one untimed run.
async fn warm_median<F, R>(mut work: F) -> Result<f64, String>
where
    F: FnMut() -> R,
    R: Future<Output = Result<(), String>>,
{
    work().await?;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = milliseconds();
        work().await?;
        times.push(milliseconds() - started);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[RUNS / 2])
}

/// What the browser tests make of this machine's software GPU: `{test: "gpu-speedup",
/// factor}` to the worker (see `www/worker-boot.js`) divides WebGPU's times by `factor`, so
/// that a test can stand in for a fast GPU. 1 everywhere else.
fn gpu_speedup() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"playgroundGpuSpeedup".into())
        .ok()
        .and_then(|v| v.as_f64())
        .filter(|f| f.is_finite() && *f > 0.0)
        .unwrap_or(1.0)
}
