//! The 2-D denoiser learns: its loss falls, its samples land near the Swiss roll, it survives a
//! save and load, and a learning rate that is far too high is caught.

use burn::tensor::Device;

use diffusion_playground::data::{standard_normal, swiss_roll};
use diffusion_playground::math::distance::{energy_distance, nearest_neighbour_accuracy};
use diffusion_playground::math::forward::Point;
use diffusion_playground::model::denoiser::Parameterization;
use diffusion_playground::model::sample::{Sampler, sample};
use diffusion_playground::model::store;
use diffusion_playground::model::train::{TrainConfig, TrainError, Trainer};

fn small(param: Parameterization, steps: usize) -> TrainConfig {
    let mut c = TrainConfig::new().with_steps(steps).with_seed(3);
    c.model.parameterization = param;
    c
}

fn mean(xs: &[f32]) -> f32 {
    xs.iter().sum::<f32>() / xs.len() as f32
}

#[test]
fn a_run_starts_from_its_seed_whatever_else_uses_the_generator_before_its_first_step() {
    let data = || swiss_roll(500, 1);
    let config = TrainConfig::new().with_steps(10).with_seed(5);
    let mut alone = Trainer::new(config.clone(), data(), &Device::flex()).unwrap();
    let expected = alone.step().unwrap();
    // As in the page's worker: a run is made, then other work draws from burn's generator (the
    // warm-up's own run, seeded otherwise) before the run's first step.
    let mut run = Trainer::new(config, data(), &Device::flex()).unwrap();
    let mut other = Trainer::new(
        TrainConfig::new().with_steps(10).with_seed(6),
        data(),
        &Device::flex(),
    )
    .unwrap();
    other.step().unwrap();
    assert_eq!(run.step().unwrap(), expected);
}

#[test]
fn every_parameterisation_lowers_its_loss() {
    for param in Parameterization::ALL {
        let mut trainer = Trainer::new(small(param, 400), swiss_roll(2000, 1), &Device::flex()).unwrap();
        for _ in 0..400 {
            trainer.step().unwrap_or_else(|e| panic!("{}: {e}", param.name()));
        }
        let (first, last) = (mean(&trainer.losses[..40]), mean(&trainer.losses[360..]));
        // The x_0 loss keeps a large irreducible part (at large t nobody knows x_0), so it falls least.
        assert!(last < 0.9 * first, "{}: loss {first} -> {last}", param.name());
    }
}

#[test]
fn the_default_model_samples_a_roll_that_two_sample_tests_barely_tell_from_the_data() {
    // The page's and the command line's defaults, as they are: 1,500 steps.
    let config = TrainConfig::new().with_seed(1);
    let steps = config.steps;
    let mut trainer = Trainer::new(config, swiss_roll(2000, 1), &Device::flex()).unwrap();
    for _ in 0..steps {
        trainer.step().unwrap();
    }
    let model = trainer.model();
    let data = swiss_roll(1000, 99);
    let noise: Vec<Point<2>> = standard_normal(1000, 98);
    let samples = sample(&model, trainer.schedule(), Sampler::Ddpm, 1000, 1000, 5).unwrap();
    assert!(samples.iter().flatten().all(|v| v.is_finite()));
    let to_noise = energy_distance(&data, &noise);
    let to_samples = energy_distance(&data, &samples);
    let between_data = energy_distance(&data, &swiss_roll(1000, 97));
    assert!(
        to_samples < 0.1 * to_noise && to_samples < 3.0 * between_data.abs().max(1e-3),
        "energy distance: samples {to_samples}, noise {to_noise}, fresh data {between_data}"
    );
    // A blurred or shifted roll scores near 1 here; two sets of the data score 0.5.
    let nn = nearest_neighbour_accuracy(&data, &samples);
    assert!(nn < 0.65, "1-NN two-sample accuracy {nn}");
}

