//! The mathematics of DDPM, in plain Rust: no tensors, no web.
//!
//! Everything here works on `f64` scalars and on small fixed-size points `[f32; D]`, so the
//! page can draw it, the command line can print it and the tests can check it against
//! identities. Timesteps follow the papers: `t = 1..=T`, with `t = 0` the data itself.
//!
//! - [`schedule`]: the beta schedules and every per-step constant derived from them.
//! - [`forward`]: sampling `q(x_t | x_0)` and inverting it.
//! - [`posterior`]: the forward posterior `q(x_{t-1} | x_t, x_0)` and the reverse mean from a
//!   predicted noise or a predicted `x_0`.
//! - [`sampler`]: one DDPM or DDIM step, and the timesteps of a shortened chain.
//! - [`exact`]: for a finite data set, the exact weights `Q(x_0 | x_t)`, the true reverse target
//!   `mu*(x_t)` and the exact score.
//! - [`fast`]: an `exp` that vectorises, for the loops over thousands of values.
//! - [`conv`]: a 3x3 convolution in SIMD lanes, for the digit U-Net on the CPU.
//! - [`quality`] (feature `quality`): how close samples are to real data, in some feature space.

pub mod conv;
pub mod distance;
pub mod exact;
pub mod fast;
pub mod forward;
pub mod posterior;
#[cfg(feature = "quality")]
pub mod quality;
pub mod sampler;
pub mod schedule;

pub use schedule::{NoiseSchedule, ScheduleError, ScheduleKind};
