//! Downloading a file with progress: `fetch`, then the response body read chunk by chunk so a
//! panel can say how much of it has arrived. Every failure is a sentence naming the file.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, Response};

use super::dom;

/// The bytes of `url`. `progress(received, total)` is called after every chunk; `total` is the
/// size the server announced (`Content-Length`), when it did and it is not outgrown.
pub async fn fetch_bytes(
    url: &str,
    mut progress: impl FnMut(usize, Option<usize>),
) -> Result<Vec<u8>, String> {
    let response: Response = JsFuture::from(dom::window().fetch_with_str(url))
        .await
        .map_err(|_| format!("{url} could not be fetched"))?
        .dyn_into()
        .map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("{url} is missing (HTTP {})", response.status()));
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|n| n.parse::<usize>().ok());
    let Some(body) = response.body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|_| format!("{url}: the browser gave no reader for the download"))?;
    let mut bytes = Vec::with_capacity(total.unwrap_or(0));
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|_| format!("{url} was cut off while downloading"))?;
        let done = Reflect::get(&chunk, &"done".into()).is_ok_and(|d| d.is_truthy());
        if done {
            break;
        }
        let value = Reflect::get(&chunk, &"value".into())
            .ok()
            .and_then(|v| v.dyn_into::<Uint8Array>().ok())
            .ok_or_else(|| format!("{url}: the download gave something other than bytes"))?;
        let start = bytes.len();
        bytes.resize(start + value.length() as usize, 0);
        value.copy_to(&mut bytes[start..]);
        // A compressed transfer announces its compressed size: past it, the total is unknown.
        progress(bytes.len(), total.filter(|&t| t >= bytes.len()));
    }
    Ok(bytes)
}
