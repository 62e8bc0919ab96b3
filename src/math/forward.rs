//! The forward process `q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)`
//! (DDPM eq. 4; seed 000 eq. 1): sampled in one jump, and inverted when the noise is known.

use super::NoiseSchedule;

/// A point of the data space: 2 for the Swiss roll, 784 for a 28x28 digit.
pub type Point<const D: usize> = [f32; D];

impl NoiseSchedule {
    /// `x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps` for `t` in `0..=T`
    /// (seed 000 eq. 5). With the same `eps`, moving `t` moves `x_t` continuously.
    pub fn add_noise<const D: usize>(&self, x0: &Point<D>, eps: &Point<D>, t: usize) -> Point<D> {
        let (signal, noise) = self.noise_scales(t);
        std::array::from_fn(|k| signal * x0[k] + noise * eps[k])
    }

    /// `(sqrt(alpha_bar_t), sqrt(1 - alpha_bar_t))`, the scales of `x_0` and of the noise in
    /// `x_t`, as `f32` for the caller's arithmetic.
    pub fn noise_scales(&self, t: usize) -> (f32, f32) {
        let ab = self.alpha_bar(t);
        (ab.sqrt() as f32, (1.0 - ab).sqrt() as f32)
    }

    /// The `x_0` that `x_t` came from, if its noise is `eps` (seed 000, below eq. 5):
    /// `x_0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)`.
    pub fn predict_x0_from_eps<const D: usize>(&self, x_t: &Point<D>, eps: &Point<D>, t: usize) -> Point<D> {
        let (signal, noise) = self.noise_scales(t);
        std::array::from_fn(|k| (x_t[k] - noise * eps[k]) / signal)
    }

    /// The noise that takes `x_0` to `x_t`: the inverse of [`Self::predict_x0_from_eps`].
    pub fn predict_eps_from_x0<const D: usize>(&self, x_t: &Point<D>, x0: &Point<D>, t: usize) -> Point<D> {
        let (signal, noise) = self.noise_scales(t);
        std::array::from_fn(|k| (x_t[k] - signal * x0[k]) / noise)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_zero_is_the_data() {
        let s = NoiseSchedule::ddpm();
        assert_eq!(s.add_noise(&[0.3, -1.2], &[5.0, 5.0], 0), [0.3, -1.2]);
    }

    #[test]
    fn x0_and_eps_round_trip() {
        let s = NoiseSchedule::ddpm();
        let (x0, eps) = ([0.7_f32, -0.4], [1.3_f32, 0.2]);
        for t in [1, 10, 500, 999] {
            let xt = s.add_noise(&x0, &eps, t);
            let back = s.predict_x0_from_eps(&xt, &eps, t);
            let eps_back = s.predict_eps_from_x0(&xt, &x0, t);
            for k in 0..2 {
                assert!((back[k] - x0[k]).abs() < 1e-3, "t={t}");
                assert!((eps_back[k] - eps[k]).abs() < 1e-3, "t={t}");
            }
        }
    }
}
