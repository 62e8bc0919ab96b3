//! Forward noising: the Swiss roll `x_0` and its noised version `x_t` under the same noise.

use plotters::prelude::*;

use super::mathml::math;
use super::{Corner, Legend, Scene, num, plane_frame, plane_under};
use super::{Frame, Surface, dots, err};

/// The square of data space shown; wide enough for `N(0, I)` at t = T.
pub const RANGE: f64 = 3.2;

/// Above this `alpha_bar_T`, `x_T` still remembers the data (its scale `sqrt(alpha_bar_T)`
/// exceeds 10 %) and sampling from `N(0, I)` starts in the wrong place.
pub const NOISE_WARNING_ALPHA_BAR: f64 = 0.01;

/// `x_t` for every data point, with the scene's fixed noise.
pub fn noised(scene: &Scene) -> Vec<[f32; 2]> {
    let t = scene.params.t;
    scene
        .data
        .iter()
        .zip(scene.eps)
        .map(|(x0, eps)| scene.schedule.add_noise(x0, eps, t))
        .collect()
}

/// Draws `x_0` in grey under `x_t` in blue.
pub fn draw<DB: DrawingBackend>(
    scene: &Scene,
    canvas: &Surface<DB>,
    x_t: &[[f32; 2]],
) -> Result<Frame, String> {
    let root = canvas.area()?;
    let r = canvas.px(1.6);
    // x_0 stays while t moves: it is drawn with the backdrop, and kept with it for this data.
    let chart = plane_under(&root, canvas, RANGE, 7, &data_key(scene.data), |chart| {
        let clip = chart.plotting_area().get_pixel_range();
        let coords = chart.as_coord_spec();
        let to_px = |p: &[f32; 2]| coords.translate(&(p[0] as f64, p[1] as f64));
        dots(
            canvas,
            &clip,
            scene.data.iter().map(to_px),
            r,
            canvas.theme().data,
            0.6,
        )
    })?;
    let clip = chart.plotting_area().get_pixel_range();
    let coords = chart.as_coord_spec().clone();
    let to_px = |p: &[f32; 2]| coords.translate(&(p[0] as f64, p[1] as f64));
    dots(
        canvas,
        &clip,
        x_t.iter().map(to_px),
        r,
        canvas.theme().noised,
        0.8,
    )?;
    let mut legend = Legend::new(canvas);
    legend.dot("x₀", r, canvas.theme().data);
    legend.dot(format!("x_t, t = {}", scene.params.t), r, canvas.theme().noised);
    legend.draw(&chart, Corner::UpperLeft)?;
    let frame = plane_frame(&chart, canvas, RANGE);
    root.present().map_err(err)?;
    Ok(frame)
}

/// Names a data set by its points (FNV-1a over their bits: 20,000 numbers in about 20 µs).
fn data_key(data: &[[f32; 2]]) -> String {
    let hash = data.iter().flatten().fold(0xcbf2_9ce4_8422_2325_u64, |h, v| {
        (h ^ u64::from(v.to_bits())).wrapping_mul(0x0100_0000_01b3)
    });
    format!("data {} {hash:016x}", data.len())
}

/// The forward formula with the current scales.
pub fn formula(scene: &Scene) -> String {
    let t = scene.params.t;
    let (signal, noise) = scene.schedule.noise_scales(t);
    [
        math(&format!(
            r"x_t = \sqrt{{\bar{{α}}_t}} x_0 + \sqrt{{1 - \bar{{α}}_t}} ε = {} · x_0 + {} · ε",
            num(signal as f64),
            num(noise as f64),
        )),
        math("ε ~ N(0, I)"),
        math(&format!(r"\bar{{α}}_{t} = {}", num(scene.schedule.alpha_bar(t)))),
    ]
    .join(", &nbsp; ")
}

/// A warning when the chain does not end in noise, or `None`.
pub fn warning(scene: &Scene) -> Option<String> {
    let s = scene.schedule;
    let last = s.alpha_bar(s.steps());
    (last > NOISE_WARNING_ALPHA_BAR).then(|| {
        format!(
            "x_T is not pure noise: ᾱ_T = {} keeps {:.0} % of the data's scale at t = T = {}, \
             so a sampler starting from N(0, I) would start in the wrong place. \
             Use more steps or a larger β_T.",
            num(last),
            100.0 * last.sqrt(),
            s.steps()
        )
    })
}
