//! Training the 2-D denoiser: batches are drawn in plain Rust (t biased towards low noise, see
//! [`timestep`]), the loss and the Adam step run on burn's autodiff. The page and the command line share this
//! loop and its defaults.

use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{RngExt, SeedableRng, rngs::StdRng};
use rand_distr::StandardNormal;

use super::denoiser::{Denoiser, DenoiserConfig, Parameterization, features_with};
use super::embedding::TimeTable;
use crate::math::forward::Point;
use crate::math::{NoiseSchedule, ScheduleError, ScheduleKind};

/// Everything that defines a training run. Saved with the model.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// The network.
    #[config(default = "DenoiserConfig::new()")]
    pub model: DenoiserConfig,
    /// Adam's learning rate (decayed along a cosine to a tenth of it).
    #[config(default = 1.5e-2)]
    pub learning_rate: f64,
    /// Points per step.
    #[config(default = 256)]
    pub batch_size: usize,
    /// Optimisation steps.
    #[config(default = 1500)]
    pub steps: usize,
    /// How strongly training favours small timesteps: see [`timestep`] (1 is uniform).
    #[config(default = 5.0)]
    pub timestep_power: f64,
    /// Seed of the initial weights and of every batch.
    #[config(default = 0)]
    pub seed: u64,
    /// The noise schedule's kind.
    #[config(default = "ScheduleKind::Linear")]
    pub schedule: ScheduleKind,
    /// The number of diffusion steps T.
    #[config(default = 1000)]
    pub diffusion_steps: usize,
    /// beta_1.
    #[config(default = 1e-4)]
    pub beta_start: f64,
    /// beta_T.
    #[config(default = 0.02)]
    pub beta_end: f64,
}

impl TrainConfig {
    /// The run the page's settings describe (the training panel's controls, the data seed and
    /// the noise schedule) on top of the defaults, so the page and `diffusion figure` train
    /// the same model from the same link.
    pub fn from_params(params: &crate::params::Params) -> Result<Self, String> {
        let t = &params.train;
        let mut config = Self::new()
            .with_learning_rate(t.learning_rate)
            .with_steps(t.steps)
            .with_batch_size(t.batch_size)
            .with_seed(params.seed)
            .with_schedule(params.kind)
            .with_diffusion_steps(params.steps)
            .with_beta_start(params.beta_start)
            .with_beta_end(params.beta_end);
        config.model.hidden = t.hidden;
        config.model.parameterization = t.parameterization.parse()?;
        Ok(config)
    }

    /// The noise schedule this run trains for.
    pub fn noise_schedule(&self) -> Result<NoiseSchedule, ScheduleError> {
        NoiseSchedule::new(
            self.schedule,
            self.diffusion_steps,
            self.beta_start,
            self.beta_end,
        )
    }
}

/// How many times its starting value the loss may grow before the run counts as diverged.
pub const DIVERGENCE_FACTOR: f32 = 1e3;

/// Why training stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainError {
    /// The loss became NaN or infinite: the learning rate is too high for this network.
    Diverged {
        /// The step whose loss was not finite.
        step: usize,
        /// That loss.
        loss: f32,
    },
    /// The settings cannot describe a run.
    Invalid(String),
}

impl std::fmt::Display for TrainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Diverged { step, loss } => write!(
                f,
                "training diverged at step {step} (loss = {loss}): lower the learning rate and reset"
            ),
            Self::Invalid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for TrainError {}

/// One batch, ready for the network: features `[batch, 2 + 2K]` and targets
/// `[batch, outputs]` (for mean-logvar, the posterior mean and log-variance).
pub struct Batch {
    /// Network inputs.
    pub features: Tensor<2>,
    /// What the output should be (or, for mean-logvar, the posterior it is compared with).
    pub targets: Tensor<2>,
}

/// Held while a run seeds burn's generator and draws its initial weights from it.
static SEEDING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Draws every lazily initialised parameter of a module now (see [`Trainer::new`]).
struct Materialise;

