//! The score field at time `t`: the exact `grad log q(x_t)` of the noised data (seed 003's
//! link: the optimal noise predictor is `-sqrt(1 - alpha_bar_t)` times it) beside the score the
//! trained model implies, `-eps_theta(x_t, t) / sqrt(1 - alpha_bar_t)`, on a grid of points.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::mathml::math;
use super::{Corner, Legend, Scene, forward, num, plane, plane_frame};
use super::{Surface, arrows, dots, err};
use crate::math::forward::Point;

/// The square of data space shown.
pub const RANGE: f64 = 2.2;
/// Grid points along each axis.
const GRID: usize = 15;

/// The grid's coordinates along either axis.
fn ticks() -> Vec<f32> {
    let step = 2.0 * RANGE / GRID as f64;
    (0..GRID)
        .map(|i| (-RANGE + step * (i as f64 + 0.5)) as f32)
        .collect()
}

/// The grid the field is drawn on, row by row.
pub fn grid() -> Vec<Point<2>> {
    let at = ticks();
    at.iter().flat_map(|&y| at.iter().map(move |&x| [x, y])).collect()
}

/// The exact field and how the learned one compares with it.
pub struct Field {
    /// `grad log q(x_t)` at each grid point.
    pub exact: Vec<Point<2>>,
    /// The scale applied to both fields so that arrows fit between grid points.
    pub scale: f64,
    /// The median angle in degrees between the learned and the exact arrows, where learned.
    pub median_angle: Option<f64>,
    /// The median of `|s_theta - s| / |s|`, where learned.
    pub median_error: Option<f64>,
}

/// The exact score on the grid, or `None` at t = 0 (the data's own score does not exist) or
/// without data.
pub fn compute(scene: &Scene) -> Option<Field> {
    let t = scene.params.t;
    if t == 0 || scene.data.is_empty() {
        return None;
    }
    let exact = scene
        .schedule
        .data_scores_on_grid(scene.data, &ticks(), &ticks(), t);
    let norm = |s: &Point<2>| (s[0] as f64).hypot(s[1] as f64);
    let mut lengths: Vec<f64> = exact.iter().map(norm).collect();
    let quartile = lengths.len() * 3 / 4;
    let typical = lengths
        .select_nth_unstable_by(quartile, f64::total_cmp)
        .1
        .max(1e-12);
    let spacing = 2.0 * RANGE / GRID as f64;
    let (mut median_angle, mut median_error) = (None, None);
    if let Some(learned) = scene.model.ready() {
        let mut angles = Vec::new();
        let mut errors = Vec::new();
        for (s, l) in exact.iter().zip(&learned.scores) {
            let (ns, nl) = (norm(s), norm(l));
            if ns > 1e-9 && nl > 1e-9 {
                let cos = (s[0] as f64 * l[0] as f64 + s[1] as f64 * l[1] as f64) / (ns * nl);
                angles.push(cos.clamp(-1.0, 1.0).acos().to_degrees());
                errors.push(norm(&[l[0] - s[0], l[1] - s[1]]) / ns);
            }
        }
        median_angle = median(&mut angles);
        median_error = median(&mut errors);
    }
    Some(Field {
        exact,
        // Three quarters of the exact arrows fit within 90 % of a grid cell.
        scale: 0.9 * spacing / typical,
        median_angle,
        median_error,
    })
}

fn median(xs: &mut [f64]) -> Option<f64> {
    let middle = xs.len() / 2;
    (!xs.is_empty()).then(|| *xs.select_nth_unstable_by(middle, f64::total_cmp).1)
}

