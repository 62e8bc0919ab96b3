//! `diffusion swissroll ...`: the Swiss roll data, and the 2-D model trained and sampled with
//! the same code and defaults as the page.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail};
use burn::tensor::Device;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use diffusion_playground::data::swiss_roll;
use diffusion_playground::model::denoiser::Parameterization;
use diffusion_playground::model::sample::{Sampler, sample};
use diffusion_playground::model::store;
use diffusion_playground::model::train::{TrainConfig, Trainer};
use diffusion_playground::sampling::elbo::{estimate, noise_seed};

use super::write_atomic;

/// Points of the roll the model is trained on, as in the page.
pub const TRAIN_POINTS: usize = 2000;

#[derive(Subcommand, Debug)]
pub enum SwissrollCommand {
    /// Write N points of the Swiss roll as CSV with a header line `x,y`.
    Data {
        /// The number of points.
        #[arg(long)]
        n: usize,
        /// The seed; the same seed gives the same points.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The CSV file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Train the 2-D denoiser (the page's defaults) and save it with its config in DIR.
    Train(TrainArgs),
    /// Sample N points from a trained model as CSV with a header line `x,y`.
    Sample(SampleArgs),
    /// Print the model's variational bound on the negative log-likelihood, term by term, as
    /// JSON: `{"prior": L_T, "terms": [L_0, ..., L_{T-1}], "total": ..., "units": "nats/dim"}`.
    Elbo(ElboArgs),
}

#[derive(Args, Debug)]
pub struct ElboArgs {
    /// A directory written by `swissroll train`, or a model file exported by the page.
    #[arg(long)]
    model: PathBuf,
    /// Points of the Swiss roll the bound is estimated on (those `swissroll data` writes).
    #[arg(long, default_value_t = 1000)]
    n: usize,
    /// Seed of those points and of the noise that takes them to each x_t.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// The directory to write model.bpk and config.json into.
    #[arg(long)]
    out: PathBuf,
    /// Seed of the data, the initial weights and the batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Optimisation steps [default: 1500].
    #[arg(long)]
    steps: Option<usize>,
    /// Points per step [default: 256].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam's learning rate [default: 0.015].
    #[arg(long)]
    lr: Option<f64>,
    /// Width of the hidden layers [default: 32].
    #[arg(long)]
    hidden: Option<usize>,
    /// What the network predicts: epsilon, x0, mean or mean-logvar [default: epsilon].
    #[arg(long)]
    parameterization: Option<Parameterization>,
}

#[derive(Args, Debug)]
pub struct SampleArgs {
    /// A directory written by `swissroll train`, or a model file exported by the page.
    #[arg(long)]
    model: PathBuf,
    /// The number of samples.
    #[arg(long)]
    n: usize,
    /// The CSV file to write.
    #[arg(long)]
    out: PathBuf,
    /// Seed of the initial noise and of the sampler's noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// ddpm or ddim.
    #[arg(long, default_value = "ddpm")]
    sampler: String,
    /// Reverse steps [default: T for ddpm, 100 for ddim].
    #[arg(long)]
    steps: Option<usize>,
    /// DDIM's eta: 0 is deterministic, 1 has DDPM's variance.
    #[arg(long, default_value_t = 0.0)]
    eta: f64,
}

/// The most points `swissroll data` writes (a 200 MB CSV).
const MAX_DATA_POINTS: usize = 10_000_000;

pub fn run(command: SwissrollCommand) -> anyhow::Result<()> {
    match command {
        SwissrollCommand::Data { n, seed, out } => {
            if n == 0 {
                bail!("--n must be at least 1");
            }
            if n > MAX_DATA_POINTS {
                bail!("--n is {n}; at most {MAX_DATA_POINTS}");
            }
            write_points(&out, &swiss_roll(n, seed))
        }
        SwissrollCommand::Train(args) => train(args),
        SwissrollCommand::Sample(args) => sample_command(args),
        SwissrollCommand::Elbo(args) => elbo(args),
    }
}

fn elbo(args: ElboArgs) -> anyhow::Result<()> {
    if args.n == 0 {
        bail!("--n must be at least 1");
    }
    let limit = diffusion_playground::model::train::limits::POINTS;
    if args.n > limit {
        bail!("--n is {}; at most {limit}", args.n);
    }
    let (model, config) = store::load_any(&args.model, &Device::flex()).map_err(|e| anyhow!(e))?;
    let schedule = config.noise_schedule()?;
    // The points `swissroll data --n N --seed S` writes; their noise from another stream of
    // the same seed.
    let data = swiss_roll(args.n, args.seed);
    let bound = estimate(
        &schedule,
        model.parameterization(),
        &data,
        noise_seed(args.seed),
        |x_t, t| {
            model
                .predict(x_t, &vec![t; x_t.len()])
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| format!("{e:?}"))
        },
    )
    .map_err(|e| anyhow!(e))?;
    println!("{}", serde_json::to_string(&bound)?);
    Ok(())
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    let mut config = TrainConfig::new().with_seed(args.seed);
    if let Some(steps) = args.steps {
        config.steps = steps;
    }
    if let Some(b) = args.batch_size {
        config.batch_size = b;
    }
    if let Some(lr) = args.lr {
        config.learning_rate = lr;
    }
    if let Some(h) = args.hidden {
        config.model.hidden = h;
    }
    if let Some(p) = args.parameterization {
        config.model.parameterization = p;
    }
    let data = swiss_roll(TRAIN_POINTS, args.seed);
    let steps = config.steps;
    let mut trainer = Trainer::new(config, data, &Device::flex()).map_err(|e| anyhow!(e))?;
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} steps, {per_sec}, loss {msg}")
            .expect("the template is valid"),
    );
    let started = Instant::now();
    let mut last = f32::NAN;
    for i in 0..steps {
        last = trainer.step().map_err(|e| anyhow!(e))?;
        if i % 20 == 0 {
            bar.set_message(format!("{last:.4}"));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    // The final loss is noisy from batch to batch: report the mean of the last 100 steps too.
    let tail = &trainer.losses[trainer.losses.len().saturating_sub(100)..];
    let mean = tail.iter().sum::<f32>() / tail.len().max(1) as f32;
    // Each file through a temporary file and a rename: an interrupted run leaves no half model.
    std::fs::create_dir_all(&args.out).map_err(|e| anyhow!("cannot create {}: {e}", args.out.display()))?;
    for (name, bytes) in store::files(trainer.model(), trainer.config()).map_err(|e| anyhow!(e))? {
        write_atomic(&args.out.join(name), &bytes)?;
    }
    write_losses(&args.out.join("losses.csv"), &trainer.losses)?;
    println!(
        "trained {steps} steps in {elapsed:.1} s ({:.0} steps/s); final loss {last:.4} (mean of the last {} steps {mean:.4}); saved to {}",
        steps as f64 / elapsed.max(1e-9),
        tail.len(),
        args.out.display()
    );
    Ok(())
}

fn sample_command(args: SampleArgs) -> anyhow::Result<()> {
    if args.n == 0 {
        bail!("--n must be at least 1");
    }
    if !(0.0..=1.0).contains(&args.eta) {
        bail!("--eta must be between 0 and 1, not {}", args.eta);
    }
    let sampler = Sampler::parse(&args.sampler, args.eta).map_err(|e| anyhow!(e))?;
    let (model, config) = store::load_any(&args.model, &Device::flex()).map_err(|e| anyhow!(e))?;
    let schedule = config.noise_schedule()?;
    let steps = args.steps.unwrap_or(match sampler {
        Sampler::Ddpm => schedule.steps(),
        Sampler::Ddim { .. } => 100,
    });
    if steps == 0 {
        bail!("--steps must be at least 1");
    }
    let started = Instant::now();
    let points = sample(&model, &schedule, sampler, steps, args.n, args.seed).map_err(|e| anyhow!(e))?;
    write_points(&args.out, &points)?;
    eprintln!(
        "sampled {} points in {} steps in {:.2} s",
        args.n,
        steps.min(schedule.steps()),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes every step's loss as `step,loss` rows under a header (the page's loss chart, as a file).
fn write_losses(path: &Path, losses: &[f32]) -> anyhow::Result<()> {
    let mut text = String::from("step,loss\n");
    for (i, loss) in losses.iter().enumerate() {
        text.push_str(&format!("{},{loss}\n", i + 1));
    }
    write_atomic(path, text.as_bytes())
}

/// Writes `x,y` rows under a header; shared by the data and sample commands.
pub fn write_points(path: &Path, points: &[[f32; 2]]) -> anyhow::Result<()> {
    let mut text = String::from("x,y\n");
    for [x, y] in points {
        text.push_str(&format!("{x},{y}\n"));
    }
    write_atomic(path, text.as_bytes())
}
