//! Chart legends whose labels are measured by the drawing backend.
//!
//! plotters' own legend (`configure_series_labels`) measures its labels with plotters' font
//! code, which in the browser adds an element to the page and reads its height: a forced layout
//! of the whole page for every label, 16 a redraw of the page (3.6 ms of a 24 ms redraw, and as
//! much again restyling). The backend measures text without touching the page (the canvas's
//! `measureText`, the bitmap's font). The box is laid out as plotters lays out its own, so
//! charts look as they did.

use plotters::coord::CoordTranslate;
use plotters::element::{DynElement, IntoDynElement};
use plotters::prelude::*;

use super::{Surface, err};

/// Where a legend sits in its chart's plotting area.
#[derive(Clone, Copy, Debug)]
pub enum Corner {
    UpperLeft,
    UpperRight,
    LowerLeft,
}

/// Space around the labels, the width of the keys' column, the gap to the plotting area's edge
/// and a line key's length, in CSS pixels (scaled like the labels' font).
const MARGIN: f64 = 10.0;
const KEY: f64 = 30.0;
const INSET: f64 = 5.0;
const LINE_KEY: f64 = 16.0;
/// Lines are this many font sizes apart.
const LINE_HEIGHT: f64 = 1.25;

/// A point in device pixels.
type Px = (i32, i32);

type Key<'a, DB> = Box<dyn Fn(Px) -> DynElement<'a, DB, Px> + 'a>;

/// A legend's entries: a label and the key drawn beside it, centred on the point given.
pub struct Legend<'a, DB: DrawingBackend> {
    entries: Vec<(String, Key<'a, DB>)>,
    font: TextStyle<'static>,
    /// Device pixels a CSS pixel (the screen's ratio and the theme's scale).
    unit: f64,
    paper: RGBColor,
    frame: RGBColor,
}

impl<'a, DB: DrawingBackend + 'a> Legend<'a, DB> {
    /// An empty legend for a chart on `canvas`.
    pub fn new(canvas: &Surface<DB>) -> Self {
        Self::sized(canvas, 12.0)
    }

    /// An empty legend whose labels are `size` CSS pixels high.
    pub fn sized(canvas: &Surface<DB>, size: f64) -> Self {
        Self {
            entries: Vec::new(),
            font: canvas.font(size),
            unit: canvas.dpr * canvas.theme().scale,
            paper: canvas.theme().paper,
            frame: canvas.theme().frame,
        }
    }

    /// An entry whose key is what `key` draws around the point it is given.
    pub fn add<E>(&mut self, label: impl Into<String>, key: impl Fn(Px) -> E + 'a)
    where
        E: IntoDynElement<'a, DB, Px>,
    {
        self.entries
            .push((label.into(), Box::new(move |at| key(at).into_dyn())));
    }

    /// An entry keyed by a dot of radius `2 r` in `color`.
    pub fn dot(&mut self, label: impl Into<String>, r: u32, color: RGBColor) {
        self.add(label, move |at| Circle::new(at, r * 2, color.filled()));
    }

    /// An entry keyed by a short line in `style`.
    pub fn line(&mut self, label: impl Into<String>, style: ShapeStyle) {
        let length = self.px(LINE_KEY);
        self.add(label, move |(x, y)| {
            PathElement::new([(x, y), (x + length, y)], style)
        });
    }

    /// CSS pixels in device pixels.
    fn px(&self, css: f64) -> i32 {
        (css * self.unit).round() as i32
    }

    /// Draws the box in a corner of the chart's plotting area.
    pub fn draw<CT: CoordTranslate>(
        &self,
        chart: &ChartContext<'a, DB, CT>,
        corner: Corner,
    ) -> Result<(), String> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let area = chart.plotting_area().strip_coord_spec();
        let font = &self.font;
        let (margin, key_w, inset) = (self.px(MARGIN), self.px(KEY), self.px(INSET));
        let line = (font.font.get_size() * LINE_HEIGHT).round() as i32;
        let sizes = self
            .entries
            .iter()
            .map(|(label, _)| area.estimate_text_size(label, font).map_err(err))
            .collect::<Result<Vec<(u32, u32)>, String>>()?;
        let text_w = sizes.iter().map(|s| s.0 as i32).max().unwrap_or(0);
        let text_h = sizes
            .iter()
            .enumerate()
            .map(|(i, s)| i as i32 * line + s.1 as i32)
            .max()
            .unwrap_or(0);
        let (w, h) = (text_w + key_w + 2 * margin, text_h + 2 * margin);
        let (area_w, area_h) = area.dim_in_pixel();
        let x = match corner {
            Corner::UpperLeft | Corner::LowerLeft => inset,
            Corner::UpperRight => area_w as i32 - w - inset,
        };
        let y = match corner {
            Corner::UpperLeft | Corner::UpperRight => inset,
            Corner::LowerLeft => area_h as i32 - h - inset,
        };
        let frame = [(x, y), (x + w, y + h)];
        area.draw(&Rectangle::new(frame, self.paper.mix(0.85).filled()))
            .map_err(err)?;
        area.draw(&Rectangle::new(frame, self.frame)).map_err(err)?;
        for (i, ((label, key), (_, text_h))) in self.entries.iter().zip(&sizes).enumerate() {
            let top = y + margin + i as i32 * line;
            area.draw_text(label, font, (x + margin + key_w, top))
                .map_err(err)?;
            area.draw(&key((x + margin, top + *text_h as i32 / 2)))
                .map_err(err)?;
        }
        Ok(())
    }
}
