//! An [`Envelope`] as a JavaScript object, `{id, header, floats, bytes}`, for `postMessage`: the
//! numbers go as a `Float32Array` and the file as a `Uint8Array`, whose buffers are
//! transferred rather than copied. Shared by the page and its worker.

use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::protocol::Envelope;

/// The message to post, and the buffers to transfer with it.
pub fn to_js(envelope: &Envelope) -> (JsValue, Array) {
    let object = Object::new();
    let floats = Float32Array::from(envelope.floats.as_slice());
    let bytes = Uint8Array::from(envelope.bytes.as_slice());
    let set = |key: &str, value: &JsValue| {
        let _ = Reflect::set(&object, &key.into(), value);
    };
    set("id", &envelope.id.into());
    set("header", &envelope.header.as_str().into());
    set("floats", &floats);
    set("bytes", &bytes);
    let transfer = Array::of2(&floats.buffer(), &bytes.buffer());
    (object.into(), transfer)
}

/// The envelope in a received message, or `None` for anything else (a message of another
/// kind, or junk).
pub fn from_js(data: &JsValue) -> Option<Envelope> {
    let get = |key: &str| Reflect::get(data, &key.into()).ok();
    let header = get("header")?.as_string()?;
    let id = get("id")?.as_f64()? as u32;
    let floats = get("floats")
        .and_then(|f| f.dyn_into::<Float32Array>().ok())
        .map(|f| f.to_vec())
        .unwrap_or_default();
    let bytes = get("bytes")
        .and_then(|b| b.dyn_into::<Uint8Array>().ok())
        .map(|b| b.to_vec())
        .unwrap_or_default();
    Some(Envelope {
        id,
        header,
        floats,
        bytes,
    })
}
