//! What `diffusion mnist sweep` measures and how it picks the digits' defaults: the record it
//! writes (`assets/mnist/sweep.json`, which the page's digits panel charts) and the rule, in
//! one place for the command line, the page and the tests.
//!
//! The rule: among the guidance settings whose digits are recognised as the asked class at
//! least [`RIGHT`] of the time, the one with the lowest Fréchet distance to real digits; then,
//! at that guidance, the fewest steps whose distance is within [`STEPS_SLACK`] of the distance
//! at the reference step count.

use serde::{Deserialize, Serialize};

/// Guidance must keep the asked digit recognised at least this often.
pub const RIGHT: f64 = 0.97;
/// Fewer steps are good enough while the distance stays within this share of the reference's.
pub const STEPS_SLACK: f64 = 0.05;

/// One point of the grid: how the digits were sampled (always DDIM).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// Classifier-free guidance weight `w`.
    pub guidance: f32,
    /// Timesteps `[lo, hi]` where guidance applies; absent without guidance.
    pub interval: Option<[usize; 2]>,
    /// DDIM's steps.
    pub steps: usize,
    /// DDIM's eta.
    pub eta: f64,
}

/// What the judge said of one set of digits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Recognised as the asked digit.
    pub right: f64,
    /// The judge at least 90 % sure.
    pub sure: f64,
    /// Fréchet distance to the reference digits in the judge's features.
    pub distance: f64,
    /// Share of the digits inside the reference digits' manifold (realism).
    pub precision: f64,
    /// Share of the reference digits inside the samples' manifold (variety).
    pub recall: f64,
    /// Share of the digits with an isolated bright pixel.
    pub speckled: f64,
}

/// One setting and its scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// How the digits were sampled.
    #[serde(flatten)]
    pub setting: Setting,
    /// What the judge said.
    #[serde(flatten)]
    pub scores: Scores,
    /// Network evaluations per digit.
    pub evaluations: usize,
    /// Seconds of sampling per digit on one core of the machine that ran the sweep.
    pub seconds_per_digit: f64,
}

/// The whole record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// What this is, in words.
    pub about: String,
    /// Digits per setting.
    pub samples: usize,
    /// The rule, in words.
    pub rule: String,
    /// The judge's accuracy on the reference digits.
    pub judge_right: f64,
    /// Held-out real digits judged like samples: the best a model can do.
    pub real: Scores,
    /// The guidance grid, at the reference step count.
    pub guidance: Vec<Measured>,
    /// The step counts at the chosen guidance (and other etas, for comparison).
    pub steps: Vec<Measured>,
    /// What the rule picked.
    pub chosen: Setting,
}

