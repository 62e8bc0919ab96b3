//! How much memory the worker's largest allowed requests need: the limits of
//! `protocol::limits` at their maximum, run natively on the same burn CPU backend the worker
//! uses, one case a process, printing the peak resident memory (Linux's `VmHWM`).
//!
//! `cargo run --release --example memory -- unet|train|predict`

use burn::tensor::Device;

use diffusion_playground::data::swiss_roll;
use diffusion_playground::model::digits::{DigitInputs, forward_lazy};
use diffusion_playground::model::train::{TrainConfig, Trainer};
use diffusion_playground::model::weights::{WeightsInfo, load_unet};
use diffusion_playground::protocol::limits;

fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let device = Device::flex();
    let before = peak_mb();
    match case.as_str() {
        "unet" => {
            let info = WeightsInfo::parse(include_str!("../assets/mnist/unet.json")).unwrap();
            let weights = include_bytes!("../assets/mnist/unet.safetensors").to_vec();
            let model = load_unet(&info, weights, &device).unwrap();
            let n = limits::IMAGES;
            let inputs = DigitInputs {
                pixels: vec![0.1; n * 784],
                timesteps: vec![500; n],
                labels: vec![3; n],
            };
            let out = forward_lazy(&model, inputs, &device).into_data();
            println!("U-Net pass of {n} images: {} values out", out.num_elements());
        }
        "train" => {
            let mut c = TrainConfig::new()
                .with_batch_size(limits::BATCH)
                .with_diffusion_steps(limits::STEPS)
                .with_steps(3);
            c.model.hidden = limits::HIDDEN;
            let data = swiss_roll(limits::POINTS, 0);
            let mut trainer = Trainer::new(c, data, &device).unwrap();
            for _ in 0..3 {
                trainer.step().unwrap();
            }
            println!(
                "3 training steps, batch {}, width {}, {} points, T = {}",
                limits::BATCH,
                limits::HIDDEN,
                limits::POINTS,
                limits::STEPS
            );
        }
        "predict" => {
            let mut c = TrainConfig::new().with_diffusion_steps(limits::STEPS);
            c.model.hidden = limits::HIDDEN;
            let trainer = Trainer::new(c, swiss_roll(16, 0), &device).unwrap();
            let model = trainer.model();
            let points = swiss_roll(limits::POINTS, 1);
            let ts = vec![limits::STEPS / 2; points.len()];
            let out = model.predict(&points, &ts).into_data();
            println!(
                "one prediction for {} points at width {}: {} values",
                limits::POINTS,
                limits::HIDDEN,
                out.num_elements()
            );
        }
        _ => {
            eprintln!("usage: memory unet|train|predict");
            std::process::exit(2);
        }
    }
    println!(
        "peak resident memory: {before:.0} MB before, {:.0} MB after",
        peak_mb()
    );
}
