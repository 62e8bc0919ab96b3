//! The bound on the likelihood, term by term, for the model trained in the page. Each term
//! needs the network at one timestep: the page asks the worker for them one `Predict` at a
//! time (the arithmetic is [`crate::sampling::elbo::Estimator`]'s), so the page never blocks,
//! and the same model and seed give the numbers `diffusion swissroll elbo` prints.

use std::cell::RefCell;

use web_sys::{Element, HtmlInputElement};

use super::canvas::Canvas;
use super::dom::{self, by_id, set_formula, set_html};
use super::{classroom, training};
use crate::charts::elbo as chart;
use crate::math::NoiseSchedule;
use crate::sampling::elbo::{Elbo, Estimator, noise_seed};

/// Points the bound is estimated on, when the field is empty or out of range.
const DEFAULT_POINTS: usize = 500;
/// The range of that field.
const POINTS: (usize, usize) = (10, 2000);
/// The status line is rewritten every this many terms.
const REPORT_EVERY: usize = 50;

/// The panel's state.
#[derive(Default)]
struct ElboPanel {
    /// The latest bound, with the schedule it was computed for.
    shown: Option<(Elbo, NoiseSchedule)>,
    /// An estimate is under way.
    running: bool,
    /// Each finished estimate: what the model predicts, points, and the bound.
    history: Vec<(String, usize, f64)>,
}

thread_local! {
    static PANEL: RefCell<ElboPanel> = RefCell::new(ElboPanel::default());
}

/// Wires the Compute button and draws the empty chart.
pub fn start() -> Result<(), String> {
    dom::listen("elbo-compute", "click", |_| {
        if PANEL.with(|p| p.borrow().running) {
            return;
        }
        wasm_bindgen_futures::spawn_local(async {
            PANEL.with(|p| p.borrow_mut().running = true);
            let result = compute().await;
            PANEL.with(|p| p.borrow_mut().running = false);
            if let Err(e) = result {
                set_status(&e, "error");
            }
        });
    })?;
    redraw();
    Ok(())
}

/// Redraws the chart as it is.
pub fn redraw() {
    PANEL.with(|p| {
        let p = p.borrow();
        let shown = p.shown.as_ref();
        let fallback = NoiseSchedule::ddpm();
        let schedule = shown.map_or(&fallback, |(_, s)| s);
        let drawn = Canvas::fit("elbo-canvas")
            .and_then(|c| chart::draw(&c.surface()?, shown.map(|(b, _)| b), schedule));
        if let Err(e) = drawn {
            web_sys::console::error_1(&e.into());
        }
    });
}

fn set_status(text: &str, state: &str) {
    dom::set_status("elbo-status", text, state);
}

/// The number of points asked for in the panel's field.
fn points_wanted() -> usize {
    let n = by_id::<HtmlInputElement>("elbo-n").map_or(f64::NAN, |i| i.value_as_number());
    if n.is_finite() {
        (n.round() as usize).clamp(POINTS.0, POINTS.1)
    } else {
        DEFAULT_POINTS
    }
}

/// Estimates the bound of the current model, one timestep per message to the worker.
async fn compute() -> Result<(), String> {
    let Some(snapshot) = training::snapshot() else {
        return Err("Train a model first: the bound is a property of a trained model.".into());
    };
    let n = points_wanted();
    let (data, seed) = training::run_data(n).ok_or("Train a model first.")?;
    let schedule = snapshot.schedule.clone();
    let param = snapshot.parameterization;
    let mut estimator = Estimator::new(&schedule, param, &data, noise_seed(seed))?;
    set_status("Computing the first term…", "running");
    while let Some((t, x_t)) = estimator.next_inputs() {
        let rows = snapshot.model.predict(x_t, t).await?;
        estimator.take(&rows)?;
        let (done, all) = estimator.progress();
        if done % REPORT_EVERY == 0 {
            set_status(&format!("Computing: {done} of {all} terms…"), "running");
        }
    }
    let bound = estimator.finish()?;
    let name = param.name();
    set_formula("elbo-formula", &chart::formula(&bound, n, param.describe()));
    classroom::describe("elbo-desc", chart::describe(&bound));
    set_status(
        &format!(
            "The bound of this model on {n} points: {:.4} nats per dimension.",
            bound.total
        ),
        "done",
    );
    if let Ok(el) = by_id::<Element>("elbo-status") {
        let _ = el.set_attribute("data-total", &bound.total.to_string());
        let _ = el.set_attribute("data-prior", &bound.prior.to_string());
        let _ = el.set_attribute("data-terms", &bound.terms.len().to_string());
        let _ = el.set_attribute("data-points", &n.to_string());
    }
    PANEL.with(|p| {
        let mut p = p.borrow_mut();
        p.history.push((name.to_string(), n, bound.total));
        show_history(&p.history);
        p.shown = Some((bound, schedule));
    });
    redraw();
    Ok(())
}

/// The bounds computed so far, newest first: train with another parameterisation and compare.
fn show_history(history: &[(String, usize, f64)]) {
    let rows: Vec<String> = history
        .iter()
        .rev()
        .take(8)
        .map(|(name, n, total)| format!("<tr><td>{name}</td><td>{n}</td><td>{total:.4}</td></tr>"))
        .collect();
    set_html(
        "elbo-history",
        &format!(
            "<caption>Bounds computed so far</caption><thead><tr><th scope=\"col\">predicts</th><th scope=\"col\">points</th><th scope=\"col\">nats/dim</th></tr></thead><tbody>{}</tbody>",
            rows.join("")
        ),
    );
    if let Ok(table) = by_id::<web_sys::HtmlElement>("elbo-history") {
        table.set_hidden(false);
    }
}
