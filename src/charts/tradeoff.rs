//! Why guidance is not free, and how few steps are enough: the measured trade-offs of
//! `diffusion mnist sweep` (`assets/mnist/sweep.json`) with the panel's current settings marked.
//! Left: guidance `w` against how often the asked digit is recognised and against variety
//! (recall of real digits). Right: DDIM's steps against the distance to real digits.

use plotters::prelude::*;

use super::{Corner, Legend, Surface, err};
use crate::sampling::sweep::{RIGHT, Setting, Sweep};

/// What the panel is set to now.
#[derive(Clone, Debug, PartialEq)]
pub struct Current {
    /// Guidance weight.
    pub guidance: f64,
    /// Where guidance applies.
    pub interval: [usize; 2],
    /// Reverse steps.
    pub steps: usize,
    /// DDIM's eta.
    pub eta: f64,
}

/// The interval whose guidance curve is shown: the current one if the sweep tried it,
/// otherwise the chosen one.
pub fn shown_interval(sweep: &Sweep, current: &Current) -> [usize; 2] {
    let tried = sweep.intervals();
    if tried.contains(&current.interval) {
        current.interval
    } else {
        sweep
            .chosen
            .interval
            .or(tried.first().copied())
            .unwrap_or([0, 1000])
    }
}

/// The eta whose steps curve is shown: the current one if the sweep tried it, else the chosen.
pub fn shown_eta(sweep: &Sweep, current: &Current) -> f64 {
    if sweep.steps.iter().any(|m| m.setting.eta == current.eta) {
        current.eta
    } else {
        sweep.chosen.eta
    }
}

/// Draws both charts side by side (or a note when there is no record).
pub fn draw<DB: DrawingBackend>(
    canvas: &Surface<DB>,
    sweep: Option<&Sweep>,
    current: &Current,
) -> Result<(), String> {
    let Some(sweep) = sweep else {
        return canvas.note("The measured trade-offs load with the digit model.");
    };
    let theme = canvas.theme();
    let root = canvas.area()?;
    root.fill(&theme.paper).map_err(err)?;
    let (w, _) = root.dim_in_pixel();
    let (left, right) = root.split_horizontally(w / 2);
    let font = canvas.font(11.0);
    let line = |c: RGBColor| c.stroke_width(canvas.px(2.0));
    let mark = theme.marker.mix(0.8).stroke_width(canvas.px(1.5));

    // Guidance: right digit and variety, in %.
    let interval = shown_interval(sweep, current);
    let curve = sweep.guidance_curve(interval);
    let w_max = curve.iter().map(|p| f64::from(p.0)).fold(1.0, f64::max);
    let mut legend = Legend::sized(canvas, 11.0);
    let mut chart = ChartBuilder::on(&left)
        .margin(canvas.px(8.0))
        .caption(
            format!("guidance w (on t in {}..{})", interval[0], interval[1]),
            canvas.font(12.0),
        )
        .x_label_area_size(canvas.px(24.0))
        .y_label_area_size(canvas.px(40.0))
        .build_cartesian_2d(0.0..w_max, 0.0..100.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(theme.grid_light)
        .bold_line_style(theme.grid_bold)
        .axis_style(theme.ink)
        .x_labels(5)
        .y_labels(6)
        .y_desc("%")
        .x_label_formatter(&|v| format!("{v}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font.clone())
        .axis_desc_style(font.clone())
        .draw()
        .map_err(err)?;
    let right_style = line(theme.target);
    let variety_style = line(theme.weight);
    let pct = |v: f64| 100.0 * v;
    chart
        .draw_series(LineSeries::new(
            curve.iter().map(|(w, s)| (f64::from(*w), pct(s.right))),
            right_style,
        ))
        .map_err(err)?;
    legend.line("right digit", right_style);
    chart
        .draw_series(LineSeries::new(
            curve.iter().map(|(w, s)| (f64::from(*w), pct(s.recall))),
            variety_style,
        ))
        .map_err(err)?;
    legend.line("variety (recall)", variety_style);
    let dot = canvas.px(3.0);
    for (series, colour) in [(true, theme.target), (false, theme.weight)] {
        chart
            .draw_series(curve.iter().map(|(w, s)| {
                let y = if series { s.right } else { s.recall };
                Circle::new((f64::from(*w), pct(y)), dot, colour.filled())
            }))
            .map_err(err)?;
    }
    let real_style = theme.ink.mix(0.5).stroke_width(canvas.px(1.0));
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, pct(sweep.real.recall)), (w_max, pct(sweep.real.recall))],
            canvas.px(5.0),
            canvas.px(4.0),
            real_style,
        ))
        .map_err(err)?;
    legend.line("real digits' variety", real_style);
    let bar_style = theme.target.mix(0.6).stroke_width(canvas.px(1.0));
    let bar = 100.0 * RIGHT;
    chart
        .draw_series(DashedLineSeries::new(
            [(0.0, bar), (w_max, bar)],
            canvas.px(2.0),
            canvas.px(3.0),
            bar_style,
        ))
        .map_err(err)?;
    legend.line(format!("{bar:.0} % right: the defaults' bar"), bar_style);
    let now = current.guidance.clamp(0.0, w_max);
    chart
        .draw_series(LineSeries::new([(now, 0.0), (now, 100.0)], mark))
        .map_err(err)?;
    legend.draw(&chart, Corner::LowerLeft)?;

    // Steps: distance to real digits (lower is better), log-scaled steps.
    let eta = shown_eta(sweep, current);
    let curve = sweep.steps_curve(eta);
    let (s_lo, s_hi) = curve.iter().fold((f64::MAX, 1.0_f64), |(lo, hi), p| {
        (lo.min(p.0 as f64), hi.max(p.0 as f64))
    });
    let s_lo = s_lo.min(s_hi) * 0.8;
    let s_hi = s_hi * 1.25;
    let d_hi = sweep
        .steps
        .iter()
        .map(|m| m.scores.distance)
        .fold(sweep.real.distance, f64::max)
        * 1.1;
    let mut legend = Legend::sized(canvas, 11.0);
    let mut chart = ChartBuilder::on(&right)
        .margin(canvas.px(8.0))
        .caption(format!("DDIM's steps (η = {eta})"), canvas.font(12.0))
        .x_label_area_size(canvas.px(24.0))
        .y_label_area_size(canvas.px(40.0))
        .build_cartesian_2d((s_lo..s_hi).log_scale(), 0.0..d_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(theme.grid_light)
        .bold_line_style(theme.grid_bold)
        .axis_style(theme.ink)
        .x_labels(6)
        .y_labels(5)
        .y_desc("distance to real digits")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .label_style(font.clone())
        .axis_desc_style(font.clone())
        .draw()
        .map_err(err)?;
    let distance_style = line(theme.noised);
    chart
        .draw_series(LineSeries::new(
            curve.iter().map(|(s, m)| (*s as f64, m.distance)),
            distance_style,
        ))
        .map_err(err)?;
    legend.line("sampled digits", distance_style);
    chart
        .draw_series(
            curve
                .iter()
                .map(|(s, m)| Circle::new((*s as f64, m.distance), dot, theme.noised.filled())),
        )
        .map_err(err)?;
    chart
        .draw_series(DashedLineSeries::new(
            [(s_lo, sweep.real.distance), (s_hi, sweep.real.distance)],
            canvas.px(5.0),
            canvas.px(4.0),
            real_style,
        ))
        .map_err(err)?;
    legend.line("real digits", real_style);
    let now = (current.steps as f64).clamp(s_lo, s_hi);
    chart
        .draw_series(LineSeries::new([(now, 0.0), (now, d_hi)], mark))
        .map_err(err)?;
    legend.draw(&chart, Corner::UpperRight)?;
    root.present().map_err(err)
}

