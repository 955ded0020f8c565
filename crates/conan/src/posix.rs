//! POSIX extended regular expressions (what magic files use, compiled by
//! libmagic with `regcomp(REG_EXTENDED | REG_NEWLINE)`) translated to the
//! `regex` crate's syntax over bytes.
//!
//! Why `regex`: linear time whatever the pattern or input (a hostile file
//! cannot make a test take exponential time), and no C dependency. The
//! difference is the match extent of alternations (POSIX picks the longest,
//! `regex` the first); it only shows in the `%s` of a few descriptions.

use regex::bytes::{Regex, RegexBuilder};

/// Compiles a magic `regex` value; `None` when it is not a valid POSIX ERE.
pub(crate) fn compile(pattern: &[u8], ignore_case: bool) -> Option<Regex> {
    let pattern = until_nul(pattern);
    let translated = translate(pattern, &tokens(pattern)?)?;
    RegexBuilder::new(&translated)
        .unicode(false)
        .multi_line(true)
        .dot_matches_new_line(false)
        .case_insensitive(ignore_case)
        .size_limit(1 << 22)
        .build()
        .ok()
}

/// A C string ends at its first NUL.
fn until_nul(p: &[u8]) -> &[u8] {
    match memchr::memchr(0, p) {
        Some(n) => &p[..n],
        None => p,
    }
}

fn push_byte(out: &mut String, c: u8) {
    if c.is_ascii_alphanumeric() || c == b'_' {
        out.push(char::from(c));
    } else {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push_str("\\x");
        out.push(char::from(HEX[usize::from(c >> 4)]));
        out.push(char::from(HEX[usize::from(c & 15)]));
    }
}

/// One token of a POSIX ERE, as the translation reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A byte that matches itself.
    Byte(u8),
    /// A set of bytes: `.`, a bracket expression, `\w`... (where it is in
    /// the expression).
    Class(std::ops::Range<usize>),
    /// A zero-width assertion, in `regex` syntax: `^`, `$`, `\b`, `\B`.
    Assert(&'static str),
    Open,
    Close,
    Alt,
    /// A repetition of the previous atom (where it is in the expression:
    /// `*`, `+`, `?` or an interval, the same in `regex` syntax), and
    /// whether it may repeat it zero times.
    Repeat {
        at: std::ops::Range<usize>,
        optional: bool,
    },
}

/// Splits a POSIX ERE into tokens; `None` when `regex` cannot have it
/// (back-references, a trailing backslash, an unclosed bracket).
fn tokens(p: &[u8]) -> Option<Vec<Token>> {
    let mut out = Vec::with_capacity(p.len());
    // Bracket expressions are translated to find where they end.
    let mut scratch = String::new();
    let mut i = 0;
    // Whether the previous token can take a repetition operator.
    let mut atom = false;
    while i < p.len() {
        let c = p[i];
        let start = i;
        let (token, is_atom) = match c {
            b'\\' => {
                i += 1;
                let &e = p.get(i)?;
                i += 1;
                match e {
                    b'<' | b'>' => (Token::Assert("\\b"), false),
                    b'w' | b'W' | b's' | b'S' => (Token::Class(start..i), true),
                    b'b' => (Token::Assert("\\b"), false),
                    b'B' => (Token::Assert("\\B"), false),
                    b'1'..=b'9' => return None, // back-references
                    _ => (Token::Byte(e), true),
                }
            }
            b'[' => {
                scratch.clear();
                i += bracket(&p[i..], &mut scratch)?;
                (Token::Class(start..i), true)
            }
            b'{' => {
                // An interval only after an atom and when well formed.
                let close = p[i..].iter().position(|&x| x == b'}');
                let ok = atom
                    && close.is_some_and(|k| {
                        let body = &p[i + 1..i + k];
                        !body.is_empty()
                            && body.iter().all(|&x| x.is_ascii_digit() || x == b',')
                            && body.iter().filter(|&&x| x == b',').count() <= 1
                            && body[0] != b','
                    });
                match (ok, close) {
                    (true, Some(k)) => {
                        let body = &p[i + 1..i + k];
                        let min = body.split(|&x| x == b',').next().unwrap_or(body);
                        i += k + 1;
                        let optional = min.iter().all(|&d| d == b'0');
                        // a repetition cannot itself be repeated in `regex`
                        (
                            Token::Repeat {
                                at: start..i,
                                optional,
                            },
                            false,
                        )
                    }
                    _ => {
                        i += 1;
                        (Token::Byte(b'{'), true)
                    }
                }
            }
            b'*' | b'+' | b'?' if atom => {
                i += 1;
                // POSIX allows stacked repetitions (a**); regex does not.
                while matches!(p.get(i), Some(b'*' | b'+' | b'?')) {
                    i += 1;
                }
                (
                    Token::Repeat {
                        at: start..start + 1,
                        optional: c != b'+',
                    },
                    false,
                )
            }
            _ => {
                i += 1;
                match c {
                    b'(' => (Token::Open, false),
                    b')' => (Token::Close, true),
                    b'|' => (Token::Alt, false),
                    b'^' => (Token::Assert("^"), false),
                    b'$' => (Token::Assert("$"), false),
                    b'.' => (Token::Class(start..i), true),
                    _ => (Token::Byte(c), true),
                }
            }
        };
        out.push(token);
        atom = is_atom;
    }
    Some(out)
}

