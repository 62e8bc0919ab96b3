//! The live training panel: Train builds a 2-D denoiser on the page's backend and trains it in
//! slices of about 10 ms, yielding to the browser between slices, so sliders stay smooth while
//! it runs; Sample then walks particles from noise back to the data, one reverse step per
//! animation frame; last, the panel measures sample quality against the number of steps.
//!
//! Tensor results are read with `into_data_async`, which WebGPU requires and the CPU backend
//! answers at once. Losses are read once per slice, not once per step.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::{Device, Tensor};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlInputElement};

use super::canvas::Canvas;
use super::dom::{self, by_id, set_text};
use super::embed;
use crate::charts::training as charts;
use crate::data::DataSet;
use crate::math::NoiseSchedule;
use crate::math::distance::energy_distance;
use crate::math::forward::Point;
use crate::model::denoiser::Denoiser;
use crate::model::sample::{Chain, Sampler};
use crate::model::store;
use crate::model::train::{TrainConfig, TrainError, Trainer};
use crate::params::{Params, TrainDevice};

/// Training work done between two yields to the browser: short enough that a slider moved
/// meanwhile answers within a frame.
const SLICE_MS: f64 = 14.0;
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
    /// The network, without autodiff.
    pub model: Denoiser,
    /// The schedule it was trained for.
    pub schedule: NoiseSchedule,
    /// The page's data version it was trained on.
    pub data_version: u64,
}

