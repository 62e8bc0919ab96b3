//! The page's Web Worker: every tensor of the page lives here, so burn's work (training the
//! 2-D model, running it, the digit U-Net) never holds up the page's thread, and the page's
//! own module needs no burn at all.
//!
//! It answers the page's [`Request`]s one at a time, in order (see [`crate::protocol`]); a
//! request's tensor reads are awaited (WebGPU needs that), and requests that arrive meanwhile
//! wait their turn.
//!
//! - [`backend`]: WebGPU or the CPU, never a software GPU unless asked for.
//! - [`race`]: with WebGPU, each model timed on both backends, to run on the faster.

mod backend;
mod race;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

use burn::tensor::{Device, Distribution, Tensor};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::bridge;
use crate::math::NoiseSchedule;
use crate::model::denoiser::{Activation, Denoiser};
use crate::model::digits::{DigitInputs, forward_lazy};
use crate::model::train::{TrainConfig, TrainError, Trainer};
use crate::model::unet::UNet;
use crate::model::weights::{WeightsInfo, load_unet};
use crate::model::{forward, points, store};
use crate::params::{Params, TrainDevice};
use crate::protocol::{Envelope, Event, Failure, ModelId, Reply, Request, flatten, points as read_points};
use crate::sampling::Chain;
use backend::Backend;

/// The digit U-Net, the device it runs on, and what it was built from (to rebuild it on the
/// CPU).
struct Unet {
    model: UNet,
    device: Device,
    info: WeightsInfo,
    bytes: Vec<u8>,
}

/// The worker's state.
struct Engine {
    backend: Option<Backend>,
    /// Time each model on both backends and run it on the faster (else WebGPU runs all).
    race: bool,
    /// Where a 2-D run trains when the page leaves it to the worker (`TrainDevice::Auto`).
    train_on_gpu: bool,
    /// The 2-D run, and where it trains.
    run: Option<(Trainer, &'static str)>,
    /// Copies of the run's network that the page still names, with their schedule.
    frozen: HashMap<ModelId, (Denoiser, NoiseSchedule)>,
    /// The digit U-Net, with what it was built from (to rebuild it on the CPU).
    unet: Option<Unet>,
    /// An imported bundle waiting for the page's data.
    imported: Option<Vec<u8>>,
}

/// The worker's allocator (Rust's own), counting the bytes in use for [`Request::Memory`].
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine {
        backend: None,
        race: false,
        train_on_gpu: false,
        run: None,
        frozen: HashMap::new(),
        unet: None,
        imported: None,
    });
    static QUEUE: RefCell<(VecDeque<Envelope>, bool)> = const { RefCell::new((VecDeque::new(), false)) };
    /// Until when (the worker's clock, ms) the worker's own work waits ([`Request::Busy`]).
    static HOLD_UNTIL: Cell<f64> = const { Cell::new(0.0) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(envelope: &Envelope) {
    let (message, transfer) = bridge::to_js(envelope);
    if let Err(e) = scope().post_message_with_transfer(&message, &transfer) {
        web_sys::console::error_2(&"the worker could not answer".into(), &e);
    }
}

/// Starts the worker: takes messages, and tells the page it is ready.
pub fn start() {
    // See `web::start`: the constructors run once, here, not at the top of every export.
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: the first Rust code of the worker; inventory's constructors are idempotent.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(|event: MessageEvent| {
        let Some(envelope) = bridge::from_js(&event.data()) else {
            return; // not ours (the GPU-loss hook of worker.js uses the same channel)
        };
        let start_loop = QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            q.0.push_back(envelope);
            !std::mem::replace(&mut q.1, true)
        });
        if start_loop {
            wasm_bindgen_futures::spawn_local(drain());
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&Envelope::new(0, &Event::Ready, Vec::new(), Vec::new()));
}

/// Handles queued requests one after another until none is left.
async fn drain() {
    loop {
        let next = QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            let next = q.0.pop_front();
            if next.is_none() {
                q.1 = false;
            }
            next
        });
        let Some(envelope) = next else { return };
        let id = envelope.id;
        let reply = match envelope.read::<Request>() {
            Ok(Request::Release { model }) => {
                ENGINE.with(|e| e.borrow_mut().frozen.remove(&model));
                continue;
            }
            Ok(request @ Request::Busy { ms }) => {
                if request.check(0, 0).is_ok() {
                    HOLD_UNTIL.with(|h| h.set(h.get().max(milliseconds() + ms)));
                }
                continue;
            }
            Ok(request) => handle(request, envelope.floats, envelope.bytes).await,
            Err(message) => Err(message),
        };
        let (header, floats, bytes) =
            reply.unwrap_or_else(|message| (Reply::Error { message }, Vec::new(), Vec::new()));
        post(&Envelope::new(id, &header, floats, bytes));
    }
}

