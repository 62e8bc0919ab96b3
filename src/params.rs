//! Every control of the page in one value, and its persistent form: the URL's query string.
//!
//! The page's controls write only this value; the panels read only it. A link therefore
//! reproduces a view, and a hand-edited or stale link cannot break the page: [`Params::from_query`]
//! clamps or resets what it cannot use and says what it changed. This module is plain Rust so
//! that the rules are tested natively.

use std::fmt;

use crate::data::DataSet;
use crate::math::{NoiseSchedule, ScheduleKind};

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
}

/// The allowed range of each numeric control; the page's sliders use the same bounds.
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
    /// The seed of the data and of its fixed noise.
    pub seed: u64,
    /// The point `x_t` whose reverse target the posterior panel explains.
    pub probe: [f32; 2],
    /// Show only this panel (for embedding).
    pub panel: Option<Panel>,
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
            panel: None,
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
        let mut p = Self::default();
        let mut notes = Vec::new();
        let mut note = |key: &str, message: String| {
            notes.push(Correction {
                key: key.to_string(),
                message,
            })
        };
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut t_raw = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim();
            match key.as_ref() {
                "kind" => match value.parse() {
                    Ok(kind) => p.kind = kind,
                    Err(e) => note(&key, format!("{e}; using {}", p.kind)),
                },
                "T" => p.steps = whole(&key, value, bounds::STEPS, p.steps, &mut note),
                "b1" => p.beta_start = real(&key, value, bounds::BETA_START, p.beta_start, &mut note),
                "bT" => p.beta_end = real(&key, value, bounds::BETA_END, p.beta_end, &mut note),
                "t" => t_raw = Some(value.to_string()),
                "data" => match value.parse() {
                    Ok(DataSet::Drawn) => note(
                        &key,
                        "drawn points are not kept in links; showing the Swiss roll".to_string(),
                    ),
                    Ok(data) => p.data = data,
                    Err(e) => note(&key, format!("{e}; showing the Swiss roll")),
                },
                "seed" => {
                    let (lo, hi) = bounds::SEED;
                    p.seed = whole(
                        &key,
                        value,
                        (lo as usize, hi as usize),
                        p.seed as usize,
                        &mut note,
                    ) as u64
                }
                "x" => p.probe[0] = real(&key, value, bounds::PROBE, p.probe[0], &mut note),
                "y" => p.probe[1] = real(&key, value, bounds::PROBE, p.probe[1], &mut note),
                "panel" => match Panel::ALL.into_iter().find(|panel| panel.name() == value) {
                    Some(panel) => p.panel = Some(panel),
                    None => note(&key, format!("no panel named '{value}'; showing all panels")),
                },
                _ => note(&key, "unknown setting, ignored".to_string()),
            }
        }
        // t depends on T, so it is read once T is known, wherever it stood in the URL.
        if let Some(value) = t_raw {
            p.t = whole("t", &value, (0, p.steps), p.t.min(p.steps), &mut note);
        } else if p.t > p.steps {
            p.t = p.steps;
        }
        if p.beta_start > p.beta_end {
            let d = Self::default();
            note(
                "b1",
                format!(
                    "beta_1 = {} is larger than beta_T = {}; both reset to {} and {}",
                    p.beta_start, p.beta_end, d.beta_start, d.beta_end
                ),
            );
            p.beta_start = d.beta_start;
            p.beta_end = d.beta_end;
        }
        (p, notes)
    }

    /// The query string that [`Self::from_query`] reads back to this value. Settings at their
    /// defaults are left out, so links stay short.
    pub fn to_query(&self) -> String {
        let d = Self::default();
        let mut q = form_urlencoded::Serializer::new(String::new());
        if self.kind != d.kind {
            q.append_pair("kind", self.kind.name());
        }
        if self.steps != d.steps {
            q.append_pair("T", &self.steps.to_string());
        }
        if self.beta_start != d.beta_start {
            q.append_pair("b1", &self.beta_start.to_string());
        }
        if self.beta_end != d.beta_end {
            q.append_pair("bT", &self.beta_end.to_string());
        }
        if self.t != d.t {
            q.append_pair("t", &self.t.to_string());
        }
        // Drawn points cannot travel in a link; its reader gets the default data.
        if self.data != d.data && self.data != DataSet::Drawn {
            q.append_pair("data", self.data.name());
        }
        if self.seed != d.seed {
            q.append_pair("seed", &self.seed.to_string());
        }
        if self.probe != d.probe {
            q.append_pair("x", &format!("{:.3}", self.probe[0]));
            q.append_pair("y", &format!("{:.3}", self.probe[1]));
        }
        if let Some(panel) = self.panel {
            q.append_pair("panel", panel.name());
        }
        q.finish()
    }

    /// Changes T and keeps t inside the new chain.
    pub fn set_steps(&mut self, steps: usize) {
        self.steps = steps.clamp(bounds::STEPS.0, bounds::STEPS.1);
        self.t = self.t.min(self.steps);
    }
}