/// The panel's state.
#[derive(Default)]
pub struct Training {
    device: Option<Device>,
    source: Option<Source>,
    /// Called when the model changes, so that the other panels redraw.
    on_model: Option<Box<dyn Fn()>>,
    /// Called when the reader moves along the chain (`None`: its newest state), for the link.
    on_chain: Option<Box<dyn Fn(Option<usize>)>>,
    /// The chain position a link asked for, shown once a chain has finished.
    wanted_view: Option<usize>,
    /// Whether `device` is WebGPU.
    gpu: bool,
    /// Train or Step asked for before the device was ready.
    pending: Option<Action>,
    trainer: Option<Trainer>,
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
        trainer: Trainer,
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
        let version = self.snapshot.as_ref().map_or(1, |s| s.version + 1);
        self.snapshot = Some(Snapshot {
            version,
            model: trainer.model(),
            schedule: trainer.schedule().clone(),
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
    model: Denoiser,
    schedule: NoiseSchedule,
}

impl Sampling {
    fn start(trainer: &Trainer, sampler: Sampler, steps: usize, n: usize, seed: u64) -> Self {
        Self {
            chain: Chain::new(trainer.schedule(), sampler, steps, n, seed),
            model: trainer.model(),
            schedule: trainer.schedule().clone(),
        }
    }

    /// One reverse step of the chain.
    async fn step(&mut self) -> Result<(), String> {
        let chain = &mut self.chain;
        let Some(t) = chain.current_t() else {
            return Ok(());
        };
        let ts = vec![t; chain.particles.len()];
        let data = self
            .model
            .predict(&chain.particles, &ts)
            .into_data_async()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let out = data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
        chain.advance(&self.schedule, self.model.parameterization(), &out);
        Ok(())
    }

    async fn run(&mut self) -> Result<(), String> {
        while !self.chain.is_done() {
            self.step().await?;
        }
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

/// Hands the panel the device burn runs on, once the backend has started.
/// `gpu` says whether it is WebGPU: then the panel offers both, and trains on WebGPU unless the
/// reader picks the CPU (for a network this small the CPU can be the faster).
pub fn set_device(state: &Shared, device: Device, gpu: bool) {
    let mut s = state.borrow_mut();
    s.device = Some(device);
    s.gpu = gpu;
    offer_webgpu(gpu);
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

/// Enables or disables the "train on: WebGPU" choice.
fn offer_webgpu(gpu: bool) {
    if let Some(option) = dom::document().get_element_by_id("train-device-webgpu") {
        let _ = option.toggle_attribute_with_force("disabled", !gpu);
    }
}

/// The browser lost the WebGPU device: it is no longer offered, and a run on it stops (its
/// weights lived on the GPU); Train starts again on the CPU.
pub fn gpu_lost(state: &Shared, why: &str) {
    let mut s = state.borrow_mut();
    s.device = Some(Device::flex());
    s.gpu = false;
    offer_webgpu(false);
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
            if s.device.is_none() {
                // Pressed (or asked for by a link or a host page) before burn is ready: done
                // as soon as it is.
                s.pending = Some(action);
                return set_status(
                    "burn is still starting; training will begin when it is ready…",
                    "idle",
                );
            }
            let finished = s
                .trainer
                .as_ref()
                .is_none_or(|t| t.step_count() >= t.config().steps);
            if (finished || s.error.is_some())
                && let Err(e) = new_run(&mut s)
            {
                return fail(&mut s, e);
            }
            if matches!(action, Action::Step) {
                s.running = false;
                if !s.looping {
                    s.looping = true;
                    drop(s);
                    wasm_bindgen_futures::spawn_local(train_loop(state.clone(), Some(1)));
                }
                return;
            }
            s.running = true;
            s.sampling = None;
            s.quality = None;
            draw(&s);
            if !s.looping {
                s.looping = true;
                drop(s);
                wasm_bindgen_futures::spawn_local(train_loop(state.clone(), None));
            }
        }
        Action::Pause => {
            s.running = false;
            status(&s);
        }
        Action::Reset => {
            *s = Training {
                device: s.device.take(),
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
            s.sampling = Some(sampling);
            s.samples_drawn += 1;
            s.running = false;
            s.view = None;
            if let Some(hook) = &s.on_chain {
                hook(None);
            }
            drop(s);
            animate(state);
        }
    }
}

/// Starts a new run from the panel's settings and the page's data and schedule.
fn new_run(s: &mut Training) -> Result<(), String> {
    let (data, params, data_version) = s.source.as_ref().ok_or("the panel has no data source")?();
    let config = TrainConfig::from_params(&params)?;
    if data.len() < 2 {
        return Err("There are no points to train on: draw some on the forward chart first.".into());
    }
    let (device, device_name) = match (params.train.device, s.gpu) {
        (TrainDevice::WebGpu | TrainDevice::Auto, true) => {
            (s.device.clone().ok_or("burn has not started")?, "WebGPU")
        }
        _ => (Device::flex(), "the CPU"),
    };
    let trainer = Trainer::new(config, data.clone(), &device).map_err(|e| e.to_string())?;
    s.begin(trainer, device_name, data, data_version, &params);
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
    set_text("train-status", text);
    if let Ok(el) = by_id::<Element>("train-status") {
        let _ = el.set_attribute("data-state", state);
    }
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

/// Hands the rest of this task to the browser and resumes as soon as it has handled input and
/// painted. A `MessageChannel` message, unlike `setTimeout(0)`, is not clamped to 4 ms.
async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let Ok(channel) = web_sys::MessageChannel::new() else {
            let _ = resolve.call0(&JsValue::NULL);
            return;
        };
        let port = channel.port1();
        let keep = channel.clone();
        let on_message = Closure::once_into_js(move || {
            let _ = &keep;
            let _ = resolve.call0(&JsValue::NULL);
        });
        port.set_onmessage(Some(on_message.unchecked_ref()));
        let _ = channel.port2().post_message(&JsValue::NULL);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Trains in slices until the run ends, is paused or is reset; `limit` stops it after that many
/// steps (the Step button).
async fn train_loop(state: Shared, limit: Option<usize>) {
    let mut left = limit.unwrap_or(usize::MAX);
    loop {
        let (mut trainer, generation) = {
            let mut s = state.borrow_mut();
            let go = if limit.is_some() { left > 0 } else { s.running } && s.error.is_none();
            match s.trainer.take() {
                Some(t) if go && t.step_count() < t.config().steps => (t, s.generation),
                other => {
                    s.trainer = other;
                    if limit.is_some() && s.running && s.error.is_none() {
                        // Train was pressed during a single step: carry on as a full run.
                        drop(s);
                        wasm_bindgen_futures::spawn_local(train_loop(state.clone(), None));
                        return;
                    }
                    s.looping = false;
                    break;
                }
            }
        };
        // A slice: steps until the time is up, then one read of all their losses.
        let started = dom::now_ms();
        let mut pending: Vec<Tensor<1>> = Vec::new();
        while trainer.step_count() + pending.len() < trainer.config().steps
            && left > 0
            && dom::now_ms() - started < SLICE_MS
        {
            pending.push(trainer.step_lazy());
            left -= 1;
        }
        if pending.is_empty() {
            after_slice(&state, trainer, None, generation, true);
            state.borrow_mut().looping = false;
            break;
        }
        let read = Tensor::cat(pending, 0).into_data_async().await;
        let mut error = None;
        match read
            .map_err(|e| format!("{e:?}"))
            .and_then(|d| d.try_to_vec::<f32>().map_err(|e| format!("{e:?}")))
        {
            Ok(values) => {
                for loss in values {
                    if let Err(e) = trainer.record(loss) {
                        let event = if matches!(e, TrainError::Diverged { .. }) {
                            "diverged"
                        } else {
                            "error"
                        };
                        error = Some((e.to_string(), event));
                        break;
                    }
                }
            }
            Err(e) => error = Some((e, "error")),
        }
        state.borrow_mut().train_ms += dom::now_ms() - started;
        if !after_slice(&state, trainer, error, generation, left == 0) {
            return;
        }
        yield_to_browser().await;
        super::visibility::until_visible().await;
    }
    status(&state.borrow());
}

/// Puts the trainer back after a slice and decides whether the loop goes on: it stops on an
/// error, at the end of the run (which starts sampling) and after Reset.
fn after_slice(
    state: &Shared,
    trainer: Trainer,
    error: Option<(String, &'static str)>,
    generation: u64,
    limit_reached: bool,
) -> bool {
    let mut s = state.borrow_mut();
    if s.generation != generation {
        // Reset while the slice awaited its losses: what it held is stale, and the new state
        // already has no loop.
        return false;
    }
    let finished = trainer.step_count() >= trainer.config().steps;
    s.trainer = Some(trainer);
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
    let trainer = s.trainer.as_ref().expect("just put back");
    s.sampling = Some(Sampling::start(trainer, sampler, steps, PARTICLES, 0));
    s.samples_drawn = 1;
    s.view = None;
    drop(s);
    animate(state);
    false
}

/// Reverse steps taken by the chain shown.
fn sampling_taken(s: &Training) -> usize {
    s.chain().map_or(0, |c| c.taken)
}

/// Takes one reverse step per animation frame until the chain is done, then measures quality.
fn animate(state: &Shared) {
    let state = state.clone();
    let callback = Closure::once_into_js(move |_: f64| {
        wasm_bindgen_futures::spawn_local(async move {
            let (sampling, generation) = {
                let mut s = state.borrow_mut();
                (s.sampling.take(), s.generation)
            };
            let Some(mut sampling) = sampling else { return };
            let result = sampling.step().await;
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
    });
    let _ = dom::window().request_animation_frame(callback.unchecked_ref());
}

/// Fills the quality chart: for DDPM and deterministic DDIM, sample with each number of steps
/// and take the energy distance to fresh data. One chain per slice.
async fn measure_quality(state: Shared) {
    let (trainer_model, schedule, generation) = {
        let mut s = state.borrow_mut();
        let Some(trainer) = &s.trainer else { return };
        let (model, schedule) = (trainer.model(), trainer.schedule().clone());
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
        yield_to_browser().await;
        let next = {
            let s = state.borrow();
            if s.generation != generation {
                return;
            }
            s.quality.as_ref().and_then(|q| q.todo.first().copied())
        };
        let Some((sampler, steps)) = next else { break };
        let mut sampling = Sampling {
            chain: Chain::new(&schedule, sampler, steps, QUALITY_POINTS, 1_000 + steps as u64),
            model: trainer_model.clone(),
            schedule: schedule.clone(),
        };
        let result = sampling.run().await;
        let mut s = state.borrow_mut();
        if s.generation != generation {
            return;
        }
        let Some(q) = s.quality.as_mut() else { return };
        q.todo.remove(0);
        if result.is_ok() {
            let d = energy_distance(&sampling.chain.particles, &q.reference);
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
        None if s.running => (
            format!("Step {n}/{}: loss {last:.3}", t.config().steps),
            "training",
        ),
        None => (
            format!(
                "Paused at step {n}/{}: loss {last:.3}. Train goes on, Step takes one step.",
                t.config().steps
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

/// The trained model, its config and its losses as one file (see [`store::to_bundle`]).
pub fn export_model() -> Result<Vec<u8>, String> {
    with_panel(|s| {
        let trainer = s.trainer.as_ref().ok_or("train a model first")?;
        store::to_bundle(trainer.model(), trainer.config(), &trainer.losses)
    })
    .unwrap_or_else(|| Err("the training panel has not started".into()))
}

/// Makes an imported model the panel's run, as if it had just been trained here on the
/// page's current data (the page has already taken the model's settings), and samples it.
pub fn import(state: &Shared, imported: store::Imported) -> Result<(), String> {
    let mut s = state.borrow_mut();
    let (data, params, data_version) = s.source.as_ref().ok_or("the panel has no data source")?();
    let trainer = Trainer::imported(imported, data.clone(), &Device::flex())?;
    let steps = trainer.step_count();
    s.generation += 1;
    s.running = false;
    s.begin(trainer, "the CPU", data, data_version, &params);
    s.publish();
    set_status(
        &format!("Imported a model trained for {steps} steps."),
        "imported",
    );
    let (sampler, reverse_steps) = sampler_settings(&s);
    let trainer = s.trainer.as_ref().expect("just imported");
    s.sampling = Some(Sampling::start(trainer, sampler, reverse_steps, PARTICLES, 0));
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
        charts::draw_samples(&canvas.surface()?, &s.data, particles, history)?;
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
