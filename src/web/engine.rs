//! The page's side of its Web Worker, where burn runs (see [`crate::worker`] and
//! [`crate::protocol`]). [`call`] posts a request and resolves with the worker's answer; the
//! worker is started on the first call, so a page or an embed that never needs a tensor
//! never downloads burn.
//!
//! A network frozen in the worker is held here as a [`ModelHandle`]: when the page's last
//! reference to it goes, the worker is told to drop it.

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

use super::dom;
use crate::bridge;
use crate::protocol::{Envelope, Event, ModelId, Reply, Request};

/// The worker's loader, next to the page (see `www/worker-boot.js`); it is told which build
/// of the worker to load.
const WORKER_SCRIPT: &str = "./worker-boot.js";

/// The two builds of the worker: with burn-wgpu, and without it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    /// burn on WebGPU (and the CPU, should the GPU go away).
    WebGpu,
    /// burn on the CPU alone: a third of the download.
    Cpu,
}

impl Module {
    fn name(self) -> &'static str {
        match self {
            Self::WebGpu => "worker",
            Self::Cpu => "worker-cpu",
        }
    }
}

/// An answer: the reply and its floats and bytes.
pub type Answer = (Reply, Vec<f32>, Vec<u8>);
/// A request posted with [`send`], its answer still to come.
pub type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Answer, String>>>>;

struct Client {
    worker: Worker,
    /// Requests not yet answered: their promise's resolve function.
    waiting: HashMap<u32, Function>,
    /// Requests posted before the worker said it was ready.
    queued: Vec<Envelope>,
    ready: bool,
    next_id: u32,
    next_model: ModelId,
}

/// What the page does when the worker's GPU is lost.
type GpuLostHook = Box<dyn Fn(String)>;

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
    static ON_GPU_LOST: RefCell<Option<GpuLostHook>> = const { RefCell::new(None) };
    static MODULE: std::cell::Cell<Module> = const { std::cell::Cell::new(Module::Cpu) };
    /// Resolves the wait of [`wait_or_wanted`] early.
    static WANTED: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// Resolves after `ms` milliseconds, or as soon as a panel asks for burn ([`wanted`]). The
/// whole page starts its worker a moment after it has drawn, not while the charts' module is
/// still starting: a reader who only drags sliders never waits for it, and a reader who moves
/// through many links does not leave a worker's memory behind each one.
pub async fn wait_or_wanted(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        let _ = dom::window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        WANTED.with(|w| *w.borrow_mut() = Some(resolve));
    });
    let _ = JsFuture::from(promise).await;
    WANTED.with(|w| w.borrow_mut().take());
}

/// A panel needs burn now (Train, Sample, ...): ends [`wait_or_wanted`] early.
pub fn wanted() {
    if let Some(resolve) = WANTED.with(|w| w.borrow_mut().take()) {
        let _ = resolve.call0(&JsValue::NULL);
    }
}

/// Which build of the worker the first request starts (the CPU one unless told otherwise).
pub fn use_module(module: Module) {
    MODULE.with(|m| m.set(module));
}

/// Called when the worker reports that the browser took the WebGPU device away.
pub fn on_gpu_lost(hook: impl Fn(String) + 'static) {
    ON_GPU_LOST.with(|h| *h.borrow_mut() = Some(Box::new(hook)));
}

/// Whether the worker has been started (it starts with the first request).
pub fn started() -> bool {
    CLIENT.with(|c| c.borrow().is_some())
}