/// Writes the tokens of `p` in `regex` syntax.
fn translate(p: &[u8], tokens: &[Token]) -> Option<String> {
    let mut out = String::with_capacity(p.len() * 2);
    for t in tokens {
        match t {
            Token::Byte(c) => push_byte(&mut out, *c),
            Token::Class(at) if p[at.start] == b'[' => {
                bracket(&p[at.start..], &mut out)?;
            }
            // `.`, `\w`, `\W`, `\s`, `\S`; repetitions.
            Token::Class(at) | Token::Repeat { at, .. } => {
                out.push_str(std::str::from_utf8(&p[at.clone()]).ok()?);
            }
            Token::Assert(s) => out.push_str(s),
            Token::Open => out.push('('),
            Token::Close => out.push(')'),
            Token::Alt => out.push('|'),
        }
    }
    Some(out)
}

/// Most sets of strings the analysis keeps (a cross product grows fast).
const MAX_SET: usize = 16;

/// Sets of byte strings such that every match of an expression contains
/// one string of each set: [`needs`].
pub(crate) type Needs = Vec<Vec<Vec<u8>>>;

/// What a part of an expression says about the text it matches.
#[derive(Default)]
struct Facts {
    /// The strings it matches, when they are few and known.
    exact: Option<Vec<Vec<u8>>>,
    /// Sets of strings one of each the text it matches contains.
    needs: Needs,
}

/// Adds `set` to `needs` unless it is trivial (has the empty string).
fn need(needs: &mut Needs, set: Vec<Vec<u8>>) {
    if !set.is_empty() && set.iter().all(|s| !s.is_empty()) && !needs.contains(&set) {
        needs.push(set);
    }
}

/// Sets of byte strings such that every match of the POSIX ERE `p`
/// contains one string of each set (`regex` compiled the way [`compile`]
/// does, case-sensitive): checking them with `memchr::memmem` rejects
/// most buffers without compiling or running the expression. From the
/// literal bytes of the expression, with their alternations (`(a|b)` needs
/// `a` or `b`) and repetitions (`x+` needs `x`, `x*` nothing); classes and
/// `.` end a string. Empty when nothing is known.
pub(crate) fn needs(p: &[u8]) -> Needs {
    let Some(tokens) = tokens(until_nul(p)) else {
        return Needs::new();
    };
    let mut pos = 0;
    let facts = alternation(&tokens, &mut pos);
    if pos != tokens.len() {
        // An unbalanced parenthesis: `regex` rejects it anyway.
        return Needs::new();
    }
    let mut needs = facts.needs;
    if let Some(exact) = facts.exact {
        need(&mut needs, exact);
    }
    needs
}

/// `branch ('|' branch)*`, up to a `)` or the end.
fn alternation(tokens: &[Token], pos: &mut usize) -> Facts {
    let mut branches = vec![branch(tokens, pos)];
    while tokens.get(*pos) == Some(&Token::Alt) {
        *pos += 1;
        branches.push(branch(tokens, pos));
    }
    if branches.len() == 1 {
        return branches.pop().unwrap_or_default();
    }
    // One of the branches matches: only their exact strings, together,
    // are known.
    let mut exact = Some(Vec::new());
    for b in branches {
        exact = match (exact, b.exact) {
            (Some(mut all), Some(e)) if all.len() + e.len() <= MAX_SET => {
                all.extend(e);
                Some(all)
            }
            _ => None,
        };
    }
    Facts {
        exact,
        needs: Needs::new(),
    }
}

