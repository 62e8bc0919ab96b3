//! How fast the digit U-Net trains and samples natively on the CPU (burn flex), to size it.
//! `cargo run --release --example unet_speed -- [c1 c2 c3]`
use std::time::Instant;

use burn::tensor::Device;
use diffusion_playground::data::mnist::Digits;
use diffusion_playground::model::digits::{ALWAYS, DigitChain, DigitRequest, DigitTrainConfig, DigitTrainer};
use diffusion_playground::model::sample::Sampler;
use diffusion_playground::model::unet::UNetConfig;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let channels = if args.len() == 3 {
        [args[0], args[1], args[2]]
    } else {
        UNetConfig::new().channels
    };
    let digits = Digits::parse(include_bytes!("../assets/mnist-sample.bin")).unwrap();
    let config = DigitTrainConfig::new()
        .with_model(UNetConfig::new().with_channels(channels))
        .with_batch_size(64);
    let mut trainer = DigitTrainer::new(config, digits, &Device::flex()).unwrap();
    trainer.step().unwrap();
    let started = Instant::now();
    let mut last = 0.0;
    for _ in 0..5 {
        last = trainer.step().unwrap();
    }
    let per_step = started.elapsed().as_secs_f64() / 5.0;
    println!(
        "{channels:?}: training {:.3} s/step of 64 ({:.0} images/s), loss {last:.3}",
        per_step,
        64.0 / per_step
    );
    let model = trainer.model();
    let schedule = trainer.config().noise_schedule().unwrap();
    let request = DigitRequest {
        labels: (0..16).map(|i| Some(i as u8 % 10)).collect(),
        guidance: 2.0,
        guided: ALWAYS,
        sampler: Sampler::Ddim { eta: 0.0 },
        steps: 5,
        seed: 0,
    };
    let mut chain = DigitChain::new(&schedule, request);
    let started = Instant::now();
    diffusion_playground::model::digits::run(&mut chain, &model, &schedule, &Device::flex()).unwrap();
    println!(
        "sampling 16 digits with guidance: {:.3} s per step",
        started.elapsed().as_secs_f64() / 5.0
    );
}
