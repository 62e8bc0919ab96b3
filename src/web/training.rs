//! The live training panel: Train builds a 2-D denoiser on the page's backend and trains it a
//! few steps per animation frame, so the sliders stay smooth; Sample then walks particles from
//! noise back to the roll, one reverse step per frame.
//!
//! Tensor results are read with `into_data_async`, which WebGPU requires and the CPU backend
//! answers at once.

use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Event, HtmlButtonElement, HtmlInputElement};

use super::canvas::Canvas;
use super::dom::{self, by_id, set_text};
use super::panels::training as charts;
use crate::data::swiss_roll;
use crate::math::NoiseSchedule;
use crate::math::forward::Point;
use crate::model::denoiser::Denoiser;
use crate::model::sample::{Chain, Sampler};
use crate::model::train::{TrainConfig, Trainer};

/// Time a frame may spend on training steps before yielding to the browser.
const FRAME_BUDGET_MS: f64 = 12.0;
/// Points of the Swiss roll trained on (as the command line does).
const TRAIN_POINTS: usize = 2000;
/// Particles of the reverse chain.
const PARTICLES: usize = 1000;
/// Reverse steps of the chain drawn after training (DDIM with eta = 1: DDPM's noise on a
/// respaced chain).
const SAMPLE_STEPS: usize = 100;

/// The panel's state.
#[derive(Default)]
pub struct Training {
    device: Option<Device>,
    trainer: Option<Trainer>,
    running: bool,
    busy: bool,
    sampling: Option<Sampling>,
    data: Vec<Point<2>>,
    error: Option<String>,
    /// Bumped by Reset, so a frame that was awaiting a result drops it instead of restoring it.
    generation: u64,
    /// Chains started so far: the seed of the next one.
    samples_drawn: u64,
}

impl Training {
    /// The reverse chain shown, if any.
    fn chain(&self) -> Option<&Chain> {
        self.sampling.as_ref().map(|s| &s.chain)
    }
}

/// A reverse chain and the network it samples from, frozen when the chain starts: the samples
/// are the model's at that moment, and a frame does not copy the weights out of the trainer
/// for every step.
struct Sampling {
    chain: Chain,
    model: Denoiser,
}

impl Sampling {
    fn start(trainer: &Trainer, sampler: Sampler, steps: usize, seed: u64) -> Self {
        Self {
            chain: Chain::new(trainer.schedule(), sampler, steps, PARTICLES, seed),
            model: trainer.model(),
        }
    }

    /// One reverse step of the chain.
    async fn step(&mut self, schedule: &NoiseSchedule) -> Result<(), String> {
        let chain = &mut self.chain;
        let ts = vec![chain.current_t().unwrap_or(1); chain.particles.len()];
        let data = self
            .model
            .predict(&chain.particles, &ts)
            .into_data_async()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let out = data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
        chain.advance(schedule, self.model.parameterization(), &out);
        Ok(())
    }
}

type Shared = Rc<RefCell<Training>>;

thread_local! {
    static PANEL: RefCell<Option<Shared>> = const { RefCell::new(None) };
}

/// The losses of the current run (empty before Train).
pub fn losses() -> Vec<f32> {
    PANEL.with(|p| {
        p.borrow()
            .as_ref()
            .and_then(|s| s.borrow().trainer.as_ref().map(|t| t.losses.clone()))
            .unwrap_or_default()
    })
}

/// Wires the panel's buttons; training waits for the backend (see [`set_device`]).
pub fn start() -> Result<Shared, String> {
    let state: Shared = Rc::new(RefCell::new(Training {
        data: swiss_roll(TRAIN_POINTS, 0),
        ..Default::default()
    }));
    PANEL.with(|p| *p.borrow_mut() = Some(state.clone()));
    for (id, action) in [
        ("train", Action::Train),
        ("pause", Action::Pause),
        ("reset", Action::Reset),
        ("sample", Action::Sample),
    ] {
        let button: HtmlButtonElement = by_id(id)?;
        let state = state.clone();
        let handler = Closure::<dyn FnMut(Event)>::new(move |_: Event| on_action(&state, action));
        button
            .add_event_listener_with_callback("click", handler.as_ref().unchecked_ref())
            .map_err(|_| format!("cannot listen to #{id}"))?;
        handler.forget();
    }
    draw(&state.borrow());
    Ok(state)
}

/// Hands the panel the device burn runs on, once the backend has started.
pub fn set_device(state: &Shared, device: Device) {
    state.borrow_mut().device = Some(device);
    set_text("train-status", "Ready: press Train.");
}

#[derive(Clone, Copy)]
enum Action {
    Train,
    Pause,
    Reset,
    Sample,
}

fn on_action(state: &Shared, action: Action) {
    let mut s = state.borrow_mut();
    match action {
        Action::Train => {
            if s.device.is_none() {
                set_text("train-status", "burn is still starting…");
                return;
            }
            if s.trainer.is_none() || s.error.is_some() {
                match new_trainer(&s) {
                    Ok(t) => s.trainer = Some(t),
                    Err(e) => return fail(&mut s, e),
                }
                s.error = None;
                s.sampling = None;
            }
            s.running = true;
            drop(s);
            schedule(state);
        }
        Action::Pause => s.running = false,
        Action::Reset => {
            *s = Training {
                device: s.device.clone(),
                data: std::mem::take(&mut s.data),
                generation: s.generation + 1,
                ..Default::default()
            };
            set_text("train-status", "Reset: press Train to start again.");
            if let Ok(el) = by_id::<web_sys::Element>("train-status") {
                let _ = el.set_attribute("data-state", "idle");
            }
            draw(&s);
        }
        Action::Sample => {
            let (sampler, steps) = match sampler_settings() {
                Ok(settings) => settings,
                Err(e) => return set_text("train-status", &e),
            };
            // A new seed each press, so repeated presses show different particles.
            let seed = s.samples_drawn;
            let Some(trainer) = &s.trainer else {
                set_text("train-status", "Train a model first.");
                return;
            };
            s.sampling = Some(Sampling::start(trainer, sampler, steps, seed));
            s.samples_drawn += 1;
            s.running = false;
            drop(s);
            schedule(state);
        }
    }
}

