//! How far apart two point clouds are: the energy distance, a sample-quality check that needs
//! no model and could tell a blurred or shifted Swiss roll from the real one.

use super::forward::Point;

/// The energy distance `2 E|X - Y| - E|X - X'| - E|Y - Y'|` between the empirical distributions
/// of `a` and `b` (Székely and Rizzo). Zero only when the distributions agree; it grows with
/// any difference in location, spread or shape. Both sets must be non-empty.
pub fn energy_distance<const D: usize>(a: &[Point<D>], b: &[Point<D>]) -> f64 {
    2.0 * mean_distance(a, b) - mean_distance(a, a) - mean_distance(b, b)
}

/// The leave-one-out 1-nearest-neighbour two-sample test (Friedman and Rafsky; Lopez-Paz and
/// Oquab's "classifier two-sample test" with the simplest classifier): pool `a` and `b`, label
/// each point by its set, and predict each point's label from its nearest other point. Returns
/// the share predicted right. About 0.5 when the sets come from one distribution; near 1 when
/// they can be told apart. Unlike the energy distance it notices local differences such as a
/// blurred thin arm. Sets of equal size give a fair 0.5 baseline.
pub fn nearest_neighbour_accuracy<const D: usize>(a: &[Point<D>], b: &[Point<D>]) -> f64 {
    let pooled: Vec<(&Point<D>, bool)> = a
        .iter()
        .map(|p| (p, true))
        .chain(b.iter().map(|p| (p, false)))
        .collect();
    let mut right = 0usize;
    for (i, (p, label)) in pooled.iter().enumerate() {
        let mut best = (f32::INFINITY, *label);
        for (j, (q, other)) in pooled.iter().enumerate() {
            if i == j {
                continue;
            }
            let d2: f32 = (0..D).map(|k| (p[k] - q[k]).powi(2)).sum();
            if d2 < best.0 {
                best = (d2, *other);
            }
        }
        right += usize::from(best.1 == *label);
    }
    right as f64 / pooled.len().max(1) as f64
}

fn mean_distance<const D: usize>(a: &[Point<D>], b: &[Point<D>]) -> f64 {
    let mut total = 0.0_f64;
    for p in a {
        for q in b {
            let d2: f32 = (0..D).map(|k| (p[k] - q[k]).powi(2)).sum();
            total += d2.sqrt() as f64;
        }
    }
    total / (a.len() * b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{standard_normal, swiss_roll};

    #[test]
    fn same_distribution_is_near_zero_and_noise_is_far() {
        let roll_a = swiss_roll(800, 1);
        let roll_b = swiss_roll(800, 2);
        let noise: Vec<Point<2>> = standard_normal(800, 3);
        let same = energy_distance(&roll_a, &roll_b);
        let far = energy_distance(&roll_a, &noise);
        // The roll is small beside N(0, I) (it was divided by 10), so even noise is only 0.075 away.
        assert!(same.abs() < 0.005, "{same}");
        assert!(far > 0.05 && far > 10.0 * same.abs(), "{far} vs {same}");
        // A roll shifted by 0.2 is clearly detected.
        let shifted: Vec<Point<2>> = roll_b.iter().map(|p| [p[0] + 0.2, p[1]]).collect();
        assert!(energy_distance(&roll_a, &shifted) > 5.0 * same.abs().max(1e-3));
    }

    #[test]
    fn nearest_neighbour_test_tells_a_blurred_roll_from_the_roll() {
        let roll_a = swiss_roll(800, 1);
        let roll_b = swiss_roll(800, 2);
        let same = nearest_neighbour_accuracy(&roll_a, &roll_b);
        assert!((same - 0.5).abs() < 0.06, "{same}");
        // Blur of 0.05 (a fifth of the gap between the arms) barely moves the energy distance
        // but the nearest-neighbour test sees it.
        let jitter: Vec<Point<2>> = standard_normal(800, 4);
        let blurred: Vec<Point<2>> = roll_b
            .iter()
            .zip(&jitter)
            .map(|(p, e)| [p[0] + 0.05 * e[0], p[1] + 0.05 * e[1]])
            .collect();
        let blur = nearest_neighbour_accuracy(&roll_a, &blurred);
        assert!(blur > 0.6, "{blur}");
    }
}
