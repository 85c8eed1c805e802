//! Colours and fonts shared by every chart.

use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};

/// An opaque sRGB colour, `(red, green, blue)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Parses `#rrggbb` (the leading `#` is optional); `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<Rgb> {
        let h = hex.strip_prefix('#').unwrap_or(hex);
        if h.len() != 6 || !h.is_ascii() {
            return None;
        }
        let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
        Some(Rgb(c(0)?, c(2)?, c(4)?))
    }

    /// The colour as `#rrggbb`.
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Linear blend: `t = 0` gives `self`, `t = 1` gives `other`.
    pub fn blend(self, other: Rgb, t: f64) -> Rgb {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        Rgb(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }

    pub(crate) fn rgb(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
}

/// The look of a chart: colours for background, text, axes and grid, and a categorical palette for
/// series. [`Theme::light`] and [`Theme::dark`] match the page's `web/style.css` panels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// Fill of the whole chart.
    pub background: Rgb,
    /// Titles, tick labels, legend text.
    pub foreground: Rgb,
    /// Axis lines, secondary text ("no data", notes).
    pub muted: Rgb,
    /// Grid lines; also the colour of missing (NaN) heatmap cells.
    pub grid: Rgb,
    /// Categorical colours for series and bars, used in order (wrapping around).
    pub palette: Vec<Rgb>,
    /// CSS font family for all text.
    pub font_family: String,
}

impl Theme {
    /// Light theme (the page's light panel colours).
    pub fn light() -> Theme {
        Theme {
            background: Rgb(0xff, 0xff, 0xff),
            foreground: Rgb(0x1d, 0x21, 0x26),
            muted: Rgb(0x5d, 0x66, 0x70),
            grid: Rgb(0xe4, 0xe7, 0xeb),
            palette: vec![
                Rgb(0x2f, 0x6f, 0xde), // blue (the page's accent)
                Rgb(0xd9, 0x73, 0x00), // orange
                Rgb(0x1f, 0x8f, 0x5f), // green
                Rgb(0xc9, 0x35, 0x3b), // red
                Rgb(0x7b, 0x57, 0xc7), // purple
                Rgb(0x8c, 0x6d, 0x3f), // brown
                Rgb(0xc8, 0x4b, 0x99), // pink
                Rgb(0x2a, 0x8c, 0xb0), // teal
            ],
            font_family: "sans-serif".to_string(),
        }
    }

    /// Dark theme (the page's dark panel colours), with a lighter palette.
    pub fn dark() -> Theme {
        Theme {
            background: Rgb(0x1c, 0x20, 0x26),
            foreground: Rgb(0xe6, 0xe9, 0xed),
            muted: Rgb(0x9a, 0xa4, 0xae),
            grid: Rgb(0x2e, 0x34, 0x3c),
            palette: vec![
                Rgb(0x79, 0xa6, 0xff),
                Rgb(0xff, 0xa9, 0x4d),
                Rgb(0x4f, 0xd1, 0x9b),
                Rgb(0xff, 0x6b, 0x70),
                Rgb(0xb3, 0x9d, 0xff),
                Rgb(0xd1, 0xad, 0x7f),
                Rgb(0xff, 0x8c, 0xc8),
                Rgb(0x6f, 0xd3, 0xf0),
            ],
            font_family: "sans-serif".to_string(),
        }
    }

    /// [`Theme::dark`] if `dark`, else [`Theme::light`].
    pub fn for_dark_mode(dark: bool) -> Theme {
        if dark {
            Theme::dark()
        } else {
            Theme::light()
        }
    }

    /// Palette colour `i` (wrapping); the foreground colour if the palette is empty.
    pub fn color(&self, i: usize) -> Rgb {
        if self.palette.is_empty() {
            self.foreground
        } else {
            self.palette[i % self.palette.len()]
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::light()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        assert_eq!(Rgb::from_hex("#2f6fde"), Some(Rgb(0x2f, 0x6f, 0xde)));
        assert_eq!(Rgb(1, 2, 255).to_hex(), "#0102ff");
        assert_eq!(Rgb::from_hex("#12345"), None);
        assert_eq!(Rgb::from_hex("#gg0000"), None);
        assert_eq!(Rgb(0, 0, 0).blend(Rgb(200, 100, 50), 0.5), Rgb(100, 50, 25));
        assert_eq!(
            Rgb(0, 0, 0).blend(Rgb(200, 100, 50), f64::NAN),
            Rgb(0, 0, 0)
        );
    }

    #[test]
    fn palette_wraps() {
        let t = Theme::dark();
        assert_eq!(t.color(0), t.color(t.palette.len()));
        let empty = Theme {
            palette: vec![],
            ..Theme::light()
        };
        assert_eq!(empty.color(3), empty.foreground);
    }
}
