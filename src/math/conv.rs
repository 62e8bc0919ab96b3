//! A 3x3 convolution with stride 1 and one pixel of zero padding, computed directly: no lowered
//! matrix and no packed copy of it, four output channels by eight pixels summed in SIMD
//! registers. Most of the digit U-Net's multiply-adds are such convolutions (91 % of them), and
//! in WebAssembly the route through a lowered matrix and a general matrix product spent a fifth
//! of its time writing and packing copies of the input, and ran its multiply-adds on shapes
//! (16 or 32 output channels) that the general kernel is not laid out for.
//!
//! The trick that makes every kernel tap a plain vector load: each input plane is copied once
//! into a zero-bordered plane `(h + 2) x (w + 2)`, and the output is computed in the padded
//! plane's row stride `w + 2`. The output pixel at `q = y (w + 2) + x` then sees, at tap
//! `(ky, kx)`, the padded pixel `q + ky (w + 2) + kx`: eight neighbouring outputs read eight
//! neighbouring inputs, for every tap and channel. The two columns past each row's end (and the
//! last block's overhang) are computed too and dropped when the rows are copied out; they cost
//! 2 / (w + 2) of the work (7 % at 28x28).
//!
//! Plain Rust on slices, no tensors: `model::conv` hands the U-Net's tensors over. The
//! arithmetic is written once over [`Lanes`], four `f32` lanes: WebAssembly's `v128`
//! (simd128, what the page's worker runs) and a portable array elsewhere (what the native
//! tests check against a plain loop).

use super::fast::exp;

/// Output channels a tile.
const CO: usize = 4;
/// Pixels a tile (two vectors of four).
const PX: usize = 8;

/// A convolution's weights, laid out for [`conv3x3`]: for each block of four output channels,
/// for each input channel and tap, the four channels' weights side by side. Output channels past
/// the last (up to a multiple of four) have zero weights.
#[derive(Clone, Debug)]
pub struct Packed {
    blocks: Vec<f32>,
    in_channels: usize,
    out_channels: usize,
}

impl Packed {
    /// Packs `weights` of `[out_channels, in_channels, 3, 3]`, row-major (burn's and PyTorch's
    /// layout).
    pub fn new(weights: &[f32], out_channels: usize, in_channels: usize) -> Self {
        assert!(
            in_channels > 0 && out_channels > 0,
            "a convolution of some channels"
        );
        assert_eq!(
            weights.len(),
            out_channels * in_channels * 9,
            "weights of [out, in, 3, 3]"
        );
        let blocks_n = out_channels.div_ceil(CO);
        let mut blocks = vec![0.0; blocks_n * in_channels * 9 * CO];
        for o in 0..out_channels {
            let (block, lane) = (o / CO, o % CO);
            for c in 0..in_channels {
                for tap in 0..9 {
                    blocks[((block * in_channels + c) * 9 + tap) * CO + lane] =
                        weights[(o * in_channels + c) * 9 + tap];
                }
            }
        }
        Self {
            blocks,
            in_channels,
            out_channels,
        }
    }
}

/// What comes around a convolution in a residual block, done in the copies the convolution
/// makes anyway instead of in passes of their own over the whole tensor.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fused<'a> {
    /// Each input pixel is read as `x * scale + shift`, one pair an image and input channel
    /// (`[batch, in]` each), then through SiLU where `silu`: a group norm and its activation.
    pub input: Option<Affine<'a>>,
    /// Added to the output, `[batch, out, h, w]`: a residual connection.
    pub residual: Option<&'a [f32]>,
}

/// See [`Fused::input`].
#[derive(Clone, Copy, Debug)]
pub struct Affine<'a> {
    pub scale: &'a [f32],
    pub shift: &'a [f32],
    pub silu: bool,
}

/// Convolves `batch` channels-first images `[batch, in, h, w]` with `weights` and adds `bias`
/// (one per output channel, or none), returning `[batch, out, h, w]`: the same as PyTorch's
/// `conv2d(x, w, b, stride=1, padding=1)`, up to the order of the sums.
pub fn conv3x3(
    weights: &Packed,
    bias: Option<&[f32]>,
    images: &[f32],
    batch: usize,
    h: usize,
    w: usize,
) -> Vec<f32> {
    conv3x3_fused(weights, bias, images, [batch, h, w], Fused::default())
}

