//! The sinusoidal time embedding of the Transformer, as DDPM uses it to tell one shared network
//! which timestep it is denoising (seed 001: weight sharing over t).

/// The embeddings of timesteps `0..=steps`, computed once: a training run embeds 256 timesteps
/// a step, and their sines and cosines (f64, in software in WebAssembly) were a tenth of a
/// step's time in the page.
#[derive(Clone, Debug)]
pub struct TimeTable {
    frequencies: Vec<f64>,
    width: usize,
    rows: Vec<f32>,
}

impl TimeTable {
    /// The table of `frequencies` frequencies for timesteps `0..=steps`.
    pub fn new(frequencies: usize, steps: usize) -> Self {
        let width = 2 * frequencies;
        let frequencies = time_frequencies(frequencies);
        let mut rows = vec![0.0; (steps + 1) * width];
        for (t, row) in rows.chunks_exact_mut(width.max(1)).enumerate() {
            time_embedding_with(t, &frequencies, row);
        }
        Self {
            frequencies,
            width,
            rows,
        }
    }

    /// Writes the embedding of `t` into `out` (length `2 K`): from the table, or computed for a
    /// timestep past its end.
    pub fn write(&self, t: usize, out: &mut [f32]) {
        match self.rows.get(t * self.width..(t + 1) * self.width) {
            Some(row) => out.copy_from_slice(row),
            None => time_embedding_with(t, &self.frequencies, out),
        }
    }
}

/// The embedding of timestep `t`: `[sin(t w_0), ..., sin(t w_{K-1}), cos(t w_0), ...]` with
/// `w_k = 10000^(-k / K)` and `K = frequencies`, written into `out` (length `2 K`).
///
/// It is computed in plain Rust and handed to the network as input features: for a 2-D model
/// that is cheaper than building it from tensor operations at every step.
pub fn time_embedding(t: usize, frequencies: usize, out: &mut [f32]) {
    time_embedding_with(t, &time_frequencies(frequencies), out);
}

/// The `K` frequencies `w_k = 10000^(-k / K)` of [`time_embedding`], to compute once a batch.
pub fn time_frequencies(frequencies: usize) -> Vec<f64> {
    (0..frequencies)
        .map(|k| (-(k as f64) / frequencies as f64 * 10000f64.ln()).exp())
        .collect()
}

/// [`time_embedding`] with its frequencies computed beforehand.
pub fn time_embedding_with(t: usize, frequencies: &[f64], out: &mut [f32]) {
    debug_assert_eq!(out.len(), 2 * frequencies.len());
    let (sin, cos) = out.split_at_mut(frequencies.len());
    for (k, w) in frequencies.iter().enumerate() {
        let (s, c) = (t as f64 * w).sin_cos();
        sin[k] = s as f32;
        cos[k] = c as f32;
    }
}

/// The Fourier-feature embedding of one coordinate `x`: `[sin(x w_0), cos(x w_0), ...]` with
/// octave-spaced `w_k = BASE 2^k`, written into `out` (length `2 K`).
///
/// A small MLP fed the raw coordinates learns smooth functions first and sharp ones late (its
/// "spectral bias", Tancik et al. 2020); near the thin roll the denoiser's output turns sharply,
/// so handing it these features lets it learn the roll in a fraction of the steps.
pub fn point_embedding(x: f32, frequencies: usize, out: &mut [f32]) {
    debug_assert_eq!(out.len(), 2 * frequencies);
    // One sine and cosine, then the double-angle formulas for each next octave (exact in
    // exact arithmetic; in f32 the error doubles with each octave, to about 1e-5 at the sixth).
    let (mut sin, mut cos) = (x * POINT_BASE_FREQUENCY).sin_cos();
    for pair in out.chunks_exact_mut(2) {
        pair[0] = sin;
        pair[1] = cos;
        (sin, cos) = (2.0 * sin * cos, 1.0 - 2.0 * sin * sin);
    }
}

/// The lowest frequency of [`point_embedding`], in radians per unit of the data. With six
/// octaves the highest, 32 rad/unit, resolves the gap of 0.63 between the roll's arms.
pub const POINT_BASE_FREQUENCY: f32 = 1.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_what_the_embedding_computes() {
        let table = TimeTable::new(8, 50);
        for t in [0, 1, 17, 50, 51, 1000] {
            let (mut from_table, mut computed) = (vec![0.0; 16], vec![0.0; 16]);
            table.write(t, &mut from_table);
            time_embedding(t, 8, &mut computed);
            assert_eq!(from_table, computed, "t = {t}");
        }
    }

    #[test]
    fn point_features_are_octaves_of_sines_and_cosines() {
        let mut v = vec![0.0; 12];
        point_embedding(0.3, 6, &mut v);
        for (k, pair) in v.chunks_exact(2).enumerate() {
            let w = POINT_BASE_FREQUENCY * 2f32.powi(k as i32);
            assert!((pair[0] - (0.3 * w).sin()).abs() < 1e-5);
            assert!((pair[1] - (0.3 * w).cos()).abs() < 1e-5);
        }
    }

    #[test]
    fn nearby_steps_are_close_and_distant_ones_are_not() {
        let emb = |t| {
            let mut v = vec![0.0; 32];
            time_embedding(t, 16, &mut v);
            v
        };
        let dist = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>().sqrt();
        assert!(dist(&emb(500), &emb(501)) < dist(&emb(500), &emb(900)));
        // Every entry is a sine or cosine, and sin^2 + cos^2 = 1 per frequency.
        let e = emb(123);
        for k in 0..16 {
            assert!((e[k].powi(2) + e[16 + k].powi(2) - 1.0).abs() < 1e-5);
        }
    }
}
