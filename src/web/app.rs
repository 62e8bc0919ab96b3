//! The page's state and its render cycle.
//!
//! Controls write a new [`Params`]; that schedules one redraw on the next animation frame, so
//! a burst of slider events costs one redraw. Start-up is synchronous for the charts (they need
//! no tensor backend) and asynchronous for burn, whose label appears when it is ready.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, PointerEvent};

use super::backend::Backend;
use super::canvas::{Canvas, Frame};
use super::controls;
use super::dom::{self, by_id, set_html, set_text};
use super::panels::{self, Scene};
use crate::data::{standard_normal, swiss_roll};
use crate::math::NoiseSchedule;
use crate::math::forward::Point;
use crate::params::{Panel, Params};

/// The number of Swiss-roll points the panels show.
pub const POINTS: usize = 2000;

/// How many redraw timings are kept for the benchmark.
const TIMINGS_KEPT: usize = 500;

thread_local! {
    static TIMINGS: RefCell<VecDeque<f64>> = const { RefCell::new(VecDeque::new()) };
}

/// The durations of the latest redraws in milliseconds.
pub fn render_timings() -> Vec<f64> {
    TIMINGS.with(|t| t.borrow().iter().copied().collect())
}

/// The one mutable state of the page.
pub struct App {
    params: Params,
    schedule: NoiseSchedule,
    /// The data and its fixed noise, regenerated only when the seed changes.
    data: Vec<Point<2>>,
    eps: Vec<Point<2>>,
    data_seed: u64,
    /// Where the posterior chart was last drawn, for mapping clicks to data.
    posterior_frame: Option<Frame>,
    backend: Option<Backend>,
    frame_pending: bool,
    dragging: bool,
}

type Shared = Rc<RefCell<App>>;

impl App {
    /// Reads the URL, draws every panel and wires the controls. Errors here mean the page's HTML
    /// does not match this code.
    pub fn start() -> Result<(), String> {
        let search = dom::window().location().search().unwrap_or_default();
        let (params, corrections) = Params::from_query(&search);
        show_corrections(&corrections);
        apply_panel_mode(params.panel)?;
        let (data, eps) = dataset(params.seed);
        let app = Rc::new(RefCell::new(App {
            schedule: params.schedule(),
            data_seed: params.seed,
            params,
            data,
            eps,
            posterior_frame: None,
            backend: None,
            frame_pending: false,
            dragging: false,
        }));
        controls::write(&app.borrow().params)?;
        app.borrow_mut().render();
        wire_controls(&app)?;
        wire_posterior_pointer(&app)?;
        wire_resize(&app);
        let training = super::training::start()?;
        wasm_bindgen_futures::spawn_local(start_backend(app, training));
        // Tests and embedding pages can wait for this instead of guessing.
        if let Some(body) = dom::document().body() {
            let _ = body.set_attribute("data-ready", "true");
        }
        Ok(())
    }

    /// Redraws every panel from the current params and records how long it took.
    fn render(&mut self) {
        let started = dom::now_ms();
        if self.data_seed != self.params.seed {
            (self.data, self.eps) = dataset(self.params.seed);
            self.data_seed = self.params.seed;
        }
        self.schedule = self.params.schedule();
        let scene = Scene {
            params: &self.params,
            schedule: &self.schedule,
            data: &self.data,
            eps: &self.eps,
        };
        let show = |panel: Panel| self.params.panel.is_none_or(|p| p == panel);

        if show(Panel::Schedule) {
            report(
                "schedule",
                Canvas::fit("schedule-canvas").and_then(|c| panels::schedule::draw(&scene, &c)),
            );
            set_html("schedule-formula", &panels::schedule::formula(&scene));
        }
        if show(Panel::Forward) {
            let x_t = panels::forward::noised(&scene);
            report(
                "forward",
                Canvas::fit("forward-canvas").and_then(|c| panels::forward::draw(&scene, &c, &x_t)),
            );
            set_html("forward-formula", &panels::forward::formula(&scene));
            let warning = panels::forward::warning(&scene);
            set_text("forward-warning", warning.as_deref().unwrap_or(""));
            set_hidden("forward-warning", warning.is_none());
        }
        if show(Panel::Posterior) {
            let post = panels::posterior::compute(&scene);
            let frame = Canvas::fit("posterior-canvas")
                .and_then(|c| panels::posterior::draw(&scene, &c, post.as_ref()));
            self.posterior_frame = frame.as_ref().ok().cloned();
            report("posterior", frame);
            set_html(
                "posterior-formula",
                &panels::posterior::formula(&scene, post.as_ref()),
            );
        }

        let elapsed = dom::now_ms() - started;
        TIMINGS.with(|t| {
            let mut t = t.borrow_mut();
            if t.len() == TIMINGS_KEPT {
                t.pop_front();
            }
            t.push_back(elapsed);
        });
        set_text("perf", &format!("redraw {elapsed:.1} ms"));
    }

