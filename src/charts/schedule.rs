//! The schedule chart: alpha_bar_t, beta_t and the SNR over t, with the current t marked.

use plotters::prelude::*;

use super::mathml::math;
use super::{Scene, num, tick};
use super::{Surface, err};

/// Draws three stacked charts sharing the t axis. Their grids, axes and curves change only with
/// the schedule, so they are one backdrop (drawn once, then put back while t moves); only the
/// marks of the current t are drawn every time.
pub fn draw<DB: DrawingBackend>(scene: &Scene, canvas: &Surface<DB>) -> Result<(), String> {
    let s = scene.schedule;
    let steps = s.steps();
    let t_now = scene.params.t;
    let root = canvas.area()?;
    let rows = root.split_evenly((3, 1));
    let ts = || (1..=steps).map(|t| t as f64);
    let x_range = 0.0..steps as f64;

    let beta_max = s.betas.iter().copied().fold(0.0, f64::max) * 1.1;
    let snr: Vec<f64> = (1..=steps).map(|t| s.snr(t)).collect();
    let snr_lo = snr.iter().copied().fold(f64::INFINITY, f64::min).max(1e-8) / 2.0;
    let snr_hi = snr.iter().copied().fold(0.0, f64::max).max(snr_lo * 10.0) * 2.0;

    // alpha_bar_t and beta_t on linear axes; the SNR on a log axis: it spans many decades.
    let mut alpha_bar = builder(&rows[0], canvas, false)
        .build_cartesian_2d(x_range.clone(), 0.0..1.0)
        .map_err(err)?;
    let mut beta = builder(&rows[1], canvas, false)
        .build_cartesian_2d(x_range.clone(), 0.0..beta_max)
        .map_err(err)?;
    let mut ratio = builder(&rows[2], canvas, true)
        .build_cartesian_2d(x_range, (snr_lo..snr_hi).log_scale())
        .map_err(err)?;
    let theme = canvas.theme();
    let width = canvas.px(2.0);
    let key = format!(
        "schedule {:?} {steps} {} {}",
        scene.params.kind, scene.params.beta_start, scene.params.beta_end
    );
    canvas.backdrop(&key, || {
        root.fill(&theme.paper).map_err(err)?;
        mesh(&mut alpha_bar, canvas, "ᾱ_t", false)?;
        let line = std::iter::once((0.0, 1.0)).chain(ts().map(|t| (t, s.alpha_bar(t as usize))));
        alpha_bar
            .draw_series(LineSeries::new(line, theme.noised.stroke_width(width)))
            .map_err(err)?;
        mesh(&mut beta, canvas, "β_t", false)?;
        let line = ts().map(|t| (t, s.beta(t as usize)));
        beta.draw_series(LineSeries::new(line, theme.weight.stroke_width(width)))
            .map_err(err)?;
        mesh(&mut ratio, canvas, "SNR", true)?;
        let line = ts().zip(snr.iter().copied());
        ratio
            .draw_series(LineSeries::new(line, theme.snr.stroke_width(width)))
            .map_err(err)?;
        Ok(())
    })?;
    let t = t_now as f64;
    let (beta_now, snr_now) = match t_now {
        0 => (None, None),
        _ => (Some(s.beta(t_now)), Some(s.snr(t_now))),
    };
    marker(&mut alpha_bar, canvas, t, (0.0, 1.0), Some(s.alpha_bar(t_now)))?;
    marker(&mut beta, canvas, t, (0.0, beta_max), beta_now)?;
    marker(&mut ratio, canvas, t, (snr_lo, snr_hi), snr_now)?;
    root.present().map_err(err)
}

type Area<DB> = DrawingArea<DB, plotters::coord::Shift>;

fn builder<'a, 'b, DB: DrawingBackend>(
    area: &'a Area<DB>,
    canvas: &Surface<DB>,
    with_x_labels: bool,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.margin_top(canvas.px(6.0))
        .margin_right(canvas.px(12.0))
        .y_label_area_size(canvas.px(58.0))
        .x_label_area_size(if with_x_labels {
            canvas.px(30.0)
        } else {
            canvas.px(4.0)
        });
    b
}

fn mesh<DB: DrawingBackend, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    canvas: &Surface<DB>,
    name: &str,
    x_labels: bool,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .light_line_style(canvas.theme().grid_light)
        .bold_line_style(canvas.theme().grid_bold)
        .axis_style(canvas.theme().ink)
        .x_labels(if x_labels { 6 } else { 0 })
        .y_labels(4)
        .y_desc(name)
        .x_desc(if x_labels { "t" } else { "" })
        .y_label_formatter(&|v| tick(*v))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(canvas.font(11.0))
        .axis_desc_style(canvas.font(13.0))
        .draw()
        .map_err(err)
}

fn marker<DB: DrawingBackend, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    canvas: &Surface<DB>,
    t: f64,
    (lo, hi): (f64, f64),
    value: Option<f64>,
) -> Result<(), String>
where
    Y: Ranged<ValueType = f64>,
{
    let style = canvas.theme().marker.mix(0.7).stroke_width(canvas.px(1.5));
    chart
        .draw_series(LineSeries::new([(t, lo), (t, hi)], style))
        .map_err(err)?;
    if let Some(v) = value {
        chart
            .draw_series(std::iter::once(Circle::new(
                (t, v),
                canvas.px(4.0),
                canvas.theme().marker.filled(),
            )))
            .map_err(err)?;
    }
    Ok(())
}

/// The schedule's numbers at the current t.
pub fn formula(scene: &Scene) -> String {
    let s = scene.schedule;
    let t = scene.params.t;
    if t == 0 {
        return format!(
            "t = 0 is the data itself: {}, no noise yet.",
            math("\\bar{α}_0 = 1")
        );
    }
    let ab = s.alpha_bar(t);
    [
        math(&format!("β_{t} = {}", num(s.beta(t)))),
        math(&format!("α_{t} = 1 - β_{t} = {}", num(1.0 - s.beta(t)))),
        math(&format!("\\bar{{α}}_{t} = ∏_{{s≤{t}}} α_s = {}", num(ab))),
        math(&format!(
            "SNR = \\bar{{α}}_{t} / (1 - \\bar{{α}}_{t}) = {}",
            num(s.snr(t))
        )),
    ]
    .join(", &nbsp; ")
}
