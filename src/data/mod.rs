//! Data sets, generated from a seed so that every run, page and test sees the same points.
//!
//! - [`swiss_roll`]: the 2-D Swiss roll of seed 004.
//! - [`standard_normal`]: Gaussian noise of any dimension, the `eps` of the forward process.

mod swiss_roll;

pub use swiss_roll::swiss_roll;

use rand::{RngExt, SeedableRng, rngs::StdRng};
use rand_distr::StandardNormal;

use crate::math::forward::Point;

/// `n` independent draws of `N(0, I)` in `D` dimensions from `seed`.
pub fn standard_normal<const D: usize>(n: usize, seed: u64) -> Vec<Point<D>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| std::array::from_fn(|_| rng.sample(StandardNormal)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_normal_has_unit_moments() {
        let xs: Vec<Point<2>> = standard_normal(50_000, 1);
        for k in 0..2 {
            let mean = xs.iter().map(|x| x[k] as f64).sum::<f64>() / xs.len() as f64;
            let var = xs.iter().map(|x| (x[k] as f64 - mean).powi(2)).sum::<f64>() / xs.len() as f64;
            assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.03, "{mean} {var}");
        }
        assert_ne!(standard_normal::<2>(1, 1), standard_normal::<2>(1, 2));
    }
}
