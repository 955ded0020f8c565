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
    let pattern = match memchr::memchr(0, pattern) {
        Some(n) => &pattern[..n],
        None => pattern,
    };
    let translated = translate(pattern)?;
    RegexBuilder::new(&translated)
        .unicode(false)
        .multi_line(true)
        .dot_matches_new_line(false)
        .case_insensitive(ignore_case)
        .size_limit(1 << 22)
        .build()
        .ok()
}

fn push_byte(out: &mut String, c: u8) {
    if c.is_ascii_alphanumeric() || c == b'_' {
        out.push(char::from(c));
    } else {
        out.push_str(&format!("\\x{c:02x}"));
    }
}

/// A byte string every match of the POSIX ERE `p` contains, if one of at
/// least two bytes can be found cheaply: checking it with `memchr::memmem`
/// rejects most buffers without compiling or running the expression.
/// Conservative: alternations, groups and classes end a literal, an
/// optional repetition drops the byte it applies to.
pub(crate) fn required_literal(p: &[u8]) -> Option<Vec<u8>> {
    let p = match memchr::memchr(0, p) {
        Some(n) => &p[..n],
        None => p,
    };
    let mut best: Vec<u8> = Vec::new();
    let mut run: Vec<u8> = Vec::new();
    let mut depth = 0usize;
    let flush = |run: &mut Vec<u8>, best: &mut Vec<u8>| {
        if run.len() > best.len() {
            *best = std::mem::take(run);
        }
        run.clear();
    };
    // Whether the last token was a literal byte pushed on `run`.
    let mut last_literal = false;
    let mut i = 0;
    while i < p.len() {
        let c = p[i];
        match c {
            b'|' => return None,
            b'\\' => {
                let &e = p.get(i + 1)?;
                i += 2;
                if e.is_ascii_alphanumeric() && !matches!(e, b'w' | b'W' | b's' | b'S' | b'b' | b'B')
                    || !e.is_ascii_alphanumeric() && !matches!(e, b'<' | b'>')
                {
                    if e.is_ascii_digit() {
                        return None;
                    }
                    if depth == 0 {
                        run.push(e);
                        last_literal = true;
                    } else {
                        last_literal = false;
                    }
                    continue;
                }
                flush(&mut run, &mut best);
                last_literal = false;
                continue;
            }
            b'[' => {
                let (_, used) = bracket(&p[i..])?;
                i += used;
                flush(&mut run, &mut best);
                last_literal = false;
                continue;
            }
            b'(' => {
                depth += 1;
                flush(&mut run, &mut best);
                last_literal = false;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                flush(&mut run, &mut best);
                last_literal = false;
            }
            b'*' | b'?' => {
                if last_literal {
                    run.pop();
                }
                flush(&mut run, &mut best);
                last_literal = false;
            }
            b'+' => {
                flush(&mut run, &mut best);
                last_literal = false;
            }
            b'{' => {
                // An interval after an atom: `{0...}` makes it optional.
                let close = p[i..].iter().position(|&x| x == b'}');
                let body = close.map(|k| &p[i + 1..i + k]);
                let interval = body.is_some_and(|b| {
                    !b.is_empty() && b.iter().all(|&x| x.is_ascii_digit() || x == b',') && b[0] != b','
                });
                if interval {
                    if last_literal && body.is_some_and(|b| b[0] == b'0') {
                        run.pop();
                    }
                    flush(&mut run, &mut best);
                    last_literal = false;
                    i += close.unwrap_or(0) + 1;
                    continue;
                }
                if depth == 0 {
                    run.push(b'{');
                    last_literal = true;
                }
            }
            b'.' | b'^' | b'$' => {
                flush(&mut run, &mut best);
                last_literal = false;
            }
            _ => {
                if depth == 0 {
                    run.push(c);
                    last_literal = true;
                } else {
                    last_literal = false;
                }
            }
        }
        i += 1;
    }
    flush(&mut run, &mut best);
    (best.len() >= 2).then_some(best)
}

