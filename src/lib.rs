//! Diffusion Playground: an interactive explainer of denoising diffusion models (DDPM).
//!
//! Dependencies point one way: `math <- data <- sampling <- model <- {worker, cli}`, and
//! `math <- {params, charts} <- web`. Everything but `model` and `worker` is plain Rust without
//! burn: the page's own module (`web`, the "page" feature) is built from it alone and draws at
//! once, while burn (`model`, the "tensors" feature) runs in the page's Web Worker (`worker`)
//! and in the command line.
//!
//! - [`math`]: schedules, the forward process, exact posteriors and scores, sampler steps.
//! - [`data`]: the 2-D data sets and the MNIST digits.
//! - [`sampling`]: reverse chains driven by any network's outputs.
//! - [`params`]: every control of the page, its link and its limits.
//! - [`tour`]: the guided walk's stops and the settings each one shows.
//! - [`charts`]: every chart, on any plotters backend.
//! - [`protocol`]: the messages between the page and its worker.
//! - `model`: burn networks, training and sampling (feature "tensors").
//! - `web`, `worker`: the page and its worker (WebAssembly only).

#[cfg(all(target_arch = "wasm32", any(feature = "page", feature = "worker")))]
mod bridge;
pub mod charts;
pub mod data;
pub mod math;
#[cfg(feature = "tensors")]
pub mod model;
pub mod params;
pub mod protocol;
pub mod sampling;
pub mod tour;
#[cfg(all(target_arch = "wasm32", feature = "page"))]
pub mod web;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod worker;
