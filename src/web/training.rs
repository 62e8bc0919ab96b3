//! The live training panel: Train builds a 2-D denoiser in the page's worker (burn, on WebGPU
//! or the CPU) and trains it there in slices, each answered with its losses, so the page's
//! thread only draws; Sample then walks particles from noise back to the data, one reverse step
//! per animation frame (the first at once; the network runs in the worker, the step's arithmetic
//! here); last, the
//! panel measures sample quality against the number of steps.
//!
//! The panel keeps what it shows (the losses, the chains); the worker keeps the network.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::HtmlInputElement;

use super::canvas::Canvas;
use super::dom::{self, by_id, set_text};
use super::embed;
use super::engine::{self, ModelHandle};
use crate::charts::training as charts;
use crate::data::DataSet;
use crate::math::NoiseSchedule;
use crate::math::distance::energy_distance;
use crate::math::forward::Point;
use crate::params::Params;
use crate::protocol::{Reply, Request, flatten};
use crate::sampling::{Chain, Parameterization, Sampler};

/// Training the worker does before it answers with the losses: long enough that the messages
/// cost little, short enough that Pause answers at once.
const SLICE_MS: f64 = 40.0;
/// How often the charts follow a running training.
const DRAW_EVERY_MS: f64 = 200.0;
/// How often the other panels get the weights of a running training (they redraw for it).
const PUBLISH_EVERY_MS: f64 = 1000.0;
/// Particles of the reverse chain.
const PARTICLES: usize = 1000;
/// Particles, and fresh data points, of each chain of the quality chart.
const QUALITY_POINTS: usize = 500;
/// The numbers of reverse steps the quality chart tries (those above T are dropped).
const QUALITY_STEPS: [usize; 9] = [1, 2, 5, 10, 20, 50, 100, 200, 1000];

/// What the page gives the panel to train on: the data, the controls (schedule and seed), and a
/// number that changes whenever the data does.
pub type Source = Box<dyn Fn() -> (Vec<Point<2>>, Params, u64)>;

/// The model as it is at one moment, for the panels that compare it with the exact answer.
#[derive(Clone)]
pub struct Snapshot {
    /// Changes with every update of the weights.
    pub version: u64,
    /// The network, frozen in the worker.
    pub model: Rc<ModelHandle>,
    /// What its outputs mean.
    pub parameterization: Parameterization,
    /// The schedule it was trained for.
    pub schedule: NoiseSchedule,
    /// The page's data version it was trained on.
    pub data_version: u64,
}

/// A training run as the page sees it; its network lives in the worker.
pub struct Run {
    /// Every loss so far.
    pub losses: Vec<f32>,
    /// Steps the run takes in all.
    total_steps: usize,
    /// What the network predicts.
    parameterization: Parameterization,
    /// The schedule it learns to reverse.
    schedule: NoiseSchedule,
}

impl Run {
    fn step_count(&self) -> usize {
        self.losses.len()
    }

    fn finished(&self) -> bool {
        self.step_count() >= self.total_steps
    }
}

/// The panel's state.
#[derive(Default)]
pub struct Training {
    /// burn has started in the worker.
    ready: bool,
    source: Option<Source>,
    /// Called when the model changes, so that the other panels redraw.
    on_model: Option<Box<dyn Fn()>>,
    /// Called when the reader moves along the chain (`None`: its newest state), for the link.
    on_chain: Option<Box<dyn Fn(Option<usize>)>>,
    /// The chain position a link asked for, shown once a chain has finished.
    wanted_view: Option<usize>,
    /// Whether the worker's burn runs on WebGPU.
    gpu: bool,
    /// Train or Step asked for before the device was ready.
    pending: Option<Action>,
    trainer: Option<Run>,
    /// The points the current run trains on, and their data version.
    data: Vec<Point<2>>,
    data_version: u64,
    data_set: DataSet,
    seed: u64,
    running: bool,
    /// A training loop is alive (it may be waiting for the browser).
    looping: bool,
    sampling: Option<Sampling>,
    /// Which entry of the chain's history the panel shows (`None`: the newest).
    view: Option<usize>,
    quality: Option<Quality>,
    error: Option<String>,
    /// Bumped by Reset, so a task that was awaiting a result drops it instead of restoring it.
    generation: u64,
    /// Chains started so far: the seed of the next one.
    samples_drawn: u64,
    snapshot: Option<Snapshot>,
    last_draw: f64,
    last_publish: f64,
    /// Where the current run trains.
    device_name: &'static str,
    /// Time spent training so far in this run (slices only, not the pauses between them).
    train_ms: f64,
}

