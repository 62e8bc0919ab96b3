//! The U-Net's group norms when sampling on the CPU, with what comes around them fused in: the
//! time embedding's per-channel shift before, SiLU after. burn's `GroupNorm` is written in
//! tensor operations (a mean, a subtraction, a square, another mean, a square root, a division,
//! a product with the scale and a sum with the bias), each a pass over the whole tensor into a
//! new buffer; then the shift and SiLU are two passes more. Here it is one pass for each
//! group's mean, one for its variance and one that writes the result, on the tensor's own
//! buffer.
//!
//! [`as_affine`] computes only the statistics, as one affine map a channel, for a convolution
//! to apply in the copy it makes of its input (`model::conv::norm_silu_conv`).
//!
//! Only where [`super::sampling_on_flex`] holds (burn-flex, no autodiff, f32). Training and
//! WebGPU go through burn's own modules; `tests` checks that both agree.

use burn::nn::GroupNorm;
use burn::tensor::{Tensor, TensorData};

use super::floats;
use crate::math::fast::exp;

/// Sums are kept in this many lanes, so that the loops vectorise.
const LANES: usize = 8;

/// `silu(norm(x + shift))`, `shift` (`[batch, channels, 1, 1]`) added when given.
pub fn norm_silu(norm: &GroupNorm, x: Tensor<4>, shift: Option<Tensor<4>>) -> Tensor<4> {
    fused(norm, x, shift, true)
}

/// `norm(x)`.
pub fn norm(norm: &GroupNorm, x: Tensor<4>) -> Tensor<4> {
    fused(norm, x, None, false)
}

fn fused(norm: &GroupNorm, x: Tensor<4>, shift: Option<Tensor<4>>, silu: bool) -> Tensor<4> {
    if !applies(norm, &x) {
        let x = match shift {
            Some(shift) => x + shift,
            None => x,
        };
        let y = norm.forward(x);
        return if silu { super::activation::silu(y) } else { y };
    }
    let device = x.device();
    let dims = x.dims();
    let shift = shift.map(floats);
    let mut values = floats(x);
    let (scales, shifts) = as_affine(norm, &values, dims, shift.as_deref());
    let [_, _, h, w] = dims;
    for ((plane, scale), shift) in values.chunks_exact_mut(h * w).zip(scales).zip(shifts) {
        if silu {
            for v in plane.iter_mut() {
                let y = *v * scale + shift;
                *v = y / (1.0 + exp(-y));
            }
        } else {
            plane.iter_mut().for_each(|v| *v = *v * scale + shift);
        }
    }
    Tensor::from_data(TensorData::new(values, dims), &device)
}

/// Whether [`as_affine`] computes `norm` of `x`: sampling on burn-flex, and a norm whose shape
/// fits `x`.
pub(crate) fn applies(norm: &GroupNorm, x: &Tensor<4>) -> bool {
    let [_, channels, _, _] = x.dims();
    super::sampling_on_flex(x)
        && channels == norm.num_channels
        && norm.num_groups != 0
        && channels % norm.num_groups == 0
        && (!norm.affine || (norm.gamma.is_some() && norm.beta.is_some()))
}

