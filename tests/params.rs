//! The page's settings start where the command line's do: one set of defaults, two front ends.

use diffusion_playground::model::denoiser::Parameterization;
use diffusion_playground::model::digits::{DEFAULTS, GUIDANCE, GUIDED};
use diffusion_playground::model::train::TrainConfig;
use diffusion_playground::params::{CONTROLS, Input, Params};
use diffusion_playground::sampling::sweep::Sweep;

#[test]
fn the_pages_training_defaults_are_the_command_lines() {
    let page = Params::default();
    let cli = TrainConfig::new();
    assert_eq!(TrainConfig::from_params(&page).unwrap(), cli);
    assert_eq!(page.train.learning_rate, cli.learning_rate);
    assert_eq!(page.train.steps, cli.steps);
    assert_eq!(page.train.batch_size, cli.batch_size);
    assert_eq!(page.train.hidden, cli.model.hidden);
    assert_eq!(page.train.parameterization, cli.model.parameterization.name());
    assert_eq!(page.seed, cli.seed);
    assert_eq!((page.kind, page.steps), (cli.schedule, cli.diffusion_steps));
    assert_eq!((page.beta_start, page.beta_end), (cli.beta_start, cli.beta_end));
}

#[test]
fn the_pages_guidance_is_the_command_lines() {
    let page = Params::default().digits;
    assert_eq!(page.guidance, f64::from(GUIDANCE));
    assert_eq!(page.guided_from..=page.guided_to, GUIDED);
    assert_eq!((page.steps, page.eta), (DEFAULTS.steps, DEFAULTS.eta));
}

/// The digits' defaults are what the shipped sweep chose (`diffusion mnist sweep`), not a guess.
#[test]
fn the_digit_defaults_are_the_shipped_sweeps_choice() {
    let json = include_str!("../assets/mnist/sweep.json");
    let sweep = Sweep::parse(json).unwrap();
    let chosen = &sweep.chosen;
    assert_eq!(chosen.guidance, DEFAULTS.guidance);
    assert_eq!(chosen.steps, DEFAULTS.steps);
    assert_eq!(chosen.eta, DEFAULTS.eta);
    if let Some([lo, hi]) = chosen.interval {
        assert_eq!(lo..=hi, DEFAULTS.guided);
    }
    assert!(sweep.samples >= 1000, "judged on at least 1,000 digits a setting");
}

#[test]
fn every_parameterization_offered_is_one_the_model_knows() {
    let row = CONTROLS
        .iter()
        .find(|c| c.key == "predict")
        .expect("a predict control");
    let Input::Choice(names) = row.input else {
        panic!("predict is a choice")
    };
    let known: Vec<&str> = Parameterization::ALL.iter().map(|p| p.name()).collect();
    assert_eq!(names, known.as_slice());
}

#[test]
fn the_controls_bounds_are_the_limits_the_trainer_enforces() {
    use diffusion_playground::model::train::limits;
    let hi = |key: &str| match CONTROLS.iter().find(|c| c.key == key).unwrap().input {
        Input::Whole { hi, .. } => hi as usize,
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(hi("batch"), limits::BATCH);
    assert_eq!(hi("hidden"), limits::HIDDEN);
    assert_eq!(hi("steps"), limits::STEPS);
    assert_eq!(hi("T"), limits::DIFFUSION_STEPS);
}
