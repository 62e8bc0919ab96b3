//! burn on top of the math: tensors on whichever device the caller chose (WebGPU, or the
//! flex CPU backend), shared by the page and the command line.
//!
//! - [`points`]: moving 2-D points between plain slices and tensors.
//! - [`forward`]: the forward process `q(x_t | x_0)` on a batch of tensors.

pub mod forward;
pub mod points;
