//! The messages between the page and its Web Worker, where burn runs.
//!
//! The page posts a [`Request`] with a number; the worker answers each with a [`Reply`] of the
//! same number, in the order asked (it handles one at a time), and may post an [`Event`]
//! unasked. Bulk numbers (points, losses, network outputs, pixels) travel beside the JSON
//! header in one `Float32Array`, and files in one `Uint8Array` ([`Envelope`]), so a step's
//! 25,000 pixels are copied once rather than printed and parsed.
//!
//! Plain Rust and serde: the page, the worker and native tests share it.

use serde::{Deserialize, Serialize};

/// The largest model bundle read: far above any network the page trains (512 wide: about
/// 3 MB).
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;

/// The most a single request may ask of the worker, enforced where the worker allocates (see
/// [`Request::check`]), whatever the page, a host page or a test sends.
pub mod limits {
    /// Points in one request (a training set, a prediction, a chain's particles).
    pub const POINTS: usize = 100_000;
    /// Timesteps: T of the 2-D model (the page's largest) and of the U-Net.
    pub const STEPS: usize = 2000;
    /// Images in one pass of the U-Net (the page sends at most 32: 16 digits, guided).
    pub const IMAGES: usize = 256;
    /// The U-Net's T: its timesteps are 0 to this.
    pub const UNET_STEPS: usize = 1000;
    /// The U-Net's labels: 0 to 9, and 10 for none.
    pub const LABELS: usize = 10;
    /// Milliseconds of one training slice.
    pub const SLICE_MS: f64 = 10_000.0;
    /// Milliseconds the reader's moving a control holds the worker's own work back.
    pub const BUSY_MS: f64 = 10_000.0;
    /// Training steps of one run or one benchmark.
    pub const STEPS_PER_REQUEST: usize = 100_000;
    /// The U-Net's weights file.
    pub const WEIGHTS_BYTES: usize = 64 << 20;
    /// A link or a config's text.
    pub const TEXT_BYTES: usize = 64 << 10;
    /// Units per hidden layer and points per step of the benchmark's network.
    pub const HIDDEN: usize = 512;
    /// See `HIDDEN`.
    pub const BATCH: usize = 4096;
    /// The side of the matrix-product benchmark's square matrices, and its products.
    pub const MATMUL_SIDE: usize = 2048;
    /// See `MATMUL_SIDE`.
    pub const MATMUL_REPEATS: usize = 1000;
}

/// A trained 2-D network frozen in the worker at one moment: the page names it by this number,
/// and releases it when no chain or chart needs it any more.
pub type ModelId = u32;

