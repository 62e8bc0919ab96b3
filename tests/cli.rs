//! The `diffusion` command line as a user (or an outside check) runs it.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn diffusion(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_diffusion"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json(args: &[&str]) -> Value {
    let out = diffusion(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn array(v: &Value, key: &str) -> Vec<f64> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("missing array {key}"))
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// A failing call prints one line, no panic, and exits non-zero.
fn assert_clean_failure(args: &[&str], needle: &str) {
    let out = diffusion(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} should fail");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "{args:?}: one line expected, got {stderr:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {stderr:?} does not mention {needle:?}"
    );
}

#[test]
fn linear_schedule_matches_the_known_ddpm_values() {
    let v = json(&[
        "schedule",
        "--kind",
        "linear",
        "--steps",
        "1000",
        "--beta-start",
        "0.0001",
        "--beta-end",
        "0.02",
    ]);
    let betas = array(&v, "betas");
    let ab = array(&v, "alphas_cumprod");
    assert_eq!(betas.len(), 1000);
    assert_eq!(betas[0], 1e-4);
    assert!((betas[999] - 0.02).abs() < 1e-12);
    // alpha_bar_T of DDPM's schedule, as every implementation prints it.
    assert!((ab[999] - 4.0358e-5).abs() < 1e-8, "{}", ab[999]);
    let var = array(&v, "posterior_variance");
    let c1 = array(&v, "posterior_mean_coef1");
    let c2 = array(&v, "posterior_mean_coef2");
    assert_eq!(var[0], 0.0);
    // At t = 1 the posterior mean is x_0 itself: coef1 = 1, coef2 = 0.
    assert!((c1[0] - 1.0).abs() < 1e-12 && c2[0].abs() < 1e-12);
    for i in 1..1000 {
        let expected = betas[i] * (1.0 - ab[i - 1]) / (1.0 - ab[i]);
        assert!((var[i] - expected).abs() <= 1e-12 * expected);
        assert!((c1[i] - betas[i] * ab[i - 1].sqrt() / (1.0 - ab[i])).abs() < 1e-12);
        assert!((c2[i] - (1.0 - ab[i - 1]) * (1.0 - betas[i]).sqrt() / (1.0 - ab[i])).abs() < 1e-12);
    }
}

#[test]
fn cosine_schedule_is_improved_ddpms() {
    let v = json(&["schedule", "--kind", "cosine", "--steps", "1000"]);
    let betas = array(&v, "betas");
    assert!((betas[0] - 4.1284e-5).abs() < 1e-8, "{}", betas[0]);
    assert_eq!(betas[999], 0.999);
}

#[test]
fn sigmoid_schedule_defaults_to_seed_004s_swiss_roll_values() {
    let v = json(&["schedule", "--kind", "sigmoid", "--steps", "40"]);
    let betas = array(&v, "betas");
    assert_eq!(betas.len(), 40);
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    for (i, b) in betas.iter().enumerate() {
        let x = -18.0 + 28.0 * i as f64 / 39.0;
        assert!((b - (sigmoid(x) * (0.3 - 1e-5) + 1e-5)).abs() < 1e-12);
    }
}

#[test]
fn bad_schedule_arguments_fail_with_one_line() {
    assert_clean_failure(&["schedule", "--steps", "0"], "at least 1");
    assert_clean_failure(&["schedule", "--steps", "10", "--beta-start", "0"], "beta_start");
    assert_clean_failure(&["schedule", "--steps", "10", "--beta-end", "1.5"], "beta_end");
    assert_clean_failure(
        &["schedule", "--steps", "10", "--beta-start", "-0.1"],
        "beta_start",
    );
    assert_clean_failure(
        &[
            "schedule",
            "--steps",
            "10",
            "--beta-start",
            "0.1",
            "--beta-end",
            "0.01",
        ],
        "larger than",
    );
    assert_clean_failure(&["schedule", "--kind", "quadratic", "--steps", "10"], "quadratic");
    assert_clean_failure(&["schedule", "--steps", "ten"], "ten");
    assert_clean_failure(&["schedule"], "--steps");
    assert_clean_failure(&["unknown"], "unknown");
}