impl Sweep {
    /// Reads the JSON `diffusion mnist sweep` wrote.
    pub fn parse(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("the sweep's record is not valid: {e}"))
    }

    /// The guidance curve through `interval`: `(w, scores)` by increasing w, the unguided
    /// setting (w = 0) first.
    pub fn guidance_curve(&self, interval: [usize; 2]) -> Vec<(f32, &Scores)> {
        let mut curve: Vec<(f32, &Scores)> = self
            .guidance
            .iter()
            .filter(|m| m.setting.guidance == 0.0 || m.setting.interval == Some(interval))
            .map(|m| (m.setting.guidance, &m.scores))
            .collect();
        curve.sort_by(|a, b| a.0.total_cmp(&b.0));
        curve
    }

    /// The steps curve at `eta`: `(steps, scores)` by increasing steps.
    pub fn steps_curve(&self, eta: f64) -> Vec<(usize, &Scores)> {
        let mut curve: Vec<(usize, &Scores)> = self
            .steps
            .iter()
            .filter(|m| m.setting.eta == eta)
            .map(|m| (m.setting.steps, &m.scores))
            .collect();
        curve.sort_by_key(|p| p.0);
        curve
    }

    /// The guidance intervals the sweep tried.
    pub fn intervals(&self) -> Vec<[usize; 2]> {
        let mut all: Vec<[usize; 2]> = self.guidance.iter().filter_map(|m| m.setting.interval).collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// The guidance setting the rule picks: the lowest distance among those right often enough
/// (or, if none is, the most often right).
pub fn choose_guidance(measured: &[Measured]) -> Option<&Measured> {
    measured
        .iter()
        .filter(|m| m.scores.right >= RIGHT)
        .min_by(|a, b| a.scores.distance.total_cmp(&b.scores.distance))
        .or_else(|| {
            measured
                .iter()
                .max_by(|a, b| a.scores.right.total_cmp(&b.scores.right))
        })
}

/// The fewest steps, at `reference`'s guidance and eta, within the slack of its distance.
pub fn choose_steps<'a>(measured: &'a [Measured], reference: &'a Measured) -> &'a Measured {
    let same_guidance = |m: &&Measured| {
        m.setting.eta == reference.setting.eta
            && m.setting.guidance == reference.setting.guidance
            && m.setting.interval == reference.setting.interval
    };
    measured
        .iter()
        .filter(same_guidance)
        .filter(|m| m.scores.distance <= reference.scores.distance * (1.0 + STEPS_SLACK))
        .min_by_key(|m| m.setting.steps)
        .unwrap_or(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(guidance: f32, steps: usize, right: f64, distance: f64) -> Measured {
        Measured {
            setting: Setting {
                guidance,
                interval: (guidance > 0.0).then_some([0, 1000]),
                steps,
                eta: 1.0,
            },
            scores: Scores {
                right,
                sure: right,
                distance,
                precision: 0.8,
                recall: 0.8,
                speckled: 0.0,
            },
            evaluations: steps,
            seconds_per_digit: 0.01,
        }
    }

    #[test]
    fn guidance_is_the_closest_to_real_digits_among_those_right_often_enough() {
        // w = 0 is closest but often wrong; w = 2 is always right but far.
        let grid = [
            measured(0.0, 50, 0.90, 5.0),
            measured(0.5, 50, 0.975, 6.0),
            measured(2.0, 50, 1.0, 15.0),
        ];
        assert_eq!(choose_guidance(&grid).unwrap().setting.guidance, 0.5);
        // Nothing right often enough: the most often right.
        let grid = [measured(0.0, 50, 0.5, 5.0), measured(1.0, 50, 0.8, 9.0)];
        assert_eq!(choose_guidance(&grid).unwrap().setting.guidance, 1.0);
        assert!(choose_guidance(&[]).is_none());
    }

    #[test]
    fn steps_are_the_fewest_within_five_percent_of_the_reference() {
        let reference = measured(0.5, 50, 0.98, 10.0);
        let grid = [
            measured(0.5, 5, 0.9, 30.0),
            measured(0.5, 10, 0.97, 10.6), // 6 % worse: not good enough
            measured(0.5, 25, 0.98, 10.4), // 4 % worse: good enough
            reference.clone(),
            measured(0.5, 100, 0.98, 9.8),
            measured(2.0, 5, 1.0, 1.0), // another guidance: not a candidate
        ];
        assert_eq!(choose_steps(&grid, &reference).setting.steps, 25);
    }

    #[test]
    fn the_record_reads_back_and_gives_its_curves() {
        let sweep = Sweep {
            about: "test".into(),
            samples: 10,
            rule: "rule".into(),
            judge_right: 0.96,
            real: measured(0.0, 0, 0.97, 3.0).scores,
            guidance: vec![measured(2.0, 50, 1.0, 9.0), measured(0.0, 50, 0.9, 5.0)],
            steps: vec![measured(2.0, 50, 1.0, 9.0), measured(2.0, 10, 1.0, 9.2)],
            chosen: measured(2.0, 10, 1.0, 9.2).setting,
        };
        let json = serde_json::to_string(&sweep).unwrap();
        let back = Sweep::parse(&json).unwrap();
        assert_eq!(back, sweep);
        let curve = back.guidance_curve([0, 1000]);
        assert_eq!(curve.iter().map(|p| p.0).collect::<Vec<_>>(), [0.0, 2.0]);
        assert_eq!(
            back.steps_curve(1.0).iter().map(|p| p.0).collect::<Vec<_>>(),
            [10, 50]
        );
        assert_eq!(back.intervals(), [[0, 1000]]);
        assert!(Sweep::parse("{}").unwrap_err().contains("not valid"));
    }
}
