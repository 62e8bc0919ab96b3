//! The embed builder: each panel's "Share or embed" button opens a dialog where an author
//! picks what the embed shows (one panel or all; each control shown, locked or hidden; train
//! on load), sees it live in a preview frame, and copies the link or an `<iframe>` snippet.
//! Everything is read from, and written as, the page's own link (see [`crate::params`]).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Element, HtmlDialogElement, HtmlIFrameElement, HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement,
    MessageEvent,
};

use super::app::App;
use super::dom::{self, by_id, set_html, set_text};
use crate::params::{CONTROLS, Control, Panel, Params};

type Shared = Rc<RefCell<App>>;

thread_local! {
    /// The preview's content height, as it last reported it (0: not yet).
    static MEASURED: Cell<f64> = const { Cell::new(0.0) };
}

/// Wires every Share button and the dialog.
pub fn start(app: &Shared) -> Result<(), String> {
    for button in dom::all("[data-share]") {
        let panel = button.get_attribute("data-share").unwrap_or_default();
        let app = app.clone();
        dom::listen_element(&button, "click", move |_| open(&app, &panel))?;
    }
    let refreshed = app.clone();
    dom::listen("share-panel", "change", move |_| {
        rows(&refreshed);
        refresh(&refreshed);
    })?;
    for id in ["share-controls", "share-train"] {
        let app = app.clone();
        dom::listen(id, "change", move |_| refresh(&app))?;
    }
    for (button, source) in [
        ("share-copy-link", "share-link"),
        ("share-copy-snippet", "share-snippet"),
    ] {
        dom::listen(button, "click", move |_| copy(source))?;
    }
    // The preview reports its height like any embed: the snippet uses it.
    let app = app.clone();
    dom::on_window("message", move |e: MessageEvent| {
        let Ok(preview) = by_id::<HtmlIFrameElement>("share-preview") else {
            return;
        };
        let from_preview = match (e.source(), preview.content_window()) {
            (Some(source), Some(window)) => Object::is(&source, &window),
            _ => false,
        };
        let data = e.data();
        let kind = Reflect::get(&data, &"type".into())
            .ok()
            .and_then(|t| t.as_string());
        if !from_preview || kind.as_deref() != Some("diffusion-playground:height") {
            return;
        }
        if let Some(h) = Reflect::get(&data, &"height".into())
            .ok()
            .and_then(|h| h.as_f64())
            && h.is_finite()
            && h > 0.0
        {
            MEASURED.with(|m| m.set(h.min(5000.0)));
            refresh(&app);
        }
    });
    Ok(())
}

/// Opens the dialog for `panel`, starting from the current view.
fn open(app: &Shared, panel: &str) {
    if let Ok(select) = by_id::<HtmlSelectElement>("share-panel") {
        select.set_value(panel);
    }
    if let Ok(train) = by_id::<HtmlInputElement>("share-train") {
        train.set_checked(App::params(app).view.train_on_load);
    }
    MEASURED.with(|m| m.set(0.0));
    rows(app);
    refresh(app);
    if let Ok(dialog) = by_id::<HtmlDialogElement>("share-dialog")
        && !dialog.open()
    {
        let _ = dialog.show_modal();
    }
}

/// The panel chosen in the dialog (`None`: every panel).
fn chosen_panel() -> Option<Panel> {
    by_id::<HtmlSelectElement>("share-panel")
        .ok()
        .and_then(|s| Panel::from_name(&s.value()))
}

/// The controls an embed of the chosen panel has, each with a shown/locked/hidden choice.
fn offered() -> impl Iterator<Item = &'static Control> {
    let panel = chosen_panel();
    CONTROLS
        .iter()
        .filter(move |c| c.key != "chain" && panel.is_none_or(|p| c.shows_in(p)))
}

fn rows(app: &Shared) {
    let p = App::params(app);
    let html: String = offered()
        .map(|c| {
            let state = if p.is_hidden(c.key) {
                "hide"
            } else if p.is_locked(c.key) {
                "lock"
            } else {
                "show"
            };
            let option = |value: &str, text: &str| {
                let selected = if value == state { " selected" } else { "" };
                format!("<option value=\"{value}\"{selected}>{text}</option>")
            };
            format!(
                "<label>{} <select data-key=\"{}\">{}{}{}</select></label>",
                c.label,
                c.key,
                option("show", "shown"),
                option("lock", "locked"),
                option("hide", "hidden")
            )
        })
        .collect();
    set_html("share-controls", &html);
    let train_offered = chosen_panel().is_none_or(|p| p == Panel::Train);
    if let Ok(train) = by_id::<Element>("share-train")
        && let Some(label) = train.parent_element()
    {
        let _ = label.toggle_attribute_with_force("hidden", !train_offered);
    }
}

