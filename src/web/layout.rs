//! The sizes and places a redraw needs, kept by the browser's observers rather than read from
//! the layout while drawing.
//!
//! Reading `clientWidth` or `getBoundingClientRect` after the page has changed makes the browser
//! lay the whole page out there and then. A redraw writes each panel's formula and description
//! before it looks at the next panel's canvas, so dragging t forced four layouts of the page a
//! redraw (5 ms of 24). A `ResizeObserver` reports every canvas's size and an
//! `IntersectionObserver` which panels are near the window, after the browser's own layout of
//! each frame; a redraw only reads what they last said.

use std::cell::RefCell;
use std::collections::HashMap;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Element, HtmlElement};

use super::dom;

/// How far from the window a panel counts as near: half the window's height above and below,
/// so that a panel is drawn before it scrolls into view.
const NEAR_MARGIN: &str = "50% 0px 50% 0px";

/// What [`on_change`] calls, with the ids of the elements that changed.
type OnChange = Box<dyn Fn(&[String])>;

#[derive(Default)]
struct Watch {
    /// Elements' `(clientWidth, clientHeight)` by id.
    sizes: HashMap<String, (i32, i32)>,
    /// Whether each element is near the window, by id.
    near: HashMap<String, bool>,
    resize: Option<web_sys::ResizeObserver>,
    intersect: Option<web_sys::IntersectionObserver>,
    /// Called when a size changes or an element comes near the window, with their ids.
    on_change: Option<OnChange>,
}

thread_local! {
    static WATCH: RefCell<Watch> = RefCell::new(Watch::default());
}

/// `(clientWidth, clientHeight)` of the element: read from the layout the first time, then as
/// the `ResizeObserver` last reported it.
pub fn client_size(element: &HtmlElement) -> (i32, i32) {
    let id = element.id();
    if let Some(size) = WATCH.with(|w| w.borrow().sizes.get(&id).copied()) {
        return size;
    }
    let size = (element.client_width(), element.client_height());
    if id.is_empty() {
        return size;
    }
    WATCH.with(|w| {
        let mut w = w.borrow_mut();
        w.sizes.insert(id, size);
        if let Some(observer) = resize_observer(&mut w) {
            observer.observe(element);
        }
    });
    size
}

/// Whether any part of the element with this id is within half a window's height of the
/// window (and shown): measured the first time, then as the `IntersectionObserver` said.
pub fn near_window(id: &str) -> bool {
    if let Some(near) = WATCH.with(|w| w.borrow().near.get(id).copied()) {
        return near;
    }
    let near = dom::on_screen(id);
    let Ok(element) = dom::by_id::<Element>(id) else {
        return near;
    };
    WATCH.with(|w| {
        let mut w = w.borrow_mut();
        w.near.insert(id.to_string(), near);
        if let Some(observer) = intersection_observer(&mut w) {
            observer.observe(&element);
        }
    });
    near
}

/// Measures now whether the element with this id is near the window, and keeps the answer
/// until the observer's next: a layout read, for event handlers (a scroll, a tap), which learn
/// it a frame before the observer reports.
pub fn measure_near(id: &str) -> bool {
    let near = dom::on_screen(id);
    WATCH.with(|w| w.borrow_mut().near.insert(id.to_string(), near));
    near
}

/// Calls `f` after the browser's layout whenever watched elements changed size or came near
/// the window, with their ids (the page redraws what they show then).
pub fn on_change(f: impl Fn(&[String]) + 'static) {
    WATCH.with(|w| w.borrow_mut().on_change = Some(Box::new(f)));
}

fn changed(ids: &[String]) {
    // Taken out while it runs: it may read sizes, which borrows the watch again.
    let f = WATCH.with(|w| w.borrow_mut().on_change.take());
    if let Some(f) = f {
        f(ids);
        WATCH.with(|w| {
            w.borrow_mut().on_change.get_or_insert(f);
        });
    }
}

/// The entries' targets, from an observer's callback.
fn targets(entries: &js_sys::Array) -> impl Iterator<Item = (JsValue, HtmlElement)> + '_ {
    entries.iter().filter_map(|entry| {
        let target = js_sys::Reflect::get(&entry, &"target".into()).ok()?;
        Some((entry, target.dyn_into::<HtmlElement>().ok()?))
    })
}

fn resize_observer(w: &mut Watch) -> Option<&web_sys::ResizeObserver> {
    if w.resize.is_none() {
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(|entries: js_sys::Array| {
            // Layout is up to date inside the callback: these reads cost nothing.
            let mut resized = Vec::new();
            for (_, element) in targets(&entries) {
                let size = (element.client_width(), element.client_height());
                let old = WATCH.with(|w| w.borrow_mut().sizes.insert(element.id(), size));
                if old != Some(size) {
                    resized.push(element.id());
                }
            }
            if !resized.is_empty() {
                changed(&resized);
            }
        });
        w.resize = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()).ok();
        callback.forget();
    }
    w.resize.as_ref()
}

fn intersection_observer(w: &mut Watch) -> Option<&web_sys::IntersectionObserver> {
    if w.intersect.is_none() {
        let callback = Closure::<dyn FnMut(js_sys::Array)>::new(|entries: js_sys::Array| {
            let mut came_near = Vec::new();
            for (entry, element) in targets(&entries) {
                let near = js_sys::Reflect::get(&entry, &"isIntersecting".into())
                    .ok()
                    .and_then(|v| v.as_bool())
                    .unwrap_or(true);
                let old = WATCH.with(|w| w.borrow_mut().near.insert(element.id(), near));
                if near && old != Some(true) {
                    came_near.push(element.id());
                }
            }
            if !came_near.is_empty() {
                changed(&came_near);
            }
        });
        // The page's own viewport as the root (not the top window's, where the page is an
        // embed's frame), so that the margin applies; built by hand, as web-sys's options type
        // would need another web-sys feature.
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"root".into(), &dom::document());
        let _ = js_sys::Reflect::set(&options, &"rootMargin".into(), &NEAR_MARGIN.into());
        let constructor = js_sys::Reflect::get(&dom::window(), &"IntersectionObserver".into())
            .ok()
            .and_then(|c| c.dyn_into::<js_sys::Function>().ok());
        w.intersect = constructor
            .and_then(|c| {
                js_sys::Reflect::construct(&c, &js_sys::Array::of2(callback.as_ref(), &options)).ok()
            })
            .map(JsCast::unchecked_into);
        callback.forget();
    }
    w.intersect.as_ref()
}
