//! Server-side highlighting with syntect: classed HTML (`hl-*` classes,
//! colours in one stylesheet made from a syntect theme), one
//! self-contained HTML fragment per line so that every line can carry a
//! number and an anchor.

use syntect::highlighting::ThemeSet;
use syntect::html::{ClassStyle, css_for_theme_with_class_style, line_tokens_to_classed_spans};
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};

const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };
/// Content larger than this is shown escaped, without highlighting (the
/// regex engine's time grows with it).
const MAX_HIGHLIGHT_BYTES: usize = 256 * 1024;
/// Lines longer than this (minified code) are not highlighted either.
const MAX_HIGHLIGHT_LINE: usize = 16 * 1024;

/// A language of the form's list.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct Language {
    /// What `?hl=` and the form send: the syntax's first extension.
    pub token: String,
    /// Its name.
    pub name: String,
}

/// Highlighted content.
#[derive(Debug)]
pub(crate) struct Highlighted {
    /// One HTML fragment per line (escaped text in balanced spans).
    pub lines: Vec<String>,
    /// The language used (`Plain Text` when none).
    pub language: String,
}

/// Cache entries: (paste id, language asked for) -> highlighting.
type Entries = std::collections::HashMap<(String, Option<String>), std::sync::Arc<Highlighted>>;

/// Highlighted pastes by id and language. A paste's content never
/// changes under its id, so an entry never goes stale; the handler checks
/// that the paste still exists (and has not expired) before asking, and
/// never caches burn-after-reading pastes. Bounded: emptied when full.
#[derive(Debug)]
pub(crate) struct HighlightCache {
    entries: std::sync::Mutex<Entries>,
    capacity: usize,
}

