//! Diffusion Playground: an interactive explainer of denoising diffusion models (DDPM).
//!
//! Dependencies point one way: `math <- data <- model <- {web, cli}`; `params` (every control
//! of the page) and `charts` (every chart, on any plotters backend) sit beside `model`, plain
//! Rust that the page and the command line share.

pub mod charts;
pub mod data;
pub mod math;
pub mod model;
pub mod params;
#[cfg(target_arch = "wasm32")]
pub mod web;
