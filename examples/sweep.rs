//! Which training settings learn the Swiss roll fastest? Trains one configuration natively and
//! judges its samples against fresh data with two checks the model never saw: the energy
//! distance and the 1-nearest-neighbour two-sample test (0.5 = cannot tell them apart).
//!
//! `cargo run --release --example sweep -- --parameterization x0 --steps 1500 --lr 0.01`

use std::time::Instant;

use burn::tensor::Device;
use clap::Parser;

use diffusion_playground::data::swiss_roll;
use diffusion_playground::math::distance::{energy_distance, nearest_neighbour_accuracy};
use diffusion_playground::model::denoiser::Parameterization;
use diffusion_playground::model::sample::{Sampler, sample};
use diffusion_playground::model::train::{TrainConfig, Trainer};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    parameterization: Option<Parameterization>,
    #[arg(long)]
    hidden: Option<usize>,
    #[arg(long)]
    point_frequencies: Option<usize>,
    #[arg(long)]
    time_frequencies: Option<usize>,
    #[arg(long)]
    relu: bool,
    #[arg(long)]
    layers: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    steps: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    diffusion_steps: Option<usize>,
    #[arg(long)]
    beta_end: Option<f64>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Samples judged (and fresh data points they are judged against).
    #[arg(long, default_value_t = 2000)]
    n: usize,
}

fn main() {
    let args = Args::parse();
    let mut c = TrainConfig::new().with_seed(args.seed);
    if let Some(v) = args.parameterization {
        c.model.parameterization = v;
    }
    if let Some(v) = args.hidden {
        c.model.hidden = v;
    }
    if args.relu {
        c.model.activation = diffusion_playground::model::denoiser::Activation::Relu;
    }
    if let Some(v) = args.time_frequencies {
        c.model.time_frequencies = v;
    }
    if let Some(v) = args.point_frequencies {
        c.model.point_frequencies = v;
    }
    if let Some(v) = args.layers {
        c.model.layers = v;
    }
    if let Some(v) = args.batch_size {
        c.batch_size = v;
    }
    if let Some(v) = args.steps {
        c.steps = v;
    }
    if let Some(v) = args.lr {
        c.learning_rate = v;
    }
    if let Some(v) = args.diffusion_steps {
        c.diffusion_steps = v;
    }
    if let Some(v) = args.beta_end {
        c.beta_end = v;
    }
    let label = format!(
        "{} {:?} pf{} tf{} h{}x{} b{} lr{} T{} steps{}",
        c.model.parameterization.name(),
        c.model.activation,
        c.model.point_frequencies,
        c.model.time_frequencies,
        c.model.hidden,
        c.model.layers,
        c.batch_size,
        c.learning_rate,
        c.diffusion_steps,
        c.steps
    );
    let mut trainer = Trainer::new(c.clone(), swiss_roll(2000, args.seed), &Device::flex()).unwrap();
    let started = Instant::now();
    for _ in 0..c.steps {
        trainer.step().unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let model = trainer.model();
    let schedule = trainer.schedule().clone();
    let fresh = swiss_roll(args.n, 1000 + args.seed);
    let other = swiss_roll(args.n, 2000 + args.seed);
    let base = (
        energy_distance(&fresh, &other),
        nearest_neighbour_accuracy(&fresh, &other),
    );
    let mut line = format!(
        "{label}: {:.1} s ({:.0} steps/s) | data vs data: ED {:.5} 1NN {:.3}",
        secs,
        c.steps as f64 / secs,
        base.0,
        base.1
    );
    for (sampler, steps) in [
        (Sampler::Ddpm, schedule.steps()),
        (Sampler::Ddim { eta: 1.0 }, 100),
        (Sampler::Ddim { eta: 0.0 }, 50),
    ] {
        let pts = sample(&model, &schedule, sampler, steps, args.n, 7).unwrap();
        line += &format!(
            " | {sampler} {steps}: ED {:.5} 1NN {:.3} off-curve {:.4}",
            energy_distance(&pts, &fresh),
            nearest_neighbour_accuracy(&pts, &fresh),
            median_off_curve(&pts)
        );
    }
    println!("{line}");
}

/// The median distance from a sample to the spiral the data lie on (0 for the data).
fn median_off_curve(points: &[[f32; 2]]) -> f64 {
    let curve: Vec<[f64; 2]> = (0..=20_000)
        .map(|i| {
            let u = 1.5 * std::f64::consts::PI * (1.0 + 2.0 * i as f64 / 20_000.0);
            [u * u.cos() / 10.0, u * u.sin() / 10.0]
        })
        .collect();
    let mut d: Vec<f64> = points
        .iter()
        .map(|p| {
            curve
                .iter()
                .map(|c| (c[0] - p[0] as f64).hypot(c[1] - p[1] as f64))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}