/// A sequence of repeated atoms, up to a `|`, a `)` or the end.
fn branch(tokens: &[Token], pos: &mut usize) -> Facts {
    let mut needs = Needs::new();
    // The strings the atoms read so far match, while they are known.
    let mut run: Vec<Vec<u8>> = vec![Vec::new()];
    let mut exact = true;
    while let Some(t) = tokens.get(*pos) {
        // The common case first: a byte that is not repeated extends the
        // strings; an assertion matches no text.
        let repeated = matches!(tokens.get(*pos + 1), Some(Token::Repeat { .. }));
        match t {
            Token::Byte(c) if !repeated => {
                *pos += 1;
                for s in &mut run {
                    s.push(*c);
                }
                continue;
            }
            Token::Assert(_) if !repeated => {
                *pos += 1;
                continue;
            }
            _ => {}
        }
        let mut atom = match t {
            Token::Alt | Token::Close => break,
            Token::Byte(c) => {
                *pos += 1;
                Facts {
                    exact: Some(vec![vec![*c]]),
                    needs: Needs::new(),
                }
            }
            Token::Assert(_) => {
                *pos += 1;
                Facts {
                    exact: Some(vec![Vec::new()]),
                    needs: Needs::new(),
                }
            }
            Token::Class(_) => {
                *pos += 1;
                Facts::default()
            }
            Token::Open => {
                *pos += 1;
                let inner = alternation(tokens, pos);
                if tokens.get(*pos) != Some(&Token::Close) {
                    // Unbalanced: `regex` rejects it anyway.
                    *pos = tokens.len() + 1;
                    return Facts::default();
                }
                *pos += 1;
                inner
            }
            // The tokenizer makes a repetition without an atom a byte.
            Token::Repeat { .. } => {
                *pos = tokens.len() + 1;
                return Facts::default();
            }
        };
        if let Some(Token::Repeat { optional, .. }) = tokens.get(*pos) {
            *pos += 1;
            atom = if *optional {
                Facts::default()
            } else {
                // Repeated at least once: what one copy needs.
                let mut needs = atom.needs;
                if let Some(e) = atom.exact {
                    need(&mut needs, e);
                }
                Facts { exact: None, needs }
            };
        }
        for set in atom.needs {
            need(&mut needs, set);
        }
        match atom.exact {
            Some(e) if run.len() * e.len() <= MAX_SET => {
                run = run
                    .iter()
                    .flat_map(|a| {
                        e.iter().map(move |b| {
                            let mut s = a.clone();
                            s.extend_from_slice(b);
                            s
                        })
                    })
                    .collect();
            }
            Some(e) => {
                // Too many together: each part is still needed.
                need(&mut needs, std::mem::replace(&mut run, e));
                exact = false;
            }
            None => {
                need(&mut needs, std::mem::replace(&mut run, vec![Vec::new()]));
                exact = false;
            }
        }
    }
    if exact {
        return Facts {
            exact: Some(run),
            needs,
        };
    }
    need(&mut needs, run);
    Facts { exact: None, needs }
}