/// The view the dialog describes: the page's current values, the chosen panel and controls.
fn described(app: &Shared) -> Params {
    let mut p = App::params(app);
    p.view.panel = chosen_panel();
    let state_of = |key: &str| {
        dom::document()
            .query_selector(&format!("#share-controls select[data-key=\"{key}\"]"))
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlSelectElement>().ok())
            .map(|s| s.value())
            .unwrap_or_else(|| "show".into())
    };
    p.view.hide = offered()
        .map(|c| c.key)
        .filter(|k| state_of(k) == "hide")
        .collect();
    p.view.lock = offered()
        .map(|c| c.key)
        .filter(|k| state_of(k) == "lock")
        .collect();
    let train = by_id::<HtmlInputElement>("share-train").is_ok_and(|t| t.checked());
    p.view.train_on_load = train && p.view.panel.is_none_or(|panel| panel == Panel::Train);
    p
}

/// Writes the link, the snippet and the preview for the dialog's choices.
fn refresh(app: &Shared) {
    let p = described(app);
    let location = dom::window().location();
    let base = format!(
        "{}{}",
        location.origin().unwrap_or_default(),
        location.pathname().unwrap_or_default()
    );
    let query = p.to_query();
    let link = if query.is_empty() {
        base
    } else {
        format!("{base}?{query}")
    };
    let measured = MEASURED.with(Cell::get);
    let height = if measured > 0.0 {
        measured
    } else {
        estimated_height(p.view.panel)
    };
    let title = match p.view.panel {
        Some(panel) => format!("Diffusion Playground: {}", title_of(panel)),
        None => "Diffusion Playground".to_string(),
    };
    let snippet = format!(
        "<iframe src=\"{}\" title=\"{}\" width=\"100%\" height=\"{}\" loading=\"lazy\" allowfullscreen style=\"border:0\"></iframe>",
        attribute(&link),
        attribute(&title),
        height.ceil()
    );
    if let Ok(input) = by_id::<HtmlInputElement>("share-link") {
        input.set_value(&link);
    }
    if let Ok(text) = by_id::<HtmlTextAreaElement>("share-snippet") {
        text.set_value(&snippet);
    }
    set_text("share-copied", "");
    if let Ok(preview) = by_id::<HtmlIFrameElement>("share-preview") {
        if preview.src() != link {
            preview.set_src(&link);
        }
        if measured > 0.0 {
            let _ = preview
                .style()
                .set_property("height", &format!("{}px", measured.min(800.0)));
        }
    }
}

/// A first guess at an embed's height, until the preview reports its own.
fn estimated_height(panel: Option<Panel>) -> f64 {
    match panel {
        Some(Panel::Schedule) => 560.0,
        Some(Panel::Forward | Panel::Posterior | Panel::Score) => 860.0,
        Some(Panel::Train) => 1000.0,
        Some(Panel::Digits) => 1100.0,
        None => 3000.0,
    }
}

fn title_of(panel: Panel) -> &'static str {
    match panel {
        Panel::Schedule => "the noise schedule",
        Panel::Forward => "forward noising",
        Panel::Posterior => "the reverse step's true target",
        Panel::Score => "the score",
        Panel::Train => "training a denoiser and sampling",
        Panel::Digits => "handwritten digits from noise",
    }
}

/// Escapes a value for an HTML attribute in double quotes.
fn attribute(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

/// Copies a field's text; where the browser refuses the clipboard, selects it for the reader.
fn copy(source: &'static str) {
    let text = by_id::<HtmlInputElement>(source)
        .map(|i| i.value())
        .or_else(|_| by_id::<HtmlTextAreaElement>(source).map(|t| t.value()))
        .unwrap_or_default();
    let clipboard = dom::window().navigator().clipboard();
    wasm_bindgen_futures::spawn_local(async move {
        let done = JsFuture::from(clipboard.write_text(&text)).await;
        if done.is_ok() {
            set_text("share-copied", "Copied.");
        } else {
            if let Ok(i) = by_id::<HtmlInputElement>(source) {
                i.select();
            } else if let Ok(t) = by_id::<HtmlTextAreaElement>(source) {
                t.select();
            }
            set_text("share-copied", "Selected: press Ctrl+C (or ⌘C) to copy.");
        }
    });
}
