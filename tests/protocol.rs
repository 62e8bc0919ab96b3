//! The messages between the page and its worker: every request and reply survives the trip
//! through JSON unchanged, and junk is refused with a reason rather than a panic.

use diffusion_playground::protocol::{Envelope, Event, Failure, Reply, Request, flatten, points};
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
        Request::Start { cpu_reason: None },
        Request::Start {
            cpu_reason: Some("no adapter".into()),
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
        Request::Benchmark {
            steps: 1,
            hidden: 2,
            batch: 3,
            relu: true,
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
        },
        Reply::Outputs { width: 4 },
        Reply::File,
        Reply::Done,
        Reply::Timed { ms: 1.5 },
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
