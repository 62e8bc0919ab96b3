//! burn on top of the math: networks and tensor work on whichever device the caller chose
//! (WebGPU, or the flex CPU backend), shared by the page and the command line.
//!
//! - [`activation`]: SiLU in the elementwise kernels burn-flex vectorises.
//! - [`conv`]: the U-Net's convolutions when sampling on the CPU, without burn-flex's copies.
//! - [`norm`]: the U-Net's group norms when sampling on the CPU, with the shift and SiLU fused.
//! - [`points`]: moving 2-D points between plain slices and tensors.
//! - [`forward`]: the forward process `q(x_t | x_0)` on a batch of tensors.
//! - [`embedding`], [`denoiser`]: the 2-D denoiser and its time embedding.
//! - [`train`]: batches, losses and the Adam loop.
//! - [`adam`]: Adam in one loop a parameter, for training on the CPU.
//! - [`sample`]: reverse chains (DDPM, DDIM) driven by a trained denoiser.
//! - [`store`]: saving a trained denoiser and its config, and loading them back.
//! - [`unet`]: the U-Net for 28x28 digits, with time and class embeddings.
//! - [`digits`]: training it on MNIST, and guided reverse chains over digit images.
//! - [`judge`]: the classifier that judges sampled digits (trained by `scripts/judge_mnist.py`).
//! - [`weights`]: loading the shipped U-Net weights (safetensors from the PyTorch trainer).

pub mod activation;
pub mod adam;
pub mod conv;
pub mod denoiser;
pub mod digits;
pub mod embedding;
pub mod forward;
pub mod judge;
pub mod norm;
pub mod points;
pub mod sample;
pub mod store;
pub mod train;
pub mod unet;
pub mod weights;

use burn::tensor::{DType, Device, Tensor};

/// The values of an f32 tensor on burn-flex, row-major: the buffer itself where nothing else
/// holds it (burn-flex hands it over without a copy), for this crate's own CPU kernels.
pub(crate) fn floats<const D: usize>(x: Tensor<D>) -> Vec<f32> {
    x.into_data()
        .try_into_vec::<f32>()
        .expect("burn-flex's float tensors are f32 here")
}

/// Whether `x` is what this crate's own CPU kernels ([`conv`], [`norm`], [`activation`]) are for: burn-flex
/// without autodiff (sampling, not training), in f32. Everything else goes through burn.
pub(crate) fn sampling_on_flex<const D: usize>(x: &Tensor<D>) -> bool {
    !x.is_autodiff() && x.device() == Device::flex() && x.dtype() == DType::F32
}
