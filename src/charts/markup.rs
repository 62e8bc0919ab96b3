//! The shape of a formula's markup, so that the page can update a formula by its changed
//! numbers rather than by re-parsing it. Writing `innerHTML` makes the browser parse the
//! markup, build a new MathML tree and lay it out: 1.4-1.8 ms of every redraw for the panels'
//! formulas, whose tags stay the same while t moves and only their numbers change.
//!
//! [`Markup::parse`] splits markup this crate writes into its tags (the skeleton) and the text
//! between them, decoded as the browser's parser would. Two markups with the same skeleton make
//! the same tree, and the browser's text nodes are the texts, in order.

/// Markup as a skeleton of tags and the text nodes between them.
#[derive(Clone, Debug, PartialEq)]
pub struct Markup {
    /// Every tag, in order, with a mark where text came between them.
    pub skeleton: String,
    /// The text nodes' contents, decoded, in document order.
    pub texts: Vec<String>,
}

impl Markup {
    /// Splits `html`; `None` for anything the page's writers do not produce (comments, a
    /// character reference this does not know, an unclosed tag), which is then written whole.
    pub fn parse(html: &str) -> Option<Self> {
        let mut skeleton = String::with_capacity(html.len());
        let mut texts = Vec::new();
        let mut rest = html;
        while !rest.is_empty() {
            if let Some(tag) = rest.strip_prefix('<') {
                if tag.starts_with('!') {
                    return None;
                }
                let end = tag.find('>')?;
                skeleton.push('<');
                skeleton.push_str(&tag[..=end]);
                rest = &tag[end + 1..];
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                texts.push(decode(&rest[..end])?);
                skeleton.push('\u{1}');
                rest = &rest[end..];
            }
        }
        Some(Self { skeleton, texts })
    }
}

/// Text with its character references replaced by the characters they name.
fn decode(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find(';')?;
        let name = &after[..end];
        let c = match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => '\u{a0}',
            _ => {
                let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => name.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::mathml::math;

    #[test]
    fn same_tags_same_skeleton_and_the_numbers_are_the_texts() {
        let a = Markup::parse(&math(r"\bar{α}_{150} = 0.7883")).unwrap();
        let b = Markup::parse(&math(r"\bar{α}_{151} = 0.7861")).unwrap();
        assert_eq!(a.skeleton, b.skeleton);
        assert_eq!(a.texts, ["α", "¯", "150", "=", "0.7883"]);
        assert_eq!(b.texts, ["α", "¯", "151", "=", "0.7861"]);
        // A different formula is a different tree.
        let c = Markup::parse(&math(r"\bar{α}_{150} = -0.5")).unwrap();
        assert_ne!(a.skeleton, c.skeleton);
    }

    #[test]
    fn text_is_decoded_as_the_browser_would() {
        let m = Markup::parse("x &lt; y,&nbsp;<b>a&amp;b &#945;&#x3b2;</b>").unwrap();
        assert_eq!(m.texts, ["x < y,\u{a0}", "a&b αβ"]);
        assert_eq!(m.skeleton, "\u{1}<b>\u{1}</b>");
    }

    #[test]
    fn what_it_cannot_follow_is_refused() {
        assert_eq!(Markup::parse("a <!-- b --> c"), None);
        assert_eq!(Markup::parse("a &copy; b"), None);
        assert_eq!(Markup::parse("a & b"), None);
        assert_eq!(Markup::parse("<b unclosed"), None);
        assert_eq!(
            Markup::parse(""),
            Some(Markup {
                skeleton: String::new(),
                texts: vec![]
            })
        );
    }
}
