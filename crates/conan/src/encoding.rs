//! Character encodings of text (libmagic's `encoding.c`): is a buffer
//! text at all, and in which code (ASCII, UTF-8 with or without BOM,
//! UTF-16/32 with BOM, ISO-8859, non-ISO extended ASCII, EBCDIC).
//!
//! This is the hot path of identification (most files are text), so the
//! common cases (ASCII, UTF-8) never copy or widen the buffer.

use std::borrow::Cow;

/// Bytes libmagic looks at to decide the encoding.
pub(crate) const ENCODING_MAX: usize = 64 * 1024;

const F: u8 = 0;
const T: u8 = 1;
const I: u8 = 2;
const X: u8 = 3;

/// libmagic's `text_chars`: which bytes appear in which kind of text.
static TEXT_CHARS: [u8; 256] = {
    let mut t = [F; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match i {
            7..=13 | 27 | 0x20..=0x7e | 0x85 => T,
            0x80..=0x9f => X,
            0xa0..=0xff => I,
            _ => F,
        };
        i += 1;
    }
    t
};

static EBCDIC_TO_ASCII: [u8; 256] = [
    0, 1, 2, 3, 156, 9, 134, 127, 151, 141, 142, 11, 12, 13, 14, 15, 16, 17, 18, 19, 157, 133, 8, 135, 24,
    25, 146, 143, 28, 29, 30, 31, 128, 129, 130, 131, 132, 10, 23, 27, 136, 137, 138, 139, 140, 5, 6, 7, 144,
    145, 22, 147, 148, 149, 150, 4, 152, 153, 154, 155, 20, 21, 158, 26, 32, 160, 161, 162, 163, 164, 165,
    166, 167, 168, 213, 46, 60, 40, 43, 124, 38, 169, 170, 171, 172, 173, 174, 175, 176, 177, 33, 36, 42, 41,
    59, 126, 45, 47, 178, 179, 180, 181, 182, 183, 184, 185, 203, 44, 37, 95, 62, 63, 186, 187, 188, 189,
    190, 191, 192, 193, 194, 96, 58, 35, 64, 39, 61, 34, 195, 97, 98, 99, 100, 101, 102, 103, 104, 105, 196,
    197, 198, 199, 200, 201, 202, 106, 107, 108, 109, 110, 111, 112, 113, 114, 94, 204, 205, 206, 207, 208,
    209, 229, 115, 116, 117, 118, 119, 120, 121, 122, 210, 211, 212, 91, 214, 215, 216, 217, 218, 219, 220,
    221, 222, 223, 224, 225, 226, 227, 228, 93, 230, 231, 123, 65, 66, 67, 68, 69, 70, 71, 72, 73, 232, 233,
    234, 235, 236, 237, 125, 74, 75, 76, 77, 78, 79, 80, 81, 82, 238, 239, 240, 241, 242, 243, 92, 159, 83,
    84, 85, 86, 87, 88, 89, 90, 244, 245, 246, 247, 248, 249, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 250,
    251, 252, 253, 254, 255,
];

/// The code a buffer is written in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Code {
    Ascii,
    Utf7,
    Utf8Bom,
    Utf8,
    Utf32Le,
    Utf32Be,
    Utf16Le,
    Utf16Be,
    Latin1,
    Extended,
    Ebcdic,
    IntlEbcdic,
    /// Not text.
    Binary,
}

impl Code {
    /// The words `file` prints before "text".
    pub(crate) fn description(self) -> &'static str {
        match self {
            Code::Ascii => "ASCII",
            Code::Utf7 => "Unicode text, UTF-7",
            Code::Utf8Bom => "Unicode text, UTF-8 (with BOM)",
            Code::Utf8 => "Unicode text, UTF-8",
            Code::Utf32Le => "Unicode text, UTF-32, little-endian",
            Code::Utf32Be => "Unicode text, UTF-32, big-endian",
            Code::Utf16Le => "Unicode text, UTF-16, little-endian",
            Code::Utf16Be => "Unicode text, UTF-16, big-endian",
            Code::Latin1 => "ISO-8859",
            Code::Extended => "Non-ISO extended-ASCII",
            Code::Ebcdic => "EBCDIC",
            Code::IntlEbcdic => "International EBCDIC",
            Code::Binary => "unknown",
        }
    }

    /// The `--mime-encoding` name.
    pub(crate) fn mime(self) -> &'static str {
        match self {
            Code::Ascii => "us-ascii",
            Code::Utf7 => "utf-7",
            Code::Utf8Bom | Code::Utf8 => "utf-8",
            Code::Utf32Le => "utf-32le",
            Code::Utf32Be => "utf-32be",
            Code::Utf16Le => "utf-16le",
            Code::Utf16Be => "utf-16be",
            Code::Latin1 => "iso-8859-1",
            Code::Extended => "unknown-8bit",
            Code::Ebcdic | Code::IntlEbcdic => "ebcdic",
            Code::Binary => "binary",
        }
    }

    pub(crate) fn is_text(self) -> bool {
        self != Code::Binary
    }
}

