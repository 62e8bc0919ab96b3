//! Whether the page's worker should use WebGPU, decided before it is started: the worker with
//! burn-wgpu is three times the download of the one without, so it is fetched only where it
//! will run on a GPU.
//!
//! A software adapter (SwiftShader, llvmpipe, lavapipe: what a browser without a usable GPU
//! offers; `isFallbackAdapter`) is passed over unless the reader asks for WebGPU by name: here
//! SwiftShader took 43-88 s for the grid of digits the CPU backend draws in 3-4 s.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::dom;

/// `Ok` to use WebGPU, or why the CPU. `allow_software`: the reader asked for WebGPU by name.
pub async fn choose(allow_software: bool) -> Result<(), String> {
    let navigator = dom::window().navigator();
    let gpu = Reflect::get(&navigator, &"gpu".into())
        .ok()
        .filter(|gpu| !gpu.is_undefined() && !gpu.is_null())
        .ok_or("this browser has no WebGPU (navigator.gpu is missing)")?;
    match software_adapter(&gpu).await? {
        Some(name) if !allow_software => Err(format!(
            "the only WebGPU adapter is a software renderer ({name}), slower than the CPU; ?device=webgpu uses it anyway"
        )),
        _ => Ok(()),
    }
}

/// Asks for the adapter burn-wgpu would get and says whether it is a software renderer (its
/// name), or why there is none.
async fn software_adapter(gpu: &JsValue) -> Result<Option<String>, String> {
    let none = || "the browser offered no WebGPU adapter".to_string();
    let request: Function = Reflect::get(gpu, &"requestAdapter".into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(none)?;
    let promise: Promise = request
        .call0(gpu)
        .ok()
        .and_then(|p| p.dyn_into().ok())
        .ok_or_else(none)?;
    let adapter = JsFuture::from(promise).await.map_err(|_| none())?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err(none());
    }
    let info = Reflect::get(&adapter, &"info".into()).unwrap_or(JsValue::UNDEFINED);
    let text = |key: &str| {
        Reflect::get(&info, &key.into())
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
    let described = ["vendor", "architecture", "device", "description"]
        .iter()
        .map(|key| text(key))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(is_software(
        &described,
        flag(&info, "isFallbackAdapter") || flag(&adapter, "isFallbackAdapter"),
    )
    .then(|| {
        if described.is_empty() {
            "a fallback adapter".to_string()
        } else {
            described
        }
    }))
}

/// Whether an adapter so described (or flagged as a fallback) renders in software.
fn is_software(described: &str, fallback: bool) -> bool {
    let described = described.to_lowercase();
    fallback
        || [
            "swiftshader",
            "llvmpipe",
            "lavapipe",
            "software",
            "microsoft basic render",
        ]
        .iter()
        .any(|name| described.contains(name))
}
