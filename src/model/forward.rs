//! The forward process on tensors: the same formula as [`crate::math::forward`], batched on
//! the active backend.

use burn::tensor::Tensor;

/// `x_t = sqrt(alpha_bar) x_0 + sqrt(1 - alpha_bar) eps` for a whole batch.
///
/// `x0` and `eps` are `[batch, D]`; the result has the same shape.
pub fn add_noise(x0: Tensor<2>, eps: Tensor<2>, alpha_bar: f64) -> Tensor<2> {
    let signal = alpha_bar.sqrt() as f32;
    let noise = (1.0 - alpha_bar).sqrt() as f32;
    x0 * signal + eps * noise // [batch, D]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{standard_normal, swiss_roll};
    use crate::math::NoiseSchedule;
    use crate::model::points;
    use burn::tensor::Device;

    #[test]
    fn tensor_forward_matches_the_math_core() {
        let device = Device::flex();
        let (x0, eps) = (swiss_roll(500, 1), standard_normal::<2>(500, 2));
        let s = NoiseSchedule::ddpm();
        let t = 321;
        let xt = add_noise(
            points::to_tensor(&x0, &device),
            points::to_tensor(&eps, &device),
            s.alpha_bar(t),
        );
        let got = points::from_data::<2>(xt.into_data()).unwrap();
        for i in 0..x0.len() {
            let want = s.add_noise(&x0[i], &eps[i], t);
            for k in 0..2 {
                assert!((got[i][k] - want[k]).abs() < 1e-6);
            }
        }
    }
}
