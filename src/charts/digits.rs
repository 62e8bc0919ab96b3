//! Digits as vector graphics: each pixel a grey square, black ink on white, laid out as the
//! page lays out its grids (for the digits panel's SVG export).

use plotters::prelude::*;

use super::{Surface, err};
use crate::data::mnist::{PIXELS, SIDE, to_byte};

/// Draws 28x28 images (values in `[-1, 1]`) in rows of `columns`, `zoom` pixels a pixel, with
/// `gap` pixels between images.
pub fn draw_grid<DB: DrawingBackend>(
    surface: &Surface<DB>,
    images: &[&[f32; PIXELS]],
    columns: usize,
    zoom: i32,
    gap: i32,
) -> Result<(), String> {
    let root = surface.area()?;
    root.fill(&WHITE).map_err(err)?;
    let cell = SIDE as i32 * zoom + gap;
    for (k, image) in images.iter().enumerate() {
        let (ox, oy) = ((k % columns) as i32 * cell, (k / columns) as i32 * cell);
        for (i, &v) in image.iter().enumerate() {
            let ink = to_byte(v);
            if ink == 0 {
                continue; // background: the page is white already
            }
            let (x, y) = (ox + (i % SIDE) as i32 * zoom, oy + (i / SIDE) as i32 * zoom);
            let grey = 255 - ink;
            root.draw(&Rectangle::new(
                [(x, y), (x + zoom, y + zoom)],
                RGBColor(grey, grey, grey).filled(),
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

/// The size in pixels of a grid of `n` images drawn by [`draw_grid`].
pub fn grid_size(n: usize, columns: usize, zoom: i32, gap: i32) -> (u32, u32) {
    let cell = (SIDE as i32 * zoom + gap) as u32;
    let rows = n.div_ceil(columns.max(1)) as u32;
    (columns.min(n.max(1)) as u32 * cell, rows * cell)
}