/// The sampler, and its number of reverse steps, chosen in the panel.
fn sampler_settings() -> Result<(Sampler, usize), String> {
    let kind = by_id::<web_sys::HtmlSelectElement>("sampler")?.value();
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

fn new_trainer(s: &Training) -> Result<Trainer, String> {
    let lr = by_id::<HtmlInputElement>("lr")?.value_as_number();
    let steps = by_id::<HtmlInputElement>("train-steps")?.value_as_number();
    if !(lr.is_finite() && lr > 0.0) {
        return Err(format!("the learning rate must be a positive number, not {lr}"));
    }
    if !(steps.is_finite() && steps >= 1.0) {
        return Err("the number of steps must be at least 1".into());
    }
    let config = TrainConfig::new()
        .with_learning_rate(lr)
        .with_steps(steps as usize);
    let device = s.device.clone().ok_or("burn has not started")?;
    Trainer::new(config, s.data.clone(), &device).map_err(|e| e.to_string())
}

fn fail(s: &mut Training, message: String) {
    s.running = false;
    set_text("train-status", &message);
    if let Ok(el) = by_id::<web_sys::Element>("train-status") {
        let _ = el.set_attribute("data-state", "error");
    }
    s.error = Some(message);
}

fn schedule(state: &Shared) {
    let state = state.clone();
    let callback = Closure::once_into_js(move |_: f64| {
        wasm_bindgen_futures::spawn_local(frame(state));
    });
    let _ = dom::window().request_animation_frame(callback.unchecked_ref());
}

/// One frame's work: training steps within the budget, or one reverse step.
async fn frame(state: Shared) {
    let (mut trainer, mut sampling, running, generation) = {
        let mut s = state.borrow_mut();
        if s.busy {
            return;
        }
        s.busy = true;
        (s.trainer.take(), s.sampling.take(), s.running, s.generation)
    };
    let mut error = None;
    let mut more = false;
    let mut finished = false;
    if let (true, Some(t)) = (running, trainer.as_mut()) {
        let started = dom::now_ms();
        while t.step_count() < t.config().steps && dom::now_ms() - started < FRAME_BUDGET_MS {
            let loss = t.step_lazy().into_scalar_async::<f32>().await;
            if let Err(e) = loss
                .map_err(|e| format!("{e:?}"))
                .and_then(|l| t.record(l).map_err(|e| e.to_string()))
            {
                error = Some(e);
                break;
            }
        }
        more = error.is_none() && t.step_count() < t.config().steps;
        if error.is_none() && !more {
            // Done: show what the model learned.
            finished = true;
            sampling = Some(Sampling::start(t, Sampler::Ddim { eta: 1.0 }, SAMPLE_STEPS, 0));
        }
    }
    if let (Some(smp), Some(t), false) = (sampling.as_mut(), trainer.as_ref(), more)
        && !smp.chain.is_done()
        && let Err(e) = smp.step(t.schedule()).await
    {
        error = Some(e);
    }
    let mut s = state.borrow_mut();
    s.busy = false;
    if s.generation != generation {
        // Reset while this frame awaited a result: what it held is stale.
        drop(s);
        return;
    }
    s.trainer = trainer;
    if s.sampling.is_none() {
        s.sampling = sampling;
    }
    if finished {
        s.running = false;
    }
    if let Some(e) = error {
        fail(&mut s, e);
    } else {
        status(&s);
    }
    draw(&s);
    let sampling = s.chain().is_some_and(|c| !c.is_done());
    let keep_going = (more && s.running) || sampling;
    drop(s);
    if keep_going {
        schedule(&state);
    }
}

fn status(s: &Training) {
    let Some(t) = &s.trainer else { return };
    let n = t.step_count();
    let last = t.losses.last().copied().unwrap_or(f32::NAN);
    let text = match s.chain() {
        Some(c) if c.is_done() => format!(
            "Trained {n} steps (loss {last:.3}); sampled {} points with {} in {} steps.",
            c.particles.len(),
            c.sampler,
            c.timesteps.len()
        ),
        Some(c) => format!(
            "Sampling: t = {} ({}/{} steps)",
            c.current_t().unwrap_or(0),
            c.taken,
            c.timesteps.len()
        ),
        None => format!("Step {n}/{}: loss {last:.3}", t.config().steps),
    };
    set_text("train-status", &text);
    if let Ok(el) = by_id::<web_sys::Element>("train-status") {
        let state = if s.chain().is_some_and(Chain::is_done) {
            "sampled"
        } else {
            "training"
        };
        let _ = el.set_attribute("data-state", state);
    }
}

fn draw(s: &Training) {
    let losses = s.trainer.as_ref().map(|t| t.losses.as_slice()).unwrap_or(&[]);
    let particles = s.chain().map(|c| c.particles.as_slice()).unwrap_or(&[]);
    let history = s.chain().map(|c| c.history.as_slice()).unwrap_or(&[]);
    let drawn = Canvas::fit("loss-canvas")
        .and_then(|c| charts::draw_loss(&c, losses))
        .and_then(|()| Canvas::fit("samples-canvas"))
        .and_then(|c| charts::draw_samples(&c, &s.data, particles, history));
    if let Err(e) = drawn {
        web_sys::console::error_1(&e.into());
    }
}
