//! The MNIST panel: the shipped U-Net, fetched from `assets/mnist/`, samples a grid of 16 digits
//! live, each reverse step asked for as soon as the last is in and drawn at the next animation
//! frame, each noisy `x_t` beside the model's guess of
//! `x_0`; real digits move through `q(x_t | x_0)` under the page's t slider. The weights load
//! in the background: until they arrive, or if they are missing or damaged, this panel says so
//! and every other panel works as before.
//!
//! The chain (its images, its noise, each step's arithmetic) is kept here; the U-Net runs in the
//! page's worker, which gets the images of each step and answers with the predicted noise.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

use super::canvas::Canvas;
use super::dom::{self, by_id};
use super::embed;
use super::engine::{self, Answer};
use super::fetch::fetch_bytes;
use crate::charts::tradeoff::{self, Current};
use crate::data::mnist::{Digits, PIXELS, SIDE, to_byte};
use crate::data::standard_normal;
use crate::math::NoiseSchedule;
use crate::params::Params;
use crate::protocol::{Race, Reply, Request};
use crate::sampling::Sampler;
use crate::sampling::digits::{CONFIG_FILE, DigitChain, DigitRequest, Image, WEIGHTS_FILE, WeightsInfo};
use crate::sampling::sweep::Sweep;

/// Digits in the grid.
const GRID: usize = 16;
/// Real digits in the forward row.
const FORWARD: usize = 8;
/// Screen pixels per digit pixel.
const ZOOM: usize = 3;
/// Where the page finds the weights (relative to the page).
const WEIGHTS_DIR: &str = "assets/mnist/";
/// The sweep's record, beside the weights.
const SWEEP_FILE: &str = "sweep.json";
/// The trade-off chart's canvas.
const TRADEOFF: &str = "digits-tradeoff";
/// Screen pixels per digit pixel in SDEdit's view.
const SDEDIT_ZOOM: usize = 6;

/// The sample digits shipped in the page, for the forward row.
static SAMPLE: &[u8] = include_bytes!("../../assets/mnist-sample.bin");

/// The panel's state.
#[derive(Default)]
pub struct DigitsPanel {
    /// The page's settings, read when a chain starts.
    source: Option<Box<dyn Fn() -> Params>>,
    /// An action asked for before the weights arrived.
    pending: Option<Action>,
    backend: &'static str,
    /// The worker has the U-Net.
    loaded: bool,
    schedule: Option<NoiseSchedule>,
    chain: Option<DigitChain>,
    running: bool,
    /// The generation of the chain whose step is in flight, if any.
    busy: Option<u64>,
    /// A redraw of the grid is waiting for the next animation frame.
    draw_pending: bool,
    generation: u64,
    /// Milliseconds the last reverse steps took, for the steps-per-second read-out.
    step_ms: Vec<f64>,
    started_ms: f64,
    /// The reader's drawing, in `[-1, 1]` (-1 background).
    drawing: Vec<f32>,
    drawing_down: bool,
    /// Said once the panel fell back to the CPU, in front of every later status.
    notice: Option<String>,
    /// The chain running now is SDEdit's: what it started from, for its own view.
    sdedit: Option<SdEdit>,
}

/// An SDEdit run: the drawing, the same drawing noised to t, and the labels of the chain's
/// images (the first unconditional, the second, if any, the digit asked for).
struct SdEdit {
    drawing: Image,
    noised: Image,
    t: usize,
    labels: Vec<Option<u8>>,
}

type Shared = Rc<RefCell<DigitsPanel>>;