/// The chart in words, for its live region and the reader who cannot see it.
pub fn describe(sweep: &Sweep, current: &Current) -> String {
    let interval = shown_interval(sweep, current);
    let curve = sweep.guidance_curve(interval);
    let near = |w: f64| {
        curve
            .iter()
            .min_by(|a, b| (f64::from(a.0) - w).abs().total_cmp(&(f64::from(b.0) - w).abs()))
    };
    let mut text = String::new();
    if let (Some(first), Some(last)) = (curve.first(), curve.last()) {
        text.push_str(&format!(
            "Measured on {} digits: from w = {} to w = {}, the asked digit is recognised {:.0} % then {:.0} % of the time, while variety falls from {:.0} % to {:.0} % (real digits: {:.0} %).",
            sweep.samples,
            first.0,
            last.0,
            100.0 * first.1.right,
            100.0 * last.1.right,
            100.0 * first.1.recall,
            100.0 * last.1.recall,
            100.0 * sweep.real.recall
        ));
    }
    if let Some((w, s)) = near(current.guidance) {
        text.push_str(&format!(
            " Nearest to the current w = {}: w = {w}, right {:.0} %, variety {:.0} %.",
            current.guidance,
            100.0 * s.right,
            100.0 * s.recall
        ));
    }
    let steps = sweep.steps_curve(shown_eta(sweep, current));
    if let (Some(first), Some(last)) = (steps.first(), steps.last()) {
        text.push_str(&format!(
            " Distance to real digits: {:.1} at {} steps, {:.1} at {} (real digits: {:.1}).",
            first.1.distance, first.0, last.1.distance, last.0, sweep.real.distance
        ));
    }
    let Setting { guidance, steps, .. } = &sweep.chosen;
    text.push_str(&format!(
        " The defaults, chosen by this measure: w = {guidance}, {steps} steps."
    ));
    text
}
