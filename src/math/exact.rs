//! Exact answers for a finite data set `{x_0^i}` with equal weights (seed 000, eqs. 2-4).
//!
//! The noised data distribution is then a mixture of Gaussians,
//! `q(x_t) = (1/N) sum_i N(x_t; sqrt(alpha_bar_t) x_0^i, (1 - alpha_bar_t) I)`, so the quantities a
//! model must learn have closed forms: the weights `Q(x_0^i | x_t)`, the true reverse target
//! `mu*(x_t) = sum_i Q(x_0^i | x_t) mu~(x_t, x_0^i)` and the score `grad log q(x_t)`. The page
//! draws them beside what a model predicts.

use super::NoiseSchedule;
use super::forward::Point;

/// The posterior over the data points for one `x_t`, with everything derived from it.
#[derive(Clone, Debug, PartialEq)]
pub struct DataPosterior<const D: usize> {
    /// `Q(x_0^i | x_t)`, one weight a data point; they sum to 1.
    pub weights: Vec<f64>,
    /// `E[x_0 | x_t] = sum_i Q(x_0^i | x_t) x_0^i`, the best possible guess of the data point.
    pub x0_mean: Point<D>,
    /// `mu*(x_t)`, the mean of the true reverse kernel `Q(x_{t-1} | x_t)` (seed 000 eq. 4).
    pub target: Point<D>,
    /// `grad_x log q(x_t)`, the exact score of the noised data distribution.
    pub score: Point<D>,
}

impl NoiseSchedule {
    /// `Q(x_0^i | x_t)` by Bayes' rule with a uniform prior, computed with log-sum-exp so that
    /// tiny variances near `t = 1` do not underflow. `t` is in `1..=T`; `data` is not empty.
    pub fn data_weights<const D: usize>(&self, data: &[Point<D>], x_t: &Point<D>, t: usize) -> Vec<f64> {
        let logits = self.log_kernels(data, x_t, t);
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut weights: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let total: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= total);
        weights
    }

    /// The posterior over the data points at `x_t` and what follows from it.
    pub fn data_posterior<const D: usize>(
        &self,
        data: &[Point<D>],
        x_t: &Point<D>,
        t: usize,
    ) -> DataPosterior<D> {
        let weights = self.data_weights(data, x_t, t);
        let mut x0_mean = [0.0_f64; D];
        for (w, x0) in weights.iter().zip(data) {
            for k in 0..D {
                x0_mean[k] += w * x0[k] as f64;
            }
        }
        let x0_mean: Point<D> = x0_mean.map(|v| v as f32);
        // mu~ is affine in x_0, so the weighted mean of the partial targets is mu~ at E[x_0 | x_t].
        let target = self.posterior_mean(x_t, &x0_mean, t);
        // Each mixture component contributes (sqrt(a) x_0^i - x_t) / (1 - a), weighted by Q.
        let ab = self.alpha_bar(t);
        let (signal, var) = (ab.sqrt() as f32, (1.0 - ab) as f32);
        let score = std::array::from_fn(|k| (signal * x0_mean[k] - x_t[k]) / var);
        DataPosterior {
            weights,
            x0_mean,
            target,
            score,
        }
    }

    /// `E[x_0 | x_t]` alone, without keeping the weights: what the score needs, for many
    /// points at once (the score panel's grid). Same result as [`Self::data_posterior`].
    pub fn data_x0_mean<const D: usize>(&self, data: &[Point<D>], x_t: &Point<D>, t: usize) -> Point<D> {
        let ab = self.alpha_bar(t);
        let (signal, scale) = (ab.sqrt() as f32, (-0.5 / (1.0 - ab)) as f32);
        // One pass in f32 with a running maximum ("online softmax"): when a larger logit comes,
        // the sums so far are rescaled to it. The weights' exponentials, the whole cost, use
        // `exp_nonpositive` (a page draws 225 scores of 2,000 points each per frame).
        let (mut max, mut total, mut sum) = (f32::NEG_INFINITY, 0.0_f32, [0.0_f32; D]);
        for x0 in data {
            let dist2: f32 = (0..D).map(|k| (x_t[k] - signal * x0[k]).powi(2)).sum();
            let logit = scale * dist2;
            if logit > max {
                let shrink = (max - logit).exp();
                total *= shrink;
                sum.iter_mut().for_each(|v| *v *= shrink);
                max = logit;
            }
            let w = exp_nonpositive(logit - max);
            total += w;
            for k in 0..D {
                sum[k] += w * x0[k];
            }
        }
        sum.map(|v| v / total)
    }

    /// The exact score `grad log q(x_t) = (sqrt(alpha_bar_t) E[x_0 | x_t] - x_t) / (1 - alpha_bar_t)`.
    pub fn data_score<const D: usize>(&self, data: &[Point<D>], x_t: &Point<D>, t: usize) -> Point<D> {
        let ab = self.alpha_bar(t);
        let (signal, var) = (ab.sqrt() as f32, (1.0 - ab) as f32);
        let mean = self.data_x0_mean(data, x_t, t);
        std::array::from_fn(|k| (signal * mean[k] - x_t[k]) / var)
    }

    /// `log q(x_t)` for the mixture, up to nothing: the full normalised log density.
    pub fn data_log_density<const D: usize>(&self, data: &[Point<D>], x_t: &Point<D>, t: usize) -> f64 {
        let logits = self.log_kernels(data, x_t, t);
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = logits.iter().map(|l| (l - max).exp()).sum();
        let var = 1.0 - self.alpha_bar(t);
        let log_norm = -0.5 * D as f64 * (2.0 * std::f64::consts::PI * var).ln();
        max + sum.ln() - (data.len() as f64).ln() + log_norm
    }

    /// `log N(x_t; sqrt(alpha_bar_t) x_0^i, (1 - alpha_bar_t) I)` without its constant.
    fn log_kernels<const D: usize>(&self, data: &[Point<D>], x_t: &Point<D>, t: usize) -> Vec<f64> {
        let ab = self.alpha_bar(t);
        let (signal, var) = (ab.sqrt(), 1.0 - ab);
        data.iter()
            .map(|x0| {
                let dist2: f64 = (0..D)
                    .map(|k| (x_t[k] as f64 - signal * x0[k] as f64).powi(2))
                    .sum();
                -0.5 * dist2 / var
            })
            .collect()
    }
}

