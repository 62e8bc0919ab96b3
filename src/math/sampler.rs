//! One step of the reverse process: DDPM's ancestral step (seed 003) and DDIM's step with its
//! `eta` (Song et al. 2021), plus the timesteps of a shortened chain ("skipping steps",
//! Improved DDPM section 4, seed 002).

use serde::{Deserialize, Serialize};

use super::NoiseSchedule;
use super::forward::Point;

/// The variance of DDPM's reverse step. Ho et al. found both work about equally well.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReverseVariance {
    /// `sigma_t^2 = beta~_t`, the posterior variance: right when `x_0` is one fixed point.
    #[default]
    Small,
    /// `sigma_t^2 = beta_t`: right when `x_0` is standard normal.
    Large,
}

impl NoiseSchedule {
    /// The standard deviation of DDPM's reverse step at `t`.
    pub fn reverse_std(&self, t: usize, variance: ReverseVariance) -> f32 {
        match variance {
            ReverseVariance::Small => self.posterior_var(t).sqrt() as f32,
            ReverseVariance::Large => self.beta(t).sqrt() as f32,
        }
    }

    /// DDPM's ancestral step `x_{t-1} = mu_theta(x_t, t) + sigma_t z` with `z ~ N(0, I)`,
    /// from the model's noise prediction `eps` (DDPM algorithm 2). At `t = 1` no noise is added.
    pub fn ddpm_step<const D: usize>(
        &self,
        x_t: &Point<D>,
        eps: &Point<D>,
        t: usize,
        variance: ReverseVariance,
        z: &Point<D>,
    ) -> Point<D> {
        let mean = self.mean_from_eps(x_t, eps, t);
        let std = if t > 1 { self.reverse_std(t, variance) } else { 0.0 };
        std::array::from_fn(|k| mean[k] + std * z[k])
    }

    /// The standard deviation of DDIM's step from `t` to `t_prev < t`:
    /// `eta * sqrt((1 - a_prev) / (1 - a_t)) * sqrt(1 - a_t / a_prev)` with `a = alpha_bar`.
    /// With `eta = 1` and `t_prev = t - 1` its square is the posterior variance `beta~_t`.
    pub fn ddim_std(&self, t: usize, t_prev: usize, eta: f64) -> f64 {
        let (a_t, a_prev) = (self.alpha_bar(t), self.alpha_bar(t_prev));
        eta * ((1.0 - a_prev) / (1.0 - a_t) * (1.0 - a_t / a_prev)).sqrt()
    }

    /// DDIM's step from `t` to any `t_prev < t` (Song et al. 2021, eq. 12):
    /// `x_prev = sqrt(a_prev) x0_hat + sqrt(1 - a_prev - sigma^2) eps + sigma z`, where `x0_hat`
    /// is the `x_0` that `eps` implies. `eta = 0` is deterministic; `eta = 1` with consecutive
    /// steps is DDPM.
    pub fn ddim_step<const D: usize>(
        &self,
        x_t: &Point<D>,
        eps: &Point<D>,
        t: usize,
        t_prev: usize,
        eta: f64,
        z: &Point<D>,
    ) -> Point<D> {
        let x0 = self.predict_x0_from_eps(x_t, eps, t);
        let a_prev = self.alpha_bar(t_prev);
        let sigma = self.ddim_std(t, t_prev, eta);
        let dir = (1.0 - a_prev - sigma * sigma).max(0.0).sqrt() as f32;
        let (signal, sigma) = (a_prev.sqrt() as f32, sigma as f32);
        std::array::from_fn(|k| signal * x0[k] + dir * eps[k] + sigma * z[k])
    }
}

/// `count` timesteps spread evenly over `1..=steps`, increasing, always ending at `T`
/// (clamped to `1..=steps`). A reverse chain visits them from the last to the first.
pub fn spaced_timesteps(steps: usize, count: usize) -> Vec<usize> {
    let count = count.clamp(1, steps.max(1));
    if count == 1 {
        return vec![steps];
    }
    let stride = (steps - 1) as f64 / (count - 1) as f64;
    let mut ts: Vec<usize> = (0..count)
        .map(|i| 1 + (i as f64 * stride).round() as usize)
        .collect();
    ts.dedup();
    ts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddim_with_eta_one_has_the_posterior_variance() {
        let s = NoiseSchedule::ddpm();
        for t in [2, 10, 400, 1000] {
            let var = s.ddim_std(t, t - 1, 1.0).powi(2);
            let expected = s.posterior_var(t);
            assert!(
                (var - expected).abs() <= 1e-9 * expected.max(1e-12),
                "t={t}: {var} vs {expected}"
            );
        }
    }

    #[test]
    fn ddim_with_eta_one_takes_the_ddpm_step() {
        let s = NoiseSchedule::ddpm();
        let (x, eps, z) = ([0.4_f32, -0.9], [0.2_f32, 0.5], [-1.0_f32, 0.7]);
        for t in [2, 300, 1000] {
            let a = s.ddim_step(&x, &eps, t, t - 1, 1.0, &z);
            let b = s.ddpm_step(&x, &eps, t, ReverseVariance::Small, &z);
            for k in 0..2 {
                assert!((a[k] - b[k]).abs() < 1e-4, "t={t}: {a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn ddim_with_eta_zero_ignores_the_noise() {
        let s = NoiseSchedule::ddpm();
        let (x, eps) = ([0.4_f32, -0.9], [0.2_f32, 0.5]);
        let a = s.ddim_step(&x, &eps, 500, 400, 0.0, &[0.0, 0.0]);
        let b = s.ddim_step(&x, &eps, 500, 400, 0.0, &[9.0, -9.0]);
        assert_eq!(a, b);
    }

    #[test]
    fn ddim_to_zero_returns_the_predicted_data() {
        let s = NoiseSchedule::ddpm();
        let (x0, eps) = ([0.4_f32, -0.9], [0.2_f32, 0.5]);
        let xt = s.add_noise(&x0, &eps, 800);
        let back = s.ddim_step(&xt, &eps, 800, 0, 0.0, &[0.0, 0.0]);
        for k in 0..2 {
            assert!((back[k] - x0[k]).abs() < 1e-4);
        }
    }

    #[test]
    fn spaced_timesteps_cover_the_chain() {
        assert_eq!(spaced_timesteps(1000, 1), vec![1000]);
        let ts = spaced_timesteps(1000, 50);
        assert_eq!(ts.len(), 50);
        assert_eq!((ts[0], ts[49]), (1, 1000));
        assert!(ts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(spaced_timesteps(10, 100), (1..=10).collect::<Vec<_>>());
    }
}
