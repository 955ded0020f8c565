//! Code blocks highlighted at build time with syntect: classed HTML
//! (`hl-*` classes), the colours in one stylesheet (`highlight.css`). The
//! syntax set is costly to load: it is loaded once, on the first code block,
//! and shared by every thread.

use std::sync::OnceLock;

use syntect::highlighting::ThemeSet;
use syntect::html::{ClassStyle, ClassedHTMLGenerator, css_for_theme_with_class_style};
use syntect::parsing::SyntaxSet;

const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };
/// Blocks larger than this are escaped, not highlighted (the regex
/// engine's time grows with them).
const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;

fn syntaxes() -> &'static SyntaxSet {
    static SYNTAXES: OnceLock<SyntaxSet> = OnceLock::new();
    SYNTAXES.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// A `<pre><code>` block of `code` in language `lang` (a token such as
/// `rust`, `rs` or `Python`): highlighted when the language is known,
/// escaped otherwise.
pub(crate) fn code_block(code: &str, lang: Option<&str>, out: &mut String) {
    let lang = lang.map(str::trim).filter(|l| !l.is_empty());
    let syntax = match lang {
        Some(lang) if code.len() <= MAX_HIGHLIGHT_BYTES => {
            let set = syntaxes();
            set.find_syntax_by_token(lang).map(|s| (set, s))
        }
        _ => None,
    };
    out.push_str("<pre class=\"code\"><code");
    if let Some(lang) = lang {
        out.push_str(" class=\"language-");
        escape_into(lang, out);
        out.push('"');
    }
    out.push('>');
    let highlighted = syntax.and_then(|(set, syntax)| {
        let mut generator = ClassedHTMLGenerator::new_with_class_style(syntax, set, STYLE);
        for line in syntect::util::LinesWithEndings::from(code) {
            generator.parse_html_for_line_which_includes_newline(line).ok()?;
        }
        Some(generator.finalize())
    });
    match highlighted {
        Some(html) => out.push_str(&html),
        None => escape_into(code, out),
    }
    out.push_str("</code></pre>\n");
}

/// The stylesheet of the `hl-*` classes: syntect's `InspiredGitHub`, and
/// `base16-ocean.dark` in dark mode.
pub(crate) fn stylesheet() -> String {
    let themes = ThemeSet::load_defaults();
    let mut css = String::new();
    if let Some(light) = themes.themes.get("InspiredGitHub")
        && let Ok(text) = css_for_theme_with_class_style(light, STYLE)
    {
        css.push_str(&text);
    }
    if let Some(dark) = themes.themes.get("base16-ocean.dark")
        && let Ok(text) = css_for_theme_with_class_style(dark, STYLE)
    {
        css.push_str("@media (prefers-color-scheme: dark) {\n");
        css.push_str(&text);
        css.push_str("}\n");
    }
    css
}

/// HTML-escapes `text` (text and attribute values alike).
pub(crate) fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_are_classed_and_others_escaped() {
        let mut out = String::new();
        code_block("fn main() {}\n", Some("rust"), &mut out);
        assert!(
            out.starts_with("<pre class=\"code\"><code class=\"language-rust\">"),
            "{out}"
        );
        assert!(out.contains("hl-"), "{out}");
        let mut out = String::new();
        code_block("<b>&</b>\n", Some("nosuchlanguage"), &mut out);
        assert!(out.contains("&lt;b&gt;&amp;&lt;/b&gt;"), "{out}");
        assert!(stylesheet().contains(".hl-"));
    }
}
