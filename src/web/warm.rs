//! Runs the drawing code of a drag while the page is idle, before the reader first drags.
//!
//! Chromium compiles WebAssembly first with its baseline compiler and recompiles a function
//! with its optimising compiler only once it has run for a while (dynamic tiering); the
//! JavaScript glue the canvas calls go through tiers up the same way. So the reader's first
//! drag of t ran the charts in baseline code. Measured on a 2-core machine with every panel on
//! screen, its first 40 frames took 10 to 40 ms a redraw against 7 ms later on, and the first
//! drag's p95 was 11 to 13 ms against 9 to 10 ms for a second drag.
//!
//! After the first render, in the browser's idle time, this draws each shown chart panel at
//! other steps onto canvases outside the page, [`ROUNDS`] times, with their formulas and
//! descriptions written but not shown: the code a drag runs, optimised before the reader
//! reaches for a slider. Every other round draws the posterior and score panels as beside a
//! trained model (a stand-in), the code of the redraws while a model trains: the first of
//! those took 15 to 28 ms, and with the page's layout and the canvases' commit in the same
//! frame it was the one main-thread task over 50 ms while the model trained. Nothing on the
//! page changes. It pauses while the reader moves a control (their own redraws do the same work
//! then) and ends after its rounds.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use super::app::App;
use super::canvas::Canvas;
use super::dom;
use crate::params::Panel;

/// How often each panel is drawn. Measured: the first drag's slow frames ended after about
/// 40 redraws; each round costs every panel's redraw once (about 8 ms, more before the code
/// is optimised), spread over idle periods.
const ROUNDS: usize = 40;
/// Idle time a job needs: one panel's drawing takes 1 to 3 ms once optimised, up to 20 before.
const SLICE_MS: f64 = 8.0;
/// How long after the reader last moved a control the warm-up waits.
const QUIET_MS: f64 = 500.0;

thread_local! {
    /// When the reader last changed what the charts show.
    static LAST_CHANGE: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
    /// Drawings still to do.
    static LEFT: Cell<usize> = const { Cell::new(0) };
}

#[wasm_bindgen(inline_js = "
export function when_idle(f) {
  if (self.requestIdleCallback) requestIdleCallback((d) => f(d.timeRemaining()));
  else setTimeout(() => f(10), 200);
}")]
extern "C" {
    /// Calls `f` with the milliseconds of idle time it has, when the browser is idle.
    fn when_idle(f: &JsValue);
}

/// How many panel drawings the warm-up has still to do (0 once it has ended).
pub fn left() -> usize {
    LEFT.with(Cell::get)
}

/// The reader changed what the charts show: the warm-up waits.
pub fn reader_moved() {
    LAST_CHANGE.with(|c| c.set(dom::now_ms()));
}

struct Warm {
    app: Rc<RefCell<App>>,
    /// Each panel with where, from 0 (t = 1) to 1 (t = T), it is drawn next, and whether as
    /// beside a trained model.
    jobs: VecDeque<(Panel, f64, bool)>,
    /// One canvas outside the page for each panel, the size of the panel's own.
    canvases: Vec<(Panel, Canvas)>,
}

/// Starts warming the drawing of `panels`.
pub fn start(app: Rc<RefCell<App>>, panels: &[Panel]) {
    let dpr = dom::window().device_pixel_ratio().max(1.0);
    let canvases = panels
        .iter()
        .filter_map(|&panel| {
            let like = match panel {
                Panel::Digits => "digits-forward".to_string(),
                panel => format!("{}-canvas", panel.name()),
            };
            Canvas::detached(&like, dpr).ok().map(|canvas| (panel, canvas))
        })
        .collect();
    // Steps spread over the schedule by the golden ratio, so no two rounds draw alike.
    let jobs = (0..ROUNDS)
        .flat_map(|round| {
            let at = (round as f64 * 0.618_034).fract();
            panels.iter().map(move |&panel| (panel, at, round % 2 == 1))
        })
        .collect();
    let warm = Rc::new(RefCell::new(Warm { app, jobs, canvases }));
    LEFT.with(|l| l.set(warm.borrow().jobs.len()));
    next(warm);
}

fn next(warm: Rc<RefCell<Warm>>) {
    when_idle(&Closure::once_into_js(move |idle_ms: f64| run(warm, idle_ms)));
}

/// Draws panels while the idle period lasts.
fn run(warm: Rc<RefCell<Warm>>, idle_ms: f64) {
    let deadline = dom::now_ms() + idle_ms;
    if dom::now_ms() - LAST_CHANGE.with(Cell::get) >= QUIET_MS {
        while deadline - dom::now_ms() >= SLICE_MS {
            let mut this = warm.borrow_mut();
            let Some((panel, at, model)) = this.jobs.pop_front() else {
                return;
            };
            LEFT.with(|l| l.set(this.jobs.len()));
            let Some((_, canvas)) = this.canvases.iter().find(|(p, _)| *p == panel) else {
                continue;
            };
            // The page's state may be borrowed elsewhere only inside another task, never now.
            let drawn = this.app.borrow().warm(panel, at, model, canvas);
            if let Err(e) = drawn {
                // A drawing error shows in the panel when it is drawn for real; here it only
                // ends the warm-up of that panel.
                web_sys::console::warn_1(&format!("warm-up of {}: {e}", panel.name()).into());
                this.jobs.retain(|(p, ..)| *p != panel);
                LEFT.with(|l| l.set(this.jobs.len()));
            }
        }
    }
    next(warm);
}
