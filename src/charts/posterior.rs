//! Posterior targets (seed 000, Figure 1): at a point `x_t` the reader places, each data point
//! `x_0^i` proposes a partial target `mu~(x_t, x_0^i)`, weighted by `Q(x_0^i | x_t)`; their
//! weighted mean is the true reverse target `mu*(x_t)`.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::mathml::math;
use super::{Corner, Legend, PlaneChart, Scene, arrow, num, plane, plane_frame};
use super::{Frame, Surface, dots, err};
use crate::math::exact::DataPosterior;

/// The square of data space shown.
pub const RANGE: f64 = 2.2;

/// Partial targets whose weight is below this fraction of the largest are not drawn: they are
/// invisible anyway, and skipping them keeps a redraw cheap.
const MIN_RELATIVE_WEIGHT: f64 = 1e-3;

/// One reverse step moves a point by very little (that is why DDPM takes T of them), so the
/// panel draws displacements from `x_t` magnified until the longest is about this long.
const DRAWN_STEP: f64 = 0.7;

/// The posterior at the probe point, or `None` at t = 0 where there is no reverse step.
pub fn compute(scene: &Scene) -> Option<DataPosterior<2>> {
    let t = scene.params.t;
    (t >= 1 && !scene.data.is_empty())
        .then(|| scene.schedule.data_posterior(scene.data, &scene.params.probe, t))
}

/// The partial targets `mu~(x_t, x_0^i)` that carry weight, each with its weight relative to
/// the largest. Computed once a redraw: the magnification and the drawing both use them.
fn partial_targets(scene: &Scene, post: &DataPosterior<2>) -> Vec<([f32; 2], f64)> {
    let (t, probe) = (scene.params.t, scene.params.probe);
    let wmax = post.weights.iter().copied().fold(0.0, f64::max);
    post.weights
        .iter()
        .zip(scene.data)
        .filter(|(w, _)| **w >= wmax * MIN_RELATIVE_WEIGHT)
        .map(|(w, x0)| (scene.schedule.posterior_mean(&probe, x0, t), w / wmax))
        .collect()
}

/// How much the panel magnifies displacements from `x_t`: a round number (1, 2, 5, 10, ...)
/// that makes the longest partial target about [`DRAWN_STEP`] long.
fn magnification(probe: [f32; 2], partial: &[([f32; 2], f64)]) -> f64 {
    let longest = partial
        .iter()
        .map(|(m, _)| (((m[0] - probe[0]).powi(2) + (m[1] - probe[1]).powi(2)) as f64).sqrt())
        .fold(0.0, f64::max);
    if longest <= 0.0 || longest >= DRAWN_STEP {
        return 1.0;
    }
    let raw = DRAWN_STEP / longest;
    let decade = 10f64.powf(raw.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|&m| m <= raw)
        .unwrap_or(decade)
}

