//! `diffusion mnist sweep`: what guidance and fewer steps cost and buy, measured. Samples
//! digits at every setting of a grid, judges them with the classifier `scripts/judge_mnist.py`
//! trained and exported (the asked digit recognised? how far from held-out real digits, how
//! realistic and how varied?), picks the defaults by a stated rule and writes it all as JSON.
//! The page charts the shipped output (`assets/mnist/sweep.json`) in its digits panel.
//! The record and the rule live in `sampling::sweep`.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use burn::tensor::Device;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::mnist::{parse_interval, unet_files};
use diffusion_playground::data::mnist::{Digits, PIXELS, SIDE};
use diffusion_playground::math::quality::{self, Features};
use diffusion_playground::model::digits::{DEFAULTS, DigitChain, DigitRequest, Image};
use diffusion_playground::model::judge::{self, Judge};
use diffusion_playground::model::sample::Sampler;
use diffusion_playground::model::weights::{WeightsInfo, load_unet};
use diffusion_playground::sampling::sweep::{
    Measured, RIGHT, STEPS_SLACK, Scores, Setting, Sweep, choose_guidance, choose_steps,
};

/// Digits sampled together.
const BATCH: usize = 50;

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The JSON file to write.
    #[arg(long)]
    out: PathBuf,
    /// Digits per setting (the classes take turns). Distances shrink with more samples:
    /// compare only runs of the same size.
    #[arg(long, default_value_t = 1000)]
    n: usize,
    /// Guidance weights w to try.
    #[arg(long, value_delimiter = ',', default_values_t = [0.0, 0.5, 1.0, 2.0, 4.0])]
    guidance: Vec<f32>,
    /// Guidance intervals to try, LO:HI timesteps (w = 0 is sampled once).
    #[arg(long, value_delimiter = ',', value_parser = parse_interval, default_values = ["0:1000", "350:650"])]
    intervals: Vec<RangeInclusive<usize>>,
    /// DDIM steps of the guidance grid.
    #[arg(long, default_value_t = 25)]
    guidance_steps: usize,
    /// The step count whose distance fewer steps must stay near (always sampled).
    #[arg(long, default_value_t = 50)]
    reference_steps: usize,
    /// DDIM's eta in the guidance grid and for the chosen steps.
    #[arg(long, default_value_t = DEFAULTS.eta)]
    eta: f64,
    /// DDIM step counts to try at the chosen guidance.
    #[arg(long, value_delimiter = ',', default_values_t = [5, 10, 25, 100])]
    steps: Vec<usize>,
    /// Other etas, sampled at the chosen guidance for comparison (at these step counts).
    #[arg(long, value_delimiter = ',', default_values_t = [0.0])]
    compare_etas: Vec<f64>,
    /// The step counts of the comparison.
    #[arg(long, value_delimiter = ',', default_values_t = [10, 25, 50])]
    compare_steps: Vec<usize>,
    /// The judge's weights (`python3 scripts/judge_mnist.py --export FILE`).
    #[arg(long, default_value = "scripts/judge_mnist.safetensors")]
    judge: PathBuf,
    /// The real digits (`node scripts/mnist-data.mjs` writes data/mnist.bin).
    #[arg(long, default_value = "data/mnist.bin")]
    data: PathBuf,
    /// A directory with unet.json and unet.safetensors instead of the shipped weights.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Seed of the noise (every setting starts from the same noise).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Threads sampling at once [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
}

/// What every setting is sampled with and judged against: the U-Net's files, the judge, and
/// the reference digits' features.
struct Judging {
    info: WeightsInfo,
    weights: Vec<u8>,
    judge: Judge,
    reference: Features,
    device: Device,
}

