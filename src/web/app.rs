//! The page's state and its render cycle.
//!
//! Controls write a new [`Params`]; that schedules one redraw on the next animation frame, so
//! a burst of slider events costs one redraw. Start-up is synchronous for the charts (they need
//! no tensor backend) and asynchronous for burn, which starts in the page's worker when a panel
//! on screen needs it (never in an embed of a chart), and whose label appears when it is ready.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, PointerEvent};

use super::canvas::Canvas;
use super::classroom::describe;
use super::controls;
use super::dom::{self, by_id, set_formula, set_hidden, set_html, set_text};
use super::layout;
use super::training;
use crate::charts::{self as panels, Learned, ModelView, Scene};
use crate::charts::{Chart, Frame, Surface};
use crate::data::{DataSet, standard_normal};
use crate::math::NoiseSchedule;
use crate::math::forward::Point;
use crate::params::{Panel, Params, TrainDevice};
use crate::protocol::{Race, Reply, Request, flatten};
use crate::sampling::interpret;
use plotters::prelude::{DrawingBackend, IntoDrawingArea, SVGBackend};

/// The most points a reader may draw.
const MAX_DRAWN: usize = 3000;
/// Points added around the pointer for each pointer event while drawing, and their spread.
const DRAWN_PER_EVENT: usize = 3;
const DRAWN_SPREAD: f32 = 0.03;

/// How many redraw timings are kept for the benchmark.
const TIMINGS_KEPT: usize = 500;

