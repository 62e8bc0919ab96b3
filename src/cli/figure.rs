//! `diffusion figure`: a chart panel drawn offline by the same plotters code as the page, from
//! the same query string, as SVG, PNG or (with `--animate`) an animated GIF.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use burn::tensor::Device;
use clap::Args;
use plotters::prelude::*;

use diffusion_playground::charts::{self, Learned, ModelView, Scene, Surface};
use diffusion_playground::model::sample::{Chain, Sampler};
use diffusion_playground::model::train::{TrainConfig, Trainer};
use diffusion_playground::params::{Panel, Params};

use super::write_atomic;

#[derive(Args, Debug)]
pub struct FigureArgs {
    /// The panel: schedule, forward, posterior, score or train (train trains the 2-D model
    /// with the query's settings first, then draws its samples).
    #[arg(long)]
    panel: String,
    /// The page's query string (`T=200&t=50&kind=cosine`); values are checked as the page
    /// checks them, and what had to change is said on stderr.
    #[arg(long, default_value = "")]
    query: String,
    /// The file to write: .svg, .png, or .gif with --animate.
    #[arg(long)]
    out: PathBuf,
    /// Width in CSS pixels [default: the panel's size on the page].
    #[arg(long)]
    width: Option<u32>,
    /// Height in CSS pixels [default: the panel's size on the page].
    #[arg(long)]
    height: Option<u32>,
    /// Device pixels per CSS pixel, for PNG and GIF (SVG scales by itself).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Animate one control: `KEY=FROM:TO:STEP`, for example `t=0:1000:20` (the forward sweep)
    /// or, for the train panel, `chain=0:100:2` (the reverse chain); writes a GIF.
    #[arg(long)]
    animate: Option<String>,
    /// Milliseconds per frame of an animation.
    #[arg(long, default_value_t = 80)]
    frame_ms: u32,
}

/// The most frames an animation may have.
const MAX_FRAMES: usize = 500;
/// The largest picture, in device pixels a side.
const MAX_SIDE: f64 = 8000.0;

/// The typeface of figures drawn here (the browser uses its own): DejaVu Sans, shipped in
/// `assets/fonts/` with its licence.
static SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

pub fn run(args: FigureArgs) -> anyhow::Result<()> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, SANS)
        .map_err(|_| anyhow::anyhow!("the shipped font could not be read"))?;
    let panel = Panel::from_name(&args.panel)
        .filter(|p| *p != Panel::Digits)
        .with_context(|| {
            format!(
                "no chart panel named '{}' (expected schedule, forward, posterior, score or train)",
                args.panel
            )
        })?;
    let (mut params, notes) = Params::from_query(&args.query);
    for note in &notes {
        eprintln!("note: {note}");
    }
    let (css_w, css_h) = default_size(panel);
    let (css_w, css_h) = (args.width.unwrap_or(css_w), args.height.unwrap_or(css_h));
    if !(args.scale.is_finite() && args.scale > 0.0) {
        bail!("--scale must be a positive number, not {}", args.scale);
    }
    let (w, h) = (
        (css_w as f64 * args.scale).round(),
        (css_h as f64 * args.scale).round(),
    );
    if !(16.0..=MAX_SIDE).contains(&w) || !(16.0..=MAX_SIDE).contains(&h) {
        bail!("a figure of {w} x {h} pixels is outside 16 to {MAX_SIDE} a side");
    }
    let size = (w as u32, h as u32);
    let format = Format::of(&args.out)?;
    let trained = (panel == Panel::Train).then(|| train(&params)).transpose()?;

    if let Some(spec) = &args.animate {
        if format != Format::Gif {
            bail!("--animate writes a GIF: name the output FILE.gif");
        }
        let (key, values) = parse_animation(spec)?;
        let mut frames = Vec::with_capacity(values.len());
        for v in values {
            let notes = params.apply_link(&[(key.clone(), v.to_string())]);
            if let Some(n) = notes.first() {
                bail!("--animate {spec}: {n}");
            }
            frames.push(draw_png_pixels(
                panel,
                &params,
                trained.as_ref(),
                size,
                args.scale,
            )?);
        }
        let gif = encode_gif(&frames, size, args.frame_ms)?;
        write_atomic(&args.out, &gif)?;
        println!("wrote {} frames to {}", frames.len(), args.out.display());
        return Ok(());
    }
    let bytes = match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (css_w, css_h)).into_drawing_area();
                draw(panel, &params, trained.as_ref(), &Surface::new(root, 1.0))?;
            }
            svg.into_bytes()
        }
        Format::Png => {
            let rgb = draw_png_pixels(panel, &params, trained.as_ref(), size, args.scale)?;
            encode_png(&rgb, size)?
        }
        Format::Gif => bail!("a GIF is an animation: add --animate KEY=FROM:TO:STEP"),
    };
    write_atomic(&args.out, &bytes)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Format {
    Svg,
    Png,
    Gif,
}

impl Format {
    fn of(path: &Path) -> anyhow::Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(Self::Svg),
            Some("png") => Ok(Self::Png),
            Some("gif") => Ok(Self::Gif),
            _ => bail!("--out {}: name the file .svg, .png or .gif", path.display()),
        }
    }
}