pub fn run(args: SweepArgs) -> anyhow::Result<()> {
    check(&args)?;
    let device = Device::flex();
    let judge_bytes = std::fs::read(&args.judge).with_context(|| {
        format!(
            "cannot read the judge {} (python3 scripts/judge_mnist.py --export {} writes it)",
            args.judge.display(),
            args.judge.display()
        )
    })?;
    let judge = Judge::load(judge_bytes, &device).map_err(|e| anyhow!(e))?;
    let data = std::fs::read(&args.data).with_context(|| {
        format!(
            "cannot read {} (node scripts/mnist-data.mjs writes it)",
            args.data.display()
        )
    })?;
    let digits = Digits::parse(&data).map_err(|e| anyhow!("{}: {e:?}", args.data.display()))?;
    if digits.len() < 8 {
        bail!(
            "{} has {} digits; the judge needs at least 8",
            args.data.display(),
            digits.len()
        );
    }
    let (reference_ids, floor_ids) = judge::held_out(&digits);
    let images = |ids: &[usize]| -> Vec<f32> { ids.iter().flat_map(|&i| digits.unit(i)).collect() };
    let verdict = judge.judge(&images(&reference_ids), &device);
    let reference = Features::new(&verdict.features, judge::FEATURES);
    let judge_right = agreement(
        &verdict.predicted,
        reference_ids.iter().map(|&i| digits.labels[i]),
    );
    let (info, weights) = unet_files(args.weights.as_deref())?;
    let ctx = Judging {
        info,
        weights,
        judge,
        reference,
        device,
    };
    let floor_images = images(&floor_ids);
    let real = ctx.score(
        &floor_images,
        &floor_ids.iter().map(|&i| digits.labels[i]).collect::<Vec<_>>(),
    );
    println!(
        "judge: {:.1} % right on the {} reference digits; {} held-out real digits: {}",
        100.0 * judge_right,
        reference_ids.len(),
        floor_ids.len(),
        describe(&real)
    );

    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut grid: Vec<Setting> = Vec::new();
    for &w in &args.guidance {
        let intervals: Vec<Option<[usize; 2]>> = if w == 0.0 {
            vec![None]
        } else {
            args.intervals
                .iter()
                .map(|r| Some([*r.start(), *r.end()]))
                .collect()
        };
        for interval in intervals {
            grid.push(Setting {
                guidance: w,
                interval,
                steps: args.guidance_steps,
                eta: args.eta,
            });
        }
    }
    let guidance = ctx.measure(&grid, args.n, args.seed, threads)?;
    let best = choose_guidance(&guidance).expect("a non-empty grid").clone();

    // The steps grid at the chosen guidance: every count at the chosen eta (the reference
    // among them), and the comparison's counts at the other etas.
    let mut counts = args.steps.clone();
    counts.push(args.reference_steps);
    let mut grid: Vec<Setting> = counts
        .iter()
        .map(|&steps| (steps, args.eta))
        .chain(
            args.compare_etas
                .iter()
                .filter(|&&e| e != args.eta)
                .flat_map(|&eta| args.compare_steps.iter().map(move |&steps| (steps, eta))),
        )
        .map(|(steps, eta)| Setting {
            steps,
            eta,
            ..best.setting.clone()
        })
        .collect();
    grid.sort_by(|a, b| a.eta.total_cmp(&b.eta).then(a.steps.cmp(&b.steps)));
    grid.dedup();
    grid.retain(|s| *s != best.setting);
    let mut steps = ctx.measure(&grid, args.n, args.seed, threads)?;
    steps.push(best.clone());
    steps.sort_by(|a, b| {
        a.setting
            .eta
            .total_cmp(&b.setting.eta)
            .then(a.setting.steps.cmp(&b.setting.steps))
    });
    let reference_setting = Setting {
        steps: args.reference_steps,
        ..best.setting.clone()
    };
    let reference = steps
        .iter()
        .find(|m| m.setting == reference_setting)
        .expect("the reference was sampled");
    let chosen = choose_steps(&steps, reference).setting.clone();

    let report = Sweep {
        about: "diffusion mnist sweep: digits sampled with DDIM at each setting, judged by the \
                classifier of scripts/judge_mnist.py against held-out real digits"
            .into(),
        samples: args.n,
        rule: format!(
            "guidance (at {} steps): the lowest distance among settings with right >= {:.0} %; steps: the fewest within {:.0} % of the distance at {} steps",
            args.guidance_steps,
            100.0 * RIGHT,
            100.0 * STEPS_SLACK,
            args.reference_steps
        ),
        judge_right,
        real,
        guidance,
        steps,
        chosen: chosen.clone(),
    };
    let json = serde_json::to_string_pretty(&report).expect("plain data") + "\n";
    super::write_atomic(&args.out, json.as_bytes())?;
    println!(
        "chosen: w = {}{}, DDIM {} steps, eta {}; wrote {}",
        chosen.guidance,
        chosen
            .interval
            .map_or(String::new(), |[lo, hi]| format!(" on t in {lo}..{hi}")),
        chosen.steps,
        chosen.eta,
        args.out.display()
    );
    Ok(())
}

