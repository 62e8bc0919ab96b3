//! Canvases that are sharp on high-DPI screens, and the map from a click back to data.
//!
//! plotters-canvas draws in the canvas's own pixels, so we size each canvas's backing store to
//! its CSS size times `devicePixelRatio` and draw in device pixels; text sizes and line widths
//! are scaled by the same ratio (see [`Surface`]). The canvas also draws the charts' many dots
//! and arrows as single paths ([`FastMarks`]).

use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontTransform,
};
use plotters_canvas::CanvasBackend;

/// plotters-canvas's error (a type it does not export by name).
type CanvasError = <CanvasBackend as DrawingBackend>::ErrorType;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::{dom, layout};
use crate::charts::{Clip, FastMarks, LIGHT, Surface, Theme, err};

thread_local! {
    /// The theme the page's canvases draw in (see `classroom`); exports stay in [`LIGHT`].
    static THEME: std::cell::Cell<&'static Theme> = const { std::cell::Cell::new(&LIGHT) };
}

/// Draws the page's canvases in `theme` from now on.
pub fn set_theme(theme: &'static Theme) {
    THEME.with(|t| t.set(theme));
}

/// The theme the page's canvases draw in.
pub fn theme() -> &'static Theme {
    THEME.with(|t| t.get())
}

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
        let (css_w, css_h) = layout::client_size(&element);
        let (css_w, css_h) = (css_w.max(1) as f64, css_h.max(1) as f64);
        let (w, h) = ((css_w * dpr).round() as u32, (css_h * dpr).round() as u32);
        if element.width() != w || element.height() != h {
            element.set_width(w);
            element.set_height(h);
        }
        Ok(Self { element, dpr })
    }

    /// The CSS size of the canvas with this id, in whole pixels.
    pub fn css_size(id: &str) -> Result<(u32, u32), String> {
        let element: HtmlCanvasElement = dom::by_id(id)?;
        let (w, h) = layout::client_size(&element);
        Ok((w.max(1) as u32, h.max(1) as u32))
    }

    /// A canvas outside the page, the CSS size of the chart `like` on the page and `scale`
    /// device pixels per CSS pixel: the same drawing at any resolution, for exports.
    pub fn detached(like: &str, scale: f64) -> Result<Self, String> {
        let on_page: HtmlCanvasElement = dom::by_id(like)?;
        let element: HtmlCanvasElement = dom::document()
            .create_element("canvas")
            .map_err(|_| "cannot make a canvas".to_string())?
            .dyn_into()
            .map_err(|_| "cannot make a canvas".to_string())?;
        let (w, h) = (
            on_page.client_width().max(1) as f64,
            on_page.client_height().max(1) as f64,
        );
        element.set_width((w * scale).round() as u32);
        element.set_height((h * scale).round() as u32);
        Ok(Self { element, dpr: scale })
    }

    /// The surface the charts draw on: plotters' canvas backend, with the canvas's own fast
    /// paths for dots and arrows.
    pub fn surface(&self) -> Result<Surface<'_, MeasuredCanvas>, String> {
        let backend = CanvasBackend::with_canvas_object(self.element.clone())
            .ok_or_else(|| "this browser gave no 2-D canvas context".to_string())?;
        let root = MeasuredCanvas {
            inner: backend,
            context: context(self)?,
            font: Default::default(),
        }
        .into_drawing_area();
        Ok(Surface::with_fast(root, self.dpr, self).themed(theme()))
    }

    /// [`Self::surface`] in the light theme whatever the page shows: what a download gets.
    pub fn export_surface(&self) -> Result<Surface<'_, MeasuredCanvas>, String> {
        Ok(self.surface()?.themed(&LIGHT))
    }
}

