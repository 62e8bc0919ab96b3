//! One exact chart panel (schedule, forward, posterior, score) at one [`Scene`]: what it
//! computes, once, and then draws, writes as a formula and describes in words from that. The
//! page's redraw, its idle warm-up, its exports and `diffusion figure` all go through here, so
//! a panel is drawn the same way wherever it is drawn.

use plotters::prelude::DrawingBackend;

use super::{Frame, Scene, Surface, describe, forward, posterior, schedule, score};
use crate::math::exact::DataPosterior;
use crate::math::forward::Point;
use crate::params::Panel;

/// A chart panel's computed content.
pub enum Chart {
    /// The schedule's curves (computed as they are drawn).
    Schedule,
    /// `x_t` of every data point.
    Forward(Vec<Point<2>>),
    /// `Q(x_0 | x_t)` at the probe and what follows from it; `None` at t = 0 or without data.
    Posterior(Option<DataPosterior<2>>),
    /// The exact score field; `None` at t = 0 or without data.
    Score(Option<score::Field>),
}

impl Chart {
    /// What `panel` shows at `scene`; `None` for the panels that are not exact charts (the
    /// training and digits panels draw themselves).
    pub fn compute(panel: Panel, scene: &Scene) -> Option<Chart> {
        Some(match panel {
            Panel::Schedule => Chart::Schedule,
            Panel::Forward => Chart::Forward(forward::noised(scene)),
            Panel::Posterior => Chart::Posterior(posterior::compute(scene)),
            Panel::Score => Chart::Score(score::compute(scene)),
            Panel::Train | Panel::Digits => return None,
        })
    }

    /// Draws it on `surface`. The frame of the charts whose points the reader can pick with
    /// the pointer (forward and posterior), to map the pointer back to data.
    pub fn draw<DB: DrawingBackend>(
        &self,
        scene: &Scene,
        surface: &Surface<DB>,
    ) -> Result<Option<Frame>, String> {
        match self {
            Chart::Schedule => schedule::draw(scene, surface).map(|()| None),
            Chart::Forward(x_t) => forward::draw(scene, surface, x_t).map(Some),
            Chart::Posterior(post) => posterior::draw(scene, surface, post.as_ref()).map(Some),
            Chart::Score(field) => score::draw(scene, surface, field.as_ref()).map(|()| None),
        }
    }

    /// The panel's equation with the current numbers, as MathML markup.
    pub fn formula(&self, scene: &Scene) -> String {
        match self {
            Chart::Schedule => schedule::formula(scene),
            Chart::Forward(_) => forward::formula(scene),
            Chart::Posterior(post) => posterior::formula(scene, post.as_ref()),
            Chart::Score(field) => score::formula(scene, field.as_ref()),
        }
    }

    /// What the chart shows, in words (for screen readers).
    pub fn describe(&self, scene: &Scene) -> String {
        match self {
            Chart::Schedule => describe::schedule(scene),
            Chart::Forward(_) => describe::forward(scene),
            Chart::Posterior(post) => describe::posterior(scene, post.as_ref()),
            Chart::Score(field) => describe::score(scene, field.as_ref()),
        }
    }
}
