//! Beta schedules and the constants derived from them.
//!
//! Names follow the field (DDPM, improved-diffusion, diffusers): `betas`, `alphas`,
//! `alphas_cumprod`, `posterior_variance`, `posterior_mean_coef1`, `posterior_mean_coef2`.
//! Arrays are indexed from 0; index `i` holds the paper's timestep `t = i + 1`.

use std::f64::consts::FRAC_PI_2;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The largest beta the cosine schedule allows (Improved DDPM, section 3.2): without the clip
/// the last steps would have beta = 1 and destroy the signal in one jump.
pub const COSINE_MAX_BETA: f64 = 0.999;

/// The offset `s` of the cosine schedule (Improved DDPM, eq. 17): keeps beta_1 from being
/// vanishingly small near t = 0.
pub const COSINE_S: f64 = 0.008;

/// The sigmoid schedule's logits run over `linspace(-18, 10, T)` (Sohl-Dickstein et al. 2015,
/// as used for the Swiss roll in seed 004).
pub const SIGMOID_RANGE: (f64, f64) = (-18.0, 10.0);

/// How the betas are spread over the timesteps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// `beta_t` evenly spaced from `beta_1` to `beta_T` (DDPM, Ho et al. 2020).
    #[default]
    Linear,
    /// `alpha_bar(t) = f(t) / f(0)` with `f(t) = cos^2(((t/T + s) / (1 + s)) * pi/2)`
    /// (Improved DDPM, Nichol and Dhariwal 2021). Ignores `beta_1` and `beta_T`.
    Cosine,
    /// `sigmoid(linspace(-18, 10, T))` scaled into `[beta_1, beta_T]` (seed 004's Swiss roll).
    Sigmoid,
}

impl ScheduleKind {
    /// Every kind, in the order the page lists them.
    pub const ALL: [ScheduleKind; 3] = [Self::Linear, Self::Cosine, Self::Sigmoid];

    /// The lowercase name used on the command line and in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Linear => "linear",
            Self::Cosine => "cosine",
            Self::Sigmoid => "sigmoid",
        }
    }

    /// The `(beta_1, beta_T)` this kind is usually run with: DDPM's for the linear schedule,
    /// seed 004's Swiss-roll values for the sigmoid one. The cosine schedule ignores them.
    pub fn default_betas(self) -> (f64, f64) {
        match self {
            Self::Linear | Self::Cosine => (1e-4, 0.02),
            Self::Sigmoid => (1e-5, 0.3),
        }
    }

    /// Whether `beta_1` and `beta_T` shape this schedule (the cosine one derives its own).
    pub fn uses_beta_range(self) -> bool {
        !matches!(self, Self::Cosine)
    }
}

impl fmt::Display for ScheduleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScheduleKind {
    type Err = ScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| ScheduleError::UnknownKind(s.to_string()))
    }
}

/// Why a schedule could not be built.
#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleError {
    /// `T` must be at least 1.
    NoSteps,
    /// `T` above [`NoiseSchedule::MAX_STEPS`].
    TooManySteps(usize),
    /// A beta must lie strictly between 0 and 1.
    BetaOutOfRange { name: &'static str, value: f64 },
    /// `beta_1` must not exceed `beta_T`.
    BetasReversed { beta_start: f64, beta_end: f64 },
    /// The schedule's name is not one we know.
    UnknownKind(String),
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSteps => write!(f, "the number of steps T must be at least 1"),
            Self::TooManySteps(steps) => write!(
                f,
                "T = {steps} steps; at most {} (the page goes to 2000)",
                NoiseSchedule::MAX_STEPS
            ),
            Self::BetaOutOfRange { name, value } => {
                write!(f, "{name} = {value} is outside (0, 1)")
            }
            Self::BetasReversed { beta_start, beta_end } => write!(
                f,
                "beta_start = {beta_start} is larger than beta_end = {beta_end}"
            ),
            Self::UnknownKind(s) => write!(
                f,
                "unknown schedule kind '{s}' (expected linear, cosine or sigmoid)"
            ),
        }
    }
}

impl std::error::Error for ScheduleError {}