fn looks_ascii(buf: &[u8]) -> bool {
    buf.iter().all(|&b| TEXT_CHARS[usize::from(b)] == T)
}

fn looks_latin1(buf: &[u8]) -> bool {
    buf.iter().all(|&b| matches!(TEXT_CHARS[usize::from(b)], T | I))
}

fn looks_extended(buf: &[u8]) -> bool {
    buf.iter().all(|&b| TEXT_CHARS[usize::from(b)] != F)
}

/// `file_looks_utf8`: -1 not UTF-8, 0 UTF-8 with control characters,
/// 1 plain ASCII text, 2 UTF-8 text with multibyte characters.
pub(crate) fn looks_utf8(buf: &[u8]) -> i32 {
    let mut ctrl = false;
    let mut gotone = false;
    let mut i = 0;
    let n = buf.len();
    while i < n {
        let b = buf[i];
        if b & 0x80 == 0 {
            if TEXT_CHARS[usize::from(b)] != T {
                ctrl = true;
            }
            i += 1;
            continue;
        }
        if b & 0x40 == 0 {
            return -1;
        }
        let (lo, hi, following) = match b {
            0xc2..=0xdf => (0x80, 0xbf, 1),
            0xe0 => (0xa0, 0xbf, 2),
            0xe1..=0xec | 0xee..=0xef => (0x80, 0xbf, 2),
            0xed => (0x80, 0x9f, 2),
            0xf0 => (0x90, 0xbf, 3),
            0xf1..=0xf3 => (0x80, 0xbf, 3),
            0xf4 => (0x80, 0x8f, 3),
            _ => return -1,
        };
        for k in 0..following {
            i += 1;
            if i >= n {
                return if ctrl {
                    0
                } else if gotone {
                    2
                } else {
                    1
                };
            }
            let c = buf[i];
            if k == 0 && (c < lo || c > hi) {
                return -1;
            }
            if c & 0xc0 != 0x80 {
                return -1;
            }
        }
        gotone = true;
        i += 1;
    }
    if ctrl {
        0
    } else if gotone {
        2
    } else {
        1
    }
}

fn looks_ucs16(bf: &[u8], ubf: &mut Vec<u32>) -> Option<Code> {
    if bf.len() < 2 {
        return None;
    }
    let big = match (bf[0], bf[1]) {
        (0xff, 0xfe) => false,
        (0xfe, 0xff) => true,
        _ => return None,
    };
    ubf.clear();
    let mut hi: u32 = 0;
    let mut i = 2;
    while i + 1 < bf.len() {
        let mut uc = if big {
            u32::from(bf[i + 1]) | (u32::from(bf[i]) << 8)
        } else {
            u32::from(bf[i]) | (u32::from(bf[i + 1]) << 8)
        };
        if uc == 0xfffe || uc == 0xffff || (0xfdd0..=0xfdef).contains(&uc) {
            return None;
        }
        if hi != 0 {
            if !(0xdc00..=0xdfff).contains(&uc) {
                return None;
            }
            uc = 0x10000 + 0x400 * (hi - 1) + (uc - 0xdc00);
            hi = 0;
        }
        if uc < 128 && TEXT_CHARS[uc as usize] != T {
            return None;
        }
        ubf.push(uc);
        if (0xd800..=0xdbff).contains(&uc) {
            hi = uc - 0xd800 + 1;
        }
        if (0xdc00..=0xdfff).contains(&uc) {
            return None;
        }
        i += 2;
    }
    Some(if big { Code::Utf16Be } else { Code::Utf16Le })
}

fn looks_ucs32(bf: &[u8], ubf: &mut Vec<u32>) -> Option<Code> {
    if bf.len() < 4 {
        return None;
    }
    let big = match (bf[0], bf[1], bf[2], bf[3]) {
        (0xff, 0xfe, 0, 0) => false,
        (0, 0, 0xfe, 0xff) => true,
        _ => return None,
    };
    ubf.clear();
    let mut i = 4;
    while i + 3 < bf.len() {
        let w = [bf[i], bf[i + 1], bf[i + 2], bf[i + 3]];
        let u = if big {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        };
        ubf.push(u);
        if u == 0xfffe {
            return None;
        }
        if u < 128 && TEXT_CHARS[u as usize] != T {
            return None;
        }
        i += 4;
    }
    Some(if big { Code::Utf32Be } else { Code::Utf32Le })
}

/// A buffer classified as text: its code and its content as UTF-8 (what
/// libmagic runs the text tests on).
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    pub(crate) code: Code,
    /// The text re-encoded as UTF-8 (borrowed when it already is).
    pub(crate) utf8: Cow<'a, [u8]>,
    /// The code points, for codes that are not ASCII or UTF-8.
    pub(crate) wide: Vec<u32>,
}

/// Only the code of a buffer (cheaper than [`decode`]).
pub(crate) fn detect(buf: &[u8]) -> Code {
    let buf = &buf[..buf.len().min(ENCODING_MAX)];
    if looks_ascii(buf) {
        return if looks_utf7(buf) { Code::Utf7 } else { Code::Ascii };
    }
    decode(buf).code
}

