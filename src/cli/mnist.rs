//! `diffusion mnist sample`: handwritten digits from the shipped U-Net, as PNG files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use burn::tensor::Device;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use diffusion_playground::data::mnist::{SIDE, to_byte};
use diffusion_playground::model::digits::{DEFAULTS, DigitChain, DigitRequest, GUIDANCE};
use diffusion_playground::model::sample::Sampler;
use diffusion_playground::model::weights::{CONFIG_FILE, WEIGHTS_FILE, WeightsInfo, load_unet};
use std::ops::RangeInclusive;

/// The shipped weights, built into the binary so it samples from any working directory.
const SHIPPED_CONFIG: &str = include_str!("../../assets/mnist/unet.json");
const SHIPPED_WEIGHTS: &[u8] = include_bytes!("../../assets/mnist/unet.safetensors");
/// Digits sampled together (one network evaluation covers them all).
const BATCH: usize = 25;

#[derive(Subcommand, Debug)]
pub enum MnistCommand {
    /// Sample N digits with the shipped U-Net and write DIR/00000.png, ... (28x28 grayscale).
    Sample(SampleArgs),
    /// Judge samples over a grid of guidance weights, guidance intervals and steps, and write
    /// the trade-off as JSON (the page's digits panel charts assets/mnist/sweep.json).
    Sweep(super::sweep::SweepArgs),
}

#[derive(Args, Debug)]
pub struct SampleArgs {
    /// The number of digits.
    #[arg(long)]
    n: usize,
    /// The directory to write the PNG files into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Ask for this digit (0-9); without it, the classes take turns: 0, 1, ..., 9, 0, ...
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=9))]
    label: Option<u8>,
    /// Classifier-free guidance weight w: eps = (1 + w) eps(x, label) - w eps(x).
    #[arg(long, default_value_t = GUIDANCE)]
    guidance: f32,
    /// Apply guidance only at timesteps LO..=HI (elsewhere one conditional evaluation: half
    /// the cost, and more varied digits); 0:1000 guides every step.
    #[arg(long, value_name = "LO:HI", default_value = DEFAULT_INTERVAL, value_parser = parse_interval)]
    guidance_interval: RangeInclusive<usize>,
    /// ddpm or ddim.
    #[arg(long, default_value = "ddim")]
    sampler: String,
    /// Reverse steps [default: 25 for ddim (sampling::digits::DEFAULTS), T for ddpm].
    #[arg(long)]
    steps: Option<usize>,
    /// DDIM's eta (0: deterministic; 1: DDPM's noise at every step).
    #[arg(long, default_value_t = DEFAULTS.eta)]
    eta: f64,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A directory with unet.json and unet.safetensors to use instead of the shipped weights.
    #[arg(long)]
    weights: Option<PathBuf>,
}

/// The most digits one run samples (and writes as PNG files).
const MAX_DIGITS: usize = 100_000;

pub fn run(command: MnistCommand) -> anyhow::Result<()> {
    match command {
        MnistCommand::Sample(args) => sample(args),
        MnistCommand::Sweep(args) => super::sweep::run(args),
    }
}

