//! The Swiss roll of seed 004: scikit-learn's `make_swiss_roll` without noise, columns 0 and 2,
//! divided by 10.

use rand::{RngExt, SeedableRng, rngs::StdRng};

use crate::math::forward::Point;

/// `n` points of the 2-D Swiss roll from `seed`.
///
/// As in `make_swiss_roll`, the angle is `u = 1.5 pi (1 + 2 r)` with `r ~ U(0, 1)` and the point
/// is `(u cos u, u sin u)`; the roll's third (height) column is dropped and the result is
/// divided by 10, so the points lie within about `[-1.0, 1.3] x [-1.2, 1.5]`.
pub fn swiss_roll(n: usize, seed: u64) -> Vec<Point<2>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let u = 1.5 * std::f64::consts::PI * (1.0 + 2.0 * rng.random::<f64>());
            [(u * u.cos() / 10.0) as f32, (u * u.sin() / 10.0) as f32]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_roll() {
        assert_eq!(swiss_roll(100, 5), swiss_roll(100, 5));
        assert_ne!(swiss_roll(100, 5), swiss_roll(100, 6));
    }

    #[test]
    fn points_lie_on_the_spiral() {
        let pts = swiss_roll(2000, 0);
        for p in &pts {
            // The radius of (u cos u, u sin u) / 10 is u / 10 with u in [1.5 pi, 4.5 pi].
            let r = ((p[0] * p[0] + p[1] * p[1]) as f64).sqrt();
            let u = r * 10.0;
            assert!((1.5 * std::f64::consts::PI - 1e-4..=4.5 * std::f64::consts::PI + 1e-4).contains(&u));
            let (c, s) = (u.cos() * r, u.sin() * r);
            assert!((c - p[0] as f64).abs() < 1e-4 && (s - p[1] as f64).abs() < 1e-4);
        }
        let max = pts
            .iter()
            .flat_map(|p| p.iter())
            .fold(0.0_f32, |m, v| m.max(v.abs()));
        assert!(max > 1.0 && max < 1.45, "{max}");
    }
}