/// The group norm of `values` (`[batch, channels, h, w]`, with `shift`'s `[batch, channels]`
/// added first where given) as one affine map `x * scale + shift` for each channel of each
/// image: `(scales, shifts)`, `[batch, channels]` each. Only the statistics are computed (a pass
/// for each group's mean, one for its variance); the caller applies the map where it reads the
/// values anyway (a convolution's copy of its input, `math::conv::Fused`).
pub(crate) fn as_affine(
    norm: &GroupNorm,
    values: &[f32],
    [batch, channels, h, w]: [usize; 4],
    shift: Option<&[f32]>,
) -> (Vec<f32>, Vec<f32>) {
    let (gamma, beta) = match (&norm.gamma, &norm.beta) {
        (Some(g), Some(b)) if norm.affine => (floats(g.val()), floats(b.val())),
        _ => (vec![1.0; channels], vec![0.0; channels]),
    };
    let plane = h * w;
    let per_group = channels / norm.num_groups;
    let eps = norm.epsilon as f32;
    let mut scales = Vec::with_capacity(batch * channels);
    let mut shifts = Vec::with_capacity(batch * channels);
    for (b, image) in values.chunks_exact(channels * plane).enumerate() {
        for (g, group) in image.chunks_exact(per_group * plane).enumerate() {
            let first = g * per_group;
            let added = |c: usize| shift.map_or(0.0, |s| s[b * channels + first + c]);
            let n = group.len() as f32;
            let sum: f32 = group
                .chunks_exact(plane)
                .enumerate()
                .map(|(c, p)| lanes_sum(p, |v| v) + plane as f32 * added(c))
                .sum();
            let mean = sum / n;
            let var = group
                .chunks_exact(plane)
                .enumerate()
                .map(|(c, p)| {
                    let centre = mean - added(c);
                    lanes_sum(p, |v| (v - centre) * (v - centre))
                })
                .sum::<f32>()
                / n;
            let inv = 1.0 / (var + eps).sqrt();
            for c in 0..per_group {
                let scale = gamma[first + c] * inv;
                scales.push(scale);
                shifts.push(beta[first + c] + (added(c) - mean) * scale);
            }
        }
    }
    (scales, shifts)
}

/// A group norm with trained-looking scales and biases (not ones and zeros), for tests.
#[cfg(test)]
pub(crate) fn trained_looking_norm(
    groups: usize,
    channels: usize,
    device: &burn::tensor::Device,
) -> GroupNorm {
    use burn::module::Param;
    use burn::tensor::Distribution;
    let mut norm = burn::nn::GroupNormConfig::new(groups, channels).init(device);
    norm.gamma = Some(Param::from_tensor(Tensor::random(
        [channels],
        Distribution::Uniform(0.5, 1.5),
        device,
    )));
    norm.beta = Some(Param::from_tensor(Tensor::random(
        [channels],
        Distribution::Uniform(-0.5, 0.5),
        device,
    )));
    norm
}

/// The sum of `f` over `xs`, in [`LANES`] lanes.
fn lanes_sum(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0_f32; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += f(v);
        }
    }
    let tail: f32 = chunks.remainder().iter().map(|&v| f(v)).sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::GroupNormConfig;
    use burn::tensor::{Device, Distribution};

    fn max_diff(a: Tensor<4>, b: Tensor<4>) -> f32 {
        let a = a.into_data().try_to_vec::<f32>().unwrap();
        let b = b.into_data().try_to_vec::<f32>().unwrap();
        a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    #[test]
    fn agrees_with_burns_group_norm_shift_and_silu() {
        let device = Device::flex();
        for (channels, groups, side) in [(16, 8, 28), (32, 8, 7), (48, 8, 28), (6, 3, 5)] {
            let norm = trained_looking_norm(groups, channels, &device);
            // Off-centre, so that the mean matters.
            let x = Tensor::<4>::random([3, channels, side, side], Distribution::Normal(0.7, 2.0), &device);
            let shift = Tensor::<4>::random([3, channels, 1, 1], Distribution::Normal(0.0, 1.0), &device);

            let burns = burn::tensor::activation::silu(norm.forward(x.clone() + shift.clone()));
            let ours = norm_silu(&norm, x.clone(), Some(shift));
            assert!(
                max_diff(ours, burns) < 2e-5,
                "{channels} channels in {groups} groups"
            );

            let burns = norm.forward(x.clone());
            let ours = super::norm(&norm, x);
            assert!(
                max_diff(ours, burns) < 2e-5,
                "{channels} channels in {groups} groups"
            );
        }
    }

    #[test]
    fn training_goes_through_burn_with_its_gradients() {
        let device = Device::flex().autodiff();
        let norm = GroupNormConfig::new(2, 4).init(&device);
        let x = Tensor::<4>::random([2, 4, 3, 3], Distribution::Default, &device).require_grad();
        let grads = norm_silu(&norm, x.clone(), None).sum().backward();
        assert!(x.grad(&grads).is_some());
    }
}
