//! The variational bound on the negative log-likelihood, term by term (seeds 003 and 004):
//!
//! `-log p(x_0) <= L_T + sum_{t=2..T} L_{t-1} + L_0`, with
//! - the prior term `L_T = KL(q(x_T | x_0) || N(0, I))`, which no network changes;
//! - `L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p_theta(x_{t-1} | x_t))`, two Gaussians: the forward
//!   posterior `N(mu~(x_t, x_0), beta~_t)` against the model's step `N(mu_theta(x_t, t), sigma_t^2)`;
//! - the decoder term `L_0 = -log p_theta(x_0 | x_1)`, here a Gaussian with variance `beta_1`
//!   (the data are continuous points, not 8-bit pixels).
//!
//! Each is estimated on data points with one `x_t ~ q(x_t | x_0)` per point and timestep, the
//! noise fixed by a seed, and reported in nats per dimension (the mean over points and
//! coordinates). The network is any function from points at a timestep to output rows, so the
//! command line (burn) and the page (its worker) share this.

use rand::{RngExt, SeedableRng, rngs::StdRng};
use rand_distr::StandardNormal;
use serde::Serialize;

use super::{Parameterization, clip_x0, interpret};
use crate::math::NoiseSchedule;
use crate::math::forward::Point;

/// The bound and its terms, as `diffusion swissroll elbo` prints them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Elbo {
    /// `L_T`.
    pub prior: f64,
    /// `[L_0, L_1, ..., L_{T-1}]`: the decoder term, then one KL term per reverse step.
    pub terms: Vec<f64>,
    /// `prior + sum(terms)`: the bound on the negative log-likelihood.
    pub total: f64,
    /// Always "nats/dim".
    pub units: &'static str,
}

/// `KL(N(mean_q, var_q) || N(mean_p, var_p))` for one coordinate.
pub fn gaussian_kl(mean_q: f64, var_q: f64, mean_p: f64, var_p: f64) -> f64 {
    0.5 * ((var_p / var_q).ln() + (var_q + (mean_q - mean_p).powi(2)) / var_p - 1.0)
}

/// `-log N(x; mean, var)` for one coordinate.
pub fn gaussian_nll(x: f64, mean: f64, var: f64) -> f64 {
    0.5 * ((std::f64::consts::TAU * var).ln() + (x - mean).powi(2) / var)
}

/// `L_T` in nats per dimension: `q(x_T | x_0) = N(sqrt(alpha_bar_T) x_0, 1 - alpha_bar_T)`
/// against the standard normal, averaged over `data`.
pub fn prior_term(schedule: &NoiseSchedule, data: &[Point<2>]) -> f64 {
    let a = schedule.alpha_bar(schedule.steps());
    let per_coordinate = data
        .iter()
        .flatten()
        .map(|&x| gaussian_kl(a.sqrt() * x as f64, 1.0 - a, 0.0, 1.0))
        .sum::<f64>();
    per_coordinate / (2 * data.len()).max(1) as f64
}

/// The bound estimated one timestep at a time, for a caller whose network answers
/// asynchronously (the page's worker): ask [`Estimator::next_inputs`] for the points of the next
/// timestep, run the network on them, give the rows to [`Estimator::take`], and
/// [`Estimator::finish`] once there are no more inputs.
pub struct Estimator<'a> {
    schedule: &'a NoiseSchedule,
    param: Parameterization,
    data: &'a [Point<2>],
    rng: StdRng,
    terms: Vec<f64>,
    /// The noised points of the timestep asked for and not yet taken.
    x_t: Vec<Point<2>>,
}

impl<'a> Estimator<'a> {
    /// An estimate on `data` (not empty) with noise drawn from `seed`.
    pub fn new(
        schedule: &'a NoiseSchedule,
        param: Parameterization,
        data: &'a [Point<2>],
        seed: u64,
    ) -> Result<Self, String> {
        if data.is_empty() {
            return Err("there are no data points to estimate the bound on".into());
        }
        Ok(Self {
            schedule,
            param,
            data,
            rng: StdRng::seed_from_u64(seed),
            terms: Vec::with_capacity(schedule.steps()),
            x_t: Vec::new(),
        })
    }

    /// The next timestep and its noised points, or `None` when every term is in.
    pub fn next_inputs(&mut self) -> Option<(usize, &[Point<2>])> {
        let t = self.terms.len() + 1;
        if t > self.schedule.steps() {
            return None;
        }
        let (schedule, rng) = (self.schedule, &mut self.rng);
        self.x_t = self
            .data
            .iter()
            .map(|x0| {
                let eps: Point<2> = [rng.sample(StandardNormal), rng.sample(StandardNormal)];
                schedule.add_noise(x0, &eps, t)
            })
            .collect();
        Some((t, &self.x_t))
    }

