//! The digit U-Net: the shipped weights decode into the current architecture, compute what
//! PyTorch computed on the same weights (the parity fixture written by the trainer), and give
//! finite output; damaged weight files are refused with a reason; a tiny U-Net trains on the
//! shipped sample digits and its loss goes down.

use std::path::PathBuf;

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::SafeTensors;

use diffusion_playground::data::mnist::{Digits, SIDE};
use diffusion_playground::model::digits::{
    self, ALWAYS, DigitChain, DigitRequest, DigitTrainConfig, DigitTrainer,
};
use diffusion_playground::model::sample::Sampler;
use diffusion_playground::model::unet::UNetConfig;
use diffusion_playground::model::weights::{CONFIG_FILE, WEIGHTS_FILE, WeightsInfo, load_unet};

/// `assets/mnist`, or `MNIST_WEIGHTS` (to check a fresh training run before shipping it).
fn weights_dir() -> PathBuf {
    std::env::var_os("MNIST_WEIGHTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/mnist"))
}

fn info() -> WeightsInfo {
    let json = std::fs::read_to_string(weights_dir().join(CONFIG_FILE)).unwrap();
    WeightsInfo::parse(&json).unwrap()
}

fn f32s(st: &SafeTensors, name: &str) -> Vec<f32> {
    let view = st.tensor(name).unwrap();
    view.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn i64s(st: &SafeTensors, name: &str) -> Vec<i64> {
    let view = st.tensor(name).unwrap();
    view.data()
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

#[test]
fn the_shipped_weights_compute_what_pytorch_computed() {
    let dir = weights_dir();
    let info = info();
    let model = load_unet(
        &info,
        std::fs::read(dir.join(WEIGHTS_FILE)).unwrap(),
        &Device::flex(),
    )
    .unwrap();
    let fixture = std::fs::read(dir.join("parity.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&fixture).unwrap();
    let x = f32s(&st, "x");
    let ts: Vec<usize> = i64s(&st, "t").into_iter().map(|t| t as usize).collect();
    let labels: Vec<usize> = i64s(&st, "labels").into_iter().map(|l| l as usize).collect();
    let want = f32s(&st, "output");
    let n = ts.len();
    let input = Tensor::<4>::from_data(TensorData::new(x, [n, 1, SIDE, SIDE]), &Device::flex());
    let got = model
        .forward(input, &ts, &labels)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(got.len(), want.len());
    assert!(got.iter().all(|v| v.is_finite()));
    let worst = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0_f32, f32::max);
    assert!(worst < 1e-4, "largest difference from PyTorch: {worst}");
}

#[test]
fn damaged_weights_are_refused_with_a_reason() {
    let info = info();
    let bytes = std::fs::read(weights_dir().join(WEIGHTS_FILE)).unwrap();
    let truncated = load_unet(&info, bytes[..bytes.len() / 2].to_vec(), &Device::flex()).unwrap_err();
    assert!(truncated.contains("damaged or truncated"), "{truncated}");
    let empty = load_unet(&info, Vec::new(), &Device::flex()).unwrap_err();
    assert!(empty.contains("empty or truncated"), "{empty}");
    let mut garbage = bytes.clone();
    garbage[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(load_unet(&info, garbage, &Device::flex()).is_err());
    // The right file for another shape.
    let mut other = info.clone();
    other.channels = [32, 64, 64];
    let wrong = load_unet(&other, bytes.clone(), &Device::flex()).unwrap_err();
    assert!(wrong.contains("does not fit"), "{wrong}");
    // Valid safetensors of something else entirely (the parity fixture): one short sentence,
    // not burn's many-line report.
    let parity = std::fs::read(weights_dir().join("parity.safetensors")).unwrap();
    let foreign = load_unet(&info, parity, &Device::flex()).unwrap_err();
    assert!(foreign.contains("does not fit"), "{foreign}");
    assert!(!foreign.contains('\n') && foreign.len() < 200, "{foreign}");
    assert!(WeightsInfo::parse("{").is_err());
}

#[test]
fn a_tiny_unet_learns_on_the_sample_digits_and_samples_finite_images() {
    let digits = Digits::parse(include_bytes!("../assets/mnist-sample.bin")).unwrap();
    let config = DigitTrainConfig::new()
        .with_model(
            UNetConfig::new()
                .with_channels([8, 16, 16])
                .with_embedding(32)
                .with_groups(4),
        )
        .with_batch_size(16)
        .with_learning_rate(3e-3)
        .with_seed(2);
    let mut trainer = DigitTrainer::new(config, digits, &Device::flex()).unwrap();
    let losses: Vec<f32> = (0..30).map(|_| trainer.step().unwrap()).collect();
    let mean = |xs: &[f32]| xs.iter().sum::<f32>() / xs.len() as f32;
    assert!(mean(&losses[25..]) < 0.8 * mean(&losses[..5]), "{losses:?}");
    let schedule = trainer.config().noise_schedule().unwrap();
    let request = DigitRequest {
        labels: vec![Some(3), None],
        guidance: 1.5,
        guided: ALWAYS,
        sampler: Sampler::Ddim { eta: 0.0 },
        steps: 4,
        seed: 0,
    };
    let mut chain = DigitChain::new(&schedule, request);
    digits::run(&mut chain, &trainer.model(), &schedule, &Device::flex()).unwrap();
    assert_eq!(chain.taken, 4);
    assert!(chain.images.iter().flatten().all(|v| v.is_finite()));

    // SDEdit: a digit noised to t = 300 and denoised in 3 steps that all lie at or below 300.
    let digits = Digits::parse(include_bytes!("../assets/mnist-sample.bin")).unwrap();
    let drawing: [f32; 784] = std::array::from_fn(|p| digits.image(0)[p] as f32 / 127.5 - 1.0);
    let request = DigitRequest::unguided(1, 3, 1);
    let mut sdedit = DigitChain::from_images(&schedule, request, &[drawing], 300);
    assert_eq!(sdedit.current_t(), Some(300));
    assert!(sdedit.timesteps.iter().all(|&t| t <= 300));
    digits::run(&mut sdedit, &trainer.model(), &schedule, &Device::flex()).unwrap();
    assert_eq!(sdedit.taken, sdedit.timesteps.len());
    assert!(sdedit.images[0].iter().all(|v| v.is_finite()));
}

#[test]
fn guidance_doubles_the_batch_only_inside_its_interval() {
    let schedule = DigitTrainConfig::new().noise_schedule().unwrap();
    let request = DigitRequest {
        labels: vec![Some(1), Some(2), Some(3)],
        guidance: 2.0,
        guided: 300..=700,
        sampler: Sampler::Ddim { eta: 0.0 },
        steps: 25,
        seed: 0,
    };
    let mut chain = DigitChain::new(&schedule, request);
    let (mut guided, mut batches) = (0, Vec::new());
    while let Some(t) = chain.current_t() {
        let inputs = chain.inputs().unwrap();
        let (ts, labels) = (&inputs.timesteps, &inputs.labels);
        let batch = labels.len();
        assert_eq!((ts.len(), inputs.pixels.len()), (batch, batch * 784));
        assert_eq!(chain.guided_now(), (300..=700).contains(&t), "t = {t}");
        if chain.guided_now() {
            guided += 1;
            // Labelled first, then the same images without a label.
            assert_eq!(&labels[3..], &[10, 10, 10]);
        }
        batches.push(batch);
        // Any output of the right size moves the chain on.
        chain.advance(&schedule, &vec![0.0; batch * 784]);
    }
    assert_eq!(
        guided, 9,
        "DDIM's 25 steps put 9 timesteps in 300..=700: {batches:?}"
    );
    assert!(batches.iter().all(|&b| b == 3 || b == 6));
}