/// Translates a bracket expression starting at `p[0] == '['` onto `out`;
/// returns the number of bytes used.
fn bracket(p: &[u8], out: &mut String) -> Option<usize> {
    out.push('[');
    let mut i = 1;
    if p.get(i) == Some(&b'^') {
        out.push('^');
        i += 1;
    }
    let mut first = true;
    loop {
        let &c = p.get(i)?;
        if c == b']' && !first {
            out.push(']');
            return Some(i + 1);
        }
        first = false;
        if c == b'[' {
            if let Some(&k @ (b':' | b'.' | b'=')) = p.get(i + 1) {
                let rest = &p[i + 2..];
                let end = rest.windows(2).position(|w| w[0] == k && w[1] == b']')?;
                let name = &rest[..end];
                if k == b':' {
                    out.push_str("[:");
                    out.push_str(std::str::from_utf8(name).ok()?);
                    out.push_str(":]");
                } else {
                    for &b in name {
                        push_byte(out, b);
                    }
                }
                i += 2 + end + 2;
                continue;
            }
        }
        if c == b'-' {
            // a range operator unless first or last
            if p.get(i + 1) == Some(&b']') || out.ends_with('[') || out.ends_with('^') {
                out.push_str("\\-");
            } else {
                out.push('-');
            }
            i += 1;
            continue;
        }
        push_byte(out, c);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, hay: &str) -> bool {
        compile(p.as_bytes(), false)
            .expect("compiles")
            .is_match(hay.as_bytes())
    }

    fn needs_of(p: &str) -> Vec<Vec<String>> {
        needs(p.as_bytes())
            .into_iter()
            .map(|set| {
                set.into_iter()
                    .map(|s| String::from_utf8(s).expect("ascii"))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn needed_strings() {
        let one = |s: &[&str]| -> Vec<Vec<String>> { s.iter().map(|x| vec![x.to_string()]).collect() };
        assert_eq!(needs_of("^#!.*perl"), one(&["#!", "perl"]));
        assert_eq!(needs_of("^[[:space:]]*#include"), one(&["#include"]));
        assert_eq!(needs_of("colou?r"), one(&["colo", "r"]));
        assert_eq!(needs_of("ab{0,2}cd"), one(&["a", "cd"]));
        assert_eq!(needs_of("(abc)+xy"), one(&["abc", "xy"]));
        assert_eq!(needs_of("\\.TH"), one(&[".TH"]));
        assert_eq!(needs_of("^[!-?A-~]{1,255}(\t[^\t]+){11}"), one(&["\t"]));
        assert_eq!(needs_of("a{2}{3}"), one(&["a", "{3}"]));
        assert_eq!(needs_of("*a"), one(&["*a"]));
        assert_eq!(needs_of("a|bcd"), vec![vec!["a".to_string(), "bcd".to_string()]]);
        assert_eq!(
            needs_of("^export (function|class) "),
            vec![vec!["export function ".to_string(), "export class ".to_string()]]
        );
        assert_eq!(needs_of("(a|b*)c"), one(&["c"]));
        assert_eq!(needs_of("a(b|c)?d"), one(&["a", "d"]));
        assert_eq!(
            needs_of("a(|b)c"),
            vec![vec!["ac".to_string(), "abc".to_string()]]
        );
        // Nothing is known of what `regex` rejects.
        for p in ["(a", "a)", "a\\1", "[ab"] {
            assert!(needs_of(p).is_empty(), "{p}");
        }
    }

    /// Whenever an expression matches, the text has what it needs.
    #[test]
    fn needs_hold_in_matches() {
        let cases = [
            ("^#!.*perl", "#!/usr/bin/perl -w"),
            ("colou?r", "color"),
            ("ab{0,2}cd", "acd"),
            ("a|bcd", "xbcd"),
            ("^export (function|class) ", "export class X"),
            ("^(CFLAGS|VPATH|LDFLAGS|all:|\\.PRECIOUS)", ".PRECIOUS: x"),
            (
                "^[!-?A-~]{1,255}(\t[^\t]+){11}",
                "a\tb\tc\td\te\tf\tg\th\ti\tj\tk\tl",
            ),
            ("(a|b*)c", "c"),
            ("a(|b)c", "ac"),
            ("^(:|;)", ";x"),
            ("a+?b", "ab"),
            ("(ab){0}c", "c"),
            ("(ab){1,}c", "ababc"),
            ("[[:digit:]]+\\.[0-9]", "3.1"),
        ];
        for (p, hay) in cases {
            let rx = compile(p.as_bytes(), false).expect("compiles");
            let m = rx.is_match(hay.as_bytes());
            let held = needs(p.as_bytes()).iter().all(|set| {
                set.iter()
                    .any(|s| memchr::memmem::find(hay.as_bytes(), s).is_some())
            });
            assert!(m, "{p} should match {hay:?}");
            assert!(held, "{p}: needs do not hold in {hay:?}");
        }
    }

    #[test]
    fn posix_features() {
        assert!(m("^#!.*perl", "#!/usr/bin/perl\n"));
        assert!(m("[[:space:]]+def", "  def"));
        assert!(m("\\<main\\>", "int main()"));
        assert!(m("a{2}", "aa"));
        assert!(m("[]a]", "]"));
        assert!(m("[a-]", "-"));
        assert!(m("^\\.TH", ".TH x"));
        assert!(m("x{", "x{"));
        assert!(!m("^b", "a\nc"));
        assert!(m("^c", "a\nc"));
        assert!(compile(b"(a)\\1", false).is_none());
    }
}

#[cfg(test)]
mod magdir {
    /// Every `regex` of file's Magdir (when `CONAN_MAGDIR` points to it)
    /// translates and compiles.
    #[test]
    fn all_magdir_regexes_compile() {
        let Some(dir) = std::env::var_os("CONAN_MAGDIR") else {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CONAN_MAGDIR is needed under CI=true"
            );
            return;
        };
        let db = crate::Database::load(std::path::Path::new(&dir)).expect("Magdir loads");
        let mut failed = Vec::new();
        let mut n = 0;
        for e in db.main.iter().chain(db.named().iter()) {
            if e.typ == crate::entry::Type::Regex {
                n += 1;
                let icase = e.str_flags & crate::entry::sflag::IGNORE_CASE != 0;
                if super::compile(e.bytes(), icase).is_none() {
                    failed.push(String::from_utf8_lossy(e.bytes()).into_owned());
                }
            }
        }
        assert!(n > 300, "only {n} regexes found");
        assert!(
            failed.is_empty(),
            "{} of {n} regexes do not compile: {failed:#?}",
            failed.len()
        );
    }
}