/// Draws the weighted data, the partial targets, `x_t`, `mu*(x_t)` and the arrow between them.
pub fn draw<DB: DrawingBackend>(
    scene: &Scene,
    canvas: &Surface<DB>,
    post: Option<&DataPosterior<2>>,
) -> Result<Frame, String> {
    let root = canvas.area()?;
    let mut chart = plane(&root, canvas, RANGE, 5)?;
    let frame = plane_frame(&chart, canvas, RANGE);
    let r = canvas.px(1.8);
    let probe = scene.params.probe;
    let at = |p: [f32; 2]| (p[0] as f64, p[1] as f64);

    let Some(post) = post else {
        let clip = chart.plotting_area().get_pixel_range();
        let coords = chart.as_coord_spec().clone();
        let pixels = scene.data.iter().map(|p| coords.translate(&at(*p)));
        dots(canvas, &clip, pixels, r, canvas.theme().data, 0.5)?;
        cross(&mut chart, canvas, at(probe))?;
        root.present().map_err(err)?;
        return Ok(frame);
    };

    let wmax = post.weights.iter().copied().fold(0.0, f64::max);
    let partial = partial_targets(scene, post);
    let k = magnification(probe, &partial) as f32;
    let magnify = |m: [f32; 2]| [probe[0] + k * (m[0] - probe[0]), probe[1] + k * (m[1] - probe[1])];

    // Data points: grey when Q(x_0 | x_t) is negligible, orange as it grows.
    let clip = chart.plotting_area().get_pixel_range();
    let coords = chart.as_coord_spec().clone();
    let to_px = |p: [f32; 2]| coords.translate(&at(p));
    let shade = |a: f64| {
        (
            blend(canvas.theme().data, canvas.theme().weight, a),
            0.35 + 0.65 * a,
        )
    };
    let weighted: Vec<([f32; 2], f64)> = scene
        .data
        .iter()
        .zip(&post.weights)
        .map(|(p, w)| (*p, (w / wmax).sqrt()))
        .collect();
    shaded_dots(canvas, &clip, &weighted, r, to_px, shade)?;
    let mut legend = Legend::new(canvas);
    legend.dot("x₀ⁱ, by Q(x₀ⁱ | x_t)", r, canvas.theme().weight);

    // Partial targets, drawn where they matter.
    let partial: Vec<([f32; 2], f64)> = partial.into_iter().map(|(m, a)| (magnify(m), a)).collect();
    shaded_dots(canvas, &clip, &partial, r, to_px, |a| {
        (canvas.theme().partial, 0.15 + 0.85 * a)
    })?;
    legend.dot("μ̃(x_t, x₀ⁱ)", r, canvas.theme().partial);

    // The expected origin E[x_0 | x_t].
    chart
        .draw_series(std::iter::once(Circle::new(
            at(post.x0_mean),
            canvas.px(6.0),
            canvas.theme().weight.stroke_width(canvas.px(2.0)),
        )))
        .map_err(err)?;
    legend.add("E[x₀ | x_t]", move |at| {
        Circle::new(at, r * 3, canvas.theme().weight.stroke_width(2))
    });

    // x_t, the arrow and the true target.
    let target = magnify(post.target);
    arrow(
        &mut chart,
        at(probe),
        at(target),
        0.12,
        canvas.theme().target.stroke_width(canvas.px(2.5)),
    )?;
    chart
        .draw_series(std::iter::once(Circle::new(
            at(target),
            canvas.px(5.0),
            canvas.theme().target.filled(),
        )))
        .map_err(err)?;
    legend.add("μ*(x_t)", move |at| {
        Circle::new(at, r * 3, canvas.theme().target.filled())
    });
    if let Some(learned) = scene.model.ready() {
        // The model's own step, beside the exact one, magnified the same way.
        let mean = magnify(learned.mean);
        let style = canvas.theme().model.stroke_width(canvas.px(2.0));
        arrow(&mut chart, at(probe), at(mean), 0.1, style)?;
        let side = canvas.px(5.0) as i32;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at(at(mean)) + Rectangle::new([(-side, -side), (side, side)], style),
            ))
            .map_err(err)?;
        legend.add("model's μ_θ(x_t)", move |(x, y)| {
            Rectangle::new(
                [(x - 4, y - 4), (x + 4, y + 4)],
                canvas.theme().model.stroke_width(2),
            )
        });
    }
    cross(&mut chart, canvas, at(probe))?;

    legend.draw(&chart, Corner::UpperLeft)?;
    if k > 1.0 {
        // Said on the chart itself, so a screenshot of it cannot mislead.
        let style = canvas.font(12.0).pos(Pos::new(HPos::Right, VPos::Bottom));
        let corner = (
            frame.px.end - canvas.px(6.0) as i32,
            frame.py.end - canvas.px(6.0) as i32,
        );
        root.draw(&Text::new(format!("steps from x_t drawn ×{k}"), corner, style))
            .map_err(err)?;
    }
    root.present().map_err(err)?;
    Ok(frame)
}

type Chart<'a, DB> = PlaneChart<'a, DB>;

fn cross<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    canvas: &Surface<DB>,
    (x, y): (f64, f64),
) -> Result<(), String> {
    let d = 0.07;
    let style = canvas.theme().strong.stroke_width(canvas.px(2.0));
    chart
        .draw_series(LineSeries::new([(x - d, y - d), (x + d, y + d)], style))
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new([(x - d, y + d), (x + d, y - d)], style))
        .map_err(err)?;
    Ok(())
}