fn sample(args: SampleArgs) -> anyhow::Result<()> {
    if args.n == 0 {
        bail!("--n must be at least 1");
    }
    if args.n > MAX_DIGITS {
        bail!("--n is {}; at most {MAX_DIGITS}", args.n);
    }
    if !(args.guidance.is_finite() && (0.0..=20.0).contains(&args.guidance)) {
        bail!("--guidance must be between 0 and 20, not {}", args.guidance);
    }
    if !(0.0..=1.0).contains(&args.eta) {
        bail!("--eta must be between 0 and 1, not {}", args.eta);
    }
    let sampler = Sampler::parse(&args.sampler, args.eta).map_err(|e| anyhow!(e))?;
    let (info, weights) = unet_files(args.weights.as_deref())?;
    let schedule = info.schedule().map_err(|e| anyhow!(e))?;
    let steps = args.steps.unwrap_or(match sampler {
        Sampler::Ddpm => schedule.steps(),
        Sampler::Ddim { .. } => DEFAULTS.steps,
    });
    if steps == 0 {
        bail!("--steps must be at least 1");
    }
    let device = Device::flex();
    let model = load_unet(&info, weights, &device).map_err(|e| anyhow!(e))?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;

    let labels: Vec<Option<u8>> = (0..args.n)
        .map(|i| Some(args.label.unwrap_or((i % 10) as u8)))
        .collect();
    let bar = ProgressBar::new(args.n as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} digits, {elapsed}").expect("valid template"),
    );
    let started = Instant::now();
    for (batch, chunk) in labels.chunks(BATCH).enumerate() {
        let request = DigitRequest {
            labels: chunk.to_vec(),
            guidance: args.guidance,
            guided: args.guidance_interval.clone(),
            sampler,
            steps,
            seed: args.seed.wrapping_mul(1_000_003).wrapping_add(batch as u64),
        };
        let mut chain = DigitChain::new(&schedule, request);
        diffusion_playground::model::digits::run(&mut chain, &model, &schedule, &device)
            .map_err(|e| anyhow!(e))?;
        for (i, image) in chain.images.iter().enumerate() {
            let path = args.out.join(format!("{:05}.png", batch * BATCH + i));
            write_png(&path, &image.map(to_byte))?;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    println!(
        "sampled {} digits ({}, {} steps{}) in {:.1} s into {}",
        args.n,
        sampler,
        steps.min(schedule.steps()),
        if args.guidance > 0.0 {
            format!(", guidance {}", args.guidance)
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// `unet.json` and `unet.safetensors` from `dir`, or the shipped ones.
pub(super) fn unet_files(dir: Option<&Path>) -> anyhow::Result<(WeightsInfo, Vec<u8>)> {
    let (config, weights) = match dir {
        Some(dir) => (
            std::fs::read_to_string(dir.join(CONFIG_FILE))
                .with_context(|| format!("cannot read {}", dir.join(CONFIG_FILE).display()))?,
            std::fs::read(dir.join(WEIGHTS_FILE))
                .with_context(|| format!("cannot read {}", dir.join(WEIGHTS_FILE).display()))?,
        ),
        None => (SHIPPED_CONFIG.to_string(), SHIPPED_WEIGHTS.to_vec()),
    };
    Ok((WeightsInfo::parse(&config).map_err(|e| anyhow!(e))?, weights))
}

/// A 28x28 8-bit grayscale PNG.
pub(super) fn write_png(path: &Path, pixels: &[u8]) -> anyhow::Result<()> {
    let mut bytes = Vec::new();
    let encode = |bytes: &mut Vec<u8>| -> Result<(), png::EncodingError> {
        let mut encoder = png::Encoder::new(bytes, SIDE as u32, SIDE as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(pixels)
    };
    encode(&mut bytes).with_context(|| format!("cannot encode {}", path.display()))?;
    super::write_atomic(path, &bytes)
}

/// `LO:HI` (timesteps) for `--guidance-interval`.
pub(super) fn parse_interval(text: &str) -> Result<RangeInclusive<usize>, String> {
    let (lo, hi) = text
        .split_once(':')
        .ok_or_else(|| format!("expected LO:HI, e.g. 400:800, not {text:?}"))?;
    let number = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| format!("{s:?} is not a timestep (a whole number)"))
    };
    let (lo, hi) = (number(lo)?, number(hi)?);
    if lo > hi {
        return Err(format!("the interval {lo}:{hi} is empty (LO must not exceed HI)"));
    }
    Ok(lo..=hi)
}

/// `model::digits::GUIDED`, as the flag spells it (clap needs a constant string).
const DEFAULT_INTERVAL: &str = "350:650";

#[cfg(test)]
mod tests {
    use super::*;
    use diffusion_playground::model::digits::GUIDED;

    #[test]
    fn the_default_interval_is_the_model_default() {
        assert_eq!(parse_interval(DEFAULT_INTERVAL), Ok(GUIDED));
        assert!(parse_interval("7:3").unwrap_err().contains("empty"));
        assert!(parse_interval("300").unwrap_err().contains("LO:HI"));
    }
}
