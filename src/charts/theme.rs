//! How the charts look: the colours of every quantity and the scale of text, lines and marks.
//!
//! Three themes share one palette design, after Okabe and Ito's colour-blind-safe set: no two
//! quantities that a chart sets side by side (learned against exact, DDPM against DDIM, the SNR
//! against the current step) differ by red against green alone; they also differ in lightness,
//! and the pairs that matter most differ in line style or shape as well.

use plotters::style::RGBColor;

/// The colours of one theme and the scale it draws at.
#[derive(Debug, PartialEq)]
pub struct Theme {
    /// Its name (the page's `data-theme`).
    pub name: &'static str,
    /// Text, lines and marks are drawn this many times their normal CSS size.
    pub scale: f64,
    /// The chart's background.
    pub paper: RGBColor,
    /// Text and axes.
    pub ink: RGBColor,
    /// The strongest mark (the probe's ring).
    pub strong: RGBColor,
    /// The light and the bold lines of the grid.
    pub grid_light: RGBColor,
    /// See `grid_light`.
    pub grid_bold: RGBColor,
    /// A legend's border.
    pub frame: RGBColor,
    /// The data `x_0`.
    pub data: RGBColor,
    /// Noised points `x_t` (and DDPM in the quality chart).
    pub noised: RGBColor,
    /// Partial targets `mu~(x_t, x_0)`.
    pub partial: RGBColor,
    /// Weights `Q(x_0 | x_t)` and `alpha_bar`.
    pub weight: RGBColor,
    /// The true target `mu*(x_t)` (and DDIM in the quality chart).
    pub target: RGBColor,
    /// The current timestep marker.
    pub marker: RGBColor,
    /// Signal-to-noise ratio.
    pub snr: RGBColor,
    /// Anything the trained model predicts.
    pub model: RGBColor,
    /// Exact quantities drawn as arrows.
    pub exact: RGBColor,
}

/// The page's everyday theme, and every export's.
pub const LIGHT: Theme = Theme {
    name: "light",
    scale: 1.0,
    paper: RGBColor(255, 255, 255),
    ink: RGBColor(60, 60, 60),
    strong: RGBColor(0, 0, 0),
    grid_light: RGBColor(240, 240, 240),
    grid_bold: RGBColor(225, 225, 225),
    frame: RGBColor(200, 200, 200),
    data: RGBColor(150, 150, 150),
    noised: RGBColor(0, 114, 178),
    partial: RGBColor(86, 150, 220),
    weight: RGBColor(230, 159, 0),
    target: RGBColor(170, 51, 119),
    marker: RGBColor(213, 94, 0),
    snr: RGBColor(0, 158, 115),
    model: RGBColor(213, 94, 0),
    exact: RGBColor(70, 70, 70),
};

/// For a system in dark mode: the same hues, lighter, on a dark background.
pub const DARK: Theme = Theme {
    name: "dark",
    scale: 1.0,
    paper: RGBColor(30, 32, 36),
    ink: RGBColor(220, 220, 220),
    strong: RGBColor(255, 255, 255),
    grid_light: RGBColor(44, 47, 52),
    grid_bold: RGBColor(60, 63, 70),
    frame: RGBColor(90, 90, 95),
    data: RGBColor(125, 125, 130),
    noised: RGBColor(86, 180, 233),
    partial: RGBColor(120, 170, 240),
    weight: RGBColor(240, 180, 40),
    target: RGBColor(230, 130, 190),
    marker: RGBColor(240, 120, 50),
    snr: RGBColor(40, 200, 150),
    model: RGBColor(245, 130, 50),
    exact: RGBColor(200, 200, 200),
};

/// For a projector at the back of a lecture hall: black on white, saturated colours, and text,
/// lines and points twice their size.
pub const PROJECTOR: Theme = Theme {
    name: "projector",
    scale: 2.0,
    paper: RGBColor(255, 255, 255),
    ink: RGBColor(0, 0, 0),
    strong: RGBColor(0, 0, 0),
    grid_light: RGBColor(230, 230, 230),
    grid_bold: RGBColor(200, 200, 200),
    frame: RGBColor(0, 0, 0),
    data: RGBColor(110, 110, 110),
    noised: RGBColor(0, 90, 160),
    partial: RGBColor(40, 120, 210),
    weight: RGBColor(220, 140, 0),
    target: RGBColor(150, 30, 100),
    marker: RGBColor(200, 70, 0),
    snr: RGBColor(0, 130, 90),
    model: RGBColor(200, 70, 0),
    exact: RGBColor(0, 0, 0),
};

impl Theme {
    /// The theme for the page: projector mode wins over the system's dark mode.
    pub fn pick(projector: bool, dark: bool) -> &'static Theme {
        match (projector, dark) {
            (true, _) => &PROJECTOR,
            (false, true) => &DARK,
            (false, false) => &LIGHT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An 8-bit sRGB channel in linear light.
    fn lin(v: u8) -> f64 {
        let v = v as f64 / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    }

    /// Relative luminance (WCAG), for contrast ratios.
    fn luminance(c: RGBColor) -> f64 {
        0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
    }

    fn contrast(a: RGBColor, b: RGBColor) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn text_is_readable_on_every_theme() {
        for theme in [&LIGHT, &DARK, &PROJECTOR] {
            assert!(contrast(theme.ink, theme.paper) >= 7.0, "{}", theme.name);
        }
        assert!(contrast(PROJECTOR.ink, PROJECTOR.paper) >= 20.0);
    }

    /// `c` as a viewer with protanopia (`PROTAN`) or deuteranopia (`DEUTAN`) sees it, after
    /// Viénot, Brettel and Mollon (1999), in linear RGB.
    const PROTAN: [[f64; 3]; 3] = [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ];
    const DEUTAN: [[f64; 3]; 3] = [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ];

    fn seen(c: RGBColor, m: &[[f64; 3]; 3]) -> [f64; 3] {
        let enc = |v: f64| {
            let v = v.clamp(0.0, 1.0);
            255.0
                * if v <= 0.0031308 {
                    12.92 * v
                } else {
                    1.055 * v.powf(1.0 / 2.4) - 0.055
                }
        };
        let l = [lin(c.0), lin(c.1), lin(c.2)];
        m.map(|row| enc(row[0] * l[0] + row[1] * l[1] + row[2] * l[2]))
    }

    fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt()
    }

    #[test]
    fn pairs_shown_together_stay_apart_for_red_green_colour_blindness() {
        // Learned against exact, DDPM against DDIM, SNR against the step marker, weights
        // against partial targets: still far apart (in 8-bit sRGB) as a protanope or a
        // deuteranope sees them. The old palette's green SNR and red marker were 30 apart for a deuteranope.
        for theme in [&LIGHT, &DARK, &PROJECTOR] {
            for (a, b) in [
                (theme.model, theme.exact),
                (theme.noised, theme.target),
                (theme.snr, theme.marker),
                (theme.weight, theme.partial),
            ] {
                for m in [&PROTAN, &DEUTAN] {
                    let d = distance(seen(a, m), seen(b, m));
                    assert!(d >= 50.0, "{}: {a:?} against {b:?}: {d:.0}", theme.name);
                }
            }
        }
        let (green, red) = (RGBColor(44, 160, 44), RGBColor(214, 39, 40));
        assert!(distance(seen(green, &DEUTAN), seen(red, &DEUTAN)) < 50.0);
    }
}
