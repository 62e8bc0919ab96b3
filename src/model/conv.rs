//! The U-Net's convolutions when sampling on the CPU. burn-flex lowers a convolution to a
//! matrix product too, but first turns the input into channels-last order and back, one element
//! at a time, and that copying was a third of the whole forward pass (perf, natively). Here the
//! input stays in burn's channels-first order: each row of the lowered matrix is a shifted copy
//! of one input plane, made of whole row segments, and one batched matrix product (burn's, so
//! the same SIMD kernels) finishes the convolution.
//!
//! In WebAssembly, the 3x3 convolutions with stride 1 (91 % of the U-Net's multiply-adds) skip
//! the lowered matrix altogether: `math::conv` sums them directly in SIMD registers from
//! zero-bordered copies of the input planes. Natively the lowered route stays, where burn's
//! matrix product runs AVX2 with fused multiply-adds (eight lanes against the direct kernel's
//! four).
//!
//! Only for what it is measured on: burn-flex without autodiff (sampling), f32, no groups, no
//! dilation; for the lowered route explicit padding the same on every side (or none), kernels
//! larger than 1x1 and a non-empty batch of images at least as large as the kernel; for the
//! direct one 3x3 kernels, stride 1, one pixel of padding and images of at least one pixel.
//! Training, WebGPU and everything else go through burn's own `Conv2d::forward`; `tests`
//! checks that all agree.

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, PaddingConfig2d};
use burn::tensor::{Tensor, TensorData};

use super::floats;
use super::norm::{as_affine, norm_silu};
use crate::math::conv::{Affine, Fused, Packed, conv3x3_fused};

/// Images lowered at a time: bounds the lowered matrix (9 times the input) to about 11 MB for
/// the U-Net's widest layer (48 channels at 28x28), whatever the batch.
const CHUNK: usize = 8;

/// Whether 3x3 convolutions with stride 1 take `math::conv`'s direct kernel (see the module's
/// documentation).
const DIRECT: bool = cfg!(target_arch = "wasm32");

/// `conv.forward(x)`, faster where it applies (see the module's documentation).
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    conv2d_with(conv, x, DIRECT)
}

/// [`conv2d`], with the direct kernel for 3x3 convolutions with stride 1 or without it.
fn conv2d_with(conv: &Conv2d, x: Tensor<4>, direct_3x3: bool) -> Tensor<4> {
    let device = x.device();
    let [kh, kw] = conv.kernel_size;
    let pad = match conv.padding {
        PaddingConfig2d::Explicit(top, left, bottom, right)
            if top == left && left == bottom && bottom == right =>
        {
            top
        }
        PaddingConfig2d::Valid => 0,
        _ => return conv.forward(x),
    };
    let [batch, channels, h, w] = x.dims();
    if kh * kw == 1 && pad == 0 && conv.stride == [1, 1] && conv.groups == 1 && super::sampling_on_flex(&x) {
        return pointwise(conv, x);
    }
    if direct_3x3 && takes_direct(conv, &x) {
        return direct(conv, x, None, None);
    }
    if !super::sampling_on_flex(&x)
        || conv.groups != 1
        || conv.dilation != [1, 1]
        || kh * kw == 1
        || batch == 0
        || h + 2 * pad < kh
        || w + 2 * pad < kw
    {
        return conv.forward(x);
    }
    let geometry = Geometry::new([channels, h, w], [kh, kw], pad, conv.stride);
    let [oh, ow] = geometry.out;
    let weight = conv.weight.val();
    let [out_channels, ..] = weight.dims();
    let k = channels * kh * kw;
    let weight = weight.reshape([1, out_channels, k]);
    let pixels = floats(x);
    let mut outputs = Vec::with_capacity(batch.div_ceil(CHUNK));
    for first in (0..batch).step_by(CHUNK) {
        let n = CHUNK.min(batch - first);
        let image = channels * h * w;
        let cols = geometry.lower(&pixels[first * image..(first + n) * image], n);
        let cols = Tensor::<3>::from_data(TensorData::new(cols, [n, k, oh * ow]), &device);
        outputs.push(weight.clone().matmul(cols)); // [n, o, oh * ow]
    }
    let mut out = if outputs.len() == 1 {
        outputs.remove(0)
    } else {
        Tensor::cat(outputs, 0)
    };
    if let Some(bias) = &conv.bias {
        out = out + bias.val().reshape([1, out_channels, 1]);
    }
    out.reshape([batch, out_channels, oh, ow])
}