type Answer = Result<(Reply, Vec<f32>, Vec<u8>), String>;

fn answer(reply: Reply) -> Answer {
    Ok((reply, Vec::new(), Vec::new()))
}

fn device() -> Result<Device, String> {
    ENGINE
        .with(|e| e.borrow().backend.as_ref().map(|b| b.device.clone()))
        .ok_or_else(|| "burn has not started".to_string())
}

fn gpu() -> bool {
    ENGINE.with(|e| e.borrow().backend.as_ref().is_some_and(Backend::gpu))
}

/// Reads a tensor back (asynchronously: WebGPU needs it; the CPU answers at once).
async fn read<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>, String> {
    tensor
        .into_data_async()
        .await
        .map_err(|e| format!("reading a result back failed: {e:?}"))?
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))
}

fn milliseconds() -> f64 {
    scope().performance().map_or(0.0, |p| p.now())
}

async fn handle(request: Request, floats: Vec<f32>, bytes: Vec<u8>) -> Answer {
    // Past the limits, or with numbers that do not fit the request: refused before anything
    // is allocated for it.
    request.check(floats.len(), bytes.len())?;
    match request {
        Request::Memory => {
            let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
            let buffer: js_sys::ArrayBuffer = memory.buffer().unchecked_into();
            answer(Reply::Memory {
                bytes: buffer.byte_length() as u64,
                live: ALLOCATOR.allocated() as u64,
            })
        }
        Request::Start { cpu_reason, race } => {
            let backend = Backend::init(cpu_reason).await;
            let gpu = backend.gpu();
            let race = if gpu && race {
                Some(race::training(&backend.device).await?)
            } else {
                None
            };
            let reply = Reply::Started {
                gpu,
                reason: backend.reason.clone(),
                race: race.clone(),
            };
            let train_on_gpu = gpu && race.as_ref().is_none_or(|r| r.gpu_wins());
            ENGINE.with(|e| {
                let mut e = e.borrow_mut();
                e.backend = Some(backend);
                e.race = race.is_some();
                e.train_on_gpu = train_on_gpu;
            });
            wasm_bindgen_futures::spawn_local(warm_up());
            answer(reply)
        }
        Request::NewRun { query } => {
            let (params, _) = Params::from_query(&query);
            let config = TrainConfig::from_params(&params)?;
            let on_gpu = gpu()
                && match params.train.device {
                    TrainDevice::WebGpu => true,
                    TrainDevice::Cpu => false,
                    TrainDevice::Auto => ENGINE.with(|e| e.borrow().train_on_gpu),
                };
            let (device, name) = if on_gpu {
                (device()?, "WebGPU")
            } else {
                (Device::flex(), "the CPU")
            };
            let trainer = Trainer::new(config, read_points(&floats), &device).map_err(|e| e.to_string())?;
            let reply = Reply::Run {
                total_steps: trainer.config().steps,
                steps: 0,
                device: name.into(),
            };
            ENGINE.with(|e| e.borrow_mut().run = Some((trainer, name)));
            answer(reply)
        }
        Request::Train { ms, max_steps } => train(ms, max_steps).await,
        Request::Freeze { model } => ENGINE.with(|e| {
            let mut e = e.borrow_mut();
            let network = e.run.as_ref().map(|(t, _)| (t.model(), t.schedule().clone()));
            e.frozen.insert(model, network.ok_or("there is no run")?);
            answer(Reply::Done)
        }),
        Request::Release { .. } | Request::Busy { .. } => answer(Reply::Done),
        Request::Predict { model, t } => {
            let (network, schedule) = frozen(model)?;
            if t > schedule.steps() {
                return Err(format!("t = {t} is past this model's T = {}", schedule.steps()));
            }
            let xs = read_points(&floats);
            let outputs = read(network.predict(&xs, &vec![t; xs.len()])).await?;
            let width = network.parameterization().outputs();
            Ok((Reply::Outputs { width }, outputs, Vec::new()))
        }
        Request::Sample {
            model,
            sampler,
            steps,
            n,
            seed,
        } => {
            let (network, schedule) = frozen(model)?;
            if n > crate::model::train::limits::POINTS {
                return Err(format!(
                    "{n} particles; at most {}",
                    crate::model::train::limits::POINTS
                ));
            }
            let mut chain = Chain::new(&schedule, sampler, steps, n, seed);
            while let Some(t) = chain.current_t() {
                let out = read(network.predict(&chain.particles, &vec![t; n])).await?;
                chain.advance(&schedule, network.parameterization(), &out);
            }
            Ok((Reply::Outputs { width: 2 }, flatten(&chain.particles), Vec::new()))
        }
        Request::Export => ENGINE.with(|e| {
            let e = e.borrow();
            let (trainer, _) = e.run.as_ref().ok_or("train a model first")?;
            let file = store::to_bundle(trainer.model(), trainer.config(), &trainer.losses)?;
            Ok((Reply::File, Vec::new(), file))
        }),
        Request::Import => {
            // Checked in full (its network built and filled) before the page takes its settings.
            let imported = store::read_bundle(&bytes)?;
            let settings = settings_of(&imported.config);
            Trainer::imported(imported, vec![[0.0, 0.0]], &Device::flex())?;
            ENGINE.with(|e| e.borrow_mut().imported = Some(bytes));
            answer(Reply::Imported { settings })
        }
        Request::AdoptImport => {
            let bytes = ENGINE
                .with(|e| e.borrow_mut().imported.take())
                .ok_or("no model is being imported")?;
            let trainer =
                Trainer::imported(store::read_bundle(&bytes)?, read_points(&floats), &Device::flex())?;
            let reply = Reply::Run {
                total_steps: trainer.config().steps,
                steps: trainer.step_count(),
                device: "the CPU".into(),
            };
            let losses = trainer.losses.clone();
            ENGINE.with(|e| e.borrow_mut().run = Some((trainer, "the CPU")));
            Ok((reply, losses, Vec::new()))
        }
        Request::Noise { query, t } => {
            let (params, _) = Params::from_query(&query);
            let schedule = NoiseSchedule::new(params.kind, params.steps, params.beta_start, params.beta_end)
                .map_err(|e| e.to_string())?;
            if t > schedule.steps() {
                return Err(format!("t = {t} is past T = {}", schedule.steps()));
            }
            let n = floats.len() / 4;
            let device = device()?;
            let x0 = points::to_tensor(&read_points(&floats[..2 * n]), &device);
            let noise = points::to_tensor(&read_points(&floats[2 * n..4 * n]), &device);
            let x_t = read(forward::add_noise(x0, noise, schedule.alpha_bar(t))).await?;
            Ok((Reply::Outputs { width: 2 }, x_t, Vec::new()))
        }
        Request::LoadUnet { config } => {
            let info = WeightsInfo::parse(&config)?;
            let on_cpu = || load_unet(&info, bytes.clone(), &Device::flex());
            let (model, device, race) = if gpu() {
                let device = device()?;
                let on_gpu = load_unet(&info, bytes.clone(), &device)?;
                if ENGINE.with(|e| e.borrow().race) {
                    let cpu = on_cpu()?;
                    let race = race::unet(&cpu, &on_gpu, &device).await?;
                    if race.gpu_wins() {
                        (on_gpu, Some(device), Some(race))
                    } else {
                        (cpu, None, Some(race))
                    }
                } else {
                    (on_gpu, Some(device), None)
                }
            } else {
                (on_cpu()?, None, None)
            };
            let reply = Reply::Loaded {
                gpu: device.is_some(),
                race,
            };
            let device = device.unwrap_or_else(Device::flex);
            let unet = Unet {
                model,
                device,
                info,
                bytes,
            };
            ENGINE.with(|e| e.borrow_mut().unet = Some(unet));
            answer(reply)
        }
        Request::Denoise { timesteps, labels } => {
            let (model, device) = ENGINE
                .with(|e| {
                    e.borrow()
                        .unet
                        .as_ref()
                        .map(|u| (u.model.clone(), u.device.clone()))
                })
                .ok_or("the U-Net is not loaded")?;
            let inputs = DigitInputs {
                pixels: floats,
                timesteps,
                labels,
            };
            if inputs.pixels.len() != inputs.labels.len() * crate::data::mnist::PIXELS {
                return Err("the images and labels do not match".into());
            }
            let outputs = read(forward_lazy(&model, inputs, &device)).await?;
            Ok((
                Reply::Outputs {
                    width: crate::data::mnist::PIXELS,
                },
                outputs,
                Vec::new(),
            ))
        }
        Request::UseCpu { why } => ENGINE.with(|e| {
            let mut e = e.borrow_mut();
            e.backend = Some(Backend::cpu(format!("WebGPU stopped ({why})")));
            e.train_on_gpu = false;
            // The run's weights were on the GPU: it is gone (the page says so).
            if e.run.as_ref().is_some_and(|(_, name)| *name == "WebGPU") {
                e.run = None;
            }
            if let Some(unet) = e.unet.take() {
                let device = Device::flex();
                let model = load_unet(&unet.info, unet.bytes.clone(), &device)?;
                e.unet = Some(Unet {
                    model,
                    device,
                    ..unet
                });
            }
            answer(Reply::Done)
        }),
        Request::Benchmark {
            steps,
            hidden,
            batch,
            relu,
        } => {
            let mut config = TrainConfig::new().with_batch_size(batch).with_steps(steps.max(1));
            config.model.hidden = hidden;
            config.model.activation = if relu { Activation::Relu } else { Activation::Silu };
            let mut trainer = Trainer::new(config, crate::data::swiss_roll(2000, 0), &Device::flex())
                .map_err(|e| e.to_string())?;
            let started = milliseconds();
            let losses: Vec<Tensor<1>> = (0..steps.max(1)).map(|_| trainer.step_lazy()).collect();
            let values = read(Tensor::cat(losses, 0)).await?;
            let ms = milliseconds() - started;
            if values.iter().any(|l| !l.is_finite()) {
                return Err("the benchmark's loss was not finite".into());
            }
            answer(Reply::Timed { ms })
        }
        Request::Matmul { side, repeats } => {
            let device = Device::flex();
            let shape = [side.max(1), side.max(1)];
            let a = Tensor::<2>::random(shape, Distribution::Default, &device);
            let b = Tensor::<2>::random(shape, Distribution::Default, &device);
            read(a.clone().matmul(b.clone()).sum()).await?;
            let started = milliseconds();
            let products: Vec<Tensor<1>> = (0..repeats.max(1))
                .map(|_| a.clone().matmul(b.clone()).sum().reshape([1]))
                .collect();
            read(Tensor::cat(products, 0)).await?;
            answer(Reply::Timed {
                ms: milliseconds() - started,
            })
        }
    }
}