/// [`conv3x3`] with what [`Fused`] says done on the way in and out:
/// `conv(silu(x * scale + shift)) + residual`.
pub fn conv3x3_fused(
    weights: &Packed,
    bias: Option<&[f32]>,
    images: &[f32],
    [batch, h, w]: [usize; 3],
    fused: Fused,
) -> Vec<f32> {
    let (channels, out_channels) = (weights.in_channels, weights.out_channels);
    assert_eq!(
        images.len(),
        batch * channels * h * w,
        "images of [batch, in, h, w]"
    );
    if let Some(bias) = bias {
        assert_eq!(bias.len(), out_channels, "one bias an output channel");
    }
    if let Some(input) = fused.input {
        assert!(
            input.scale.len() == batch * channels && input.shift.len() == batch * channels,
            "one scale and shift an image and input channel"
        );
    }
    if let Some(residual) = fused.residual {
        assert_eq!(
            residual.len(),
            batch * out_channels * h * w,
            "a residual of [batch, out, h, w]"
        );
    }
    let mut out = Vec::with_capacity(batch * out_channels * h * w);
    if h == 0 || w == 0 {
        return out;
    }
    let layout = Layout::new(h, w);
    // One image at a time, in buffers reused across the batch: its padded planes (zero borders
    // written once, interiors overwritten) and the output in the padded stride.
    let mut padded = vec![0.0_f32; layout.padded_len(channels)];
    let mut wide = vec![0.0_f32; out_channels.div_ceil(CO) * CO * layout.blocks * PX];
    let mut biases = vec![0.0_f32; out_channels.div_ceil(CO) * CO];
    if let Some(bias) = bias {
        biases[..out_channels].copy_from_slice(bias);
    }
    let image_out = out_channels * h * w;
    for (b, image) in images.chunks_exact(channels * h * w).enumerate() {
        let input = fused.input.map(|a| Affine {
            scale: &a.scale[b * channels..][..channels],
            shift: &a.shift[b * channels..][..channels],
            silu: a.silu,
        });
        layout.pad(image, &mut padded, input);
        #[cfg(target_arch = "wasm32")]
        tiles::<simd128::V>(&layout, weights, &biases, &padded, &mut wide);
        #[cfg(not(target_arch = "wasm32"))]
        tiles::<portable::V>(&layout, weights, &biases, &padded, &mut wide);
        let stride = layout.blocks * PX;
        let residual = fused.residual.map(|r| &r[b * image_out..][..image_out]);
        for (o, plane) in wide.chunks_exact(stride).take(out_channels).enumerate() {
            for y in 0..h {
                let row = &plane[y * layout.wp..][..w];
                match residual {
                    Some(r) => {
                        let r = &r[(o * h + y) * w..][..w];
                        out.extend(row.iter().zip(r).map(|(v, r)| v + r));
                    }
                    None => out.extend_from_slice(row),
                }
            }
        }
    }
    out
}

/// Where things are in the padded planes.
struct Layout {
    h: usize,
    w: usize,
    /// The padded row stride, `w + 2`.
    wp: usize,
    /// The distance between two padded planes: `(h + 2) (w + 2)`, and eight floats more, so
    /// that the planes do not start a power of two apart (at 14x14 a plane is 1 KB, and reading
    /// 32 planes at once evicted the cache's own lines: 12 GFLOP/s against 22 at 28x28).
    plane: usize,
    /// Blocks of eight outputs that cover `h` rows in the padded stride.
    blocks: usize,
}

impl Layout {
    fn new(h: usize, w: usize) -> Self {
        let wp = w + 2;
        Self {
            h,
            w,
            wp,
            plane: (h + 2) * wp + PX,
            blocks: (h * wp).div_ceil(PX),
        }
    }

    /// The padded planes of `channels` channels. The last block's eight outputs start no later
    /// than the last float of the last row and read up to two rows, two columns and seven
    /// floats further: past the padded image by at most `PX + 1` floats, which the gap of
    /// `PX` floats after each plane and one more cover ([`Self::read_end`]).
    fn padded_len(&self, channels: usize) -> usize {
        channels * self.plane + 1
    }

    /// One past the last float that the tiles read from `channels` padded planes.
    fn read_end(&self, channels: usize) -> usize {
        (channels - 1) * self.plane + (self.blocks - 1) * PX + 2 * self.wp + 2 + PX
    }

