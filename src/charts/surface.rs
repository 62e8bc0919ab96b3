//! Where a chart is drawn: a plotters drawing area on any backend, the device pixels per CSS
//! pixel it is drawn at, and, where the backend has one, a faster way to draw thousands of
//! marks (the page's canvas draws 2,000 dots as one path; through plotters each dot costs
//! several calls from wasm into JavaScript).

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::theme::{LIGHT, Theme};

/// A chart's plotting area in device pixels: `(x range, y range)`.
pub type Clip = (Range<i32>, Range<i32>);

/// Marks drawn in one batch by a backend that can (the page's canvas).
pub trait FastMarks {
    /// Filled circles of one colour at these device pixels, clipped to `clip`.
    fn dots(
        &self,
        clip: &Clip,
        pixels: &mut dyn Iterator<Item = (i32, i32)>,
        radius: u32,
        color: RGBColor,
        alpha: f64,
    ) -> Result<(), String>;

    /// Arrows of one colour, `(from, to)` in device pixels, heads `head` pixels long.
    fn arrows(
        &self,
        clip: &Clip,
        segments: &mut dyn Iterator<Item = ((f64, f64), (f64, f64))>,
        head: f64,
        width: f64,
        color: RGBColor,
        alpha: f64,
    ) -> Result<(), String>;

    /// Puts back the picture kept by [`Self::keep`] under `key`, and says whether there was
    /// one (`key` names everything the picture depends on besides the backend's own size).
    fn put_back(&self, key: &str) -> bool;

    /// Keeps the picture as it is now under `key`, for [`Self::put_back`].
    fn keep(&self, key: &str);
}

/// A drawing area and the scale it is drawn at.
pub struct Surface<'a, DB: DrawingBackend> {
    root: DrawingArea<DB, Shift>,
    /// Device pixels per CSS pixel.
    pub dpr: f64,
    fast: Option<&'a dyn FastMarks>,
    theme: &'static Theme,
}

impl<'a, DB: DrawingBackend> Surface<'a, DB> {
    /// A surface whose marks are drawn through plotters.
    pub fn new(root: DrawingArea<DB, Shift>, dpr: f64) -> Self {
        Self {
            root,
            dpr,
            fast: None,
            theme: &LIGHT,
        }
    }

    /// A surface whose many marks are drawn by `fast`, straight onto the same pixels.
    pub fn with_fast(root: DrawingArea<DB, Shift>, dpr: f64, fast: &'a dyn FastMarks) -> Self {
        Self {
            root,
            dpr,
            fast: Some(fast),
            theme: &LIGHT,
        }
    }

    /// The same surface drawn in `theme` (every surface starts in [`LIGHT`]).
    pub fn themed(mut self, theme: &'static Theme) -> Self {
        self.theme = theme;
        self
    }

    /// The colours and scale the chart is drawn in.
    pub fn theme(&self) -> &'static Theme {
        self.theme
    }

    /// The whole drawing area.
    pub fn area(&self) -> Result<DrawingArea<DB, Shift>, String> {
        Ok(self.root.clone())
    }

    /// A length given in CSS pixels at the theme's normal size, in device pixels.
    pub fn px(&self, css: f64) -> u32 {
        (css * self.dpr * self.theme.scale).round() as u32
    }

    /// A font of `css` CSS pixels at the theme's normal size, in the theme's ink.
    pub fn font(&self, css: f64) -> TextStyle<'static> {
        ("sans-serif", css * self.dpr * self.theme.scale)
            .into_font()
            .color(&self.theme.ink)
    }

    /// Draws what `draw` draws: a chart's backdrop (its paper, grid, axes and their labels,
    /// which do not change while a slider moves). A backend that keeps pictures draws it once
    /// for each `key` and then puts the kept picture back: a copy of pixels instead of a
    /// hundred lines and a dozen labels.
    pub fn backdrop(&self, key: &str, draw: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
        let key = format!("{key} in {}", self.theme.name);
        match self.fast {
            Some(fast) if fast.put_back(&key) => Ok(()),
            Some(fast) => {
                draw()?;
                fast.keep(&key);
                Ok(())
            }
            None => draw(),
        }
    }

    /// A chart with nothing to show yet: `text` at the top left of the paper.
    pub fn note(&self, text: &str) -> Result<(), String> {
        let root = self.area()?;
        root.fill(&self.theme.paper).map_err(err)?;
        let at = (self.px(12.0) as i32, self.px(20.0) as i32);
        root.draw(&Text::new(text, at, self.font(13.0))).map_err(err)?;
        root.present().map_err(err)
    }
}

/// Draws many dots of one colour, clipped to the plotting area.
pub fn dots<DB: DrawingBackend>(
    surface: &Surface<DB>,
    clip: &Clip,
    pixels: impl IntoIterator<Item = (i32, i32)>,
    radius: u32,
    color: RGBColor,
    alpha: f64,
) -> Result<(), String> {
    let mut pixels = pixels.into_iter();
    if let Some(fast) = surface.fast {
        return fast.dots(clip, &mut pixels, radius, color, alpha);
    }
    let style = color.mix(alpha).filled();
    let inside = |(x, y): &(i32, i32)| clip.0.contains(x) && clip.1.contains(y);
    for p in pixels.filter(inside) {
        surface.root.draw(&Circle::new(p, radius, style)).map_err(err)?;
    }
    Ok(())
}

/// Draws many arrows of one colour: `segments` are `(from, to)` in device pixels, heads are
/// `head` pixels long.
pub fn arrows<DB: DrawingBackend>(
    surface: &Surface<DB>,
    clip: &Clip,
    segments: impl IntoIterator<Item = ((f64, f64), (f64, f64))>,
    head: f64,
    width: f64,
    color: RGBColor,
    alpha: f64,
) -> Result<(), String> {
    let mut segments = segments.into_iter();
    if let Some(fast) = surface.fast {
        return fast.arrows(clip, &mut segments, head, width, color, alpha);
    }
    let stroke = color.mix(alpha).stroke_width(width.round().max(1.0) as u32);
    let fill = color.mix(alpha).filled();
    let inside = |(x, y): (f64, f64)| clip.0.contains(&(x as i32)) && clip.1.contains(&(y as i32));
    let px = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
    for (from, to) in segments.filter(|(from, to)| inside(*from) && inside(*to)) {
        let len = (to.0 - from.0).hypot(to.1 - from.1);
        if len < 0.5 {
            continue;
        }
        let h = head.min(len * 0.5);
        let (ux, uy) = ((to.0 - from.0) / len, (to.1 - from.1) / len);
        let base = (to.0 - ux * h, to.1 - uy * h);
        let (nx, ny) = (-uy * h * 0.45, ux * h * 0.45);
        surface
            .root
            .draw(&PathElement::new(vec![px(from), px(base)], stroke))
            .map_err(err)?;
        let tip = vec![
            px(to),
            px((base.0 + nx, base.1 + ny)),
            px((base.0 - nx, base.1 - ny)),
        ];
        surface.root.draw(&Polygon::new(tip, fill)).map_err(err)?;
    }
    Ok(())
}

/// Turns any plotters error into the charts' error type.
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
