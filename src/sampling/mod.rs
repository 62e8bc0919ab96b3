//! Reverse chains without tensors: particles start from `N(0, I)` and take DDPM or DDIM steps
//! (seed 002's "skipping steps") down to `t = 0`, given the network's outputs at each step.
//! Whoever runs the network (burn natively, or the page's worker) hands its outputs to
//! [`Chain::advance`]; the arithmetic is the math core's, on plain points, so the page can
//! animate and keep every step without holding a tensor.
//!
//! - [`digits`]: the same for 28x28 digit images, with classifier-free guidance and SDEdit.
//! - [`elbo`]: the variational bound, term by term, for any network's outputs.
//! - [`sweep`]: the record of `diffusion mnist sweep` and its rule for the digits' defaults.

pub mod digits;
pub mod elbo;
pub mod sweep;

use rand::{RngExt, SeedableRng, rngs::StdRng};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::math::NoiseSchedule;
use crate::math::forward::Point;
use crate::math::sampler::{ReverseVariance, spaced_timesteps};

/// What the network's output means. The three mean-style parameterisations come from the
/// source documents; the default is the one that learns fastest and best on the Swiss roll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Parameterization {
    /// The noise `eps` in `x_t` (DDPM's `L_simple`, seed 003).
    #[default]
    Epsilon,
    /// The clean point `x_0` (seed 001).
    X0,
    /// The posterior mean `mu~(x_t, x_0)` itself (seed 001, seed 000's "partial target").
    Mean,
    /// A mean and a per-coordinate log-variance, trained with the KL to the forward posterior
    /// (seed 004, after Sohl-Dickstein et al. 2015).
    MeanLogVar,
}

impl Parameterization {
    /// Every parameterisation, in the order the page lists them.
    pub const ALL: [Parameterization; 4] = [Self::Epsilon, Self::X0, Self::Mean, Self::MeanLogVar];

    /// The name used on the command line, in URLs and in saved configs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Epsilon => "epsilon",
            Self::X0 => "x0",
            Self::Mean => "mean",
            Self::MeanLogVar => "mean-logvar",
        }
    }

    /// What the network predicts, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Epsilon => "the noise ε",
            Self::X0 => "the data x₀",
            Self::Mean => "the mean μ",
            Self::MeanLogVar => "the mean and the variance",
        }
    }

    /// Numbers the network outputs per point.
    pub fn outputs(self) -> usize {
        match self {
            Self::MeanLogVar => 4,
            _ => 2,
        }
    }
}

impl std::str::FromStr for Parameterization {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| {
            format!("unknown parameterization '{s}' (expected epsilon, x0, mean or mean-logvar)")
        })
    }
}

/// Which reverse process to run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Sampler {
    /// Ancestral DDPM steps; with fewer steps than T, on the respaced schedule.
    Ddpm,
    /// DDIM steps with this `eta` (0: deterministic, 1: DDPM's variance).
    Ddim {
        /// The share of DDPM's noise kept.
        eta: f64,
    },
}

impl std::fmt::Display for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ddpm => f.write_str("DDPM"),
            Self::Ddim { eta } => write!(f, "DDIM (η = {eta})"),
        }
    }
}

impl Sampler {
    /// The sampler a panel's settings name: DDPM, or DDIM with their eta.
    pub fn from_settings(kind: crate::params::SamplerKind, eta: f64) -> Self {
        match kind {
            crate::params::SamplerKind::Ddpm => Self::Ddpm,
            crate::params::SamplerKind::Ddim => Self::Ddim { eta },
        }
    }

    /// Parses `ddpm` or `ddim` (DDIM with `eta`).
    pub fn parse(name: &str, eta: f64) -> Result<Self, String> {
        match name {
            "ddpm" => Ok(Self::Ddpm),
            "ddim" => Ok(Self::Ddim { eta }),
            other => Err(format!("unknown sampler '{other}' (expected ddpm or ddim)")),
        }
    }
}

/// What one row of network output says about `x_0` and the noise, whatever the
/// parameterisation, plus the learned reverse variance where there is one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// The predicted clean point.
    pub x0: Point<2>,
    /// The predicted noise.
    pub eps: Point<2>,
    /// The learned log-variance of the one-step reverse kernel (mean-logvar only).
    pub log_var: Option<[f32; 2]>,
}

impl Prediction {
    /// The learned score `grad log p(x_t) = -eps / sqrt(1 - alpha_bar_t)` (seed 003's link
    /// between noise prediction and score matching).
    pub fn score(&self, schedule: &NoiseSchedule, t: usize) -> Point<2> {
        let sigma = (1.0 - schedule.alpha_bar(t)).sqrt() as f32;
        self.eps.map(|e| -e / sigma)
    }

    /// The mean of the model's reverse step `p(x_{t-1} | x_t)`: the posterior mean at its `x_0`.
    pub fn reverse_mean(&self, schedule: &NoiseSchedule, x_t: &Point<2>, t: usize) -> Point<2> {
        schedule.posterior_mean(x_t, &self.x0, t)
    }
}