/// `e^x` for `x <= 0`, to a relative error below 1e-5: `2^(x log2 e)` split into a power of two,
/// set in the exponent bits, and `2^f` for `f` in `[0, 1)` from its Taylor series to degree 7.
/// About three times faster than `f32::exp` in WebAssembly, where `exp` is a library call.
fn exp_nonpositive(x: f32) -> f32 {
    if x < -87.0 {
        return 0.0;
    }
    let y = x * std::f32::consts::LOG2_E;
    let whole = y.floor();
    let f = y - whole;
    const C: [f32; 7] = [
        std::f32::consts::LN_2,
        0.240_226_5,
        0.055_504_11,
        0.009_618_129,
        0.001_333_355_8,
        0.000_154_035_3,
        0.000_015_252_73,
    ];
    let poly = C.iter().rev().fold(0.0, |acc, c| (acc + c) * f) + 1.0;
    poly * f32::from_bits(((whole as i32 + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::swiss_roll;

    fn roll() -> Vec<Point<2>> {
        swiss_roll(300, 3)
    }

    #[test]
    fn the_score_alone_matches_the_full_posterior() {
        let s = NoiseSchedule::ddpm();
        let data = roll();
        for t in [1, 30, 400, 1000] {
            for x in [[0.0_f32, 0.0], [1.0, -0.5], [3.0, 3.0]] {
                let full = s.data_posterior(&data, &x, t);
                let score = s.data_score(&data, &x, t);
                for k in 0..2 {
                    let tol = 1e-3 * full.score[k].abs().max(1.0);
                    assert!(
                        (score[k] - full.score[k]).abs() < tol,
                        "t={t}: {score:?} vs {:?}",
                        full.score
                    );
                }
            }
        }
    }

    #[test]
    fn the_fast_exponential_matches_the_library_one() {
        for i in 0..=100_000 {
            let x = -87.0 * i as f32 / 100_000.0;
            let (fast, exact) = (exp_nonpositive(x), x.exp());
            assert!((fast - exact).abs() <= 1e-5 * exact, "{x}: {fast} vs {exact}");
        }
        assert_eq!(exp_nonpositive(-100.0), 0.0);
    }

    #[test]
    fn weights_sum_to_one() {
        let s = NoiseSchedule::ddpm();
        let data = roll();
        for t in [1, 5, 100, 1000] {
            for x in [[0.0_f32, 0.0], [1.0, -0.5], [3.0, 3.0]] {
                let total: f64 = s.data_weights(&data, &x, t).iter().sum();
                assert!((total - 1.0).abs() < 1e-12, "t={t}");
            }
        }
    }

    #[test]
    fn weights_collapse_on_the_nearest_point_at_small_t() {
        let s = NoiseSchedule::ddpm();
        let data = roll();
        // A data point whose nearest neighbour is far compared with the noise at t = 1
        // (std sqrt(beta_1) = 0.01).
        let dist = |a: &Point<2>, b: &Point<2>| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        let lonely = (0..data.len())
            .find(|&i| {
                (0..data.len())
                    .filter(|&j| j != i)
                    .all(|j| dist(&data[i], &data[j]) > 0.06)
            })
            .expect("a 300-point roll has isolated points");
        let x = [data[lonely][0] + 0.004, data[lonely][1] - 0.003];
        let w = s.data_weights(&data, &x, 1);
        let (best, wmax) = w
            .iter()
            .enumerate()
            .fold((0, 0.0), |a, (i, &v)| if v > a.1 { (i, v) } else { a });
        assert_eq!(best, lonely);
        assert!(wmax > 0.99, "{wmax}");
        // At t = T the data is forgotten: weights are nearly uniform.
        let w = s.data_weights(&data, &x, 1000);
        let n = data.len() as f64;
        assert!(w.iter().all(|&v| (v * n - 1.0).abs() < 0.05));
    }

    #[test]
    fn target_is_the_weighted_mean_of_partial_targets() {
        let s = NoiseSchedule::ddpm();
        let data = roll();
        let x = [0.4_f32, 0.2];
        let t = 120;
        let post = s.data_posterior(&data, &x, t);
        let mut direct = [0.0_f64; 2];
        for (w, x0) in post.weights.iter().zip(&data) {
            let m = s.posterior_mean(&x, x0, t);
            direct[0] += w * m[0] as f64;
            direct[1] += w * m[1] as f64;
        }
        for (d, target) in direct.iter().zip(post.target) {
            assert!((*d as f32 - target).abs() < 1e-5);
        }
    }

    #[test]
    fn score_matches_a_finite_difference_of_the_log_density() {
        let s = NoiseSchedule::ddpm();
        let data = roll();
        for (t, x) in [(50, [0.3_f32, -0.6]), (300, [1.2, 0.4]), (900, [-0.5, 2.0])] {
            let score = s.data_posterior(&data, &x, t).score;
            let h = 1e-3_f32;
            for k in 0..2 {
                let (mut plus, mut minus) = (x, x);
                plus[k] += h;
                minus[k] -= h;
                let fd = (s.data_log_density(&data, &plus, t) - s.data_log_density(&data, &minus, t))
                    / (2.0 * h as f64);
                let rel = (fd - score[k] as f64).abs() / (1.0 + fd.abs());
                assert!(rel < 1e-2, "t={t} k={k}: fd {fd} vs score {}", score[k]);
            }
        }
    }

    #[test]
    fn density_of_one_point_is_the_gaussian() {
        let s = NoiseSchedule::ddpm();
        let t = 200;
        let var = 1.0 - s.alpha_bar(t);
        let x0 = [0.0_f32, 0.0];
        let lp = s.data_log_density(&[x0], &[0.0, 0.0], t);
        let expected = -(2.0 * std::f64::consts::PI * var).ln();
        assert!((lp - expected).abs() < 1e-9);
    }
}