fn check(args: &SweepArgs) -> anyhow::Result<()> {
    if !(8..=100_000).contains(&args.n) {
        bail!("--n must be between 8 and 100000, not {}", args.n);
    }
    if args.guidance.is_empty() || args.steps.is_empty() || args.intervals.is_empty() {
        bail!("--guidance, --intervals and --steps each need at least one value");
    }
    if let Some(w) = args
        .guidance
        .iter()
        .find(|w| !(w.is_finite() && (0.0..=20.0).contains(*w)))
    {
        bail!("--guidance values must be between 0 and 20, not {w}");
    }
    if let Some(s) = args
        .steps
        .iter()
        .chain([&args.reference_steps])
        .find(|&&s| !(1..=1000).contains(&s))
    {
        bail!("step counts must be between 1 and 1000, not {s}");
    }
    if let Some(e) = args
        .compare_etas
        .iter()
        .chain([&args.eta])
        .find(|e| !(0.0..=1.0).contains(*e))
    {
        bail!("eta must be between 0 and 1, not {e}");
    }
    if args.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    Ok(())
}

impl Judging {
    fn score(&self, pixels: &[f32], asked: &[u8]) -> Scores {
        let verdict = self.judge.judge(pixels, &self.device);
        let features = Features::new(&verdict.features, judge::FEATURES);
        let (precision, recall) = quality::precision_recall(&self.reference, &features, quality::NEIGHBOURS);
        let n = asked.len().max(1) as f64;
        Scores {
            right: agreement(&verdict.predicted, asked.iter().copied()),
            sure: verdict.confidence.iter().filter(|&&c| c > 0.9).count() as f64 / n,
            distance: quality::frechet_distance(&features, &self.reference),
            precision,
            recall,
            speckled: pixels
                .chunks(PIXELS)
                .filter(|x| quality::speckled(x, SIDE))
                .count() as f64
                / n,
        }
    }

    /// Samples and judges every setting. The work is cut into batches of [`BATCH`] digits that
    /// `threads` threads take in turn, the longest settings' first, so that many cores finish
    /// together (a setting of 100 steps alone is most of the work).
    fn measure(
        &self,
        grid: &[Setting],
        n: usize,
        seed: u64,
        threads: usize,
    ) -> anyhow::Result<Vec<Measured>> {
        let schedule = self.info.schedule().map_err(|e| anyhow!(e))?;
        let work: usize = grid.iter().map(|s| s.steps.min(schedule.steps()) * n).sum();
        let bar = ProgressBar::new(work as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {percent} % of {len} digit steps, {elapsed}, about {eta} left",
            )
            .expect("valid template"),
        );
        let batches = n.div_ceil(BATCH);
        let cost = |s: &Setting| s.steps * if s.guidance > 0.0 { 2 } else { 1 };
        let mut order: Vec<(usize, usize)> = (0..grid.len())
            .flat_map(|i| (0..batches).map(move |b| (i, b)))
            .collect();
        order.sort_by_key(|&(i, b)| (std::cmp::Reverse(cost(&grid[i])), i, b));
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<(Key, anyhow::Result<Batch>)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads.min(order.len()) {
                scope.spawn(|| {
                    let model = match load_unet(&self.info, self.weights.clone(), &self.device) {
                        Ok(m) => m,
                        Err(e) => {
                            done.lock()
                                .expect("no panics")
                                .push(((usize::MAX, 0), Err(anyhow!(e))));
                            return;
                        }
                    };
                    while let Some(&(i, b)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let labels: Vec<Option<u8>> = (b * BATCH..n.min((b + 1) * BATCH))
                            .map(|k| Some((k % 10) as u8))
                            .collect();
                        let started = Instant::now();
                        let result =
                            sample(&grid[i], &labels, seed, b, &model, &schedule, &self.device, &bar).map(
                                |(images, evaluations)| Batch {
                                    images,
                                    evaluations,
                                    seconds: started.elapsed().as_secs_f64(),
                                },
                            );
                        done.lock().expect("no panics").push(((i, b), result));
                    }
                });
            }
        });
        bar.finish_and_clear();
        let mut done = done.into_inner().expect("no panics");
        done.sort_by_key(|(key, _)| *key);
        if let Some(((usize::MAX, _), _)) = done.last() {
            done.pop().expect("just seen").1?;
        }
        let asked: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let mut measured = Vec::new();
        for (i, setting) in grid.iter().enumerate() {
            let (mut pixels, mut evaluations, mut seconds) = (Vec::with_capacity(n * PIXELS), 0, 0.0);
            for (_, result) in done.drain(..batches) {
                let batch = result?;
                pixels.extend(batch.images.iter().flatten());
                evaluations += batch.evaluations;
                seconds += batch.seconds;
            }
            let m = Measured {
                setting: setting.clone(),
                scores: self.score(&pixels, &asked),
                evaluations: evaluations / n,
                seconds_per_digit: seconds / n as f64,
            };
            debug_assert_eq!(pixels.len(), n * PIXELS, "setting {i}");
            println!("{}: {}", name(&m.setting), describe(&m.scores));
            measured.push(m);
        }
        Ok(measured)
    }
}

