//! The messages between the page and its worker: every request and reply survives the trip
//! through JSON unchanged, and junk is refused with a reason rather than a panic.

use diffusion_playground::protocol::{Envelope, Event, Failure, Race, Reply, Request, flatten, points};
use diffusion_playground::sampling::Sampler;

fn round_trip<T>(value: &T) -> T
where
    T: serde::Serialize + for<'de> serde::Deserialize<'de>,
{
    Envelope::new(7, value, vec![1.0, 2.0], vec![3])
        .read()
        .expect("reads back")
}

#[test]
fn every_request_reads_back_as_sent() {
    let requests = [
        Request::Start {
            cpu_reason: None,
            race: true,
        },
        Request::Start {
            cpu_reason: Some("no adapter".into()),
            race: false,
        },
        Request::NewRun {
            query: "T=200&lr=0.01".into(),
        },
        Request::Train {
            ms: 40.0,
            max_steps: 3,
        },
        Request::Freeze { model: 4 },
        Request::Release { model: 4 },
        Request::Busy { ms: 500.0 },
        Request::Predict { model: 4, t: 17 },
        Request::Sample {
            model: 4,
            sampler: Sampler::Ddim { eta: 0.5 },
            steps: 20,
            n: 500,
            seed: 9,
        },
        Request::Export,
        Request::Import,
        Request::AdoptImport,
        Request::Noise {
            query: String::new(),
            t: 3,
        },
        Request::LoadUnet { config: "{}".into() },
        Request::Denoise {
            timesteps: vec![1, 2],
            labels: vec![3, 10],
        },
        Request::UseCpu { why: "lost".into() },
        Request::Memory,
        Request::Benchmark {
            steps: 1,
            hidden: 2,
            batch: 3,
            relu: true,
        },
        Request::Matmul {
            side: 256,
            repeats: 4,
        },
    ];
    for request in requests {
        assert_eq!(round_trip(&request), request);
    }
}

#[test]
fn every_reply_and_event_reads_back_as_sent() {
    let replies = [
        Reply::Started {
            gpu: false,
            reason: Some("no adapter".into()),
            race: None,
        },
        Reply::Started {
            gpu: true,
            reason: None,
            race: Some(Race {
                work: "a training step".into(),
                cpu_ms: 4.0,
                gpu_ms: Some(0.5),
            }),
        },
        Reply::Loaded {
            gpu: false,
            race: Some(Race {
                work: "a pass".into(),
                cpu_ms: 100.0,
                gpu_ms: None,
            }),
        },
        Reply::Run {
            total_steps: 10,
            steps: 2,
            device: "the CPU".into(),
        },
        Reply::Imported {
            settings: vec![("T".into(), "200".into())],
        },
        Reply::Trained {
            steps: 5,
            failure: Some(Failure {
                message: "diverged".into(),
                diverged: true,
            }),
            ms: 40.5,
        },
        Reply::Outputs { width: 4 },
        Reply::File,
        Reply::Done,
        Reply::Timed { ms: 1.5 },
        Reply::Memory {
            bytes: 1 << 30,
            live: 3 << 20,
        },
        Reply::Error { message: "no".into() },
    ];
    for reply in replies {
        assert_eq!(round_trip(&reply), reply);
    }
    for event in [Event::Ready, Event::GpuLost { why: "reset".into() }] {
        assert_eq!(round_trip(&event), event);
    }
}

#[test]
fn the_gpu_loss_event_of_the_worker_loader_is_understood() {
    // www/worker-boot.js writes this header by hand.
    let envelope = Envelope {
        id: 0,
        header: r#"{"type":"gpu-lost","why":"destroyed"}"#.into(),
        ..Default::default()
    };
    assert_eq!(
        envelope.read::<Event>(),
        Ok(Event::GpuLost {
            why: "destroyed".into()
        })
    );
}

#[test]
fn junk_is_refused_with_a_reason() {
    for header in [
        "",
        "{",
        "null",
        r#"{"type":"format-disk"}"#,
        r#"{"type":"train","ms":"soon"}"#,
    ] {
        let envelope = Envelope {
            header: header.into(),
            ..Default::default()
        };
        let error = envelope.read::<Request>().expect_err(header);
        assert!(error.contains("cannot read"), "{error}");
    }
}

#[test]
fn points_travel_as_pairs() {
    let xs = [[1.0, -2.0], [0.5, 3.0]];
    assert_eq!(flatten(&xs), vec![1.0, -2.0, 0.5, 3.0]);
    assert_eq!(points(&flatten(&xs)), xs);
    assert_eq!(
        points(&[1.0, 2.0, 3.0]),
        vec![[1.0, 2.0]],
        "a trailing half point is dropped"
    );
}

