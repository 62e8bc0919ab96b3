//! A small U-Net for 28x28 digits, after the DDPM U-Net (seed 001, seed 003): residual blocks
//! with group norm and SiLU, told the timestep through a sinusoidal embedding and an MLP, down
//! from 28x28 to 14x14 and 7x7 and back up with skip connections, self-attention at 7x7, and a
//! class embedding with an extra "no label" entry, so that one network serves unconditional and
//! class-conditional sampling with classifier-free guidance.
//!
//! One definition, generic over burn's device: the native trainer and the page build the same
//! modules. Shapes are written `[batch, channels, height, width]`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{
    Embedding, EmbeddingConfig, GroupNorm, GroupNormConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::activation::silu;
use super::conv::{conv2d, norm_silu_conv};
use super::norm::norm;

use super::embedding::{time_embedding_with, time_frequencies};

pub use crate::sampling::digits::NO_LABEL;

/// The U-Net's shape. Saved next to the weights.
#[derive(Config, Debug, PartialEq)]
pub struct UNetConfig {
    /// Channels at 28x28, 14x14 and 7x7.
    #[config(default = "[16, 32, 32]")]
    pub channels: [usize; 3],
    /// Width of the time-and-class embedding.
    #[config(default = 128)]
    pub embedding: usize,
    /// Frequencies of the sinusoidal time embedding.
    #[config(default = 32)]
    pub time_frequencies: usize,
    /// Groups of every group norm (must divide every channel count).
    #[config(default = 8)]
    pub groups: usize,
    /// Self-attention at 7x7.
    #[config(default = true)]
    pub attention: bool,
}

impl UNetConfig {
    /// A freshly initialised network on `device`.
    pub fn init(&self, device: &Device) -> UNet {
        let [c1, c2, c3] = self.channels;
        let e = self.embedding;
        let block = |i, o| ResBlock::new(i, o, e, self.groups, device);
        let conv = |i, o, k, s| conv(i, o, k, s, device);
        UNet {
            time_in: LinearConfig::new(2 * self.time_frequencies, e).init(device),
            time_out: LinearConfig::new(e, e).init(device),
            class: EmbeddingConfig::new(NO_LABEL + 1, e).init(device),
            input: conv(1, c1, 3, 1),
            down1: block(c1, c1),
            pool1: conv(c1, c1, 3, 2),
            down2: block(c1, c2),
            pool2: conv(c2, c2, 3, 2),
            mid1: block(c2, c3),
            attention: self.attention.then(|| Attention::new(c3, self.groups, device)),
            mid2: block(c3, c3),
            up2: block(c3 + c2, c2),
            up1: block(c2 + c1, c1),
            out_norm: GroupNormConfig::new(self.groups, c1).init(device),
            output: conv(c1, 1, 3, 1),
            time_frequencies: self.time_frequencies,
        }
    }
}

fn conv(i: usize, o: usize, kernel: usize, stride: usize, device: &Device) -> Conv2d {
    let pad = kernel / 2;
    Conv2dConfig::new([i, o], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .init(device)
}

/// The network: noisy images, timesteps and labels in; predicted noise out.
#[derive(Module, Debug)]
pub struct UNet {
    time_in: Linear,
    time_out: Linear,
    class: Embedding,
    input: Conv2d,
    down1: ResBlock,
    pool1: Conv2d,
    down2: ResBlock,
    pool2: Conv2d,
    mid1: ResBlock,
    attention: Option<Attention>,
    mid2: ResBlock,
    up2: ResBlock,
    up1: ResBlock,
    out_norm: GroupNorm,
    output: Conv2d,
    time_frequencies: usize,
}

impl UNet {
    /// Predicts the noise in `x_t` (`[batch, 1, 28, 28]`, in `[-1, 1]` scale) at timesteps `ts`
    /// given `labels` (`0..=9`, or [`NO_LABEL`]); returns `[batch, 1, 28, 28]`.
    pub fn forward(&self, x_t: Tensor<4>, ts: &[usize], labels: &[usize]) -> Tensor<4> {
        let device = x_t.device();
        let batch = ts.len();
        let freqs = time_frequencies(self.time_frequencies);
        let mut flat = vec![0.0_f32; batch * 2 * self.time_frequencies];
        for (row, &t) in flat.chunks_exact_mut(2 * self.time_frequencies).zip(ts) {
            time_embedding_with(t, &freqs, row);
        }
        let t_emb =
            Tensor::<2>::from_data(TensorData::new(flat, [batch, 2 * self.time_frequencies]), &device);
        let ids: Vec<i64> = labels.iter().map(|&l| l.min(NO_LABEL) as i64).collect();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [batch, 1]), &device);
        let class = self.class.forward(ids); // [batch, 1, e]
        let [_, _, e] = class.dims();
        let class = class.reshape([batch, e]); // [batch, e]
        let emb = self.time_out.forward(silu(self.time_in.forward(t_emb))) + class; // [batch, e]

        let h = conv2d(&self.input, x_t); // [b, c1, 28, 28]
        let skip1 = self.down1.forward(h, &emb); // [b, c1, 28, 28]
        let h = conv2d(&self.pool1, skip1.clone()); // [b, c1, 14, 14]
        let skip2 = self.down2.forward(h, &emb); // [b, c2, 14, 14]
        let h = conv2d(&self.pool2, skip2.clone()); // [b, c2, 7, 7]
        let mut h = self.mid1.forward(h, &emb); // [b, c3, 7, 7]
        if let Some(attention) = &self.attention {
            h = attention.forward(h);
        }
        let h = self.mid2.forward(h, &emb); // [b, c3, 7, 7]
        let h = upsample(h); // [b, c3, 14, 14]
        let h = self.up2.forward(Tensor::cat(vec![h, skip2], 1), &emb); // [b, c2, 14, 14]
        let h = upsample(h); // [b, c2, 28, 28]
        let h = self.up1.forward(Tensor::cat(vec![h, skip1], 1), &emb); // [b, c1, 28, 28]
        norm_silu_conv(&self.out_norm, &self.output, h, None, None) // [b, 1, 28, 28]
    }
}