    /// Copies one channels-first image into the interiors of the padded planes, through
    /// `input`'s map where given.
    fn pad(&self, image: &[f32], padded: &mut [f32], input: Option<Affine>) {
        for (c, (plane, src)) in padded
            .chunks_exact_mut(self.plane)
            .zip(image.chunks_exact(self.h * self.w))
            .enumerate()
        {
            for (y, row) in src.chunks_exact(self.w).enumerate() {
                let to = &mut plane[(y + 1) * self.wp + 1..][..self.w];
                match input {
                    None => to.copy_from_slice(row),
                    Some(Affine { scale, shift, silu }) => {
                        let (scale, shift) = (scale[c], shift[c]);
                        if silu {
                            for (to, &x) in to.iter_mut().zip(row) {
                                let y = x * scale + shift;
                                *to = y / (1.0 + exp(-y));
                            }
                        } else {
                            for (to, &x) in to.iter_mut().zip(row) {
                                *to = x * scale + shift;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Four `f32` lanes: the operations the tiles need.
trait Lanes: Copy {
    fn splat(v: f32) -> Self;
    /// Four floats from `at`.
    ///
    /// # Safety
    /// `at + 4 <= from.len()` (WebAssembly reads them unchecked).
    unsafe fn load(from: &[f32], at: usize) -> Self;
    /// `self + a * b`, as a product and a sum (rounded twice, like the scalar code).
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Writes the four lanes to `to[at..at + 4]`.
    fn store(self, to: &mut [f32], at: usize);
}

/// Every tile of one image: for each block of four output channels (their weights stay in the
/// cache), every block of eight outputs.
fn tiles<V: Lanes>(layout: &Layout, weights: &Packed, biases: &[f32], padded: &[f32], wide: &mut [f32]) {
    let channels = weights.in_channels;
    let wp = layout.wp;
    let taps = [0, 1, 2, wp, wp + 1, wp + 2, 2 * wp, 2 * wp + 1, 2 * wp + 2];
    let stride = layout.blocks * PX;
    // The loads below are unchecked in WebAssembly: every one ends before `read_end`.
    assert!(channels > 0 && layout.read_end(channels) <= padded.len());
    for (block, weights) in weights.blocks.chunks_exact(channels * 9 * CO).enumerate() {
        let bias: [V; CO] = std::array::from_fn(|lane| V::splat(biases[block * CO + lane]));
        for q in (0..layout.blocks).map(|b| b * PX) {
            let mut acc = [[bias[0]; 2], [bias[1]; 2], [bias[2]; 2], [bias[3]; 2]];
            for (c, weights) in weights.chunks_exact(9 * CO).enumerate() {
                let base = c * layout.plane + q;
                for (tap, weights) in taps.iter().zip(weights.chunks_exact(CO)) {
                    // SAFETY: the largest `base + tap + 4 + 4` is `read_end`, asserted above.
                    let x = unsafe { [V::load(padded, base + tap), V::load(padded, base + tap + 4)] };
                    for (acc, &weight) in acc.iter_mut().zip(weights) {
                        let weight = V::splat(weight);
                        acc[0] = acc[0].mul_add(weight, x[0]);
                        acc[1] = acc[1].mul_add(weight, x[1]);
                    }
                }
            }
            for (lane, acc) in acc.iter().enumerate() {
                let at = (block * CO + lane) * stride + q;
                acc[0].store(wide, at);
                acc[1].store(wide, at + 4);
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod simd128 {
    use core::arch::wasm32::{f32x4_add, f32x4_mul, f32x4_splat, v128, v128_load, v128_store};

    /// WebAssembly's 128-bit vector (the worker is built with `+simd128`).
    #[derive(Clone, Copy)]
    pub struct V(v128);

    impl super::Lanes for V {
        #[inline(always)]
        fn splat(v: f32) -> Self {
            V(f32x4_splat(v))
        }

        #[inline(always)]
        unsafe fn load(from: &[f32], at: usize) -> Self {
            debug_assert!(at + 4 <= from.len());
            // SAFETY: in bounds by the caller's contract; v128 loads need no alignment.
            V(unsafe { v128_load(from.as_ptr().add(at).cast()) })
        }

        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            V(f32x4_add(self.0, f32x4_mul(a.0, b.0)))
        }

        #[inline(always)]
        fn store(self, to: &mut [f32], at: usize) {
            let lanes = &mut to[at..at + 4];
            // SAFETY: the four floats were just bounds-checked.
            unsafe { v128_store(lanes.as_mut_ptr().cast(), self.0) }
        }
    }
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
mod portable {
    /// Four lanes in an array (what the native tests check; LLVM keeps them in a register).
    #[derive(Clone, Copy)]
    pub struct V([f32; 4]);

    impl super::Lanes for V {
        #[inline(always)]
        fn splat(v: f32) -> Self {
            V([v; 4])
        }

        #[inline(always)]
        unsafe fn load(from: &[f32], at: usize) -> Self {
            V(from[at..at + 4].try_into().expect("four floats"))
        }

        #[inline(always)]
        fn mul_add(self, a: Self, b: Self) -> Self {
            V(std::array::from_fn(|i| self.0[i] + a.0[i] * b.0[i]))
        }

        #[inline(always)]
        fn store(self, to: &mut [f32], at: usize) {
            to[at..at + 4].copy_from_slice(&self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// The definition, summed in f64: `out[b, o, y, x] = bias[o] + sum over c, ky, kx of
    /// w[o, c, ky, kx] x[b, c, y + ky - 1, x + kx - 1]`, zero outside the image.
    fn reference(w: &[f32], bias: Option<&[f32]>, x: &[f32], [b, o, c, h, wd]: [usize; 5]) -> Vec<f32> {
        let mut out = Vec::with_capacity(b * o * h * wd);
        for image in 0..b {
            for oc in 0..o {
                for y in 0..h {
                    for xx in 0..wd {
                        let mut sum = bias.map_or(0.0, |bias| bias[oc] as f64);
                        for ic in 0..c {
                            for ky in 0..3 {
                                for kx in 0..3 {
                                    let (iy, ix) = ((y + ky) as isize - 1, (xx + kx) as isize - 1);
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                        continue;
                                    }
                                    let pixel = x[((image * c + ic) * h + iy as usize) * wd + ix as usize];
                                    sum += w[((oc * c + ic) * 3 + ky) * 3 + kx] as f64 * pixel as f64;
                                }
                            }
                        }
                        out.push(sum as f32);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn agrees_with_the_definition() {
        let mut rng = StdRng::seed_from_u64(7);
        // (batch, out, in, h, w): the U-Net's shapes, odd sizes, one output channel (padded to
        // four), tiny images whose last block overhangs the plane.
        for [b, o, c, h, w] in [
            [2, 16, 1, 28, 28],
            [3, 16, 48, 28, 28],
            [2, 32, 64, 14, 14],
            [3, 32, 32, 7, 7],
            [1, 1, 16, 28, 28],
            [2, 5, 3, 9, 11],
            [1, 6, 2, 1, 1],
            [2, 4, 3, 2, 5],
            [1, 3, 1, 3, 1],
        ] {
            let weights: Vec<f32> = (0..o * c * 9).map(|_| rng.random_range(-1.0..1.0)).collect();
            let bias: Vec<f32> = (0..o).map(|_| rng.random_range(-1.0..1.0)).collect();
            let x: Vec<f32> = (0..b * c * h * w).map(|_| rng.random_range(-2.0..2.0)).collect();
            let packed = Packed::new(&weights, o, c);
            for bias in [Some(bias.as_slice()), None] {
                let ours = conv3x3(&packed, bias, &x, b, h, w);
                let expected = reference(&weights, bias, &x, [b, o, c, h, w]);
                assert_eq!(ours.len(), expected.len(), "[{b}, {o}, {c}, {h}, {w}]");
                let worst = ours
                    .iter()
                    .zip(&expected)
                    .map(|(a, e)| (a - e).abs())
                    .fold(0.0, f32::max);
                // Sums of up to 576 products of size about 2: rounding of a few parts in 10^6.
                assert!(
                    worst < 1e-4,
                    "[{b}, {o}, {c}, {h}, {w}] bias {}: off by {worst}",
                    bias.is_some()
                );
            }
        }
    }

    #[test]
    fn a_fused_input_map_and_residual_are_what_they_say() {
        let mut rng = StdRng::seed_from_u64(8);
        let [b, o, c, h, w] = [2, 8, 3, 6, 7];
        let weights: Vec<f32> = (0..o * c * 9).map(|_| rng.random_range(-1.0..1.0)).collect();
        let bias: Vec<f32> = (0..o).map(|_| rng.random_range(-1.0..1.0)).collect();
        let x: Vec<f32> = (0..b * c * h * w).map(|_| rng.random_range(-2.0..2.0)).collect();
        let scale: Vec<f32> = (0..b * c).map(|_| rng.random_range(0.5..1.5)).collect();
        let shift: Vec<f32> = (0..b * c).map(|_| rng.random_range(-0.5..0.5)).collect();
        let residual: Vec<f32> = (0..b * o * h * w).map(|_| rng.random_range(-1.0..1.0)).collect();
        let packed = Packed::new(&weights, o, c);
        for silu in [false, true] {
            // By hand: the map first, then the plain convolution, then the sum.
            let mapped: Vec<f32> = x
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let bc = i / (h * w);
                    let y = v * scale[bc] + shift[bc];
                    if silu { y / (1.0 + (-y).exp()) } else { y }
                })
                .collect();
            let expected: Vec<f32> = reference(&weights, Some(&bias), &mapped, [b, o, c, h, w])
                .iter()
                .zip(&residual)
                .map(|(v, r)| v + r)
                .collect();
            let fused = Fused {
                input: Some(Affine {
                    scale: &scale,
                    shift: &shift,
                    silu,
                }),
                residual: Some(&residual),
            };
            let ours = conv3x3_fused(&packed, Some(&bias), &x, [b, h, w], fused);
            let worst = ours
                .iter()
                .zip(&expected)
                .map(|(a, e)| (a - e).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-4, "silu {silu}: off by {worst}");
        }
    }

    #[test]
    fn an_empty_batch_or_image_gives_an_empty_output() {
        let packed = Packed::new(&[0.5; 2 * 3 * 9], 2, 3);
        assert!(conv3x3(&packed, None, &[], 0, 28, 28).is_empty());
        assert!(conv3x3(&packed, None, &[], 4, 0, 28).is_empty());
    }
}
