//! `e^x` in f32 without branches or library calls, so that a loop over a slice of them
//! vectorises (four lanes in WebAssembly SIMD): the exact score's weights (2,000 a point of the
//! score panel's grid, [`super::exact`]) and the U-Net's SiLU when sampling on the CPU
//! (`model::activation`). A library `exp` is one call a value, in WebAssembly and on x86-64's
//! baseline alike.

/// `e^x` for `f32`, within 2 parts in 10^7 of the exact value over the whole range, without
/// branches or library calls, so that a loop over a slice vectorises: `x = n ln 2 + r` with
/// `|r| <= ln 2 / 2`, a degree-7 Taylor polynomial for `e^r`, and `2^n` built from its exponent
/// bits. Inputs are clamped to `[-87, 88]`: below, the result is about 1.6e-38 instead of
/// smaller; above, 1.65e38 instead of larger or infinite.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts, so that n ln 2 is subtracted without losing r's digits.
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer (vectorises, unlike round).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let k = x * LOG2_E + ROUND;
    let n = k - ROUND;
    // n as an integer, read from k's low mantissa bits (no float-to-int conversion, which
    // would not vectorise).
    let n_bits = k.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((n_bits + 127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_close_everywhere() {
        let mut worst = 0.0_f64;
        let mut x = -87.0_f32;
        while x <= 88.0 {
            let exact = f64::from(x).exp();
            worst = worst.max((f64::from(exp(x)) - exact).abs() / exact);
            x += 0.0137;
        }
        assert!(worst < 2e-7, "relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1000.0) < 1e-37 && exp(1000.0).is_finite());
    }
}
