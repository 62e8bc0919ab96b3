//! Every control of the page in one value, and its persistent form: the URL's query string.
//!
//! The page's controls write only this value; the panels read only it. A link therefore
//! reproduces a view, and a hand-edited or stale link cannot break the page: [`Params::from_query`]
//! clamps or resets what it cannot use and says what it changed. Which controls exist, their
//! names and their ranges are one table ([`table::CONTROLS`]); this module is plain Rust so that
//! the rules are tested natively.

pub mod table;

use std::fmt;

use crate::data::DataSet;
use crate::math::{NoiseSchedule, ScheduleKind};
pub use table::{CONTROLS, Control, Input, Value};

/// One panel of the page; `?panel=NAME` shows it alone, for embedding in an iframe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    /// beta_t, alpha_bar_t and the SNR over t.
    Schedule,
    /// The Swiss roll moving through `q(x_t | x_0)`.
    Forward,
    /// Partial targets, their weights and the true reverse target at a chosen `x_t`.
    Posterior,
    /// The exact score of the noised data beside the learned one, at time `t`.
    Score,
    /// The model trained in the page, and its samples.
    Train,
    /// The MNIST U-Net sampling digits.
    Digits,
}

impl Panel {
    /// Every panel, in page order.
    pub const ALL: [Panel; 6] = [
        Self::Schedule,
        Self::Forward,
        Self::Posterior,
        Self::Score,
        Self::Train,
        Self::Digits,
    ];

    /// The name used in `?panel=` and as the panel's element id suffix.
    pub fn name(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Forward => "forward",
            Self::Posterior => "posterior",
            Self::Score => "score",
            Self::Train => "train",
            Self::Digits => "digits",
        }
    }

    /// The panel called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The allowed range of the page's numeric controls (the same as their rows in [`CONTROLS`]).
pub mod bounds {
    /// The number of steps T.
    pub const STEPS: (usize, usize) = (2, 2000);
    /// beta_1 (the slider is logarithmic).
    pub const BETA_START: (f64, f64) = (1e-5, 0.1);
    /// beta_T (the slider is logarithmic).
    pub const BETA_END: (f64, f64) = (1e-4, 0.999);
    /// The seed of the data and the noise.
    pub const SEED: (u64, u64) = (0, 999_999);
    /// Each coordinate of the probe point `x_t` of the posterior panel.
    pub const PROBE: (f32, f32) = (-3.0, 3.0);
}

/// DDPM or DDIM, as chosen in a panel (the model's `Sampler` adds DDIM's eta).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamplerKind {
    /// Ancestral sampling.
    Ddpm,
    /// DDIM with the panel's eta.
    Ddim,
}

impl SamplerKind {
    /// `ddpm` or `ddim`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ddpm => "ddpm",
            Self::Ddim => "ddim",
        }
    }

    fn from_name(name: &str) -> Self {
        if name == "ddpm" { Self::Ddpm } else { Self::Ddim }
    }
}

/// Where the 2-D model trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainDevice {
    /// The page's choice: WebGPU where the page runs on it, else the CPU.
    Auto,
    /// burn's CPU backend.
    Cpu,
    /// WebGPU (the CPU where the browser has none).
    WebGpu,
}

impl TrainDevice {
    /// `auto`, `cpu` or `webgpu`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::WebGpu => "webgpu",
        }
    }

    fn from_name(name: &str) -> Self {
        match name {
            "cpu" => Self::Cpu,
            "webgpu" => Self::WebGpu,
            _ => Self::Auto,
        }
    }
}

/// The training panel's settings. The defaults are `TrainConfig::new()`'s, the command line's
/// (a native test keeps them equal).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSettings {
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Optimisation steps.
    pub steps: usize,
    /// Units per hidden layer.
    pub hidden: usize,
    /// Points per step.
    pub batch_size: usize,
    /// What the network predicts: `epsilon`, `x0`, `mean` or `mean-logvar`.
    pub parameterization: &'static str,
    /// Where it trains.
    pub device: TrainDevice,
    /// How the trained model is sampled.
    pub sampler: SamplerKind,
    /// Reverse steps of a chain (at most T).
    pub reverse_steps: usize,
    /// DDIM's eta.
    pub eta: f64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            learning_rate: 0.015,
            steps: 1500,
            hidden: 32,
            batch_size: 256,
            parameterization: "epsilon",
            device: TrainDevice::Auto,
            sampler: SamplerKind::Ddim,
            reverse_steps: 100,
            eta: 1.0,
        }
    }
}

