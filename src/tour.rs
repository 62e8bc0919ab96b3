//! The guided walk: stops that follow the source documents' line of thought, from the forward
//! process to guided digits. Each stop names the panel to look at, the element to highlight,
//! the settings that show its point (written as link pairs, so they pass through the same
//! checks as a link, see [`Params::apply`]) and two or three sentences. Pure data and one pure
//! function; the page draws the walk (`web::tour`).

use crate::params::Params;

/// One stop of the walk.
#[derive(Debug)]
pub struct Stop {
    /// A short title.
    pub title: &'static str,
    /// What to see, in two or three sentences.
    pub text: &'static str,
    /// The panel brought into view (`panel-NAME`).
    pub panel: &'static str,
    /// The element outlined as the thing to look at.
    pub highlight: &'static str,
    /// Settings for this stop, as `(key, value)` pairs of the control table.
    pub settings: &'static [(&'static str, &'static str)],
    /// A button that performs this stop's experiment, and what it is called in the walk.
    pub try_it: Option<(&'static str, &'static str)>,
}

/// The walk, in order.
pub const STOPS: &[Stop] = &[
    Stop {
        title: "Noise, a little at a time",
        text: "The forward process adds a small Gaussian step of noise T times. We never have to \
               run those steps: x_t is a scaled copy of the data plus one draw of noise, \
               x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε. Each point keeps its own ε, so you can follow it \
               as t grows.",
        panel: "forward",
        highlight: "forward-canvas",
        settings: &[
            ("data", "swiss-roll"),
            ("kind", "linear"),
            ("T", "1000"),
            ("t", "150"),
        ],
        try_it: None,
    },
    Stop {
        title: "What survives of the signal",
        text: "ᾱ_t, the product of all 1 − β_s so far, is the share of the data's variance left \
               at step t; the signal-to-noise ratio is ᾱ_t / (1 − ᾱ_t). The linear schedule \
               destroys most of the signal early; switch to cosine and watch the SNR curve fall \
               more evenly.",
        panel: "schedule",
        highlight: "schedule-canvas",
        settings: &[("kind", "linear"), ("t", "500")],
        try_it: None,
    },
    Stop {
        title: "Why x_T is pure noise",
        text: "At t = T, ᾱ_T is almost zero: nothing of the roll is left, and x_T is a standard \
               Gaussian whatever the data was. That is what lets sampling start from noise \
               that knows nothing about the data.",
        panel: "forward",
        highlight: "forward-canvas",
        settings: &[("t", "1000")],
        try_it: None,
    },
    Stop {
        title: "The reverse step's true target",
        text: "Given a noisy x_t, every data point x_0 could have produced it, with probability \
               Q(x_0 | x_t). Each proposes its own step μ̃(x_t, x_0); their weighted average \
               μ*(x_t) is the best possible reverse step. Drag the point: near the data one x_0 \
               dominates, far away many share the vote.",
        panel: "posterior",
        highlight: "posterior-canvas",
        settings: &[("t", "100"), ("x", "0.35"), ("y", "-0.55")],
        try_it: None,
    },
    Stop {
        title: "Learning it: predict the noise",
        text: "A network cannot look at every data point, so it learns μ* instead, by \
               regression: show it x_t and t, and ask for the ε that made x_t (the simple loss \
               L_simple). The loss falls quickly and then slowly; the orange arrows in the score \
               panel start to follow the grey ones.",
        panel: "train",
        highlight: "loss-canvas",
        settings: &[("predict", "epsilon"), ("steps", "1500")],
        try_it: Some(("train", "Train the model")),
    },
    Stop {
        title: "Sampling back: DDPM and DDIM",
        text: "Start from pure noise and take reverse steps with the trained network. DDPM adds \
               fresh noise at each step and needs many of them; DDIM with η = 0 is \
               deterministic and can skip steps. The chart below the samples shows how \
               quality changes with the number of steps for both.",
        panel: "train",
        highlight: "samples-canvas",
        settings: &[("sampler", "ddim"), ("rsteps", "50"), ("eta", "0")],
        try_it: Some(("sample", "Sample")),
    },
    Stop {
        title: "The score: which way is the data?",
        text: "Predicting the noise is learning the score, the gradient of log q(x_t): \
               −ε / √(1 − ᾱ_t) on average. At large t the field points gently to the centre; \
               as t falls it sharpens and points at the roll itself.",
        panel: "score",
        highlight: "score-canvas",
        settings: &[("t", "50")],
        try_it: None,
    },
    Stop {
        title: "The bound, term by term",
        text: "Training on L_simple is a reweighted form of the variational bound on the \
               negative log-likelihood: a prior term L_T, one KL term L_{t−1} per step and a \
               decoder term L_0. The chart shows each term for the trained model; most of the \
               bound comes from the last few steps near the data.",
        panel: "train",
        highlight: "elbo-canvas",
        settings: &[],
        try_it: Some(("elbo-compute", "Compute the bound")),
    },
    Stop {
        title: "Digits, and asking for one",
        text: "The same recipe on 28×28 images: a small U-Net predicts the noise. Ask for a digit \
               and turn classifier-free guidance up: the network's answer with the label is \
               pushed away from its answer without it. Guidance makes the asked digit more \
               certain, and the digits more alike.",
        panel: "digits",
        highlight: "digits-canvas",
        settings: &[("digit", "3"), ("w", "2")],
        try_it: Some(("digits-sample", "Sample digits")),
    },
];

/// The stop numbered `step` (from 1), if there is one.
pub fn stop(step: usize) -> Option<&'static Stop> {
    step.checked_sub(1).and_then(|i| STOPS.get(i))
}

/// `params` as stop `step` shows them: its settings applied, the walk marked open at it.
/// Settings the stop does not name keep the reader's values.
pub fn visit(params: &Params, step: usize) -> Params {
    let mut p = params.clone();
    if let Some(stop) = stop(step) {
        let pairs: Vec<(String, String)> = stop
            .settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        p.apply(&pairs);
        p.view.tour = Some(step);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Panel;

    #[test]
    fn every_stop_names_real_panels_and_settings() {
        for (i, stop) in STOPS.iter().enumerate() {
            assert!(Panel::from_name(stop.panel).is_some(), "stop {}", i + 1);
            let pairs: Vec<(String, String)> = stop
                .settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let notes = Params::default().apply(&pairs);
            assert!(notes.is_empty(), "stop {}: {notes:?}", i + 1);
            let words = stop.text.split_whitespace().count();
            assert!((25..=80).contains(&words), "stop {} has {words} words", i + 1);
        }
        assert!((7..=10).contains(&STOPS.len()));
    }

    #[test]
    fn a_stop_sets_what_it_promises_and_keeps_the_rest() {
        let reader = Params {
            seed: 42,
            ..Params::default()
        };
        let p = visit(&reader, 3);
        assert_eq!(p.t, p.steps, "x_T is shown at t = T");
        assert_eq!(p.seed, 42);
        assert_eq!(p.view.tour, Some(3));
        let p = visit(&reader, 4);
        assert_eq!((p.t, p.probe), (100, [0.35, -0.55]));
        assert_eq!(visit(&reader, 99), reader, "no such stop: nothing changes");
    }
}
