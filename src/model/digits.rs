//! Training the digit U-Net and sampling from it: `L_simple` (seed 003) with the label dropped
//! a tenth of the time, so the one network also learns the unconditional score that
//! classifier-free guidance needs; reverse chains with guidance `eps = (1 + w) eps(x, y) -
//! w eps(x, none)`, DDPM or DDIM, on the math core's step formulas.

use std::ops::RangeInclusive;

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use rand_distr::StandardNormal;

use super::sample::Sampler;
use super::unet::{NO_LABEL, UNet, UNetConfig};
use crate::data::mnist::{Digits, PIXELS, SIDE};
use crate::math::sampler::{ReverseVariance, spaced_timesteps};
use crate::math::{NoiseSchedule, ScheduleError, ScheduleKind};

/// One digit image as the math core sees it: 784 values in `[-1, 1]`.
pub type Image = [f32; PIXELS];

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

/// What to sample.
#[derive(Clone, Debug, PartialEq)]
pub struct DigitRequest {
    /// One label per image (`0..=9`), or `None` for "any digit".
    pub labels: Vec<Option<u8>>,
    /// Classifier-free guidance weight `w` (0: the conditional model alone).
    pub guidance: f32,
    /// The timesteps at which guidance is applied; elsewhere the conditional model alone
    /// (one network evaluation instead of two). Kynkäänniemi et al. (2024) found guidance
    /// harmful to diversity at high noise and of little use at low noise; here it also halves
    /// the cost of the steps outside the interval. [`ALWAYS`] guides every step.
    pub guided: RangeInclusive<usize>,
    /// DDPM or DDIM.
    pub sampler: Sampler,
    /// Reverse steps (at most T).
    pub steps: usize,
    /// Seed of the initial noise and of DDPM's noise.
    pub seed: u64,
}

/// Guidance at every step.
pub const ALWAYS: RangeInclusive<usize> = 0..=usize::MAX;

/// The guidance weight the page and the command line start with.
pub const GUIDANCE: f32 = 2.0;

/// Where guidance is applied by default. Judged on 200 digits with DDIM in 25 steps and
/// `w = 2` (scripts/judge_mnist.py; spread: the mean distance between two digits of a class in
/// the judge's features, against real digits'): guided at every step, 100 % recognised as the
/// class asked for, spread 73 %; on 350..=650 (7 of the 25 steps), 100 % and 80 %; on
/// 300..=700, 100 % and 78 %; on 700..=1000 only 93.5 %; never (`w = 0`), 89 %.
pub const GUIDED: RangeInclusive<usize> = 350..=650;

/// A reverse chain over digit images, one network evaluation a step (two with guidance).
pub struct DigitChain {
    /// The images now, in `[-1, 1]` scale.
    pub images: Vec<Image>,
    /// The model's guess of `x_0` at the last step taken.
    pub predicted_x0: Vec<Image>,
    /// The timesteps visited, increasing.
    pub timesteps: Vec<usize>,
    /// Steps taken.
    pub taken: usize,
    request: DigitRequest,
    respaced: NoiseSchedule,
    rng: StdRng,
}

impl DigitChain {
    /// The label each image was asked to be (`None`: unconditional).
    pub fn labels(&self) -> &[Option<u8>] {
        &self.request.labels
    }

    /// Starts from `N(0, I)`.
    pub fn new(schedule: &NoiseSchedule, request: DigitRequest) -> Self {
        let timesteps = spaced_timesteps(schedule.steps(), request.steps);
        let mut rng = StdRng::seed_from_u64(request.seed);
        let images: Vec<Image> = (0..request.labels.len())
            .map(|_| std::array::from_fn(|_| rng.sample(StandardNormal)))
            .collect();
        Self {
            predicted_x0: images.clone(),
            respaced: schedule.respaced(&timesteps),
            timesteps,
            taken: 0,
            images,
            request,
            rng,
        }
    }