/// Rewrites a POSIX ERE into `regex` syntax.
fn translate(p: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(p.len() * 2);
    let mut i = 0;
    // Whether the previous token can take a repetition operator.
    let mut atom = false;
    while i < p.len() {
        let c = p[i];
        match c {
            b'\\' => {
                i += 1;
                let &e = p.get(i)?;
                match e {
                    b'<' | b'>' => {
                        out.push_str("\\b");
                        atom = false;
                    }
                    b'w' | b'W' | b's' | b'S' => {
                        out.push('\\');
                        out.push(char::from(e));
                        atom = true;
                    }
                    b'b' | b'B' => {
                        out.push('\\');
                        out.push(char::from(e));
                        atom = false;
                    }
                    b'1'..=b'9' => return None, // back-references
                    _ => {
                        push_byte(&mut out, e);
                        atom = true;
                    }
                }
                i += 1;
            }
            b'[' => {
                let (class, used) = bracket(&p[i..])?;
                out.push_str(&class);
                i += used;
                atom = true;
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
                        out.push_str(std::str::from_utf8(&p[i..=i + k]).ok()?);
                        i += k + 1;
                        // a repetition cannot itself be repeated in `regex`
                        atom = false;
                    }
                    _ => {
                        out.push_str("\\{");
                        i += 1;
                        atom = true;
                    }
                }
            }
            b'*' | b'+' | b'?' => {
                if atom {
                    out.push(char::from(c));
                    atom = false;
                    // POSIX allows stacked repetitions (a**); regex does not.
                    while matches!(p.get(i + 1), Some(b'*' | b'+' | b'?')) {
                        i += 1;
                    }
                } else {
                    push_byte(&mut out, c);
                    atom = true;
                }
                i += 1;
            }
            b'(' => {
                out.push('(');
                atom = false;
                i += 1;
            }
            b')' => {
                out.push(')');
                atom = true;
                i += 1;
            }
            b'|' => {
                out.push('|');
                atom = false;
                i += 1;
            }
            b'^' | b'$' => {
                out.push(char::from(c));
                atom = false;
                i += 1;
            }
            b'.' => {
                out.push('.');
                atom = true;
                i += 1;
            }
            _ => {
                push_byte(&mut out, c);
                atom = true;
                i += 1;
            }
        }
    }
    Some(out)
}

/// Translates a bracket expression starting at `p[0] == '['`; returns the
/// class and the number of bytes used.
fn bracket(p: &[u8]) -> Option<(String, usize)> {
    let mut out = String::from("[");
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
            return Some((out, i + 1));
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
                        push_byte(&mut out, b);
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
        push_byte(&mut out, c);
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

    #[test]
    fn required_literals() {
        let lit = |p: &str| required_literal(p.as_bytes()).map(|v| String::from_utf8(v).expect("ascii"));
        assert_eq!(lit("^#!.*perl"), Some("perl".into()));
        assert_eq!(lit("^[[:space:]]*#include"), Some("#include".into()));
        assert_eq!(lit("colou?r"), Some("colo".into()));
        assert_eq!(lit("ab{0,2}cd"), Some("cd".into()));
        assert_eq!(lit("a|bcd"), None);
        assert_eq!(lit("(abc)+xy"), Some("xy".into()));
        assert_eq!(lit("\\.TH"), Some(".TH".into()));
        assert_eq!(lit("x\\<y"), None);
        // Whatever the literal, it must be in every match.
        for (p, hay) in [
            ("^#!.*perl", "#!/usr/bin/perl -w"),
            ("colou?r", "color"),
            ("ab{0,2}cd", "acd"),
        ] {
            let l = required_literal(p.as_bytes()).expect("literal");
            assert!(memchr::memmem::find(hay.as_bytes(), &l).is_some(), "{p}");
            assert!(
                compile(p.as_bytes(), false)
                    .expect("compiles")
                    .is_match(hay.as_bytes())
            );
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
        for e in db.main.iter().chain(db.named.iter()) {
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
