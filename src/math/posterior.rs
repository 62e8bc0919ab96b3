//! The forward posterior `q(x_{t-1} | x_t, x_0) = N(mu~_t(x_t, x_0), beta~_t I)` (DDPM eqs. 6-7,
//! seed 003) and the reverse mean a model gives through it: from a predicted noise (DDPM
//! eq. 11, seed 003) or from a predicted `x_0` (seed 001).

use super::NoiseSchedule;
use super::forward::Point;

impl NoiseSchedule {
    /// `mu~_t(x_t, x_0) = coef1_t x_0 + coef2_t x_t`, the mean of `q(x_{t-1} | x_t, x_0)` for
    /// `t` in `1..=T`. Seed 000 calls it the partial target.
    pub fn posterior_mean<const D: usize>(&self, x_t: &Point<D>, x0: &Point<D>, t: usize) -> Point<D> {
        let c1 = self.posterior_mean_coef1[t - 1] as f32;
        let c2 = self.posterior_mean_coef2[t - 1] as f32;
        std::array::from_fn(|k| c1 * x0[k] + c2 * x_t[k])
    }

    /// `beta~_t`, the variance of `q(x_{t-1} | x_t, x_0)`.
    pub fn posterior_var(&self, t: usize) -> f64 {
        self.posterior_variance[t - 1]
    }

    /// The reverse mean from a predicted noise:
    /// `mu_theta = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t)`.
    pub fn mean_from_eps<const D: usize>(&self, x_t: &Point<D>, eps: &Point<D>, t: usize) -> Point<D> {
        let beta = self.beta(t);
        let eps_scale = (beta / (1.0 - self.alpha_bar(t)).sqrt()) as f32;
        let inv_sqrt_alpha = (1.0 / (1.0 - beta).sqrt()) as f32;
        std::array::from_fn(|k| inv_sqrt_alpha * (x_t[k] - eps_scale * eps[k]))
    }

    /// The reverse mean from a predicted `x_0`: the posterior mean with `x_0` replaced by the
    /// prediction (seed 001's x_0-parameterisation).
    pub fn mean_from_x0<const D: usize>(&self, x_t: &Point<D>, x0: &Point<D>, t: usize) -> Point<D> {
        self.posterior_mean(x_t, x0, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};
    use rand_distr::StandardNormal;

    fn normal2(rng: &mut StdRng) -> [f32; 2] {
        [rng.sample(StandardNormal), rng.sample(StandardNormal)]
    }

    #[test]
    fn both_parameterisations_agree_on_the_true_noise() {
        let s = NoiseSchedule::ddpm();
        let (x0, eps) = ([0.5_f32, -1.0], [0.3_f32, 1.1]);
        for t in [1, 2, 50, 700, 1000] {
            let xt = s.add_noise(&x0, &eps, t);
            let a = s.mean_from_eps(&xt, &eps, t);
            let b = s.mean_from_x0(&xt, &x0, t);
            for k in 0..2 {
                assert!((a[k] - b[k]).abs() < 1e-4, "t={t}: {a:?} vs {b:?}");
            }
        }
    }

    /// Sampling x_t ~ q(x_t | x_0) and then x_{t-1} ~ q(x_{t-1} | x_t, x_0) must give the marginal
    /// q(x_{t-1} | x_0) = N(sqrt(alpha_bar_{t-1}) x_0, (1 - alpha_bar_{t-1}) I).
    #[test]
    fn posterior_is_consistent_with_the_forward_marginal() {
        let s = NoiseSchedule::ddpm();
        let mut rng = StdRng::seed_from_u64(7);
        let x0 = [1.5_f32, -0.5];
        let n = 200_000;
        for t in [2, 30, 300, 900] {
            let (mut sum, mut sum_sq) = ([0.0_f64; 2], [0.0_f64; 2]);
            let std = s.posterior_var(t).sqrt() as f32;
            for _ in 0..n {
                let xt = s.add_noise(&x0, &normal2(&mut rng), t);
                let mean = s.posterior_mean(&xt, &x0, t);
                let z = normal2(&mut rng);
                for k in 0..2 {
                    let x_prev = (mean[k] + std * z[k]) as f64;
                    sum[k] += x_prev;
                    sum_sq[k] += x_prev * x_prev;
                }
            }
            let ab_prev = s.alpha_bar(t - 1);
            for k in 0..2 {
                let mean = sum[k] / n as f64;
                let var = sum_sq[k] / n as f64 - mean * mean;
                let expected_mean = ab_prev.sqrt() * x0[k] as f64;
                let expected_var = 1.0 - ab_prev;
                // Standard errors: sqrt(var / n) for the mean, about var * sqrt(2 / n) for the variance.
                let se_mean = (expected_var / n as f64).sqrt();
                assert!(
                    (mean - expected_mean).abs() < 5.0 * se_mean + 1e-6,
                    "t={t} mean {mean} vs {expected_mean}"
                );
                let se_var = expected_var * (2.0 / n as f64).sqrt();
                assert!(
                    (var - expected_var).abs() < 5.0 * se_var + 1e-6,
                    "t={t} var {var} vs {expected_var}"
                );
            }
        }
    }
}
