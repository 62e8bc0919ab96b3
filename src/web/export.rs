//! Downloads of what a panel shows: each button marked `data-export="png|png3x|svg|csv|model"` inside an
//! element marked `data-panel="NAME"` (outside checks click them by those attributes). PNG is
//! the chart at the screen's resolution; `png3x` draws it again, with the same code, at three
//! device pixels per CSS pixel; SVG draws it again through plotters' SVG backend (vectors and
//! text, not a traced bitmap); CSV holds the numbers drawn; `model` is the trained 2-D model.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, HtmlCanvasElement, Url};

use super::app::App;
use super::dom::{self, by_id};
use super::{digits, training};
use crate::params::Panel;

type Shared = Rc<RefCell<App>>;

/// Wires every export button.
pub fn start(app: &Shared) -> Result<(), String> {
    for button in dom::all("[data-panel] [data-export]") {
        let kind = button.get_attribute("data-export").unwrap_or_default();
        let panel = button
            .closest("[data-panel]")
            .ok()
            .flatten()
            .and_then(|p| p.get_attribute("data-panel"))
            .and_then(|name| Panel::from_name(&name))
            .ok_or("an export button outside a panel")?;
        let app = app.clone();
        dom::listen_element(&button, "click", move |_| {
            if let Err(e) = export(&app, panel, &kind) {
                web_sys::console::error_1(&format!("export failed: {e}").into());
                let _ = dom::window().alert_with_message(&format!("The export failed: {e}"));
            }
        })?;
    }
    Ok(())
}

/// One download.
fn export(app: &Shared, panel: Panel, kind: &str) -> Result<(), String> {
    let name = file_name(&App::params(app), panel);
    match kind {
        "png" => save_png(&on_page_canvas(panel)?, &format!("{name}.png")),
        "png3x" => save_png(&scaled(app, panel, 3.0)?, &format!("{name}@3x.png")),
        "csv" => {
            let text = match panel {
                Panel::Train => training::csv(),
                Panel::Digits => digits::csv(),
                _ => app.borrow().csv(panel),
            }
            .ok_or("this panel has nothing to export yet")?;
            save(&text_blob(&text, "text/csv")?, &format!("{name}.csv"))
        }
        "webm" => video(app, panel),
        "svg" => {
            let svg = match panel {
                Panel::Train => training::svg(),
                Panel::Digits => digits::svg(),
                _ => app.borrow().svg(panel),
            }?;
            save(&text_blob(&svg, "image/svg+xml")?, &format!("{name}.svg"))
        }
        "model" => {
            // The network is in the worker: the file comes back in a message.
            wasm_bindgen_futures::spawn_local(async {
                let saved = async {
                    let bytes = training::export_model().await?;
                    save(
                        &bytes_blob(&bytes, "application/json")?,
                        "diffusion-2d-model.json",
                    )
                }
                .await;
                if let Err(e) = saved {
                    let _ = dom::window().alert_with_message(&format!("The export failed: {e}"));
                }
            });
            Ok(())
        }
        other => Err(format!("no export called {other}")),
    }
}

/// `diffusion-forward-t150`: the panel and the timestep it shows.
fn file_name(params: &crate::params::Params, panel: Panel) -> String {
    match panel {
        Panel::Train | Panel::Digits => format!("diffusion-{}", panel.name()),
        _ => format!("diffusion-{}-t{}", panel.name(), params.t),
    }
}

/// The canvas that holds a panel's picture on the page.
fn on_page_canvas(panel: Panel) -> Result<HtmlCanvasElement, String> {
    let id = match panel {
        Panel::Train => "samples-canvas",
        Panel::Digits if digits::has_grid() => "digits-canvas",
        Panel::Digits => "digits-forward",
        other => return by_id(&format!("{}-canvas", other.name())),
    };
    by_id(id)
}

/// The panel drawn again at `scale` device pixels per CSS pixel. The digits are pixels
/// already: they are enlarged without smoothing.
fn scaled(app: &Shared, panel: Panel, scale: f64) -> Result<HtmlCanvasElement, String> {
    match panel {
        Panel::Train => training::draw_detached(scale),
        Panel::Digits => enlarge(&on_page_canvas(panel)?, scale),
        _ => app.borrow().draw_detached(panel, scale),
    }
}