/// The digits panel's settings. The sampling defaults are `diffusion mnist sample`'s:
/// [`crate::sampling::digits::DEFAULTS`].
#[derive(Clone, Debug, PartialEq)]
pub struct DigitSettings {
    /// The digit asked for, or `None` for every digit in turn.
    pub label: Option<u8>,
    /// Classifier-free guidance weight w.
    pub guidance: f64,
    /// Guidance applies for t in `guided_from..=guided_to`.
    pub guided_from: usize,
    /// See `guided_from`.
    pub guided_to: usize,
    /// DDPM or DDIM.
    pub sampler: SamplerKind,
    /// Reverse steps.
    pub steps: usize,
    /// DDIM's eta.
    pub eta: f64,
    /// Seed of the initial noise.
    pub seed: u64,
    /// The t a drawn digit is noised to before it is denoised (SDEdit).
    pub sdedit_t: usize,
}

impl Default for DigitSettings {
    fn default() -> Self {
        let d = crate::sampling::digits::DEFAULTS;
        Self {
            label: None,
            guidance: f64::from(d.guidance),
            guided_from: *d.guided.start(),
            guided_to: *d.guided.end(),
            sampler: SamplerKind::Ddim,
            steps: d.steps,
            eta: d.eta,
            seed: 0,
            sdedit_t: 400,
        }
    }
}

/// The state of every control.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// How the betas are spread over the timesteps.
    pub kind: ScheduleKind,
    /// The number of diffusion steps T.
    pub steps: usize,
    /// beta_1.
    pub beta_start: f64,
    /// beta_T.
    pub beta_end: f64,
    /// The timestep shown, `0..=T` (0 is the data).
    pub t: usize,
    /// The data every panel diffuses and the model trains on.
    pub data: DataSet,
    /// The seed of the data and of its fixed noise (and of the 2-D model's training).
    pub seed: u64,
    /// The point `x_t` whose reverse target the posterior panel explains.
    pub probe: [f32; 2],
    /// The training panel.
    pub train: TrainSettings,
    /// The reverse steps taken in the 2-D chain shown (`None`: the newest state).
    pub chain: Option<usize>,
    /// The digits panel.
    pub digits: DigitSettings,
    /// How the page is laid out: one panel alone, hidden and locked controls.
    pub view: View,
}

/// What the page shows, rather than what it computes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View {
    /// Show only this panel (for embedding).
    pub panel: Option<Panel>,
    /// Controls not shown (`hide=T,b1`), as keys of [`CONTROLS`], in table order.
    pub hide: Vec<&'static str>,
    /// Controls shown but fixed (`lock=T,kind`), in table order.
    pub lock: Vec<&'static str>,
    /// Train the 2-D model as the page opens (`train=1`): with the same seed, the reader gets
    /// the author's model.
    pub train_on_load: bool,
    /// Projector mode (`projector=1`): high contrast, text and lines twice their size.
    pub projector: bool,
    /// The guided walk is open at this step, counted from 1 (`tour=3`).
    pub tour: Option<usize>,
}

impl Default for Params {
    /// The DDPM paper's schedule, a quarter of the way into the chain.
    fn default() -> Self {
        Self {
            kind: ScheduleKind::Linear,
            steps: 1000,
            beta_start: 1e-4,
            beta_end: 0.02,
            t: 150,
            data: DataSet::SwissRoll,
            seed: 0,
            probe: [0.35, -0.55],
            train: TrainSettings::default(),
            chain: None,
            digits: DigitSettings::default(),
            view: View::default(),
        }
    }
}

/// Something in a URL that could not be used as it was, and what was done instead.
#[derive(Clone, Debug, PartialEq)]
pub struct Correction {
    /// The query key.
    pub key: String,
    /// What happened, for the reader.
    pub message: String,
}

impl fmt::Display for Correction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Keys that are not controls: they say how the page is shown.
/// The keys of a link that set the page's layout rather than a control.
pub const VIEW_KEYS: [&str; 6] = ["panel", "hide", "lock", "train", "projector", "tour"];

