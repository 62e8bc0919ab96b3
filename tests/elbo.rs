//! The variational bound, term by term: the Gaussian KL and likelihood are right, the prior
//! term has its closed form, and a network that knows x_0 makes every KL term vanish, leaving
//! the prior and the decoder's variance.

use diffusion_playground::data::swiss_roll;
use diffusion_playground::math::NoiseSchedule;
use diffusion_playground::sampling::Parameterization;
use diffusion_playground::sampling::elbo::{estimate, gaussian_kl, gaussian_nll, prior_term};

#[test]
fn gaussian_kl_and_nll_have_their_textbook_values() {
    assert_eq!(gaussian_kl(0.3, 2.0, 0.3, 2.0), 0.0);
    // KL(N(1, 1) || N(0, 1)) = 1/2; KL(N(0, 1) || N(0, 4)) = (ln 4 + 1/4 - 1) / 2.
    assert!((gaussian_kl(1.0, 1.0, 0.0, 1.0) - 0.5).abs() < 1e-12);
    assert!((gaussian_kl(0.0, 1.0, 0.0, 4.0) - 0.5 * (4f64.ln() + 0.25 - 1.0)).abs() < 1e-12);
    // -log N(0; 0, 1) = ln(2 pi) / 2.
    assert!((gaussian_nll(0.0, 0.0, 1.0) - 0.5 * std::f64::consts::TAU.ln()).abs() < 1e-12);
}

#[test]
fn the_prior_term_is_its_closed_form() {
    let schedule = NoiseSchedule::ddpm();
    let data = swiss_roll(400, 1);
    let a = schedule.alpha_bar(1000);
    let mut sum = 0.0;
    for x in data.iter().flatten() {
        let (m, v) = (a.sqrt() * *x as f64, 1.0 - a);
        sum += 0.5 * (v + m * m - 1.0 - v.ln());
    }
    let want = sum / 800.0;
    assert!((prior_term(&schedule, &data) - want).abs() < 1e-12);
    // Almost nothing of x_0 is left at T = 1000: the term is tiny.
    assert!(want < 1e-4, "{want}");
}

#[test]
fn a_network_that_knows_x0_leaves_only_the_prior_and_the_decoder() {
    let schedule =
        NoiseSchedule::new(diffusion_playground::math::ScheduleKind::Linear, 200, 1e-4, 0.02).unwrap();
    let data = swiss_roll(50, 3);
    // The x0 parameterisation, answering with the true x_0 of every point.
    let oracle = |x_t: &[[f32; 2]], _t: usize| Ok(data[..x_t.len()].iter().flatten().copied().collect());
    let bound = estimate(&schedule, Parameterization::X0, &data, 7, oracle).unwrap();
    assert_eq!(bound.terms.len(), 200, "L_0 and one term per reverse step");
    assert_eq!(bound.units, "nats/dim");
    for (k, term) in bound.terms.iter().enumerate().skip(1) {
        assert!(term.abs() < 1e-6, "L_{k} = {term}");
    }
    // The decoder's mean is x_0 itself, so only its variance beta_1 costs.
    let decoder = 0.5 * (std::f64::consts::TAU * 1e-4).ln();
    assert!(
        (bound.terms[0] - decoder).abs() < 1e-6,
        "{} vs {decoder}",
        bound.terms[0]
    );
    let sum: f64 = bound.prior + bound.terms.iter().sum::<f64>();
    assert!((bound.total - sum).abs() < 1e-9);
}

#[test]
fn a_network_of_the_wrong_width_is_refused() {
    let schedule = NoiseSchedule::ddpm();
    let data = swiss_roll(5, 0);
    let bad = |_: &[[f32; 2]], _: usize| Ok(vec![0.0; 3]);
    let error = estimate(&schedule, Parameterization::Epsilon, &data, 0, bad).unwrap_err();
    assert!(error.contains("3 numbers for 5 points"), "{error}");
    assert!(estimate(&schedule, Parameterization::Epsilon, &[], 0, bad).is_err());
}

#[test]
fn the_bound_weights_the_noise_error_by_lambda_t_where_l_simple_uses_one() {
    use diffusion_playground::sampling::elbo::epsilon_weight;
    let schedule =
        NoiseSchedule::new(diffusion_playground::math::ScheduleKind::Linear, 200, 1e-4, 0.02).unwrap();
    let data = swiss_roll(40, 5);
    // A noise predictor off by `delta` in each coordinate: each KL term is lambda_t delta^2
    // per coordinate (the variances match).
    let delta = 0.01f32;
    let model = |x_t: &[[f32; 2]], t: usize| {
        let (signal, noise) = schedule.noise_scales(t);
        Ok(x_t
            .iter()
            .zip(&data)
            .flat_map(|(x, x0)| (0..2).map(move |d| (x[d] - signal * x0[d]) / noise + delta))
            .collect())
    };
    let bound = estimate(&schedule, Parameterization::Epsilon, &data, 11, model).unwrap();
    for t in 2..=30 {
        let want = epsilon_weight(&schedule, t) * (delta as f64).powi(2);
        let got = bound.terms[t - 1];
        assert!((got - want).abs() <= 2e-3 * want, "t = {t}: {got} against {want}");
    }
    // The bound cares far more about the first steps than L_simple does.
    assert!(epsilon_weight(&schedule, 2) > 20.0 * epsilon_weight(&schedule, 150));
}
