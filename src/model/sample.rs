//! Reverse sampling with a trained 2-D denoiser on burn: the chains are
//! [`crate::sampling`]'s, the network's outputs come from here.

use super::denoiser::Denoiser;
use crate::math::NoiseSchedule;
use crate::math::forward::Point;
pub use crate::sampling::{Chain, Prediction, Sampler, X0_CLIP, clip_x0, interpret};

/// Runs `chain` to the end with `model`, reading outputs synchronously (native backends).
pub fn run(chain: &mut Chain, model: &Denoiser, schedule: &NoiseSchedule) -> Result<(), String> {
    while let Some(t) = chain.current_t() {
        let ts = vec![t; chain.particles.len()];
        let out = model
            .predict(&chain.particles, &ts)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| format!("{e:?}"))?;
        chain.advance(schedule, model.parameterization(), &out);
    }
    Ok(())
}

/// `n` samples from `model` (native convenience).
pub fn sample(
    model: &Denoiser,
    schedule: &NoiseSchedule,
    sampler: Sampler,
    steps: usize,
    n: usize,
    seed: u64,
) -> Result<Vec<Point<2>>, String> {
    let mut chain = Chain::new(schedule, sampler, steps, n, seed);
    run(&mut chain, model, schedule)?;
    Ok(chain.particles)
}
