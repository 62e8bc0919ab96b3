//! The variational bound term by term (seeds 003 and 004): each KL term `L_{t-1}` over t for
//! the trained model, and below it the weight `lambda_t` that the bound gives the squared noise
//! error at each step, against `L_simple`'s weight of 1 everywhere.

use plotters::prelude::*;

use super::mathml::math;
use super::{Corner, Legend, Surface, err, num, tick};
use crate::math::NoiseSchedule;
use crate::sampling::elbo::{Elbo, epsilon_weight};

/// Draws the terms of `bound` (or a note when there is none yet).
pub fn draw<DB: DrawingBackend>(
    canvas: &Surface<DB>,
    bound: Option<&Elbo>,
    schedule: &NoiseSchedule,
) -> Result<(), String> {
    let Some(bound) = bound.filter(|b| b.terms.len() >= 2) else {
        return canvas.note("Train the model, then compute the bound: its terms appear here.");
    };
    let theme = canvas.theme();
    let root = canvas.area()?;
    root.fill(&theme.paper).map_err(err)?;
    let (_, h) = root.dim_in_pixel();
    let (top, bottom) = root.split_vertically((h as f64 * 0.62) as u32);
    let steps = bound.terms.len();
    let x_range = 1.0..steps as f64 + 1.0;

    // The KL terms, t = 2..T (L_0 is a likelihood, not a KL, and is given in words).
    let positive = |v: f64| v.max(1e-9);
    let kl: Vec<(f64, f64)> = (2..=steps)
        .map(|t| (t as f64, positive(bound.terms[t - 1])))
        .collect();
    let hi = kl.iter().map(|p| p.1).fold(1e-8, f64::max) * 2.0;
    let lo = kl.iter().map(|p| p.1).fold(hi, f64::min).max(hi * 1e-7) * 0.5;
    let mut chart = ChartBuilder::on(&top)
        .margin(canvas.px(8.0))
        .x_label_area_size(canvas.px(6.0))
        .y_label_area_size(canvas.px(56.0))
        .build_cartesian_2d(x_range.clone(), (lo..hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(theme.grid_light)
        .bold_line_style(theme.grid_bold)
        .axis_style(theme.ink)
        .x_labels(0)
        .y_labels(5)
        .y_desc("L_{t−1}, nats/dim")
        .y_label_formatter(&|v| tick(*v))
        .label_style(canvas.font(11.0))
        .axis_desc_style(canvas.font(11.0))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(kl, theme.weight.stroke_width(canvas.px(2.0))))
        .map_err(err)?;
    let label = format!(
        "L_T = {}   L_0 = {}   total = {} nats/dim",
        num(bound.prior),
        num(bound.terms[0]),
        num(bound.total)
    );
    top.draw(&Text::new(
        label,
        (canvas.px(70.0) as i32, canvas.px(12.0) as i32),
        canvas.font(12.0),
    ))
    .map_err(err)?;

    // lambda_t, the bound's weight on |eps - eps_theta|^2, against L_simple's 1.
    let weights: Vec<(f64, f64)> = (1..=steps)
        .map(|t| (t as f64, epsilon_weight(schedule, t).max(1e-12)))
        .collect();
    let whi = weights.iter().map(|p| p.1).fold(1.0, f64::max) * 2.0;
    let wlo = weights.iter().map(|p| p.1).fold(1.0, f64::min) * 0.5;
    let mut chart = ChartBuilder::on(&bottom)
        .margin(canvas.px(8.0))
        .x_label_area_size(canvas.px(30.0))
        .y_label_area_size(canvas.px(56.0))
        .build_cartesian_2d(x_range, (wlo..whi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(theme.grid_light)
        .bold_line_style(theme.grid_bold)
        .axis_style(theme.ink)
        .y_labels(4)
        .x_desc("t")
        .y_desc("weight of |ε − ε_θ|²")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| tick(*v))
        .label_style(canvas.font(11.0))
        .axis_desc_style(canvas.font(11.0))
        .draw()
        .map_err(err)?;
    let bound_style = theme.noised.stroke_width(canvas.px(2.0));
    chart
        .draw_series(LineSeries::new(weights, bound_style))
        .map_err(err)?;
    let mut legend = Legend::new(canvas);
    legend.line("the bound: λ_t", bound_style);
    let simple_style = theme.target.stroke_width(canvas.px(2.0));
    chart
        .draw_series(DashedLineSeries::new(
            [(1.0, 1.0), (steps as f64 + 1.0, 1.0)],
            canvas.px(6.0),
            canvas.px(4.0),
            simple_style,
        ))
        .map_err(err)?;
    legend.line("L_simple: 1", simple_style);
    legend.draw(&chart, Corner::UpperRight)?;
    root.present().map_err(err)
}

/// The bound's formula line with its numbers.
pub fn formula(bound: &Elbo, n: usize, parameterization: &str) -> String {
    let kl: f64 = bound.terms.iter().skip(1).sum();
    // Where most of the KL sum lies: the first steps carry it.
    let early: f64 = bound.terms.iter().skip(1).take(bound.terms.len() / 10).sum();
    format!(
        "{} nats per dimension, on {n} points for the model that predicts {parameterization}. \
         The first tenth of the steps holds {:.0} % of the KL sum.",
        math(&format!(
            "-log p(x_0) ≤ L_T + Σ_{{t≥2}} L_{{t-1}} + L_0 = {} + {} + {} = {}",
            num(bound.prior),
            num(kl),
            num(bound.terms[0]),
            num(bound.total),
        )),
        if kl > 0.0 { 100.0 * early / kl } else { 0.0 },
    )
}

/// The chart in words, for readers who cannot see it.
pub fn describe(bound: &Elbo) -> String {
    let (t_max, largest) = bound
        .terms
        .iter()
        .enumerate()
        .skip(1)
        .fold(
            (1, f64::MIN),
            |best, (i, &v)| if v > best.1 { (i + 1, v) } else { best },
        );
    format!(
        "The bound is {} nats per dimension: prior term {}, decoder term {}, and {} KL terms, the largest {} at t = {t_max}. The bound weights the noise error most at small t, where L_simple weights every t the same.",
        num(bound.total),
        num(bound.prior),
        num(bound.terms[0]),
        bound.terms.len() - 1,
        num(largest),
    )
}