/// Work the worker does for nothing once it has started, while it has nothing else to do, so
/// that the reader's first run is as fast as the next ones. The browser compiles WebAssembly
/// with a quick baseline compiler first and optimises a function only after it has run for a
/// while, in the background: in a fresh page, training ran at 500-750 steps a second for about
/// a second and then at 1,650 (headless Chromium, this project's 2-core machine), and a
/// reader's first 1,500 steps took 1.6 s against 0.8 s for the next run. Warming runs the
/// CPU's code paths early: one pass of an untrained U-Net of the shipped shape, then
/// [`WARM_STEPS`] training steps of the page's default 2-D network.
const WARM_STEPS: usize = 150;
/// Time between looks at the message queue while warming up (past a first step): a request
/// that comes in meanwhile waits about this long. Ten steps a look, as before, took 62 ms while
/// the code was not yet optimised, and a Train click the moment burn was ready waited for it.
const WARM_SLICE_MS: f64 = 8.0;

/// See [`WARM_STEPS`]. Every slice gives way to the requests that came in; the training stops
/// once the reader's own run exists (it warms the same code).
async fn warm_up() {
    // The U-Net first: one short pass (tens of ms before its code is optimised) while its
    // weights download, so that its kernels are optimised by the time the reader can click
    // Sample; then the 2-D training, which a Train click interrupts at the next slice.
    held().await;
    idle().await;
    const IMAGES: usize = 2;
    let device = Device::flex();
    let unet = crate::model::unet::UNetConfig::new().init(&device);
    let inputs = DigitInputs {
        pixels: vec![0.0; IMAGES * crate::data::mnist::PIXELS],
        timesteps: vec![500; IMAGES],
        labels: vec![crate::model::unet::NO_LABEL; IMAGES],
    };
    let _ = read(forward_lazy(&unet, inputs, &device)).await;
    drop(unet);
    if reader_trains().await {
        return;
    }
    let Ok(config) = TrainConfig::from_params(&Params::default()) else {
        return;
    };
    let Ok(mut trainer) = Trainer::new(config, crate::data::swiss_roll(2000, 0), &device) else {
        return;
    };
    let mut steps = 0;
    while steps < WARM_STEPS {
        if reader_trains().await {
            return;
        }
        let started = milliseconds();
        let mut losses: Vec<Tensor<1>> = Vec::new();
        while steps < WARM_STEPS && (losses.is_empty() || milliseconds() - started < WARM_SLICE_MS) {
            losses.push(trainer.step_lazy());
            steps += 1;
        }
        if read(Tensor::cat(losses, 0)).await.is_err() {
            return;
        }
    }
}

