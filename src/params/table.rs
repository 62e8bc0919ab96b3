//! One table of every control on the page: its name in links and messages, the element that
//! shows it, the panels it belongs to, the values it accepts and where its value lives in
//! [`Params`]. The URL, the message API, hiding and locking, the embed builder and the page's
//! form wiring all read this table, so a new control is one new row.

use super::{Panel, Params, SamplerKind, TrainDevice};
use crate::data::DataSet;
use crate::math::ScheduleKind;

/// What a control accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Input {
    /// A whole number in `lo..=hi` (fractions are rounded).
    Whole {
        /// The smallest value.
        lo: f64,
        /// The largest value.
        hi: f64,
    },
    /// A real number in `lo..=hi`, written in links with `decimals` decimals (all that
    /// round-trip when `None`). `log`: the page's slider moves along `log10` of the value.
    Real {
        /// The smallest value.
        lo: f64,
        /// The largest value.
        hi: f64,
        /// Decimals kept in links, or `None` for the shortest exact form.
        decimals: Option<usize>,
        /// The slider is logarithmic.
        log: bool,
    },
    /// One of these names.
    Choice(&'static [&'static str]),
}

/// A control's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// For [`Input::Whole`] and [`Input::Real`].
    Number(f64),
    /// For [`Input::Choice`]: one of its names.
    Name(&'static str),
    /// Not set (the chain position before a chain exists): never written to a link.
    Unset,
}

impl Value {
    /// The number, if this is one.
    pub fn number(self) -> Option<f64> {
        match self {
            Self::Number(v) => Some(v),
            _ => None,
        }
    }
}

/// One control.
#[derive(Clone, Copy)]
pub struct Control {
    /// Its name in links (`?T=200`), in the message API and in `hide=`/`lock=`.
    pub key: &'static str,
    /// The id of the element that shows it on the page.
    pub id: &'static str,
    /// A few words for the embed builder.
    pub label: &'static str,
    /// The panels whose picture it changes (what an embed of a panel needs).
    pub panels: &'static [Panel],
    /// The values it accepts.
    pub input: Input,
    /// Its value in a `Params`.
    pub get: fn(&Params) -> Value,
    /// Stores an already validated value.
    pub set: fn(&mut Params, Value),
}

impl Control {
    /// The control named `key`, if there is one.
    pub fn find(key: &str) -> Option<&'static Control> {
        CONTROLS.iter().find(|c| c.key == key)
    }

    /// Whether the control changes this panel.
    pub fn shows_in(&self, panel: Panel) -> bool {
        self.panels.contains(&panel)
    }

    /// How the value is written in a link: whole numbers without a fraction, reals in their
    /// shortest exact form (or with the row's decimals), names as they are.
    pub fn format(&self, value: Value) -> Option<String> {
        match (value, self.input) {
            (Value::Number(v), Input::Whole { .. }) => Some(format!("{}", v.round() as i64)),
            (
                Value::Number(v),
                Input::Real {
                    decimals: Some(d), ..
                },
            ) => Some(format!("{v:.d$}")),
            (Value::Number(v), _) => Some(format!("{v}")),
            (Value::Name(n), _) => Some(n.to_string()),
            (Value::Unset, _) => None,
        }
    }
}

use Panel::{Digits, Forward, Posterior, Schedule, Score, Train};

/// The panels that draw the 2-D data and its noise.
const CLOUD: &[Panel] = &[Forward, Posterior, Score, Train];
/// Every panel that depends on the noise schedule.
const SCHEDULED: &[Panel] = &[Schedule, Forward, Posterior, Score, Train, Digits];

const fn real(lo: f64, hi: f64) -> Input {
    Input::Real {
        lo,
        hi,
        decimals: None,
        log: false,
    }
}