fn looks_utf7(buf: &[u8]) -> bool {
    buf.len() > 4
        && buf[0] == b'+'
        && buf[1] == b'/'
        && buf[2] == b'v'
        && matches!(buf[3], b'8' | b'9' | b'+' | b'/')
}

/// The valid UTF-8 prefix of an input `looks_utf8` accepted (a truncated
/// last sequence is dropped, as libmagic drops it).
fn utf8_prefix(buf: &[u8]) -> &[u8] {
    match std::str::from_utf8(buf) {
        Ok(_) => buf,
        Err(e) => &buf[..e.valid_up_to()],
    }
}

/// `file_encoding` plus the conversion to UTF-8 done by `file_ascmagic`.
pub(crate) fn decode(buf: &[u8]) -> Decoded<'_> {
    let buf = &buf[..buf.len().min(ENCODING_MAX)];
    let text = |code, utf8| Decoded {
        code,
        utf8,
        wide: Vec::new(),
    };
    if looks_ascii(buf) {
        if looks_utf7(buf) {
            return text(Code::Utf7, Cow::Borrowed(&[]));
        }
        return text(Code::Ascii, Cow::Borrowed(buf));
    }
    if buf.len() > 3 && buf[..3] == [0xef, 0xbb, 0xbf] && looks_utf8(&buf[3..]) > 0 {
        return text(Code::Utf8Bom, Cow::Borrowed(utf8_prefix(&buf[3..])));
    }
    if looks_utf8(buf) > 1 {
        return text(Code::Utf8, Cow::Borrowed(utf8_prefix(buf)));
    }
    let mut wide = Vec::new();
    let code = if let Some(c) = looks_ucs32(buf, &mut wide) {
        c
    } else if let Some(c) = looks_ucs16(buf, &mut wide) {
        c
    } else if looks_latin1(buf) {
        wide = buf.iter().map(|&b| u32::from(b)).collect();
        Code::Latin1
    } else if looks_extended(buf) {
        wide = buf.iter().map(|&b| u32::from(b)).collect();
        Code::Extended
    } else {
        let nbuf: Vec<u8> = buf.iter().map(|&b| EBCDIC_TO_ASCII[usize::from(b)]).collect();
        if looks_ascii(&nbuf) {
            wide = nbuf.iter().map(|&b| u32::from(b)).collect();
            Code::Ebcdic
        } else if looks_latin1(&nbuf) {
            wide = nbuf.iter().map(|&b| u32::from(b)).collect();
            Code::IntlEbcdic
        } else {
            return text(Code::Binary, Cow::Borrowed(&[]));
        }
    };
    let utf8 = encode_utf8(&wide);
    Decoded {
        code,
        utf8: Cow::Owned(utf8),
        wide,
    }
}

/// `encode_utf8` of ascmagic.c, including its 5- and 6-byte forms; stops
/// at an invalid code point like the C code (which then skips the tests).
fn encode_utf8(wide: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(wide.len());
    for &c in wide {
        if c <= 0x7f {
            out.push(c as u8);
            continue;
        }
        let (lead, n) = match c {
            0..=0x7ff => (0xc0u32, 1),
            0x800..=0xffff => (0xe0, 2),
            0x1_0000..=0x1f_ffff => (0xf0, 3),
            0x20_0000..=0x3ff_ffff => (0xf8, 4),
            0x400_0000..=0x7fff_ffff => (0xfc, 5),
            _ => return Vec::new(),
        };
        out.push(((c >> (6 * n)) + lead) as u8);
        for k in (0..n).rev() {
            out.push((((c >> (6 * k)) & 0x3f) + 0x80) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(detect(b"hello\n"), Code::Ascii);
        assert_eq!(detect("h\u{e9}llo\n".as_bytes()), Code::Utf8);
        assert_eq!(detect(b"\xef\xbb\xbfhi\n"), Code::Utf8Bom);
        assert_eq!(detect(b"\xff\xfeh\x00i\x00"), Code::Utf16Le);
        assert_eq!(detect(b"h\xe9llo\n"), Code::Latin1);
        assert_eq!(detect(b"h\x92llo\n"), Code::Extended);
        assert_eq!(detect(b"\x00\x01\x02\xff"), Code::Binary);
    }

    #[test]
    fn utf8_rules() {
        assert_eq!(looks_utf8(b"abc"), 1);
        assert_eq!(looks_utf8("\u{20ac}".as_bytes()), 2);
        assert_eq!(looks_utf8(b"\xed\xa0\x80"), -1); // surrogate
        assert_eq!(looks_utf8(b"a\x01"), 0);
        assert_eq!(looks_utf8(b"\xe2\x82"), 1); // truncated at the end
    }

    #[test]
    fn wide_to_utf8() {
        let d = decode(b"\xff\xfeh\x00\xe9\x00");
        assert_eq!(&*d.utf8, "h\u{e9}".as_bytes());
    }
}