/// What the trade-off chart shows: the settings, the theme and the canvas's CSS size.
type TradeoffKey = (Current, &'static str, (u32, u32));

thread_local! {
    static PANEL: RefCell<Option<Shared>> = const { RefCell::new(None) };
    /// The real digits as last noised, for the export before any grid is sampled.
    static LAST_FORWARD: RefCell<Vec<Image>> = const { RefCell::new(Vec::new()) };
    /// `diffusion mnist sweep`'s record (`assets/mnist/sweep.json`), once fetched, or why not.
    static SWEEP: RefCell<Option<Result<Sweep, String>>> = const { RefCell::new(None) };
    /// What the trade-off chart last drew, so that dragging t does not redraw it.
    static TRADEOFF_DRAWN: RefCell<Option<TradeoffKey>> = const { RefCell::new(None) };
}

/// Fetches the sweep's record for the trade-off chart (the chart says so if it is missing).
pub async fn load_sweep() {
    let loaded = async {
        let bytes = fetch_bytes(&format!("{WEIGHTS_DIR}{SWEEP_FILE}"), |_, _| {}).await?;
        Sweep::parse(&String::from_utf8_lossy(&bytes))
    }
    .await;
    if let Err(e) = &loaded {
        web_sys::console::warn_1(&format!("the guidance trade-off chart has no data: {e}").into());
    }
    SWEEP.with(|s| *s.borrow_mut() = Some(loaded));
    TRADEOFF_DRAWN.with(|d| d.borrow_mut().take());
}

/// Draws the measured trade-offs with the panel's settings marked, when they (or the theme,
/// or the canvas's size) changed since the last drawing.
pub fn draw_tradeoff(params: &Params) {
    let d = &params.digits;
    let current = Current {
        guidance: d.guidance,
        interval: [d.guided_from, d.guided_to],
        steps: d.steps,
        eta: d.eta,
    };
    let size = Canvas::css_size(TRADEOFF).unwrap_or((0, 0));
    let key = (current.clone(), super::canvas::theme().name, size);
    if TRADEOFF_DRAWN.with(|k| k.borrow().as_ref() == Some(&key)) {
        return;
    }
    SWEEP.with(|s| {
        let s = s.borrow();
        let sweep = s.as_ref().and_then(|r| r.as_ref().ok());
        let drawn = Canvas::fit(TRADEOFF).and_then(|c| tradeoff::draw(&c.surface()?, sweep, &current));
        match drawn {
            Ok(()) => TRADEOFF_DRAWN.with(|k| *k.borrow_mut() = Some(key)),
            Err(e) => web_sys::console::error_1(&e.into()),
        }
        let words = match s.as_ref() {
            Some(Ok(sweep)) => tradeoff::describe(sweep, &current),
            Some(Err(e)) => format!("The measured trade-offs could not be loaded: {e}"),
            None => "The measured trade-offs are loading.".into(),
        };
        super::classroom::describe("digits-tradeoff-desc", words);
    });
}

/// Whether a grid has been sampled (the export's picture is then the grid).
pub fn has_grid() -> bool {
    PANEL.with(|p| p.borrow().as_ref().is_some_and(|s| s.borrow().chain.is_some()))
}

/// What the panel shows as SVG: the sampled grid (each `x_t` beside its predicted `x_0`), or
/// before a grid exists the real digits noised to t.
pub fn svg() -> Result<String, String> {
    use plotters::prelude::{IntoDrawingArea, SVGBackend};
    let (images, columns): (Vec<Image>, usize) = PANEL.with(|p| {
        let panel = p.borrow().clone();
        let s = panel.as_ref().map(|s| s.borrow());
        match s.as_ref().and_then(|s| s.chain.as_ref()) {
            Some(chain) => (
                chain
                    .images
                    .iter()
                    .zip(&chain.predicted_x0)
                    .flat_map(|(x, x0)| [*x, *x0])
                    .collect(),
                8,
            ),
            None => (LAST_FORWARD.with(|f| f.borrow().clone()), FORWARD),
        }
    });
    let refs: Vec<&Image> = images.iter().collect();
    let gap = if refs.len() > 1 { 2 } else { 0 };
    let size = crate::charts::digits::grid_size(refs.len(), columns, ZOOM as i32, gap);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let surface = crate::charts::Surface::new(root, 1.0);
        crate::charts::digits::draw_grid(&surface, &refs, columns, ZOOM as i32, gap)?;
    }
    Ok(svg)
}

