//! The form controls. They are only ever read into a [`Params`] and written back from one, so
//! the URL, the sliders and the panels cannot disagree.

use web_sys::{HtmlInputElement, HtmlSelectElement};

use super::dom::{by_id, set_text};
use crate::math::ScheduleKind;
use crate::params::{Params, bounds};

/// The ids of the controls whose `input` events redraw the page.
pub const IDS: [&str; 7] = ["data", "kind", "T", "b1", "bT", "t", "seed"];

/// Reads every control. Values a control cannot hold are already excluded by its range; the
/// beta sliders are kept ordered (moving beta_1 above beta_T drags beta_T along, and back).
pub fn read(previous: &Params, changed: &str) -> Result<Params, String> {
    let mut p = previous.clone();
    let kind: HtmlSelectElement = by_id("kind")?;
    p.kind = kind.value().parse().unwrap_or(previous.kind);
    let data: HtmlSelectElement = by_id("data")?;
    p.data = data.value().parse().unwrap_or(previous.data);
    p.set_steps(input("T")?.value_as_number() as usize);
    p.beta_start = from_log_slider(input("b1")?.value_as_number(), bounds::BETA_START);
    p.beta_end = from_log_slider(input("bT")?.value_as_number(), bounds::BETA_END);
    if p.beta_start > p.beta_end {
        if changed == "bT" {
            p.beta_start = p.beta_end.clamp(bounds::BETA_START.0, bounds::BETA_START.1);
            p.beta_end = p.beta_end.max(p.beta_start);
        } else {
            p.beta_end = p.beta_start;
        }
    }
    p.t = (input("t")?.value_as_number().max(0.0) as usize).min(p.steps);
    let seed = input("seed")?.value_as_number();
    if seed.is_finite() {
        p.seed = (seed.max(0.0) as u64).min(bounds::SEED.1);
    }
    Ok(p)
}

/// Puts a `Params` into the controls and their read-outs.
pub fn write(p: &Params) -> Result<(), String> {
    let kind: HtmlSelectElement = by_id("kind")?;
    kind.set_value(p.kind.name());
    let data: HtmlSelectElement = by_id("data")?;
    data.set_value(p.data.name());
    let steps = input("T")?;
    steps.set_value(&p.steps.to_string());
    let b1 = input("b1")?;
    b1.set_value(&p.beta_start.log10().to_string());
    let bt = input("bT")?;
    bt.set_value(&p.beta_end.log10().to_string());
    // The beta range does not shape the cosine schedule: say so by disabling its sliders.
    b1.set_disabled(!p.kind.uses_beta_range());
    bt.set_disabled(!p.kind.uses_beta_range());
    let t = input("t")?;
    t.set_max(&p.steps.to_string());
    t.set_value(&p.t.to_string());
    input("seed")?.set_value(&p.seed.to_string());

    set_text("T-out", &p.steps.to_string());
    set_text("b1-out", &format_beta(p.beta_start));
    set_text("bT-out", &format_beta(p.beta_end));
    set_text("t-out", &p.t.to_string());
    set_text(
        "kind-note",
        if p.kind == ScheduleKind::Cosine {
            "the cosine schedule sets its own betas"
        } else {
            ""
        },
    );
    Ok(())
}

fn input(id: &str) -> Result<HtmlInputElement, String> {
    by_id(id)
}

/// A log10 slider position to a beta, rounded to 3 significant digits so links stay readable.
fn from_log_slider(position: f64, (lo, hi): (f64, f64)) -> f64 {
    let beta = 10f64.powf(position);
    let digits = 2 - beta.log10().floor() as i32;
    let scale = 10f64.powi(digits);
    ((beta * scale).round() / scale).clamp(lo, hi)
}

/// A beta for display: `1e-4`, `0.02`, `0.999`.
pub fn format_beta(beta: f64) -> String {
    if beta < 1e-3 {
        format!("{beta:.1e}")
    } else {
        format!("{beta}")
    }
}
