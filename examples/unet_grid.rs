//! burn's side of the native comparison with PyTorch (`scripts/bench_unet_torch.py` is the
//! other): the shipped U-Net's weights, on one CPU thread (burn-flex's matrix products do not
//! spawn threads), timed for one network evaluation at batch 16 and for the whole grid of 16
//! digits in DDIM-25 without guidance, and burn-flex's own single-thread matrix-product rate,
//! the ceiling a convolution lowered to matrix products can reach.
//!
//! `cargo run --release --example unet_grid` (`bash scripts/bench-native.sh` runs both sides
//! and prints the ratios).
use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use diffusion_playground::data::mnist::SIDE;
use diffusion_playground::model::digits::{DigitChain, DigitRequest, NO_LABEL};
use diffusion_playground::model::weights::{WeightsInfo, load_unet};

const BATCH: usize = 16;

/// The median of `runs` timings of `f`, in seconds, after two untimed runs.
fn median(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    f();
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    let device = Device::flex();
    let info = WeightsInfo::parse(include_str!("../assets/mnist/unet.json")).expect("shipped config");
    let model = load_unet(
        &info,
        include_bytes!("../assets/mnist/unet.safetensors").to_vec(),
        &device,
    )
    .expect("shipped weights");
    let schedule = info.schedule().expect("shipped schedule");

    // One evaluation: 16 noisy digits at t = 500, no label.
    let x: Vec<f32> = (0..BATCH * SIDE * SIDE)
        .map(|i| ((i * 7919) % 200) as f32 / 100.0 - 1.0)
        .collect();
    let timesteps = vec![500usize; BATCH];
    let labels = vec![NO_LABEL; BATCH];
    let evaluation = median(21, || {
        let input = Tensor::<4>::from_data(TensorData::new(x.clone(), [BATCH, 1, SIDE, SIDE]), &device);
        let out = model.forward(input, &timesteps, &labels);
        std::hint::black_box(out.into_data());
    });
    println!("burn one evaluation, batch 16: {:.2} ms", 1e3 * evaluation);

    // The grid: 16 digits, DDIM in 25 steps, eta 0, no guidance (one pass a step).
    let grid = median(5, || {
        let request = DigitRequest::unguided(BATCH, 25, 0);
        let mut chain = DigitChain::new(&schedule, request);
        diffusion_playground::model::digits::run(&mut chain, &model, &schedule, &device).expect("runs");
        std::hint::black_box(&chain.images);
    });
    println!("burn grid of 16, DDIM-25, no guidance: {:.1} ms", 1e3 * grid);

    // The ceiling: a square matrix product of the size the U-Net's largest im2col products
    // reach, 2 n^3 floating-point operations.
    for n in [256usize, 512] {
        let a = Tensor::<2>::random([n, n], Distribution::Uniform(-1.0, 1.0), &device);
        let b = Tensor::<2>::random([n, n], Distribution::Uniform(-1.0, 1.0), &device);
        let t = median(9, || {
            std::hint::black_box(a.clone().matmul(b.clone()).into_data());
        });
        println!(
            "burn matmul {n}x{n}x{n}: {:.1} GFLOP/s",
            2.0 * (n as f64).powi(3) / t / 1e9
        );
    }
}