impl Params {
    /// The noise schedule the controls describe. Every `Params` that this module produces is
    /// valid, so this cannot fail for them; hand-built ones get the default schedule instead.
    pub fn schedule(&self) -> NoiseSchedule {
        NoiseSchedule::new(self.kind, self.steps, self.beta_start, self.beta_end)
            .unwrap_or_else(|_| NoiseSchedule::ddpm())
    }

    /// Reads a query string (with or without its leading `?`). Never fails: a value that is not
    /// a number, out of range or inconsistent with the others is clamped or reset, and each
    /// such change is returned so the page can say it.
    pub fn from_query(query: &str) -> (Self, Vec<Correction>) {
        let query = query.strip_prefix('?').unwrap_or(query);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut p = Self::default();
        let notes = p.apply_link(&pairs);
        (p, notes)
    }

    /// [`Self::apply`] for values from outside the page (a link, a host page's message): also
    /// refuses drawn data, since drawn points cannot travel with them.
    pub fn apply_link(&mut self, pairs: &[(String, String)]) -> Vec<Correction> {
        let before = self.data;
        let mut notes = self.apply(pairs);
        if self.data == DataSet::Drawn && before != DataSet::Drawn {
            notes.push(Correction {
                key: "data".into(),
                message: "drawn points are not kept in links; showing the Swiss roll".into(),
            });
            self.data = DataSet::SwissRoll;
        }
        notes
    }

    /// Sets the named values on top of the current ones, with the same checks as a link (for
    /// a control typed into). Returns what had to be changed.
    pub fn apply(&mut self, pairs: &[(String, String)]) -> Vec<Correction> {
        let mut notes = Vec::new();
        let mut note = |key: &str, message: String| {
            notes.push(Correction {
                key: shorten(key),
                message,
            })
        };
        for (key, value) in pairs {
            let value = value.trim();
            if let Some(control) = Control::find(key) {
                let current = (control.get)(self);
                if let Some(v) = read(control, value, current, &mut note) {
                    (control.set)(self, v);
                }
            } else if VIEW_KEYS.contains(&key.as_str()) {
                self.apply_view(key, value, &mut note);
            } else {
                note(key, "unknown setting, ignored".to_string());
            }
        }
        let given = |key: &str| pairs.iter().any(|(k, _)| k == key);
        let said = Said {
            t: given("t"),
            reverse_steps: given("rsteps"),
        };
        self.settle(said, &mut note);
        notes
    }

