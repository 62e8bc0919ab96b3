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
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};

use super::canvas::Canvas;
use super::dom::{self, by_id, set_text};
use super::panels::training as charts;
use crate::data::DataSet;
use crate::math::NoiseSchedule;
use crate::math::distance::energy_distance;
use crate::math::forward::Point;
use crate::model::denoiser::Denoiser;
use crate::model::sample::{Chain, Sampler};
use crate::model::train::{TrainConfig, Trainer};
use crate::params::Params;

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
pub fn start(source: Source, on_model: Box<dyn Fn()>) -> Result<Shared, String> {
    let state: Shared = Rc::new(RefCell::new(Training {
        source: Some(source),
        on_model: Some(on_model),
        ..Default::default()
    }));
    PANEL.with(|p| *p.borrow_mut() = Some(state.clone()));
    write_defaults()?;
    for (id, action) in [
        ("train", Action::Train),
        ("pause", Action::Pause),
        ("step", Action::Step),
        ("reset", Action::Reset),
        ("sample", Action::Sample),
    ] {
        let state = state.clone();
        dom::listen(id, "click", move |_| on_action(&state, action))?;
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
    })?;
    draw(&state.borrow());
    Ok(state)
}

/// Hands the panel the device burn runs on, once the backend has started.
/// `gpu` says whether it is WebGPU: then the panel offers both, and trains on WebGPU unless the
/// reader picks the CPU (for a network this small the CPU can be the faster).
pub fn set_device(state: &Shared, device: Device, gpu: bool) {
    state.borrow_mut().device = Some(device);
    offer_webgpu(gpu);
    set_status("Ready: press Train.", "idle");
}

/// Enables or disables the "train on: WebGPU" choice, and selects WebGPU where it is offered.
fn offer_webgpu(gpu: bool) {
    if let Some(option) = dom::document().get_element_by_id("train-device-webgpu") {
        let _ = option.toggle_attribute_with_force("disabled", !gpu);
    }
    if let Ok(select) = by_id::<HtmlSelectElement>("train-device") {
        select.set_value(if gpu { "webgpu" } else { "cpu" });
    }
}

/// The browser lost the WebGPU device: it is no longer offered, and a run on it stops (its
/// weights lived on the GPU); Train starts again on the CPU.
pub fn gpu_lost(state: &Shared, why: &str) {
    let mut s = state.borrow_mut();
    s.device = Some(Device::flex());
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

#[derive(Clone, Copy)]
enum Action {
    Train,
    Pause,
    Step,
    Reset,
    Sample,
}

fn on_action(state: &Shared, action: Action) {
    let mut s = state.borrow_mut();
    match action {
        Action::Train | Action::Step => {
            if s.device.is_none() {
                return set_status("burn is still starting…", "idle");
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
                source: s.source.take(),
                on_model: s.on_model.take(),
                generation: s.generation + 1,
                ..Default::default()
            };
            s.publish();
            set_status("Reset: press Train to start again.", "idle");
            draw(&s);
        }
        Action::Sample => {
            let (sampler, steps) = match sampler_settings() {
                Ok(settings) => settings,
                Err(e) => return set_status(&e, "error"),
            };
            let Some(trainer) = &s.trainer else {
                return set_status("Train a model first.", "idle");
            };
            // A new seed each press, so repeated presses show different particles.
            let sampling = Sampling::start(trainer, sampler, steps, PARTICLES, s.samples_drawn);
            s.sampling = Some(sampling);
            s.samples_drawn += 1;
            s.running = false;
            s.view = None;
            drop(s);
            animate(state);
        }
    }
}

/// Starts a new run from the panel's settings and the page's data and schedule.
fn new_run(s: &mut Training) -> Result<(), String> {
    let config = read_config()?;
    let (data, params, data_version) = s.source.as_ref().ok_or("the panel has no data source")?();
    let config = config
        .with_seed(params.seed)
        .with_schedule(params.kind)
        .with_diffusion_steps(params.steps)
        .with_beta_start(params.beta_start)
        .with_beta_end(params.beta_end);
    if data.len() < 2 {
        return Err("There are no points to train on: draw some on the forward chart first.".into());
    }
    let (device, device_name) = match by_id::<HtmlSelectElement>("train-device")?.value().as_str() {
        "webgpu" => (s.device.clone().ok_or("burn has not started")?, "WebGPU"),
        _ => (Device::flex(), "the CPU"),
    };
    s.device_name = device_name;
    s.trainer = Some(Trainer::new(config, data.clone(), &device).map_err(|e| e.to_string())?);
    s.data = data;
    s.data_version = data_version;
    s.data_set = params.data;
    s.seed = params.seed;
    s.error = None;
    s.sampling = None;
    s.quality = None;
    s.last_draw = f64::NEG_INFINITY;
    s.last_publish = dom::now_ms();
    Ok(())
}

/// Fills the settings with [`TrainConfig`]'s defaults, so the page and the command line cannot
/// drift apart.
fn write_defaults() -> Result<(), String> {
    let d = TrainConfig::new();
    let set = |id: &str, v: String| by_id::<HtmlInputElement>(id).map(|e| e.set_value(&v));
    set("lr", d.learning_rate.to_string())?;
    set("train-steps", d.steps.to_string())?;
    set("batch", d.batch_size.to_string())?;
    set("hidden", d.model.hidden.to_string())?;
    by_id::<HtmlSelectElement>("parameterization")?.set_value(d.model.parameterization.name());
    Ok(())
}

/// The run's settings from the panel's inputs; the rest are [`TrainConfig`]'s defaults, the
/// same as the command line's.
fn read_config() -> Result<TrainConfig, String> {
    let number = |id: &str| by_id::<HtmlInputElement>(id).map(|e| e.value_as_number());
    let whole = |id: &str, what: &str, (lo, hi): (f64, f64)| -> Result<usize, String> {
        let v = number(id)?;
        if v.is_finite() && (lo..=hi).contains(&v) {
            Ok(v.round() as usize)
        } else {
            Err(format!("{what} must be a whole number from {lo} to {hi}"))
        }
    };
    let lr = number("lr")?;
    if !(lr.is_finite() && lr > 0.0) {
        return Err(format!("the learning rate must be a positive number, not {lr}"));
    }
    let mut config = TrainConfig::new()
        .with_learning_rate(lr)
        .with_steps(whole("train-steps", "the number of steps", (1.0, 100_000.0))?)
        .with_batch_size(whole("batch", "the batch size", (1.0, 4096.0))?);
    config.model.hidden = whole("hidden", "the hidden width", (2.0, 512.0))?;
    config.model.parameterization = by_id::<HtmlSelectElement>("parameterization")?.value().parse()?;
    Ok(config)
}

/// The sampler, and its number of reverse steps, chosen in the panel.
fn sampler_settings() -> Result<(Sampler, usize), String> {
    let kind = by_id::<HtmlSelectElement>("sampler")?.value();
    let eta = by_id::<HtmlInputElement>("eta")?.value_as_number();
    if !(0.0..=1.0).contains(&eta) {
        return Err(format!("η must be between 0 and 1, not {eta}"));
    }
    let steps = by_id::<HtmlInputElement>("sample-steps")?.value_as_number();
    if !(steps.is_finite() && steps >= 1.0) {
        return Err("the number of reverse steps must be at least 1".into());
    }
    Ok((Sampler::parse(&kind, eta)?, steps as usize))
}

fn set_status(text: &str, state: &str) {
    set_text("train-status", text);
    if let Ok(el) = by_id::<Element>("train-status") {
        let _ = el.set_attribute("data-state", state);
    }
}

fn fail(s: &mut Training, message: String) {
    s.running = false;
    set_status(&message, "error");
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
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            Err(e) => error = Some(e),
        }
        state.borrow_mut().train_ms += dom::now_ms() - started;
        if !after_slice(&state, trainer, error, generation, left == 0) {
            return;
        }
        yield_to_browser().await;
    }
    status(&state.borrow());
}

