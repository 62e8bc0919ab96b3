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
    /// The request failed.
    Error {
        /// Why.
        message: String,
    },
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