thread_local! {
    static TIMINGS: RefCell<VecDeque<f64>> = const { RefCell::new(VecDeque::new()) };
    /// Milliseconds of each part of the latest redraw, for the benchmark's breakdown.
    static PARTS: RefCell<Vec<(&'static str, f64)>> = const { RefCell::new(Vec::new()) };
}

/// The parts of the latest redraw and their milliseconds, in the order drawn.
pub fn render_parts() -> Vec<(&'static str, f64)> {
    PARTS.with(|p| p.borrow().clone())
}

/// Times the redraw's parts.
struct Stopwatch {
    last: f64,
    parts: Vec<(&'static str, f64)>,
}

impl Stopwatch {
    fn start() -> Self {
        Self {
            last: dom::now_ms(),
            parts: Vec::new(),
        }
    }

    /// Ends the part called `name`.
    fn lap(&mut self, name: &'static str) {
        let now = dom::now_ms();
        self.parts.push((name, now - self.last));
        self.last = now;
    }
}

/// The panels the page's redraw draws (the training and digit panels draw themselves, but the
/// digits panel's forward noising and trade-off marks follow the page's t).
const CHART_PANELS: [Panel; 5] = [
    Panel::Schedule,
    Panel::Forward,
    Panel::Posterior,
    Panel::Digits,
    Panel::Score,
];

/// An exact chart panel's elements on the page, and the names of its parts of a redraw.
struct Elements {
    canvas: &'static str,
    formula: &'static str,
    desc: &'static str,
    compute: &'static str,
    draw: &'static str,
}

/// See [`Elements`] (the training and digits panels have their own, and draw themselves).
fn elements(chart: &Chart) -> Elements {
    macro_rules! of {
        ($name:literal) => {
            Elements {
                canvas: concat!($name, "-canvas"),
                formula: concat!($name, "-formula"),
                desc: concat!($name, "-desc"),
                compute: concat!($name, ": compute"),
                draw: concat!($name, ": draw"),
            }
        };
    }
    match chart {
        Chart::Schedule => of!("schedule"),
        Chart::Forward(_) => of!("forward"),
        Chart::Posterior(_) => of!("posterior"),
        Chart::Score(_) => of!("score"),
    }
}

/// Whether the element with this id is a chart panel's (`panel-forward`, `forward-canvas`).
fn shows(panel: Panel, id: &str) -> bool {
    let name = panel.name();
    id.strip_prefix("panel-") == Some(name) || id.strip_prefix(name).is_some_and(|rest| rest.starts_with('-'))
}

/// Adds `panel` to a list of panels unless it is there already.
fn add_once(panels: &mut Vec<Panel>, panel: Panel) {
    if !panels.contains(&panel) {
        panels.push(panel);
    }
}

/// The durations of the latest redraws in milliseconds.
pub fn render_timings() -> Vec<f64> {
    TIMINGS.with(|t| t.borrow().iter().copied().collect())
}

/// The one mutable state of the page.
pub struct App {
    params: Params,
    schedule: NoiseSchedule,
    /// The data and its fixed noise, regenerated only when the data set or the seed changes.
    data: Vec<Point<2>>,
    eps: Vec<Point<2>>,
    data_key: (DataSet, u64),
    /// The drawn points changed: rebuild `data` on the next render.
    data_stale: bool,
    /// Bumped whenever `data` changes, so a model trained on other data is not compared with it.
    data_version: u64,
    /// The points the reader drew (kept when they look at another data set and come back).
    drawn: Vec<Point<2>>,
    /// Where the posterior and forward charts were last drawn, for mapping pointers to data.
    posterior_frame: Option<Frame>,
    forward_frame: Option<Frame>,
    /// The trained model's predictions at the current view, and whether some are being computed.
    learned: Option<Learned>,
    learned_pending: bool,
    /// Panels skipped by the last redraw because they were off screen.
    stale: Vec<Panel>,
    backend: Option<Backend>,
    frame_pending: bool,
    /// The chart panels the next frame redraws, and those the frame after it redraws.
    frame_panels: Vec<Panel>,
    later_panels: Vec<Panel>,
    dragging: bool,
}

type Shared = Rc<RefCell<App>>;

impl App {
    /// Reads the URL, draws every panel and wires the controls. Errors here mean the page's HTML
    /// does not match this code.
    pub fn start() -> Result<(), String> {
        let search = dom::window().location().search().unwrap_or_default();
        let (params, corrections) = Params::from_query(&search);
        show_corrections(
            "The link had values the page could not use as they were:",
            &corrections,
        );
        if !corrections.is_empty() {
            // The address bar then holds the state the page shows, not the link's bad values.
            write_url(&params);
        }
        apply_panel_mode(params.view.panel)?;
        super::classroom::apply_theme(params.view.projector);
        let (data, eps) = dataset(params.data, params.seed, &[]);
        let app = Rc::new(RefCell::new(App {
            schedule: params.schedule(),
            data_key: (params.data, params.seed),
            data_stale: false,
            data_version: 1,
            drawn: Vec::new(),
            params,
            data,
            eps,
            posterior_frame: None,
            forward_frame: None,
            learned: None,
            learned_pending: false,
            stale: Vec::new(),
            backend: None,
            frame_pending: false,
            frame_panels: Vec::new(),
            later_panels: Vec::new(),
            dragging: false,
        }));
        controls::write(&app.borrow().params)?;
        app.borrow_mut().render(&CHART_PANELS);
        wire_controls(&app)?;
        wire_posterior_pointer(&app)?;
        wire_drawing(&app)?;
        wire_resize(&app);
        let source = {
            let app = app.clone();
            Box::new(move || {
                let this = app.borrow();
                (this.data.clone(), this.params.clone(), this.data_version)
            })
        };
        let on_model = {
            let app = app.clone();
            Box::new(move || App::redraw_model(&app))
        };
        let on_chain = {
            let app = app.clone();
            Box::new(move |chain: Option<usize>| {
                let mut params = App::params(&app);
                params.chain = chain;
                App::update(&app, params);
            })
        };
        let training = training::start(source, on_model, on_chain)?;
        training::show_chain(&training, app.borrow().params.chain);
        let digit_settings = {
            let app = app.clone();
            Box::new(move || App::params(&app))
        };
        let digits = super::digits::start(digit_settings)?;
        if let Some(panel) = app.borrow().params.view.panel {
            super::visibility::watch_embedded(&format!("panel-{}", panel.name()));
        }
        super::embed::start(app.clone(), training.clone(), digits.clone());
        super::share::start(&app)?;
        super::export::start(&app)?;
        super::export::wire_import(&app, &training)?;
        super::classroom::start(&app)?;
        super::elbo::start()?;
        super::tour::start(&app)?;
        let warmed: Vec<Panel> = CHART_PANELS
            .into_iter()
            .filter(|&panel| app.borrow().params.view.panel.is_none_or(|p| p == panel))
            .collect();
        super::warm::start(app.clone(), &warmed);
        if app.borrow().params.view.panel.is_none_or(|p| p == Panel::Digits) {
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                super::digits::load_sweep().await;
                App::redraw(&app);
            });
        }
        wasm_bindgen_futures::spawn_local(start_backend(app, training, digits));
        // Tests and embedding pages can wait for this instead of guessing.
        if let Some(body) = dom::document().body() {
            let _ = body.set_attribute("data-ready", "true");
        }
        Ok(())
    }

    /// Redraws `panels` (those of them shown) from the current params and records how long
    /// it took.
    fn render(&mut self, panels: &[Panel]) {
        let started = dom::now_ms();
        let mut watch = Stopwatch::start();
        self.refresh_data();
        let model = model_view(&self.learned, &self.schedule, self.data_version, &self.params);
        let scene = Scene {
            params: &self.params,
            schedule: &self.schedule,
            data: &self.data,
            eps: &self.eps,
            model,
        };
        // A panel is drawn when it is shown and on screen; one scrolled away is only marked
        // stale, and drawn when it comes near the window (see `layout::on_change`).
        let mut stale = std::mem::take(&mut self.stale);
        let embedded = self.params.view.panel;
        let shown: Vec<Panel> = CHART_PANELS
            .into_iter()
            .filter(|&panel| {
                let wanted = panels.contains(&panel) && embedded.is_none_or(|p| p == panel);
                let near = wanted && layout::near_window(&format!("panel-{}", panel.name()));
                if wanted && !near {
                    add_once(&mut stale, panel);
                }
                near
            })
            .collect();
        stale.retain(|panel| !shown.contains(panel));
        let show = |panel| shown.contains(&panel);
        watch.lap("data and model");

        // The canvases first, then the page's text: drawing text on a canvas after the page's
        // text changed makes the browser restyle the page first (it resolves the canvas's font
        // against it), once for every panel.
        let mut charts = Vec::new();
        for &panel in &shown {
            let Some(chart) = Chart::compute(panel, &scene) else {
                if panel == Panel::Digits {
                    super::digits::draw_forward(&self.schedule, self.params.t);
                    super::digits::draw_tradeoff(&self.params);
                    watch.lap("digits");
                }
                continue;
            };
            let ids = elements(&chart);
            watch.lap(ids.compute);
            let frame = Canvas::fit(ids.canvas).and_then(|c| chart.draw(&scene, &c.surface()?));
            match panel {
                Panel::Forward => self.forward_frame = frame.as_ref().ok().cloned().flatten(),
                Panel::Posterior => self.posterior_frame = frame.as_ref().ok().cloned().flatten(),
                _ => {}
            }
            report(panel.name(), frame);
            watch.lap(ids.draw);
            charts.push(chart);
        }
        for chart in &charts {
            let ids = elements(chart);
            set_formula(ids.formula, &chart.formula(&scene));
            describe(ids.desc, chart.describe(&scene));
        }
        if show(Panel::Forward) {
            let drawing = self.params.data == DataSet::Drawn;
            set_hidden("drawing-tools", !drawing);
            if let Some(body) = dom::document().body() {
                let _ = body.class_list().toggle_with_force("drawing-mode", drawing);
            }
            if drawing {
                set_text(
                    "drawing-count",
                    &format!("{} points drawn (at most {MAX_DRAWN})", self.data.len()),
                );
            }
            let warning = panels::forward::warning(&scene);
            set_text("forward-warning", warning.as_deref().unwrap_or(""));
            set_hidden("forward-warning", warning.is_none());
        }
        watch.lap("text");

        self.stale = stale;
        PARTS.with(|p| *p.borrow_mut() = watch.parts);
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

    /// Regenerates the data, its noise and the schedule when the params or the drawing changed.
    fn refresh_data(&mut self) {
        if self.data_stale || self.data_key != (self.params.data, self.params.seed) {
            self.data_stale = false;
            (self.data, self.eps) = dataset(self.params.data, self.params.seed, &self.drawn);
            self.data_key = (self.params.data, self.params.seed);
            self.data_version += 1;
            training::data_changed();
        }
        self.schedule = self.params.schedule();
    }

    /// Draws one chart panel as it is now onto a new canvas, `scale` device pixels per CSS
    /// pixel of the chart on the page (for exports at more than the screen's resolution).
    pub fn draw_detached(&self, panel: Panel, scale: f64) -> Result<web_sys::HtmlCanvasElement, String> {
        let canvas = Canvas::detached(&format!("{}-canvas", panel.name()), scale)?;
        self.draw_chart(panel, &canvas.export_surface()?)?;
        Ok(canvas.element)
    }

    /// Draws `panel` as it would be at the step `at` of the way from t = 1 (0) to T (1) onto
    /// `canvas`, a canvas outside the page, and writes its formula and description without
    /// showing them: the work of a redraw while t moves, for [`super::warm`]. With `model`,
    /// the posterior and score panels are drawn as beside a trained model's predictions (a
    /// stand-in: the score of a standard normal), the work of the redraws while a model trains.
    /// Nothing on the page changes.
    pub fn warm(&self, panel: Panel, at: f64, model: bool, canvas: &Canvas) -> Result<(), String> {
        let mut params = self.params.clone();
        let last = self.schedule.steps();
        params.t = (1 + (at.clamp(0.0, 1.0) * (last - 1) as f64).round() as usize).min(last);
        let stand_in = model.then(|| Learned {
            key: (0, params.t, params.probe),
            mean: params.probe.map(|v| 0.9 * v),
            scores: panels::score::grid().iter().map(|x| x.map(|v| -v)).collect(),
        });
        let scene = Scene {
            params: &params,
            model: stand_in
                .as_ref()
                .map_or_else(|| self.scene().model, ModelView::Ready),
            ..self.scene()
        };
        let Some(chart) = Chart::compute(panel, &scene) else {
            return match panel {
                Panel::Digits => super::digits::warm_forward(&self.schedule, params.t, &canvas.element),
                _ => Ok(()),
            };
        };
        chart.draw(&scene, &canvas.surface()?)?;
        let (formula, words) = (chart.formula(&scene), chart.describe(&scene));
        // What `set_formula` does before it touches the page.
        std::hint::black_box((crate::charts::markup::Markup::parse(&formula), words));
        Ok(())
    }

    /// One chart panel as SVG, at the size it has on the page, drawn by the same code through
    /// plotters' SVG backend.
    pub fn svg(&self, panel: Panel) -> Result<String, String> {
        let (w, h) = Canvas::css_size(&format!("{}-canvas", panel.name()))?;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            self.draw_chart(panel, &Surface::new(root, 1.0))?;
        }
        Ok(svg)
    }

    /// Draws a chart panel on any surface.
    fn draw_chart<DB: DrawingBackend>(&self, panel: Panel, surface: &Surface<DB>) -> Result<(), String> {
        let scene = self.scene();
        let chart = Chart::compute(panel, &scene).ok_or_else(|| format!("{} draws itself", panel.name()))?;
        chart.draw(&scene, surface).map(drop)
    }

    /// The numbers a chart panel shows, as CSV with a header row.
    pub fn csv(&self, panel: Panel) -> Option<String> {
        let scene = self.scene();
        let mut out = String::new();
        match panel {
            Panel::Schedule => {
                out.push_str("t,beta,alpha_bar,snr\n");
                for t in 1..=self.schedule.steps() {
                    let s = &self.schedule;
                    out.push_str(&format!("{t},{},{},{}\n", s.beta(t), s.alpha_bar(t), s.snr(t)));
                }
            }
            Panel::Forward => {
                out.push_str("x0_1,x0_2,xt_1,xt_2\n");
                for (x0, xt) in self.data.iter().zip(panels::forward::noised(&scene)) {
                    out.push_str(&format!("{},{},{},{}\n", x0[0], x0[1], xt[0], xt[1]));
                }
            }
            Panel::Posterior => {
                let post = panels::posterior::compute(&scene)?;
                let (t, x_t) = (self.params.t, self.params.probe);
                out.push_str("x0_1,x0_2,weight,partial_target_1,partial_target_2\n");
                for (x0, w) in self.data.iter().zip(&post.weights) {
                    let mu = self.schedule.posterior_mean(&x_t, x0, t);
                    out.push_str(&format!("{},{},{w},{},{}\n", x0[0], x0[1], mu[0], mu[1]));
                }
            }
            Panel::Score => {
                let field = panels::score::compute(&scene)?;
                let learned = scene.model.ready().map(|l| l.scores.as_slice());
                out.push_str("x_1,x_2,exact_score_1,exact_score_2,learned_score_1,learned_score_2\n");
                for (i, (x, e)) in panels::score::grid().iter().zip(&field.exact).enumerate() {
                    let l = learned.and_then(|l| l.get(i));
                    let (l1, l2) = l.map_or((String::new(), String::new()), |l| {
                        (l[0].to_string(), l[1].to_string())
                    });
                    out.push_str(&format!("{},{},{},{},{l1},{l2}\n", x[0], x[1], e[0], e[1]));
                }
            }
            Panel::Train | Panel::Digits => return None,
        }
        Some(out)
    }

    /// What the chart panels draw, from the current state.
    fn scene(&self) -> Scene<'_> {
        Scene {
            params: &self.params,
            schedule: &self.schedule,
            data: &self.data,
            eps: &self.eps,
            model: model_view(&self.learned, &self.schedule, self.data_version, &self.params),
        }
    }

    /// Replaces the params, mirrors them in the controls and the URL, and asks for a redraw
    /// when something the charts show changed (a training or digits setting does not move
    /// them).
    pub fn update(app: &Shared, params: Params) {
        let mut this = app.borrow_mut();
        if params == this.params {
            return;
        }
        let charts = charts_differ(&this.params, &params);
        if charts {
            super::engine::reader_busy();
            super::warm::reader_moved();
        }
        let digits = this.params.digits != params.digits;
        this.params = params;
        // Now, not at the next frame: the training panel may read the data at once.
        this.refresh_data();
        if let Err(e) = controls::write(&this.params) {
            dom::show_fatal(&e);
        }
        write_url(&this.params);
        let params = digits.then(|| this.params.clone());
        drop(this);
        if let Some(params) = params {
            // Moves the trade-off chart's marks (it draws only when something it shows changed).
            super::digits::draw_tradeoff(&params);
        }
        if charts {
            App::redraw(app);
        }
    }

    /// The current params.
    pub fn params(app: &Shared) -> Params {
        app.borrow().params.clone()
    }
}