#[test]
fn a_saved_model_loads_back_and_predicts_the_same() {
    let mut trainer = Trainer::new(
        small(Parameterization::Epsilon, 20),
        swiss_roll(500, 1),
        &Device::flex(),
    )
    .unwrap();
    for _ in 0..20 {
        trainer.step().unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    store::save(dir.path(), trainer.model(), trainer.config()).unwrap();
    let (loaded, config) = store::load(dir.path(), &Device::flex()).unwrap();
    assert_eq!(&config, trainer.config());
    let pts = [[0.1_f32, -0.3], [1.0, 0.5]];
    let a = trainer.model().predict(&pts, &[10, 900]).into_data();
    let b = loaded.predict(&pts, &[10, 900]).into_data();
    assert_eq!(a, b);
}

#[test]
fn a_huge_learning_rate_is_caught_as_divergence() {
    let config = small(Parameterization::Epsilon, 500).with_learning_rate(10.0);
    let mut trainer = Trainer::new(config, swiss_roll(500, 1), &Device::flex()).unwrap();
    let err = (0..500)
        .find_map(|_| trainer.step().err())
        .expect("lr = 10 must diverge");
    assert!(matches!(err, TrainError::Diverged { .. }), "{err:?}");
    assert!(err.to_string().contains("lower the learning rate"));
}

#[test]
fn bad_settings_are_refused() {
    let data = swiss_roll(10, 1);
    for config in [
        TrainConfig::new().with_batch_size(0),
        TrainConfig::new().with_learning_rate(-1.0),
        TrainConfig::new().with_diffusion_steps(0),
    ] {
        assert!(matches!(
            Trainer::new(config, data.clone(), &Device::flex()),
            Err(TrainError::Invalid(_))
        ));
    }
    assert!(Trainer::new(TrainConfig::new(), vec![], &Device::flex()).is_err());
}

#[test]
fn a_bundle_imports_back_and_predicts_the_same() {
    let mut trainer = Trainer::new(
        small(Parameterization::Epsilon, 20),
        swiss_roll(500, 1),
        &Device::flex(),
    )
    .unwrap();
    for _ in 0..20 {
        trainer.step().unwrap();
    }
    let bytes = store::to_bundle(trainer.model(), trainer.config(), &trainer.losses).unwrap();
    let imported = store::read_bundle(&bytes).unwrap();
    let back = Trainer::imported(imported, swiss_roll(500, 2), &Device::flex()).unwrap();
    assert_eq!(back.config(), trainer.config());
    assert_eq!(back.losses, trainer.losses);
    let pts = [[0.1_f32, -0.3], [1.0, 0.5]];
    let a = trainer.model().predict(&pts, &[10, 900]).into_data();
    let b = back.model().predict(&pts, &[10, 900]).into_data();
    assert_eq!(a, b);
}

#[test]
fn files_that_are_not_a_model_of_this_network_are_refused_with_a_reason() {
    let trainer = Trainer::new(
        small(Parameterization::Epsilon, 5),
        swiss_roll(100, 1),
        &Device::flex(),
    )
    .unwrap();
    let good = store::to_bundle(trainer.model(), trainer.config(), &[]).unwrap();
    let refused = |bytes: &[u8]| match store::read_bundle(bytes) {
        Err(e) => e,
        Ok(imported) => Trainer::imported(imported, swiss_roll(100, 1), &Device::flex())
            .err()
            .expect("refused when loaded"),
    };
    assert_eq!(refused(b""), "the file is empty");
    assert!(refused(&good[..good.len() / 2]).contains("not a model exported"));
    assert!(refused(b"\x89PNG\r\n\x1a\n....").contains("not a model exported"));
    assert!(refused(br#"{"format":"other","version":1}"#).contains("not a model exported"));
    // Another network: the config says 64 wide, the weights are 32 wide.
    let mut json: serde_json::Value = serde_json::from_slice(&good).unwrap();
    json["config"]["model"]["hidden"] = 64.into();
    let other = serde_json::to_vec(&json).unwrap();
    assert!(refused(&other).contains("do not fit"), "{}", refused(&other));
    json["config"]["model"]["hidden"] = 100_000.into();
    assert!(refused(&serde_json::to_vec(&json).unwrap()).contains("outside what the page trains"));
    json["config"]["model"]["hidden"] = 32.into();
    json["weights"] = "!!!not base64".into();
    assert!(refused(&serde_json::to_vec(&json).unwrap()).contains("damaged"));
    let huge = vec![b' '; store::MAX_BUNDLE_BYTES + 1];
    assert!(refused(&huge).contains("at most"));
}

#[test]
fn runs_past_the_limits_are_refused_before_anything_is_allocated() {
    use diffusion_playground::model::train::limits;
    let refused = |config: TrainConfig| match Trainer::new(config, swiss_roll(100, 1), &Device::flex()) {
        Err(TrainError::Invalid(why)) => why,
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    };
    assert!(refused(TrainConfig::new().with_batch_size(limits::BATCH + 1)).contains("at most 4096"));
    let mut wide = TrainConfig::new();
    wide.model.hidden = 100_000;
    assert!(refused(wide).contains("hidden width"));
    assert!(refused(TrainConfig::new().with_steps(usize::MAX)).contains("number of steps"));
    assert!(refused(TrainConfig::new().with_diffusion_steps(1_000_000)).contains("T is"));
}

/// A pass over more points than one slice takes gives, row for row, what each point alone gives.
#[test]
fn a_large_pass_is_sliced_without_changing_its_rows() {
    use diffusion_playground::model::denoiser::PASS_ROWS;
    let trainer = Trainer::new(
        small(Parameterization::Epsilon, 5),
        swiss_roll(100, 1),
        &Device::flex(),
    )
    .unwrap();
    let model = trainer.model();
    let n = 2 * PASS_ROWS + 7;
    let pts = swiss_roll(n, 2);
    let ts: Vec<usize> = (0..n).map(|i| 1 + i % 1000).collect();
    let all: Vec<f32> = model.predict(&pts, &ts).into_data().try_to_vec().unwrap();
    assert_eq!(all.len(), 2 * n);
    for i in [0, PASS_ROWS - 1, PASS_ROWS, n - 1] {
        let one: Vec<f32> = model
            .predict(&pts[i..=i], &ts[i..=i])
            .into_data()
            .try_to_vec()
            .unwrap();
        for (a, b) in one.iter().zip(&all[2 * i..2 * i + 2]) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "row {i}: {a} vs {b}");
        }
    }
}
