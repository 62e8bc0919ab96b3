//! Formulas as MathML, which browsers typeset natively and screen readers read as mathematics.
//! They are written in a small TeX-like notation, so a formula in the source reads like one:
//!
//! - `β_t`, `x_0^i`, `ᾱ_{s≤150}`: sub- and superscripts of the atom before, one token or a
//!   `{group}`;
//! - `\sqrt{…}`, `\frac{…}{…}`, `\bar{…}`, `\tilde{…}`, `\text{…}`;
//! - a run of ASCII letters is one identifier (`log`, `SNR`), a number with its exponent one
//!   number (`9.357e-6`), anything else an operator.
//!
//! Only this crate's own strings go through it; `<`, `>` and `&` are escaped all the same.

/// `tex` as an inline `<math>` element.
pub fn math(tex: &str) -> String {
    let tokens: Vec<char> = tex.chars().collect();
    let mut parser = Parser {
        chars: &tokens,
        at: 0,
    };
    let body = parser.row(None);
    format!("<math>{body}</math>")
}

struct Parser<'a> {
    chars: &'a [char],
    at: usize,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    /// Atoms up to `close` (or the end), as an `<mrow>` when there is more than one.
    fn row(&mut self, close: Option<char>) -> String {
        let mut atoms = Vec::new();
        while let Some(c) = self.peek() {
            if Some(c) == close {
                self.at += 1;
                break;
            }
            if c.is_whitespace() {
                self.at += 1;
                continue;
            }
            let Some(atom) = self.atom() else { break };
            let atom = self.scripts(atom);
            atoms.push(atom);
        }
        match atoms.len() {
            1 => atoms.pop().unwrap_or_default(),
            _ => format!("<mrow>{}</mrow>", atoms.concat()),
        }
    }

    /// Sub- and superscripts after `base`.
    fn scripts(&mut self, base: String) -> String {
        let (mut sub, mut sup) = (None, None);
        while let Some(c @ ('_' | '^')) = self.peek() {
            self.at += 1;
            let script = self.atom().unwrap_or_default();
            if c == '_' {
                sub = Some(script)
            } else {
                sup = Some(script)
            }
        }
        match (sub, sup) {
            (None, None) => base,
            (Some(b), None) => format!("<msub>{base}{b}</msub>"),
            (None, Some(p)) => format!("<msup>{base}{p}</msup>"),
            (Some(b), Some(p)) => format!("<msubsup>{base}{b}{p}</msubsup>"),
        }
    }

    /// One atom: a group, a command, an identifier, a number or an operator.
    fn atom(&mut self) -> Option<String> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
        let c = self.peek()?;
        self.at += 1;
        Some(match c {
            '{' => self.row(Some('}')),
            '\\' => self.command(),
            c if c.is_ascii_alphabetic() => {
                let mut name = c.to_string();
                while let Some(n) = self.peek().filter(char::is_ascii_alphabetic) {
                    name.push(n);
                    self.at += 1;
                }
                format!("<mi>{name}</mi>")
            }
            c if c.is_ascii_digit() || (c == '.' && self.peek().is_some_and(|n| n.is_ascii_digit())) => {
                let mut number = c.to_string();
                while let Some(n) = self.peek() {
                    let exponent = n == 'e'
                        && self
                            .chars
                            .get(self.at + 1)
                            .is_some_and(|d| d.is_ascii_digit() || *d == '-');
                    let sign = n == '-' && number.ends_with('e');
                    if n.is_ascii_digit() || n == '.' || exponent || sign {
                        number.push(n);
                        self.at += 1;
                    } else {
                        break;
                    }
                }
                format!("<mn>{number}</mn>")
            }
            // Sums and products are operators (upright), not the variables Σ or Π.
            'Σ' | '∏' => format!("<mo>{c}</mo>"),
            c if c.is_alphabetic() => format!("<mi>{}</mi>", escape(&c.to_string())),
            '-' => "<mo>−</mo>".into(),
            c => format!("<mo>{}</mo>", escape(&c.to_string())),
        })
    }

    /// `\name` and its arguments.
    fn command(&mut self) -> String {
        let mut name = String::new();
        while let Some(n) = self.peek().filter(char::is_ascii_alphabetic) {
            name.push(n);
            self.at += 1;
        }
        match name.as_str() {
            "sqrt" => format!("<msqrt>{}</msqrt>", self.atom().unwrap_or_default()),
            "frac" => {
                let top = self.atom().unwrap_or_default();
                let bottom = self.atom().unwrap_or_default();
                format!("<mfrac>{top}{bottom}</mfrac>")
            }
            "bar" => format!(
                "<mover accent=\"true\">{}<mo>¯</mo></mover>",
                self.atom().unwrap_or_default()
            ),
            "tilde" => format!(
                "<mover accent=\"true\">{}<mo>~</mo></mover>",
                self.atom().unwrap_or_default()
            ),
            "text" => {
                while self.peek().is_some_and(char::is_whitespace) {
                    self.at += 1;
                }
                let mut text = String::new();
                if self.peek() == Some('{') {
                    self.at += 1;
                    while let Some(c) = self.peek() {
                        self.at += 1;
                        if c == '}' {
                            break;
                        }
                        text.push(c);
                    }
                }
                format!("<mtext>{}</mtext>", escape(&text))
            }
            // A space between atoms.
            "" => {
                self.at += 1;
                "<mspace width=\"0.3em\"></mspace>".into()
            }
            other => format!("<mi>{}</mi>", escape(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::math;

    #[test]
    fn scripts_numbers_and_commands() {
        assert_eq!(math("β_t"), "<math><msub><mi>β</mi><mi>t</mi></msub></math>");
        assert_eq!(
            math("\\bar{α}_150 = 0.7883"),
            "<math><mrow><msub><mover accent=\"true\"><mi>α</mi><mo>¯</mo></mover><mn>150</mn></msub><mo>=</mo><mn>0.7883</mn></mrow></math>"
        );
        assert_eq!(
            math("x_0^i"),
            "<math><msubsup><mi>x</mi><mn>0</mn><mi>i</mi></msubsup></math>"
        );
        assert_eq!(
            math("\\sqrt{1 - a}"),
            "<math><msqrt><mrow><mn>1</mn><mo>−</mo><mi>a</mi></mrow></msqrt></math>"
        );
        assert_eq!(math("9.357e-6"), "<math><mn>9.357e-6</mn></math>");
        assert_eq!(math("SNR"), "<math><mi>SNR</mi></math>");
        assert_eq!(math("Σ_i"), "<math><msub><mo>Σ</mo><mi>i</mi></msub></math>");
        assert_eq!(
            math("a < b"),
            "<math><mrow><mi>a</mi><mo>&lt;</mo><mi>b</mi></mrow></math>"
        );
        assert_eq!(
            math("\\frac{a}{b}"),
            "<math><mfrac><mi>a</mi><mi>b</mi></mfrac></math>"
        );
        assert_eq!(
            math("\\text{at }x"),
            "<math><mrow><mtext>at </mtext><mi>x</mi></mrow></math>"
        );
    }

    #[test]
    fn unbalanced_input_still_gives_closed_markup() {
        for tex in ["{a", "a_", "\\frac{a}", "}", "\\sqrt", "x^{2"] {
            let m = math(tex);
            assert!(m.starts_with("<math>") && m.ends_with("</math>"), "{tex}: {m}");
            assert_eq!(m.matches("<mrow>").count(), m.matches("</mrow>").count(), "{tex}");
        }
    }
}
