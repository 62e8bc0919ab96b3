//! burn in the page: WebGPU through burn-wgpu when the browser grants an adapter, otherwise
//! burn's pure-Rust CPU backend (flex). The choice is made once, asynchronously, at start-up.

use burn::tensor::Device;

use super::dom;
use crate::math::NoiseSchedule;
use crate::math::forward::Point;
use crate::model::{forward, points};

/// The device every tensor of the page lives on, and how it was chosen.
#[derive(Clone)]
pub struct Backend {
    /// burn's device handle.
    pub device: Device,
    /// Whether it is the GPU, or why it is not.
    pub kind: BackendKind,
}

/// Which backend runs.
#[derive(Clone, Debug, PartialEq)]
pub enum BackendKind {
    /// burn-wgpu on the browser's WebGPU.
    WebGpu,
    /// burn's flex backend on the CPU, with the reason WebGPU is not used.
    Cpu { reason: String },
}

impl Backend {
    /// Asks the browser for WebGPU and falls back to the CPU when there is none.
    pub async fn init() -> Self {
        if !has_webgpu() {
            return Self::cpu("this browser has no WebGPU (navigator.gpu is missing)".into());
        }
        match Device::wgpu_options().init_async().await {
            Ok(device) => Self {
                device,
                kind: BackendKind::WebGpu,
            },
            Err(e) => {
                // The full error names every graphics API wgpu tried: for developers only.
                web_sys::console::info_1(&format!("WebGPU unavailable: {e}").into());
                Self::cpu("the browser offered no WebGPU adapter".into())
            }
        }
    }

    /// burn's CPU backend, for this reason.
    pub fn cpu(reason: String) -> Self {
        Self {
            device: Device::flex(),
            kind: BackendKind::Cpu { reason },
        }
    }

    /// A short name for the page: "WebGPU" or "CPU".
    pub fn name(&self) -> &'static str {
        match self.kind {
            BackendKind::WebGpu => "WebGPU",
            BackendKind::Cpu { .. } => "CPU",
        }
    }

    /// A sentence for the page's backend label.
    pub fn describe(&self) -> String {
        match &self.kind {
            BackendKind::WebGpu => "burn on WebGPU (burn-wgpu)".into(),
            BackendKind::Cpu { reason } => format!("burn on the CPU (flex): {reason}"),
        }
    }

    /// Computes `x_t` for every point on this backend, reads it back and compares it with the
    /// math core. Returns the largest absolute difference.
    pub async fn check_forward(
        &self,
        schedule: &NoiseSchedule,
        data: &[Point<2>],
        eps: &[Point<2>],
        t: usize,
    ) -> Result<f32, String> {
        let x0 = points::to_tensor(data, &self.device);
        let noise = points::to_tensor(eps, &self.device);
        let x_t = forward::add_noise(x0, noise, schedule.alpha_bar(t)); // [n, 2]
        let data_back = x_t
            .into_data_async()
            .await
            .map_err(|e| format!("reading the result back failed: {e:?}"))?;
        let got = points::from_data::<2>(data_back)?;
        if got.len() != data.len() {
            return Err(format!("expected {} points, got {}", data.len(), got.len()));
        }
        let mut max_diff = 0.0_f32;
        for ((g, x0), e) in got.iter().zip(data).zip(eps) {
            let want = schedule.add_noise(x0, e, t);
            for k in 0..2 {
                let d = (g[k] - want[k]).abs();
                // NaN must fail the check, so it cannot hide in max().
                max_diff = if d.is_nan() { f32::NAN } else { max_diff.max(d) };
            }
        }
        Ok(max_diff)
    }
}

fn has_webgpu() -> bool {
    let navigator = dom::window().navigator();
    js_sys::Reflect::get(&navigator, &"gpu".into())
        .map(|gpu| !gpu.is_undefined() && !gpu.is_null())
        .unwrap_or(false)
}