/// Every control, in the order the page shows them.
pub static CONTROLS: &[Control] = &[
    // The page's own controls: the data and the noise schedule, shared by every panel.
    Control {
        key: "data",
        id: "data",
        label: "data set",
        panels: CLOUD,
        input: Input::Choice(&["swiss-roll", "moons", "gaussians", "drawn"]),
        get: |p| Value::Name(p.data.name()),
        set: |p, v| {
            if let Value::Name(n) = v {
                p.data = n.parse().unwrap_or(DataSet::SwissRoll);
            }
        },
    },
    Control {
        key: "kind",
        id: "kind",
        label: "schedule",
        panels: SCHEDULED,
        input: Input::Choice(&["linear", "cosine", "sigmoid"]),
        get: |p| Value::Name(p.kind.name()),
        set: |p, v| {
            if let Value::Name(n) = v {
                p.kind = n.parse().unwrap_or(ScheduleKind::Linear);
            }
        },
    },
    Control {
        key: "T",
        id: "T",
        label: "T (number of steps)",
        panels: SCHEDULED,
        input: Input::Whole { lo: 2.0, hi: 2000.0 },
        get: |p| Value::Number(p.steps as f64),
        set: |p, v| p.steps = number(v, p.steps as f64) as usize,
    },
    Control {
        key: "b1",
        id: "b1",
        label: "β₁",
        panels: SCHEDULED,
        input: Input::Real {
            lo: 1e-5,
            hi: 0.1,
            decimals: None,
            log: true,
        },
        get: |p| Value::Number(p.beta_start),
        set: |p, v| p.beta_start = number(v, p.beta_start),
    },
    Control {
        key: "bT",
        id: "bT",
        label: "β_T",
        panels: SCHEDULED,
        input: Input::Real {
            lo: 1e-4,
            hi: 0.999,
            decimals: None,
            log: true,
        },
        get: |p| Value::Number(p.beta_end),
        set: |p, v| p.beta_end = number(v, p.beta_end),
    },
    Control {
        key: "t",
        id: "t",
        label: "t (timestep)",
        panels: &[Schedule, Forward, Posterior, Score, Digits],
        // The upper bound is T, checked once T is known (see `Params::settle`).
        input: Input::Whole { lo: 0.0, hi: 2000.0 },
        get: |p| Value::Number(p.t as f64),
        set: |p, v| p.t = number(v, p.t as f64) as usize,
    },
    Control {
        key: "seed",
        id: "seed",
        label: "seed",
        panels: CLOUD,
        input: Input::Whole {
            lo: 0.0,
            hi: 999_999.0,
        },
        get: |p| Value::Number(p.seed as f64),
        set: |p, v| p.seed = number(v, p.seed as f64) as u64,
    },
    Control {
        key: "x",
        id: "posterior-canvas",
        label: "x_t, first coordinate",
        panels: &[Posterior],
        input: Input::Real {
            lo: -3.0,
            hi: 3.0,
            decimals: Some(3),
            log: false,
        },
        get: |p| Value::Number(f64::from(p.probe[0])),
        set: |p, v| p.probe[0] = round3(number(v, f64::from(p.probe[0]))),
    },
    Control {
        key: "y",
        id: "posterior-canvas",
        label: "x_t, second coordinate",
        panels: &[Posterior],
        input: Input::Real {
            lo: -3.0,
            hi: 3.0,
            decimals: Some(3),
            log: false,
        },
        get: |p| Value::Number(f64::from(p.probe[1])),
        set: |p, v| p.probe[1] = round3(number(v, f64::from(p.probe[1]))),
    },
    // Training the 2-D model.
    Control {
        key: "lr",
        id: "lr",
        label: "learning rate",
        panels: &[Train],
        input: real(1e-5, 10.0),
        get: |p| Value::Number(p.train.learning_rate),
        set: |p, v| p.train.learning_rate = number(v, p.train.learning_rate),
    },
    Control {
        key: "steps",
        id: "train-steps",
        label: "training steps",
        panels: &[Train],
        input: Input::Whole {
            lo: 1.0,
            hi: 100_000.0,
        },
        get: |p| Value::Number(p.train.steps as f64),
        set: |p, v| p.train.steps = number(v, p.train.steps as f64) as usize,
    },
    Control {
        key: "hidden",
        id: "hidden",
        label: "hidden width",
        panels: &[Train],
        input: Input::Whole { lo: 2.0, hi: 512.0 },
        get: |p| Value::Number(p.train.hidden as f64),
        set: |p, v| p.train.hidden = number(v, p.train.hidden as f64) as usize,
    },
    Control {
        key: "batch",
        id: "batch",
        label: "batch size",
        panels: &[Train],
        input: Input::Whole { lo: 1.0, hi: 4096.0 },
        get: |p| Value::Number(p.train.batch_size as f64),
        set: |p, v| p.train.batch_size = number(v, p.train.batch_size as f64) as usize,
    },
    Control {
        key: "predict",
        id: "parameterization",
        label: "what the network predicts",
        panels: &[Train],
        input: Input::Choice(&["epsilon", "x0", "mean", "mean-logvar"]),
        get: |p| Value::Name(p.train.parameterization),
        set: |p, v| {
            if let Value::Name(n) = v {
                p.train.parameterization = n;
            }
        },
    },
    Control {
        key: "device",
        id: "train-device",
        label: "train on",
        panels: &[Train],
        input: Input::Choice(&["auto", "cpu", "webgpu"]),
        get: |p| Value::Name(p.train.device.name()),
        set: |p, v| {
            if let Value::Name(n) = v {
                p.train.device = TrainDevice::from_name(n);
            }
        },
    },
    Control {
        key: "sampler",
        id: "sampler",
        label: "sampler",
        panels: &[Train],
        input: Input::Choice(&["ddim", "ddpm"]),
        get: |p| Value::Name(p.train.sampler.name()),
        set: |p, v| {
            if let Value::Name(n) = v {
                p.train.sampler = SamplerKind::from_name(n);
            }
        },
    },
    Control {
        key: "rsteps",
        id: "sample-steps",
        label: "reverse steps",
        panels: &[Train],
        // At most T, checked in `Params::settle`.
        input: Input::Whole { lo: 1.0, hi: 2000.0 },
        get: |p| Value::Number(p.train.reverse_steps as f64),
        set: |p, v| p.train.reverse_steps = number(v, p.train.reverse_steps as f64) as usize,
    },
    Control {
        key: "eta",
        id: "eta",
        label: "η (DDIM)",
        panels: &[Train],
        input: real(0.0, 1.0),
        get: |p| Value::Number(p.train.eta),
        set: |p, v| p.train.eta = number(v, p.train.eta),
    },
    Control {
        key: "chain",
        id: "chain-step",
        label: "position in the reverse chain",
        panels: &[Train],
        input: Input::Whole { lo: 0.0, hi: 2000.0 },
        get: |p| p.chain.map_or(Value::Unset, |k| Value::Number(k as f64)),
        set: |p, v| p.chain = v.number().map(|k| k as usize),
    },
    // Sampling digits.
    Control {
        key: "digit",
        id: "digits-label",
        label: "digit",
        panels: &[Digits],
        input: Input::Choice(&["any", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]),
        get: |p| Value::Name(digit_name(p.digits.label)),
        set: |p, v| {
            if let Value::Name(n) = v {
                p.digits.label = n.parse().ok();
            }
        },
    },
    Control {
        key: "w",
        id: "digits-guidance",
        label: "guidance w",
        panels: &[Digits],
        input: real(0.0, 10.0),
        get: |p| Value::Number(p.digits.guidance),
        set: |p, v| p.digits.guidance = number(v, p.digits.guidance),
    },
    Control {
        key: "wfrom",
        id: "digits-guided-from",
        label: "guided from t",
        panels: &[Digits],
        input: Input::Whole { lo: 0.0, hi: 1000.0 },
        get: |p| Value::Number(p.digits.guided_from as f64),
        set: |p, v| p.digits.guided_from = number(v, p.digits.guided_from as f64) as usize,
    },
    Control {
        key: "wto",
        id: "digits-guided-to",
        label: "guided to t",
        panels: &[Digits],
        input: Input::Whole { lo: 0.0, hi: 1000.0 },
        get: |p| Value::Number(p.digits.guided_to as f64),
        set: |p, v| p.digits.guided_to = number(v, p.digits.guided_to as f64) as usize,
    },
    Control {
        key: "dsampler",
        id: "digits-sampler",
        label: "digits' sampler",
        panels: &[Digits],
        input: Input::Choice(&["ddim", "ddpm"]),
        get: |p| Value::Name(p.digits.sampler.name()),
        set: |p, v| {
            if let Value::Name(n) = v {
                p.digits.sampler = SamplerKind::from_name(n);
            }
        },
    },
    Control {
        key: "dsteps",
        id: "digits-steps",
        label: "digits' reverse steps",
        panels: &[Digits],
        input: Input::Whole { lo: 1.0, hi: 1000.0 },
        get: |p| Value::Number(p.digits.steps as f64),
        set: |p, v| p.digits.steps = number(v, p.digits.steps as f64) as usize,
    },
    Control {
        key: "deta",
        id: "digits-eta",
        label: "digits' η",
        panels: &[Digits],
        input: real(0.0, 1.0),
        get: |p| Value::Number(p.digits.eta),
        set: |p, v| p.digits.eta = number(v, p.digits.eta),
    },
    Control {
        key: "dseed",
        id: "digits-seed",
        label: "digits' seed",
        panels: &[Digits],
        input: Input::Whole {
            lo: 0.0,
            hi: 999_999.0,
        },
        get: |p| Value::Number(p.digits.seed as f64),
        set: |p, v| p.digits.seed = number(v, p.digits.seed as f64) as u64,
    },
    Control {
        key: "sdt",
        id: "digits-draw-t",
        label: "SDEdit's t",
        panels: &[Digits],
        input: Input::Whole { lo: 1.0, hi: 999.0 },
        get: |p| Value::Number(p.digits.sdedit_t as f64),
        set: |p, v| p.digits.sdedit_t = number(v, p.digits.sdedit_t as f64) as usize,
    },
];

