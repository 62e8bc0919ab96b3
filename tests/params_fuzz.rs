//! No link can break the page: arbitrary query strings (real keys and junk, repeated keys,
//! empty, huge, negative, NaN and infinite values, exponents, unicode, broken percent-encoding,
//! 10 kB values) never panic, always give values inside their bounds, say every change, and
//! the page's own link reads back to the same state.

use proptest::prelude::*;

use diffusion_playground::params::{CONTROLS, Input, Params, VIEW_KEYS, Value};

/// A value that might appear after `key=` in a link, hostile or not.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        (-3.0..3.0f64).prop_map(|v| v.to_string()),
        (0u32..3000).prop_map(|v| v.to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1e308".to_string()),
        Just("-1e-308".to_string()),
        Just(String::new()),
        Just("%ZZ%".to_string()),
        Just("%E2%82".to_string()),
        "[a-z0-9,\\-]{0,12}",
        "\\PC{0,8}",
        Just("9".repeat(10_000)),
        prop::sample::select(vec![
            "linear", "cosine", "sigmoid", "moons", "drawn", "epsilon", "x0", "ddpm", "any", "7", "T,t",
            "schedule"
        ])
        .prop_map(str::to_string),
    ]
}

/// A key: mostly the real ones, some junk.
fn key() -> impl Strategy<Value = String> {
    let mut real: Vec<String> = CONTROLS.iter().map(|c| c.key.to_string()).collect();
    real.extend(VIEW_KEYS.map(String::from));
    prop_oneof![
        4 => prop::sample::select(real),
        1 => "\\PC{0,6}",
        1 => Just("%ZZ".to_string()),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), value()), 0..12).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn assert_in_bounds(p: &Params) {
    for control in CONTROLS {
        match ((control.get)(p), control.input) {
            (Value::Number(v), Input::Whole { lo, hi } | Input::Real { lo, hi, .. }) => {
                assert!(v.is_finite() && (lo..=hi).contains(&v), "{} = {v}", control.key);
                if matches!(control.input, Input::Whole { .. }) {
                    assert_eq!(v, v.round(), "{} is whole", control.key);
                }
            }
            (Value::Name(n), Input::Choice(options)) => {
                assert!(options.contains(&n), "{} = {n}", control.key)
            }
            (Value::Unset, _) => {}
            (v, _) => panic!("{}: {v:?}", control.key),
        }
    }
    assert!(p.t <= p.steps && p.beta_start <= p.beta_end);
    assert!(p.train.reverse_steps <= p.steps);
    assert!(p.digits.guided_from <= p.digits.guided_to);
    assert!(p.schedule().steps() == p.steps, "a valid schedule");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_link_gives_a_valid_state_that_its_own_link_reproduces(q in query()) {
        let (p, notes) = Params::from_query(&q);
        assert_in_bounds(&p);
        // Every change is said: a link whose pairs were all taken as they were has no notes,
        // so a state differing from what the link asked for always comes with one.
        let link = p.to_query();
        let (back, again) = Params::from_query(&link);
        prop_assert_eq!(&back, &p, "{} -> {}", q, link);
        prop_assert!(again.is_empty(), "the page's own link needs no correction: {:?}", again);
        for n in &notes {
            prop_assert!(n.to_string().chars().count() < 400, "a short note: {}", n);
        }
    }

    #[test]
    fn a_value_outside_its_bounds_is_clamped_and_said(i in 0..CONTROLS.len(), v in any::<f64>()) {
        let control = &CONTROLS[i];
        let (Input::Whole { lo, hi } | Input::Real { lo, hi, .. }) = control.input else { return Ok(()) };
        let (p, notes) = Params::from_query(&format!("{}={v}", control.key));
        assert_in_bounds(&p);
        if !(lo..=hi).contains(&v) {
            prop_assert!(notes.iter().any(|n| n.key == control.key), "{}={} unsaid", control.key, v);
        }
    }
}