/// A whole-number setting (see [`read_number`]).
fn whole(
    key: &str,
    value: &str,
    (lo, hi): (usize, usize),
    fallback: usize,
    note: &mut impl FnMut(&str, String),
) -> usize {
    read_number(key, value, (lo as f64, hi as f64), fallback as f64, true, note) as usize
}

/// A real-valued setting (see [`read_number`]).
fn real<T: Into<f64> + Copy + FromF64>(
    key: &str,
    value: &str,
    (lo, hi): (T, T),
    fallback: T,
    note: &mut impl FnMut(&str, String),
) -> T {
    T::from_f64(read_number(
        key,
        value,
        (lo.into(), hi.into()),
        fallback.into(),
        false,
        note,
    ))
}

/// The float types settings are stored in.
trait FromF64 {
    fn from_f64(v: f64) -> Self;
}

impl FromF64 for f64 {
    fn from_f64(v: f64) -> Self {
        v
    }
}

impl FromF64 for f32 {
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

/// Reads one numeric setting whose allowed range is `[lo, hi]`. A value that is not a finite
/// number gives `fallback`; one outside the range is clamped; for whole-number settings a
/// fraction is rounded. Every such change is noted for the reader.
fn read_number(
    key: &str,
    value: &str,
    (lo, hi): (f64, f64),
    fallback: f64,
    whole: bool,
    note: &mut impl FnMut(&str, String),
) -> f64 {
    let v = match value.parse::<f64>() {
        Ok(v) if v.is_finite() => v,
        Ok(_) => {
            note(key, format!("'{value}' is not a finite number; using {fallback}"));
            return fallback;
        }
        Err(_) => {
            note(key, format!("'{value}' is not a number; using {fallback}"));
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
        note(key, format!("'{value}' is not a whole number; using {clamped}"));
    }
    clamped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_panel_can_be_embedded_by_name() {
        for panel in Panel::ALL {
            let (p, notes) = Params::from_query(&format!("panel={}", panel.name()));
            assert_eq!((p.panel, notes), (Some(panel), vec![]));
        }
        assert_eq!(Params::from_query("panel=digits").0.panel, Some(Panel::Digits));
    }

    #[test]
    fn empty_query_is_the_default() {
        assert_eq!(Params::from_query(""), (Params::default(), vec![]));
        assert_eq!(Params::default().to_query(), "");
    }

    #[test]
    fn round_trip() {
        let p = Params {
            kind: ScheduleKind::Sigmoid,
            steps: 40,
            beta_start: 1e-5,
            beta_end: 0.3,
            t: 12,
            data: DataSet::TwoMoons,
            seed: 42,
            probe: [0.125, -1.5],
            panel: Some(Panel::Posterior),
        };
        let (back, notes) = Params::from_query(&format!("?{}", p.to_query()));
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(back, p);
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
        assert_eq!(p.panel, None);
        let keys: Vec<&str> = notes.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(
            keys,
            ["T", "b1", "bT", "kind", "seed", "x", "panel", "foo", "data", "t"]
        );
        assert_eq!(p.data, DataSet::SwissRoll);
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
