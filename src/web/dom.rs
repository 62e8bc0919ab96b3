//! Small DOM helpers. The page's HTML (`www/index.html`) holds every element with a stable id;
//! a missing id is a bug in that file, reported on the page rather than by a panic.

use std::cell::RefCell;
use std::collections::HashMap;

use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Window};

use crate::charts::markup::Markup;

/// The browser window.
pub fn window() -> Window {
    web_sys::window().expect("a page always has a window")
}

/// The page's document.
pub fn document() -> Document {
    window().document().expect("a page always has a document")
}

/// The element with this id, as the given type.
pub fn by_id<T: JsCast>(id: &str) -> Result<T, String> {
    document()
        .get_element_by_id(id)
        .ok_or_else(|| format!("the page has no element #{id}"))?
        .dyn_into::<T>()
        .map_err(|_| format!("#{id} is not the expected kind of element"))
}

/// Every element that matches a CSS selector, in document order.
pub fn all(selector: &str) -> Vec<Element> {
    let Ok(list) = document().query_selector_all(selector) else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.get(i).and_then(|n| n.dyn_into::<Element>().ok()))
        .collect()
}

/// Sets an element's text, if it exists.
pub fn set_text(id: &str, text: &str) {
    if let Ok(el) = by_id::<Element>(id) {
        el.set_text_content(Some(text));
    }
}

/// Shows or hides an element, if it exists.
pub fn set_hidden(id: &str, hidden: bool) {
    if let Ok(el) = by_id::<web_sys::HtmlElement>(id) {
        // Written only when it changes: every write makes the browser restyle the page.
        if el.hidden() != hidden {
            el.set_hidden(hidden);
        }
    }
}

thread_local! {
    /// What [`set_formula`] last wrote into each element, as tags and texts.
    static WRITTEN: RefCell<HashMap<String, Markup>> = RefCell::new(HashMap::new());
}

/// Sets an element's HTML, if it exists. Only for markup this crate writes itself.
pub fn set_html(id: &str, html: &str) {
    if let Ok(el) = by_id::<Element>(id) {
        el.set_inner_html(html);
    }
}

/// Sets a formula's markup ([`set_html`] for a formula written only through here). Where the
/// tags are those written last time (its numbers moved), only the text nodes that changed are
/// written: no parsing, no new MathML tree (see [`Markup`]).
pub fn set_formula(id: &str, html: &str) {
    let Ok(el) = by_id::<Element>(id) else { return };
    let markup = Markup::parse(html);
    let patched = WRITTEN.with(|written| {
        let written = written.borrow();
        match (written.get(id), &markup) {
            (Some(old), Some(new)) if old.skeleton == new.skeleton => patch_texts(&el, old, new),
            _ => false,
        }
    });
    if !patched {
        el.set_inner_html(html);
    }
    WRITTEN.with(|written| match markup {
        Some(markup) => written.borrow_mut().insert(id.to_string(), markup),
        None => written.borrow_mut().remove(id),
    });
}

/// Writes the texts of `new` into `el`'s text nodes where they differ from what the nodes hold.
/// False when the element's nodes are not what `old` made (then nothing was written).
fn patch_texts(el: &Element, old: &Markup, new: &Markup) -> bool {
    const SHOW_TEXT: u32 = 4;
    let Ok(walker) = document().create_tree_walker_with_what_to_show(el, SHOW_TEXT) else {
        return false;
    };
    let mut nodes = Vec::with_capacity(old.texts.len());
    while let Ok(Some(node)) = walker.next_node() {
        nodes.push(node);
    }
    if nodes.len() != old.texts.len() {
        return false;
    }
    for (node, text) in nodes.iter().zip(&new.texts) {
        if node.node_value().as_deref() != Some(text.as_str()) {
            node.set_node_value(Some(text));
        }
    }
    true
}

/// Sets a panel's status line: its text, and its `data-state` (`idle`, `training`, `error`, ...)
/// that the style sheet, the keyboard shortcuts and the tests read.
pub fn set_status(id: &str, text: &str, state: &str) {
    set_text(id, text);
    if let Ok(el) = by_id::<Element>(id) {
        let _ = el.set_attribute("data-state", state);
    }
}

/// Shows an error that stops the page from starting, where the reader will see it.
pub fn show_fatal(message: &str) {
    web_sys::console::error_1(&message.into());
    set_text("fatal", message);
    if let Ok(el) = by_id::<Element>("fatal") {
        let _ = el.remove_attribute("hidden");
    }
}

/// Milliseconds since the page started, for timing redraws.
pub fn now_ms() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Whether any part of the element with this id is inside the window (with a margin of half a
/// window, so a panel is ready just before it scrolls in). Missing elements count as visible.
pub fn on_screen(id: &str) -> bool {
    let Ok(el) = by_id::<Element>(id) else {
        return true;
    };
    let rect = el.get_bounding_client_rect();
    let height = window()
        .inner_height()
        .ok()
        .and_then(|h| h.as_f64())
        .unwrap_or(f64::INFINITY);
    let margin = height / 2.0;
    rect.bottom() >= -margin && rect.top() <= height + margin && rect.height() > 0.0
}

/// Calls `handler` on every `event` of the element with this id, for the life of the page.
pub fn listen(id: &str, event: &str, handler: impl FnMut(web_sys::Event) + 'static) -> Result<(), String> {
    listen_as(id, event, handler)
}

/// [`listen`], for events of a more specific type (`PointerEvent`, ...).
pub fn listen_as<E: JsCast + 'static>(
    id: &str,
    event: &str,
    handler: impl FnMut(E) + 'static,
) -> Result<(), String> {
    let element: Element = by_id(id)?;
    add_listener(&element, event, handler).map_err(|_| format!("cannot listen to {event} on #{id}"))
}

/// [`listen`], for an element already in hand.
pub fn listen_element(
    element: &Element,
    event: &str,
    handler: impl FnMut(web_sys::Event) + 'static,
) -> Result<(), String> {
    add_listener(element, event, handler)
        .map_err(|_| format!("cannot listen to {event} on a {}", element.tag_name()))
}

/// Calls `handler` on every `event` of the window, for the life of the page.
pub fn on_window<E: JsCast + 'static>(event: &str, handler: impl FnMut(E) + 'static) {
    if add_listener(&window(), event, handler).is_err() {
        web_sys::console::error_1(&format!("cannot listen to {event} on the window").into());
    }
}

fn add_listener<E: JsCast + 'static>(
    target: &web_sys::EventTarget,
    event: &str,
    mut handler: impl FnMut(E) + 'static,
) -> Result<(), wasm_bindgen::JsValue> {
    let closure =
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            handler(e.unchecked_into::<E>())
        });
    target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())?;
    // The page lives as long as its listeners: hand the closure to the browser.
    closure.forget();
    Ok(())
}
