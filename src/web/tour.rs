//! The guided walk on the page: a card that shows one stop of [`crate::tour::STOPS`] at a
//! time, sets the panels as the stop says, brings its panel into view and outlines what to look
//! at. `tour=N` in the link opens it at stop N; leaving keeps whatever state the reader reached.

use std::cell::RefCell;
use std::rc::Rc;

use web_sys::{Element, HtmlElement};

use super::app::App;
use super::dom::{self, by_id, set_text};
use crate::tour::{self, STOPS};

type Shared = Rc<RefCell<App>>;

/// The stop the walk is open at, if it is open.
pub fn open_at(app: &Shared) -> Option<usize> {
    App::params(app).view.tour
}

/// Wires the walk's buttons, and opens it where the link asks.
pub fn start(app: &Shared) -> Result<(), String> {
    let opener = app.clone();
    dom::listen("tour-start", "click", move |_| show(&opener, 1))?;
    let next_app = app.clone();
    dom::listen("tour-next", "click", move |_| next(&next_app))?;
    let back_app = app.clone();
    dom::listen("tour-back", "click", move |_| back(&back_app))?;
    let leave_app = app.clone();
    dom::listen("tour-leave", "click", move |_| leave(&leave_app))?;
    dom::listen("tour-try", "click", move |_| {
        let target = by_id::<Element>("tour-try")
            .ok()
            .and_then(|b| b.get_attribute("data-target"));
        if let Some(button) = target.and_then(|id| by_id::<HtmlElement>(&id).ok()) {
            button.click();
        }
    })?;
    if let Some(step) = open_at(app) {
        show(app, step);
    }
    Ok(())
}

/// Opens the walk at stop `step` (from 1): its settings, its panel in view, its highlight.
pub fn show(app: &Shared, step: usize) {
    let step = step.clamp(1, STOPS.len());
    let Some(stop) = tour::stop(step) else { return };
    App::update(app, tour::visit(&App::params(app), step));
    set_text("tour-count", &format!("Step {step} of {}", STOPS.len()));
    if let Ok(progress) = by_id::<Element>("tour-progress") {
        let _ = progress.set_attribute("max", &STOPS.len().to_string());
        let _ = progress.set_attribute("value", &step.to_string());
    }
    set_text("tour-title", stop.title);
    set_text("tour-text", stop.text);
    if let Ok(try_it) = by_id::<HtmlElement>("tour-try") {
        match stop.try_it {
            Some((id, label)) => {
                let _ = try_it.set_attribute("data-target", id);
                try_it.set_text_content(Some(label));
                try_it.set_hidden(false);
            }
            None => try_it.set_hidden(true),
        }
    }
    if let Ok(back) = by_id::<HtmlElement>("tour-back") {
        let _ = back.toggle_attribute_with_force("disabled", step == 1);
    }
    set_text("tour-next", if step == STOPS.len() { "Finish" } else { "Next" });
    highlight(Some(stop.highlight));
    if let Ok(card) = by_id::<HtmlElement>("tour") {
        let _ = card.set_attribute("data-step", &step.to_string());
        let _ = card.set_attribute("data-side", side_clear_of(stop.highlight));
        card.set_hidden(false);
    }
    if let Ok(panel) = by_id::<Element>(&format!("panel-{}", stop.panel)) {
        panel.scroll_into_view_with_bool(true);
    }
}

/// The next stop, or the end of the walk after the last.
pub fn next(app: &Shared) {
    match open_at(app) {
        Some(step) if step < STOPS.len() => show(app, step + 1),
        Some(_) => leave(app),
        None => {}
    }
}

/// The stop before.
pub fn back(app: &Shared) {
    if let Some(step) = open_at(app) {
        show(app, step.saturating_sub(1).max(1));
    }
}

/// Closes the walk; the panels keep the state it reached.
pub fn leave(app: &Shared) {
    let mut params = App::params(app);
    params.view.tour = None;
    App::update(app, params);
    highlight(None);
    if let Ok(card) = by_id::<HtmlElement>("tour") {
        card.set_hidden(true);
    }
    if let Ok(start) = by_id::<HtmlElement>("tour-start") {
        let _ = start.focus();
    }
}

/// Where the card goes so that it does not cover what the stop outlines: "left" when that
/// lies in the right half of a wide window, else "right" (the card's usual corner).
fn side_clear_of(id: &str) -> &'static str {
    let width = dom::window()
        .inner_width()
        .ok()
        .and_then(|w| w.as_f64())
        .unwrap_or(0.0);
    let Ok(el) = by_id::<Element>(id) else {
        return "right";
    };
    let rect = el.get_bounding_client_rect();
    let centre = rect.left() + rect.width() / 2.0;
    if width >= 900.0 && centre > width / 2.0 && rect.left() > width * 0.3 {
        "left"
    } else {
        "right"
    }
}

/// Outlines the element with this id (and nothing else).
fn highlight(id: Option<&str>) {
    for el in dom::all(".tour-highlight") {
        let _ = el.class_list().remove_1("tour-highlight");
    }
    if let Some(el) = id.and_then(|id| by_id::<Element>(id).ok()) {
        let _ = el.class_list().add_1("tour-highlight");
    }
}