impl HighlightCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Default::default(),
            capacity,
        }
    }

    /// The cached highlighting of `id` in `lang`, or `make()`'s, kept.
    pub(crate) fn get_or_make(
        &self,
        id: &str,
        lang: Option<&str>,
        make: impl FnOnce() -> Highlighted,
    ) -> std::sync::Arc<Highlighted> {
        let key = (id.to_string(), lang.map(str::to_string));
        if let Some(hit) = self.lock().get(&key) {
            return hit.clone();
        }
        let made = std::sync::Arc::new(make());
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, made.clone());
        made
    }

    /// Drops every entry of `id` (deleted).
    pub(crate) fn forget(&self, id: &str) {
        self.lock().retain(|(key, _), _| key != id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The syntaxes, the list of languages and the stylesheet.
#[derive(Debug)]
pub(crate) struct Highlighter {
    syntaxes: SyntaxSet,
    languages: Vec<Language>,
    css: String,
}

impl Default for Highlighter {
    fn default() -> Self {
        Self::new()
    }
}

impl Highlighter {
    /// syntect's default syntaxes and the `InspiredGitHub` (light) and
    /// `base16-ocean.dark` (dark mode) themes.
    pub(crate) fn new() -> Self {
        let syntaxes = SyntaxSet::load_defaults_newlines();
        let mut languages: Vec<Language> = syntaxes
            .syntaxes()
            .iter()
            .filter(|s| !s.hidden && s.name != "Plain Text")
            .filter_map(|s| {
                Some(Language {
                    token: s.file_extensions.first()?.clone(),
                    name: s.name.clone(),
                })
            })
            .collect();
        languages.sort_by_key(|l| l.name.to_ascii_lowercase());
        languages.dedup_by(|a, b| a.token == b.token);
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
        Self {
            syntaxes,
            languages,
            css,
        }
    }

    /// The languages a paste can be given.
    pub(crate) fn languages(&self) -> &[Language] {
        &self.languages
    }

    /// The stylesheet of the `hl-*` classes.
    pub(crate) fn css(&self) -> &str {
        &self.css
    }

    /// The syntax of `name`: an extension (`rs`), a token syntect knows,
    /// or a language name (`Rust`, any case).
    fn syntax(&self, name: &str) -> Option<&SyntaxReference> {
        let name = name.trim();
        if name.is_empty() || name.eq_ignore_ascii_case("auto") {
            return None;
        }
        self.syntaxes.find_syntax_by_token(name).or_else(|| {
            self.syntaxes
                .syntaxes()
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
        })
    }

    /// The canonical token of a language the user named, if known.
    pub(crate) fn resolve(&self, name: &str) -> Option<String> {
        let syntax = self.syntax(name)?;
        syntax
            .file_extensions
            .first()
            .cloned()
            .or_else(|| Some(syntax.name.clone()))
    }

    /// A language guessed from a file name's extension or the first line
    /// (shebangs, `<?php`, `<?xml`, mode lines); `None` for plain text.
    pub(crate) fn detect(&self, text: &str, filename: Option<&str>) -> Option<String> {
        let by_name = filename
            .and_then(|f| f.rsplit_once('.'))
            .and_then(|(_, ext)| self.syntaxes.find_syntax_by_extension(ext));
        let syntax = by_name.or_else(|| self.syntaxes.find_syntax_by_first_line(text))?;
        if syntax.name == "Plain Text" {
            return None;
        }
        syntax.file_extensions.first().cloned()
    }

    /// The display name of a language token.
    pub(crate) fn name_of(&self, lang: Option<&str>) -> String {
        lang.and_then(|l| self.syntax(l))
            .map(|s| s.name.clone())
            .unwrap_or_else(|| "Plain Text".to_string())
    }

    /// `text` as highlighted lines in language `lang` (plain when `None`,
    /// unknown, or too large to highlight).
    pub(crate) fn highlight(&self, text: &str, lang: Option<&str>) -> Highlighted {
        let syntax = lang.and_then(|l| self.syntax(l));
        let too_big =
            text.len() > MAX_HIGHLIGHT_BYTES || text.split('\n').any(|line| line.len() > MAX_HIGHLIGHT_LINE);
        match syntax {
            Some(syntax) if !too_big => match self.classed_lines(text, syntax) {
                Some(lines) => Highlighted {
                    lines,
                    language: syntax.name.clone(),
                },
                None => plain(text),
            },
            _ => plain(text),
        }
    }

    fn classed_lines(&self, text: &str, syntax: &SyntaxReference) -> Option<Vec<String>> {
        let mut state = ParseState::new(syntax);
        let mut stack = ScopeStack::new();
        let mut lines = Vec::new();
        for line in text.split_inclusive('\n') {
            let ops = state.parse_line(line, &self.syntaxes).ok()?;
            // Reopen the scopes still open from the previous lines, so that
            // every line is balanced HTML of its own.
            let mut html = String::new();
            for scope in stack.as_slice() {
                open_span(&mut html, *scope);
            }
            let (body, _) = line_tokens_to_classed_spans(line, &ops, STYLE, &mut stack).ok()?;
            html.push_str(body.trim_end_matches(['\n', '\r']));
            // Close what is open now: the previous lines' scopes plus the
            // net opened on this line (the stack's depth after it).
            for _ in 0..stack.len() {
                html.push_str("</span>");
            }
            lines.push(html);
        }
        if text.is_empty() {
            lines.push(String::new());
        }
        Some(lines)
    }
}

fn open_span(out: &mut String, scope: Scope) {
    out.push_str("<span class=\"");
    for (i, atom) in scope.build_string().split('.').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str("hl-");
        out.push_str(atom);
    }
    out.push_str("\">");
}

fn plain(text: &str) -> Highlighted {
    let lines = text
        .split('\n')
        .map(|line| escape(line.trim_end_matches('\r')))
        .collect::<Vec<_>>();
    // A final newline does not make an extra empty line.
    let lines = match lines.split_last() {
        Some((last, rest)) if last.is_empty() && !rest.is_empty() => rest.to_vec(),
        _ => lines,
    };
    Highlighted {
        lines,
        language: "Plain Text".to_string(),
    }
}

/// HTML-escapes text.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_by_id_and_language_and_forgets() {
        let h = Highlighter::new();
        let cache = HighlightCache::new(2);
        let mut made = 0;
        for _ in 0..3 {
            cache.get_or_make("a", Some("rs"), || {
                made += 1;
                h.highlight("fn x() {}", Some("rs"))
            });
        }
        assert_eq!(made, 1);
        cache.get_or_make("a", None, || h.highlight("x", None));
        cache.forget("a");
        cache.get_or_make("a", Some("rs"), || {
            made += 1;
            h.highlight("fn x() {}", Some("rs"))
        });
        assert_eq!(made, 2);
    }

    fn balanced(html: &str) -> bool {
        html.matches("<span").count() == html.matches("</span>").count()
    }

    #[test]
    fn rust_is_highlighted_line_by_line_with_balanced_spans() {
        let h = Highlighter::new();
        let text = "fn main() {\n    /* a comment\n       on two lines */\n    let s = \"<b>\";\n}\n";
        let out = h.highlight(text, Some("rs"));
        assert_eq!(out.language, "Rust");
        assert_eq!(out.lines.len(), 5);
        for line in &out.lines {
            assert!(balanced(line), "{line}");
        }
        assert!(
            out.lines[0].contains("hl-keyword") || out.lines[0].contains("hl-storage"),
            "{}",
            out.lines[0]
        );
        // The comment's second line still carries the comment's class.
        assert!(out.lines[2].contains("hl-comment"), "{}", out.lines[2]);
        assert!(out.lines[3].contains("&lt;b&gt;"), "{}", out.lines[3]);
        assert!(!out.lines.concat().contains("<b>"));
    }

    #[test]
    fn unknown_or_missing_languages_are_plain_and_escaped() {
        let h = Highlighter::new();
        let out = h.highlight("<script>alert(1)</script>\nx", Some("no-such-language"));
        assert_eq!(out.language, "Plain Text");
        assert_eq!(out.lines, ["&lt;script&gt;alert(1)&lt;/script&gt;", "x"]);
        assert_eq!(h.highlight("a\n", None).lines, ["a"]);
    }

    #[test]
    fn languages_resolve_by_token_and_name_and_are_detected() {
        let h = Highlighter::new();
        assert_eq!(h.resolve("Rust").as_deref(), Some("rs"));
        assert_eq!(h.resolve("py").as_deref(), Some("py"));
        assert_eq!(h.resolve("auto"), None);
        assert_eq!(
            h.detect("#!/usr/bin/env python3\nprint(1)\n", None).as_deref(),
            Some("py")
        );
        assert_eq!(h.detect("hello", Some("main.rs")).as_deref(), Some("rs"));
        assert_eq!(h.detect("just words", None), None);
        assert!(h.languages().iter().any(|l| l.name == "Rust"));
        assert!(h.css().contains(".hl-"));
    }
}