#[test]
fn swissroll_data_writes_a_reproducible_csv() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    for name in ["a.csv", "b.csv"] {
        let out = diffusion(&[
            "swissroll",
            "data",
            "--n",
            "500",
            "--seed",
            "3",
            "--out",
            &path(name),
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let a = std::fs::read_to_string(path("a.csv")).unwrap();
    assert_eq!(a, std::fs::read_to_string(path("b.csv")).unwrap());
    let mut lines = a.lines();
    assert_eq!(lines.next(), Some("x,y"));
    let rows: Vec<(f64, f64)> = lines
        .map(|l| {
            let (x, y) = l.split_once(',').unwrap();
            (x.parse().unwrap(), y.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 500);
    // Radii of the roll run from 1.5 pi / 10 to 4.5 pi / 10.
    for (x, y) in rows {
        let r = (x * x + y * y).sqrt();
        assert!((0.47..=1.42).contains(&r), "{r}");
    }
}

#[test]
fn swissroll_data_reports_bad_paths_and_counts() {
    assert_clean_failure(
        &[
            "swissroll",
            "data",
            "--n",
            "10",
            "--out",
            "/nonexistent-dir/x.csv",
        ],
        "cannot write /nonexistent-dir/x.csv",
    );
    assert_clean_failure(&["swissroll", "data", "--n", "0", "--out", "x.csv"], "at least 1");
    assert!(!Path::new("x.csv").exists());
}

#[test]
fn swissroll_train_then_sample_writes_points() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let model = model.to_string_lossy();
    let out = diffusion(&[
        "swissroll",
        "train",
        "--out",
        &model,
        "--steps",
        "50",
        "--hidden",
        "32",
        "--seed",
        "4",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("final loss") && stdout.contains(" s "),
        "{stdout}"
    );
    assert!(Path::new(&*model).join("model.bpk").exists());
    assert!(Path::new(&*model).join("config.json").exists());
    let losses = std::fs::read_to_string(Path::new(&*model).join("losses.csv")).unwrap();
    assert_eq!(losses.lines().next(), Some("step,loss"));
    assert_eq!(losses.lines().count(), 51);

    let csv = dir.path().join("s.csv");
    let csv = csv.to_string_lossy();
    for sampler in [
        ["--sampler", "ddpm", "--steps", "20"],
        ["--sampler", "ddim", "--steps", "10"],
    ] {
        let mut args = vec![
            "swissroll",
            "sample",
            "--model",
            &model,
            "--n",
            "50",
            "--out",
            &csv,
            "--seed",
            "1",
        ];
        args.extend(sampler);
        let out = diffusion(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&*csv).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("x,y"));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 50);
        for row in rows {
            let (x, y) = row.split_once(',').unwrap();
            assert!(x.parse::<f32>().unwrap().is_finite() && y.parse::<f32>().unwrap().is_finite());
        }
    }
    assert_clean_failure(
        &[
            "swissroll",
            "sample",
            "--model",
            &model,
            "--n",
            "5",
            "--out",
            &csv,
            "--sampler",
            "euler",
        ],
        "euler",
    );
    assert_clean_failure(
        &[
            "swissroll",
            "sample",
            "--model",
            "/nonexistent",
            "--n",
            "5",
            "--out",
            &csv,
        ],
        "/nonexistent",
    );
    assert_clean_failure(
        &["swissroll", "train", "--out", &model, "--parameterization", "v"],
        "parameterization",
    );
    assert_clean_failure(
        &["swissroll", "train", "--out", &model, "--batch-size", "0"],
        "batch size",
    );
}

/// A tiny sweep on the 100 sample digits: the record is complete, reads back, and its choice
/// follows the rule.
#[test]
fn mnist_sweep_writes_a_record_the_page_reads() {
    use diffusion_playground::sampling::sweep::{RIGHT, Sweep};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep.json");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = diffusion(&[
        "mnist",
        "sweep",
        "--out",
        &out.to_string_lossy(),
        "--n",
        "20",
        "--guidance",
        "0,1",
        "--intervals",
        "350:650",
        "--guidance-steps",
        "2",
        "--reference-steps",
        "3",
        "--steps",
        "2,3",
        "--eta",
        "0.5",
        "--compare-etas",
        "0",
        "--compare-steps",
        "3",
        "--judge",
        &root.join("scripts/judge_mnist.safetensors").to_string_lossy(),
        "--data",
        &root.join("assets/mnist-sample.bin").to_string_lossy(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("chosen: w = "), "{stdout}");
    let sweep = Sweep::parse(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(sweep.samples, 20);
    // w = 0 once, w = 1 on the one interval.
    assert_eq!(sweep.guidance.len(), 2);
    assert_eq!(sweep.guidance[1].setting.interval, Some([350, 650]));
    // Two step counts at eta 0.5 (2 from the guidance grid, 3 the reference) and eta 0 at 3.
    assert_eq!(sweep.steps.len(), 3);
    assert_eq!(sweep.steps_curve(0.5).len(), 2);
    assert_eq!(sweep.steps_curve(0.0).len(), 1);
    for m in sweep.guidance.iter().chain(&sweep.steps) {
        let s = &m.scores;
        for v in [s.right, s.sure, s.precision, s.recall, s.speckled] {
            assert!((0.0..=1.0).contains(&v), "{m:?}");
        }
        assert!(s.distance.is_finite() && s.distance >= 0.0, "{m:?}");
        // Guided steps take two network evaluations, the others one.
        let steps = m.setting.steps;
        assert!((steps..=2 * steps).contains(&m.evaluations), "{m:?}");
    }
    let chosen = &sweep.chosen;
    assert_eq!(chosen.eta, 0.5);
    let picked = sweep
        .guidance
        .iter()
        .find(|m| m.setting.guidance == chosen.guidance)
        .unwrap();
    let others_right = sweep.guidance.iter().any(|m| m.scores.right >= RIGHT);
    assert!(!others_right || picked.scores.right >= RIGHT);
    assert!((0.0..=1.0).contains(&sweep.real.recall) && sweep.judge_right > 0.5);
}

#[test]
fn mnist_sample_writes_grayscale_pngs_and_refuses_bad_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("digits");
    let out_str = out.to_string_lossy();
    let run = diffusion(&[
        "mnist", "sample", "--n", "3", "--out", &out_str, "--steps", "2", "--label", "7",
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("sampled 3 digits"));
    for i in 0..3 {
        let file = std::fs::File::open(out.join(format!("{i:05}.png"))).unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(file));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (28, 28));
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
    }
    assert!(!out.join("00003.png").exists());
    assert_clean_failure(
        &["mnist", "sample", "--n", "2", "--out", &out_str, "--label", "12"],
        "12",
    );
    assert_clean_failure(&["mnist", "sample", "--n", "0", "--out", &out_str], "--n");
    assert_clean_failure(
        &[
            "mnist",
            "sample",
            "--n",
            "2",
            "--out",
            &out_str,
            "--sampler",
            "euler",
        ],
        "euler",
    );
    assert_clean_failure(
        &[
            "mnist",
            "sample",
            "--n",
            "2",
            "--out",
            &out_str,
            "--guidance-interval",
            "800:300",
        ],
        "empty",
    );
    // Damaged weights given with --weights: a sentence, not a panic.
    let weights = dir.path().join("weights");
    std::fs::create_dir_all(&weights).unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/mnist");
    std::fs::copy(shipped.join("unet.json"), weights.join("unet.json")).unwrap();
    let bytes = std::fs::read(shipped.join("unet.safetensors")).unwrap();
    std::fs::write(weights.join("unet.safetensors"), &bytes[..bytes.len() / 3]).unwrap();
    assert_clean_failure(
        &[
            "mnist",
            "sample",
            "--n",
            "1",
            "--out",
            &out_str,
            "--weights",
            &weights.to_string_lossy(),
        ],
        "truncated",
    );
}

/// Width and height from a PNG's header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[1..4], b"PNG", "a PNG");
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[test]
fn figure_draws_the_pages_charts_as_svg_png_and_gif() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let run = |args: &[&str]| {
        let out = diffusion(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };

    // SVG: vectors and the chart's own text, at the page's size.
    run(&[
        "figure",
        "--panel",
        "schedule",
        "--query",
        "T=200&t=50",
        "--out",
        path("s.svg").to_str().unwrap(),
    ]);
    let svg = std::fs::read_to_string(path("s.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(
        svg.contains("SNR") && svg.contains("<polyline"),
        "the schedule's lines and labels"
    );
    assert!(svg.contains(r#"width="1000""#), "the page's width by default");

    // PNG at a scale, and two different t give two different pictures.
    for t in ["50", "900"] {
        let out = path(&format!("f{t}.png"));
        run(&[
            "figure",
            "--panel",
            "forward",
            "--query",
            &format!("t={t}&seed=3"),
            "--out",
            out.to_str().unwrap(),
            "--width",
            "300",
            "--height",
            "300",
            "--scale",
            "2",
        ]);
        assert_eq!(png_size(&std::fs::read(&out).unwrap()), (600, 600));
    }
    assert_ne!(
        std::fs::read(path("f50.png")).unwrap(),
        std::fs::read(path("f900.png")).unwrap()
    );
    for panel in ["posterior", "score"] {
        let out = path(&format!("{panel}.svg"));
        run(&[
            "figure",
            "--panel",
            panel,
            "--query",
            "t=100",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            std::fs::read_to_string(&out).unwrap().contains("<circle"),
            "{panel} draws its points"
        );
    }

    // An animated GIF of the forward sweep: a GIF89a with one frame per value.
    let gif = path("sweep.gif");
    let out = run(&[
        "figure",
        "--panel",
        "forward",
        "--animate",
        "t=0:1000:250",
        "--out",
        gif.to_str().unwrap(),
        "--width",
        "200",
        "--height",
        "200",
    ]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("5 frames"));
    let bytes = std::fs::read(&gif).unwrap();
    assert_eq!(&bytes[..6], b"GIF89a");
    let frames = bytes.windows(2).filter(|w| w == &[0x00, 0x2c]).count();
    assert!(frames >= 5, "{frames} image descriptors");

    // The page's clamping, said on stderr; the figure is still drawn.
    let out = run(&[
        "figure",
        "--panel",
        "schedule",
        "--query",
        "t=99999&T=50",
        "--out",
        path("c.svg").to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("t: 99999 is above"));
}

#[test]
fn figure_refuses_bad_arguments_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.svg");
    let out = out.to_str().unwrap();
    assert_clean_failure(
        &["figure", "--panel", "nope", "--out", out],
        "no chart panel named 'nope'",
    );
    assert_clean_failure(
        &["figure", "--panel", "forward", "--out", "x.bmp"],
        ".svg, .png or .gif",
    );
    assert_clean_failure(
        &[
            "figure",
            "--panel",
            "forward",
            "--out",
            out,
            "--animate",
            "t=0:10",
        ],
        "--animate writes a GIF",
    );
    let gif = dir.path().join("x.gif");
    assert_clean_failure(
        &[
            "figure",
            "--panel",
            "forward",
            "--out",
            gif.to_str().unwrap(),
            "--animate",
            "t=a:b:c",
        ],
        "KEY=FROM:TO:STEP",
    );
    assert_clean_failure(
        &[
            "figure",
            "--panel",
            "forward",
            "--out",
            gif.to_str().unwrap(),
            "--animate",
            "t=0:100000:1",
        ],
        "at most 500",
    );
    assert_clean_failure(
        &[
            "figure",
            "--panel",
            "forward",
            "--out",
            gif.to_str().unwrap(),
            "--animate",
            "bogus=0:10:5",
        ],
        "unknown setting",
    );
    assert_clean_failure(
        &["figure", "--panel", "forward", "--out", out, "--scale", "0"],
        "--scale",
    );
    assert_clean_failure(
        &["figure", "--panel", "forward", "--out", out, "--width", "100000"],
        "outside 16 to 8000",
    );
    assert_clean_failure(
        &["figure", "--panel", "forward", "--out", "/nonexistent/dir/x.svg"],
        "the directory /nonexistent/dir cannot be written",
    );
    assert!(!dir.path().join("x.svg").exists(), "nothing half-written");
}

#[test]
fn swissroll_elbo_prints_the_bound_term_by_term() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let model = model.to_string_lossy();
    // The page's defaults: 1,500 steps, under a second natively.
    let out = diffusion(&["swissroll", "train", "--out", &model]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bound = json(&[
        "swissroll",
        "elbo",
        "--model",
        &model,
        "--n",
        "400",
        "--seed",
        "2",
    ]);
    assert_eq!(bound["units"], "nats/dim");
    let terms: Vec<f64> = bound["terms"]
        .as_array()
        .expect("terms")
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(terms.len(), 1000, "L_0, L_1, ..., L_999 for T = 1000");
    let (prior, total) = (bound["prior"].as_f64().unwrap(), bound["total"].as_f64().unwrap());
    assert!((total - prior - terms.iter().sum::<f64>()).abs() < 1e-9);
    assert!(
        terms[1..].iter().all(|&kl| kl >= 0.0),
        "KL terms are never negative"
    );

    // The prior term's closed form, on the points `swissroll data` writes for the same seed.
    let csv = dir.path().join("d.csv");
    let csv = csv.to_string_lossy();
    assert!(
        diffusion(&["swissroll", "data", "--n", "400", "--seed", "2", "--out", &csv])
            .status
            .success()
    );
    let points: Vec<[f64; 2]> = std::fs::read_to_string(&*csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let (x, y) = l.split_once(',').unwrap();
            [x.parse().unwrap(), y.parse().unwrap()]
        })
        .collect();
    let a = diffusion_playground::math::NoiseSchedule::ddpm().alpha_bar(1000);
    let closed: f64 = points
        .iter()
        .flatten()
        .map(|x| 0.5 * ((1.0 - a) + a * x * x - 1.0 - (1.0 - a).ln()))
        .sum::<f64>()
        / 800.0;
    assert!((prior - closed).abs() < 1e-9, "{prior} vs {closed}");

    // A bound on the negative log-likelihood that beats a Gaussian fitted to the same points:
    // the roll is thin, and the trained model knows it.
    let n = points.len() as f64;
    let mean = [0, 1].map(|d| points.iter().map(|p| p[d]).sum::<f64>() / n);
    let cov = |i: usize, j: usize| {
        points
            .iter()
            .map(|p| (p[i] - mean[i]) * (p[j] - mean[j]))
            .sum::<f64>()
            / n
    };
    let det = cov(0, 0) * cov(1, 1) - cov(0, 1).powi(2);
    let gaussian = 0.5 * (std::f64::consts::TAU * std::f64::consts::E).ln() + 0.25 * det.ln();
    assert!(
        total < gaussian,
        "bound {total} nats/dim, Gaussian fit {gaussian}"
    );
    assert!(
        total > gaussian - 3.0,
        "a bound of {total} nats/dim is too good to be true"
    );

    assert_clean_failure(
        &["swissroll", "elbo", "--model", &model, "--n", "0"],
        "at least 1",
    );
    assert_clean_failure(
        &["swissroll", "elbo", "--model", "/nonexistent/model"],
        "cannot read",
    );
}

/// Every subcommand, every option given a value it cannot use: each call ends with one line
/// that names the problem and a non-zero status, never a panic or an abort (issue 11).
#[test]
fn every_bad_argument_of_every_subcommand_ends_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // Paths as `&'static str`, so the table below can hold them (a test's few bytes).
    let d = |name: &str| -> &'static str {
        Box::leak(
            dir.path()
                .join(name)
                .to_string_lossy()
                .into_owned()
                .into_boxed_str(),
        )
    };
    let (csv, model, pngs, svg) = (d("a.csv"), d("model"), d("digits"), d("f.svg"));
    let missing = d("missing");
    assert!(
        diffusion(&["swissroll", "train", "--out", model, "--steps", "5"])
            .status
            .success()
    );
    let unwritable = "/proc/no-such-directory/out";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["schedule", "--steps", "100000000"], "at most 100000"),
        (vec!["schedule", "--steps", "10", "--beta-end", "nan"], "beta_end"),
        (
            vec!["schedule", "--steps", "10", "--kind", "cosine", "--bogus"],
            "--bogus",
        ),
        (vec!["swissroll", "data", "--n", "0", "--out", csv], "at least 1"),
        (
            vec!["swissroll", "data", "--n", "100000000000", "--out", csv],
            "at most 10000000",
        ),
        (vec!["swissroll", "data", "--n", "abc", "--out", csv], "abc"),
        (
            vec!["swissroll", "data", "--n", "10", "--seed", "x", "--out", csv],
            "'x'",
        ),
        (vec!["swissroll", "data", "--n", "10"], "--out"),
        (
            vec!["swissroll", "data", "--n", "10", "--out", unwritable],
            "cannot write",
        ),
        (
            vec!["swissroll", "train", "--out", d("m1"), "--steps", "0"],
            "at least 1",
        ),
        (
            vec!["swissroll", "train", "--out", d("m2"), "--steps", "1000000"],
            "at most 100000",
        ),
        (
            vec!["swissroll", "train", "--out", d("m3"), "--batch-size", "0"],
            "at least 1",
        ),
        (
            vec!["swissroll", "train", "--out", d("m4"), "--batch-size", "99999"],
            "at most 4096",
        ),
        (
            vec!["swissroll", "train", "--out", d("m5"), "--lr", "nan"],
            "learning rate",
        ),
        (
            vec!["swissroll", "train", "--out", d("m6"), "--lr", "0"],
            "learning rate",
        ),
        (
            vec!["swissroll", "train", "--out", d("m7"), "--hidden", "0"],
            "at least 2",
        ),
        (
            vec!["swissroll", "train", "--out", d("m8"), "--hidden", "100000"],
            "at most 512",
        ),
        (
            vec![
                "swissroll",
                "train",
                "--out",
                d("m9"),
                "--parameterization",
                "foo",
            ],
            "foo",
        ),
        (
            vec!["swissroll", "train", "--out", d("m10"), "--seed", "-"],
            "'-'",
        ),
        (
            vec!["swissroll", "train", "--out", unwritable, "--steps", "1"],
            "cannot",
        ),
        (
            vec![
                "swissroll",
                "sample",
                "--model",
                missing,
                "--n",
                "10",
                "--out",
                csv,
            ],
            "cannot read",
        ),
        (
            vec!["swissroll", "sample", "--model", model, "--n", "0", "--out", csv],
            "at least 1",
        ),
        (
            vec![
                "swissroll",
                "sample",
                "--model",
                model,
                "--n",
                "10",
                "--out",
                csv,
                "--sampler",
                "x",
            ],
            "'x'",
        ),
        (
            vec![
                "swissroll",
                "sample",
                "--model",
                model,
                "--n",
                "10",
                "--out",
                csv,
                "--eta",
                "2",
            ],
            "--eta",
        ),
        (
            vec![
                "swissroll",
                "sample",
                "--model",
                model,
                "--n",
                "10",
                "--out",
                csv,
                "--steps",
                "0",
            ],
            "at least 1",
        ),
        (
            vec![
                "swissroll",
                "sample",
                "--model",
                model,
                "--n",
                "10",
                "--out",
                unwritable,
            ],
            "cannot write",
        ),
        (
            vec![
                "swissroll",
                "sample",
                "--model",
                csv,
                "--n",
                "10",
                "--out",
                d("b.csv"),
            ],
            "cannot read",
        ),
        (vec!["swissroll", "elbo", "--model", missing], "cannot read"),
        (
            vec!["swissroll", "elbo", "--model", model, "--n", "0"],
            "at least 1",
        ),
        (
            vec!["swissroll", "elbo", "--model", model, "--n", "99999999"],
            "at most 100000",
        ),
        (vec!["swissroll", "elbo", "--model", model, "--seed", "q"], "'q'"),
        (vec!["mnist", "sample", "--n", "0", "--out", pngs], "at least 1"),
        (
            vec!["mnist", "sample", "--n", "100000000", "--out", pngs],
            "at most 100000",
        ),
        (
            vec!["mnist", "sample", "--n", "2", "--out", pngs, "--label", "11"],
            "11",
        ),
        (
            vec!["mnist", "sample", "--n", "2", "--out", pngs, "--guidance", "nan"],
            "--guidance",
        ),
        (
            vec![
                "mnist",
                "sample",
                "--n",
                "2",
                "--out",
                pngs,
                "--guidance-interval",
                "5",
            ],
            "LO:HI",
        ),
        (
            vec![
                "mnist",
                "sample",
                "--n",
                "2",
                "--out",
                pngs,
                "--guidance-interval",
                "700:300",
            ],
            "empty",
        ),
        (
            vec!["mnist", "sample", "--n", "2", "--out", pngs, "--sampler", "x"],
            "'x'",
        ),
        (
            vec!["mnist", "sample", "--n", "2", "--out", pngs, "--steps", "0"],
            "at least 1",
        ),
        (
            vec!["mnist", "sample", "--n", "2", "--out", pngs, "--eta", "3"],
            "--eta",
        ),
        (
            vec!["mnist", "sample", "--n", "2", "--out", pngs, "--seed", "z"],
            "'z'",
        ),
        (
            vec!["mnist", "sample", "--n", "2", "--out", pngs, "--weights", missing],
            "cannot read",
        ),
        (vec!["mnist", "sample", "--n", "2", "--out", unwritable], "cannot"),
        (vec!["figure", "--panel", "foo", "--out", svg], "foo"),
        (
            vec!["figure", "--panel", "schedule", "--out", d("f.txt")],
            ".svg, .png or .gif",
        ),
        (
            vec!["figure", "--panel", "schedule", "--out", svg, "--width", "0"],
            "16 to 8000",
        ),
        (
            vec![
                "figure", "--panel", "schedule", "--out", svg, "--height", "100000",
            ],
            "16 to 8000",
        ),
        (
            vec![
                "figure",
                "--panel",
                "schedule",
                "--out",
                d("f.png"),
                "--scale",
                "0",
            ],
            "--scale",
        ),
        (
            vec![
                "figure",
                "--panel",
                "schedule",
                "--out",
                d("f.gif"),
                "--animate",
                "t=0:10",
            ],
            "KEY=FROM:TO:STEP",
        ),
        (
            vec![
                "figure",
                "--panel",
                "schedule",
                "--out",
                d("g.gif"),
                "--animate",
                "t=0:100000000:1",
            ],
            "at most 500",
        ),
        (
            vec!["figure", "--panel", "schedule", "--out", svg, "--frame-ms", "x"],
            "'x'",
        ),
        (
            vec![
                "figure",
                "--panel",
                "schedule",
                "--out",
                "/proc/no-such-directory/f.svg",
            ],
            "cannot write",
        ),
        (vec!["figure", "--out", svg], "--panel"),
        (vec!["mnist", "train"], "train"),
        (vec!["mnist", "sweep", "--out", d("s.json"), "--n", "3"], "--n"),
        (
            vec!["mnist", "sweep", "--out", d("s.json"), "--guidance=-1"],
            "--guidance",
        ),
        (
            vec!["mnist", "sweep", "--out", d("s.json"), "--steps", "0"],
            "step counts",
        ),
        (
            vec!["mnist", "sweep", "--out", d("s.json"), "--compare-etas", "2"],
            "eta",
        ),
        (
            vec!["mnist", "sweep", "--out", d("s.json"), "--intervals", "9:1"],
            "empty",
        ),
        (
            vec!["mnist", "sweep", "--out", d("s.json"), "--threads", "0"],
            "--threads",
        ),
        (
            vec!["mnist", "sweep", "--out", d("s.json"), "--judge", missing],
            "judge_mnist.py --export",
        ),
        (
            vec![
                "mnist",
                "sweep",
                "--out",
                d("s.json"),
                "--judge",
                "scripts/judge_mnist.safetensors",
                "--data",
                missing,
            ],
            "mnist-data.mjs",
        ),
    ];
    for (args, needle) in &cases {
        let out = diffusion(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.contains(needle),
            "{args:?}: {stderr:?} does not mention {needle:?}"
        );
        // clap's usage errors add a usage line and a hint: the first line is the message.
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error:"), "{args:?}: {stderr:?}");
    }
    // Nothing half-written was left behind by the refused calls.
    for name in [
        "a.csv", "b.csv", "f.svg", "f.txt", "f.png", "f.gif", "g.gif", "s.json",
    ] {
        assert!(
            !dir.path().join(name).exists(),
            "{name} was written by a refused call"
        );
    }
}