/// `conv(silu(norm(x + shift))) + residual` (`shift` of `[batch, channels, 1, 1]`, `residual`
/// of the output's shape): half a residual block. With the direct kernel, the norm and SiLU are
/// applied in the convolution's copy of its input and the residual added in the copy of its
/// output (`math::conv::Fused`), instead of a pass each over the whole tensor.
pub fn norm_silu_conv(
    norm: &GroupNorm,
    conv: &Conv2d,
    x: Tensor<4>,
    shift: Option<Tensor<4>>,
    residual: Option<Tensor<4>>,
) -> Tensor<4> {
    norm_silu_conv_with(norm, conv, x, shift, residual, DIRECT)
}

fn norm_silu_conv_with(
    norm: &GroupNorm,
    conv: &Conv2d,
    x: Tensor<4>,
    shift: Option<Tensor<4>>,
    residual: Option<Tensor<4>>,
    direct_3x3: bool,
) -> Tensor<4> {
    let [batch, _, h, w] = x.dims();
    let [out_channels, ..] = conv.weight.val().dims();
    let fits = |r: &Option<Tensor<4>>| r.as_ref().is_none_or(|r| r.dims() == [batch, out_channels, h, w]);
    if direct_3x3 && takes_direct(conv, &x) && super::norm::applies(norm, &x) && fits(&residual) {
        return direct(conv, x, Some((norm, shift)), residual);
    }
    let y = conv2d_with(conv, norm_silu(norm, x, shift), direct_3x3);
    match residual {
        Some(residual) => y + residual,
        None => y,
    }
}

/// Whether `conv` of `x` is a 3x3 convolution with stride 1 and one pixel of zero padding, when
/// sampling on burn-flex: what `math::conv` computes.
fn takes_direct(conv: &Conv2d, x: &Tensor<4>) -> bool {
    let [_, channels, h, w] = x.dims();
    conv.kernel_size == [3, 3]
        && matches!(conv.padding, PaddingConfig2d::Explicit(1, 1, 1, 1))
        && conv.stride == [1, 1]
        && conv.groups == 1
        && conv.dilation == [1, 1]
        && channels > 0
        && h > 0
        && w > 0
        && super::sampling_on_flex(x)
}

/// `conv(x)` by `math::conv` (where [`takes_direct`] holds), with the group norm and SiLU of
/// `x + shift` applied on the way in and `residual` added on the way out where given.
fn direct(
    conv: &Conv2d,
    x: Tensor<4>,
    norm: Option<(&GroupNorm, Option<Tensor<4>>)>,
    residual: Option<Tensor<4>>,
) -> Tensor<4> {
    let device = x.device();
    let dims @ [batch, channels, h, w] = x.dims();
    let weight = conv.weight.val();
    let [out_channels, ..] = weight.dims();
    let weights = Packed::new(&floats(weight), out_channels, channels);
    let bias = conv.bias.as_ref().map(|bias| floats(bias.val()));
    let values = floats(x);
    let affine = norm.map(|(norm, shift)| as_affine(norm, &values, dims, shift.map(floats).as_deref()));
    let residual = residual.map(floats);
    let fused = Fused {
        input: affine.as_ref().map(|(scale, shift)| Affine {
            scale,
            shift,
            silu: true,
        }),
        residual: residual.as_deref(),
    };
    let out = conv3x3_fused(&weights, bias.as_deref(), &values, [batch, h, w], fused);
    Tensor::from_data(TensorData::new(out, [batch, out_channels, h, w]), &device)
}

