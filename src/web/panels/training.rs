//! The training panel's charts: the loss curve and the sampled particles over the data.

use plotters::prelude::*;

use super::{colors, tick};
use crate::math::forward::Point;
use crate::web::canvas::{Canvas, dots, err};

/// The loss per step on a log axis, with a moving average over 50 steps.
pub fn draw_loss(canvas: &Canvas, losses: &[f32]) -> Result<(), String> {
    let root = canvas.area()?;
    root.fill(&WHITE).map_err(err)?;
    let finite: Vec<f64> = losses
        .iter()
        .map(|&l| l as f64)
        .filter(|l| l.is_finite() && *l > 0.0)
        .collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min).min(0.1);
    let hi = finite.iter().copied().fold(0.0, f64::max).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .margin(canvas.px(8.0))
        .x_label_area_size(canvas.px(24.0))
        .y_label_area_size(canvas.px(44.0))
        .build_cartesian_2d(
            0.0..(losses.len().max(10)) as f64,
            (lo * 0.8..hi * 1.2).log_scale(),
        )
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(240, 240, 240))
        .y_label_formatter(&|v| tick(*v))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(canvas.font(11.0))
        .draw()
        .map_err(err)?;
    let window = 50;
    let smooth = (0..losses.len()).filter_map(|i| {
        let part = &losses[i.saturating_sub(window - 1)..=i];
        let m = part.iter().map(|&l| l as f64).sum::<f64>() / part.len() as f64;
        m.is_finite().then_some((i as f64, m.max(lo)))
    });
    chart
        .draw_series(LineSeries::new(
            smooth,
            colors::NOISED.stroke_width(canvas.px(2.0)),
        ))
        .map_err(err)?;
    root.present().map_err(err)
}

/// How many particles' paths are drawn: enough to see the flow, few enough to stay legible.
const TRAJECTORIES: usize = 40;

/// The data in grey, the paths of a few particles through the chain, and every particle now.
pub fn draw_samples(
    canvas: &Canvas,
    data: &[Point<2>],
    particles: &[Point<2>],
    history: &[Vec<Point<2>>],
) -> Result<(), String> {
    let root = canvas.area()?;
    root.fill(&WHITE).map_err(err)?;
    let range = -2.5..2.5;
    let mut chart = ChartBuilder::on(&root)
        .margin(canvas.px(8.0))
        .build_cartesian_2d(range.clone(), range)
        .map_err(err)?;
    let clip = chart.plotting_area().get_pixel_range();
    let coords = chart.as_coord_spec().clone();
    let to_px = |p: &Point<2>| coords.translate(&(p[0] as f64, p[1] as f64));
    let r = canvas.px(1.6);
    dots(canvas, &clip, data.iter().map(to_px), r, colors::DATA, 0.4)?;
    let path_style = colors::PARTIAL.mix(0.35).stroke_width(canvas.px(1.0));
    for i in 0..TRAJECTORIES.min(particles.len()) {
        let path = history.iter().map(|step| (step[i][0] as f64, step[i][1] as f64));
        chart
            .draw_series(LineSeries::new(path, path_style))
            .map_err(err)?;
    }
    dots(canvas, &clip, particles.iter().map(to_px), r, colors::NOISED, 0.9)?;
    root.present().map_err(err)
}