/// A number from a validated value (the table's `set`s only ever receive numbers for numeric
/// rows; anything else keeps `fallback`).
fn number(v: Value, fallback: f64) -> f64 {
    v.number().unwrap_or(fallback)
}

/// Three decimals: the probe is written to links with three.
fn round3(v: f64) -> f32 {
    ((v * 1e3).round() / 1e3) as f32
}

fn digit_name(label: Option<u8>) -> &'static str {
    const NAMES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    label
        .and_then(|d| NAMES.get(d as usize).copied())
        .unwrap_or("any")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_every_default_is_accepted() {
        let d = Params::default();
        for (i, c) in CONTROLS.iter().enumerate() {
            assert!(CONTROLS[..i].iter().all(|o| o.key != c.key), "{} twice", c.key);
            assert!(!c.panels.is_empty(), "{} belongs to no panel", c.key);
            match ((c.get)(&d), c.input) {
                (Value::Number(v), Input::Whole { lo, hi } | Input::Real { lo, hi, .. }) => {
                    assert!(
                        (lo..=hi).contains(&v),
                        "{}'s default {v} is outside its range",
                        c.key
                    )
                }
                (Value::Name(n), Input::Choice(options)) => {
                    assert!(options.contains(&n), "{}'s default {n}", c.key)
                }
                (Value::Unset, _) => assert_eq!(c.key, "chain"),
                (v, i) => panic!("{}: value {v:?} for input {i:?}", c.key),
            }
        }
    }

    #[test]
    fn every_choice_is_stored_and_read_back() {
        for c in CONTROLS {
            let Input::Choice(options) = c.input else { continue };
            for &option in options {
                let mut p = Params::default();
                (c.set)(&mut p, Value::Name(option));
                assert_eq!((c.get)(&p), Value::Name(option), "{}={option}", c.key);
            }
        }
    }
}
