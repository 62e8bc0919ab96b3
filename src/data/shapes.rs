//! Other 2-D data sets to train on, at the Swiss roll's scale (within about `[-1.5, 1.5]^2`),
//! so that every chart and the default schedule suit them too.

use rand::{RngExt, SeedableRng, rngs::StdRng};
use rand_distr::StandardNormal;

use crate::math::forward::Point;

/// scikit-learn's `make_moons` (two interleaved half circles, here with noise 0.05), centred and
/// scaled by 0.8.
pub fn two_moons(n: usize, seed: u64) -> Vec<Point<2>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let angle = std::f64::consts::PI * rng.random::<f64>();
            let (x, y) = if rng.random::<bool>() {
                (angle.cos(), angle.sin())
            } else {
                (1.0 - angle.cos(), 0.5 - angle.sin())
            };
            let jitter = |rng: &mut StdRng| 0.05 * rng.sample::<f64, _>(StandardNormal);
            [
                (0.8 * (x - 0.5 + jitter(&mut rng))) as f32,
                (0.8 * (y - 0.25 + jitter(&mut rng))) as f32,
            ]
        })
        .collect()
}

/// Eight Gaussians of standard deviation 0.08 on a circle of radius 1, equally likely: a
/// multimodal set, where a sampler that drops modes shows it.
pub fn eight_gaussians(n: usize, seed: u64) -> Vec<Point<2>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let k = rng.random_range(0..8) as f64;
            let angle = k * std::f64::consts::FRAC_PI_4;
            let jitter = |rng: &mut StdRng| 0.08 * rng.sample::<f64, _>(StandardNormal);
            [
                (angle.cos() + jitter(&mut rng)) as f32,
                (angle.sin() + jitter(&mut rng)) as f32,
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moons_are_two_centred_half_circles() {
        let pts = two_moons(4000, 1);
        for k in 0..2 {
            let mean = pts.iter().map(|p| p[k]).sum::<f32>() / pts.len() as f32;
            assert!(mean.abs() < 0.03, "{mean}");
        }
        // Every point lies near one of the two unit arcs (centres (0, 0) and (1, 0.5) before
        // the shift by (0.5, 0.25) and the scaling by 0.8).
        let near = |p: &Point<2>, c: [f32; 2]| {
            let (x, y) = (p[0] / 0.8 + 0.5 - c[0], p[1] / 0.8 + 0.25 - c[1]);
            ((x * x + y * y).sqrt() - 1.0).abs() < 0.25
        };
        assert!(pts.iter().all(|p| near(p, [0.0, 0.0]) || near(p, [1.0, 0.5])));
        assert_eq!(pts, two_moons(4000, 1));
    }

    #[test]
    fn eight_gaussians_fill_eight_modes() {
        let pts = eight_gaussians(8000, 2);
        let mut counts = [0usize; 8];
        for p in &pts {
            let k = (p[1].atan2(p[0]).rem_euclid(std::f32::consts::TAU) / std::f32::consts::FRAC_PI_4).round()
                as usize
                % 8;
            counts[k] += 1;
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            assert!((0.5..1.5).contains(&r), "{r}");
        }
        assert!(counts.iter().all(|&c| (850..1150).contains(&c)), "{counts:?}");
    }
}