/// A 1x1 convolution (the residual blocks' skips where the channel count changes): a matrix
/// product per image, `[out, in]` by `[in, h * w]`, on burn's channels-first layout. burn-flex's
/// own convolution turns the input into channels-last order and back first, element by element.
fn pointwise(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [batch, channels, h, w] = x.dims();
    let weight = conv.weight.val();
    let [out_channels, ..] = weight.dims();
    let mut out = weight
        .reshape([1, out_channels, channels])
        .matmul(x.reshape([batch, channels, h * w]));
    if let Some(bias) = &conv.bias {
        out = out + bias.val().reshape([1, out_channels, 1]);
    }
    out.reshape([batch, out_channels, h, w])
}

/// The shapes of one convolution.
struct Geometry {
    channels: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    pad: usize,
    stride: [usize; 2],
    out: [usize; 2],
}

impl Geometry {
    /// A `kernel` convolution with `pad` zeros on every side and `stride`, over channels-first
    /// images of `[channels, h, w]` (at least as large as the kernel once padded).
    fn new([channels, h, w]: [usize; 3], [kh, kw]: [usize; 2], pad: usize, stride: [usize; 2]) -> Self {
        let out = [
            (h + 2 * pad - kh) / stride[0] + 1,
            (w + 2 * pad - kw) / stride[1] + 1,
        ];
        Self {
            channels,
            h,
            w,
            kh,
            kw,
            pad,
            stride,
            out,
        }
    }

