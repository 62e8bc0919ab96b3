//! Data sets, generated from a seed so that every run, page and test sees the same points.
//!
//! - [`swiss_roll`]: the 2-D Swiss roll of seed 004.
//! - [`two_moons`], [`eight_gaussians`]: other shapes to train on.
//! - [`DataSet`]: the page's choice among them (or points the reader drew).
//! - [`mnist`]: handwritten digits in the project's binary format.
//! - [`standard_normal`]: Gaussian noise of any dimension, the `eps` of the forward process.

pub mod mnist;
mod shapes;
mod swiss_roll;

pub use shapes::{eight_gaussians, two_moons};
pub use swiss_roll::swiss_roll;

use rand::{RngExt, SeedableRng, rngs::StdRng};
use rand_distr::StandardNormal;

use crate::math::forward::Point;

/// Which 2-D points the page diffuses and trains on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DataSet {
    /// The Swiss roll of seed 004.
    #[default]
    SwissRoll,
    /// Two interleaved half circles.
    TwoMoons,
    /// Eight Gaussians on a circle.
    EightGaussians,
    /// Points the reader drew on the page (they are not generated, and not kept in links).
    Drawn,
}

impl DataSet {
    /// Every choice, in the order the page lists them.
    pub const ALL: [DataSet; 4] = [Self::SwissRoll, Self::TwoMoons, Self::EightGaussians, Self::Drawn];

    /// The name used in URLs and by the page's data chooser.
    pub fn name(self) -> &'static str {
        match self {
            Self::SwissRoll => "swiss-roll",
            Self::TwoMoons => "moons",
            Self::EightGaussians => "gaussians",
            Self::Drawn => "drawn",
        }
    }

    /// `n` points from `seed`; empty for [`DataSet::Drawn`], whose points come from the reader.
    pub fn generate(self, n: usize, seed: u64) -> Vec<Point<2>> {
        match self {
            Self::SwissRoll => swiss_roll(n, seed),
            Self::TwoMoons => two_moons(n, seed),
            Self::EightGaussians => eight_gaussians(n, seed),
            Self::Drawn => Vec::new(),
        }
    }
}

impl std::str::FromStr for DataSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| format!("unknown data set '{s}' (expected swiss-roll, moons, gaussians or drawn)"))
    }
}

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