/// Draws `x_t` faintly, the exact score in grey and the learned one in orange.
pub fn draw<DB: DrawingBackend>(
    scene: &Scene,
    canvas: &Surface<DB>,
    field: Option<&Field>,
) -> Result<(), String> {
    let root = canvas.area()?;
    let chart = plane(&root, canvas, RANGE, 5)?;
    let frame = plane_frame(&chart, canvas, RANGE);
    let r = canvas.px(1.4);
    let clip = chart.plotting_area().get_pixel_range();
    let coords = chart.as_coord_spec().clone();
    let x_t = forward::noised(scene);
    dots(
        canvas,
        &clip,
        x_t.iter().map(|p| coords.translate(&(p[0] as f64, p[1] as f64))),
        r,
        canvas.theme().noised,
        0.25,
    )?;
    let mut legend = Legend::new(canvas);
    legend.dot(format!("x_t, t = {}", scene.params.t), r, canvas.theme().noised);
    let Some(field) = field else {
        legend.draw(&chart, Corner::UpperLeft)?;
        return root.present().map_err(err);
    };
    let spacing = 2.0 * RANGE / GRID as f64;
    // Arrows longer than a cell would cross their neighbours: longer ones are cut to a cell.
    let tip = |x: &Point<2>, s: &Point<2>| {
        let (dx, dy) = (field.scale * s[0] as f64, field.scale * s[1] as f64);
        let len = dx.hypot(dy);
        let cut = if len > spacing { spacing / len } else { 1.0 };
        (x[0] as f64 + dx * cut, x[1] as f64 + dy * cut)
    };
    let to_px = |p: (f64, f64)| {
        let (x, y) = coords.translate(&p);
        (x as f64, y as f64)
    };
    let head = canvas.px(5.0) as f64;
    let exact = grid()
        .iter()
        .zip(&field.exact)
        .map(|(x, s)| (to_px((x[0] as f64, x[1] as f64)), to_px(tip(x, s))))
        .collect::<Vec<_>>();
    arrows(
        canvas,
        &clip,
        exact,
        head,
        canvas.px(1.5) as f64,
        canvas.theme().exact,
        0.8,
    )?;
    let exact_style = canvas.theme().exact.mix(0.8).stroke_width(canvas.px(1.5));
    legend.add("exact ∇ log q(x_t)", move |(x, y)| {
        PathElement::new([(x - 6, y), (x + 10, y)], exact_style)
    });
    if let Some(learned) = scene.model.ready() {
        let learned_arrows = grid()
            .iter()
            .zip(&learned.scores)
            .map(|(x, s)| (to_px((x[0] as f64, x[1] as f64)), to_px(tip(x, s))))
            .collect::<Vec<_>>();
        arrows(
            canvas,
            &clip,
            learned_arrows,
            head,
            canvas.px(2.0) as f64,
            canvas.theme().model,
            1.0,
        )?;
        let style = canvas.theme().model.stroke_width(canvas.px(2.0));
        legend.add("learned −ε_θ / √(1 − ᾱ_t)", move |(x, y)| {
            PathElement::new([(x - 6, y), (x + 10, y)], style)
        });
    }
    legend.draw(&chart, Corner::UpperLeft)?;
    let style = canvas.font(12.0).pos(Pos::new(HPos::Right, VPos::Bottom));
    let corner = (
        frame.px.end - canvas.px(6.0) as i32,
        frame.py.end - canvas.px(6.0) as i32,
    );
    root.draw(&Text::new(format!("arrows ×{}", num(field.scale)), corner, style))
        .map_err(err)?;
    root.present().map_err(err)
}

/// The score's formula, and how well the model matches it.
pub fn formula(scene: &Scene, field: Option<&Field>) -> String {
    let Some(field) = field else {
        return if scene.data.is_empty() {
            "There are no data points: draw some on the forward chart.".into()
        } else {
            "At t = 0 the data's own score is not defined: move t above 0.".into()
        };
    };
    let t = scene.params.t;
    let sigma = (1.0 - scene.schedule.alpha_bar(t)).sqrt();
    let exact = format!(
        "{}; &nbsp; learned: {}. ",
        math(&format!(
            r"∇ log q(x_t) = (\sqrt{{\bar{{α}}_t}} E[x_0 | x_t] - x_t) / (1 - \bar{{α}}_t) = ({} E[x_0 | x_t] - x_t) / {}",
            num(scene.schedule.alpha_bar(t).sqrt()),
            num(1.0 - scene.schedule.alpha_bar(t)),
        )),
        math(&format!("-ε_θ(x_t, t) / {}", num(sigma))),
    );
    let comparison = match (field.median_angle, field.median_error) {
        (Some(angle), Some(error)) => format!(
            "<span id=\"score-agreement\" data-angle=\"{angle:.2}\">Over the grid the learned arrows point {angle:.1}° from the exact ones \
             (median), with a median relative error of {:.0} %.</span>",
            100.0 * error
        ),
        _ => scene.model.note().to_string(),
    };
    exact + &comparison
}
