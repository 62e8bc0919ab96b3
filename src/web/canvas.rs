//! Canvases that are sharp on high-DPI screens, and the map from a click back to data.
//!
//! plotters-canvas draws in the canvas's own pixels, so we size each canvas's backing store to
//! its CSS size times `devicePixelRatio` and draw in device pixels; text sizes and line widths
//! are scaled by the same ratio ([`Canvas::px`]).

use std::ops::Range;

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::dom;

/// A canvas prepared for one redraw.
pub struct Canvas {
    /// The element.
    pub element: HtmlCanvasElement,
    /// Device pixels per CSS pixel.
    pub dpr: f64,
}

impl Canvas {
    /// Fits the canvas's backing store to its displayed size (only when that changed, since
    /// resizing clears it and costs a reallocation).
    pub fn fit(id: &str) -> Result<Self, String> {
        let element: HtmlCanvasElement = dom::by_id(id)?;
        let dpr = dom::window().device_pixel_ratio().max(1.0);
        let css_w = element.client_width().max(1) as f64;
        let css_h = element.client_height().max(1) as f64;
        let (w, h) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
        if element.width() != w || element.height() != h {
            element.set_width(w);
            element.set_height(h);
        }
        Ok(Self { element, dpr })
    }

    /// A length given in CSS pixels, in device pixels.
    pub fn px(&self, css: f64) -> u32 {
        (css * self.dpr).round() as u32
    }

    /// A font of `css` CSS pixels.
    pub fn font(&self, css: f64) -> TextStyle<'static> {
        ("sans-serif", css * self.dpr)
            .into_font()
            .color(&RGBColor(60, 60, 60))
    }

    /// The plotters drawing area covering the whole canvas.
    pub fn area(&self) -> Result<DrawingArea<CanvasBackend, plotters::coord::Shift>, String> {
        CanvasBackend::with_canvas_object(self.element.clone())
            .map(|b| b.into_drawing_area())
            .ok_or_else(|| "this browser gave no 2-D canvas context".to_string())
    }
}

/// Draws thousands of dots of one colour as one canvas path with one fill, clipped to the
/// plotting area. Through plotters each dot costs several calls from wasm into JavaScript;
/// here a dot is one `arc` call, which keeps a redraw of 2,000 points within a frame.
pub fn dots(
    canvas: &Canvas,
    clip: &(Range<i32>, Range<i32>),
    pixels: impl IntoIterator<Item = (i32, i32)>,
    radius: u32,
    color: RGBColor,
    alpha: f64,
) -> Result<(), String> {
    let ctx = context(canvas)?;
    clip_to(&ctx, clip);
    ctx.begin_path();
    let r = radius as f64;
    for (x, y) in pixels {
        let (x, y) = (x as f64, y as f64);
        ctx.move_to(x + r, y);
        ctx.arc(x, y, r, 0.0, std::f64::consts::TAU).map_err(err)?;
    }
    let RGBColor(red, green, blue) = color;
    ctx.set_fill_style_str(&format!("rgba({red},{green},{blue},{alpha:.3})"));
    ctx.fill();
    ctx.restore();
    Ok(())
}

/// Draws many arrows of one colour as one stroked path (the shafts) and one filled path (the
/// heads): through plotters each arrow would cost two series and a dozen calls into JavaScript.
/// `segments` are `(from, to)` in device pixels; heads are `head` pixels long.
pub fn arrows(
    canvas: &Canvas,
    clip: &(Range<i32>, Range<i32>),
    segments: impl IntoIterator<Item = ((f64, f64), (f64, f64))>,
    head: f64,
    width: f64,
    color: RGBColor,
    alpha: f64,
) -> Result<(), String> {
    let ctx = context(canvas)?;
    clip_to(&ctx, clip);
    let segments: Vec<_> = segments.into_iter().collect();
    let RGBColor(red, green, blue) = color;
    let style = format!("rgba({red},{green},{blue},{alpha:.3})");
    ctx.begin_path();
    let mut heads = Vec::with_capacity(segments.len());
    for &((x0, y0), (x1, y1)) in &segments {
        let len = (x1 - x0).hypot(y1 - y0);
        if len < 0.5 {
            continue;
        }
        let h = head.min(len * 0.5);
        let (ux, uy) = ((x1 - x0) / len, (y1 - y0) / len);
        let base = (x1 - ux * h, y1 - uy * h);
        ctx.move_to(x0, y0);
        ctx.line_to(base.0, base.1);
        heads.push(((x1, y1), base, (-uy * h * 0.45, ux * h * 0.45)));
    }
    ctx.set_stroke_style_str(&style);
    ctx.set_line_width(width);
    ctx.stroke();
    ctx.begin_path();
    for (tip, base, (nx, ny)) in heads {
        ctx.move_to(tip.0, tip.1);
        ctx.line_to(base.0 + nx, base.1 + ny);
        ctx.line_to(base.0 - nx, base.1 - ny);
        ctx.close_path();
    }
    ctx.set_fill_style_str(&style);
    ctx.fill();
    ctx.restore();
    Ok(())
}

/// Saves the context's state and clips it to a chart's plotting area (undo with `restore`).
fn clip_to(ctx: &CanvasRenderingContext2d, (xs, ys): &(Range<i32>, Range<i32>)) {
    ctx.save();
    ctx.begin_path();
    ctx.rect(
        xs.start as f64,
        ys.start as f64,
        (xs.end - xs.start) as f64,
        (ys.end - ys.start) as f64,
    );
    ctx.clip();
}

fn context(canvas: &Canvas) -> Result<CanvasRenderingContext2d, String> {
    canvas
        .element
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        .ok_or_else(|| "this browser gave no 2-D canvas context".to_string())
}

/// Turns any plotters error into the page's error type.
pub fn err(e: impl std::fmt::Debug) -> String {
    format!("drawing failed: {e:?}")
}

/// Where a chart's plotting area lies on its canvas, to map pointer positions back to data.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// The plotting area in device pixels.
    pub px: Range<i32>,
    /// The plotting area in device pixels, top to bottom.
    pub py: Range<i32>,
    /// The data range along x.
    pub x: Range<f64>,
    /// The data range along y, bottom to top.
    pub y: Range<f64>,
    /// Device pixels per CSS pixel when it was drawn.
    pub dpr: f64,
}

impl Frame {
    /// The data point under a pointer at CSS offset `(x, y)` from the canvas's corner.
    pub fn to_data(&self, css_x: f64, css_y: f64) -> [f64; 2] {
        let (x, y) = (css_x * self.dpr, css_y * self.dpr);
        let fx = (x - self.px.start as f64) / (self.px.end - self.px.start).max(1) as f64;
        let fy = (y - self.py.start as f64) / (self.py.end - self.py.start).max(1) as f64;
        [
            self.x.start + fx * (self.x.end - self.x.start),
            self.y.end - fy * (self.y.end - self.y.start),
        ]
    }
}