#[test]
fn requests_past_the_limits_are_refused_before_anything_is_allocated() {
    use diffusion_playground::protocol::limits;
    let ok = |r: Request, floats: usize, bytes: usize| assert_eq!(r.check(floats, bytes), Ok(()), "{r:?}");
    let refused = |r: Request, floats: usize, bytes: usize, why: &str| {
        let e = r
            .check(floats, bytes)
            .expect_err(&format!("{r:?} with {floats} floats"));
        assert!(e.contains(why), "{r:?}: {e}");
    };
    ok(Request::Predict { model: 1, t: 500 }, 2 * 226, 0);
    refused(Request::Predict { model: 1, t: 0 }, 2, 0, "t = 0");
    refused(Request::Predict { model: 1, t: 5000 }, 2, 0, "not in 1..=2000");
    refused(Request::Predict { model: 1, t: 3 }, 3, 0, "pairs");
    refused(
        Request::Predict { model: 1, t: 3 },
        2 * limits::POINTS + 2,
        0,
        "at most 100000",
    );
    ok(
        Request::Sample {
            model: 1,
            sampler: Sampler::Ddpm,
            steps: 1000,
            n: 1000,
            seed: 0,
        },
        0,
        0,
    );
    refused(
        Request::Sample {
            model: 1,
            sampler: Sampler::Ddpm,
            steps: 1000,
            n: 10_000_000,
            seed: 0,
        },
        0,
        0,
        "particles",
    );
    refused(
        Request::Train {
            ms: f64::NAN,
            max_steps: 1,
        },
        0,
        0,
        "slice",
    );
    refused(
        Request::Train {
            ms: 1e9,
            max_steps: 1,
        },
        0,
        0,
        "slice",
    );
    ok(
        Request::Train {
            ms: 40.0,
            max_steps: 10,
        },
        0,
        0,
    );
    // The page's "no cap on steps": the slice's time bounds it.
    ok(
        Request::Train {
            ms: 40.0,
            max_steps: usize::MAX,
        },
        0,
        0,
    );
    refused(
        Request::NewRun {
            query: "x".repeat(100_000),
        },
        0,
        0,
        "the link",
    );
    refused(Request::Import, 0, 17 << 20, "the file's size");
    ok(
        Request::Denoise {
            timesteps: vec![999; 32],
            labels: vec![10; 32],
        },
        32 * 784,
        0,
    );
    refused(
        Request::Denoise {
            timesteps: vec![1; 2],
            labels: vec![1],
        },
        784,
        0,
        "2 timesteps for 1 images",
    );
    refused(
        Request::Denoise {
            timesteps: vec![1; 300],
            labels: vec![1; 300],
        },
        300 * 784,
        0,
        "images",
    );
    refused(
        Request::Denoise {
            timesteps: vec![1001],
            labels: vec![1],
        },
        784,
        0,
        "past the U-Net's T",
    );
    refused(
        Request::Denoise {
            timesteps: vec![1],
            labels: vec![11],
        },
        784,
        0,
        "no digit 11",
    );
    refused(
        Request::Denoise {
            timesteps: vec![1],
            labels: vec![1],
        },
        783,
        0,
        "pixels",
    );
    refused(
        Request::Noise {
            query: String::new(),
            t: 9999,
        },
        4,
        0,
        "t is 9999",
    );
    refused(
        Request::Noise {
            query: String::new(),
            t: 9,
        },
        6,
        0,
        "pair up",
    );
    refused(
        Request::Benchmark {
            steps: 1,
            hidden: 100_000,
            batch: 1,
            relu: true,
        },
        0,
        0,
        "hidden width",
    );
    refused(
        Request::Matmul {
            side: 100_000,
            repeats: 1,
        },
        0,
        0,
        "side",
    );
    refused(
        Request::Matmul {
            side: 64,
            repeats: 1_000_000,
        },
        0,
        0,
        "products",
    );
    ok(
        Request::Matmul {
            side: 512,
            repeats: 10,
        },
        0,
        0,
    );
    ok(Request::Memory, 0, 0);
    // The backend check noises the data at the page's t, which may be 0 (the data itself).
    ok(
        Request::Noise {
            query: String::new(),
            t: 0,
        },
        4,
        0,
    );
}

#[test]
fn a_race_goes_to_the_faster_backend_and_says_by_how_much() {
    let race = |cpu_ms, gpu_ms| Race {
        work: "a pass of the U-Net".into(),
        cpu_ms,
        gpu_ms,
    };
    // A fast GPU.
    let fast = race(140.0, Some(12.0));
    assert!(fast.gpu_wins());
    assert_eq!(
        fast.describe(),
        "WebGPU, 12 ms for a pass of the U-Net against 140 ms on the CPU (11.7x)"
    );
    // A slow one (a software renderer, or a small network that is all launch overhead).
    let slow = race(1.5, Some(9.25));
    assert!(!slow.gpu_wins());
    assert_eq!(
        slow.describe(),
        "CPU, 1.50 ms for a pass of the U-Net against 9.25 ms on WebGPU (6.2x)"
    );
    // A tie keeps the CPU; a run that failed on WebGPU never wins there.
    assert_eq!(race(5.0, Some(5.0)).winner(), "CPU");
    let failed = race(5.0, None);
    assert_eq!(failed.winner(), "CPU");
    assert_eq!(
        failed.describe(),
        "CPU, 5.00 ms for a pass of the U-Net; it failed on WebGPU"
    );
}