/// Nearest-neighbour upsampling by 2: every pixel becomes a 2x2 block (PyTorch's
/// `interpolate(scale_factor=2, mode="nearest")`, written out so both agree to the bit).
fn upsample(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    if !super::sampling_on_flex(&x) {
        return x
            .reshape([b, c, h, 1, w, 1])
            .expand([b, c, h, 2, w, 2])
            .reshape([b, c, 2 * h, 2 * w]);
    }
    // Sampling on the CPU: written row by row (burn-flex makes the expanded view contiguous
    // through a general strided iterator, element by element).
    let device = x.device();
    let values = super::floats(x);
    let mut out = Vec::with_capacity(4 * values.len());
    for row in values.chunks_exact(w.max(1)) {
        let start = out.len();
        out.extend(row.iter().flat_map(|&v| [v, v]));
        out.extend_from_within(start..);
    }
    Tensor::from_data(TensorData::new(out, [b, c, 2 * h, 2 * w]), &device)
}

/// Group norm, SiLU, 3x3 conv, plus the embedding (as a per-channel shift); group norm, SiLU,
/// 3x3 conv; added to the input (through a 1x1 conv where the channel count changes).
#[derive(Module, Debug)]
pub struct ResBlock {
    norm1: GroupNorm,
    conv1: Conv2d,
    emb: Linear,
    norm2: GroupNorm,
    conv2: Conv2d,
    skip: Option<Conv2d>,
}

impl ResBlock {
    fn new(i: usize, o: usize, e: usize, groups: usize, device: &Device) -> Self {
        Self {
            norm1: GroupNormConfig::new(groups, i).init(device),
            conv1: conv(i, o, 3, 1, device),
            emb: LinearConfig::new(e, o).init(device),
            norm2: GroupNormConfig::new(groups, o).init(device),
            conv2: conv(o, o, 3, 1, device),
            skip: (i != o).then(|| conv(i, o, 1, 1, device)),
        }
    }

    fn forward(&self, x: Tensor<4>, emb: &Tensor<2>) -> Tensor<4> {
        let h = norm_silu_conv(&self.norm1, &self.conv1, x.clone(), None, None); // [b, o, h, w]
        let shift = self.emb.forward(silu(emb.clone())).unsqueeze_dims::<4>(&[2, 3]); // [b, o, 1, 1]
        let skip = match &self.skip {
            Some(conv) => conv2d(conv, x),
            None => x,
        };
        norm_silu_conv(&self.norm2, &self.conv2, h, Some(shift), Some(skip)) // [b, o, h, w]
    }
}

/// Single-head self-attention over the pixels of a small feature map, with a residual.
#[derive(Module, Debug)]
pub struct Attention {
    norm: GroupNorm,
    qkv: Linear,
    out: Linear,
}

impl Attention {
    fn new(c: usize, groups: usize, device: &Device) -> Self {
        Self {
            norm: GroupNormConfig::new(groups, c).init(device),
            qkv: LinearConfig::new(c, 3 * c).init(device),
            out: LinearConfig::new(c, c).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let tokens = norm(&self.norm, x.clone()).reshape([b, c, h * w]).swap_dims(1, 2); // [b, hw, c]
        let qkv = self.qkv.forward(tokens); // [b, hw, 3c]
        let q = qkv.clone().narrow(2, 0, c);
        let k = qkv.clone().narrow(2, c, c);
        let v = qkv.narrow(2, 2 * c, c);
        let scores = q.matmul(k.swap_dims(1, 2)) / (c as f32).sqrt(); // [b, hw, hw]
        let attended = softmax(scores, 2).matmul(v); // [b, hw, c]
        let out = self.out.forward(attended).swap_dims(1, 2).reshape([b, c, h, w]);
        x + out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn upsampling_on_the_cpu_repeats_each_pixel_as_burn_does() {
        let x = Tensor::<4>::random([2, 3, 5, 7], Distribution::Default, &Device::flex());
        let values = x.to_data().try_to_vec::<f32>().unwrap();
        let ours = upsample(x).into_data().try_to_vec::<f32>().unwrap();
        // burn's expanded view (the path training takes).
        let autodiff = Device::flex().autodiff();
        let y = Tensor::<4>::from_data(TensorData::new(values.clone(), [2, 3, 5, 7]), &autodiff);
        let burns = upsample(y).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(ours, burns);
        // And by hand: pixel (plane 4, row 3, column 6) lands on a 2x2 block.
        let at = |v: &[f32], p: usize, r: usize, c: usize, w: usize, h: usize| v[(p * h + r) * w + c];
        for (r, c) in [(6, 12), (6, 13), (7, 12), (7, 13)] {
            assert_eq!(at(&ours, 4, r, c, 14, 10), at(&values, 4, 3, 6, 7, 5));
        }
    }
}
