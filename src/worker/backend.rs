//! burn in the worker: WebGPU through burn-wgpu, or burn's pure-Rust CPU backend (flex).
//!
//! The page chooses before it starts a worker (see `web::gpu`): where WebGPU will not be used
//! it starts the build without burn-wgpu (feature "webgpu" off), which runs on the CPU for the
//! reason the page gives; elsewhere this build, which still falls back to the CPU if burn-wgpu
//! cannot start.

use burn::tensor::Device;

/// The device every tensor of the worker lives on, and how it was chosen.
#[derive(Clone)]
pub struct Backend {
    /// burn's device handle.
    pub device: Device,
    /// Why the CPU, when it is the CPU.
    pub reason: Option<String>,
}

impl Backend {
    /// The CPU for `cpu_reason` when the page gives one, else WebGPU (the CPU if burn-wgpu
    /// cannot start).
    pub async fn init(cpu_reason: Option<String>) -> Self {
        match cpu_reason {
            Some(reason) => Self::cpu(reason),
            None => Self::webgpu().await,
        }
    }

    #[cfg(not(feature = "webgpu"))]
    async fn webgpu() -> Self {
        Self::cpu("this build of the worker has no WebGPU backend".into())
    }

    #[cfg(feature = "webgpu")]
    async fn webgpu() -> Self {
        match Device::wgpu_options().init_async().await {
            Ok(device) => Self { device, reason: None },
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
            reason: Some(reason),
        }
    }

    /// Whether tensors live on WebGPU.
    pub fn gpu(&self) -> bool {
        self.reason.is_none()
    }
}
