//! Training the digit U-Net and sampling from it: `L_simple` (seed 003) with the label dropped
//! a tenth of the time, so the one network also learns the unconditional score that
//! classifier-free guidance needs; reverse chains with guidance `eps = (1 + w) eps(x, y) -
//! w eps(x, none)`, DDPM or DDIM, on the math core's step formulas.

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use rand_distr::StandardNormal;

use super::unet::{UNet, UNetConfig};
use crate::data::mnist::{Digits, PIXELS, SIDE};
use crate::math::{NoiseSchedule, ScheduleError, ScheduleKind};
pub use crate::sampling::digits::{
    ALWAYS, DEFAULTS, DigitChain, DigitInputs, DigitRequest, GUIDANCE, GUIDED, Image, NO_LABEL,
};

/// Everything that defines a digit training run. Saved with the weights.
#[derive(Config, Debug, PartialEq)]
pub struct DigitTrainConfig {
    /// The network.
    #[config(default = "UNetConfig::new()")]
    pub model: UNetConfig,
    /// Adam's learning rate.
    #[config(default = 1e-3)]
    pub learning_rate: f64,
    /// Digits per step.
    #[config(default = 128)]
    pub batch_size: usize,
    /// Optimisation steps.
    #[config(default = 20_000)]
    pub steps: usize,
    /// The share of steps' labels replaced by "no label".
    #[config(default = 0.1)]
    pub label_dropout: f64,
    /// Seed of the weights and the batches.
    #[config(default = 0)]
    pub seed: u64,
    /// The schedule's kind; DDPM's linear one by default.
    #[config(default = "ScheduleKind::Linear")]
    pub schedule: ScheduleKind,
    /// T.
    #[config(default = 1000)]
    pub diffusion_steps: usize,
}

impl DigitTrainConfig {
    /// The noise schedule this run trains for (DDPM's betas for the linear kind).
    pub fn noise_schedule(&self) -> Result<NoiseSchedule, ScheduleError> {
        NoiseSchedule::new(self.schedule, self.diffusion_steps, 1e-4, 0.02)
    }
}

/// A digit training run in progress.
pub struct DigitTrainer {
    config: DigitTrainConfig,
    schedule: NoiseSchedule,
    model: Option<UNet>,
    optimizer: ModuleOptimizer,
    rng: StdRng,
    digits: Digits,
    device: Device,
    /// Steps taken so far (also after a resume).
    pub step: usize,
}

impl DigitTrainer {
    /// Starts a run on `digits` with a fresh network on `device` (autodiff is added here).
    pub fn new(config: DigitTrainConfig, digits: Digits, device: &Device) -> Result<Self, String> {
        if digits.is_empty() || config.batch_size == 0 {
            return Err("there must be digits and a batch size of at least 1".into());
        }
        let schedule = config.noise_schedule().map_err(|e| e.to_string())?;
        let device = device.clone().autodiff();
        device.seed(config.seed);
        Ok(Self {
            model: Some(config.model.init(&device)),
            optimizer: AdamConfig::new().init(),
            rng: StdRng::seed_from_u64(config.seed),
            schedule,
            digits,
            device,
            step: 0,
            config,
        })
    }

    /// Continues a run from `model` after `step` steps (the optimizer's moments start afresh,
    /// which costs a few hundred steps of warm-up but keeps checkpoints small).
    pub fn resume(mut self, model: UNet, step: usize) -> Self {
        self.model = Some(model.to_device(&self.device));
        self.step = step;
        self.rng = StdRng::seed_from_u64(self.config.seed ^ (step as u64).wrapping_mul(0x9e37_79b9));
        self
    }

    /// The run's settings.
    pub fn config(&self) -> &DigitTrainConfig {
        &self.config
    }

    /// The network now, without autodiff.
    pub fn model(&self) -> UNet {
        self.model.as_ref().expect("present between steps").valid()
    }

    /// One Adam step; returns the loss tensor (read it when convenient).
    pub fn step_lazy(&mut self) -> Tensor<1> {
        let n = self.config.batch_size;
        let steps = self.schedule.steps();
        let mut x_t = Vec::with_capacity(n * PIXELS);
        let mut noise = Vec::with_capacity(n * PIXELS);
        let (mut ts, mut labels) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let i = self.rng.random_range(0..self.digits.len());
            let t = self.rng.random_range(1..=steps);
            let ab = self.schedule.alpha_bar(t);
            let (signal, sigma) = (ab.sqrt() as f32, (1.0 - ab).sqrt() as f32);
            for x0 in self.digits.unit(i) {
                let e: f32 = self.rng.sample(StandardNormal);
                x_t.push(signal * x0 + sigma * e);
                noise.push(e);
            }
            ts.push(t);
            let drop = self.rng.random::<f64>() < self.config.label_dropout;
            labels.push(if drop {
                NO_LABEL
            } else {
                self.digits.labels[i] as usize
            });
        }
        let shape = [n, 1, SIDE, SIDE];
        let x_t = Tensor::<4>::from_data(TensorData::new(x_t, shape), &self.device);
        let target = Tensor::<4>::from_data(TensorData::new(noise, shape), &self.device);
        let model = self.model.take().expect("present between steps");
        let loss = (model.forward(x_t, &ts, &labels) - target).square().mean(); // [1]
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optimizer.step(self.config.learning_rate, model, grads));
        self.step += 1;
        loss.detach()
    }

    /// One step, its loss read back (native).
    pub fn step(&mut self) -> Result<f32, String> {
        let loss = self.step_lazy().into_scalar::<f32>();
        if loss.is_finite() {
            Ok(loss)
        } else {
            Err(format!("training diverged at step {} (loss = {loss})", self.step))
        }
    }
}

/// Runs `inputs` through `model` on `device`: the predicted noise, flattened.
pub fn forward_lazy(model: &UNet, inputs: DigitInputs, device: &Device) -> Tensor<4> {
    let batch = inputs.labels.len();
    let x = Tensor::<4>::from_data(TensorData::new(inputs.pixels, [batch, 1, SIDE, SIDE]), device);
    model.forward(x, &inputs.timesteps, &inputs.labels)
}

/// Runs `chain` to the end with `model` (native: outputs are read synchronously).
pub fn run(
    chain: &mut DigitChain,
    model: &UNet,
    schedule: &NoiseSchedule,
    device: &Device,
) -> Result<(), String> {
    while let Some(inputs) = chain.inputs() {
        let out = forward_lazy(model, inputs, device)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| format!("{e:?}"))?;
        chain.advance(schedule, &out);
    }
    Ok(())
}