/// What the page asks of the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Request {
    /// Starts burn: on the CPU for `cpu_reason` when the page found WebGPU should not be used,
    /// else on WebGPU (the CPU if it cannot start). Answered by [`Reply::Started`].
    Start {
        /// Why the page chose the CPU.
        cpu_reason: Option<String>,
        /// With WebGPU: time each model on both backends and run it on the faster ([`Race`]).
        /// Off when the reader named the device.
        race: bool,
    },
    /// A new 2-D training run with the settings of the link `query`, on the points in the
    /// floats (x, y pairs). Answered by [`Reply::Run`].
    NewRun {
        /// The page's state as a link's query string (see [`crate::params::Params::to_query`]).
        query: String,
    },
    /// Trains the run for about `ms` milliseconds, at most `max_steps` steps. Answered by
    /// [`Reply::Trained`] with the new losses in the floats.
    Train {
        /// The time to train before answering.
        ms: f64,
        /// The most steps to take.
        max_steps: usize,
    },
    /// Keeps a copy of the run's network as it is now, under `model`. Answered by [`Reply::Done`].
    Freeze {
        /// The page's name for the copy.
        model: ModelId,
    },
    /// Forgets a frozen network. Not answered.
    Release {
        /// The copy to drop.
        model: ModelId,
    },
    /// The reader is moving a control: the work the worker does for itself (warming its code
    /// at start) waits until `ms` milliseconds after this arrives, and leaves both cores to
    /// the page's redraws. Not answered.
    Busy {
        /// How long to hold back.
        ms: f64,
    },
    /// Runs a frozen network on the points in the floats (x, y pairs), all at timestep `t`.
    /// Answered by [`Reply::Outputs`] (one row of outputs a point).
    Predict {
        /// The copy to run.
        model: ModelId,
        /// The timestep.
        t: usize,
    },
    /// Runs a whole reverse chain of `n` particles with a frozen network. Answered by
    /// [`Reply::Outputs`] with where the particles end.
    Sample {
        /// The copy to run.
        model: ModelId,
        /// DDPM or DDIM.
        sampler: crate::sampling::Sampler,
        /// Reverse steps.
        steps: usize,
        /// Particles.
        n: usize,
        /// Seed of the initial noise and of DDPM's noise.
        seed: u64,
    },
    /// The run as a bundle file (see `model::store`). Answered by [`Reply::File`].
    Export,
    /// Reads the bundle file in the bytes and checks it in full. Answered by
    /// [`Reply::Imported`] with its settings; the run is unchanged until [`Request::AdoptImport`].
    Import,
    /// Makes the bundle last imported the run, on the points in the floats (the page's data once
    /// it has taken the bundle's settings). Answered by [`Reply::Run`], with the imported losses
    /// in the floats.
    AdoptImport,
    /// Computes `x_t` for the points in the floats (x_0 pairs, then as many noise pairs) on the
    /// tensor backend, for the page to compare with the math core. Answered by
    /// [`Reply::Outputs`].
    Noise {
        /// The link whose schedule to use.
        query: String,
        /// The timestep.
        t: usize,
    },
    /// Builds the digit U-Net from `config` (`unet.json`) and the weights in the bytes.
    /// Answered by [`Reply::Done`].
    LoadUnet {
        /// The text of `unet.json`.
        config: String,
    },
    /// Runs the U-Net on the images in the floats. Answered by [`Reply::Outputs`].
    Denoise {
        /// One timestep an image.
        timesteps: Vec<usize>,
        /// One label an image (10: none).
        labels: Vec<usize>,
    },
    /// The WebGPU device is gone: everything moves to the CPU (the U-Net is rebuilt there).
    /// Answered by [`Reply::Done`].
    UseCpu {
        /// What the browser said.
        why: String,
    },
    /// How much memory the worker's WebAssembly instance holds (the soak benchmark). Answered
    /// by [`Reply::Memory`].
    Memory,
    /// Times `steps` training steps of the page's network on the CPU (the benchmark).
    /// Answered by [`Reply::Timed`].
    Benchmark {
        /// Steps to time.
        steps: usize,
        /// Units a hidden layer.
        hidden: usize,
        /// Points a step.
        batch: usize,
        /// ReLU instead of SiLU.
        relu: bool,
    },
    /// Times `repeats` products of two `side x side` f32 matrices on the CPU backend, after one
    /// untimed (the benchmark's measure of the machine's limit). Answered by [`Reply::Timed`].
    Matmul {
        /// The matrices' side.
        side: usize,
        /// Products to time.
        repeats: usize,
    },
}

