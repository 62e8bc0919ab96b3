//! For a class: projector mode and the dark theme, one panel on the full screen, keyboard
//! shortcuts and their help, the charts described in words for screen readers, and reduced
//! motion honoured.
//!
//! Shortcuts click the page's own buttons or change the params the way a control does, so a
//! key does exactly what its button does.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlDialogElement, HtmlElement, KeyboardEvent};

use super::app::App;
use super::canvas;
use super::dom::{self, by_id};
use super::{elbo, tour, training};
use crate::charts::Theme;
use crate::params::bounds;

type Shared = Rc<RefCell<App>>;

/// Live descriptions are rewritten at most this often while a slider moves, so a screen reader
/// is not flooded (the last value always lands).
const DESCRIBE_EVERY_MS: f64 = 700.0;

/// How far one arrow key moves the posterior panel's point (shift: five times as far).
const PROBE_STEP: f32 = 0.05;

thread_local! {
    /// Descriptions waiting for the next write, by element id.
    static PENDING: RefCell<Vec<(&'static str, String)>> = const { RefCell::new(Vec::new()) };
    static TIMER: Cell<bool> = const { Cell::new(false) };
    static LAST_WRITE: Cell<f64> = const { Cell::new(f64::NEG_INFINITY) };
}

/// Whether the system matches a media query (`prefers-color-scheme: dark`, ...).
fn prefers(query: &str) -> bool {
    dom::window()
        .match_media(query)
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

/// The reader asked the system for less motion: nothing animates by itself.
pub fn reduced_motion() -> bool {
    prefers("(prefers-reduced-motion: reduce)")
}

/// Draws the page in projector mode or not, and in the system's colour scheme: the canvases'
/// theme and the page's `data-theme` (which the style sheet follows).
pub fn apply_theme(projector: bool) {
    let theme = Theme::pick(projector, prefers("(prefers-color-scheme: dark)"));
    canvas::set_theme(theme);
    if let Some(root) = dom::document().document_element() {
        let _ = root.set_attribute("data-theme", theme.name);
    }
    if let Ok(button) = by_id::<Element>("projector") {
        let _ = button.set_attribute("aria-pressed", if projector { "true" } else { "false" });
    }
}

/// Redraws every chart, after the theme or the screen changed.
fn redraw_all(app: &Shared) {
    App::redraw(app);
    training::redraw();
    elbo::redraw();
}

/// Turns projector mode on or off (the button, the `p` key, a link's `projector=1`).
pub fn set_projector(app: &Shared, on: bool) {
    let mut params = App::params(app);
    params.view.projector = on;
    App::update(app, params);
    apply_theme(on);
    redraw_all(app);
}

/// Sets a chart's description in words; written to its live region at most every
/// [`DESCRIBE_EVERY_MS`], and only when it changed.
pub fn describe(id: &'static str, text: String) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        match p.iter_mut().find(|(k, _)| *k == id) {
            Some(entry) => entry.1 = text,
            None => p.push((id, text)),
        }
    });
    if TIMER.with(|t| t.replace(true)) {
        return;
    }
    let wait = (LAST_WRITE.with(Cell::get) + DESCRIBE_EVERY_MS - dom::now_ms()).max(0.0);
    let flush = Closure::once_into_js(move || {
        TIMER.with(|t| t.set(false));
        LAST_WRITE.with(|l| l.set(dom::now_ms()));
        for (id, text) in PENDING.with(|p| std::mem::take(&mut *p.borrow_mut())) {
            if let Ok(el) = by_id::<Element>(id)
                && el.text_content().as_deref() != Some(text.as_str())
            {
                el.set_text_content(Some(&text));
            }
        }
    });
    let _ = dom::window()
        .set_timeout_with_callback_and_timeout_and_arguments_0(flush.unchecked_ref(), wait as i32);
}

/// Wires the projector button, the theme's media query, full screen, and the keyboard.
pub fn start(app: &Shared) -> Result<(), String> {
    let projector = app.clone();
    dom::listen("projector", "click", move |_| {
        let on = !App::params(&projector).view.projector;
        set_projector(&projector, on);
    })?;
    if let Ok(Some(query)) = dom::window().match_media("(prefers-color-scheme: dark)") {
        let app = app.clone();
        let on_change = Closure::<dyn FnMut(Event)>::new(move |_| {
            apply_theme(App::params(&app).view.projector);
            redraw_all(&app);
        });
        let _ = query.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
        on_change.forget();
    }
    wire_fullscreen(app)?;
    let help: HtmlDialogElement = by_id("help-dialog")?;
    dom::listen("help-open", "click", move |_| {
        let _ = help.show_modal();
    })?;
    let qr: HtmlDialogElement = by_id("qr-dialog")?;
    dom::listen("qr-open", "click", move |_| {
        show_qr();
        let _ = qr.show_modal();
    })?;
    let keys = app.clone();
    dom::on_window("keydown", move |e: KeyboardEvent| on_key(&keys, &e));
    Ok(())
}