/// The panel's size on the page, in CSS pixels.
fn default_size(panel: Panel) -> (u32, u32) {
    match panel {
        Panel::Schedule => (1000, 330),
        _ => (560, 560),
    }
}

/// `t=0:1000:20` into the key and its values.
fn parse_animation(spec: &str) -> anyhow::Result<(String, Vec<f64>)> {
    let usage = || format!("--animate {spec}: expected KEY=FROM:TO:STEP, for example t=0:1000:20");
    let (key, range) = spec.split_once('=').with_context(usage)?;
    let parts: Vec<f64> = range
        .split(':')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| anyhow::anyhow!(usage()))?;
    let [from, to, step] = parts[..] else {
        bail!(usage())
    };
    if !(step.is_finite() && step > 0.0 && from.is_finite() && to.is_finite()) {
        bail!(usage());
    }
    let count = ((to - from).abs() / step).floor() as usize + 1;
    if count > MAX_FRAMES {
        bail!("--animate {spec}: {count} frames; at most {MAX_FRAMES}");
    }
    let sign = if to >= from { 1.0 } else { -1.0 };
    Ok((
        key.trim().to_string(),
        (0..count).map(|i| from + sign * step * i as f64).collect(),
    ))
}

/// The model the train panel shows: trained with the query's settings, and one reverse chain
/// from it with every step kept.
struct Trained {
    trainer: Trainer,
    chain: Chain,
    learned: Option<Learned>,
}

fn train(params: &Params) -> anyhow::Result<Trained> {
    let config = TrainConfig::from_params(params).map_err(anyhow::Error::msg)?;
    let (data, _) = charts::cloud(params.data, params.seed);
    let device = Device::flex();
    let mut trainer = Trainer::new(config, data, &device).map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("training {} steps…", trainer.config().steps);
    while trainer.step_count() < trainer.config().steps {
        trainer.step().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let sampler = Sampler::from_settings(params.train.sampler, params.train.eta);
    let model = trainer.model();
    let schedule = trainer.schedule().clone();
    let mut chain = Chain::new(&schedule, sampler, params.train.reverse_steps, 1000, 0);
    diffusion_playground::model::sample::run(&mut chain, &model, &schedule).map_err(anyhow::Error::msg)?;
    Ok(Trained {
        trainer,
        chain,
        learned: None,
    })
}

/// Draws the panel on any plotters backend.
fn draw<DB: DrawingBackend>(
    panel: Panel,
    params: &Params,
    trained: Option<&Trained>,
    surface: &Surface<DB>,
) -> anyhow::Result<()> {
    let schedule = params.schedule();
    let (data, eps) = charts::cloud(params.data, params.seed);
    let model = match trained.and_then(|t| t.learned.as_ref()) {
        Some(l) => ModelView::Ready(l),
        None => ModelView::Untrained,
    };
    let scene = Scene {
        params,
        schedule: &schedule,
        data: &data,
        eps: &eps,
        model,
    };
    let drawn = match panel {
        Panel::Schedule | Panel::Forward | Panel::Posterior | Panel::Score => {
            let chart = charts::Chart::compute(panel, &scene).expect("an exact chart");
            chart.draw(&scene, surface).map(drop)
        }
        Panel::Train => {
            let t = trained.context("the train panel trains first")?;
            let c = &t.chain;
            let k = params.chain.unwrap_or(c.taken).min(c.history.len() - 1);
            charts::training::draw_samples(surface, t.trainer.data(), &c.history[k], &c.history[..=k])
        }
        Panel::Digits => unreachable!("refused above"),
    };
    drawn.map_err(anyhow::Error::msg)
}

/// The panel drawn into an RGB buffer of `size` device pixels.
fn draw_png_pixels(
    panel: Panel,
    params: &Params,
    trained: Option<&Trained>,
    size: (u32, u32),
    scale: f64,
) -> anyhow::Result<Vec<u8>> {
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(panel, params, trained, &Surface::new(root, scale))?;
    }
    Ok(rgb)
}

fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("cannot encode the PNG")?;
    writer.write_image_data(rgb).context("cannot encode the PNG")?;
    writer.finish().context("cannot encode the PNG")?;
    Ok(out)
}

fn encode_gif(frames: &[Vec<u8>], (w, h): (u32, u32), frame_ms: u32) -> anyhow::Result<Vec<u8>> {
    let (w16, h16) = (
        u16::try_from(w).context("a GIF is at most 65,535 pixels wide")?,
        u16::try_from(h).context("a GIF is at most 65,535 pixels high")?,
    );
    let mut out = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut out, w16, h16, &[]).context("cannot encode the GIF")?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .context("cannot encode the GIF")?;
        for rgb in frames {
            let mut frame = gif::Frame::from_rgb_speed(w16, h16, rgb, 10);
            frame.delay = (frame_ms / 10).max(1) as u16;
            encoder.write_frame(&frame).context("cannot encode the GIF")?;
        }
    }
    Ok(out)
}