impl FastMarks for Canvas {
    /// A dot is one `arc` in one path with one fill, and the path is built by a loop in
    /// JavaScript: called from wasm, each `arc` cost as much again in the crossing. Dots on
    /// the same pixel are added once, since one path fills the union of its circles (the
    /// non-zero rule; only the antialiased rim of a stack differs, by at most 14 of 255 in a
    /// bare page), and dots pile up where many points land together: the posterior's partial
    /// targets at large t all fall within a few pixels.
    fn dots(
        &self,
        clip: &Clip,
        pixels: &mut dyn Iterator<Item = (i32, i32)>,
        radius: u32,
        color: RGBColor,
        alpha: f64,
    ) -> Result<(), String> {
        let ctx = context(self)?;
        clip_to(&ctx, clip);
        ctx.begin_path();
        let mut centres: Vec<(i32, i32)> = pixels.collect();
        centres.sort_unstable();
        centres.dedup();
        let xy: Vec<f32> = centres.iter().flat_map(|&(x, y)| [x as f32, y as f32]).collect();
        add_dots(&ctx, &xy, radius as f64);
        let RGBColor(red, green, blue) = color;
        ctx.set_fill_style_str(&format!("rgba({red},{green},{blue},{alpha:.3})"));
        ctx.fill();
        ctx.restore();
        Ok(())
    }