    /// The page's layout keys: `panel`, `hide`, `lock`, `train`, `projector` and `tour`.
    fn apply_view(&mut self, key: &str, value: &str, note: &mut impl FnMut(&str, String)) {
        match key {
            "panel" if value.is_empty() || value == "all" => self.view.panel = None,
            "panel" => match Panel::from_name(value) {
                Some(panel) => self.view.panel = Some(panel),
                None => note(
                    key,
                    format!("no panel named '{}'; showing all panels", shorten(value)),
                ),
            },
            "hide" | "lock" => {
                let mut keys = Vec::new();
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    match Control::find(name) {
                        Some(c) => keys.push(c.key),
                        None => note(key, format!("no control named '{}', ignored", shorten(name))),
                    }
                }
                // In table order, once each: one spelling per state.
                let keys = CONTROLS
                    .iter()
                    .map(|c| c.key)
                    .filter(|k| keys.contains(k))
                    .collect();
                if key == "hide" {
                    self.view.hide = keys;
                } else {
                    self.view.lock = keys;
                }
            }
            "tour" if value.is_empty() || value == "0" => self.view.tour = None,
            "tour" => {
                let last = crate::tour::STOPS.len();
                match value.parse::<f64>() {
                    Ok(v) if v.is_finite() => {
                        let step = v.round().clamp(1.0, last as f64) as usize;
                        if step as f64 != v {
                            note(
                                key,
                                format!("the walk has steps 1 to {last}; opening step {step}"),
                            );
                        }
                        self.view.tour = Some(step);
                    }
                    _ => note(
                        key,
                        format!(
                            "'{}' is not a step of the walk (1 to {last}); not opening it",
                            shorten(value)
                        ),
                    ),
                }
            }
            _ => {
                let (flag, what) = if key == "projector" {
                    (&mut self.view.projector, "projector mode")
                } else {
                    (&mut self.view.train_on_load, "training")
                };
                match value {
                    "1" | "true" | "yes" => *flag = true,
                    "0" | "false" | "no" | "" => *flag = false,
                    other => note(key, format!("'{}' is not 1 or 0; no {what}", shorten(other))),
                }
            }
        }
    }

    /// The rules between controls: t at most T, beta_1 at most beta_T, a guidance interval
    /// that is one, no more reverse steps than T.
    /// A rule that changes a value the caller did not give (a smaller T pulling t down) does it
    /// quietly; one that changes a value they gave says so.
    fn settle(&mut self, said: Said, note: &mut impl FnMut(&str, String)) {
        if self.t > self.steps {
            if said.t {
                note(
                    "t",
                    format!("{} is above T = {}; using {}", self.t, self.steps, self.steps),
                );
            }
            self.t = self.steps;
        }
        if self.beta_start > self.beta_end {
            let d = Self::default();
            note(
                "b1",
                format!(
                    "beta_1 = {} is larger than beta_T = {}; both reset to {} and {}",
                    self.beta_start, self.beta_end, d.beta_start, d.beta_end
                ),
            );
            self.beta_start = d.beta_start;
            self.beta_end = d.beta_end;
        }
        if self.train.reverse_steps > self.steps {
            if said.reverse_steps {
                note(
                    "rsteps",
                    format!(
                        "{} reverse steps are more than T = {}; using {}",
                        self.train.reverse_steps, self.steps, self.steps
                    ),
                );
            }
            self.train.reverse_steps = self.steps;
        }
        if let Some(k) = self.chain.filter(|&k| k > self.train.reverse_steps) {
            note(
                "chain",
                format!(
                    "the chain has {} steps, not {k}; showing its end",
                    self.train.reverse_steps
                ),
            );
            self.chain = None;
        }
        let d = &mut self.digits;
        if d.guided_from > d.guided_to {
            note(
                "wfrom",
                format!(
                    "guidance from t = {} to t = {} is no interval; using {} to {}",
                    d.guided_from, d.guided_to, d.guided_to, d.guided_from
                ),
            );
            std::mem::swap(&mut d.guided_from, &mut d.guided_to);
        }
    }

    /// The query string that [`Self::from_query`] reads back to this value. Settings at their
    /// defaults are left out, so links stay short.
    pub fn to_query(&self) -> String {
        let d = Self::default();
        let mut q = form_urlencoded::Serializer::new(String::new());
        for control in CONTROLS {
            let value = (control.get)(self);
            // Drawn points cannot travel in a link; its reader gets the default data.
            if value == (control.get)(&d) || value == Value::Name("drawn") {
                continue;
            }
            if let Some(text) = control.format(value) {
                q.append_pair(control.key, &text);
            }
        }
        if let Some(panel) = self.view.panel {
            q.append_pair("panel", panel.name());
        }
        if !self.view.hide.is_empty() {
            q.append_pair("hide", &self.view.hide.join(","));
        }
        if !self.view.lock.is_empty() {
            q.append_pair("lock", &self.view.lock.join(","));
        }
        if self.view.train_on_load {
            q.append_pair("train", "1");
        }
        if self.view.projector {
            q.append_pair("projector", "1");
        }
        if let Some(step) = self.view.tour {
            q.append_pair("tour", &step.to_string());
        }
        q.finish()
    }

    /// Every control's current value, in table order (the message API's `state`).
    pub fn values(&self) -> Vec<(&'static str, Value)> {
        CONTROLS.iter().map(|c| (c.key, (c.get)(self))).collect()
    }

    /// Changes T and keeps t inside the new chain.
    pub fn set_steps(&mut self, steps: usize) {
        self.steps = steps.clamp(bounds::STEPS.0, bounds::STEPS.1);
        self.t = self.t.min(self.steps);
    }

    /// Whether `key` is hidden or locked in this view.
    pub fn is_hidden(&self, key: &str) -> bool {
        self.view.hide.contains(&key)
    }

    /// Whether `key` is shown but fixed in this view.
    pub fn is_locked(&self, key: &str) -> bool {
        self.view.lock.contains(&key)
    }
}

/// Which of the values that depend on others the caller gave.
#[derive(Clone, Copy)]
struct Said {
    t: bool,
    reverse_steps: bool,
}