/// Puts the trainer back after a slice and decides whether the loop goes on: it stops on an
/// error, at the end of the run (which starts sampling) and after Reset.
fn after_slice(
    state: &Shared,
    trainer: Trainer,
    error: Option<String>,
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
    if let Some(e) = error {
        fail(&mut s, e);
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
    // Done: show what the model learned, with the panel's sampler settings.
    let (sampler, steps) = sampler_settings().unwrap_or((Sampler::Ddim { eta: 1.0 }, 100));
    let trainer = s.trainer.as_ref().expect("just put back");
    s.sampling = Some(Sampling::start(trainer, sampler, steps, PARTICLES, 0));
    s.samples_drawn = 1;
    s.view = None;
    drop(s);
    animate(state);
    false
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
    let trained = format!(
        "Trained {n} steps on {} in {seconds:.1} s ({:.0} steps/s; loss {last:.3})",
        s.device_name,
        n as f64 / seconds.max(1e-9)
    );
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
    if let Err(e) = Canvas::fit("loss-canvas").and_then(|c| charts::draw_loss(&c, losses)) {
        web_sys::console::error_1(&e.into());
    }
}

/// Redraws the samples, the chain's scrubber and the quality chart.
fn draw_rest(s: &Training) {
    let chain = s.chain();
    let shown = chain.map(|c| s.view.unwrap_or(c.taken).min(c.history.len() - 1));
    let particles = match (chain, shown) {
        (Some(c), Some(k)) => c.history[k].as_slice(),
        _ => &[],
    };
    let history = match (chain, shown) {
        (Some(c), Some(k)) => &c.history[..=k],
        _ => &[],
    };
    // The scrubber follows the chain; its label names the chain's timestep.
    if let (Some(c), Some(k), Ok(scrub)) = (chain, shown, by_id::<HtmlInputElement>("chain-step")) {
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
        .and_then(|c| charts::draw_samples(&c, data, particles, history))
        .and_then(|()| Canvas::fit("quality-canvas"))
        .and_then(|c| charts::draw_quality(&c, quality.map(|q| (q.results.as_slice(), q.floor))));
    if let Err(e) = drawn {
        web_sys::console::error_1(&e.into());
    }
}
