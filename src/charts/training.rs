//! The training panel's charts: the loss curve and the sampled particles over the data.

use plotters::prelude::*;

use super::tick;
use super::{Corner, Legend, Surface, dots, err};
use crate::math::forward::Point;
use crate::sampling::Sampler;

/// The loss per step (a moving average over 50 steps) on a linear axis from 0.
pub fn draw_loss<DB: DrawingBackend>(canvas: &Surface<DB>, losses: &[f32]) -> Result<(), String> {
    let root = canvas.area()?;
    root.fill(&canvas.theme().paper).map_err(err)?;
    // The scale follows the smoothed curve, so a single wild batch does not flatten it.
    let early: Vec<f64> = losses
        .iter()
        .take(60)
        .map(|&l| l as f64)
        .filter(|l| l.is_finite())
        .collect();
    let hi = if early.is_empty() {
        2.0
    } else {
        early.iter().sum::<f64>() / early.len() as f64 * 1.3
    };
    let mut chart = ChartBuilder::on(&root)
        .margin(canvas.px(8.0))
        .x_label_area_size(canvas.px(30.0))
        .y_label_area_size(canvas.px(48.0))
        .build_cartesian_2d(0.0..(losses.len().max(10)) as f64, 0.0..hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(canvas.theme().grid_light)
        .axis_style(canvas.theme().ink)
        .y_labels(6)
        .y_label_formatter(&|v| tick(*v))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .x_desc("step")
        .y_desc("loss")
        .axis_desc_style(canvas.font(11.0))
        .label_style(canvas.font(11.0))
        .draw()
        .map_err(err)?;
    let lo = 0.0;
    let window = 50;
    // At most about 600 points on the curve, however long the run.
    let stride = (losses.len() / 600).max(1);
    let smooth = (0..losses.len()).step_by(stride).filter_map(|i| {
        let part = &losses[i.saturating_sub(window - 1)..=i];
        let m = part.iter().map(|&l| l as f64).sum::<f64>() / part.len() as f64;
        m.is_finite().then_some((i as f64, m.clamp(lo, hi)))
    });
    chart
        .draw_series(LineSeries::new(
            smooth,
            canvas.theme().noised.stroke_width(canvas.px(2.0)),
        ))
        .map_err(err)?;
    root.present().map_err(err)
}

/// How many particles' paths are drawn: enough to see the flow, few enough to stay legible.
const TRAJECTORIES: usize = 12;

/// The data in grey, the paths of a few particles through the chain, and every particle now.
pub fn draw_samples<DB: DrawingBackend>(
    canvas: &Surface<DB>,
    data: &[Point<2>],
    particles: &[Point<2>],
    history: &[Vec<Point<2>>],
) -> Result<(), String> {
    let root = canvas.area()?;
    root.fill(&canvas.theme().paper).map_err(err)?;
    let range = -2.5..2.5;
    let mut chart = ChartBuilder::on(&root)
        .margin(canvas.px(8.0))
        .build_cartesian_2d(range.clone(), range)
        .map_err(err)?;
    let clip = chart.plotting_area().get_pixel_range();
    let coords = chart.as_coord_spec().clone();
    let to_px = |p: &Point<2>| coords.translate(&(p[0] as f64, p[1] as f64));
    let r = canvas.px(1.6);
    dots(canvas, &clip, data.iter().map(to_px), r, canvas.theme().data, 0.4)?;
    let path_style = canvas.theme().partial.mix(0.25).stroke_width(canvas.px(1.0));
    for i in 0..TRAJECTORIES.min(particles.len()) {
        let path = history.iter().map(|step| (step[i][0] as f64, step[i][1] as f64));
        chart
            .draw_series(LineSeries::new(path, path_style))
            .map_err(err)?;
    }
    dots(
        canvas,
        &clip,
        particles.iter().map(to_px),
        r,
        canvas.theme().noised,
        0.9,
    )?;
    root.present().map_err(err)
}

/// One measurement of the quality chart: the sampler, its number of steps and the energy
/// distance of its samples to fresh data.
pub type QualityPoint = (Sampler, usize, f64);

/// Sample quality against the number of reverse steps: the energy distance between samples and
/// fresh data, for DDPM (respaced) and deterministic DDIM, both axes logarithmic, with the
/// distance between two fresh samples of the data as the floor no sampler can beat.
pub fn draw_quality<DB: DrawingBackend>(
    canvas: &Surface<DB>,
    quality: Option<(&[QualityPoint], f64)>,
) -> Result<(), String> {
    let Some((results, floor)) = quality else {
        return canvas.note("Sample quality against the number of steps appears after training.");
    };
    let root = canvas.area()?;
    root.fill(&canvas.theme().paper).map_err(err)?;
    let positive = |d: f64| d.max(1e-5);
    let hi = results.iter().map(|r| r.2).fold(0.05, f64::max) * 1.5;
    let lo = results
        .iter()
        .map(|r| positive(r.2))
        .fold(positive(floor), f64::min)
        * 0.6;
    let max_steps = results.iter().map(|r| r.1).max().unwrap_or(1000).max(10) as f64;
    let mut chart = ChartBuilder::on(&root)
        .margin(canvas.px(8.0))
        .x_label_area_size(canvas.px(30.0))
        .y_label_area_size(canvas.px(48.0))
        .build_cartesian_2d((1.0..max_steps * 1.2).log_scale(), (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(canvas.theme().grid_light)
        .x_desc("reverse steps")
        .y_desc("energy distance")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .label_style(canvas.font(11.0))
        .axis_desc_style(canvas.font(11.0))
        .draw()
        .map_err(err)?;
    let floor_style = canvas.theme().data.stroke_width(canvas.px(1.5));
    chart
        .draw_series(DashedLineSeries::new(
            [(1.0, positive(floor)), (max_steps * 1.2, positive(floor))],
            canvas.px(4.0),
            canvas.px(4.0),
            floor_style,
        ))
        .map_err(err)?;
    let mut legend = Legend::new(canvas);
    legend.line("two samples of the data", floor_style);
    for (name, color, ddim) in [
        ("DDPM", canvas.theme().noised, false),
        ("DDIM, η = 0", canvas.theme().target, true),
    ] {
        let line: Vec<(f64, f64)> = results
            .iter()
            .filter(|r| matches!(r.0, Sampler::Ddim { .. }) == ddim)
            .map(|r| (r.1 as f64, positive(r.2)))
            .collect();
        let style = color.stroke_width(canvas.px(2.0));
        chart
            .draw_series(LineSeries::new(line.clone(), style))
            .map_err(err)?;
        legend.line(name, style);
        chart
            .draw_series(
                line.into_iter()
                    .map(|p| Circle::new(p, canvas.px(3.0), color.filled())),
            )
            .map_err(err)?;
    }
    legend.draw(&chart, Corner::UpperRight)?;
    root.present().map_err(err)
}
