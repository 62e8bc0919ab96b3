//! The 2-D denoiser: one MLP shared by every timestep, told the timestep through a sinusoidal
//! embedding (DDPM's weight sharing, seed 001), predicting what its [`Parameterization`] says.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;

use super::activation::silu;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

pub use crate::sampling::Parameterization;

use super::embedding::{point_embedding, time_embedding_with, time_frequencies as frequencies_of};
use crate::math::forward::Point;

/// The non-linearity between the layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `x sigmoid(x)`, smooth (the DDPM U-Net's choice).
    Silu,
    /// `max(0, x)`: no exponential, so about twice as fast a step in WebAssembly, where `exp` is
    /// a library call; with 1.5 times the steps it matches SiLU's samples in less time.
    #[default]
    Relu,
}

impl Activation {
    fn apply(self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Silu => silu(x),
            Self::Relu => relu(x),
        }
    }
}

/// The denoiser's shape. Saved next to the weights so they can be loaded again.
#[derive(Config, Debug, PartialEq)]
pub struct DenoiserConfig {
    /// What the network predicts.
    #[config(default = "Parameterization::Epsilon")]
    pub parameterization: Parameterization,
    /// Width of every hidden layer.
    #[config(default = 32)]
    pub hidden: usize,
    /// Number of hidden layers (each a linear map and a SiLU).
    #[config(default = 3)]
    pub layers: usize,
    /// Frequencies of the time embedding; it adds `2 * time_frequencies` input features.
    #[config(default = 8)]
    pub time_frequencies: usize,
    /// The non-linearity.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Octaves of the Fourier features of each coordinate; it adds `4 * point_frequencies`
    /// input features (0: the raw point only).
    #[config(default = 6)]
    pub point_frequencies: usize,
}

impl DenoiserConfig {
    /// Numbers fed to the network per point: the point and its time embedding.
    pub fn inputs(&self) -> usize {
        2 + 4 * self.point_frequencies + 2 * self.time_frequencies
    }

    /// A freshly initialised network on `device`.
    pub fn init(&self, device: &Device) -> Denoiser {
        let layers = self.layers.max(1);
        Denoiser {
            input: LinearConfig::new(self.inputs(), self.hidden).init(device),
            hidden: (1..layers)
                .map(|_| LinearConfig::new(self.hidden, self.hidden).init(device))
                .collect(),
            output: LinearConfig::new(self.hidden, self.parameterization.outputs()).init(device),
            time_frequencies: self.time_frequencies,
            point_frequencies: self.point_frequencies,
            activation: self.activation,
            parameterization: self.parameterization,
        }
    }
}

/// An MLP from `(x_t, embedding(t))` to the parameterisation's output.
#[derive(Module, Debug)]
pub struct Denoiser {
    input: Linear,
    hidden: Vec<Linear>,
    output: Linear,
    time_frequencies: usize,
    point_frequencies: usize,
    #[module(skip)]
    activation: Activation,
    #[module(skip)]
    parameterization: Parameterization,
}

/// The most points one network pass takes in [`Denoiser::predict`].
pub const PASS_ROWS: usize = 4096;

impl Denoiser {
    /// The network on prepared features (see [`Denoiser::features`]).
    ///
    /// `features` is `[batch, inputs]` (see [`DenoiserConfig::inputs`]); the result is `[batch, outputs]`.
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        let mut x = self.activation.apply(self.input.forward(features)); // [batch, hidden]
        for layer in &self.hidden {
            x = self.activation.apply(layer.forward(x)); // [batch, hidden]
        }
        self.output.forward(x) // [batch, outputs]
    }

    /// What this network predicts.
    pub fn parameterization(&self) -> Parameterization {
        self.parameterization
    }

    /// The input features of points `x_t` at timesteps `ts` (one a point): a `[batch, inputs]`
    /// tensor on `device`.
    pub fn features(&self, x_t: &[Point<2>], ts: &[usize], device: &Device) -> Tensor<2> {
        features(x_t, ts, self.time_frequencies, self.point_frequencies, device)
    }

    /// Runs the network on points `x_t` at timesteps `ts`: `[batch, outputs]`. Every point is
    /// independent of the others, so more than [`PASS_ROWS`] points are run a slice at a time:
    /// the memory of the activations stays that of one slice (measured natively at the worker's
    /// limits, 100,000 points at width 512: 400 MB in one pass).
    pub fn predict(&self, x_t: &[Point<2>], ts: &[usize]) -> Tensor<2> {
        let device = self.input.weight.device();
        if x_t.len() <= PASS_ROWS {
            return self.forward(self.features(x_t, ts, &device));
        }
        let parts: Vec<Tensor<2>> = x_t
            .chunks(PASS_ROWS)
            .zip(ts.chunks(PASS_ROWS))
            .map(|(x, t)| self.forward(self.features(x, t, &device)))
            .collect();
        Tensor::cat(parts, 0)
    }
}

/// See [`Denoiser::features`].
pub fn features(
    x_t: &[Point<2>],
    ts: &[usize],
    time_frequencies: usize,
    point_frequencies: usize,
    device: &Device,
) -> Tensor<2> {
    let frequencies = frequencies_of(time_frequencies);
    features_with(
        x_t,
        ts,
        point_frequencies,
        2 * time_frequencies,
        device,
        |t, out| time_embedding_with(t, &frequencies, out),
    )
}

/// [`features`] with the time embedding written by `time` (`time_width` numbers a row): the
/// trainer reads it from a [`super::embedding::TimeTable`].
pub fn features_with(
    x_t: &[Point<2>],
    ts: &[usize],
    point_frequencies: usize,
    time_width: usize,
    device: &Device,
    time: impl Fn(usize, &mut [f32]),
) -> Tensor<2> {
    let per_coordinate = 2 * point_frequencies;
    let width = 2 + 2 * per_coordinate + time_width;
    let mut flat = vec![0.0_f32; x_t.len() * width];
    for ((row, x), &t) in flat.chunks_exact_mut(width).zip(x_t).zip(ts) {
        let (point, rest) = row.split_at_mut(2);
        point.copy_from_slice(x);
        let (fourier, time_part) = rest.split_at_mut(2 * per_coordinate);
        for (coordinate, out) in x.iter().zip(fourier.chunks_exact_mut(per_coordinate.max(1))) {
            point_embedding(*coordinate, point_frequencies, out);
        }
        time(t, time_part);
    }
    Tensor::from_data(TensorData::new(flat, [x_t.len(), width]), device)
}