/// A variance schedule with every constant the forward process, the posterior and the samplers
/// need, computed once in `f64`.
#[derive(Clone, Debug, PartialEq)]
pub struct NoiseSchedule {
    /// `beta_t`, the variance added at step t.
    pub betas: Vec<f64>,
    /// `alpha_t = 1 - beta_t`.
    pub alphas: Vec<f64>,
    /// `alpha_bar_t = prod_{s <= t} alpha_s`: `x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps`.
    pub alphas_cumprod: Vec<f64>,
    /// `alpha_bar_{t-1}`, with `alpha_bar_0 = 1`.
    pub alphas_cumprod_prev: Vec<f64>,
    /// `beta~_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t)`, the variance of
    /// `q(x_{t-1} | x_t, x_0)` (DDPM eq. 7). Zero at t = 1.
    pub posterior_variance: Vec<f64>,
    /// The factor of `x_0` in the posterior mean: `beta_t sqrt(alpha_bar_{t-1}) / (1 - alpha_bar_t)`.
    pub posterior_mean_coef1: Vec<f64>,
    /// The factor of `x_t` in the posterior mean: `(1 - alpha_bar_{t-1}) sqrt(alpha_t) / (1 - alpha_bar_t)`.
    pub posterior_mean_coef2: Vec<f64>,
}

impl NoiseSchedule {
    /// Builds a schedule of `steps` timesteps. `beta_start` and `beta_end` are `beta_1` and
    /// `beta_T`; the cosine kind checks but ignores them.
    /// The most steps a schedule may have: its tables take a few megabytes at most.
    pub const MAX_STEPS: usize = 100_000;

    pub fn new(
        kind: ScheduleKind,
        steps: usize,
        beta_start: f64,
        beta_end: f64,
    ) -> Result<Self, ScheduleError> {
        if steps == 0 {
            return Err(ScheduleError::NoSteps);
        }
        if steps > Self::MAX_STEPS {
            return Err(ScheduleError::TooManySteps(steps));
        }
        for (name, value) in [("beta_start", beta_start), ("beta_end", beta_end)] {
            // `!(x > 0)` also rejects NaN.
            if !(value > 0.0 && value < 1.0) {
                return Err(ScheduleError::BetaOutOfRange { name, value });
            }
        }
        if beta_start > beta_end {
            return Err(ScheduleError::BetasReversed { beta_start, beta_end });
        }
        let betas = match kind {
            ScheduleKind::Linear => linear_betas(steps, beta_start, beta_end),
            ScheduleKind::Cosine => cosine_betas(steps),
            ScheduleKind::Sigmoid => sigmoid_betas(steps, beta_start, beta_end),
        };
        Ok(Self::from_betas(betas))
    }

    /// The schedule of the DDPM paper: linear, T = 1000, beta from 1e-4 to 0.02.
    pub fn ddpm() -> Self {
        Self::new(ScheduleKind::Linear, 1000, 1e-4, 0.02).expect("the DDPM constants are valid")
    }

    /// Derives every constant from a list of betas in (0, 1].
    pub fn from_betas(betas: Vec<f64>) -> Self {
        let alphas: Vec<f64> = betas.iter().map(|b| 1.0 - b).collect();
        let alphas_cumprod: Vec<f64> = alphas
            .iter()
            .scan(1.0, |acc, a| {
                *acc *= a;
                Some(*acc)
            })
            .collect();
        let alphas_cumprod_prev: Vec<f64> = std::iter::once(1.0)
            .chain(alphas_cumprod[..alphas_cumprod.len() - 1].iter().copied())
            .collect();
        let per_step = |f: &dyn Fn(f64, f64, f64, f64) -> f64| -> Vec<f64> {
            (0..betas.len())
                .map(|i| f(betas[i], alphas[i], alphas_cumprod[i], alphas_cumprod_prev[i]))
                .collect()
        };
        let posterior_variance = per_step(&|b, _, ab, ab_prev| b * (1.0 - ab_prev) / (1.0 - ab));
        let posterior_mean_coef1 = per_step(&|b, _, ab, ab_prev| b * ab_prev.sqrt() / (1.0 - ab));
        let posterior_mean_coef2 = per_step(&|_, a, ab, ab_prev| (1.0 - ab_prev) * a.sqrt() / (1.0 - ab));
        Self {
            betas,
            alphas,
            alphas_cumprod,
            alphas_cumprod_prev,
            posterior_variance,
            posterior_mean_coef1,
            posterior_mean_coef2,
        }
    }