/// Whether two views differ in anything the chart panels draw.
fn charts_differ(a: &Params, b: &Params) -> bool {
    (a.kind, a.steps, a.t, a.data, a.seed, a.probe) != (b.kind, b.steps, b.t, b.data, b.seed, b.probe)
        || (a.beta_start, a.beta_end) != (b.beta_start, b.beta_end)
}

impl App {
    /// Asks for a redraw on the next frame (once, however often it is asked).
    pub fn redraw(app: &Shared) {
        App::redraw_panels(app, &CHART_PANELS);
    }

    /// Redraws the panels that show the trained model's predictions (a new model, or its
    /// predictions for the view): the posterior on the next frame and the score field on the
    /// frame after. While the model trains, the worker takes one core; redrawing every panel,
    /// or both of these in one frame, made that frame a task of 50-70 ms.
    fn redraw_model(app: &Shared) {
        {
            let mut this = app.borrow_mut();
            if !this.frame_panels.contains(&Panel::Score) {
                add_once(&mut this.later_panels, Panel::Score);
            }
        }
        App::redraw_panels(app, &[Panel::Posterior]);
    }

    /// Asks for a redraw of some panels on the next frame.
    fn redraw_panels(app: &Shared, panels: &[Panel]) {
        let pending = {
            let mut this = app.borrow_mut();
            for &panel in panels {
                add_once(&mut this.frame_panels, panel);
            }
            std::mem::replace(&mut this.frame_pending, true)
        };
        if !pending {
            request_frame(app);
        }
    }