    /// The network's rows for the points of [`Self::next_inputs`] (`param.outputs()` numbers a
    /// point): adds that timestep's term.
    pub fn take(&mut self, rows: &[f32]) -> Result<(), String> {
        let (schedule, param, data) = (self.schedule, self.param, self.data);
        let t = self.terms.len() + 1;
        let width = param.outputs();
        if self.x_t.len() != data.len() || rows.len() != data.len() * width {
            return Err(format!(
                "the network gave {} numbers for {} points",
                rows.len(),
                data.len()
            ));
        }
        let mut sum = 0.0;
        for ((x0, x), row) in data.iter().zip(&self.x_t).zip(rows.chunks_exact(width)) {
            // The model's step as the sampler takes it (x_0 clipped the same way).
            let p = clip_x0(interpret(param, schedule, x, t, row), schedule, x, t);
            let mean_p = p.reverse_mean(schedule, x, t);
            let var_p = |d: usize| match p.log_var {
                Some(lv) => (lv[d] as f64).exp(),
                None if t == 1 => schedule.beta(1),
                None => schedule.posterior_var(t),
            };
            if t == 1 {
                sum += (0..2)
                    .map(|d| gaussian_nll(x0[d] as f64, mean_p[d] as f64, var_p(d)))
                    .sum::<f64>();
            } else {
                let mean_q = schedule.posterior_mean(x, x0, t);
                let var_q = schedule.posterior_var(t);
                sum += (0..2)
                    .map(|d| gaussian_kl(mean_q[d] as f64, var_q, mean_p[d] as f64, var_p(d)))
                    .sum::<f64>();
            }
        }
        self.terms.push(sum / (2 * data.len()) as f64);
        self.x_t.clear();
        Ok(())
    }

    /// Terms computed so far, out of `T`.
    pub fn progress(&self) -> (usize, usize) {
        (self.terms.len(), self.schedule.steps())
    }

    /// The bound, once every term is in.
    pub fn finish(self) -> Result<Elbo, String> {
        if self.terms.len() != self.schedule.steps() {
            return Err(format!(
                "only {} of {} terms were computed",
                self.terms.len(),
                self.schedule.steps()
            ));
        }
        let prior = prior_term(self.schedule, self.data);
        Ok(Elbo {
            prior,
            total: prior + self.terms.iter().sum::<f64>(),
            terms: self.terms,
            units: "nats/dim",
        })
    }
}

/// The seed of the noise that takes the points of data seed `seed` to each `x_t`: another
/// stream than the points' own, shared by the command line and the page so that the same model
/// gets the same estimate in both.
pub fn noise_seed(seed: u64) -> u64 {
    seed ^ 0x9e37_79b9_7f4a_7c15
}

/// Estimates the bound on `data`. `outputs(x_t, t)` runs the network on every point at
/// timestep `t` and returns its rows (`param.outputs()` numbers a point).
pub fn estimate(
    schedule: &NoiseSchedule,
    param: Parameterization,
    data: &[Point<2>],
    seed: u64,
    mut outputs: impl FnMut(&[Point<2>], usize) -> Result<Vec<f32>, String>,
) -> Result<Elbo, String> {
    let mut estimator = Estimator::new(schedule, param, data, seed)?;
    while let Some((t, x_t)) = estimator.next_inputs() {
        let rows = outputs(x_t, t)?;
        estimator.take(&rows)?;
    }
    estimator.finish()
}

/// The weight the bound puts on the squared noise error `|eps - eps_theta|^2` at step `t`
/// (seed 003): `L_{t-1} = lambda_t |eps - eps_theta|^2` per coordinate for a model that predicts
/// the noise with the fixed variance `sigma_t^2 = beta~_t`, where
/// `lambda_t = beta_t^2 / (2 sigma_t^2 alpha_t (1 - alpha_bar_t))`. `L_simple` replaces every
/// `lambda_t` by 1. At `t = 1`, `sigma_1^2 = beta_1`.
pub fn epsilon_weight(schedule: &NoiseSchedule, t: usize) -> f64 {
    let beta = schedule.beta(t);
    let var = if t == 1 { beta } else { schedule.posterior_var(t) };
    beta * beta / (2.0 * var * (1.0 - beta) * (1.0 - schedule.alpha_bar(t)))
}