impl burn::module::ModuleVisitor for Materialise {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// burn's Adam, or the same update in one loop a parameter where the network trains on
/// burn-flex (see [`super::adam`]).
enum Optimizer {
    Burn(ModuleOptimizer),
    Flex(super::adam::Adam),
}

impl Optimizer {
    fn step(&mut self, lr: f64, model: Denoiser, grads: GradientsParams) -> Denoiser {
        match self {
            Optimizer::Burn(adam) => adam.step(lr, model, grads),
            Optimizer::Flex(adam) => adam.step(lr, model, grads),
        }
    }
}

/// A training run in progress.
pub struct Trainer {
    config: TrainConfig,
    schedule: NoiseSchedule,
    /// `None` only while a step has taken it out.
    model: Option<Denoiser>,
    optimizer: Optimizer,
    rng: StdRng,
    /// The time embedding of every timestep of the schedule, computed once.
    time_table: TimeTable,
    data: Vec<Point<2>>,
    device: Device,
    /// The loss of every step so far.
    pub losses: Vec<f32>,
}

/// The largest run the code will allocate, whatever asks for it (the page's controls, a link,
/// a host page's message, the command line, an imported file): beyond these a run is refused
/// before anything is allocated. The page's controls have the same bounds (a test checks).
pub mod limits {
    use crate::protocol::limits as request;
    /// Points per step.
    pub const BATCH: usize = request::BATCH;
    /// Units per hidden layer.
    pub const HIDDEN: usize = request::HIDDEN;
    /// Optimisation steps of one run (their losses are kept).
    pub const STEPS: usize = request::STEPS_PER_REQUEST;
    /// Diffusion steps T.
    pub const DIFFUSION_STEPS: usize = request::STEPS;
    /// Data points trained on.
    pub const POINTS: usize = request::POINTS;
}

impl Trainer {
    /// Starts a run on `data` with the network initialised on `device` (autodiff is added here).
    pub fn new(config: TrainConfig, data: Vec<Point<2>>, device: &Device) -> Result<Self, TrainError> {
        if data.is_empty() {
            return Err(TrainError::Invalid("there are no data points to train on".into()));
        }
        let too_big = |what: &str, n: usize, max: usize| {
            (n > max).then(|| TrainError::Invalid(format!("{what} is {n}; at most {max}")))
        };
        if let Some(e) = too_big("the batch size", config.batch_size, limits::BATCH)
            .or_else(|| too_big("the hidden width", config.model.hidden, limits::HIDDEN))
            .or_else(|| too_big("the number of steps", config.steps, limits::STEPS))
            .or_else(|| too_big("T", config.diffusion_steps, limits::DIFFUSION_STEPS))
            .or_else(|| too_big("the number of data points", data.len(), limits::POINTS))
        {
            return Err(e);
        }
        if !(config.timestep_power > 0.0 && config.timestep_power.is_finite()) {
            return Err(TrainError::Invalid(
                "the timestep power must be a positive number".into(),
            ));
        }
        if config.batch_size == 0 {
            return Err(TrainError::Invalid("the batch size must be at least 1".into()));
        }
        if config.model.hidden < 2 {
            return Err(TrainError::Invalid(format!(
                "the hidden width is {}; at least 2",
                config.model.hidden
            )));
        }
        if config.steps == 0 {
            return Err(TrainError::Invalid(
                "the number of steps must be at least 1".into(),
            ));
        }
        if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
            return Err(TrainError::Invalid(format!(
                "the learning rate must be a positive number, not {}",
                config.learning_rate
            )));
        }
        let schedule = config
            .noise_schedule()
            .map_err(|e| TrainError::Invalid(e.to_string()))?;
        let optimizer = if *device == Device::flex() {
            Optimizer::Flex(super::adam::Adam::default())
        } else {
            Optimizer::Burn(AdamConfig::new().init())
        };
        let device = device.clone().autodiff();
        let model = {
            // The device's generator is one for the whole process: natively another thread (the
            // tests run in parallel) could seed it or draw from it between the two lines below.
            let _seeding = SEEDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            device.seed(config.seed);
            let model = config.model.init(&device);
            // burn draws a parameter's initial values from the device's generator when the
            // parameter is first used, not here: drawn now, straight after seeding, so that
            // work in between (the page worker's warm-up, another run) cannot change them.
            model.visit(&mut Materialise);
            model
        };
        Ok(Self {
            optimizer,
            rng: StdRng::seed_from_u64(config.seed ^ 0xba7c4),
            model: Some(model),
            time_table: TimeTable::new(config.model.time_frequencies, schedule.steps()),
            schedule,
            data,
            device,
            losses: Vec::new(),
            config,
        })
    }