/// How many shades a weighted point set is drawn in: one canvas path each.
const SHADES: usize = 16;

/// Draws points whose colour depends on a value in [0, 1], in `SHADES` batched paths.
fn shaded_dots<DB: DrawingBackend>(
    canvas: &Surface<DB>,
    clip: &(std::ops::Range<i32>, std::ops::Range<i32>),
    points: &[([f32; 2], f64)],
    radius: u32,
    to_px: impl Fn([f32; 2]) -> (i32, i32),
    shade: impl Fn(f64) -> (RGBColor, f64),
) -> Result<(), String> {
    let bucket = |a: f64| (a.clamp(0.0, 1.0) * (SHADES - 1) as f64).round() as usize;
    // Faint shades first, so the heavy points are drawn on top.
    for level in 0..SHADES {
        let pixels = points
            .iter()
            .filter(|(_, a)| bucket(*a) == level)
            .map(|(p, _)| to_px(*p));
        let (color, alpha) = shade(level as f64 / (SHADES - 1) as f64);
        dots(canvas, clip, pixels, radius, color, alpha)?;
    }
    Ok(())
}

fn blend(a: RGBColor, b: RGBColor, f: f64) -> RGBColor {
    let mix = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The targets' formula with the current coefficients and result.
pub fn formula(scene: &Scene, post: Option<&DataPosterior<2>>) -> String {
    if scene.data.is_empty() {
        return "There are no data points: draw some on the forward chart.".into();
    }
    let Some(post) = post else {
        return format!(
            "At t = 0 there is no reverse step: move t above 0, then click or drag in the chart to place {}.",
            math("x_t")
        );
    };
    let t = scene.params.t;
    let s = scene.schedule;
    let [px, py] = scene.params.probe;
    let effective = 1.0 / post.weights.iter().map(|w| w * w).sum::<f64>();
    format!(
        "{}, &nbsp; {}, &nbsp; {} at {}; &nbsp; {effective:.0} of {} points carry the weight {}",
        math(&format!(
            r"\tilde{{μ}}(x_t, x_0) = {} · x_0 + {} · x_t",
            num(s.posterior_mean_coef1[t - 1]),
            num(s.posterior_mean_coef2[t - 1]),
        )),
        math(&format!(
            "Q(x_0^i | x_t) ∝ exp(-‖x_t - {} · x_0^i‖^2 / (2 · {}))",
            num(s.alpha_bar(t).sqrt()),
            num(1.0 - s.alpha_bar(t)),
        )),
        math(&format!(
            r"μ^*(x_t) = Σ_i Q(x_0^i | x_t) \tilde{{μ}}(x_t, x_0^i) = ({}, {})",
            num(post.target[0] as f64),
            num(post.target[1] as f64),
        )),
        math(&format!("x_t = ({}, {})", num(px as f64), num(py as f64))),
        scene.data.len(),
        math("(1 / Σ Q^2)"),
    ) + &model_comparison(scene, post)
}

/// The model's predicted mean against the exact target, or why there is none.
fn model_comparison(scene: &Scene, post: &DataPosterior<2>) -> String {
    let Some(learned) = scene.model.ready() else {
        return format!("<br>{}", scene.model.note());
    };
    let [mx, my] = learned.mean;
    let [tx, ty] = post.target;
    let [px, py] = scene.params.probe;
    let gap = ((mx - tx) as f64).hypot((my - ty) as f64);
    let step = ((tx - px) as f64).hypot((ty - py) as f64);
    format!(
        "<br><span id=\"posterior-model\" data-gap=\"{gap:e}\" data-step=\"{step:e}\">The trained model's \
         {}: {} from {}, against a step of {} from {}.</span>",
        math(&format!("μ_θ(x_t) = ({}, {})", num(mx as f64), num(my as f64))),
        num(gap),
        math("μ^*"),
        num(step),
        math("x_t"),
    )
}
