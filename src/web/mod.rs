//! The page: a thin layer that turns [`Params`](crate::params::Params) into pixels. Built
//! without burn: every tensor lives in the page's worker ([`crate::worker`]), reached through
//! [`engine`].
//!
//! - [`app`]: the one mutable state of the page and the render cycle.
//! - [`controls`]: the form controls, read into `Params` and written back from it.
//! - [`engine`]: the worker where burn runs, started when a panel first needs it.
//! - [`gpu`]: whether that worker uses WebGPU (never a software adapter by default).
//! - [`training`]: the 2-D model trained and sampled live, a few steps a frame.
//! - [`digits`]: the MNIST U-Net, fetched from `assets/mnist/` and sampled live.
//! - [`export`]: PNG (1x, 3x) and CSV downloads of every panel.
//! - [`share`]: the embed builder behind each panel's Share button.
//! - [`embed`]: the page in a frame: the `postMessage` protocol of a host page.
//! - [`visibility`]: a hidden tab or an embed scrolled away pauses training.
//! - [`classroom`]: projector mode, the dark theme, full screen, keyboard shortcuts, the charts
//!   in words, reduced motion.
//! - [`tour`]: the guided walk through the mathematics.
//! - [`elbo`]: the variational bound of the trained model, term by term.
//! - [`warm`]: runs a drag's drawing code while the page is idle, so the first drag is smooth.
//! - [`canvas`], [`dom`]: high-DPI canvases and small DOM helpers.

mod app;
mod canvas;
mod classroom;
mod controls;
mod digits;
mod dom;
mod elbo;
mod embed;
mod engine;
mod export;
mod fetch;
mod gpu;
mod layout;
mod share;
mod tour;
mod training;
mod visibility;
mod warm;

use wasm_bindgen::prelude::*;

unsafe extern "C" {
    /// The static constructors of the module, synthesised by the linker.
    fn __wasm_call_ctors();
}

/// Entry point, called once by the generated JavaScript when the module has loaded.
#[wasm_bindgen(start)]
pub fn start() {
    // Some dependencies (cubecl, through `inventory`) register themselves in static
    // constructors. Unless an export calls the constructors itself, wasm-ld treats the module
    // as a "command" and re-runs every constructor at the top of *every* export, which made
    // each call from JavaScript into the module (thousands a redraw) cost about half a
    // millisecond. Calling them once here, first, turns that off.
    // SAFETY: runs before any other Rust code of the page; inventory's constructors are
    // idempotent, so a second run (should the linker add one) is harmless.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
    if let Err(e) = app::App::start() {
        dom::show_fatal(&e);
    }
}

/// The durations in milliseconds of the most recent full redraws, oldest first. The browser
/// benchmark reads them after dragging a slider.
#[wasm_bindgen]
pub fn render_timings() -> Vec<f64> {
    app::render_timings()
}

/// The parts of the latest redraw as `[name, milliseconds, name, milliseconds, ...]`: where a
/// redraw's time goes, for the benchmark.
#[wasm_bindgen]
pub fn render_parts() -> js_sys::Array {
    app::render_parts()
        .into_iter()
        .flat_map(|(name, ms)| [JsValue::from_str(name), JsValue::from_f64(ms)])
        .collect()
}

/// Whether the address bar's link is behind the page (written at most every 250 ms while a
/// control moves), for the browser tests.
#[wasm_bindgen]
pub fn link_pending() -> bool {
    app::link_pending()
}

/// How many drawings the idle warm-up of the charts (see `warm`) has still to do: 0 once done.
#[wasm_bindgen]
pub fn warm_up_left() -> usize {
    warm::left()
}

/// Every loss of the current training run, for the browser tests and the benchmark.
#[wasm_bindgen]
pub fn training_losses() -> Vec<f32> {
    training::losses()
}

/// The quality chart's measurements: `[steps, energy distance, 1 for DDIM else 0]` per chain.
#[wasm_bindgen]
pub fn training_quality() -> Vec<f64> {
    training::quality()
}

/// Milliseconds for `steps` training steps of the page's default network (with `hidden` units a
/// layer, `batch` points a step, and ReLU instead of SiLU if `relu`) on the CPU backend, run
/// back to back the way the panel runs them (in the worker): the losses are read once, at the
/// end. The benchmark's measure of burn's own speed, beside TensorFlow.js on the same network.
#[wasm_bindgen]
pub async fn benchmark_training(
    steps: usize,
    hidden: usize,
    batch: usize,
    relu: bool,
) -> Result<f64, JsError> {
    let request = crate::protocol::Request::Benchmark {
        steps,
        hidden,
        batch,
        relu,
    };
    match engine::call(&request, Vec::new(), Vec::new()).await {
        Ok((crate::protocol::Reply::Timed { ms }, _, _)) => Ok(ms),
        Ok(_) => Err(JsError::new("the worker answered something else")),
        Err(e) => Err(JsError::new(&e)),
    }
}

/// Milliseconds for `repeats` products of two `side x side` f32 matrices on burn's CPU backend in
/// the worker (after one untimed): the benchmark's measure of the rate the machine reaches in
/// WebAssembly SIMD on one thread, beside what the digit U-Net reaches.
#[wasm_bindgen]
pub async fn benchmark_matmul(side: usize, repeats: usize) -> Result<f64, JsError> {
    let request = crate::protocol::Request::Matmul { side, repeats };
    match engine::call(&request, Vec::new(), Vec::new()).await {
        Ok((crate::protocol::Reply::Timed { ms }, _, _)) => Ok(ms),
        Ok(_) => Err(JsError::new("the worker answered something else")),
        Err(e) => Err(JsError::new(&e)),
    }
}

/// The digit U-Net's predicted noise for `pixels` (`[n, 1, 28, 28]`) at `timesteps` with
/// `labels`, one each an image, computed by the worker on the backend the digits panel uses
/// (after the panel has loaded the weights): the browser tests compare it with what PyTorch
/// computed on the same weights, through the page's own kernels.
#[wasm_bindgen]
pub async fn unet_forward(
    pixels: Vec<f32>,
    timesteps: Vec<usize>,
    labels: Vec<usize>,
) -> Result<Vec<f32>, JsError> {
    let request = crate::protocol::Request::Denoise { timesteps, labels };
    match engine::call(&request, pixels, Vec::new()).await {
        Ok((crate::protocol::Reply::Outputs { .. }, output, _)) => Ok(output),
        Ok(_) => Err(JsError::new("the worker answered something else")),
        Err(e) => Err(JsError::new(&e)),
    }
}

/// The bytes of WebAssembly memory held by the page's module and by its worker, then the bytes
/// the worker has allocated and not freed (both 0 when no worker has started): what the soak
/// benchmark watches for leaks.
#[wasm_bindgen]
pub async fn wasm_memory() -> Result<Vec<f64>, JsError> {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let page: js_sys::ArrayBuffer = memory.buffer().unchecked_into();
    let (worker, live) = if engine::started() {
        match engine::call(&crate::protocol::Request::Memory, Vec::new(), Vec::new()).await {
            Ok((crate::protocol::Reply::Memory { bytes, live }, _, _)) => (bytes as f64, live as f64),
            Ok(_) => return Err(JsError::new("the worker answered something else")),
            Err(e) => return Err(JsError::new(&e)),
        }
    } else {
        (0.0, 0.0)
    };
    Ok(vec![page.byte_length() as f64, worker, live])
}