fn enlarge(source: &HtmlCanvasElement, scale: f64) -> Result<HtmlCanvasElement, String> {
    let canvas: HtmlCanvasElement = dom::document()
        .create_element("canvas")
        .map_err(|_| "cannot make a canvas")?
        .dyn_into()
        .map_err(|_| "cannot make a canvas")?;
    canvas.set_width((source.width() as f64 * scale) as u32);
    canvas.set_height((source.height() as f64 * scale) as u32);
    let ctx = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
        .ok_or("no 2-D context")?;
    ctx.set_image_smoothing_enabled(false);
    ctx.draw_image_with_html_canvas_element_and_dw_and_dh(
        source,
        0.0,
        0.0,
        canvas.width() as f64,
        canvas.height() as f64,
    )
    .map_err(|_| "cannot enlarge the digits")?;
    Ok(canvas)
}

fn save_png(canvas: &HtmlCanvasElement, name: &str) -> Result<(), String> {
    let name = name.to_string();
    let on_blob = Closure::once_into_js(move |blob: Option<Blob>| match blob {
        Some(blob) => {
            if let Err(e) = save(&blob, &name) {
                web_sys::console::error_1(&e.into());
            }
        }
        None => web_sys::console::error_1(&"the browser could not encode the PNG".into()),
    });
    canvas
        .to_blob(on_blob.unchecked_ref())
        .map_err(|_| "the canvas cannot be exported".to_string())
}

fn bytes_blob(bytes: &[u8], mime: &str) -> Result<Blob, String> {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|_| "cannot make the file".to_string())
}

fn text_blob(text: &str, mime: &str) -> Result<Blob, String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_str_sequence_and_options(&parts, &options).map_err(|_| "cannot make the file".to_string())
}

/// Hands a file to the browser's downloads.
pub fn save(blob: &Blob, name: &str) -> Result<(), String> {
    let url = Url::create_object_url_with_blob(blob).map_err(|_| "cannot make a download link")?;
    let link: HtmlAnchorElement = dom::document()
        .create_element("a")
        .map_err(|_| "cannot make a download link")?
        .dyn_into()
        .map_err(|_| "cannot make a download link")?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The download has its own copy once it started; free the blob's URL a moment later.
    let revoke = Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url);
    });
    let _ =
        dom::window().set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    Ok(())
}

/// Imports a 2-D model from the file picker or a file dropped on the training panel. The page
/// takes the model's settings (schedule, seed, training settings), then the panel samples it.
/// A file that is not a model of this network is refused with a reason, and the current model
/// stays.
pub fn wire_import(app: &Shared, training: &Rc<RefCell<training::Training>>) -> Result<(), String> {
    let (picked_app, picked_training) = (app.clone(), training.clone());
    dom::listen("model-import", "change", move |_| {
        let Ok(input) = by_id::<web_sys::HtmlInputElement>("model-import") else {
            return;
        };
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            read_and_import(&picked_app, &picked_training, file);
        }
        input.set_value("");
    })?;
    dom::listen_as("panel-train", "dragover", |e: web_sys::DragEvent| {
        e.prevent_default()
    })?;
    let (app, training) = (app.clone(), training.clone());
    dom::listen_as("panel-train", "drop", move |e: web_sys::DragEvent| {
        e.prevent_default();
        if let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            read_and_import(&app, &training, file);
        }
    })?;
    Ok(())
}

fn read_and_import(app: &Shared, training: &Rc<RefCell<training::Training>>, file: web_sys::File) {
    let (app, training) = (app.clone(), training.clone());
    let name = file.name();
    let size = file.size();
    wasm_bindgen_futures::spawn_local(async move {
        let result = async {
            if size > crate::protocol::MAX_BUNDLE_BYTES as f64 {
                return Err(format!(
                    "it has {:.1} MB; a model of this page has at most 16 MB",
                    size / 1e6
                ));
            }
            let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
                .await
                .map_err(|_| "the browser could not read it".to_string())?;
            let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
            // The worker reads and checks the file in full; the page then takes its settings.
            let request = crate::protocol::Request::Import;
            let (reply, _, _) = super::engine::call(&request, Vec::new(), bytes).await?;
            let crate::protocol::Reply::Imported { settings: pairs } = reply else {
                return Err("the worker answered something else".into());
            };
            let mut params = App::params(&app);
            let notes = params.apply(&pairs);
            super::app::show_corrections(
                "The imported model's settings were changed to fit the page:",
                &notes,
            );
            App::update(&app, params);
            training::import(&training).await
        }
        .await;
        if let Err(e) = result {
            training::refuse_import(&format!(
                "{name} was not imported: {e}. The current model is kept."
            ));
        }
    });
}