    /// Replaces the params, mirrors them in the controls and the URL, and asks for a redraw.
    fn update(app: &Shared, params: Params) {
        let mut this = app.borrow_mut();
        if params == this.params {
            return;
        }
        this.params = params;
        if let Err(e) = controls::write(&this.params) {
            dom::show_fatal(&e);
        }
        write_url(&this.params);
        if !this.frame_pending {
            this.frame_pending = true;
            drop(this);
            request_frame(app);
        }
    }
}

/// The Swiss roll of a seed and its noise (from a different stream of the same seed).
fn dataset(seed: u64) -> (Vec<Point<2>>, Vec<Point<2>>) {
    (
        swiss_roll(POINTS, seed),
        standard_normal(POINTS, seed.wrapping_add(0x5eed)),
    )
}

fn request_frame(app: &Shared) {
    let app = app.clone();
    let callback = Closure::once_into_js(move |_: f64| {
        let mut this = app.borrow_mut();
        this.frame_pending = false;
        this.render();
    });
    if dom::window()
        .request_animation_frame(callback.unchecked_ref())
        .is_err()
    {
        dom::show_fatal("the browser refused an animation frame");
    }
}

/// Shows a panel's drawing error inside that panel, and clears it once it draws again.
fn report<T>(panel: &str, result: Result<T, String>) {
    let id = format!("{panel}-error");
    match result {
        Ok(_) => set_hidden(&id, true),
        Err(e) => {
            web_sys::console::error_1(&format!("{panel}: {e}").into());
            set_text(&id, &e);
            set_hidden(&id, false);
        }
    }
}

fn set_hidden(id: &str, hidden: bool) {
    if let Ok(el) = by_id::<HtmlElement>(id) {
        el.set_hidden(hidden);
    }
}

fn show_corrections(corrections: &[crate::params::Correction]) {
    if corrections.is_empty() {
        return;
    }
    let items: Vec<String> = corrections
        .iter()
        .map(|c| format!("<li><code>{}</code>: {}</li>", escape(&c.key), escape(&c.message)))
        .collect();
    set_html(
        "notices",
        &format!(
            "The link had values the page could not use as they were:<ul>{}</ul>",
            items.join("")
        ),
    );
    set_hidden("notices", false);
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `?panel=NAME`: the page shows that panel alone (for an iframe in a blog post).
fn apply_panel_mode(panel: Option<Panel>) -> Result<(), String> {
    let Some(panel) = panel else { return Ok(()) };
    let body = dom::document().body().ok_or("the page has no body")?;
    body.class_list()
        .add_1("embed")
        .map_err(|_| "cannot set the embed class")?;
    for other in Panel::ALL.into_iter().filter(|p| *p != panel) {
        set_hidden(&format!("panel-{}", other.name()), true);
    }
    Ok(())
}

fn write_url(params: &Params) {
    let query = params.to_query();
    let url = if query.is_empty() {
        dom::window().location().pathname().unwrap_or_default()
    } else {
        format!("?{query}")
    };
    if let Ok(history) = dom::window().history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

fn wire_controls(app: &Shared) -> Result<(), String> {
    for id in controls::IDS {
        let element: Element = by_id(id)?;
        let app = app.clone();
        let on_input = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let previous = app.borrow().params.clone();
            match controls::read(&previous, id) {
                Ok(params) => App::update(&app, params),
                Err(e) => dom::show_fatal(&e),
            }
        });
        element
            .add_event_listener_with_callback("input", on_input.as_ref().unchecked_ref())
            .map_err(|_| format!("cannot listen to #{id}"))?;
        // The page lives as long as its listeners: hand them to the browser.
        on_input.forget();
    }
    // Re-run the tensor check when a drag ends, not on every step of it.
    for id in ["t", "seed", "T", "b1", "bT", "kind"] {
        let element: Element = by_id(id)?;
        let app = app.clone();
        let on_change = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            wasm_bindgen_futures::spawn_local(run_backend_check(app.clone()));
        });
        element
            .add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref())
            .map_err(|_| format!("cannot listen to #{id}"))?;
        on_change.forget();
    }
    Ok(())
}