    /// The lowered matrix of `n` channels-first images: for each image, a row per (channel,
    /// kernel row, kernel column) holding the input pixel each output pixel sees there (zero in
    /// the padding). `[n, channels * kh * kw, oh * ow]`, row-major, written in order and each
    /// element once (zeroing the whole matrix first was 6 % of a forward pass).
    fn lower(&self, images: &[f32], n: usize) -> Vec<f32> {
        let Self {
            channels,
            h,
            w,
            kh,
            kw,
            pad,
            stride: [sy, sx],
            out: [oh, ow],
        } = *self;
        let zeros = |cols: &mut Vec<f32>, count: usize| cols.resize(cols.len() + count, 0.0);
        let mut cols = Vec::with_capacity(n * channels * kh * kw * oh * ow);
        for image in images.chunks_exact(channels * h * w).take(n) {
            for plane in image.chunks_exact(h * w) {
                for ky in 0..kh {
                    for kx in 0..kw {
                        // The output columns whose input column ox * sx + kx - pad is inside.
                        let first = pad.saturating_sub(kx).div_ceil(sx).min(ow);
                        let last = ((w + pad).saturating_sub(kx)).div_ceil(sx).clamp(first, ow);
                        for oy in 0..oh {
                            let Some(iy) = (oy * sy + ky).checked_sub(pad).filter(|&iy| iy < h) else {
                                zeros(&mut cols, ow);
                                continue;
                            };
                            let src = &plane[iy * w..][..w];
                            zeros(&mut cols, first);
                            if sx == 1 {
                                let start = first + kx - pad;
                                cols.extend_from_slice(&src[start..start + (last - first)]);
                            } else {
                                cols.extend((first..last).map(|ox| src[ox * sx + kx - pad]));
                            }
                            zeros(&mut cols, ow - last);
                        }
                    }
                }
            }
        }
        cols
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::norm::trained_looking_norm;
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::Device;
    use burn::tensor::Distribution;

    /// The largest difference between two tensors, which must have the same shape.
    fn largest_difference(ours: Tensor<4>, expected: Tensor<4>) -> f32 {
        assert_eq!(ours.dims(), expected.dims(), "shapes");
        (ours - expected).abs().max().into_scalar()
    }

    #[test]
    fn agrees_with_burns_convolution() {
        let device = Device::flex();
        // (in, out, kernel, stride, padding, side, batch): the U-Net's shapes and some others.
        for (i, o, k, s, p, side, batch) in [
            (1, 16, 3, 1, 1, 28, 3),
            (16, 1, 3, 1, 1, 28, 2),
            (64, 32, 3, 1, 1, 14, 3),
            (16, 16, 3, 2, 1, 28, 2),
            (48, 16, 3, 1, 1, 28, 9),
            (32, 32, 3, 2, 1, 14, 1),
            (32, 32, 3, 1, 1, 7, 17),
            (3, 5, 5, 1, 2, 9, 2),
            (4, 2, 3, 2, 0, 8, 2),
            (2, 3, 3, 1, 0, 5, 1),
            (2, 3, 3, 3, 1, 10, 2),
            // The skips of the residual blocks.
            (16, 32, 1, 1, 0, 14, 3),
            (48, 16, 1, 1, 0, 28, 2),
        ] {
            let conv = Conv2dConfig::new([i, o], [k, k])
                .with_stride([s, s])
                .with_padding(if p == 0 {
                    PaddingConfig2d::Valid
                } else {
                    PaddingConfig2d::Explicit(p, p, p, p)
                })
                .init(&device);
            let x = Tensor::<4>::random([batch, i, side, side], Distribution::Normal(0.0, 1.0), &device);
            let expected = conv.forward(x.clone());
            for direct in [false, true] {
                let diff = largest_difference(conv2d_with(&conv, x.clone(), direct), expected.clone());
                assert!(
                    diff < 1e-4,
                    "{i}->{o} k{k} s{s} p{p} at {side} (direct: {direct}): differs by {diff}"
                );
            }
        }
    }

    #[test]
    fn a_residual_half_fused_agrees_with_its_parts_in_burn() {
        let device = Device::flex();
        // (in, out, side, batch, groups, with a residual)
        for (i, o, side, batch, groups, residual) in [
            (16, 16, 28, 3, 8, true),
            (48, 16, 28, 2, 8, false),
            (64, 32, 14, 2, 8, true),
            (32, 32, 7, 3, 8, true),
        ] {
            let norm = trained_looking_norm(groups, i, &device);
            let conv = Conv2dConfig::new([i, o], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(&device);
            let x = Tensor::<4>::random([batch, i, side, side], Distribution::Normal(0.7, 2.0), &device);
            let shift = Tensor::<4>::random([batch, i, 1, 1], Distribution::Normal(0.0, 1.0), &device);
            let r =
                residual.then(|| Tensor::<4>::random([batch, o, side, side], Distribution::Default, &device));
            let mut expected = conv.forward(burn::tensor::activation::silu(
                norm.forward(x.clone() + shift.clone()),
            ));
            if let Some(r) = &r {
                expected = expected + r.clone();
            }
            for direct in [false, true] {
                let ours =
                    norm_silu_conv_with(&norm, &conv, x.clone(), Some(shift.clone()), r.clone(), direct);
                let diff = largest_difference(ours, expected.clone());
                assert!(
                    diff < 1e-4,
                    "{i}->{o} at {side} (direct: {direct}): differs by {diff}"
                );
            }
        }
    }

    #[test]
    fn non_square_kernels_strides_and_the_fallbacks_agree_too() {
        let device = Device::flex();
        let x = Tensor::<4>::random([2, 3, 9, 12], Distribution::Normal(0.0, 1.0), &device);
        for (kernel, stride, padding) in [
            ([3, 5], [2, 1], PaddingConfig2d::Explicit(2, 2, 2, 2)),
            ([5, 3], [1, 3], PaddingConfig2d::Valid),
            ([3, 3], [1, 1], PaddingConfig2d::Explicit(1, 0, 1, 0)),
            ([3, 3], [1, 1], PaddingConfig2d::Same),
            ([1, 1], [1, 1], PaddingConfig2d::Valid),
        ] {
            let conv = Conv2dConfig::new([3, 4], kernel)
                .with_stride(stride)
                .with_padding(padding.clone())
                .init(&device);
            for direct in [false, true] {
                let diff = largest_difference(conv2d_with(&conv, x.clone(), direct), conv.forward(x.clone()));
                assert!(
                    diff < 1e-4,
                    "kernel {kernel:?} stride {stride:?} {padding:?} (direct: {direct}): differs by {diff}"
                );
            }
        }
    }

    #[test]
    fn training_keeps_burns_convolution_and_its_gradients() {
        let device = Device::flex().autodiff();
        let conv = Conv2dConfig::new([2, 3], [3, 3])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let x = Tensor::<4>::random([2, 2, 6, 6], Distribution::Normal(0.0, 1.0), &device);
        let grads = conv2d(&conv, x).sum().backward();
        assert!(conv.weight.grad(&grads).is_some());
    }
}