    /// One stroked path for the shafts and one filled path for the heads.
    fn arrows(
        &self,
        clip: &Clip,
        segments: &mut dyn Iterator<Item = ((f64, f64), (f64, f64))>,
        head: f64,
        width: f64,
        color: RGBColor,
        alpha: f64,
    ) -> Result<(), String> {
        let ctx = context(self)?;
        clip_to(&ctx, clip);
        let RGBColor(red, green, blue) = color;
        let style = format!("rgba({red},{green},{blue},{alpha:.3})");
        ctx.begin_path();
        let mut heads = Vec::new();
        for ((x0, y0), (x1, y1)) in segments {
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

    fn put_back(&self, key: &str) -> bool {
        let key = self.kept_key(key);
        KEPT.with(|kept| match kept.borrow().get(&self.element.id()) {
            Some((k, pixels)) if *k == key => context(self)
                .and_then(|ctx| {
                    ctx.draw_image_with_html_canvas_element(pixels, 0.0, 0.0)
                        .map_err(err)
                })
                .is_ok(),
            _ => false,
        })
    }

    fn keep(&self, key: &str) {
        // Only the page's own canvases: an export's is drawn once.
        let id = self.element.id();
        if id.is_empty() {
            return;
        }
        let copy = dom::document()
            .create_element("canvas")
            .ok()
            .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok());
        let Some(copy) = copy else { return };
        copy.set_width(self.element.width());
        copy.set_height(self.element.height());
        let copied = context_of(&copy).is_ok_and(|ctx| {
            ctx.draw_image_with_html_canvas_element(&self.element, 0.0, 0.0)
                .is_ok()
        });
        if copied {
            let key = self.kept_key(key);
            KEPT.with(|kept| kept.borrow_mut().insert(id, (key, copy)));
        }
    }
}

thread_local! {
    /// Each page canvas's kept backdrop (see [`Surface::backdrop`]): its key and its pixels.
    static KEPT: std::cell::RefCell<std::collections::HashMap<String, (String, HtmlCanvasElement)>> =
        Default::default();
}

impl Canvas {
    /// The key of a kept picture on this canvas: the chart's key and the canvas's size.
    fn kept_key(&self, key: &str) -> String {
        format!("{key} at {}x{}", self.element.width(), self.element.height())
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "
export function add_dots(ctx, xy, r) {
  for (let i = 0; i < xy.length; i += 2) {
    ctx.moveTo(xy[i] + r, xy[i + 1]);
    ctx.arc(xy[i], xy[i + 1], r, 0, 2 * Math.PI);
  }
}")]
extern "C" {
    /// Adds a circle of radius `r` around each point `(xy[2i], xy[2i + 1])` to the context's
    /// path.
    fn add_dots(ctx: &CanvasRenderingContext2d, xy: &[f32], r: f64);
}

/// Saves the context's state and clips it to a chart's plotting area (undo with `restore`).
fn clip_to(ctx: &CanvasRenderingContext2d, (xs, ys): &Clip) {
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
    context_of(&canvas.element)
}

fn context_of(element: &HtmlCanvasElement) -> Result<CanvasRenderingContext2d, String> {
    element
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        .ok_or_else(|| "this browser gave no 2-D canvas context".to_string())
}

/// A failed canvas call, as a drawing error (plotters-canvas's own error type has no public
/// constructor).
fn canvas_error(e: wasm_bindgen::JsValue) -> DrawingErrorKind<CanvasError> {
    DrawingErrorKind::FontError(format!("the canvas failed to draw text: {e:?}").into())
}

/// plotters' canvas backend, with text measured by the canvas itself (`measureText`) and the
/// font set only when it changes.
/// plotters measures text in the browser by adding a styled `<span>` to the page and reading
/// its size: a full layout of the page for every axis label, which was most of a redraw's time
/// (and needed `style-src-attr 'unsafe-inline'` in the page's Content-Security-Policy).
pub struct MeasuredCanvas {
    inner: CanvasBackend,
    context: CanvasRenderingContext2d,
    /// The font last given to the context: the browser parses a font string each time it is
    /// set (and restyles the page first if the page changed), and a chart sets the same one or
    /// two fonts for all of its labels.
    font: std::cell::RefCell<String>,
}

impl MeasuredCanvas {
    /// Sets the context's font to `style`'s, unless it already is.
    fn use_font<S: BackendTextStyle>(&self, style: &S) {
        let font = format!(
            "{} {}px {}",
            style.style().as_str(),
            style.size(),
            style.family().as_str(),
        );
        let mut last = self.font.borrow_mut();
        if *last != font {
            self.context.set_font(&font);
            *last = font;
        }
    }
}

impl DrawingBackend for MeasuredCanvas {
    type ErrorType = CanvasError;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        self.inner.fill_polygon(vert, style)
    }

    /// plotters-canvas's text, with the font set only when it changes.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<CanvasError>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let turn = match style.transform() {
            FontTransform::None => 0.0,
            FontTransform::Rotate90 => 0.25,
            FontTransform::Rotate180 => 0.5,
            FontTransform::Rotate270 => 0.75,
        } * std::f64::consts::TAU;
        let ctx = &self.context;
        let (mut x, mut y) = (f64::from(pos.0), f64::from(pos.1));
        if turn != 0.0 {
            ctx.save();
            ctx.translate(x, y).map_err(canvas_error)?;
            ctx.rotate(turn).map_err(canvas_error)?;
            (x, y) = (0.0, 0.0);
        }
        ctx.set_text_baseline(match style.anchor().v_pos {
            VPos::Top => "top",
            VPos::Center => "middle",
            VPos::Bottom => "bottom",
        });
        ctx.set_text_align(match style.anchor().h_pos {
            HPos::Left => "start",
            HPos::Right => "end",
            HPos::Center => "center",
        });
        let BackendColor {
            rgb: (r, g, b),
            alpha,
        } = color;
        ctx.set_fill_style_str(&format!("rgba({r},{g},{b},{alpha})"));
        self.use_font(style);
        ctx.fill_text(text, x, y).map_err(canvas_error)?;
        if turn != 0.0 {
            // `restore` brings back the font the context had at `save`.
            ctx.restore();
            self.font.borrow_mut().clear();
        }
        Ok(())
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<CanvasError>> {
        self.use_font(style);
        // Called through JavaScript: web-sys's `measure_text` needs a feature that would rebuild
        // the worker's wgpu for one call.
        let metrics = js_sys::Reflect::get(&self.context, &"measureText".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .and_then(|f| f.call1(&self.context, &text.into()).ok())
            .ok_or_else(|| DrawingErrorKind::FontError("the canvas cannot measure text".into()))?;
        let number = |key: &str| {
            js_sys::Reflect::get(&metrics, &key.into())
                .ok()
                .and_then(|v| v.as_f64())
                .filter(|v| v.is_finite())
        };
        let width = number("width").unwrap_or(0.0);
        // The font's box, as an inline box of the text would be tall.
        let height = match (number("fontBoundingBoxAscent"), number("fontBoundingBoxDescent")) {
            (Some(a), Some(d)) => a + d,
            _ => style.size() * 1.2,
        };
        Ok((width.ceil() as u32, height.ceil() as u32))
    }
}
