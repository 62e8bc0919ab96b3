//! How good a set of samples is, measured against real data in some feature space: the Fréchet
//! distance between Gaussians fitted to both (Heusel et al. 2017's FID, here in the features of
//! our own digit classifier), and precision and recall of the two sets' manifolds (Kynkäänniemi
//! et al. 2019). `scripts/judge_mnist.py` computes the same numbers with PyTorch.
//!
//! Features are rows: `n` points of `dim` numbers each, one after another.

use nalgebra::{DMatrix, DVector, SymmetricEigen};

/// `n` points of `dim` features, row by row.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    /// The numbers, point after point.
    pub values: Vec<f64>,
    /// Numbers per point.
    pub dim: usize,
}

impl Features {
    /// Points from a flat slice of `f32`s (what a network returns).
    pub fn new(values: &[f32], dim: usize) -> Self {
        assert!(
            dim > 0 && values.len().is_multiple_of(dim),
            "features must be whole rows"
        );
        Self {
            values: values.iter().map(|&v| f64::from(v)).collect(),
            dim,
        }
    }

    /// How many points.
    pub fn len(&self) -> usize {
        self.values.len() / self.dim
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    fn matrix(&self) -> DMatrix<f64> {
        DMatrix::from_row_slice(self.len(), self.dim, &self.values)
    }

    /// The mean and the (unbiased) covariance.
    fn moments(&self) -> (DVector<f64>, DMatrix<f64>) {
        let x = self.matrix();
        let n = x.nrows() as f64;
        let mean = x.row_mean().transpose();
        let centred = DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - mean[j]);
        let cov = centred.transpose() * &centred / (n - 1.0).max(1.0);
        (mean, cov)
    }
}

/// `|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`: zero for equal Gaussians, and grows
/// with the difference of both their means and their spreads.
pub fn frechet_distance(a: &Features, b: &Features) -> f64 {
    assert_eq!(a.dim, b.dim, "both sets need the same features");
    let (mu_a, s_a) = a.moments();
    let (mu_b, s_b) = b.moments();
    // tr((S_a S_b)^(1/2)) is the sum of the square roots of the eigenvalues of the symmetric
    // S_a^(1/2) S_b S_a^(1/2), which has the same spectrum.
    let root_a = psd_sqrt(&s_a);
    let inner = &root_a * &s_b * &root_a;
    let inner = (&inner + inner.transpose()) / 2.0; // symmetric up to rounding; make it exact
    let cross: f64 = SymmetricEigen::new(inner)
        .eigenvalues
        .iter()
        .map(|&v| v.max(0.0).sqrt())
        .sum();
    (mu_a - mu_b).norm_squared() + s_a.trace() + s_b.trace() - 2.0 * cross
}

/// The square root of a symmetric positive semi-definite matrix (negative eigenvalues from
/// rounding count as zero).
fn psd_sqrt(m: &DMatrix<f64>) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new(m.clone());
    let roots = eigen.eigenvalues.map(|v| v.max(0.0).sqrt());
    &eigen.eigenvectors * DMatrix::from_diagonal(&roots) * eigen.eigenvectors.transpose()
}

/// How many nearest neighbours a point's ball reaches in [`precision_recall`].
pub const NEIGHBOURS: usize = 3;

/// Precision: the share of `fake` points inside the union of balls around the `real` points,
/// each reaching its `k`-th nearest real neighbour (are the samples realistic?). Recall: the
/// share of `real` points inside the fake points' balls (is all of the data covered?).
pub fn precision_recall(real: &Features, fake: &Features, k: usize) -> (f64, f64) {
    assert_eq!(real.dim, fake.dim, "both sets need the same features");
    let (r, f) = (real.len(), fake.len());
    let cross: Vec<f64> = (0..f)
        .flat_map(|i| (0..r).map(move |j| (i, j)))
        .map(|(i, j)| distance(fake.row(i), real.row(j)))
        .collect();
    let real_radii = radii(real, k);
    let fake_radii = radii(fake, k);
    let precision = (0..f)
        .filter(|&i| (0..r).any(|j| cross[i * r + j] <= real_radii[j]))
        .count();
    let recall = (0..r)
        .filter(|&j| (0..f).any(|i| cross[i * r + j] <= fake_radii[i]))
        .count();
    (
        precision as f64 / f.max(1) as f64,
        recall as f64 / r.max(1) as f64,
    )
}