fn spawn() -> Result<Client, String> {
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Classic);
    options.set_name("burn");
    let script = format!("{WORKER_SCRIPT}?module={}", MODULE.with(|m| m.get()).name());
    let worker = Worker::new_with_options(&script, &options)
        .map_err(|e| format!("the browser would not start the worker: {e:?}"))?;
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(|event: MessageEvent| receive(&event.data()));
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let on_error = Closure::<dyn Fn(web_sys::ErrorEvent)>::new(|event: web_sys::ErrorEvent| {
        let message = format!("the worker failed: {}", event.message());
        web_sys::console::error_1(&message.clone().into());
        fail_all(&message);
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    // The browser tests reach the worker through this (to take its GPU away).
    let _ = js_sys::Reflect::set(&dom::window(), &"playgroundWorker".into(), &worker);
    // Leaving the page ends the worker at once, rather than when the old page is collected.
    let leaving = worker.clone();
    dom::on_window("pagehide", move |_: web_sys::Event| leaving.terminate());
    Ok(Client {
        worker,
        waiting: HashMap::new(),
        queued: Vec::new(),
        ready: false,
        next_id: 1,
        next_model: 1,
    })
}

fn post(worker: &Worker, envelope: &Envelope) {
    let (message, transfer) = bridge::to_js(envelope);
    if let Err(e) = worker.post_message_with_transfer(&message, &transfer) {
        web_sys::console::error_2(&"a message to the worker was refused".into(), &e);
    }
}

fn receive(data: &JsValue) {
    let Some(envelope) = bridge::from_js(data) else {
        return;
    };
    if envelope.id == 0 {
        match envelope.read::<Event>() {
            Ok(Event::Ready) => CLIENT.with(|c| {
                if let Some(client) = c.borrow_mut().as_mut() {
                    client.ready = true;
                    for queued in std::mem::take(&mut client.queued) {
                        post(&client.worker, &queued);
                    }
                }
            }),
            Ok(Event::GpuLost { why }) => ON_GPU_LOST.with(|h| {
                if let Some(hook) = h.borrow().as_ref() {
                    hook(why);
                }
            }),
            Err(e) => web_sys::console::error_1(&e.into()),
        }
        return;
    }
    let resolve = CLIENT.with(|c| {
        c.borrow_mut()
            .as_mut()
            .and_then(|c| c.waiting.remove(&envelope.id))
    });
    if let Some(resolve) = resolve {
        let _ = resolve.call1(&JsValue::NULL, data);
    }
}

/// Every request still waiting is answered with this error (the worker died).
fn fail_all(message: &str) {
    let waiting = CLIENT.with(|c| c.borrow_mut().as_mut().map(|c| std::mem::take(&mut c.waiting)));
    let error = Envelope::new(
        0,
        &Reply::Error {
            message: message.into(),
        },
        Vec::new(),
        Vec::new(),
    );
    let (data, _) = bridge::to_js(&error);
    for resolve in waiting.into_iter().flatten().map(|(_, f)| f) {
        let _ = resolve.call1(&JsValue::NULL, &data);
    }
}

/// Posts `request` (starting the worker if need be) and resolves with its answer; a
/// [`Reply::Error`] comes back as `Err`.
pub async fn call(request: &Request, floats: Vec<f32>, bytes: Vec<u8>) -> Result<Answer, String> {
    send(request, floats, bytes).await
}

/// Posts `request` now (starting the worker if need be); the returned future resolves with its
/// answer, as [`call`]'s does. A request sent before an earlier one is answered waits in the
/// worker's queue, so the worker goes from one to the next without waiting for the page.
pub fn send(
    request: &Request,
    floats: Vec<f32>,
    bytes: Vec<u8>,
) -> impl std::future::Future<Output = Result<Answer, String>> + 'static {
    let promise = CLIENT.with(|c| {
        let mut slot = c.borrow_mut();
        if slot.is_none() {
            *slot = Some(spawn()?);
        }
        let client = slot.as_mut().expect("just started");
        let id = client.next_id;
        client.next_id += 1;
        let envelope = Envelope::new(id, request, floats, bytes);
        let promise = Promise::new(&mut |resolve, _| {
            client.waiting.insert(id, resolve);
        });
        if client.ready {
            post(&client.worker, &envelope);
        } else {
            client.queued.push(envelope);
        }
        Ok::<_, String>(promise)
    });
    async move {
        let data = JsFuture::from(promise?)
            .await
            .map_err(|_| "the worker did not answer".to_string())?;
        let envelope = bridge::from_js(&data).ok_or("the worker's answer was unreadable")?;
        match envelope.read::<Reply>()? {
            Reply::Error { message } => Err(message),
            reply => Ok((reply, envelope.floats, envelope.bytes)),
        }
    }
}

/// Posts a request that has no answer.
fn tell(request: &Request) {
    CLIENT.with(|c| {
        if let Some(client) = c.borrow_mut().as_mut() {
            let envelope = Envelope::new(client.next_id, request, Vec::new(), Vec::new());
            client.next_id += 1;
            if client.ready {
                post(&client.worker, &envelope);
            } else {
                client.queued.push(envelope);
            }
        }
    });
}

/// How long one [`reader_busy`] holds the worker's own work back, and how often it is said.
const BUSY_HOLD_MS: f64 = 600.0;
const BUSY_EVERY_MS: f64 = 200.0;

thread_local! {
    static BUSY_SAID: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::NEG_INFINITY) };
}

/// The reader is moving a control: tells the worker to hold back the work it does for itself
/// (warming its code at start), which on two cores would share them with the redraws of a
/// drag ([`Request::Busy`]). Said at most every [`BUSY_EVERY_MS`], each time for
/// [`BUSY_HOLD_MS`], so a drag holds it back until a moment after it ends.
pub fn reader_busy() {
    let now = dom::now_ms();
    if now - BUSY_SAID.with(std::cell::Cell::get) < BUSY_EVERY_MS {
        return;
    }
    BUSY_SAID.with(|b| b.set(now));
    tell(&Request::Busy { ms: BUSY_HOLD_MS });
}

/// A copy of the run's network in the worker, as it was when frozen.
#[derive(Debug)]
pub struct ModelHandle(ModelId);

impl ModelHandle {
    /// Freezes the run's network as it is now. The worker takes requests in order, so a
    /// prediction asked for after this sees the frozen copy without waiting for it here.
    pub fn freeze() -> Option<Self> {
        let id = CLIENT.with(|c| {
            c.borrow_mut().as_mut().map(|client| {
                client.next_model += 1;
                client.next_model
            })
        })?;
        tell(&Request::Freeze { model: id });
        Some(Self(id))
    }

    /// The network's outputs on `points`, all at timestep `t`, row after row.
    pub async fn predict(&self, points: &[[f32; 2]], t: usize) -> Result<Vec<f32>, String> {
        let (_, outputs, _) = call(
            &Request::Predict { model: self.0, t },
            crate::protocol::flatten(points),
            Vec::new(),
        )
        .await?;
        Ok(outputs)
    }
}

impl ModelHandle {
    /// Runs a whole reverse chain of `n` particles in the worker and returns where they end.
    pub async fn sample(
        &self,
        sampler: crate::sampling::Sampler,
        steps: usize,
        n: usize,
        seed: u64,
    ) -> Result<Vec<[f32; 2]>, String> {
        let request = Request::Sample {
            model: self.0,
            sampler,
            steps,
            n,
            seed,
        };
        let (_, particles, _) = call(&request, Vec::new(), Vec::new()).await?;
        Ok(crate::protocol::points(&particles))
    }
}

impl Drop for ModelHandle {
    fn drop(&mut self) {
        tell(&Request::Release { model: self.0 });
    }
}