    /// A finished run read back from a bundle: its config, losses and weights, to sample from
    /// or to train further on `data`. Weights of another network are refused with a reason.
    pub fn imported(
        imported: super::store::Imported,
        data: Vec<Point<2>>,
        device: &Device,
    ) -> Result<Self, String> {
        let mut trainer = Self::new(imported.config, data, device).map_err(|e| e.to_string())?;
        let model = trainer.model.take().expect("a new trainer has its model");
        let model = model
            .try_load_record(imported.record)
            .map_err(|e| format!("its weights do not fit the network its config describes ({e:?})"))?;
        trainer.model = Some(model);
        trainer.losses = imported.losses;
        Ok(trainer)
    }

    /// The points it trains on.
    pub fn data(&self) -> &[Point<2>] {
        &self.data
    }

    /// The run's settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The schedule the model learns to reverse.
    pub fn schedule(&self) -> &NoiseSchedule {
        &self.schedule
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> usize {
        self.losses.len()
    }

    /// The model as it is now, without autodiff, for sampling.
    pub fn model(&self) -> Denoiser {
        self.model
            .as_ref()
            .expect("the model is only absent inside a step")
            .valid()
    }

    /// Draws a batch: `x_0` from the data, `t` uniform in `1..=T`, `eps ~ N(0, I)`.
    pub fn batch(&mut self) -> Batch {
        let n = self.config.batch_size;
        let param = self.config.model.parameterization;
        let steps = self.schedule.steps();
        let mut x_t = Vec::with_capacity(n);
        let mut ts = Vec::with_capacity(n);
        let mut targets = Vec::with_capacity(n * param.outputs());
        for _ in 0..n {
            let x0 = self.data[self.rng.random_range(0..self.data.len())];
            let t = timestep(self.rng.random(), self.config.timestep_power, steps);
            let eps: Point<2> = [self.rng.sample(StandardNormal), self.rng.sample(StandardNormal)];
            let xt = self.schedule.add_noise(&x0, &eps, t);
            match param {
                Parameterization::Epsilon => targets.extend_from_slice(&eps),
                Parameterization::X0 => targets.extend_from_slice(&x0),
                Parameterization::Mean => {
                    targets.extend_from_slice(&self.schedule.posterior_mean(&xt, &x0, t))
                }
                Parameterization::MeanLogVar => {
                    targets.extend_from_slice(&self.schedule.posterior_mean(&xt, &x0, t));
                    let log_var = posterior_log_variance_clipped(&self.schedule, t) as f32;
                    targets.extend_from_slice(&[log_var, log_var]);
                }
            }
            x_t.push(xt);
            ts.push(t);
        }
        Batch {
            features: features_with(
                &x_t,
                &ts,
                self.config.model.point_frequencies,
                2 * self.config.model.time_frequencies,
                &self.device,
                |t, out| self.time_table.write(t, out),
            ),
            targets: Tensor::from_data(TensorData::new(targets, [n, param.outputs()]), &self.device),
        }
    }

    /// One Adam step. Returns the loss as a tensor so that a browser can read it asynchronously;
    /// pass the value to [`Self::record`].
    pub fn step_lazy(&mut self) -> Tensor<1> {
        let batch = self.batch();
        let model = self.model.take().expect("the model is only absent inside a step");
        let output = model.forward(batch.features); // [batch, outputs]
        let loss = loss(self.config.model.parameterization, output, batch.targets); // [1]
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let lr = self.learning_rate_at(self.losses.len());
        self.model = Some(self.optimizer.step(lr, model, grads));
        loss.detach()
    }

    /// The learning rate of step `step`: cosine decay from the configured rate to a tenth of it
    /// over the run. The late, small steps are what sharpen the thin roll at small t.
    pub fn learning_rate_at(&self, step: usize) -> f64 {
        let progress = (step as f64 / self.config.steps.max(1) as f64).min(1.0);
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
        self.config.learning_rate * (0.1 + 0.9 * cosine)
    }

    /// Records a step's loss, and stops the run if it diverged: the loss is not finite, or it
    /// grew [`DIVERGENCE_FACTOR`] times above where it started. (With a learning rate of 10
    /// Adam blows the loss up to about 1e12 without ever reaching infinity.)
    pub fn record(&mut self, loss: f32) -> Result<f32, TrainError> {
        self.losses.push(loss);
        // The first loss is measured before any update: the untrained network's.
        let initial = self.losses[0];
        if loss.is_finite() && loss <= DIVERGENCE_FACTOR * initial.max(1.0) {
            Ok(loss)
        } else {
            Err(TrainError::Diverged {
                step: self.losses.len(),
                loss,
            })
        }
    }

    /// One step, reading the loss back synchronously (native backends).
    pub fn step(&mut self) -> Result<f32, TrainError> {
        let loss = self.step_lazy().into_scalar::<f32>();
        self.record(loss)
    }
}

/// The training timestep `t = ceil(T u^p)` for `u ~ U(0, 1)`, in `1..=T`.
///
/// `p = 1` is DDPM's uniform `t`. A larger `p` draws small `t` more often (density
/// `~ t^(1/p - 1)`): with `p = 5`, 40 % of the steps land in `t <= 10` against 1 % for uniform
/// `t`. Those low-noise steps are where the network must learn where the thin roll lies; with
/// uniform `t` most of the training is spent at noise levels where the roll is invisible. On
/// the Swiss roll this reaches in 1,500 steps what uniform `t` does not reach in 8,000 (see the
/// README's measurements). Every `t` keeps the same minimiser, so the loss is still `L_simple`'s
/// per-`t` objective, only weighted differently over `t`.
pub fn timestep(u: f64, power: f64, steps: usize) -> usize {
    // A whole power (the default 5) by multiplications: `powf` is computed in software in
    // WebAssembly, and was 4 % of a training step in the page.
    let whole = power.fract() == 0.0 && power.abs() <= 64.0;
    let v = if whole {
        u.powi(power as i32)
    } else {
        u.powf(power)
    };
    ((v * steps as f64).ceil() as usize).clamp(1, steps)
}

/// `log beta~_t`, with `beta~_1 = 0` replaced by `beta~_2` as in improved-diffusion, so the
/// first step has a finite target.
pub fn posterior_log_variance_clipped(schedule: &NoiseSchedule, t: usize) -> f64 {
    let v = if t == 1 && schedule.steps() > 1 {
        schedule.posterior_var(2)
    } else {
        schedule.posterior_var(t)
    };
    v.max(1e-20).ln()
}

/// The training loss of a parameterisation, averaged over the batch.
///
/// For the mean-style outputs it is the squared error against the target; for mean-logvar it
/// is `KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t))` between diagonal Gaussians.
pub fn loss(param: Parameterization, output: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    match param {
        Parameterization::MeanLogVar => {
            let mean = output.clone().narrow(1, 0, 2); // [batch, 2]
            let log_var = output.narrow(1, 2, 2); // [batch, 2]
            let q_mean = targets.clone().narrow(1, 0, 2); // [batch, 2]
            let q_log_var = targets.narrow(1, 2, 2); // [batch, 2]
            // KL = 0.5 (log var_p - log var_q + (var_q + (mu_q - mu_p)^2) / var_p - 1)
            let kl = (log_var.clone() - q_log_var.clone()
                + (q_log_var.exp() + (q_mean - mean).square()) * (-log_var).exp()
                - 1.0)
                * 0.5; // [batch, 2]
            kl.sum_dim(1).mean() // [1]
        }
        _ => (output - targets).square().sum_dim(1).mean(), // [1]
    }
}
