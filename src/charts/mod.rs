//! The charts. Each panel has a pure `draw` that renders a [`Scene`] onto any plotters backend
//! (the page's canvas, SVG for exports and `diffusion figure`, a bitmap for PNG and GIF) and a
//! `formula` that writes the panel's equation with the current numbers filled in. Nothing here
//! knows about the web or tensors.

mod chart;
pub mod describe;
pub mod digits;
pub mod elbo;
pub mod forward;
mod legend;
pub mod markup;
pub mod mathml;
pub mod posterior;
pub mod schedule;
pub mod score;
mod surface;
mod theme;
pub mod tradeoff;
pub mod training;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::data::{DataSet, standard_normal};
use crate::math::NoiseSchedule;
use crate::math::forward::Point;
use crate::params::Params;
pub use chart::Chart;
pub use legend::{Corner, Legend};
pub use surface::{Clip, FastMarks, Frame, Surface, arrows, dots, err};
pub use theme::{DARK, LIGHT, PROJECTOR, Theme};

/// The number of data points the panels show and the model trains on (as on the command line).
pub const POINTS: usize = 2000;

/// The data the 2-D panels show for a data set and seed, with each point's fixed noise (drawn
/// from a different stream of the same seed). Not for drawn data: the page holds those points.
pub fn cloud(set: DataSet, seed: u64) -> (Vec<Point<2>>, Vec<Point<2>>) {
    let data = set.generate(POINTS, seed);
    let eps = noise_for(data.len(), seed);
    (data, eps)
}

/// The fixed noise of `n` points: a prefix of one stream, so drawn points keep theirs as more
/// are added.
pub fn noise_for(n: usize, seed: u64) -> Vec<Point<2>> {
    standard_normal(n, seed.wrapping_add(0x5eed))
}

/// Everything a panel may show, derived from the `Params` of one moment.
pub struct Scene<'a> {
    /// The controls.
    pub params: &'a Params,
    /// The schedule they describe.
    pub schedule: &'a NoiseSchedule,
    /// The data set `x_0^i`.
    pub data: &'a [Point<2>],
    /// One fixed noise `eps^i` a data point: the same noise at every t, so points move
    /// continuously as t changes.
    pub eps: &'a [Point<2>],
    /// What the model trained in the page says about this view.
    pub model: ModelView<'a>,
}

/// The trained model's predictions for one view (one model version, `t` and probe point).
pub struct Learned {
    /// `(model version, t, probe)` they were computed for.
    pub key: (u64, usize, [f32; 2]),
    /// The mean of the model's reverse step at the probe, `mu_theta(x_t, t)`.
    pub mean: Point<2>,
    /// The learned score `-eps_theta / sqrt(1 - alpha_bar_t)` at each point of [`score::grid`].
    pub scores: Vec<Point<2>>,
}

/// Whether there is a model to compare with the exact answer.
pub enum ModelView<'a> {
    /// Nothing trained yet.
    Untrained,
    /// A model exists but answers another question; the reason is shown.
    Stale(&'static str),
    /// Its predictions for this view are being computed.
    Pending,
    /// Its predictions for this view.
    Ready(&'a Learned),
}

impl ModelView<'_> {
    /// The predictions, if they are ready.
    pub fn ready(&self) -> Option<&Learned> {
        match self {
            Self::Ready(l) => Some(l),
            _ => None,
        }
    }

    /// A sentence for a panel's formula line when there is nothing to compare yet.
    pub fn note(&self) -> &'static str {
        match self {
            Self::Untrained => "Train the model below to compare its prediction with the exact one.",
            Self::Stale(why) => why,
            Self::Pending => "Asking the model…",
            Self::Ready(_) => "",
        }
    }
}

/// An axis label: at most three significant digits, no trailing zeros (`0.5`, `0.02`, `1e-4`).
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let exponent = v.abs().log10().floor() as i32;
    if !(-3..4).contains(&exponent) {
        let mantissa = v / 10f64.powi(exponent);
        let m = format!("{mantissa:.2}");
        let m = m.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{exponent}");
    }
    let digits = (2 - exponent).max(0) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Four significant digits, as the formulas print numbers.
pub fn num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
        format!("{v:.digits$}")
    }
}

/// A chart of the data plane.
pub type PlaneChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The frame shared by the 2-D panels: the square `[-half, half]^2` with a light grid and
/// `labels` tick labels on each axis.
pub fn plane<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    canvas: &Surface<DB>,
    half: f64,
    labels: usize,
) -> Result<PlaneChart<'a, DB>, String> {
    plane_under(root, canvas, half, labels, "", |_| Ok(()))
}

/// [`plane`], with `under` drawn on the backdrop too: a layer that stays while a slider moves
/// (the data), kept with the paper and grid for as long as `key` names the same layer.
pub fn plane_under<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    canvas: &Surface<DB>,
    half: f64,
    labels: usize,
    key: &str,
    under: impl FnOnce(&PlaneChart<'a, DB>) -> Result<(), String>,
) -> Result<PlaneChart<'a, DB>, String> {
    let theme = canvas.theme();
    let mut chart = ChartBuilder::on(root)
        .margin(canvas.px(8.0))
        .x_label_area_size(canvas.px(24.0))
        .y_label_area_size(canvas.px(30.0))
        .build_cartesian_2d(-half..half, -half..half)
        .map_err(err)?;
    canvas.backdrop(&format!("plane {half} {labels} {key}"), || {
        root.fill(&theme.paper).map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(theme.grid_light)
            .bold_line_style(theme.grid_bold)
            .axis_style(theme.ink)
            .x_labels(labels)
            .y_labels(labels)
            .label_style(canvas.font(11.0))
            .draw()
            .map_err(err)?;
        under(&chart)
    })?;
    Ok(chart)
}

/// Where a plane chart's plotting area lies, for mapping clicks back to data.
pub fn plane_frame<DB: DrawingBackend>(chart: &PlaneChart<DB>, canvas: &Surface<DB>, half: f64) -> Frame {
    let (px, py) = chart.plotting_area().get_pixel_range();
    Frame {
        px,
        py,
        x: -half..half,
        y: -half..half,
        dpr: canvas.dpr,
    }
}

/// An arrow from `from` to `to` in data coordinates, with a head `head` long (at most half the
/// arrow), in `style`'s colour.
pub fn arrow<DB: DrawingBackend>(
    chart: &mut PlaneChart<DB>,
    from: (f64, f64),
    to: (f64, f64),
    head: f64,
    style: ShapeStyle,
) -> Result<(), String> {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1e-9 {
        return Ok(());
    }
    chart
        .draw_series(LineSeries::new([from, to], style))
        .map_err(err)?;
    let head = head.min(len * 0.5);
    let (ux, uy) = (dx / len, dy / len);
    let base = (to.0 - ux * head, to.1 - uy * head);
    let (nx, ny) = (-uy * head * 0.45, ux * head * 0.45);
    chart
        .draw_series(std::iter::once(Polygon::new(
            vec![to, (base.0 + nx, base.1 + ny), (base.0 - nx, base.1 - ny)],
            style.color.filled(),
        )))
        .map_err(err)?;
    Ok(())
}