/// Reads one value for `control`, noting any change; `None` keeps the current value.
fn read(
    control: &Control,
    value: &str,
    current: Value,
    note: &mut impl FnMut(&str, String),
) -> Option<Value> {
    let key = control.key;
    match control.input {
        Input::Choice(options) => match options.iter().find(|o| **o == value) {
            Some(name) => Some(Value::Name(name)),
            None => {
                let keep = control.format(current).unwrap_or_default();
                note(
                    key,
                    format!(
                        "'{}' is not one of {}; keeping {keep}",
                        shorten(value),
                        options.join(", ")
                    ),
                );
                None
            }
        },
        Input::Whole { lo, hi } | Input::Real { lo, hi, .. } => {
            let whole = matches!(control.input, Input::Whole { .. });
            // The chain position may be unset; an unset fallback keeps it so.
            let fallback = current.number();
            read_number(key, value, (lo, hi), fallback, whole, note).map(Value::Number)
        }
    }
}

/// Reads one numeric setting whose allowed range is `[lo, hi]`. A value that is not a finite
/// number gives `fallback`; one outside the range is clamped; for whole-number settings a
/// fraction is rounded. Every such change is noted for the reader.
fn read_number(
    key: &str,
    value: &str,
    (lo, hi): (f64, f64),
    fallback: Option<f64>,
    whole: bool,
    note: &mut impl FnMut(&str, String),
) -> Option<f64> {
    let keep = fallback.map_or("it unset".to_string(), |f| f.to_string());
    let v = match value.parse::<f64>() {
        Ok(v) if v.is_finite() => v,
        Ok(_) => {
            note(
                key,
                format!("'{}' is not a finite number; using {keep}", shorten(value)),
            );
            return fallback;
        }
        Err(_) => {
            note(key, format!("'{}' is not a number; using {keep}", shorten(value)));
            return fallback;
        }
    };
    let rounded = if whole { v.round() } else { v };
    let clamped = rounded.clamp(lo, hi);
    if v < lo {
        note(key, format!("{v} is below {lo}; using {lo}"));
    } else if v > hi {
        note(key, format!("{v} is above {hi}; using {hi}"));
    } else if rounded != v {
        note(
            key,
            format!("'{}' is not a whole number; using {clamped}", shorten(value)),
        );
    }
    Some(clamped)
}