fn wire_posterior_pointer(app: &Shared) -> Result<(), String> {
    let canvas: HtmlElement = by_id("posterior-canvas")?;
    for event in ["pointerdown", "pointermove", "pointerup", "pointercancel"] {
        let app = app.clone();
        let target = canvas.clone();
        let handler = Closure::<dyn FnMut(PointerEvent)>::new(move |e: PointerEvent| {
            let kind = e.type_();
            {
                let mut this = app.borrow_mut();
                match kind.as_str() {
                    "pointerdown" => {
                        this.dragging = true;
                        let _ = target.set_pointer_capture(e.pointer_id());
                    }
                    "pointerup" | "pointercancel" => {
                        this.dragging = false;
                        return;
                    }
                    _ if !this.dragging => return,
                    _ => {}
                }
            }
            e.prevent_default();
            let Some(frame) = app.borrow().posterior_frame.clone() else {
                return;
            };
            let [x, y] = frame.to_data(e.offset_x() as f64, e.offset_y() as f64);
            let (lo, hi) = crate::params::bounds::PROBE;
            let mut params = app.borrow().params.clone();
            params.probe = [(x as f32).clamp(lo, hi), (y as f32).clamp(lo, hi)];
            App::update(&app, params);
        });
        canvas
            .add_event_listener_with_callback(event, handler.as_ref().unchecked_ref())
            .map_err(|_| format!("cannot listen to {event} on the posterior chart"))?;
        handler.forget();
    }
    Ok(())
}

fn wire_resize(app: &Shared) {
    let app = app.clone();
    let on_resize = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
        let pending = std::mem::replace(&mut app.borrow_mut().frame_pending, true);
        if !pending {
            request_frame(&app);
        }
    });
    let _ = dom::window().add_event_listener_with_callback("resize", on_resize.as_ref().unchecked_ref());
    on_resize.forget();
}

async fn start_backend(app: Shared, training: Rc<RefCell<super::training::Training>>) {
    set_text("backend", "starting burn…");
    let backend = Backend::init().await;
    set_text("backend", &format!("Backend: {}", backend.describe()));
    if let Ok(el) = by_id::<Element>("backend") {
        let _ = el.set_attribute("data-backend", backend.name());
    }
    super::training::set_device(&training, backend.device.clone());
    app.borrow_mut().backend = Some(backend);
    run_backend_check(app).await;
}

/// Recomputes the forward panel's points on the tensor backend and shows how far they are from
/// the math core's: proof that burn really runs in this page, on the backend it names.
async fn run_backend_check(app: Shared) {
    let (backend, schedule, data, eps, t) = {
        let this = app.borrow();
        let Some(backend) = this.backend.clone() else {
            return;
        };
        (
            backend,
            this.params.schedule(),
            this.data.clone(),
            this.eps.clone(),
            this.params.t,
        )
    };
    let status = match backend.check_forward(&schedule, &data, &eps, t).await {
        Ok(diff) if diff <= 1e-5 => {
            set_text(
                "backend-check",
                &format!(
                    "Tensor check: x_t of {} points computed on {} matches the math core (max |Δ| = {diff:.1e}, t = {t}).",
                    data.len(),
                    backend.name()
                ),
            );
            "ok"
        }
        Ok(diff) => {
            set_text(
                "backend-check",
                &format!("Tensor check failed on {}: max |Δ| = {diff:.1e}", backend.name()),
            );
            "mismatch"
        }
        Err(e) => {
            set_text(
                "backend-check",
                &format!("Tensor check failed on {}: {e}", backend.name()),
            );
            "error"
        }
    };
    if let Ok(el) = by_id::<Element>("backend-check") {
        let _ = el.set_attribute("data-state", status);
    }
}