/// The grid's images as CSV: one row a digit, its current `x_t` then the predicted `x_0`,
/// 784 pixels each in `[-1, 1]` (row by row).
pub fn csv() -> Option<String> {
    PANEL.with(|p| {
        let panel = p.borrow().clone()?;
        let s = panel.borrow();
        let chain = s.chain.as_ref()?;
        let mut out = String::from("digit,label,image");
        for i in 0..PIXELS {
            out.push_str(&format!(",p{i}"));
        }
        out.push('\n');
        for (k, (x, x0)) in chain.images.iter().zip(&chain.predicted_x0).enumerate() {
            let label = chain
                .labels()
                .get(k)
                .copied()
                .flatten()
                .map_or(String::new(), |l| l.to_string());
            for (what, image) in [("x_t", x), ("x0_predicted", x0)] {
                out.push_str(&format!("{k},{label},{what}"));
                for v in image.iter() {
                    out.push_str(&format!(",{v:.4}"));
                }
                out.push('\n');
            }
        }
        Some(out)
    })
}

/// Wires the panel; the weights are fetched once the backend is known (see [`load`]).
pub fn start(source: Box<dyn Fn() -> Params>) -> Result<Shared, String> {
    let state: Shared = Rc::new(RefCell::new(DigitsPanel {
        source: Some(source),
        ..Default::default()
    }));
    PANEL.with(|p| *p.borrow_mut() = Some(state.clone()));
    for (id, action) in [
        ("digits-sample", Action::Sample),
        ("digits-pause", Action::Pause),
        ("digits-step", Action::Step),
    ] {
        let state = state.clone();
        dom::listen(id, "click", move |_| act(&state, action))?;
    }
    state.borrow_mut().drawing = vec![-1.0; PIXELS];
    wire_drawing(&state)?;
    paint_drawing(&state.borrow());
    set_status("Waiting for burn…", "idle");
    Ok(state)
}

/// The 28x28 drawing pad: drag to draw with a soft round brush; Clear wipes it; "Noise and
/// denoise" runs SDEdit from the chosen t.
fn wire_drawing(state: &Shared) -> Result<(), String> {
    let pad_id = "digits-draw";
    let pad: HtmlCanvasElement = by_id(pad_id)?;
    for event in ["pointerdown", "pointermove", "pointerup", "pointerleave"] {
        let state = state.clone();
        let target = pad.clone();
        dom::listen_as(pad_id, event, move |e: web_sys::PointerEvent| {
            let mut s = state.borrow_mut();
            match e.type_().as_str() {
                "pointerdown" => s.drawing_down = true,
                "pointerup" | "pointerleave" => {
                    s.drawing_down = false;
                    return;
                }
                _ if !s.drawing_down => return,
                _ => {}
            }
            e.prevent_default();
            let scale = SIDE as f64 / target.client_width().max(1) as f64;
            let (cx, cy) = (e.offset_x() as f64 * scale, e.offset_y() as f64 * scale);
            for y in 0..SIDE {
                for x in 0..SIDE {
                    let d = ((x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2)).sqrt();
                    let ink = (1.6 - d).clamp(0.0, 1.0) as f32 * 2.0 - 1.0;
                    let p = &mut s.drawing[y * SIDE + x];
                    *p = p.max(ink);
                }
            }
            paint_drawing(&s);
        })?;
    }
    for (id, action) in [
        ("digits-draw-clear", Action::Clear),
        ("digits-sdedit", Action::SdEdit),
    ] {
        let state = state.clone();
        dom::listen(id, "click", move |_| act(&state, action))?;
    }
    Ok(())
}

fn paint_drawing(s: &DigitsPanel) {
    let mut image = [0.0; PIXELS];
    image.copy_from_slice(&s.drawing);
    if let Err(e) = paint_zoomed("digits-draw", &[&image], 1, 8) {
        web_sys::console::error_1(&e.into());
    }
}

