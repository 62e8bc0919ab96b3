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
        let score = score_from_mean(signal, var, &x0_mean, x_t);
        DataPosterior {
            weights,
            x0_mean,
            target,
            score,
        }
    }

    /// `E[x_0 | x_t]` at many points `x_t` at once, without keeping the weights: what the
    /// score needs (the score panel's grid, 225 points of 2,000 data points each, every frame
    /// while t is dragged). Same result as [`Self::data_posterior`] to f32's precision.
    ///
    /// Written for the vector units: the data are scaled once and laid out one coordinate at a
    /// time, the weights' logits are offset by their largest (the nearest point's) before any
    /// exponential ([`super::fast::exp`], which vectorises), and every sum is kept in [`LANES`]
    /// independent lanes, so that the loops over the data run four wide in WebAssembly SIMD,
    /// with no branch in them.
    pub fn data_x0_means<const D: usize>(
        &self,
        data: &[Point<D>],
        points: &[Point<D>],
        t: usize,
    ) -> Vec<Point<D>> {
        let ab = self.alpha_bar(t);
        let (signal, scale) = (ab.sqrt() as f32, (-0.5 / (1.0 - ab)) as f32);
        let coords: [Vec<f32>; D] = std::array::from_fn(|k| data.iter().map(|x| x[k]).collect());
        let scaled: [Vec<f32>; D] = std::array::from_fn(|k| coords[k].iter().map(|v| signal * v).collect());
        let ones = vec![1.0_f32; data.len()];
        let mut dist2 = vec![0.0_f32; data.len()];
        points
            .iter()
            .map(|x_t| {
                dist2.fill(0.0);
                for k in 0..D {
                    for (d, s) in dist2.iter_mut().zip(&scaled[k]) {
                        let diff = x_t[k] - s;
                        *d += diff * diff;
                    }
                }
                // The largest logit is the nearest point's; every weight is then at most 1.
                let nearest = lanes_min(&dist2);
                let weights = &mut dist2;
                for w in weights.iter_mut() {
                    *w = super::fast::exp(scale * (*w - nearest));
                }
                let total = lanes_dot(weights, &ones);
                let sums: [f32; D] = std::array::from_fn(|k| lanes_dot(weights, &coords[k]));
                sums.map(|v| v / total)
            })
            .collect()
    }

    /// [`Self::data_scores`] on the grid of every `(xs[i], ys[j])`, row by row (`j` outer): the
    /// score panel's field. A Gaussian kernel is a product of one factor a coordinate, so the
    /// exponentials are taken once a column and once a row (2 x 15 x 2,000 for the panel's grid,
    /// not 225 x 2,000), and each grid point is left three sums of products. Every factor is
    /// offset by its own coordinate's nearest point, so it is at most 1; where the two offsets
    /// leave a grid point's sum of weights below 10^-18 (`SMALLEST_TOTAL`; a point farther than about
    /// `sqrt(83 (1 - alpha_bar_t))` from all the data: most of the grid for t below about 10),
    /// those points are computed together as [`Self::data_scores`] does. The result is the same
    /// to `f32`'s rounding. `t` is in `1..=T` and `data` is not empty (the panel draws no field
    /// otherwise).
    pub fn data_scores_on_grid(&self, data: &[Point<2>], xs: &[f32], ys: &[f32], t: usize) -> Vec<Point<2>> {
        let ab = self.alpha_bar(t);
        let (signal, var) = (ab.sqrt() as f32, (1.0 - ab) as f32);
        let scale = (-0.5 / (1.0 - ab)) as f32;
        let coords: [Vec<f32>; 2] = std::array::from_fn(|k| data.iter().map(|x| x[k]).collect());
        let scaled: [Vec<f32>; 2] = std::array::from_fn(|k| coords[k].iter().map(|v| signal * v).collect());
        // exp(scale ((g - s_i)^2 - nearest)) for one grid coordinate g, every data point i.
        let factors = |g: f32, k: usize, out: &mut Vec<f32>| {
            out.clear();
            out.extend(scaled[k].iter().map(|s| (g - s) * (g - s)));
            let nearest = lanes_min(out);
            for w in out.iter_mut() {
                *w = super::fast::exp(scale * (*w - nearest));
            }
        };
        let columns: Vec<Vec<f32>> = xs
            .iter()
            .map(|&x| {
                let mut f = Vec::with_capacity(data.len());
                factors(x, 0, &mut f);
                f
            })
            .collect();
        let (mut row, mut row_x, mut row_y) = (Vec::new(), vec![0.0; data.len()], vec![0.0; data.len()]);
        let mut means = Vec::with_capacity(xs.len() * ys.len());
        let mut far = Vec::new();
        for &y in ys {
            factors(y, 1, &mut row);
            for i in 0..data.len() {
                row_x[i] = row[i] * coords[0][i];
                row_y[i] = row[i] * coords[1][i];
            }
            for (&x, column) in xs.iter().zip(&columns) {
                let total = lanes_dot(column, &row);
                if total >= SMALLEST_TOTAL {
                    means.push([
                        lanes_dot(column, &row_x) / total,
                        lanes_dot(column, &row_y) / total,
                    ]);
                } else {
                    far.push((means.len(), [x, y]));
                    means.push([0.0; 2]);
                }
            }
        }
        // The points too far from all the data for the factored weights, in one pass.
        if !far.is_empty() {
            let points: Vec<Point<2>> = far.iter().map(|&(_, x)| x).collect();
            for ((at, _), mean) in far.iter().zip(self.data_x0_means(data, &points, t)) {
                means[*at] = mean;
            }
        }
        let points = ys.iter().flat_map(|&y| xs.iter().map(move |&x| [x, y]));
        means
            .iter()
            .zip(points)
            .map(|(mean, x_t)| score_from_mean(signal, var, mean, &x_t))
            .collect()
    }

    /// The exact score `grad log q(x_t) = (sqrt(alpha_bar_t) E[x_0 | x_t] - x_t) / (1 - alpha_bar_t)`
    /// at each of `points`.
    pub fn data_scores<const D: usize>(
        &self,
        data: &[Point<D>],
        points: &[Point<D>],
        t: usize,
    ) -> Vec<Point<D>> {
        let ab = self.alpha_bar(t);
        let (signal, var) = (ab.sqrt() as f32, (1.0 - ab) as f32);
        self.data_x0_means(data, points, t)
            .iter()
            .zip(points)
            .map(|(mean, x_t)| score_from_mean(signal, var, mean, x_t))
            .collect()
    }

    /// [`Self::data_scores`] at one point.
    pub fn data_score<const D: usize>(&self, data: &[Point<D>], x_t: &Point<D>, t: usize) -> Point<D> {
        self.data_scores(data, std::slice::from_ref(x_t), t)[0]
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

/// The mixture's score `(signal E[x_0 | x_t] - x_t) / var` from the posterior mean, where
/// `signal = sqrt(alpha_bar_t)` and `var = 1 - alpha_bar_t`.
fn score_from_mean<const D: usize>(signal: f32, var: f32, mean: &Point<D>, x_t: &Point<D>) -> Point<D> {
    std::array::from_fn(|k| (signal * mean[k] - x_t[k]) / var)
}

/// Independent partial sums a loop over data points keeps, so that it vectorises (four f32
/// lanes in WebAssembly SIMD, twice over).
const LANES: usize = 8;

/// Below this sum of weights [`NoiseSchedule::data_scores_on_grid`] computes a grid point
/// again with the nearest point's own offset: a weight that matters (10^-7 of the sum or more)
/// is then still far above `f32`'s smallest normal number.
const SMALLEST_TOTAL: f32 = 1e-18;

/// The smallest of `xs` (which is not empty), in [`LANES`] lanes.
fn lanes_min(xs: &[f32]) -> f32 {
    let mut lanes = [f32::INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (m, &x) in lanes.iter_mut().zip(chunk) {
            *m = if x < *m { x } else { *m };
        }
    }
    let rest = chunks.remainder().iter().copied();
    lanes
        .into_iter()
        .chain(rest)
        .fold(f32::INFINITY, |m, x| if x < m { x } else { m })
}

/// `sum_i a_i b_i`, in [`LANES`] partial sums.
fn lanes_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0_f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let rest: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for lane in 0..LANES {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f32>() + rest
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
    fn the_grid_matches_point_by_point() {
        // 2,003 points: the lanes' whole chunks and a remainder; a grid reaching far from the
        // data, so that small t takes the fallback for many of its points.
        let s = NoiseSchedule::ddpm();
        let data = swiss_roll(2003, 5);
        let xs: Vec<f32> = (0..15).map(|i| -2.2 + 0.3 * i as f32).collect();
        let ys: Vec<f32> = (0..11).map(|j| 2.5 - 0.45 * j as f32).collect();
        let points: Vec<Point<2>> = ys.iter().flat_map(|&y| xs.iter().map(move |&x| [x, y])).collect();
        for t in [1, 3, 20, 50, 300, 1000] {
            let grid = s.data_scores_on_grid(&data, &xs, &ys, t);
            let one_by_one = s.data_scores(&data, &points, t);
            assert_eq!(grid.len(), points.len());
            for ((g, p), x) in grid.iter().zip(&one_by_one).zip(&points) {
                for k in 0..2 {
                    let tol = 1e-4 * p[k].abs().max(1.0);
                    assert!((g[k] - p[k]).abs() <= tol, "t={t} at {x:?}: {g:?} vs {p:?}");
                }
            }
        }
    }

    #[test]
    fn many_points_at_once_match_one_at_a_time() {
        // 2,003 points: the lanes' whole chunks and a remainder.
        let s = NoiseSchedule::ddpm();
        let data = swiss_roll(2003, 5);
        let points: Vec<Point<2>> = (0..30)
            .map(|i| [i as f32 * 0.2 - 3.0, 1.5 - i as f32 * 0.1])
            .collect();
        for t in [1, 20, 300, 1000] {
            let batch = s.data_scores(&data, &points, t);
            for (x, score) in points.iter().zip(&batch) {
                let full = s.data_posterior(&data, x, t).score;
                for k in 0..2 {
                    let tol = 1e-3 * full[k].abs().max(1.0);
                    assert!(
                        (score[k] - full[k]).abs() < tol,
                        "t={t} at {x:?}: {score:?} vs {full:?}"
                    );
                }
            }
        }
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