/// Waits until the worker is free, then says whether the reader's own run exists: it warms the
/// same code, so the warm-up gives way to it.
async fn reader_trains() -> bool {
    held().await;
    idle().await;
    ENGINE.with(|e| e.borrow().run.is_some())
}

/// Waits while the page says the reader is moving a control ([`Request::Busy`]).
async fn held() {
    loop {
        let wait = HOLD_UNTIL.with(Cell::get) - milliseconds();
        if wait <= 0.0 {
            return;
        }
        sleep(wait).await;
    }
}

/// Waits until no request is being handled, taking the messages that came in first.
async fn idle() {
    loop {
        next_task().await;
        if !QUEUE.with(|q| q.borrow().1) {
            return;
        }
    }
}

/// Waits for the worker's next task, so that messages that came in meanwhile are taken first.
async fn next_task() {
    sleep(0.0).await;
}

/// Waits `ms` milliseconds (at least until the worker's next task).
async fn sleep(ms: f64) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = scope().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms.ceil() as i32);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// A frozen network and its schedule.
fn frozen(model: ModelId) -> Result<(Denoiser, NoiseSchedule), String> {
    ENGINE
        .with(|e| e.borrow().frozen.get(&model).cloned())
        .ok_or_else(|| "that model was released".to_string())
}

