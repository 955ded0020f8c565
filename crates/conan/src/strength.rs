//! libmagic's strength: how specific a top-level test is. Entries are tried
//! strongest first (`apprentice_magic_strength`), so the first match is the
//! one `file` reports.

use crate::entry::{Entry, Factor, Type};

const MULT: i64 = 10;

/// `nonmagic`: the number of literal characters of a regular expression.
fn nonmagic(s: &[u8]) -> i64 {
    let s = match memchr::memchr(0, s) {
        Some(n) => &s[..n],
        None => s,
    };
    let mut rv = 0i64;
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'\\' => {
                if i + 1 < s.len() {
                    i += 1;
                }
                rv += 1;
            }
            b'?' | b'*' | b'.' | b'+' | b'^' | b'$' => {}
            b'[' => {
                while i < s.len() && s[i] != b']' {
                    i += 1;
                }
                // C steps back one and then forward past the ']' again.
                i = i.saturating_sub(1);
            }
            b'{' => {
                while i < s.len() && s[i] != b'}' {
                    i += 1;
                }
                if i >= s.len() {
                    i -= 1;
                }
            }
            _ => rv += 1,
        }
        i += 1;
    }
    if rv == 0 { 1 } else { rv }
}

fn strength_1(m: &Entry) -> i64 {
    let mut val = 2 * MULT;
    match m.typ {
        Type::Default => return 0,
        Type::PString | Type::String | Type::Octal => val += m.vallen as i64 * MULT,
        Type::String16(_) => val += m.vallen as i64 * MULT / 2,
        Type::Search => {
            let n = m.vallen as i64;
            if n != 0 {
                val += n * (MULT / n).max(1);
            }
        }
        Type::Regex => {
            let v = nonmagic(m.bytes());
            val += v * (MULT / v).max(1);
        }
        Type::Indirect | Type::Name | Type::Use | Type::Clear => {}
        Type::Der => val += MULT,
        t => val += t.size().unwrap_or(0) as i64 * MULT,
    }
    match m.reln {
        b'x' | b'!' => val = 0,
        b'=' => val += MULT,
        b'>' | b'<' => val -= 2 * MULT,
        _ => val -= MULT, // '&' and '^'
    }
    val
}

/// The strength of a top-level entry.
pub(crate) fn strength(m: &Entry) -> i64 {
    let mut val = strength_1(m);
    if m.typ == Type::Default {
        return 0;
    }
    match m.factor {
        None => {}
        Some(Factor::Plus(f)) => val += i64::from(f),
        Some(Factor::Minus(f)) => val -= i64::from(f),
        Some(Factor::Times(f)) => val *= i64::from(f),
        Some(Factor::Div(f)) => val /= i64::from(f.max(1)),
    }
    if val <= 0 {
        val = 1;
    }
    if m.desc.is_empty() {
        val += 1;
    }
    val
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_literals() {
        assert_eq!(nonmagic(b"^#!.*perl"), 6);
        assert_eq!(nonmagic(b"[a-z]x"), 2);
        assert_eq!(nonmagic(b".*"), 1);
        assert_eq!(nonmagic(b"a{2,3}"), 1);
    }

    #[test]
    fn ordering_matches_libmagic() {
        let mut g = Vec::new();
        crate::parse::parse_file(
            "t",
            b"0 string \\x89PNG PNG\n0 belong 0xcafebabe Java\n0 byte x any\n0 search/10 ab s\n",
            &mut g,
        )
        .expect("parses");
        let s: Vec<i64> = g.iter().map(|g| strength(&g[0])).collect();
        // string of 4 bytes: 20 + 40 + 10; belong: 20 + 40 + 10; x: 1;
        // search of 2: 20 + 2*5 + 10.
        assert_eq!(s, vec![70, 70, 1, 40]);
    }
}
