//! burn in the worker: WebGPU through burn-wgpu when the browser grants a hardware adapter,
//! otherwise burn's pure-Rust CPU backend (flex). A software adapter (SwiftShader, llvmpipe,
//! lavapipe: what a browser without a usable GPU offers) is used only when the reader asks for
//! WebGPU by name: it runs the digits more than ten times slower than the CPU backend.

use burn::tensor::Device;
use js_sys::{Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The device every tensor of the worker lives on, and how it was chosen.
#[derive(Clone)]
pub struct Backend {
    /// burn's device handle.
    pub device: Device,
    /// Why the CPU, when it is the CPU.
    pub reason: Option<String>,
}

impl Backend {
    /// Asks the browser for WebGPU and falls back to the CPU when there is none, or when the
    /// only adapter is a software one and `allow_software` is false.
    pub async fn init(allow_software: bool) -> Self {
        let Some(gpu) = navigator_gpu() else {
            return Self::cpu("this browser has no WebGPU (navigator.gpu is missing)".into());
        };
        match software_adapter(&gpu).await {
            Err(why) => return Self::cpu(why),
            Ok(Some(name)) if !allow_software => {
                return Self::cpu(format!(
                    "the only WebGPU adapter is a software renderer ({name}), slower than the CPU; ?device=webgpu uses it anyway"
                ));
            }
            Ok(_) => {}
        }
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

/// `navigator.gpu` in the worker, if the browser has WebGPU.
fn navigator_gpu() -> Option<JsValue> {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).ok()?;
    Reflect::get(&navigator, &"gpu".into())
        .ok()
        .filter(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// Asks for the adapter burn-wgpu would get and says whether it is a software renderer (its
/// name), or why there is none.
async fn software_adapter(gpu: &JsValue) -> Result<Option<String>, String> {
    let none = || "the browser offered no WebGPU adapter".to_string();
    let request: js_sys::Function = Reflect::get(gpu, &"requestAdapter".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(none)?;
    let promise: Promise = request
        .call0(gpu)
        .map_err(|_| none())?
        .dyn_into()
        .map_err(|_| none())?;
    let adapter = JsFuture::from(promise).await.map_err(|_| none())?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(none());
    }
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let text = |object: &JsValue, key: &str| {
        Reflect::get(object, &key.into())
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let flag = |object: &JsValue, key: &str| {
        Reflect::get(object, &key.into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    };
    let described = ["description", "vendor", "architecture", "device"]
        .iter()
        .map(|key| text(&info, key))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let software_name = [
        "swiftshader",
        "llvmpipe",
        "lavapipe",
        "software",
        "microsoft basic render",
    ]
    .iter()
    .any(|name| described.to_lowercase().contains(name));
    let fallback = flag(&info, "isFallbackAdapter") || flag(&adapter, "isFallbackAdapter");
    Ok((fallback || software_name).then(|| {
        if described.is_empty() {
            "a fallback adapter".to_string()
        } else {
            described
        }
    }))
}
