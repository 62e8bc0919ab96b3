//! The form controls, wired from the one table of controls ([`CONTROLS`]): every element is
//! only ever read into a [`Params`] (through the same checks as a link) and written back from
//! one, so the URL, the form and the panels cannot disagree. Hiding and locking a control, and
//! leaving out controls that do not change an embedded panel, happen here too.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

use super::dom::{by_id, set_text};
use crate::math::ScheduleKind;
use crate::params::{CONTROLS, Control, Correction, Input, Params, Value};

/// Controls drawn by a panel rather than shown in a form element: the probe point (placed on
/// the posterior chart) and the chain's position (the training panel's scrubber).
fn is_form_control(c: &Control) -> bool {
    !matches!(c.key, "x" | "y" | "chain")
}

/// The form controls, with the event that changes each: sliders and menus follow every move
/// (`input`); typed numbers are taken when the reader is done (`change`), so a half-typed
/// "0.0" on the way to "0.005" is not clamped under their fingers.
pub fn events() -> impl Iterator<Item = (&'static Control, &'static str)> {
    CONTROLS.iter().filter(|c| is_form_control(c)).map(|c| {
        let typed = by_id::<HtmlInputElement>(c.id).is_ok_and(|e| e.type_() == "number");
        (c, if typed { "change" } else { "input" })
    })
}

/// The params after the reader changed `control`, and what had to be corrected in what they
/// entered. The beta sliders are kept ordered: moving beta_1 above beta_T drags beta_T along,
/// and back.
pub fn read(previous: &Params, control: &Control) -> (Params, Vec<Correction>) {
    let mut p = previous.clone();
    if previous.is_locked(control.key) {
        return (p, Vec::new());
    }
    let Some(raw) = element_value(control) else {
        return (p, Vec::new());
    };
    let mut pairs = vec![(control.key.to_string(), raw.clone())];
    if let Ok(v) = raw.parse::<f64>() {
        match control.key {
            "b1" if v > previous.beta_end => pairs.push(("bT".into(), raw)),
            "bT" if v < previous.beta_start => pairs.push(("b1".into(), raw)),
            _ => {}
        }
    }
    let notes = p.apply(&pairs);
    (p, notes)
}

/// What the reader set in the control's element, in the form a link would carry it.
fn element_value(control: &Control) -> Option<String> {
    let element: Element = by_id(control.id).ok()?;
    if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
        return Some(select.value());
    }
    let input = element.dyn_ref::<HtmlInputElement>()?;
    match control.input {
        Input::Real { log: true, .. } => Some(from_log_slider(input.value_as_number()).to_string()),
        _ => Some(input.value()),
    }
}

/// Puts a `Params` into the controls and their read-outs, and shows, hides and locks them as
/// its view says.
pub fn write(p: &Params) -> Result<(), String> {
    for control in CONTROLS.iter().filter(|c| is_form_control(c)) {
        let element: Element = by_id(control.id)?;
        let value = (control.get)(p);
        if let Some(select) = element.dyn_ref::<HtmlSelectElement>() {
            if let Value::Name(name) = value {
                select.set_value(name);
            }
            select.set_disabled(p.is_locked(control.key));
        } else if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
            let text = match (value, control.input) {
                (Value::Number(v), Input::Real { log: true, .. }) => v.log10().to_string(),
                (v, _) => control.format(v).unwrap_or_default(),
            };
            // Writing an unchanged value would move the caret of a field being typed in.
            if input.value() != text {
                input.set_value(&text);
            }
            input.set_disabled(p.is_locked(control.key));
        }
        if let Some(out) = dom_output(control) {
            let text = match (value, control.key) {
                (Value::Number(v), "b1" | "bT") => format_beta(v),
                (v, _) => control.format(v).unwrap_or_default(),
            };
            out.set_text_content(Some(&text));
        }
        show(control, p);
    }
    // T bounds t; the beta range does not shape the cosine schedule, so its sliders are off.
    by_id::<HtmlInputElement>("t")?.set_max(&p.steps.to_string());
    for id in ["b1", "bT"] {
        let slider = by_id::<HtmlInputElement>(id)?;
        slider.set_disabled(!p.kind.uses_beta_range() || p.is_locked(id));
    }
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

/// The `<output>` beside a slider (`#T-out` for `#T`), if it has one.
fn dom_output(control: &Control) -> Option<Element> {
    by_id::<Element>(&format!("{}-out", control.id)).ok()
}

/// Hides a control that the view hides, or that does not change the one panel an embed shows;
/// marks a locked one.
fn show(control: &Control, p: &Params) {
    let Ok(element) = by_id::<Element>(control.id) else {
        return;
    };
    let Some(holder) = element
        .closest("label")
        .ok()
        .flatten()
        .and_then(|l| l.dyn_into::<HtmlElement>().ok())
    else {
        return;
    };
    let unrelated = p.view.panel.is_some_and(|panel| !control.shows_in(panel));
    holder.set_hidden(p.is_hidden(control.key) || unrelated);
    let locked = p.is_locked(control.key);
    let _ = holder.class_list().toggle_with_force("locked", locked);
    if locked {
        let _ = holder.set_attribute("title", "fixed by the page that shows this");
    } else if holder.get_attribute("title").as_deref() == Some("fixed by the page that shows this") {
        let _ = holder.remove_attribute("title");
    }
}

/// A log10 slider position to a beta, rounded to 3 significant digits so links stay readable.
fn from_log_slider(position: f64) -> f64 {
    let beta = 10f64.powf(position);
    let digits = 2 - beta.log10().floor() as i32;
    let scale = 10f64.powi(digits);
    (beta * scale).round() / scale
}

/// A beta for display: `1e-4`, `0.02`, `0.999`.
pub fn format_beta(beta: f64) -> String {
    if beta < 1e-3 {
        format!("{beta:.1e}")
    } else {
        format!("{beta}")
    }
}