/// Fetches `unet.json` and `unet.safetensors` and has the worker build the network. Failures
/// are shown in the panel (and only there). Returns where the network runs ("WebGPU" or
/// "CPU"), and how the two raced when the worker timed it on both.
pub async fn load(state: Shared) -> Option<(&'static str, Option<Race>)> {
    set_status("Loading the U-Net's weights…", "loading");
    let loaded = async {
        let config = fetch_bytes(&format!("{WEIGHTS_DIR}{CONFIG_FILE}"), |_, _| {}).await?;
        let config = String::from_utf8(config).map_err(|_| format!("{CONFIG_FILE} is not text"))?;
        let info = WeightsInfo::parse(&config)?;
        let weights = fetch_bytes(&format!("{WEIGHTS_DIR}{WEIGHTS_FILE}"), |received, total| {
            let of = total.map_or(String::new(), |t| format!(" of {:.0}", t as f64 / 1e3));
            set_status(
                &format!("Loading the U-Net's weights… {:.0}{of} KB", received as f64 / 1e3),
                "loading",
            );
        })
        .await?;
        let size = weights.len();
        match engine::call(&Request::LoadUnet { config }, Vec::new(), weights).await? {
            (Reply::Loaded { gpu, race }, _, _) => Ok((info, size, gpu, race)),
            _ => Err("the worker answered something else".to_string()),
        }
    }
    .await;
    let mut s = state.borrow_mut();
    match loaded {
        Ok((info, size, gpu, race)) => {
            s.backend = if gpu { "WebGPU" } else { "CPU" };
            s.schedule = info.schedule().ok();
            s.loaded = true;
            set_status(
                &format!(
                    "U-Net loaded ({:.2} MB, {} steps of training on {}). Press Sample.",
                    size as f64 / 1e6,
                    info.trained_steps,
                    info.device
                ),
                "ready",
            );
            let on = s.backend;
            if let Some(action) = s.pending.take() {
                drop(s);
                act(&state, action);
            }
            Some((on, race))
        }
        Err(e) => {
            set_status(
                &format!("The digit model could not be loaded: {e}. The other panels are not affected."),
                "error",
            );
            embed::emit(
                "error",
                "digits",
                &format!("the digit model could not be loaded: {e}"),
            );
            None
        }
    }
}

/// The GPU is gone (the browser lost the WebGPU device, or a step on it failed) and the worker
/// has rebuilt the network on the CPU (`moved` is its answer): carry on with the same chain,
/// which lives here. Returns false when there is nothing to fall back to.
pub fn fall_back_to_cpu(state: &Shared, why: &str, moved: Result<Answer, String>) -> bool {
    let mut s = state.borrow_mut();
    if s.backend == "CPU" {
        return false;
    }
    s.backend = "CPU";
    // A step still waiting on the lost GPU is abandoned: its result would be for an old chain.
    s.generation += 1;
    s.busy = None;
    if let Err(e) = moved {
        s.loaded = false;
        set_status(
            &format!("WebGPU stopped ({why}) and the CPU copy failed: {e}"),
            "error",
        );
        return false;
    }
    if !s.loaded {
        // Still loading: the load finishing on the lost device would fail, so say so.
        set_status(
            &format!("WebGPU stopped ({why}); reload the page to use the CPU."),
            "error",
        );
        return false;
    }
    s.notice = Some(format!("WebGPU stopped ({why}); the digits now run on the CPU."));
    set_status(s.notice.as_deref().unwrap_or_default(), "fallback");
    let again = s.running;
    drop(s);
    if again {
        animate(state);
    }
    true
}

/// What the panel's buttons (and a host page's messages) ask for.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// A new grid of digits from noise.
    Sample,
    /// Stop after the step in flight.
    Pause,
    /// One reverse step (a new grid if none is under way).
    Step,
    /// Wipe the drawing pad.
    Clear,
    /// Noise the drawing to t and denoise it.
    SdEdit,
}