/// Trains the run for about `ms` milliseconds (at most `max_steps` steps), then reads all the
/// slice's losses at once.
async fn train(ms: f64, max_steps: usize) -> Answer {
    let (mut trainer, name) = ENGINE
        .with(|e| e.borrow_mut().run.take())
        .ok_or("there is no run (Reset, or the GPU was lost)")?;
    let started = milliseconds();
    let mut pending: Vec<Tensor<1>> = Vec::new();
    while trainer.step_count() + pending.len() < trainer.config().steps
        && pending.len() < max_steps
        && milliseconds() - started < ms
    {
        pending.push(trainer.step_lazy());
    }
    let mut failure = None;
    let mut recorded = Vec::new();
    if !pending.is_empty() {
        match read(Tensor::cat(pending, 0)).await {
            Ok(values) => {
                for loss in values {
                    match trainer.record(loss) {
                        Ok(_) => recorded.push(loss),
                        Err(e) => {
                            recorded.push(loss);
                            failure = Some(Failure {
                                diverged: matches!(e, TrainError::Diverged { .. }),
                                message: e.to_string(),
                            });
                            break;
                        }
                    }
                }
            }
            Err(message) => {
                failure = Some(Failure {
                    message,
                    diverged: false,
                })
            }
        }
    }
    let steps = trainer.step_count();
    ENGINE.with(|e| e.borrow_mut().run = Some((trainer, name)));
    let ms = milliseconds() - started;
    Ok((Reply::Trained { steps, failure, ms }, recorded, Vec::new()))
}

/// An imported run's settings, as link names and values for the page.
fn settings_of(c: &TrainConfig) -> Vec<(String, String)> {
    [
        ("kind", c.schedule.name().to_string()),
        ("T", c.diffusion_steps.to_string()),
        ("b1", c.beta_start.to_string()),
        ("bT", c.beta_end.to_string()),
        ("seed", c.seed.to_string()),
        ("lr", c.learning_rate.to_string()),
        ("steps", c.steps.to_string()),
        ("hidden", c.model.hidden.to_string()),
        ("batch", c.batch_size.to_string()),
        ("predict", c.model.parameterization.name().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