impl Training {
    /// The reverse chain shown, if any.
    fn chain(&self) -> Option<&Chain> {
        self.sampling.as_ref().map(|s| &s.chain)
    }

    /// Makes `trainer` the panel's run, on the page's data as it is now; what the previous run
    /// showed (error, chain, quality chart, timings) is dropped.
    fn begin(
        &mut self,
        trainer: Run,
        device_name: &'static str,
        data: Vec<Point<2>>,
        data_version: u64,
        params: &Params,
    ) {
        self.trainer = Some(trainer);
        self.device_name = device_name;
        self.data = data;
        self.data_version = data_version;
        self.data_set = params.data;
        self.seed = params.seed;
        self.error = None;
        self.sampling = None;
        self.quality = None;
        self.last_draw = f64::NEG_INFINITY;
        self.last_publish = dom::now_ms();
        self.train_ms = 0.0;
    }

    /// Copies the current weights out for the other panels, and tells them.
    fn publish(&mut self) {
        let Some(trainer) = &self.trainer else {
            self.snapshot = None;
            return;
        };
        let Some(model) = ModelHandle::freeze() else {
            return;
        };
        let version = self.snapshot.as_ref().map_or(1, |s| s.version + 1);
        self.snapshot = Some(Snapshot {
            version,
            model: Rc::new(model),
            parameterization: trainer.parameterization,
            schedule: trainer.schedule.clone(),
            data_version: self.data_version,
        });
        if let Some(hook) = &self.on_model {
            hook();
        }
    }
}

/// A reverse chain and the network it samples from, frozen when the chain starts.
struct Sampling {
    chain: Chain,
    model: Rc<ModelHandle>,
    parameterization: Parameterization,
    schedule: NoiseSchedule,
}

impl Sampling {
    /// A chain from the network as it is now; `None` before burn has started.
    fn start(run: &Run, sampler: Sampler, steps: usize, n: usize, seed: u64) -> Option<Self> {
        Some(Self {
            chain: Chain::new(&run.schedule, sampler, steps, n, seed),
            model: Rc::new(ModelHandle::freeze()?),
            parameterization: run.parameterization,
            schedule: run.schedule.clone(),
        })
    }

    /// One reverse step of the chain.
    async fn step(&mut self) -> Result<(), String> {
        let chain = &mut self.chain;
        let Some(t) = chain.current_t() else {
            return Ok(());
        };
        let out = self.model.predict(&chain.particles, t).await?;
        chain.advance(&self.schedule, self.parameterization, &out);
        Ok(())
    }
}

/// Sample quality against the number of reverse steps, filled in one chain at a time.
pub struct Quality {
    /// `(sampler, steps, energy distance to fresh data)` measured so far.
    pub results: Vec<charts::QualityPoint>,
    /// The energy distance between two fresh samples of the data: the floor.
    pub floor: f64,
    todo: Vec<(Sampler, usize)>,
    reference: Vec<Point<2>>,
}

type Shared = Rc<RefCell<Training>>;