    /// What the model's predictions for the current view need, if they are missing and not
    /// already being computed.
    fn learned_job(&mut self) -> Option<LearnedJob> {
        if self.learned_pending || self.params.t == 0 {
            return None;
        }
        let wanted = self
            .params
            .view
            .panel
            .is_none_or(|p| p == Panel::Posterior || p == Panel::Score);
        let snapshot = training::snapshot()?;
        let key = (snapshot.version, self.params.t, self.params.probe);
        let fresh = self.learned.as_ref().is_some_and(|l| l.key == key);
        let matches = snapshot.schedule == self.schedule && snapshot.data_version == self.data_version;
        if !wanted || fresh || !matches {
            return None;
        }
        self.learned_pending = true;
        let mut points = vec![self.params.probe];
        points.extend(panels::score::grid());
        Some(LearnedJob {
            snapshot,
            key,
            points,
        })
    }
}

/// The model's predictions one view needs: at the probe point, then on the score grid.
struct LearnedJob {
    snapshot: training::Snapshot,
    key: (u64, usize, [f32; 2]),
    points: Vec<Point<2>>,
}

/// Runs the model for a view (asynchronously: WebGPU reads need it) and redraws with it.
async fn compute_learned(app: Shared, job: LearnedJob) {
    let (_, t, _) = job.key;
    let schedule = &job.snapshot.schedule;
    let rows = job.snapshot.model.predict(&job.points, t).await;
    let mut this = app.borrow_mut();
    this.learned_pending = false;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            web_sys::console::error_1(&format!("the model's predictions could not be read: {e}").into());
            return;
        }
    };
    let param = job.snapshot.parameterization;
    let predictions: Vec<_> = job
        .points
        .iter()
        .zip(rows.chunks_exact(param.outputs()))
        .map(|(x, row)| interpret(param, schedule, x, t, row))
        .collect();
    let probe = job.points[0];
    this.learned = Some(Learned {
        key: job.key,
        mean: predictions[0].reverse_mean(schedule, &probe, t),
        scores: predictions[1..].iter().map(|p| p.score(schedule, t)).collect(),
    });
    drop(this);
    App::redraw_model(&app);
}

