//! `diffusion schedule`: the schedule's constants as JSON, for plotting or for checking against
//! another implementation.

use clap::Args;
use serde_json::json;

use diffusion_playground::math::{NoiseSchedule, ScheduleKind};

#[derive(Args, Debug)]
pub struct ScheduleArgs {
    /// linear, cosine or sigmoid.
    #[arg(long, default_value = "linear")]
    kind: ScheduleKind,
    /// The number of diffusion steps T.
    #[arg(long)]
    steps: usize,
    /// beta_1 [default: 1e-4, or 1e-5 for sigmoid].
    #[arg(long, allow_negative_numbers = true)]
    beta_start: Option<f64>,
    /// beta_T [default: 0.02, or 0.3 for sigmoid].
    #[arg(long, allow_negative_numbers = true)]
    beta_end: Option<f64>,
}

pub fn run(args: &ScheduleArgs) -> anyhow::Result<()> {
    let (default_start, default_end) = args.kind.default_betas();
    let beta_start = args.beta_start.unwrap_or(default_start);
    let beta_end = args.beta_end.unwrap_or(default_end);
    let s = NoiseSchedule::new(args.kind, args.steps, beta_start, beta_end)?;
    // Index i of every array is the paper's t = i + 1.
    let out = json!({
        "kind": args.kind.name(),
        "steps": args.steps,
        "beta_start": beta_start,
        "beta_end": beta_end,
        "betas": s.betas,
        "alphas": s.alphas,
        "alphas_cumprod": s.alphas_cumprod,
        "alphas_cumprod_prev": s.alphas_cumprod_prev,
        "posterior_variance": s.posterior_variance,
        "posterior_mean_coef1": s.posterior_mean_coef1,
        "posterior_mean_coef2": s.posterior_mean_coef2,
    });
    println!("{out}");
    Ok(())
}