/// Resolves on the next animation frame.
async fn next_frame() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = dom::window().request_animation_frame(&resolve);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The length in seconds chosen beside a panel's video button (1 to 30; 4 if unreadable).
fn video_seconds(panel: Panel) -> f64 {
    let id = format!("{}-video-seconds", panel.name());
    let v = by_id::<web_sys::HtmlInputElement>(&id).map_or(4.0, |i| i.value_as_number());
    if v.is_finite() { v.clamp(1.0, 30.0) } else { 4.0 }
}

/// Records a canvas while `frames` frames are drawn by `draw(frame index)`, one per animation
/// frame, and downloads the WebM. `done` runs when the recording ends (to restore the view).
fn record(
    canvas_id: &'static str,
    name: String,
    frames: usize,
    draw: impl Fn(usize) + 'static,
    done: impl FnOnce() + 'static,
) -> Result<(), String> {
    let canvas: HtmlCanvasElement = by_id(canvas_id)?;
    let stream = canvas
        .capture_stream_with_frame_request_rate(30.0)
        .map_err(|_| "this browser cannot record a canvas")?;
    let options = web_sys::MediaRecorderOptions::new();
    options.set_mime_type("video/webm");
    let recorder =
        web_sys::MediaRecorder::new_with_media_stream_and_media_recorder_options(&stream, &options)
            .map_err(|_| "this browser cannot record WebM video")?;
    let chunks = js_sys::Array::new();
    let kept = chunks.clone();
    let on_data = Closure::<dyn FnMut(web_sys::BlobEvent)>::new(move |e: web_sys::BlobEvent| {
        if let Some(blob) = e.data() {
            kept.push(&blob);
        }
    });
    recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
    on_data.forget();
    let on_stop = Closure::once_into_js(move || {
        let options = BlobPropertyBag::new();
        options.set_type("video/webm");
        match Blob::new_with_blob_sequence_and_options(&chunks, &options) {
            Ok(blob) => {
                if let Err(e) = save(&blob, &name) {
                    web_sys::console::error_1(&e.into());
                }
            }
            Err(_) => web_sys::console::error_1(&"cannot assemble the video".into()),
        }
    });
    recorder.set_onstop(Some(on_stop.unchecked_ref()));
    recorder.start().map_err(|_| "the recording did not start")?;
    wasm_bindgen_futures::spawn_local(async move {
        for k in 0..frames {
            draw(k);
            next_frame().await;
        }
        // Hold the last picture for a moment, so the video does not end on a cut.
        for _ in 0..10 {
            next_frame().await;
        }
        done();
        let _ = recorder.stop();
    });
    Ok(())
}

/// The forward noising as t sweeps from 0 to T, or the 2-D reverse chain from noise to data.
fn video(app: &Shared, panel: Panel) -> Result<(), String> {
    let frames = (video_seconds(panel) * 30.0).round() as usize;
    match panel {
        Panel::Forward => {
            let original = App::params(app);
            let steps = original.steps;
            let (each, restore) = (app.clone(), app.clone());
            record(
                "forward-canvas",
                "diffusion-forward.webm".into(),
                frames + 1,
                move |k| {
                    let mut p = App::params(&each);
                    p.t = (steps as f64 * k as f64 / frames as f64).round() as usize;
                    App::update(&each, p);
                },
                move || App::update(&restore, original),
            )
        }
        Panel::Train => {
            let taken =
                training::chain_length().ok_or("train a model first: the video replays its reverse chain")?;
            record(
                "samples-canvas",
                "diffusion-reverse-chain.webm".into(),
                frames + 1,
                move |k| {
                    training::show_step(Some((taken as f64 * k as f64 / frames as f64).round() as usize))
                },
                || training::show_step(None),
            )
        }
        other => Err(format!("the {} panel has no video", other.name())),
    }
}