    /// The number of timesteps T.
    pub fn steps(&self) -> usize {
        self.betas.len()
    }

    /// `beta_t` for the paper's `t` in `1..=T`.
    pub fn beta(&self, t: usize) -> f64 {
        self.betas[t - 1]
    }

    /// `alpha_bar_t` for `t` in `0..=T`; `alpha_bar_0 = 1` (no noise yet).
    pub fn alpha_bar(&self, t: usize) -> f64 {
        if t == 0 { 1.0 } else { self.alphas_cumprod[t - 1] }
    }

    /// The signal-to-noise ratio `alpha_bar_t / (1 - alpha_bar_t)` for `t` in `1..=T`.
    pub fn snr(&self, t: usize) -> f64 {
        let ab = self.alpha_bar(t);
        ab / (1.0 - ab)
    }

    /// The same process seen only at the given increasing timesteps (in `1..=T`): a schedule
    /// of `timesteps.len()` steps whose `alpha_bar` values are the chosen ones, so that
    /// `beta'_k = 1 - alpha_bar_{t_k} / alpha_bar_{t_{k-1}}`. Running DDPM on it is
    /// "skipping steps" (Improved DDPM, section 4).
    pub fn respaced(&self, timesteps: &[usize]) -> Self {
        let mut prev = 1.0;
        let betas = timesteps
            .iter()
            .map(|&t| {
                let ab = self.alpha_bar(t);
                let beta = 1.0 - ab / prev;
                prev = ab;
                beta
            })
            .collect();
        Self::from_betas(betas)
    }
}

fn linspace(start: f64, end: f64, n: usize) -> impl Iterator<Item = f64> {
    let step = if n > 1 {
        (end - start) / (n - 1) as f64
    } else {
        0.0
    };
    (0..n).map(move |i| start + step * i as f64)
}

fn linear_betas(steps: usize, beta_start: f64, beta_end: f64) -> Vec<f64> {
    linspace(beta_start, beta_end, steps).collect()
}

/// Improved DDPM, eq. 17: betas from consecutive ratios of `alpha_bar`, clipped at 0.999.
fn cosine_betas(steps: usize) -> Vec<f64> {
    let f = |t: f64| {
        (((t / steps as f64 + COSINE_S) / (1.0 + COSINE_S)) * FRAC_PI_2)
            .cos()
            .powi(2)
    };
    (0..steps)
        .map(|i| (1.0 - f((i + 1) as f64) / f(i as f64)).min(COSINE_MAX_BETA))
        .collect()
}