/// A value as quoted back to the reader: at most 40 characters, so a 10 kB link cannot flood
/// the page's notices.
fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_panel_can_be_embedded_by_name() {
        for panel in Panel::ALL {
            let (p, notes) = Params::from_query(&format!("panel={}", panel.name()));
            assert_eq!((p.view.panel, notes), (Some(panel), vec![]));
        }
        assert_eq!(
            Params::from_query("panel=digits").0.view.panel,
            Some(Panel::Digits)
        );
    }

    #[test]
    fn empty_query_is_the_default() {
        assert_eq!(Params::from_query(""), (Params::default(), vec![]));
        assert_eq!(Params::default().to_query(), "");
    }

    /// A view with every control away from its default.
    fn everything_changed() -> Params {
        Params {
            kind: ScheduleKind::Sigmoid,
            steps: 400,
            beta_start: 1e-5,
            beta_end: 0.3,
            t: 12,
            data: DataSet::TwoMoons,
            seed: 42,
            probe: [0.125, -1.5],
            train: TrainSettings {
                learning_rate: 0.004,
                steps: 700,
                hidden: 48,
                batch_size: 128,
                parameterization: "x0",
                device: TrainDevice::Cpu,
                sampler: SamplerKind::Ddpm,
                reverse_steps: 50,
                eta: 0.5,
            },
            chain: Some(20),
            digits: DigitSettings {
                label: Some(7),
                guidance: 1.5,
                guided_from: 100,
                guided_to: 900,
                sampler: SamplerKind::Ddpm,
                steps: 12,
                eta: 0.3,
                seed: 9,
                sdedit_t: 250,
            },
            view: View {
                panel: Some(Panel::Posterior),
                hide: vec!["T", "b1"],
                lock: vec!["kind"],
                train_on_load: true,
                projector: true,
                tour: Some(3),
            },
        }
    }

    #[test]
    fn round_trip() {
        let p = everything_changed();
        let query = p.to_query();
        let (back, notes) = Params::from_query(&format!("?{query}"));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(back, p);
        // Every control is in the link when it is not at its default.
        for control in CONTROLS {
            assert!(
                query
                    .split('&')
                    .any(|kv| kv.starts_with(&format!("{}=", control.key))),
                "{} is missing from {query}",
                control.key
            );
        }
    }

    #[test]
    fn every_control_round_trips_alone() {
        let changed = everything_changed();
        for control in CONTROLS {
            let mut p = Params::default();
            (control.set)(&mut p, (control.get)(&changed));
            let (back, notes) = Params::from_query(&p.to_query());
            assert!(notes.is_empty(), "{}: {notes:?}", control.key);
            assert_eq!(back, p, "{}", control.key);
        }
    }

    #[test]
    fn hide_and_lock_name_controls() {
        let (p, notes) = Params::from_query("lock=t,kind,nope&hide=b1,bT,b1");
        assert_eq!(p.view.lock, ["kind", "t"], "kept in table order");
        assert_eq!(p.view.hide, ["b1", "bT"], "once each");
        assert_eq!(notes.len(), 1);
        assert!(notes[0].message.contains("no control named 'nope'"));
        assert!(p.is_locked("t") && !p.is_locked("T") && p.is_hidden("bT"));
    }

    #[test]
    fn apply_keeps_what_it_is_not_given() {
        let mut p = everything_changed();
        let notes = p.apply_link(&[("t".into(), "5000".into()), ("digit".into(), "x".into())]);
        assert_eq!(p.t, 400, "clamped to T");
        assert_eq!(p.digits.label, Some(7), "a bad choice keeps the current one");
        assert_eq!(p.train.steps, 700);
        assert_eq!(notes.len(), 3, "{notes:?}");
    }

    #[test]
    fn bad_values_are_clamped_or_reset_and_said() {
        let (p, notes) = Params::from_query(
            "T=abc&b1=-3&bT=7&t=99999&kind=quadratic&seed=1e99&x=NaN&panel=zzz&foo=1&data=drawn",
        );
        assert_eq!(p.steps, 1000);
        assert_eq!(p.beta_start, bounds::BETA_START.0);
        assert_eq!(p.beta_end, bounds::BETA_END.1);
        assert_eq!(p.t, 1000);
        assert_eq!(p.kind, ScheduleKind::Linear);
        assert_eq!(p.seed, bounds::SEED.1);
        assert_eq!(p.probe, Params::default().probe);
        assert_eq!(p.view.panel, None);
        let keys: Vec<&str> = notes.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "T", "b1", "bT", "t", "kind", "seed", "x", "panel", "foo", "t", "data"
            ]
        );
        assert_eq!(p.data, DataSet::SwissRoll);
    }

    #[test]
    fn long_values_are_quoted_short() {
        let junk = "9".repeat(10_000);
        let (_, notes) = Params::from_query(&format!("kind={junk}&{junk}=1"));
        assert_eq!(notes.len(), 2);
        assert!(notes.iter().all(|n| n.to_string().len() < 200), "{notes:?}");
    }

    #[test]
    fn t_is_checked_against_the_final_t_whatever_the_order() {
        let (p, notes) = Params::from_query("t=80&T=50");
        assert_eq!((p.steps, p.t), (50, 50));
        assert_eq!(notes.len(), 1);
        let (p, _) = Params::from_query("T=50");
        assert_eq!(p.t, 50, "the default t must not exceed a smaller T");
    }

    #[test]
    fn reversed_betas_are_reset() {
        let (p, notes) = Params::from_query("b1=0.05&bT=0.01");
        assert_eq!((p.beta_start, p.beta_end), (1e-4, 0.02));
        assert_eq!(notes[0].key, "b1");
        assert!(p.schedule().alpha_bar(p.steps) < 1e-3);
    }

    #[test]
    fn no_query_can_produce_an_invalid_schedule() {
        for q in [
            "T=0",
            "T=-5",
            "b1=0",
            "bT=1",
            "bT=0.0000001",
            "b1=0.1&bT=0.0001",
            "t=-1",
            "T=2.7",
            "%ZZ=%%",
        ] {
            let (p, _) = Params::from_query(q);
            assert!(
                NoiseSchedule::new(p.kind, p.steps, p.beta_start, p.beta_end).is_ok(),
                "{q}"
            );
            assert!(p.t <= p.steps, "{q}");
        }
    }
}