/// How the trained model stands towards the current view.
fn model_view<'a>(
    learned: &'a Option<Learned>,
    schedule: &NoiseSchedule,
    data_version: u64,
    params: &Params,
) -> ModelView<'a> {
    let Some(snapshot) = training::snapshot() else {
        return ModelView::Untrained;
    };
    if snapshot.schedule != *schedule {
        return ModelView::Stale(
            "the model was trained for another noise schedule (Reset, then Train, to compare)",
        );
    }
    if snapshot.data_version != data_version {
        return ModelView::Stale("the model was trained on other data (Reset, then Train, to compare)");
    }
    match learned {
        Some(l) if l.key == (snapshot.version, params.t, params.probe) => ModelView::Ready(l),
        _ => ModelView::Pending,
    }
}

/// The data of a data set and seed with its noise (from a different stream of the same seed);
/// for drawn data, the reader's points.
fn dataset(set: DataSet, seed: u64, drawn: &[Point<2>]) -> (Vec<Point<2>>, Vec<Point<2>>) {
    match set {
        // Drawn points keep their noise as more are added: the stream is a prefix.
        DataSet::Drawn => (drawn.to_vec(), panels::noise_for(drawn.len(), seed)),
        set => panels::cloud(set, seed),
    }
}

fn request_frame(app: &Shared) {
    let app = app.clone();
    let callback = Closure::once_into_js(move |_: f64| {
        let (job, later) = {
            let mut this = app.borrow_mut();
            this.frame_pending = false;
            let panels = std::mem::take(&mut this.frame_panels);
            this.render(&panels);
            let mut later = std::mem::take(&mut this.later_panels);
            later.retain(|p| !panels.contains(p));
            (this.learned_job(), later)
        };
        if !later.is_empty() {
            App::redraw_panels(&app, &later);
        }
        if let Some(job) = job {
            wasm_bindgen_futures::spawn_local(compute_learned(app.clone(), job));
        }
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

/// Says something to the reader in the page's notice box (not an error: the page goes on).
pub fn notify(message: &str) {
    set_text("notices", message);
    set_hidden("notices", false);
}

/// Lists what the page changed in values it was given, under `heading`.
pub fn show_corrections(heading: &str, corrections: &[crate::params::Correction]) {
    if corrections.is_empty() {
        return;
    }
    let items: Vec<String> = corrections
        .iter()
        .map(|c| format!("<li><code>{}</code>: {}</li>", escape(&c.key), escape(&c.message)))
        .collect();
    set_html(
        "notices",
        &format!("{}<ul>{}</ul>", escape(heading), items.join("")),
    );
    set_hidden("notices", false);
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `?panel=NAME`: the page shows that panel alone (for an iframe in a blog post); without it,
/// every panel.
fn apply_panel_mode(panel: Option<Panel>) -> Result<(), String> {
    let body = dom::document().body().ok_or("the page has no body")?;
    body.class_list()
        .toggle_with_force("embed", panel.is_some())
        .map_err(|_| "cannot set the embed class")?;
    for other in Panel::ALL {
        set_hidden(
            &format!("panel-{}", other.name()),
            panel.is_some_and(|p| p != other),
        );
    }
    Ok(())
}

/// Applies values from outside the page (a host page's `set` message) with a link's checks,
/// and says what was corrected.
pub fn set_from_outside(
    app: &Shared,
    training: &Rc<RefCell<training::Training>>,
    pairs: &[(String, String)],
) -> Vec<crate::params::Correction> {
    let before = App::params(app);
    let mut params = before.clone();
    let notes = params.apply_link(pairs);
    show_corrections(
        "The page around this one sent values that had to be changed:",
        &notes,
    );
    if params.view.panel != before.view.panel {
        let _ = apply_panel_mode(params.view.panel);
    }
    let chain = (params.chain != before.chain).then_some(params.chain);
    App::update(app, params);
    if let Some(chain) = chain {
        training::show_chain(training, chain);
    }
    notes
}

/// How often the address bar follows the page while a control moves. Each
/// `history.replaceState` cost about 2 ms of the page's thread a frame while t was dragged,
/// and Chromium ignores more than 200 of them in 10 s, which a drag reaches.
const LINK_EVERY_MS: f64 = 250.0;

thread_local! {
    /// The link still to be written, and when the last one was.
    static LINK: RefCell<(Option<String>, f64)> = const { RefCell::new((None, f64::NEG_INFINITY)) };
}

/// Puts `params` in the address bar: at once after a quiet spell, otherwise once
/// [`LINK_EVERY_MS`] has passed since the last write (the latest state wins).
fn write_url(params: &Params) {
    let query = params.to_query();
    let url = if query.is_empty() {
        dom::window().location().pathname().unwrap_or_default()
    } else {
        format!("?{query}")
    };
    let (waiting, last) = LINK.with(|l| {
        let mut l = l.borrow_mut();
        (l.0.replace(url).is_some(), l.1)
    });
    if waiting {
        return; // the timer set for the previous state writes this one
    }
    let wait = last + LINK_EVERY_MS - dom::now_ms();
    if wait <= 0.0 {
        flush_url();
        return;
    }
    let flush = Closure::once_into_js(flush_url);
    let _ = dom::window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(flush.unchecked_ref(), wait as i32);
}

/// Whether a link is waiting for its turn.
pub fn link_pending() -> bool {
    LINK.with(|l| l.borrow().0.is_some())
}

/// Writes a link still waiting for [`LINK_EVERY_MS`] now (for what reads the address bar).
pub fn flush_url() {
    let Some(url) = LINK.with(|l| l.borrow_mut().0.take()) else {
        return;
    };
    LINK.with(|l| l.borrow_mut().1 = dom::now_ms());
    if let Ok(history) = dom::window().history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

fn wire_controls(app: &Shared) -> Result<(), String> {
    // Enter in the form's one number field would submit it, reloading the page.
    dom::listen("controls", "submit", |e| e.prevent_default())?;
    for (control, event) in controls::events() {
        let app = app.clone();
        dom::listen(control.id, event, move |_| {
            let previous = app.borrow().params.clone();
            let (params, notes) = controls::read(&previous, control);
            show_corrections("Some values were out of range and were changed:", &notes);
            App::update(&app, params);
            if !notes.is_empty() {
                // The element still shows what was typed: put the corrected value back.
                let _ = controls::write(&app.borrow().params);
            }
        })?;
    }
    // Re-run the tensor check when a drag ends, not on every step of it.
    for id in ["t", "seed", "T", "b1", "bT", "kind", "data"] {
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
            if app.borrow().posterior_frame.is_none() && layout::measure_near("panel-posterior") {
                // On screen but not drawn yet (scrolled in a moment ago): draw it now, so that
                // the tap lands where the reader sees the chart.
                app.borrow_mut().render(&[Panel::Posterior]);
            }
            let Some(frame) = app.borrow().posterior_frame.clone() else {
                return;
            };
            let [x, y] = frame.to_data(e.offset_x() as f64, e.offset_y() as f64);
            let (lo, hi) = crate::params::bounds::PROBE;
            let mut params = app.borrow().params.clone();
            if params.is_locked("x") || params.is_locked("y") {
                return;
            }
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

/// With "draw your own" chosen, dragging on the forward chart adds points; Clear removes them.
fn wire_drawing(app: &Shared) -> Result<(), String> {
    let canvas: HtmlElement = by_id("forward-canvas")?;
    for event in ["pointerdown", "pointermove"] {
        let app = app.clone();
        let handler = Closure::<dyn FnMut(PointerEvent)>::new(move |e: PointerEvent| {
            let mut this = app.borrow_mut();
            if this.params.data != DataSet::Drawn || e.buttons() & 1 == 0 || this.drawn.len() >= MAX_DRAWN {
                return;
            }
            let Some(frame) = this.forward_frame.clone() else {
                return;
            };
            e.prevent_default();
            let [x, y] = frame.to_data(e.offset_x() as f64, e.offset_y() as f64);
            let n = this.drawn.len() as u64;
            let jitter: Vec<Point<2>> = standard_normal(DRAWN_PER_EVENT, 0xd4a3 ^ n);
            for j in jitter {
                this.drawn
                    .push([x as f32 + DRAWN_SPREAD * j[0], y as f32 + DRAWN_SPREAD * j[1]]);
            }
            this.data_stale = true;
            drop(this);
            App::redraw(&app);
        });
        canvas
            .add_event_listener_with_callback(event, handler.as_ref().unchecked_ref())
            .map_err(|_| format!("cannot listen to {event} on the forward chart"))?;
        handler.forget();
    }
    let clear: HtmlElement = by_id("clear-drawing")?;
    let app = app.clone();
    let on_clear = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
        let mut this = app.borrow_mut();
        this.drawn.clear();
        this.data_stale = true;
        drop(this);
        App::redraw(&app);
    });
    clear
        .add_event_listener_with_callback("click", on_clear.as_ref().unchecked_ref())
        .map_err(|_| "cannot listen to #clear-drawing")?;
    on_clear.forget();
    Ok(())
}

fn wire_resize(app: &Shared) {
    let resize_app = app.clone();
    // A new devicePixelRatio (the browser's zoom) needs sharper canvases.
    dom::on_window("resize", move |_: Event| App::redraw(&resize_app));
    // A link still waiting for its turn is written before the page goes, for the back-forward
    // cache and a restored session (a reload has already read the address by then).
    dom::on_window("pagehide", |_: Event| flush_url());
    // A panel skipped while off screen is drawn as it scrolls into view: the scroll tells in
    // time for this frame, the IntersectionObserver only after the next layout.
    // Only those panels: a scroll to the Train button that brought the digits panel near
    // redrew every chart in the frame where training began.
    let scroll_app = app.clone();
    dom::on_window("scroll", move |_: Event| {
        let stale = scroll_app.borrow().stale.clone();
        let near: Vec<Panel> = stale
            .into_iter()
            .filter(|p| layout::measure_near(&format!("panel-{}", p.name())))
            .collect();
        if !near.is_empty() {
            App::redraw_panels(&scroll_app, &near);
        }
    });
    // A canvas that changed size, or a panel that came near some other way (a panel shown, or
    // the page's layout moving as another panel grows): that panel alone. Redrawing them all
    // made the frame where the training panel grew one of over 50 ms.
    let app = app.clone();
    layout::on_change(move |ids| {
        let panels: Vec<Panel> = CHART_PANELS
            .into_iter()
            .filter(|panel| ids.iter().any(|id| shows(*panel, id)))
            .collect();
        if !panels.is_empty() && app.try_borrow_mut().is_ok() {
            App::redraw_panels(&app, &panels);
        }
    });
}

/// Where the worker's burn runs, as the page tells the reader.
#[derive(Clone, Debug, Default)]
struct Backend {
    /// Why the CPU, when it is the CPU.
    reason: Option<String>,
    /// The 2-D network timed on both backends (with WebGPU, unless the reader named one).
    training: Option<Race>,
    /// The U-Net timed on both, once its weights are loaded.
    digits: Option<Race>,
    /// Where the U-Net runs, once loaded: "WebGPU" or "CPU".
    digits_on: Option<&'static str>,
}

impl Backend {
    fn cpu(reason: String) -> Self {
        Self {
            reason: Some(reason),
            ..Self::default()
        }
    }

    /// "WebGPU" or "CPU": whether the worker has WebGPU at all.
    fn name(&self) -> &'static str {
        if self.reason.is_none() { "WebGPU" } else { "CPU" }
    }

    /// Where a 2-D run left to the page ("auto") trains.
    fn training_on(&self) -> &'static str {
        self.training.as_ref().map_or(self.name(), Race::winner)
    }

    /// A sentence for the page's backend label.
    fn describe(&self) -> String {
        if let Some(reason) = &self.reason {
            return format!("burn on the CPU (flex), in a worker: {reason}");
        }
        let Some(training) = &self.training else {
            return "burn on WebGPU (burn-wgpu), in a worker".into();
        };
        let digits = match (&self.digits, self.digits_on) {
            (Some(race), _) => race.describe(),
            (None, Some(on)) => on.to_string(),
            (None, None) => "timed once its weights load".to_string(),
        };
        format!(
            "burn in a worker, each network on the backend that ran it faster here (device=cpu or device=webgpu in the link chooses instead). The 2-D network: {}. The U-Net: {digits}.",
            training.describe()
        )
    }
}

/// How long the whole page waits after its first render before it starts burn's worker.
const START_BURN_AFTER_MS: i32 = 1500;

async fn start_backend(
    app: Shared,
    training: Rc<RefCell<training::Training>>,
    digits: Rc<RefCell<super::digits::DigitsPanel>>,
) {
    // Only the training and digits panels need tensors: an embed of a chart never downloads
    // burn.
    let (panel, named) = {
        let this = app.borrow();
        (this.params.view.panel, this.params.train.device)
    };
    if panel.is_some_and(|p| p != Panel::Train && p != Panel::Digits) {
        set_text(
            "backend",
            "Backend: none needed (this embed draws exact charts only)",
        );
        set_text("backend-check", "");
        if let Ok(el) = by_id::<Element>("backend-check") {
            let _ = el.set_attribute("data-state", "skipped");
        }
        return;
    }
    set_text("backend", "starting burn…");
    if panel.is_none() && !app.borrow().params.view.train_on_load {
        // The whole page: the charts first; burn a moment later, or when a panel asks.
        super::engine::wait_or_wanted(START_BURN_AFTER_MS).await;
    }
    // The reader's device= decides; with none, a hardware GPU and the CPU race for each model.
    let cpu_reason = match named {
        TrainDevice::Cpu => Some("the link asks for the CPU (device=cpu)".to_string()),
        _ => super::gpu::choose(named == TrainDevice::WebGpu).await.err(),
    };
    super::engine::use_module(if cpu_reason.is_some() {
        super::engine::Module::Cpu
    } else {
        super::engine::Module::WebGpu
    });
    let race = named == TrainDevice::Auto;
    let started = super::engine::call(&Request::Start { cpu_reason, race }, Vec::new(), Vec::new()).await;
    let backend = match started {
        Ok((Reply::Started { reason, race, .. }, _, _)) => Backend {
            reason,
            training: race,
            ..Backend::default()
        },
        Ok(_) => Backend::cpu("the worker answered something else".into()),
        Err(e) => {
            set_text("backend", &format!("burn could not start: {e}"));
            if let Ok(el) = by_id::<Element>("backend-check") {
                let _ = el.set_attribute("data-state", "error");
            }
            return;
        }
    };
    show_backend(&backend);
    let gpu = backend.reason.is_none();
    training::set_ready(&training, gpu, backend.training_on());
    if app.borrow().params.view.train_on_load {
        // `train=1`: the link's author trained with these settings and this seed, so the
        // reader gets the same model.
        training::act(&training, training::Action::Train);
    }
    // An embed of another panel never shows digits: it does not download their weights.
    if panel.is_none_or(|p| p == Panel::Digits) {
        let (app, digits) = (app.clone(), digits.clone());
        wasm_bindgen_futures::spawn_local(async move {
            // Where the U-Net runs is known once it is loaded (and raced).
            if let Some((on, race)) = super::digits::load(digits).await {
                let mut this = app.borrow_mut();
                if let Some(backend) = this.backend.as_mut().filter(|b| b.reason.is_none()) {
                    backend.digits_on = Some(on);
                    backend.digits = race;
                    show_backend(backend);
                }
            }
        });
    }
    if gpu {
        listen_for_gpu_loss(app.clone(), training, digits);
    }
    app.borrow_mut().backend = Some(backend);
    run_backend_check(app).await;
}

/// The worker announces a lost WebGPU device (burn-wgpu keeps the device to itself; see
/// `www/worker-boot.js`). Every panel on the GPU moves to the CPU and the page says so.
fn listen_for_gpu_loss(
    app: Shared,
    training: Rc<RefCell<training::Training>>,
    digits: Rc<RefCell<super::digits::DigitsPanel>>,
) {
    super::engine::on_gpu_lost(move |why: String| {
        let why = if why.is_empty() {
            "the device was lost".to_string()
        } else {
            why
        };
        web_sys::console::warn_1(&format!("WebGPU device lost: {why}").into());
        let backend = Backend::cpu(format!("WebGPU stopped ({why})"));
        show_backend(&backend);
        app.borrow_mut().backend = Some(backend);
        training::gpu_lost(&training, &why);
        let (app, digits) = (app.clone(), digits.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let request = Request::UseCpu { why: why.clone() };
            let moved = super::engine::call(&request, Vec::new(), Vec::new()).await;
            super::digits::fall_back_to_cpu(&digits, &why, moved);
            // The tensor check now runs on the CPU, so what it says is about the backend in use.
            run_backend_check(app).await;
        });
    });
}

/// The footer's backend label, and for tests its `data-backend` (whether the worker has
/// WebGPU), `data-train` (where an "auto" 2-D run trains) and `data-digits` (where the U-Net
/// runs, once loaded).
fn show_backend(backend: &Backend) {
    set_text("backend", &format!("Backend: {}", backend.describe()));
    if let Ok(el) = by_id::<Element>("backend") {
        let _ = el.set_attribute("data-backend", backend.name());
        let _ = el.set_attribute("data-train", backend.training_on());
        let digits = if backend.reason.is_some() {
            "CPU"
        } else {
            backend.digits_on.unwrap_or("")
        };
        let _ = el.set_attribute("data-digits", digits);
    }
}

/// Recomputes the forward panel's points with burn in the worker and shows how far they are
/// from the math core's: proof that burn really runs for this page, on the backend it names.
async fn run_backend_check(app: Shared) {
    let (backend, query, schedule, data, eps, t) = {
        let this = app.borrow();
        let Some(backend) = this.backend.clone() else {
            return;
        };
        (
            backend,
            this.params.to_query(),
            this.params.schedule(),
            this.data.clone(),
            this.eps.clone(),
            this.params.t,
        )
    };
    let mut floats = flatten(&data);
    floats.extend(flatten(&eps));
    let request = Request::Noise { query, t };
    let checked = super::engine::call(&request, floats, Vec::new())
        .await
        .and_then(|(_, got, _)| {
            if got.len() != 2 * data.len() {
                return Err(format!("expected {} points, got {}", data.len(), got.len() / 2));
            }
            let mut max_diff = 0.0_f32;
            for ((g, x0), e) in got.chunks_exact(2).zip(&data).zip(&eps) {
                let want = schedule.add_noise(x0, e, t);
                for k in 0..2 {
                    let d = (g[k] - want[k]).abs();
                    // NaN must fail the check, so it cannot hide in max().
                    max_diff = if d.is_nan() { f32::NAN } else { max_diff.max(d) };
                }
            }
            Ok(max_diff)
        });
    let status = match checked {
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