/// Each point's distance to its `k`-th nearest other point of the same set.
fn radii(x: &Features, k: usize) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|i| {
            let mut d: Vec<f64> = (0..n)
                .filter(|&j| j != i)
                .map(|j| distance(x.row(i), x.row(j)))
                .collect();
            if d.is_empty() {
                return 0.0;
            }
            let kth = k.clamp(1, d.len()) - 1;
            *d.select_nth_unstable_by(kth, f64::total_cmp).1
        })
        .collect()
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
}

/// Whether a `side` x `side` image in `[-1, 1]` has a speckle: a pixel above mid-grey whose
/// eight neighbours (the outside counts as background) are all darker than a quarter of full
/// ink. Real handwritten digits almost never do (2 in 1,000); a sampler that leaves stray noise
/// behind does.
pub fn speckled(image: &[f32], side: usize) -> bool {
    let at = |y: isize, x: isize| {
        if (0..side as isize).contains(&y) && (0..side as isize).contains(&x) {
            image[y as usize * side + x as usize]
        } else {
            -1.0
        }
    };
    (0..side as isize).any(|y| {
        (0..side as isize).any(|x| {
            at(y, x) > 0.0
                && (-1..=1).all(|dy| (-1..=1).all(|dx| (dy == 0 && dx == 0) || at(y + dy, x + dx) < -0.5))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng, rngs::StdRng};
    use rand_distr::StandardNormal;

    fn gaussian(n: usize, dim: usize, shift: f64, scale: f64, seed: u64) -> Features {
        let mut rng = StdRng::seed_from_u64(seed);
        let values = (0..n * dim)
            .map(|_| shift + scale * rng.sample::<f64, _>(StandardNormal))
            .collect();
        Features { values, dim }
    }

    #[test]
    fn the_distance_of_a_set_to_itself_is_zero_and_grows_with_a_shift() {
        let a = gaussian(400, 4, 0.0, 1.0, 1);
        assert!(frechet_distance(&a, &a).abs() < 1e-8);
        // Shifting every feature by 2 adds |shift|^2 = 4 * 2^2 = 16 exactly.
        let mut b = a.clone();
        b.values.iter_mut().for_each(|v| *v += 2.0);
        assert!((frechet_distance(&a, &b) - 16.0).abs() < 1e-8);
    }

    #[test]
    fn the_distance_between_two_gaussians_matches_the_closed_form() {
        // N(0, I) against N(0, 4 I) in 3 dimensions: tr(I + 4I - 2 * 2I) = 3, up to sampling.
        let a = gaussian(20_000, 3, 0.0, 1.0, 2);
        let b = gaussian(20_000, 3, 0.0, 2.0, 3);
        let d = frechet_distance(&a, &b);
        assert!((d - 3.0).abs() < 0.1, "{d}");
    }

    #[test]
    fn precision_and_recall_tell_a_collapsed_set_from_a_faithful_one() {
        let real = gaussian(300, 2, 0.0, 1.0, 4);
        let faithful = gaussian(300, 2, 0.0, 1.0, 5);
        let (p, r) = precision_recall(&real, &faithful, NEIGHBOURS);
        assert!(p > 0.85 && r > 0.85, "{p} {r}");
        // Samples crowded at the centre are realistic but cover little of the data.
        let collapsed = gaussian(300, 2, 0.0, 0.1, 6);
        let (p, r) = precision_recall(&real, &collapsed, NEIGHBOURS);
        assert!(p > 0.95 && r < 0.3, "{p} {r}");
        // Samples far away are neither.
        let far = gaussian(300, 2, 20.0, 1.0, 7);
        assert_eq!(precision_recall(&real, &far, NEIGHBOURS), (0.0, 0.0));
    }

    #[test]
    fn a_lone_bright_pixel_is_a_speckle_and_a_stroke_is_not() {
        let side = 5;
        let mut image = vec![-1.0_f32; side * side];
        assert!(!speckled(&image, side));
        image[0] = 0.5; // in the corner: the outside counts as background
        assert!(speckled(&image, side));
        image[1] = 0.0; // a neighbour at mid-grey: part of a stroke
        assert!(!speckled(&image, side));
        image[0] = -0.2; // grey, not bright
        image[1] = -1.0;
        assert!(!speckled(&image, side));
    }
}