fn sigmoid_betas(steps: usize, beta_start: f64, beta_end: f64) -> Vec<f64> {
    let (lo, hi) = SIGMOID_RANGE;
    linspace(lo, hi, steps)
        .map(|x| 1.0 / (1.0 + (-x).exp()) * (beta_end - beta_start) + beta_start)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_default_schedules() -> Vec<(ScheduleKind, NoiseSchedule)> {
        vec![
            (ScheduleKind::Linear, NoiseSchedule::ddpm()),
            (
                ScheduleKind::Cosine,
                NoiseSchedule::new(ScheduleKind::Cosine, 1000, 1e-4, 0.02).unwrap(),
            ),
            (
                ScheduleKind::Sigmoid,
                NoiseSchedule::new(ScheduleKind::Sigmoid, 40, 1e-5, 0.3).unwrap(),
            ),
        ]
    }

    #[test]
    fn default_schedules_end_in_noise() {
        for (kind, s) in all_default_schedules() {
            // Seed 004's 40-step sigmoid schedule keeps the most: alpha_bar_T = 0.0064.
            let last = s.alpha_bar(s.steps());
            let bound = if kind == ScheduleKind::Sigmoid { 1e-2 } else { 1e-4 };
            assert!(last < bound, "{kind}: alpha_bar_T = {last}");
        }
    }

    #[test]
    fn alpha_bar_decreases_and_matches_product() {
        for (kind, s) in all_default_schedules() {
            let mut product = 1.0;
            for t in 1..=s.steps() {
                product *= 1.0 - s.beta(t);
                assert!((s.alpha_bar(t) - product).abs() < 1e-12, "{kind} t={t}");
                assert!(s.alpha_bar(t) < s.alpha_bar(t - 1), "{kind} t={t}");
            }
        }
    }

    #[test]
    fn linear_endpoints_are_the_given_betas() {
        let s = NoiseSchedule::new(ScheduleKind::Linear, 10, 0.001, 0.05).unwrap();
        assert_eq!(s.beta(1), 0.001);
        assert!((s.beta(10) - 0.05).abs() < 1e-15);
    }

    #[test]
    fn sigmoid_stays_in_its_range_and_increases() {
        let s = NoiseSchedule::new(ScheduleKind::Sigmoid, 40, 1e-5, 0.3).unwrap();
        assert!(s.betas.windows(2).all(|w| w[0] < w[1]));
        assert!(s.beta(1) >= 1e-5 && s.beta(1) < 1.1e-5);
        assert!(s.beta(40) <= 0.3 && s.beta(40) > 0.2999);
    }

    #[test]
    fn cosine_follows_its_closed_form() {
        let steps = 1000;
        let s = NoiseSchedule::new(ScheduleKind::Cosine, steps, 1e-4, 0.02).unwrap();
        let f = |t: f64| {
            (((t / steps as f64 + COSINE_S) / (1.0 + COSINE_S)) * FRAC_PI_2)
                .cos()
                .powi(2)
        };
        // Away from the clipped end, alpha_bar(t) = f(t) / f(0) exactly.
        for t in [1, 10, 500, 900] {
            let expected = f(t as f64) / f(0.0);
            assert!((s.alpha_bar(t) - expected).abs() < 1e-9, "t={t}");
        }
        assert!(s.betas.iter().all(|&b| b <= COSINE_MAX_BETA));
        assert_eq!(s.beta(steps), COSINE_MAX_BETA);
    }

    #[test]
    fn posterior_variance_is_zero_at_first_step_and_below_beta() {
        for (kind, s) in all_default_schedules() {
            assert_eq!(s.posterior_variance[0], 0.0, "{kind}");
            for t in 1..=s.steps() {
                assert!(s.posterior_variance[t - 1] <= s.beta(t) + 1e-15, "{kind} t={t}");
            }
        }
    }

    #[test]
    fn bad_arguments_are_rejected() {
        use ScheduleKind::Linear;
        assert_eq!(
            NoiseSchedule::new(Linear, 0, 1e-4, 0.02),
            Err(ScheduleError::NoSteps)
        );
        assert!(matches!(
            NoiseSchedule::new(Linear, 10, 0.0, 0.02),
            Err(ScheduleError::BetaOutOfRange {
                name: "beta_start",
                ..
            })
        ));
        assert!(matches!(
            NoiseSchedule::new(Linear, 10, 1e-4, 1.0),
            Err(ScheduleError::BetaOutOfRange { name: "beta_end", .. })
        ));
        assert!(matches!(
            NoiseSchedule::new(Linear, 10, 1e-4, f64::NAN),
            Err(ScheduleError::BetaOutOfRange { .. })
        ));
        assert!(matches!(
            NoiseSchedule::new(Linear, 10, 0.1, 0.01),
            Err(ScheduleError::BetasReversed { .. })
        ));
        assert!("quadratic".parse::<ScheduleKind>().is_err());
        assert_eq!("cosine".parse::<ScheduleKind>(), Ok(ScheduleKind::Cosine));
    }

    #[test]
    fn respacing_keeps_the_chosen_alpha_bars() {
        let s = NoiseSchedule::ddpm();
        let ts = [1, 100, 250, 600, 1000];
        let r = s.respaced(&ts);
        for (k, &t) in ts.iter().enumerate() {
            assert!((r.alpha_bar(k + 1) - s.alpha_bar(t)).abs() < 1e-12);
        }
    }
}