/// Carries out one action.
pub fn act(state: &Shared, action: Action) {
    let mut s = state.borrow_mut();
    if let Action::Clear = action {
        s.drawing.fill(-1.0);
        return paint_drawing(&s);
    }
    let (Some(schedule), true) = (s.schedule.clone(), s.loaded) else {
        engine::wanted();
        // The weights are still coming: Sample, Step or SdEdit runs once they are in.
        if !matches!(action, Action::Pause) {
            s.pending = Some(action);
        }
        return;
    };
    match action {
        Action::Sample => match request(&s) {
            Ok(request) => {
                s.sdedit = None;
                run_chain_keeping_mode(state, s, DigitChain::new(&schedule, request))
            }
            Err(e) => set_status(&e, "error"),
        },
        Action::Pause => {
            s.running = false;
            status(&s);
        }
        Action::Clear => {}
        Action::SdEdit => {
            let t = s.source.as_ref().map_or(400, |p| p().digits.sdedit_t) as f64;
            let mut request = match request(&s) {
                Ok(r) => r,
                Err(e) => return set_status(&e, "error"),
            };
            // The drawing twice: once without a label, so the model keeps to what was drawn,
            // and once guided toward the digit chosen above, if one is. (Guidance leaves the
            // unlabelled copy alone: (1 + w) eps(x) - w eps(x) = eps(x).)
            let label = s.source.as_ref().and_then(|p| p().digits.label);
            request.labels = std::iter::once(None).chain(label.map(Some)).collect();
            request.steps = request.steps.min(t.max(1.0) as usize);
            let mut image = [0.0; PIXELS];
            image.copy_from_slice(&s.drawing);
            let copies = vec![image; request.labels.len()];
            let labels = request.labels.clone();
            let chain = DigitChain::from_images(&schedule, request, &copies, t as usize);
            s.sdedit = Some(SdEdit {
                drawing: image,
                noised: chain.images[0],
                t: t as usize,
                labels,
            });
            run_chain_keeping_mode(state, s, chain);
        }
        Action::Step => {
            s.running = false;
            if s.chain.as_ref().is_none_or(|c| c.current_t().is_none()) {
                match request(&s) {
                    Ok(request) => {
                        s.sdedit = None;
                        s.chain = Some(DigitChain::new(&schedule, request));
                    }
                    Err(e) => return set_status(&e, "error"),
                }
            }
            drop(s);
            animate(state);
        }
    }
}

/// Replaces the panel's chain with `chain` and runs it to the end (`s.sdedit` says which
/// view shows it).
fn run_chain_keeping_mode(state: &Shared, mut s: std::cell::RefMut<'_, DigitsPanel>, chain: DigitChain) {
    s.chain = Some(chain);
    s.generation += 1;
    s.running = true;
    s.step_ms.clear();
    s.started_ms = dom::now_ms();
    draw(&s);
    // Says "sampling" at once: the first step's answer comes from the worker a moment later.
    status(&s);
    drop(s);
    animate(state);
}

/// The chain the panel's controls ask for.
fn request(s: &DigitsPanel) -> Result<DigitRequest, String> {
    let params = s.source.as_ref().ok_or("the panel has no settings")?();
    let d = &params.digits;
    let sampler = Sampler::from_settings(d.sampler, d.eta);
    Ok(DigitRequest {
        // "any": the classes take turns, so the grid shows every digit.
        labels: (0..GRID)
            .map(|i| Some(d.label.unwrap_or((i % 10) as u8)))
            .collect(),
        guidance: d.guidance as f32,
        guided: d.guided_from..=d.guided_to,
        sampler,
        steps: d.steps,
        seed: d.seed,
    })
}

/// The chain's next reverse step, and while running the one after it as soon as its answer is
/// in (or one step, for Step); the grid is drawn at the next animation frame. The next request
/// does not wait for a frame: gated on one, the worker sat idle 11 ms a step on average (a sixth
/// of a grid's time, in a profile of the worker). The chain stays in the panel's state while the
/// network runs, so a step abandoned on a lost GPU loses nothing.
fn animate(state: &Shared) {
    let state = state.clone();
    wasm_bindgen_futures::spawn_local(async move {
        // A hidden tab or an embed scrolled away waits here (no animation frame stops it).
        super::visibility::until_visible().await;
        let (inputs, generation) = {
            let mut s = state.borrow_mut();
            let (Some(chain), true) = (&s.chain, s.loaded) else {
                return;
            };
            if s.busy == Some(s.generation) {
                return; // a step of this chain is already running
            }
            let inputs = chain.inputs();
            s.busy = Some(s.generation);
            (inputs, s.generation)
        };
        let started = dom::now_ms();
        let output = match inputs {
            Some(inputs) => {
                let request = Request::Denoise {
                    timesteps: inputs.timesteps,
                    labels: inputs.labels,
                };
                engine::call(&request, inputs.pixels, Vec::new())
                    .await
                    .map(|(_, output, _)| Some(output))
            }
            None => Ok(None),
        };
        let mut s = state.borrow_mut();
        if s.generation != generation {
            return; // restarted, or moved to the CPU, while this step ran
        }
        s.busy = None;
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                s.busy = None;
                s.running = false;
                set_status(&format!("Sampling failed: {e}"), "error");
                embed::emit("error", "digits", &format!("sampling failed: {e}"));
                return;
            }
        };
        s.step_ms.push(dom::now_ms() - started);
        let schedule = s.schedule.clone();
        let Some(chain) = s.chain.as_mut() else { return };
        if let (Some(output), Some(schedule)) = (output, schedule) {
            chain.advance(&schedule, &output);
        }
        if chain.current_t().is_none() {
            let summary = format!("{} digits in {} steps", chain.images.len(), chain.timesteps.len());
            s.running = false;
            embed::emit("sampled", "digits", &summary);
        }
        status(&s);
        let again = s.running;
        if again {
            draw_next_frame(&state, &mut s);
        } else {
            // The last step (or Step): drawn now, with the status and the "sampled" event.
            draw(&s);
        }
        drop(s);
        if again {
            animate(&state);
        }
    });
}