thread_local! {
    static PANEL: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

fn with_panel<T>(f: impl FnOnce(&Training) -> T) -> Option<T> {
    PANEL.with(|p| p.borrow().as_ref().map(|s| f(&s.borrow())))
}

/// The losses of the current run (empty before Train).
pub fn losses() -> Vec<f32> {
    with_panel(|s| s.trainer.as_ref().map(|t| t.losses.clone()))
        .flatten()
        .unwrap_or_default()
}

/// The quality chart's measurements so far, as `[steps, energy distance, ddim?]` triples.
pub fn quality() -> Vec<f64> {
    with_panel(|s| {
        s.quality.as_ref().map(|q| {
            q.results
                .iter()
                .flat_map(|(sampler, steps, d)| {
                    [*steps as f64, *d, f64::from(u8::from(*sampler != Sampler::Ddpm))]
                })
                .collect()
        })
    })
    .flatten()
    .unwrap_or_default()
}

/// The page's data changed: a run still training (or its chain still animating) on the old
/// data stops at once, the slice in flight is dropped when it returns, and Train starts a new
/// run on the new data. A finished model is kept (the other panels call it stale).
pub fn data_changed() {
    let Some(state) = PANEL.with(|p| p.borrow().clone()) else {
        return;
    };
    // Called from the page's own update; a panel busy with its own borrow is mid-action and
    // sees the new data when it next asks.
    let Ok(mut s) = state.try_borrow_mut() else {
        return;
    };
    let animating = s.sampling.as_ref().is_some_and(|x| !x.chain.is_done());
    if s.trainer.is_none() || !(s.looping || s.running || animating) {
        return;
    }
    s.generation += 1;
    s.running = false;
    s.looping = false;
    s.pending = None;
    let message = "The data changed, so training stopped: Train starts a new run on the new data.";
    s.error = Some(message.into());
    set_status(message, "stopped");
}

/// Redraws the panel's charts (after the theme or the screen changed).
pub fn redraw() {
    with_panel(draw);
}

/// `n` points of the data the current run trains on, as the command line makes them
/// (`swissroll data --n N --seed S` for the Swiss roll), with their data seed; the reader's own
/// points for drawn data.
pub fn run_data(n: usize) -> Option<(Vec<Point<2>>, u64)> {
    with_panel(|s| {
        s.trainer.as_ref()?;
        let points = match s.data_set {
            DataSet::Drawn => s.data.iter().take(n).copied().collect(),
            set => set.generate(n, s.seed),
        };
        Some((points, s.seed))
    })
    .flatten()
}

/// The model as it is now, if one has been trained.
pub fn snapshot() -> Option<Snapshot> {
    with_panel(|s| s.snapshot.clone()).flatten()
}

/// Wires the panel's controls; training waits for the backend (see [`set_device`]).
pub fn start(
    source: Source,
    on_model: Box<dyn Fn()>,
    on_chain: Box<dyn Fn(Option<usize>)>,
) -> Result<Shared, String> {
    let state: Shared = Rc::new(RefCell::new(Training {
        source: Some(source),
        on_model: Some(on_model),
        on_chain: Some(on_chain),
        ..Default::default()
    }));
    PANEL.with(|p| *p.borrow_mut() = Some(state.clone()));
    for (id, action) in [
        ("train", Action::Train),
        ("pause", Action::Pause),
        ("step", Action::Step),
        ("reset", Action::Reset),
        ("sample", Action::Sample),
    ] {
        let state = state.clone();
        dom::listen(id, "click", move |_| act(&state, action))?;
    }
    let scrubbed = state.clone();
    dom::listen("chain-step", "input", move |_| {
        let mut s = scrubbed.borrow_mut();
        let value = by_id::<HtmlInputElement>("chain-step").map(|e| e.value_as_number());
        let taken = s.chain().map_or(0, |c| c.taken);
        if let Ok(v) = value {
            let v = (v.max(0.0) as usize).min(taken);
            s.view = (v < taken).then_some(v);
        }
        draw(&s);
        if let Some(hook) = &s.on_chain {
            hook(s.view);
        }
    })?;
    draw(&state.borrow());
    Ok(state)
}

/// Tells the panel that burn has started in the worker. `gpu` says whether it is WebGPU: then
/// the panel offers both, and "auto" trains on `auto` ("WebGPU" or "CPU": where the worker
/// timed the network faster, for one this small the CPU can be) unless the reader picks.
pub fn set_ready(state: &Shared, gpu: bool, auto: &str) {
    let mut s = state.borrow_mut();
    s.ready = true;
    s.gpu = gpu;
    offer_webgpu(gpu.then_some(auto));
    set_status("Ready: press Train.", "idle");
    if let Some(action) = s.pending.take() {
        drop(s);
        act(state, action);
    }
}

/// Shows the chain at `view` reverse steps (`None`: its end), now if a chain has finished,
/// else once one has: a link's `chain=` arrives before the model exists.
pub fn show_chain(state: &Shared, view: Option<usize>) {
    let mut s = state.borrow_mut();
    match s.chain().filter(|c| c.is_done()).map(|c| c.taken) {
        Some(taken) => {
            s.view = view.filter(|&k| k < taken);
            draw(&s);
        }
        None => s.wanted_view = view,
    }
}

/// Reverse steps of the finished chain shown, if there is one.
pub fn chain_length() -> Option<usize> {
    with_panel(|s| s.chain().filter(|c| c.is_done()).map(|c| c.taken)).flatten()
}

/// Shows the finished chain at `k` reverse steps (`None`: its end), without touching the link
/// (for recording a video of it).
pub fn show_step(k: Option<usize>) {
    PANEL.with(|p| {
        if let Some(state) = p.borrow().as_ref() {
            let mut s = state.borrow_mut();
            let taken = s.chain().map_or(0, |c| c.taken);
            s.view = k.filter(|&k| k < taken);
            draw(&s);
        }
    });
}

/// Enables the "train on: WebGPU" choice where WebGPU runs (`auto`: where "auto" trains then,
/// said beside it), or disables it and says nothing beside "auto".
fn offer_webgpu(auto: Option<&str>) {
    if let Some(option) = dom::document().get_element_by_id("train-device-webgpu") {
        let _ = option.toggle_attribute_with_force("disabled", auto.is_none());
    }
    set_text(
        "train-device-auto",
        &auto.map_or("auto".to_string(), |on| format!("auto ({on})")),
    );
}

/// The browser lost the WebGPU device: it is no longer offered, and a run on it stops (its
/// weights lived on the GPU); Train starts again on the CPU.
pub fn gpu_lost(state: &Shared, why: &str) {
    let mut s = state.borrow_mut();
    s.gpu = false;
    offer_webgpu(None);
    if s.device_name == "WebGPU" && s.trainer.is_some() {
        fail(
            &mut s,
            format!(
                "WebGPU stopped ({why}) and this run's weights were on it. Press Train to start again on the CPU."
            ),
        );
    }
}

/// What the panel's buttons (and a host page's messages) ask for.
#[derive(Clone, Copy, Debug)]
pub enum Action {
    /// Train to the end (a new run if the last one ended or failed).
    Train,
    /// Stop between two slices.
    Pause,
    /// One training step.
    Step,
    /// Forget the run.
    Reset,
    /// A new reverse chain from the trained model.
    Sample,
}

/// Carries out one action.
pub fn act(state: &Shared, action: Action) {
    let mut s = state.borrow_mut();
    match action {
        Action::Train | Action::Step => {
            if !s.ready {
                // Pressed (or asked for by a link or a host page) before burn is ready: done
                // as soon as it is.
                s.pending = Some(action);
                engine::wanted();
                return set_status(
                    "burn is still starting; training will begin when it is ready…",
                    "idle",
                );
            }
            let fresh = s.trainer.as_ref().is_none_or(Run::finished) || s.error.is_some();
            let limit = match action {
                Action::Step => {
                    s.running = false;
                    Some(1)
                }
                _ => {
                    s.running = true;
                    s.sampling = None;
                    s.quality = None;
                    draw(&s);
                    None
                }
            };
            if !s.looping {
                s.looping = true;
                drop(s);
                wasm_bindgen_futures::spawn_local(train_loop(state.clone(), limit, fresh));
            }
        }
        Action::Pause => {
            s.running = false;
            status(&s);
        }
        Action::Reset => {
            *s = Training {
                ready: s.ready,
                gpu: s.gpu,
                source: s.source.take(),
                on_model: s.on_model.take(),
                on_chain: s.on_chain.take(),
                generation: s.generation + 1,
                ..Default::default()
            };
            s.publish();
            set_status("Reset: press Train to start again.", "idle");
            if let Some(hook) = &s.on_chain {
                hook(None);
            }
            draw(&s);
        }
        Action::Sample => {
            let (sampler, steps) = sampler_settings(&s);
            let Some(trainer) = &s.trainer else {
                return set_status("Train a model first.", "idle");
            };
            // A new seed each press, so repeated presses show different particles.
            let sampling = Sampling::start(trainer, sampler, steps, PARTICLES, s.samples_drawn);
            s.sampling = sampling;
            s.samples_drawn += 1;
            s.running = false;
            s.view = None;
            // Says "sampling" at once: the first step's answer comes from the worker.
            status(&s);
            if let Some(hook) = &s.on_chain {
                hook(None);
            }
            drop(s);
            animate(state);
        }
    }
}

/// Starts a new run in the worker from the panel's settings and the page's data and schedule.
async fn new_run(state: &Shared) -> Result<(), String> {
    let (data, params, data_version) = {
        let s = state.borrow();
        s.source.as_ref().ok_or("the panel has no data source")?()
    };
    if data.len() < 2 {
        return Err("There are no points to train on: draw some on the forward chart first.".into());
    }
    let request = Request::NewRun {
        query: params.to_query(),
    };
    let (reply, _, _) = engine::call(&request, flatten(&data), Vec::new()).await?;
    let Reply::Run {
        total_steps, device, ..
    } = reply
    else {
        return Err("the worker answered something else".into());
    };
    let run = Run {
        losses: Vec::new(),
        total_steps,
        parameterization: params.train.parameterization.parse()?,
        schedule: params.schedule(),
    };
    let device_name = if device == "WebGPU" { "WebGPU" } else { "the CPU" };
    state
        .borrow_mut()
        .begin(run, device_name, data, data_version, &params);
    Ok(())
}

/// The sampler, and its number of reverse steps, chosen in the panel.
fn sampler_settings(s: &Training) -> (Sampler, usize) {
    let Some((_, params, _)) = s.source.as_ref().map(|source| source()) else {
        return (Sampler::Ddim { eta: 1.0 }, 100);
    };
    let t = &params.train;
    (Sampler::from_settings(t.sampler, t.eta), t.reverse_steps)
}

fn set_status(text: &str, state: &str) {
    dom::set_status("train-status", text, state);
}

fn fail(s: &mut Training, message: String) {
    fail_as(s, message, "error");
}

/// Stops the run with a message, and tells a host page (`event` is `error` or `diverged`).
fn fail_as(s: &mut Training, message: String, event: &str) {
    s.running = false;
    set_status(&message, "error");
    embed::emit(event, "train", &message);
    s.error = Some(message);
}

/// Trains in slices until the run ends, is paused or is reset; `limit` stops it after that many
/// steps (the Step button); `fresh` starts a new run first.
async fn train_loop(state: Shared, limit: Option<usize>, fresh: bool) {
    if fresh {
        let generation = state.borrow().generation;
        let made = new_run(&state).await;
        let mut s = state.borrow_mut();
        if s.generation != generation {
            s.looping = false;
            return; // Reset while the run was being made
        }
        if let Err(e) = made {
            s.looping = false;
            return fail(&mut s, e);
        }
    }
    let mut left = limit.unwrap_or(usize::MAX);
    let slice = |max_steps| Request::Train {
        ms: SLICE_MS,
        max_steps,
    };
    // A full run keeps one more slice asked for while the page reads the last, so the worker
    // goes straight on instead of waiting for the page's answer (about a tenth of each slice
    // otherwise). The Step button asks for exactly what it wants. Each slice is kept with the
    // run's generation when it was asked for, so a Reset meanwhile makes it stale.
    let mut next: Option<(engine::Pending, u64)> = None;
    loop {
        let (generation, going) = {
            let mut s = state.borrow_mut();
            let go = if limit.is_some() { left > 0 } else { s.running } && s.error.is_none();
            let more = s.trainer.as_ref().is_some_and(|t| !t.finished());
            // Paused with a slice still asked for: it is read like any other (its steps
            // belong to the run, and it may be the one that ends it).
            if !(go && more) && next.is_none() {
                if limit.is_some() && s.running && s.error.is_none() && more {
                    // Train was pressed during a single step: carry on as a full run.
                    drop(s);
                    wasm_bindgen_futures::spawn_local(train_loop(state.clone(), None, false));
                    return;
                }
                s.looping = false;
                break;
            }
            (s.generation, go && more)
        };
        // A slice: the worker trains until the time is up, then answers with the losses.
        let (this, asked_in) = next.take().unwrap_or_else(|| {
            (
                Box::pin(engine::send(&slice(left), Vec::new(), Vec::new())),
                generation,
            )
        });
        if going && limit.is_none() {
            next = Some((
                Box::pin(engine::send(&slice(left), Vec::new(), Vec::new())),
                generation,
            ));
        }
        let Slice::Took(error) = took_slice(&state, this.await, asked_in, &mut left) else {
            return; // Reset (or failed elsewhere) while the slice ran
        };
        if !after_slice(&state, error, asked_in, left == 0) {
            return;
        }
        super::visibility::until_visible().await;
    }
    status(&state.borrow());
}

/// What became of a slice's answer.
enum Slice {
    /// The run was reset, or failed elsewhere (a lost GPU), while the slice ran: what it held
    /// is stale, and the state already has no loop.
    Stale,
    /// Its losses were added to the run; the failure it reported, if any.
    Took(Option<(String, &'static str)>),
}

/// Adds a slice's losses, and the worker's time for them, to the run.
fn took_slice(
    state: &Shared,
    answer: Result<engine::Answer, String>,
    generation: u64,
    left: &mut usize,
) -> Slice {
    let mut s = state.borrow_mut();
    if s.generation != generation || s.error.is_some() {
        return Slice::Stale;
    }
    Slice::Took(match answer {
        Ok((Reply::Trained { failure, ms, .. }, losses, _)) => {
            *left = left.saturating_sub(losses.len());
            if let Some(run) = s.trainer.as_mut() {
                run.losses.extend(losses);
            }
            s.train_ms += ms;
            failure.map(|f| (f.message, if f.diverged { "diverged" } else { "error" }))
        }
        Ok(_) => Some(("the worker answered something else".to_string(), "error")),
        Err(e) => Some((e, "error")),
    })
}

/// Puts the trainer back after a slice and decides whether the loop goes on: it stops on an
/// error, at the end of the run (which starts sampling) and after Reset.
fn after_slice(
    state: &Shared,
    error: Option<(String, &'static str)>,
    generation: u64,
    limit_reached: bool,
) -> bool {
    let mut s = state.borrow_mut();
    if s.generation != generation {
        return false;
    }
    let finished = s.trainer.as_ref().is_some_and(Run::finished);
    if let Some((e, event)) = error {
        fail_as(&mut s, e, event);
        s.looping = false;
        s.publish();
        draw(&s);
        return false;
    }
    let now = dom::now_ms();
    if finished || limit_reached || now - s.last_publish >= PUBLISH_EVERY_MS {
        s.last_publish = now;
        s.publish();
    }
    if finished || limit_reached {
        status(&s);
        draw(&s);
    } else if now - s.last_draw >= DRAW_EVERY_MS {
        s.last_draw = now;
        status(&s);
        draw_loss(&s);
    }
    if !finished {
        return true;
    }
    s.running = false;
    s.looping = false;
    let n = s.trainer.as_ref().map_or(0, |t| t.step_count());
    let loss = s.trainer.as_ref().and_then(|t| t.losses.last().copied());
    embed::emit(
        "trained",
        "train",
        &format!(
            "{n} steps, last loss {}",
            loss.map_or("?".into(), |l| format!("{l:.4}"))
        ),
    );
    // Done: show what the model learned, with the panel's sampler settings.
    let (sampler, steps) = sampler_settings(&s);
    let trainer = s.trainer.as_ref().expect("checked above");
    s.sampling = Sampling::start(trainer, sampler, steps, PARTICLES, 0);
    s.samples_drawn = 1;
    s.view = None;
    drop(s);
    reverse_step(state);
    false
}

/// Reverse steps taken by the chain shown.
fn sampling_taken(s: &Training) -> usize {
    s.chain().map_or(0, |c| c.taken)
}

/// Takes one reverse step per animation frame until the chain is done, then measures quality.
fn animate(state: &Shared) {
    let state = state.clone();
    let callback = Closure::once_into_js(move |_: f64| reverse_step(&state));
    let _ = dom::window().request_animation_frame(callback.unchecked_ref());
}

/// One reverse step now, then the rest one an animation frame ([`animate`]). The first step
/// starts as soon as training ends, without waiting for a frame.
fn reverse_step(state: &Shared) {
    let state = state.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let (sampling, generation) = {
            let mut s = state.borrow_mut();
            (s.sampling.take(), s.generation)
        };
        let Some(mut sampling) = sampling else { return };
        // With reduced motion the chain runs to its end and is drawn once: no animation.
        let calm = super::classroom::reduced_motion();
        let mut result = sampling.step().await;
        while calm && result.is_ok() && !sampling.chain.is_done() {
            result = sampling.step().await;
        }
        let mut s = state.borrow_mut();
        if s.generation != generation || s.sampling.is_some() {
            // Reset, or a newer chain was started meanwhile.
            return;
        }
        let done = sampling.chain.is_done();
        s.sampling = Some(sampling);
        if let Err(e) = result {
            return fail(&mut s, e);
        }
        if done {
            if let Some(k) = s.wanted_view.take() {
                s.view = Some(k).filter(|&k| k < sampling_taken(&s));
            }
            let c = s.chain().map(|c| (c.particles.len(), c.timesteps.len()));
            if let Some((n, k)) = c {
                embed::emit("sampled", "train", &format!("{n} points in {k} reverse steps"));
            }
        }
        status(&s);
        draw(&s);
        drop(s);
        if !done {
            animate(&state);
        } else if state.borrow().quality.is_none() {
            wasm_bindgen_futures::spawn_local(measure_quality(state.clone()));
        }
    });
}

/// Fills the quality chart: for DDPM and deterministic DDIM, sample with each number of steps
/// and take the energy distance to fresh data. One chain per slice.
async fn measure_quality(state: Shared) {
    let (trainer_model, _, generation) = {
        let mut s = state.borrow_mut();
        let Some(trainer) = &s.trainer else { return };
        let schedule = trainer.schedule.clone();
        let Some(model) = s.snapshot.as_ref().map(|snap| snap.model.clone()) else {
            return;
        };
        let reference = match s.data_set {
            // The reader's own points are all there is: compare with them.
            DataSet::Drawn => s.data.clone(),
            set => set.generate(QUALITY_POINTS, s.seed.wrapping_add(7_919)),
        };
        let other = match s.data_set {
            DataSet::Drawn => s.data.iter().rev().copied().collect(),
            set => set.generate(QUALITY_POINTS, s.seed.wrapping_add(104_729)),
        };
        let mut todo = Vec::new();
        for sampler in [Sampler::Ddpm, Sampler::Ddim { eta: 0.0 }] {
            for steps in QUALITY_STEPS.into_iter().filter(|&k| k <= schedule.steps()) {
                todo.push((sampler, steps));
            }
        }
        if !todo.iter().any(|(_, k)| *k == schedule.steps()) {
            todo.push((Sampler::Ddpm, schedule.steps()));
        }
        s.quality = Some(Quality {
            results: Vec::new(),
            floor: energy_distance(&reference, &other),
            todo,
            reference,
        });
        (model, schedule, s.generation)
    };
    loop {
        let next = {
            let s = state.borrow();
            if s.generation != generation {
                return;
            }
            s.quality.as_ref().and_then(|q| q.todo.first().copied())
        };
        let Some((sampler, steps)) = next else { break };
        // The whole chain runs in the worker: one message, not one a step.
        let result = trainer_model
            .sample(sampler, steps, QUALITY_POINTS, 1_000 + steps as u64)
            .await;
        let mut s = state.borrow_mut();
        if s.generation != generation {
            return;
        }
        let Some(q) = s.quality.as_mut() else { return };
        q.todo.remove(0);
        if let Ok(particles) = result {
            let d = energy_distance(&particles, &q.reference);
            q.results.push((sampler, steps, d));
        }
        draw(&s);
    }
    status(&state.borrow());
}

fn status(s: &Training) {
    if s.error.is_some() {
        return;
    }
    let Some(t) = &s.trainer else { return };
    let n = t.step_count();
    let last = t.losses.last().copied().unwrap_or(f32::NAN);
    let seconds = s.train_ms / 1e3;
    let trained = if s.train_ms == 0.0 && n > 0 {
        format!("Imported a model trained for {n} steps (loss {last:.3})")
    } else {
        format!(
            "Trained {n} steps on {} in {seconds:.1} s ({:.0} steps/s; loss {last:.3})",
            s.device_name,
            n as f64 / seconds.max(1e-9)
        )
    };
    let (text, state) = match s.chain() {
        Some(c) if c.is_done() => {
            let quality = match &s.quality {
                Some(q) if q.todo.is_empty() => format!(
                    " Quality measured for {} chains (energy distance to fresh data; two data samples: {:.4}).",
                    q.results.len(),
                    q.floor
                ),
                Some(_) => " Measuring quality against the number of steps…".into(),
                None => String::new(),
            };
            (
                format!(
                    "{trained}; sampled {} points with {} in {} steps.{quality}",
                    c.particles.len(),
                    c.sampler,
                    c.timesteps.len()
                ),
                "sampled",
            )
        }
        Some(c) => (
            format!(
                "{trained}. Sampling: t = {} ({}/{} steps)",
                c.current_t().unwrap_or(0),
                c.taken,
                c.timesteps.len()
            ),
            "sampling",
        ),
        None if s.running => (format!("Step {n}/{}: loss {last:.3}", t.total_steps), "training"),
        None => (
            format!(
                "Paused at step {n}/{}: loss {last:.3}. Train goes on, Step takes one step.",
                t.total_steps
            ),
            "paused",
        ),
    };
    set_status(&text, state);
}

/// Redraws the panel's charts.
fn draw(s: &Training) {
    draw_loss(s);
    draw_rest(s);
}

/// Redraws the loss chart alone: all that changes while training runs.
fn draw_loss(s: &Training) {
    let losses = s.trainer.as_ref().map(|t| t.losses.as_slice()).unwrap_or(&[]);
    if let Err(e) = Canvas::fit("loss-canvas").and_then(|c| charts::draw_loss(&c.surface()?, losses)) {
        web_sys::console::error_1(&e.into());
    }
}

/// The chain's state the panel shows: its particles and the history up to them.
fn shown(s: &Training) -> (&[Point<2>], &[Vec<Point<2>>]) {
    match s.chain() {
        Some(c) => {
            let k = s.view.unwrap_or(c.taken).min(c.history.len() - 1);
            (c.history[k].as_slice(), &c.history[..=k])
        }
        None => (&[], &[]),
    }
}

/// The trained model, its config and its losses as one file (the worker's `model::store`
/// bundle).
pub async fn export_model() -> Result<Vec<u8>, String> {
    if with_panel(|s| s.trainer.is_none()).unwrap_or(true) {
        return Err("train a model first".into());
    }
    let (_, _, file) = engine::call(&Request::Export, Vec::new(), Vec::new()).await?;
    Ok(file)
}

/// Makes the model the worker has just checked the panel's run, as if it had just been
/// trained here on the page's current data (the page has already taken the model's
/// settings), and samples it.
pub async fn import(state: &Shared) -> Result<(), String> {
    let (data, params, data_version) = {
        let s = state.borrow();
        s.source.as_ref().ok_or("the panel has no data source")?()
    };
    let (reply, losses, _) = engine::call(&Request::AdoptImport, flatten(&data), Vec::new()).await?;
    let Reply::Run { total_steps, .. } = reply else {
        return Err("the worker answered something else".into());
    };
    let trainer = Run {
        losses,
        total_steps,
        parameterization: params.train.parameterization.parse()?,
        schedule: params.schedule(),
    };
    let steps = trainer.step_count();
    let mut s = state.borrow_mut();
    s.generation += 1;
    s.running = false;
    s.looping = false;
    s.begin(trainer, "the CPU", data, data_version, &params);
    s.publish();
    set_status(
        &format!("Imported a model trained for {steps} steps."),
        "imported",
    );
    let (sampler, reverse_steps) = sampler_settings(&s);
    let trainer = s.trainer.as_ref().expect("just imported");
    s.sampling = Sampling::start(trainer, sampler, reverse_steps, PARTICLES, 0);
    s.samples_drawn = 1;
    s.view = None;
    draw(&s);
    drop(s);
    animate(state);
    Ok(())
}

/// Says why a file was not imported (the panel's run is untouched).
pub fn refuse_import(message: &str) {
    set_status(message, "refused");
}

/// The particles shown, as CSV (none before the first chain).
pub fn csv() -> Option<String> {
    with_panel(|s| {
        s.chain()?;
        let (particles, _) = shown(s);
        let mut out = String::from("x_1,x_2\n");
        for p in particles {
            out.push_str(&format!("{},{}\n", p[0], p[1]));
        }
        Some(out)
    })
    .flatten()
}

/// The samples chart drawn again on a new canvas at `scale` device pixels per CSS pixel.
pub fn draw_detached(scale: f64) -> Result<web_sys::HtmlCanvasElement, String> {
    with_panel(|s| {
        let canvas = Canvas::detached("samples-canvas", scale)?;
        let (particles, history) = shown(s);
        charts::draw_samples(&canvas.export_surface()?, &s.data, particles, history)?;
        Ok(canvas.element)
    })
    .unwrap_or_else(|| Err("the training panel has not started".into()))
}

/// The samples chart as SVG, at its size on the page.
pub fn svg() -> Result<String, String> {
    use plotters::prelude::{IntoDrawingArea, SVGBackend};
    with_panel(|s| {
        let (w, h) = Canvas::css_size("samples-canvas")?;
        let (particles, history) = shown(s);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
            charts::draw_samples(
                &crate::charts::Surface::new(root, 1.0),
                &s.data,
                particles,
                history,
            )?;
        }
        Ok(svg)
    })
    .unwrap_or_else(|| Err("the training panel has not started".into()))
}

/// Redraws the samples, the chain's scrubber and the quality chart.
fn draw_rest(s: &Training) {
    let chain = s.chain();
    let shown_at = chain.map(|c| s.view.unwrap_or(c.taken).min(c.history.len() - 1));
    let (particles, history) = shown(s);
    // The scrubber follows the chain; its label names the chain's timestep.
    if let (Some(c), Some(k), Ok(scrub)) = (chain, shown_at, by_id::<HtmlInputElement>("chain-step")) {
        scrub.set_max(&c.taken.to_string());
        scrub.set_value(&k.to_string());
        scrub.set_disabled(!c.is_done());
        let n = c.timesteps.len();
        let t = if k == 0 {
            c.timesteps[n - 1]
        } else if k >= n {
            0
        } else {
            c.timesteps[n - 1 - k]
        };
        set_text("chain-t", &format!("x_{t}"));
    }
    let data = if s.data.is_empty() { &[][..] } else { &s.data[..] };
    let quality = s.quality.as_ref();
    let drawn = Canvas::fit("samples-canvas")
        .and_then(|c| charts::draw_samples(&c.surface()?, data, particles, history))
        .and_then(|()| Canvas::fit("quality-canvas"))
        .and_then(|c| charts::draw_quality(&c.surface()?, quality.map(|q| (q.results.as_slice(), q.floor))));
    if let Err(e) = drawn {
        web_sys::console::error_1(&e.into());
    }
}
