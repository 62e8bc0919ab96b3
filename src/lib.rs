//! Diffusion Playground: an interactive explainer of denoising diffusion models (DDPM).
//!
//! Dependencies point one way: `math <- data <- model <- {web, cli}`.

pub mod data;
pub mod math;
pub mod model;
pub mod params;
#[cfg(target_arch = "wasm32")]
pub mod web;
