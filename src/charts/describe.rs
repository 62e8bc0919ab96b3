//! What each chart shows now, in one or two plain sentences, for readers who cannot see the
//! canvas (the page puts them in a polite live region) and for anyone who wants the numbers in
//! words. Pure: the same [`Scene`] the charts draw.

use super::{Scene, num};
use crate::data::DataSet;
use crate::math::exact::DataPosterior;

/// The data set in words.
fn data_name(set: DataSet) -> &'static str {
    match set {
        DataSet::SwissRoll => "the Swiss roll",
        DataSet::TwoMoons => "the two moons",
        DataSet::EightGaussians => "the eight Gaussians",
        DataSet::Drawn => "the drawn points",
    }
}

/// How much of the data's shape a reader would still see, from the share of signal left.
fn blur(alpha_bar: f64) -> &'static str {
    match alpha_bar {
        a if a >= 0.98 => "is still sharp",
        a if a >= 0.6 => "is blurred but its shape is clear",
        a if a >= 0.2 => "is mostly dissolved; only its rough shape remains",
        a if a >= 0.02 => "is almost pure noise",
        _ => "has become pure noise: nothing of the data is left",
    }
}

fn percent(v: f64) -> String {
    let p = 100.0 * v;
    if p >= 10.0 || p == 0.0 {
        format!("{p:.0} %")
    } else {
        format!("{} %", num(p))
    }
}

/// The noise schedule chart.
pub fn schedule(scene: &Scene) -> String {
    let (s, t) = (scene.schedule, scene.params.t);
    if t == 0 {
        return format!(
            "t = 0 of {}: the data itself, all of its signal kept. The curves show β, ᾱ and the SNR over t for the {} schedule.",
            s.steps(),
            scene.params.kind.name()
        );
    }
    let ab = s.alpha_bar(t);
    format!(
        "t = {t} of {}, {} schedule: β = {}, ᾱ = {}, so {} of the signal's variance remains; signal-to-noise ratio {}.",
        s.steps(),
        scene.params.kind.name(),
        num(s.beta(t)),
        num(ab),
        percent(ab),
        num(s.snr(t))
    )
}

/// The forward noising chart.
pub fn forward(scene: &Scene) -> String {
    let t = scene.params.t;
    let ab = scene.schedule.alpha_bar(t);
    let (signal, noise) = scene.schedule.noise_scales(t);
    format!(
        "t = {t}: {} {}; {} of the signal variance remains. Each point is scaled by {} and gets noise of standard deviation {}.",
        data_name(scene.params.data),
        blur(ab),
        percent(ab),
        num(signal as f64),
        num(noise as f64)
    )
}

/// The posterior chart.
pub fn posterior(scene: &Scene, post: Option<&DataPosterior<2>>) -> String {
    let [x, y] = scene.params.probe;
    let Some(post) = post else {
        return format!(
            "The probe x_t is at ({}, {}). At t = 0 there is no reverse step to show.",
            num(x as f64),
            num(y as f64)
        );
    };
    // Heaviest first (unstable: equal weights need no order; 2,000 of them each redraw).
    let mut w = post.weights.clone();
    w.sort_unstable_by(|a, b| b.total_cmp(a));
    let top: f64 = w.iter().take(10).sum();
    // How many data points it takes to hold half of the weight.
    let mut acc = 0.0;
    let half = w.iter().take_while(|&&v| {
        acc += v;
        acc < 0.5
    });
    let half = half.count() + 1;
    let [mx, my] = post.target;
    let learned = match scene.model.ready() {
        Some(l) => format!(
            " The trained model's step ends at ({}, {}).",
            num(l.mean[0] as f64),
            num(l.mean[1] as f64)
        ),
        None => String::new(),
    };
    format!(
        "t = {}: x_t at ({}, {}). The true target μ* is at ({}, {}). Half of the weight Q(x_0 | x_t) lies on {half} of {} data points; the ten most likely hold {}.{learned}",
        scene.params.t,
        num(x as f64),
        num(y as f64),
        num(mx as f64),
        num(my as f64),
        post.weights.len(),
        percent(top)
    )
}

/// The score chart.
pub fn score(scene: &Scene, field: Option<&super::score::Field>) -> String {
    let t = scene.params.t;
    let Some(field) = field else {
        return "At t = 0 the score of the data itself does not exist; move t above 0.".into();
    };
    let ab = scene.schedule.alpha_bar(t);
    let shape = if ab < 0.02 {
        "the exact arrows point gently towards the centre, as for a single Gaussian"
    } else if ab < 0.6 {
        "the exact arrows point towards the rough shape of the data"
    } else {
        "the exact arrows point sharply at the data itself"
    };
    let learned = match (field.median_angle, field.median_error) {
        (Some(angle), Some(error)) => format!(
            " The learned arrows differ from them by a median {angle:.0}° in direction and {} in length.",
            percent(error)
        ),
        _ => " No learned field yet: train the model to compare.".into(),
    };
    format!(
        "t = {t}: {shape}, over a grid of {} points.{learned}",
        field.exact.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::{ModelView, cloud};
    use crate::params::Params;

    fn with<R>(t: usize, f: impl FnOnce(&Scene) -> R) -> R {
        let params = Params {
            t,
            ..Params::default()
        };
        let schedule = params.schedule();
        let (data, eps) = cloud(params.data, params.seed);
        let scene = Scene {
            params: &params,
            schedule: &schedule,
            data: &data,
            eps: &eps,
            model: ModelView::Untrained,
        };
        f(&scene)
    }

    #[test]
    fn the_words_follow_t() {
        let early = with(5, forward);
        let late = with(1000, forward);
        assert!(early.contains("still sharp"), "{early}");
        assert!(late.contains("pure noise"), "{late}");
        let s = with(150, schedule);
        assert!(s.starts_with("t = 150 of 1000, linear schedule"), "{s}");
        assert!(s.contains("% of the signal"), "{s}");
    }

    #[test]
    fn the_posterior_and_score_say_their_numbers() {
        let p = with(100, |s| {
            posterior(s, super::super::posterior::compute(s).as_ref())
        });
        assert!(
            p.contains("true target μ*") && p.contains("of 2000 data points"),
            "{p}"
        );
        let f = with(50, |s| score(s, super::super::score::compute(s).as_ref()));
        assert!(f.contains("train the model"), "{f}");
        let none = with(0, |s| score(s, None));
        assert!(none.contains("t = 0"));
    }
}