/// The QR code of `text` as SVG markup, dark modules on white with a quiet zone, or why not.
pub fn qr_svg(text: &str) -> Result<String, String> {
    use qrcode::render::svg;
    use qrcode::{EcLevel, QrCode};
    // Medium error correction while the link is short enough; a long link gets more room.
    let code = QrCode::with_error_correction_level(text, EcLevel::M)
        .or_else(|_| QrCode::with_error_correction_level(text, EcLevel::L))
        .map_err(|e| {
            format!(
                "this link is too long for a QR code ({} characters: {e})",
                text.len()
            )
        })?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(320, 320)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    // The markup goes inside the page: no XML prolog.
    Ok(svg
        .split_once("?>")
        .map_or(svg.as_str(), |(_, rest)| rest)
        .trim()
        .to_string())
}

/// Draws the QR code of the page's current link (the state shown now) into its dialog.
fn show_qr() {
    super::app::flush_url();
    let link = dom::window().location().href().unwrap_or_default();
    dom::set_text("qr-link", &link);
    match qr_svg(&link) {
        Ok(svg) => dom::set_html("qr-code", &svg),
        Err(e) => dom::set_text("qr-code", &e),
    }
}

/// Adds a full-screen button to every panel's tools. Full screen shows the page's controls and
/// that one panel, its charts sized to the screen (the document goes full screen, so the
/// sliders stay at hand).
fn wire_fullscreen(app: &Shared) -> Result<(), String> {
    let document = dom::document();
    for tools in dom::all(".panel > .panel-tools") {
        let Some(panel) = tools.parent_element() else {
            continue;
        };
        let title = panel
            .query_selector("h2")
            .ok()
            .flatten()
            .and_then(|h| h.text_content())
            .unwrap_or_default();
        let button = document
            .create_element("button")
            .map_err(|_| "cannot make a button".to_string())?;
        let _ = button.set_attribute("type", "button");
        let _ = button.set_attribute("class", "fullscreen");
        let _ = button.set_attribute("aria-label", &format!("Full screen: {title}"));
        button.set_text_content(Some("Full screen"));
        let _ = tools.insert_before(&button, tools.first_child().as_ref());
        let target = panel.clone();
        dom::listen_element(&button, "click", move |_| toggle_fullscreen(&target))?;
    }
    let app = app.clone();
    let on_change = Closure::<dyn FnMut(Event)>::new(move |_| {
        if dom::document().fullscreen_element().is_none() {
            solo(None);
        }
        redraw_all(&app);
    });
    document
        .add_event_listener_with_callback("fullscreenchange", on_change.as_ref().unchecked_ref())
        .map_err(|_| "cannot listen to fullscreenchange".to_string())?;
    on_change.forget();
    Ok(())
}

/// Shows only `panel` (with the controls), or every panel again.
fn solo(panel: Option<&Element>) {
    for p in dom::all(".panel.solo-panel") {
        let _ = p.class_list().remove_1("solo-panel");
    }
    if let Some(p) = panel {
        let _ = p.class_list().add_1("solo-panel");
    }
    if let Some(root) = dom::document().document_element() {
        let _ = root.class_list().toggle_with_force("solo", panel.is_some());
    }
    for button in dom::all("button.fullscreen") {
        let mine = panel.is_some_and(|p| p.contains(Some(&button)));
        button.set_text_content(Some(if mine { "Leave full screen" } else { "Full screen" }));
    }
}

/// Puts `panel` on the full screen, or leaves full screen.
fn toggle_fullscreen(panel: &Element) {
    let document = dom::document();
    if document.fullscreen_element().is_some() {
        document.exit_fullscreen();
        return;
    }
    // In a frame without `allowfullscreen` the request would only fail later: say so now.
    if !document.fullscreen_enabled() {
        super::app::notify("Full screen is not allowed here (an embedding page must allow it).");
        return;
    }
    solo(Some(panel));
    let Some(root) = document.document_element() else {
        return;
    };
    if root.request_fullscreen().is_err() {
        solo(None);
        super::app::notify("The browser refused full screen.");
    }
}