/// Which setting, and which batch of it.
type Key = (usize, usize);

/// One batch of a setting's digits, and what it cost.
struct Batch {
    images: Vec<Image>,
    /// Network evaluations, summed over the batch's digits.
    evaluations: usize,
    seconds: f64,
}

/// The digits of `labels` at `setting`, as batch number `batch` of a setting (which fixes its
/// noise), and the network evaluations they took.
#[allow(clippy::too_many_arguments)]
fn sample(
    setting: &Setting,
    labels: &[Option<u8>],
    seed: u64,
    batch: usize,
    model: &diffusion_playground::model::unet::UNet,
    schedule: &diffusion_playground::math::NoiseSchedule,
    device: &Device,
    bar: &ProgressBar,
) -> anyhow::Result<(Vec<Image>, usize)> {
    let mut evaluations = 0;
    let request = DigitRequest {
        labels: labels.to_vec(),
        guidance: setting.guidance,
        guided: setting.interval.map_or(0..=0, |[lo, hi]| lo..=hi),
        sampler: Sampler::Ddim { eta: setting.eta },
        steps: setting.steps,
        seed: seed.wrapping_mul(1_000_003).wrapping_add(batch as u64),
    };
    let mut chain = DigitChain::new(schedule, request);
    while let Some(inputs) = chain.inputs() {
        evaluations += inputs.labels.len();
        let out = diffusion_playground::model::digits::forward_lazy(model, inputs, device)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| anyhow!("{e:?}"))?;
        chain.advance(schedule, &out);
        bar.inc(labels.len() as u64);
    }
    Ok((
        chain
            .images
            .iter()
            .map(|x| x.map(|v| f32::from(diffusion_playground::data::mnist::to_byte(v)) / 127.5 - 1.0))
            .collect(),
        evaluations,
    ))
}

fn agreement(predicted: &[u8], asked: impl Iterator<Item = u8>) -> f64 {
    let (right, n) = predicted
        .iter()
        .zip(asked)
        .fold((0, 0), |(r, n), (p, a)| (r + usize::from(*p == a), n + 1));
    right as f64 / f64::from(n.max(1) as u32)
}

fn name(s: &Setting) -> String {
    let guidance = match s.interval {
        Some([lo, hi]) if s.guidance != 0.0 => format!("w = {} on t in {lo}..{hi}", s.guidance),
        _ => format!("w = {}", s.guidance),
    };
    format!("{guidance}, DDIM {} steps, eta {}", s.steps, s.eta)
}

fn describe(s: &Scores) -> String {
    format!(
        "right {:.1} %, distance {:.2}, precision {:.1} %, recall {:.1} %, speckled {:.1} %",
        100.0 * s.right,
        s.distance,
        100.0 * s.precision,
        100.0 * s.recall,
        100.0 * s.speckled
    )
}