/// Draws the grid at the next animation frame, once however many steps land before it.
fn draw_next_frame(state: &Shared, s: &mut DigitsPanel) {
    if std::mem::replace(&mut s.draw_pending, true) {
        return;
    }
    let state = state.clone();
    let callback = Closure::once_into_js(move |_: f64| {
        let mut s = state.borrow_mut();
        s.draw_pending = false;
        draw(&s);
    });
    let _ = dom::window().request_animation_frame(callback.unchecked_ref());
}

fn set_status(text: &str, state: &str) {
    dom::set_status("digits-status", text, state);
}

fn status(s: &DigitsPanel) {
    let Some(chain) = &s.chain else { return };
    let notice = s.notice.as_deref().map_or(String::new(), |n| format!("{n} "));
    let taken = chain.taken;
    let total = chain.timesteps.len();
    let mean = s.step_ms.iter().sum::<f64>() / s.step_ms.len().max(1) as f64;
    let rate = if mean > 0.0 { 1000.0 / mean } else { 0.0 };
    match chain.current_t() {
        None => set_status(
            &format!(
                "{notice}{} digit{} in {total} steps on {}: {:.1} s ({rate:.1} steps/s).",
                chain.images.len(),
                if chain.images.len() == 1 { "" } else { "s" },
                s.backend,
                (dom::now_ms() - s.started_ms) / 1e3
            ),
            "done",
        ),
        Some(t) => set_status(
            &format!(
                "{notice}Step {taken}/{total}, t = {t}, on {} ({rate:.1} steps/s)",
                s.backend
            ),
            if s.running { "sampling" } else { "paused" },
        ),
    }
}

/// The grid: for each digit, `x_t` beside the predicted `x_0`; or SDEdit's own view.
fn draw(s: &DigitsPanel) {
    let Some(chain) = &s.chain else { return };
    if let Some(sd) = &s.sdedit {
        return draw_sdedit(sd, chain);
    }
    let pairs: Vec<(&Image, &Image)> = chain.images.iter().zip(&chain.predicted_x0).collect();
    let columns = 8; // four pairs a row
    let images: Vec<&Image> = pairs.iter().flat_map(|(x, x0)| [*x, *x0]).collect();
    if let Err(e) = paint("digits-canvas", &images, columns) {
        web_sys::console::error_1(&e.into());
    }
}

/// SDEdit's view, large enough to read: the drawing, the drawing noised to t, then each
/// result (unconditional, and guided toward the chosen digit) as it is denoised, with words
/// under each picture.
fn draw_sdedit(sd: &SdEdit, chain: &DigitChain) {
    let done = chain.current_t().is_none();
    let mut images: Vec<&Image> = vec![&sd.drawing, &sd.noised];
    let mut captions = vec!["your drawing".to_string(), format!("noised to t = {}", sd.t)];
    for (k, label) in sd.labels.iter().enumerate() {
        // While running, the model's current guess of x_0; at the end, the result itself.
        images.push(if done {
            &chain.images[k]
        } else {
            &chain.predicted_x0[k]
        });
        captions.push(match label {
            None => "denoised, no label".into(),
            Some(d) => format!("denoised as a {d}"),
        });
    }
    let columns = images.len();
    dom::set_hidden("digits-sdedit-result", false);
    if let Err(e) = paint_zoomed("digits-sdedit-result", &images, columns, SDEDIT_ZOOM) {
        web_sys::console::error_1(&e.into());
    }
    let text = if sd.labels.len() == 1 {
        format!(
            "{}. Choose a digit above to also see the drawing pulled toward it.",
            captions.join(" · ")
        )
    } else {
        captions.join(" · ")
    };
    dom::set_text("digits-sdedit-caption", &text);
    super::classroom::describe(
        "digits-sdedit-desc",
        format!("Left to right: {}.", captions.join(", ")),
    );
}