/// The panel the reader is working in: the one holding the focus, else the one in the middle
/// of the window.
fn current_panel() -> Option<Element> {
    let document = dom::document();
    let focused = document
        .active_element()
        .and_then(|e| e.closest(".panel").ok().flatten());
    focused.or_else(|| {
        let w = dom::window();
        let x = w.inner_width().ok()?.as_f64()? / 2.0;
        let y = w.inner_height().ok()?.as_f64()? / 2.0;
        document
            .element_from_point(x as f32, y as f32)?
            .closest(".panel")
            .ok()
            .flatten()
    })
}

/// Clicks the button with this id, if it is there and enabled.
fn press(id: &str) {
    if let Ok(button) = by_id::<HtmlElement>(id) {
        button.click();
    }
}

/// The state of a panel's status line (`training`, `sampling`, ...).
fn status(id: &str) -> String {
    by_id::<Element>(id)
        .ok()
        .and_then(|e| e.get_attribute("data-state"))
        .unwrap_or_default()
}

fn on_key(app: &Shared, e: &KeyboardEvent) {
    if e.default_prevented() || e.ctrl_key() || e.meta_key() || e.alt_key() {
        return;
    }
    if dom::all("dialog[open]").iter().any(|d| d.id() != "tour") {
        return; // a dialog has the keys (Escape closes it)
    }
    let target = e.target().and_then(|t| t.dyn_into::<Element>().ok());
    let tag = target.as_ref().map(|t| t.tag_name()).unwrap_or_default();
    let kind = target
        .as_ref()
        .and_then(|t| t.get_attribute("type"))
        .unwrap_or_default();
    let editable = target
        .as_ref()
        .and_then(|t| t.dyn_ref::<HtmlElement>())
        .is_some_and(HtmlElement::is_content_editable);
    // Typing in a field: no shortcut at all. A slider or a menu keeps its own arrow keys.
    if tag == "TEXTAREA" || editable || (tag == "INPUT" && kind != "range" && kind != "checkbox") {
        return;
    }
    let own_arrows = tag == "SELECT" || (tag == "INPUT" && kind == "range");
    let on_probe = target.as_ref().is_some_and(|t| t.id() == "posterior-canvas");
    let key = e.key();
    let handled = match key.as_str() {
        "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown" if on_probe => {
            let step = if e.shift_key() {
                5.0 * PROBE_STEP
            } else {
                PROBE_STEP
            };
            let (dx, dy) = match key.as_str() {
                "ArrowLeft" => (-step, 0.0),
                "ArrowRight" => (step, 0.0),
                "ArrowUp" => (0.0, step),
                _ => (0.0, -step),
            };
            let mut p = App::params(app);
            let (lo, hi) = bounds::PROBE;
            p.probe = [(p.probe[0] + dx).clamp(lo, hi), (p.probe[1] + dy).clamp(lo, hi)];
            p.probe = p.probe.map(|v| (v * 1000.0).round() / 1000.0);
            App::update(app, p);
            true
        }
        "ArrowLeft" | "ArrowRight" if !own_arrows => {
            let by = if e.shift_key() { 10 } else { 1 };
            let mut p = App::params(app);
            p.t = if key == "ArrowLeft" {
                p.t.saturating_sub(by)
            } else {
                (p.t + by).min(p.steps)
            };
            App::update(app, p);
            true
        }
        " " if tag != "BUTTON" && tag != "SELECT" => {
            if in_digits() {
                press(if status("digits-status") == "sampling" {
                    "digits-pause"
                } else {
                    "digits-sample"
                });
            } else {
                let busy = matches!(status("train-status").as_str(), "training" | "sampling");
                press(if busy { "pause" } else { "train" });
            }
            true
        }
        "." => {
            press(if in_digits() { "digits-step" } else { "step" });
            true
        }
        "r" | "R" => {
            press("reset");
            true
        }
        "f" | "F" => {
            let panel = current_panel().or_else(|| dom::all(".panel").into_iter().next());
            if let Some(panel) = panel {
                toggle_fullscreen(&panel);
            }
            true
        }
        "p" | "P" => {
            let on = !App::params(app).view.projector;
            set_projector(app, on);
            true
        }
        "?" => {
            if let Ok(help) = by_id::<HtmlDialogElement>("help-dialog") {
                let _ = help.show_modal();
            }
            true
        }
        "n" | "N" if tour::open_at(app).is_some() => {
            tour::next(app);
            true
        }
        "b" | "B" if tour::open_at(app).is_some() => {
            tour::back(app);
            true
        }
        "Escape" if tour::open_at(app).is_some() => {
            tour::leave(app);
            true
        }
        _ => false,
    };
    if handled {
        e.prevent_default();
    }
}

/// Whether the reader is working in the digits panel.
fn in_digits() -> bool {
    current_panel().is_some_and(|p| p.id() == "panel-digits")
}
