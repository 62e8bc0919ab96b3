//! The sinusoidal time embedding of the Transformer, as DDPM uses it to tell one shared network
//! which timestep it is denoising (seed 001: weight sharing over t).

/// The embedding of timestep `t`: `[sin(t w_0), ..., sin(t w_{K-1}), cos(t w_0), ...]` with
/// `w_k = 10000^(-k / K)` and `K = frequencies`, written into `out` (length `2 K`).
///
/// It is computed in plain Rust and handed to the network as input features: for a 2-D model
/// that is cheaper than building it from tensor operations at every step.
pub fn time_embedding(t: usize, frequencies: usize, out: &mut [f32]) {
    debug_assert_eq!(out.len(), 2 * frequencies);
    let (sin, cos) = out.split_at_mut(frequencies);
    for k in 0..frequencies {
        let w = (-(k as f64) / frequencies as f64 * 10000f64.ln()).exp();
        let angle = t as f64 * w;
        sin[k] = angle.sin() as f32;
        cos[k] = angle.cos() as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
