//! Whether the reader can see the page's work: a hidden tab, or an embed scrolled out of its
//! host page's view, should not spend the reader's battery on training slices or digit steps.
//! The training loop waits at [`until_visible`] between slices and the digits' chain between
//! steps; animation frames stop by themselves.

use std::cell::Cell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::dom;

thread_local! {
    /// The embedded panel intersects the viewport (always true on the full page).
    static IN_VIEW: Cell<bool> = const { Cell::new(true) };
}

/// How often a paused loop looks again.
const POLL_MS: i32 = 200;

/// In an embed (`?panel=NAME`), watches whether that panel is in view. On the full page a
/// reader scrolls to other panels to watch what training changes, so it never pauses there.
pub fn watch_embedded(panel_id: &str) {
    let Ok(element) = dom::by_id::<web_sys::Element>(panel_id) else {
        return;
    };
    let on_change = Closure::<dyn FnMut(js_sys::Array)>::new(|entries: js_sys::Array| {
        for entry in entries.iter() {
            if let Ok(entry) = entry.dyn_into::<web_sys::IntersectionObserverEntry>() {
                IN_VIEW.with(|v| v.set(entry.is_intersecting()));
            }
        }
    });
    if let Ok(observer) = web_sys::IntersectionObserver::new(on_change.as_ref().unchecked_ref()) {
        observer.observe(&element);
    }
    on_change.forget();
}

/// Whether work the reader would watch should go on now.
pub fn visible() -> bool {
    !dom::document().hidden() && IN_VIEW.with(Cell::get)
}

/// Resolves once the page can be seen.
pub async fn until_visible() {
    while !visible() {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let _ = dom::window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, POLL_MS);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}
