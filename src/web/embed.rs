//! The page inside a frame: the `postMessage` protocol a host page uses to size, set, read and
//! drive an embedded panel (documented in the README; checks outside the repository use it).
//!
//! - the frame posts `{type: "diffusion-playground:height", height}` when its content's height
//!   changes;
//! - `{type: "diffusion-playground:set", params: {t: 500, ...}}` applies values with a link's
//!   checks and is answered, like `{type: "diffusion-playground:get"}`, with
//!   `{type: "diffusion-playground:state", params: {...}}`;
//! - `{type: "diffusion-playground:action", action, panel}` presses a panel's button;
//! - the frame posts `{type: "diffusion-playground:event", event, panel, detail}` when training
//!   ends or diverges, a chain is sampled, or something fails.
//!
//! Any origin may talk to the page: it holds no secrets and nothing a message can set is more
//! than a reader could set with the page's own controls or its link. Messages it does not
//! understand are ignored, never thrown on.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Window};

use super::app::{self, App};
use super::dom;
use super::{digits, training};
use crate::params::{Params, Value};

/// Every message type starts with this.
const PREFIX: &str = "diffusion-playground:";
/// The most values one `set` may carry: more is not a setting but an attack.
const MAX_VALUES: usize = 64;

/// The window this page is framed by, if it is in a frame.
fn host() -> Option<Window> {
    let window = dom::window();
    let parent = window.parent().ok().flatten()?;
    (!Object::is(&parent, &window)).then_some(parent)
}

/// Tells the host page that something finished: `event` is `trained`, `sampled`, `diverged` or
/// `error`, `panel` is `train` or `digits`.
pub fn emit(event: &str, panel: &str, detail: &str) {
    if let Some(host) = host() {
        post(
            &host,
            &object(&[
                ("type", format!("{PREFIX}event").into()),
                ("event", event.into()),
                ("panel", panel.into()),
                ("detail", detail.into()),
            ]),
        );
    }
}

/// Starts the protocol: height reports (in a frame) and the message listener.
pub fn start(
    app: Rc<RefCell<App>>,
    training: Rc<RefCell<training::Training>>,
    digits: Rc<RefCell<digits::DigitsPanel>>,
) {
    if host().is_some() {
        watch_height();
    }
    dom::on_window("message", move |e: MessageEvent| {
        // Whatever arrives, nothing may escape this handler.
        if let Some(reply) = handle(&app, &training, &digits, &e.data()) {
            let to = e.source().map(|s| s.unchecked_into::<Window>()).or_else(host);
            if let Some(to) = to {
                post(&to, &reply);
            }
        }
    });
}

/// Posts the content's height to the host now and whenever it changes.
fn watch_height() {
    let last = Rc::new(Cell::new(-1.0));
    let report = move || {
        let root = dom::document().document_element();
        let height = root.map_or(0.0, |r| r.get_bounding_client_rect().height().ceil());
        if height != last.get() {
            last.set(height);
            if let Some(host) = host() {
                post(
                    &host,
                    &object(&[
                        ("type", format!("{PREFIX}height").into()),
                        ("height", height.into()),
                    ]),
                );
            }
        }
    };
    report();
    let on_resize = Closure::<dyn FnMut()>::new(report);
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref())
        && let Some(root) = dom::document().document_element()
    {
        observer.observe(&root);
    }
    on_resize.forget();
}

/// The answer to one message, if it wants one.
fn handle(
    app: &Rc<RefCell<App>>,
    training: &Rc<RefCell<training::Training>>,
    digits: &Rc<RefCell<digits::DigitsPanel>>,
    data: &JsValue,
) -> Option<Object> {
    if !data.is_object() {
        return None;
    }
    let kind = Reflect::get(data, &"type".into()).ok()?.as_string()?;
    match kind.strip_prefix(PREFIX)? {
        "get" => Some(state(&App::params(app), &[])),
        "set" => {
            let params = Reflect::get(data, &"params".into()).ok()?;
            let pairs = pairs(&params)?;
            let notes = app::set_from_outside(app, training, &pairs);
            let notes: Vec<String> = notes.iter().map(ToString::to_string).collect();
            Some(state(&App::params(app), &notes))
        }
        "action" => {
            let action = Reflect::get(data, &"action".into()).ok()?.as_string()?;
            let panel = Reflect::get(data, &"panel".into())
                .ok()
                .and_then(|p| p.as_string())
                .unwrap_or_else(|| "train".into());
            act(training, digits, &panel, &action);
            None
        }
        _ => None,
    }
}

/// A `set` message's values as a link's key-value pairs: numbers, strings and booleans only.
fn pairs(params: &JsValue) -> Option<Vec<(String, String)>> {
    if !params.is_object() || Array::is_array(params) {
        return None;
    }
    let keys = Object::keys(params.unchecked_ref::<Object>());
    let mut pairs = Vec::new();
    for key in keys.iter().take(MAX_VALUES) {
        let Some(key) = key.as_string() else { continue };
        let Ok(value) = Reflect::get(params, &key.clone().into()) else {
            continue;
        };
        let text = if let Some(v) = value.as_f64() {
            v.to_string()
        } else if let Some(b) = value.as_bool() {
            if b { "1" } else { "0" }.to_string()
        } else if let Some(s) = value.as_string() {
            s.chars().take(1000).collect()
        } else {
            // An object, an array, null: not a value any control takes.
            format!("({})", value.js_typeof().as_string().unwrap_or_default())
        };
        pairs.push((key, text));
    }
    Some(pairs)
}

/// Presses a panel's button; unknown panels and actions do nothing.
fn act(
    training: &Rc<RefCell<training::Training>>,
    digits: &Rc<RefCell<digits::DigitsPanel>>,
    panel: &str,
    action: &str,
) {
    use training::Action as T;
    match (panel, action) {
        ("train", "train") => training::act(training, T::Train),
        ("train", "pause") => training::act(training, T::Pause),
        ("train", "step") => training::act(training, T::Step),
        ("train", "reset") => training::act(training, T::Reset),
        ("train", "sample") => training::act(training, T::Sample),
        ("digits", "sample" | "train") => digits::act(digits, digits::Action::Sample),
        ("digits", "pause" | "reset") => digits::act(digits, digits::Action::Pause),
        ("digits", "step") => digits::act(digits, digits::Action::Step),
        _ => {}
    }
}

/// `{type: "diffusion-playground:state", params: {...}}` with every control's value, the view
/// (`panel`, `hide`, `lock`) and what a `set` had to correct.
fn state(p: &Params, corrections: &[String]) -> Object {
    let params = Object::new();
    for (key, value) in p.values() {
        let v: JsValue = match value {
            Value::Number(v) => v.into(),
            Value::Name(n) => n.into(),
            Value::Unset => JsValue::NULL,
        };
        let _ = Reflect::set(&params, &key.into(), &v);
    }
    let panel: JsValue = p.view.panel.map_or(JsValue::NULL, |panel| panel.name().into());
    let _ = Reflect::set(&params, &"panel".into(), &panel);
    let _ = Reflect::set(&params, &"hide".into(), &p.view.hide.join(",").into());
    let _ = Reflect::set(&params, &"lock".into(), &p.view.lock.join(",").into());
    let notes: Array = corrections.iter().map(|c| JsValue::from_str(c)).collect();
    object(&[
        ("type", format!("{PREFIX}state").into()),
        ("params", params.into()),
        ("corrections", notes.into()),
    ])
}

fn object(fields: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in fields {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o
}

fn post(to: &Window, message: &Object) {
    // "*": the messages carry only what the page shows; see the module's documentation.
    let _ = to.post_message(message, "*");
}