/// Reads one output row at `(x_t, t)`.
pub fn interpret(
    param: Parameterization,
    schedule: &NoiseSchedule,
    x_t: &Point<2>,
    t: usize,
    row: &[f32],
) -> Prediction {
    let out = [row[0], row[1]];
    let from_x0 = |x0: Point<2>| Prediction {
        x0,
        eps: schedule.predict_eps_from_x0(x_t, &x0, t),
        log_var: None,
    };
    match param {
        Parameterization::Epsilon => Prediction {
            x0: schedule.predict_x0_from_eps(x_t, &out, t),
            eps: out,
            log_var: None,
        },
        Parameterization::X0 => from_x0(out),
        Parameterization::Mean | Parameterization::MeanLogVar => {
            // mu = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_t), solved for eps.
            // (Solving mu = c1 x_0 + c2 x_t for x_0 instead divides by c1 ~ 1e-4 at large t,
            // which in f32 turns a small error of the mean into a huge x_0.)
            let alpha = schedule.alphas[t - 1];
            let beta = schedule.betas[t - 1];
            let scale = (1.0 - schedule.alpha_bar(t)).sqrt() / beta;
            let eps: Point<2> =
                std::array::from_fn(|k| ((x_t[k] as f64 - alpha.sqrt() * out[k] as f64) * scale) as f32);
            Prediction {
                x0: schedule.predict_x0_from_eps(x_t, &eps, t),
                eps,
                log_var: (param == Parameterization::MeanLogVar).then(|| [row[2], row[3]]),
            }
        }
    }
}

/// How far from the origin a predicted `x_0` may lie during sampling. The 2-D data sets lie
/// within about 1.5 of it; a mean-style network's `x_0` at large `t` can be off by hundreds.
pub const X0_CLIP: f32 = 4.0;

/// DDPM's `clip_denoised` for 2-D data: a predicted `x_0` outside `[-X0_CLIP, X0_CLIP]^2` is
/// clipped into it and the noise re-derived from it, so that one wild prediction at high noise
/// cannot throw a particle to infinity. A good model never triggers it.
pub fn clip_x0(p: Prediction, schedule: &NoiseSchedule, x_t: &Point<2>, t: usize) -> Prediction {
    if p.x0.iter().all(|v| v.abs() <= X0_CLIP) {
        return p;
    }
    let x0 = p.x0.map(|v| {
        if v.is_nan() {
            0.0
        } else {
            v.clamp(-X0_CLIP, X0_CLIP)
        }
    });
    Prediction {
        x0,
        eps: schedule.predict_eps_from_x0(x_t, &x0, t),
        ..p
    }
}

/// A reverse chain in progress.
pub struct Chain {
    /// The timesteps visited, increasing; the chain walks them from the last to the first.
    pub timesteps: Vec<usize>,
    /// How many steps have been taken.
    pub taken: usize,
    /// The particles now.
    pub particles: Vec<Point<2>>,
    /// The particles after each step, starting with the initial noise.
    pub history: Vec<Vec<Point<2>>>,
    /// The reverse process being run.
    pub sampler: Sampler,
    respaced: NoiseSchedule,
    rng: StdRng,
}

impl Chain {
    /// `n` particles from `N(0, I)`, to be taken down in `steps` steps (clamped to `1..=T`).
    pub fn new(schedule: &NoiseSchedule, sampler: Sampler, steps: usize, n: usize, seed: u64) -> Self {
        let timesteps = spaced_timesteps(schedule.steps(), steps);
        let mut rng = StdRng::seed_from_u64(seed);
        let particles: Vec<Point<2>> = (0..n)
            .map(|_| [rng.sample(StandardNormal), rng.sample(StandardNormal)])
            .collect();
        Self {
            respaced: schedule.respaced(&timesteps),
            history: vec![particles.clone()],
            timesteps,
            taken: 0,
            particles,
            sampler,
            rng,
        }
    }

    /// The timestep the next step starts from, or `None` once the chain has reached the data.
    pub fn current_t(&self) -> Option<usize> {
        let left = self.timesteps.len() - self.taken;
        (left > 0).then(|| self.timesteps[left - 1])
    }

    /// Whether every step has been taken.
    pub fn is_done(&self) -> bool {
        self.current_t().is_none()
    }

    /// Takes one step given the network's output for every particle at [`Self::current_t`]
    /// (`outputs` is row-major, `param.outputs()` numbers a particle).
    pub fn advance(&mut self, schedule: &NoiseSchedule, param: Parameterization, outputs: &[f32]) {
        let Some(t) = self.current_t() else { return };
        let k = self.timesteps.len() - self.taken; // the respaced schedule's own step index
        let t_prev = if k > 1 { self.timesteps[k - 2] } else { 0 };
        let width = param.outputs();
        let full_chain = self.timesteps.len() == schedule.steps();
        for (x, row) in self.particles.iter_mut().zip(outputs.chunks_exact(width)) {
            let p = clip_x0(interpret(param, schedule, x, t, row), schedule, x, t);
            let z: Point<2> = [self.rng.sample(StandardNormal), self.rng.sample(StandardNormal)];
            *x = match self.sampler {
                Sampler::Ddim { eta } => schedule.ddim_step(x, &p.eps, t, t_prev, eta, &z),
                Sampler::Ddpm => match p.log_var {
                    // The learned variance belongs to single steps: use it on the full chain.
                    Some(lv) if full_chain => {
                        let mean = schedule.posterior_mean(x, &p.x0, t);
                        let on = if t > 1 { 1.0 } else { 0.0 };
                        std::array::from_fn(|d| mean[d] + on * (0.5 * lv[d]).exp() * z[d])
                    }
                    _ => {
                        // On the respaced schedule the same eps gives the longer jump's mean.
                        self.respaced.ddpm_step(x, &p.eps, k, ReverseVariance::Small, &z)
                    }
                },
            };
        }
        self.taken += 1;
        self.history.push(self.particles.clone());
    }
}