impl Request {
    /// Refuses a request past [`limits`], or whose floats or bytes do not fit it, with a reason,
    /// before the worker allocates anything for it.
    pub fn check(&self, floats: usize, bytes: usize) -> Result<(), String> {
        use limits::*;
        let at_most = |what: &str, n: usize, max: usize| {
            if n > max {
                Err(format!("{what} is {n}; at most {max}"))
            } else {
                Ok(())
            }
        };
        let pairs = |floats: usize| {
            if !floats.is_multiple_of(2) {
                Err("the points are not pairs of numbers".to_string())
            } else {
                at_most("the number of points", floats / 2, POINTS)
            }
        };
        let timestep = |t: usize| {
            if (1..=STEPS).contains(&t) {
                Ok(())
            } else {
                Err(format!("t = {t} is not in 1..={STEPS}"))
            }
        };
        match self {
            Self::Start { cpu_reason, .. } => at_most(
                "the reason",
                cpu_reason.as_ref().map_or(0, String::len),
                TEXT_BYTES,
            ),
            Self::NewRun { query } => {
                at_most("the link", query.len(), TEXT_BYTES)?;
                pairs(floats)
            }
            // `max_steps` only caps the slice (the page sends usize::MAX for "no cap"): the
            // time is what bounds it.
            Self::Train { ms, .. } => {
                if ms.is_finite() && *ms > 0.0 && *ms <= SLICE_MS {
                    Ok(())
                } else {
                    Err(format!(
                        "a slice of {ms} ms; it must be above 0 and at most {SLICE_MS}"
                    ))
                }
            }
            Self::Predict { t, .. } => {
                timestep(*t)?;
                pairs(floats)
            }
            Self::Sample { steps, n, .. } => {
                if *n == 0 || *steps == 0 {
                    return Err("a chain needs at least one particle and one step".into());
                }
                at_most("the number of particles", *n, POINTS)?;
                at_most("the number of reverse steps", *steps, STEPS)
            }
            Self::Import => at_most("the file's size", bytes, MAX_BUNDLE_BYTES),
            Self::AdoptImport => pairs(floats),
            Self::Noise { query, t } => {
                at_most("the link", query.len(), TEXT_BYTES)?;
                // t = 0 is the data itself.
                at_most("t", *t, STEPS)?;
                if !floats.is_multiple_of(4) {
                    return Err("the points and their noise do not pair up".into());
                }
                at_most("the number of points", floats / 4, POINTS)
            }
            Self::LoadUnet { config } => {
                at_most("the config", config.len(), TEXT_BYTES)?;
                at_most("the weights' size", bytes, WEIGHTS_BYTES)
            }
            Self::Denoise { timesteps, labels } => {
                if labels.is_empty() || timesteps.len() != labels.len() {
                    return Err(format!(
                        "{} timesteps for {} images",
                        timesteps.len(),
                        labels.len()
                    ));
                }
                at_most("the number of images", labels.len(), IMAGES)?;
                if floats != labels.len() * 28 * 28 {
                    return Err(format!("{floats} pixels for {} images of 28x28", labels.len()));
                }
                if let Some(t) = timesteps.iter().find(|&&t| t > UNET_STEPS) {
                    return Err(format!("t = {t} is past the U-Net's T = {UNET_STEPS}"));
                }
                match labels.iter().find(|&&l| l > LABELS) {
                    Some(l) => Err(format!("no digit {l} (0 to 9, or 10 for none)")),
                    None => Ok(()),
                }
            }
            Self::UseCpu { why } => at_most("the reason", why.len(), TEXT_BYTES),
            Self::Benchmark {
                steps, hidden, batch, ..
            } => {
                at_most("the steps", *steps, STEPS_PER_REQUEST)?;
                at_most("the hidden width", *hidden, HIDDEN)?;
                at_most("the batch", *batch, BATCH)
            }
            Self::Matmul { side, repeats } => {
                at_most("the matrices' side", *side, MATMUL_SIDE)?;
                at_most("the products", *repeats, MATMUL_REPEATS)
            }
            Self::Busy { ms } => {
                if ms.is_finite() && (0.0..=BUSY_MS).contains(ms) {
                    Ok(())
                } else {
                    Err(format!("a hold of {ms} ms is not in 0..={BUSY_MS}"))
                }
            }
            Self::Freeze { .. } | Self::Release { .. } | Self::Export | Self::Memory => Ok(()),
        }
    }
}

/// Why the run stopped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// Said to the reader.
    pub message: String,
    /// The loss ran away (a host page hears `diverged`, not `error`).
    pub diverged: bool,
}

/// The worker's answer to one [`Request`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Reply {
    /// burn is running.
    Started {
        /// Whether tensors live on WebGPU.
        gpu: bool,
        /// Why not, when they do not.
        reason: Option<String>,
        /// The 2-D network timed on both backends, when the page asked for a race.
        race: Option<Race>,
    },
    /// The U-Net is loaded (answers [`Request::LoadUnet`]).
    Loaded {
        /// Whether it runs on WebGPU.
        gpu: bool,
        /// It timed on both backends, when the page asked for a race.
        race: Option<Race>,
    },
    /// A run exists.
    Run {
        /// Steps the run takes in all.
        total_steps: usize,
        /// Steps already taken (an imported run's).
        steps: usize,
        /// Where it trains: "WebGPU" or "the CPU".
        device: String,
    },
    /// A bundle file was read and checked: its settings, as link names and values.
    Imported {
        /// The settings the page takes before the run is made.
        settings: Vec<(String, String)>,
    },
    /// A slice of training ended; the losses are in the floats.
    Trained {
        /// Steps taken so far in the run.
        steps: usize,
        /// Set when the run stopped on this slice.
        failure: Option<Failure>,
        /// The slice's own time in the worker, in milliseconds.
        ms: f64,
    },
    /// Numbers in the floats, row after row.
    Outputs {
        /// Numbers a row.
        width: usize,
    },
    /// A file in the bytes.
    File,
    /// Done.
    Done,
    /// Milliseconds.
    Timed {
        /// How long it took.
        ms: f64,
    },
    /// The worker's WebAssembly memory.
    Memory {
        /// Its size in bytes: the most it ever needed at once, since WebAssembly memory never
        /// shrinks (how much depends on how freed blocks happened to lie, not only on use).
        bytes: u64,
        /// The bytes allocated now and not yet freed: what grows when something leaks.
        live: u64,
    },
    /// The request failed.
    Error {
        /// Why.
        message: String,
    },
}