/// Draws the forward row: the first real digits of each class, noised to `t` with fixed noise.
pub fn draw_forward(schedule: &NoiseSchedule, t: usize) {
    let noised = noised_row(schedule, t);
    let refs: Vec<&Image> = noised.iter().collect();
    if let Err(e) = by_id("digits-forward").and_then(|c| paint_on(&c, &refs, FORWARD, ZOOM)) {
        web_sys::console::error_1(&e.into());
    }
    LAST_FORWARD.with(|f| *f.borrow_mut() = noised);
}

/// [`draw_forward`] onto a canvas outside the page (see `warm`): the same work, nothing shown.
pub fn warm_forward(schedule: &NoiseSchedule, t: usize, canvas: &HtmlCanvasElement) -> Result<(), String> {
    let noised = noised_row(schedule, t);
    let refs: Vec<&Image> = noised.iter().collect();
    paint_on(canvas, &refs, FORWARD, ZOOM)
}

/// One real digit of each class, noised to step `t` (with noise fixed for the page's life).
fn noised_row(schedule: &NoiseSchedule, t: usize) -> Vec<Image> {
    thread_local! {
        static ROW: (Vec<Image>, Vec<Image>) = {
            let digits = Digits::parse(SAMPLE).expect("the shipped sample is valid (tested natively)");
            let chosen: Vec<usize> = (0..FORWARD).map(|i| digits.labels.iter().position(|&l| l as usize == i).unwrap_or(0)).collect();
            let images = chosen.iter().map(|&i| {
                let mut image = [0.0; PIXELS];
                image.iter_mut().zip(digits.unit(i)).for_each(|(p, v)| *p = v);
                image
            }).collect();
            let noise = standard_normal::<PIXELS>(FORWARD, 0x6d6e);
            (images, noise)
        };
    }
    ROW.with(|(images, noise)| {
        images
            .iter()
            .zip(noise)
            .map(|(x0, e)| schedule.add_noise(x0, e, t))
            .collect()
    })
}

/// Paints 28x28 images (values in [-1, 1], black ink on white) in a grid of `columns`.
fn paint(id: &str, images: &[&Image], columns: usize) -> Result<(), String> {
    paint_zoomed(id, images, columns, ZOOM)
}

fn paint_zoomed(id: &str, images: &[&Image], columns: usize, zoom: usize) -> Result<(), String> {
    paint_on(&by_id(id)?, images, columns, zoom)
}

fn paint_on(
    canvas: &HtmlCanvasElement,
    images: &[&Image],
    columns: usize,
    zoom: usize,
) -> Result<(), String> {
    let rows = images.len().div_ceil(columns);
    let gap = if images.len() > 1 { 2 } else { 0 };
    let cell = SIDE * zoom + gap;
    let (width, height) = (columns * cell, rows * cell);
    if canvas.width() as usize != width || canvas.height() as usize != height {
        canvas.set_width(width as u32);
        canvas.set_height(height as u32);
    }
    let mut rgba = vec![255u8; width * height * 4];
    for (k, image) in images.iter().enumerate() {
        let (ox, oy) = ((k % columns) * cell, (k / columns) * cell);
        for y in 0..SIDE * zoom {
            for x in 0..SIDE * zoom {
                let v = 255 - to_byte(image[(y / zoom) * SIDE + x / zoom]);
                let at = ((oy + y) * width + ox + x) * 4;
                rgba[at..at + 3].fill(v);
            }
        }
    }
    let data = ImageData::new_with_u8_clamped_array_and_sh(Clamped(&rgba), width as u32, height as u32)
        .map_err(|_| "cannot make the image data".to_string())?;
    let ctx = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
        .ok_or("this browser gave no 2-D canvas context")?;
    ctx.put_image_data(&data, 0.0, 0.0)
        .map_err(|_| "cannot draw the digits".to_string())
}