    /// SDEdit (Meng et al. 2022): starts from `images` noised to `t_start` with `q(x_t | x_0)`
    /// instead of from pure noise, and denoises from there in `request.steps` steps. A small
    /// `t_start` keeps the drawing; a large one keeps only its rough shape.
    pub fn from_images(
        schedule: &NoiseSchedule,
        request: DigitRequest,
        images: &[Image],
        t_start: usize,
    ) -> Self {
        let t_start = t_start.clamp(1, schedule.steps());
        let timesteps = spaced_timesteps(t_start, request.steps);
        let mut rng = StdRng::seed_from_u64(request.seed);
        let noised: Vec<Image> = images
            .iter()
            .map(|x0| {
                let eps: Image = std::array::from_fn(|_| rng.sample(StandardNormal));
                schedule.add_noise(x0, &eps, t_start)
            })
            .collect();
        let mut request = request;
        request.labels.resize(noised.len(), None);
        Self {
            predicted_x0: images.to_vec(),
            respaced: schedule.respaced(&timesteps),
            timesteps,
            taken: 0,
            images: noised,
            request,
            rng,
        }
    }

    /// The timestep of the next step, or `None` when done.
    pub fn current_t(&self) -> Option<usize> {
        let left = self.timesteps.len() - self.taken;
        (left > 0).then(|| self.timesteps[left - 1])
    }

    /// Whether the next step evaluates the network twice (with and without the label).
    pub fn guided_now(&self) -> bool {
        self.request.guidance != 0.0 && self.current_t().is_some_and(|t| self.request.guided.contains(&t))
    }

    /// The network's input for the next step: the images (twice with guidance: labelled, then
    /// unlabelled), their timesteps and labels.
    pub fn inputs(&self, device: &Device) -> Option<(Tensor<4>, Vec<usize>, Vec<usize>)> {
        let t = self.current_t()?;
        let n = self.images.len();
        let guided = self.guided_now();
        let mut labels: Vec<usize> = self
            .request
            .labels
            .iter()
            .map(|l| l.map_or(NO_LABEL, usize::from))
            .collect();
        let mut flat: Vec<f32> = self.images.iter().flatten().copied().collect();
        if guided {
            labels.extend(std::iter::repeat_n(NO_LABEL, n));
            flat.extend_from_within(..);
        }
        let batch = labels.len();
        let x = Tensor::<4>::from_data(TensorData::new(flat, [batch, 1, SIDE, SIDE]), device);
        Some((x, vec![t; batch], labels))
    }

    /// Takes the step given the network's output for [`Self::inputs`] (flattened).
    pub fn advance(&mut self, schedule: &NoiseSchedule, output: &[f32]) {
        let Some(t) = self.current_t() else { return };
        let k = self.timesteps.len() - self.taken;
        let t_prev = if k > 1 { self.timesteps[k - 2] } else { 0 };
        let n = self.images.len();
        let w = if self.guided_now() {
            self.request.guidance
        } else {
            0.0
        };
        for (i, x) in self.images.iter_mut().enumerate() {
            let cond = &output[i * PIXELS..(i + 1) * PIXELS];
            let eps: Image = if w != 0.0 {
                let uncond = &output[(n + i) * PIXELS..(n + i + 1) * PIXELS];
                std::array::from_fn(|p| (1.0 + w) * cond[p] - w * uncond[p])
            } else {
                std::array::from_fn(|p| cond[p])
            };
            // DDPM's clip_denoised: x_0 stays in the image range.
            let x0: Image = schedule
                .predict_x0_from_eps(x, &eps, t)
                .map(|v| v.clamp(-1.0, 1.0));
            let eps = schedule.predict_eps_from_x0(x, &x0, t);
            let z: Image = std::array::from_fn(|_| self.rng.sample(StandardNormal));
            *x = match self.request.sampler {
                Sampler::Ddim { eta } => schedule.ddim_step(x, &eps, t, t_prev, eta, &z),
                Sampler::Ddpm => self.respaced.ddpm_step(x, &eps, k, ReverseVariance::Small, &z),
            };
            self.predicted_x0[i] = x0;
        }
        self.taken += 1;
    }

    /// Runs to the end (native).
    pub fn run(&mut self, model: &UNet, schedule: &NoiseSchedule, device: &Device) -> Result<(), String> {
        while let Some((x, ts, labels)) = self.inputs(device) {
            let out = model
                .forward(x, &ts, &labels)
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| format!("{e:?}"))?;
            self.advance(schedule, &out);
        }
        Ok(())
    }
}