/// One model timed on both backends, warm: each first ran once untimed (WebGPU compiles its
/// shaders then), and the time is the median of the runs that followed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Race {
    /// The work timed, as the page says it: "a training step of the 2-D network".
    pub work: String,
    /// Milliseconds for it on burn's CPU backend.
    pub cpu_ms: f64,
    /// Milliseconds for it on WebGPU; `None` when it failed there.
    pub gpu_ms: Option<f64>,
}

impl Race {
    /// Whether WebGPU was faster (a tie keeps the CPU, where nothing can be lost).
    pub fn gpu_wins(&self) -> bool {
        self.gpu_ms.is_some_and(|gpu| gpu < self.cpu_ms)
    }

    /// "WebGPU" or "CPU".
    pub fn winner(&self) -> &'static str {
        if self.gpu_wins() { "WebGPU" } else { "CPU" }
    }

    /// The numbers and the choice, for the reader: "WebGPU, 0.80 ms for a training step of
    /// the 2-D network against 4.10 ms on the CPU (5.1x)".
    pub fn describe(&self) -> String {
        let ms = |v: f64| {
            if v < 10.0 {
                format!("{v:.2} ms")
            } else {
                format!("{v:.0} ms")
            }
        };
        let Some(gpu_ms) = self.gpu_ms else {
            return format!("CPU, {} for {}; it failed on WebGPU", ms(self.cpu_ms), self.work);
        };
        let (won, lost, loser) = if self.gpu_wins() {
            (gpu_ms, self.cpu_ms, "the CPU")
        } else {
            (self.cpu_ms, gpu_ms, "WebGPU")
        };
        let ratio = if won > 0.0 {
            format!(" ({:.1}x)", lost / won)
        } else {
            String::new()
        };
        format!(
            "{}, {} for {} against {} on {loser}{ratio}",
            self.winner(),
            ms(won),
            self.work,
            ms(lost)
        )
    }
}

/// What the worker says unasked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Event {
    /// The worker has started and takes requests.
    Ready,
    /// The browser took the WebGPU device away.
    GpuLost {
        /// What it said.
        why: String,
    },
}

/// One message as it crosses: the JSON header (a [`Request`], [`Reply`] or [`Event`]), its
/// number (0 for an event), and the bulk numbers and bytes beside it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Envelope {
    /// The request's number, repeated by its reply; 0 for events.
    pub id: u32,
    /// The header, as JSON.
    pub header: String,
    /// Points, losses, outputs or pixels.
    pub floats: Vec<f32>,
    /// A file.
    pub bytes: Vec<u8>,
}

impl Envelope {
    /// Wraps a header with its payload.
    pub fn new<T: Serialize>(id: u32, header: &T, floats: Vec<f32>, bytes: Vec<u8>) -> Self {
        Self {
            id,
            header: serde_json::to_string(header).expect("the protocol's types always serialise"),
            floats,
            bytes,
        }
    }

    /// Reads the header as `T`.
    pub fn read<T: for<'de> Deserialize<'de>>(&self) -> Result<T, String> {
        serde_json::from_str(&self.header).map_err(|e| format!("a message the other side cannot read: {e}"))
    }
}

/// Points as the floats carry them: x, y, x, y, ...
pub fn flatten(points: &[[f32; 2]]) -> Vec<f32> {
    points.iter().flatten().copied().collect()
}

/// The points in floats (a trailing odd number is dropped).
pub fn points(floats: &[f32]) -> Vec<[f32; 2]> {
    floats.chunks_exact(2).map(|p| [p[0], p[1]]).collect()
}
