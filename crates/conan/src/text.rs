//! The description of text (libmagic's `ascmagic.c`): the text tests of
//! the database run on the content converted to UTF-8, then the encoding,
//! long lines, line terminators, escapes and overstriking are described.

use crate::database::Database;
use crate::encoding::{self, Code};
use crate::matcher::{Buf, Mode, softmagic};

/// libmagic's `MAXLINELEN`.
const MAXLINELEN: usize = 300;
/// libmagic's `FILE_BYTES_MAX`.
pub(crate) const BYTES_MAX: usize = 7 * 1024 * 1024;

/// The MIME type and extensions of a text buffer (its description is
/// appended to the caller's output).
#[derive(Debug)]
pub(crate) struct Described {
    pub(crate) mime: Vec<u8>,
    pub(crate) ext: Option<Vec<u8>>,
}

fn trim_nuls(buf: &[u8]) -> &[u8] {
    let mut n = buf.len();
    while n > 1 && buf[n - 1] == 0 {
        n -= 1;
    }
    &buf[..n]
}

#[derive(Default)]
struct Lines {
    crlf: usize,
    lf: usize,
    cr: usize,
    nel: usize,
    long: usize,
    escapes: bool,
    backspace: bool,
    seen_cr: bool,
}

impl Lines {
    fn scan(&mut self, chars: impl Iterator<Item = u32>) {
        let mut last_line_end: usize = usize::MAX;
        for (i, c) in chars.enumerate() {
            if c == u32::from(b'\n') {
                if self.seen_cr {
                    self.crlf += 1;
                } else {
                    self.lf += 1;
                }
                last_line_end = i;
            } else if self.seen_cr {
                self.cr += 1;
            }
            self.seen_cr = c == u32::from(b'\r');
            if self.seen_cr {
                last_line_end = i;
            }
            if c == 0x85 {
                self.nel += 1;
                last_line_end = i;
            }
            if i > last_line_end.wrapping_add(MAXLINELEN) {
                let ll = i.wrapping_sub(last_line_end);
                if ll > self.long {
                    self.long = ll;
                }
            }
            if c == 0x1b {
                self.escapes = true;
            }
            if c == 0x08 {
                self.backspace = true;
            }
        }
    }
}

/// Replaces `suffix` at the end of `out` with `with`; whether it did.
fn replace_suffix(out: &mut Vec<u8>, suffix: &[u8], with: &[u8]) -> bool {
    if out.ends_with(suffix) {
        out.truncate(out.len() - suffix.len());
        out.extend_from_slice(with);
        true
    } else {
        false
    }
}

/// `file_ascmagic`: `None` when the buffer is not text.
pub(crate) fn describe(
    db: &Database,
    buf: &[u8],
    exec: bool,
    keep_going: bool,
    desc: &mut Vec<u8>,
) -> Option<Described> {
    let mut bb = trim_nuls(buf);
    if bb.len() & 1 == 1 && buf.len() & 1 == 0 {
        bb = &buf[..bb.len() + 1];
    }
    let decoded = encoding::decode(bb);
    if !decoded.code.is_text() {
        return None;
    }
    if trim_nuls(bb).len() <= 1 {
        return None;
    }
    let ulen = match decoded.code {
        Code::Utf7 => 0,
        _ => decoded.utf8.len(),
    };
    let mut mime = None;
    let mut ext = None;
    if ulen > 0 {
        let u = &decoded.utf8[..];
        let found = softmagic(db, Buf { f: u, e: Some(u) }, Mode::Text, true, exec, keep_going);
        if found.matched {
            desc.extend_from_slice(&found.desc);
        }
        mime = found.mime;
        ext = found.ext;
    }
    let mut lines = Lines::default();
    match decoded.code {
        Code::Ascii => lines.scan(decoded.utf8.iter().map(|&b| u32::from(b))),
        Code::Utf8 | Code::Utf8Bom => {
            let s = std::str::from_utf8(&decoded.utf8).unwrap_or("");
            lines.scan(s.chars().map(u32::from));
        }
        _ => lines.scan(decoded.wide.iter().copied()),
    }
    let nbytes = trim_nuls(bb).len();
    if lines.seen_cr && nbytes < BYTES_MAX {
        lines.cr += 1;
    }
    let mut executable = false;
    if !desc.is_empty() {
        if !replace_suffix(desc, b" text", b", ") {
            if replace_suffix(desc, b" text executable", b", ") {
                executable = true;
            } else {
                desc.extend_from_slice(b", ");
            }
        }
    }
    desc.extend_from_slice(decoded.code.description().as_bytes());
    desc.extend_from_slice(b" text");
    if executable {
        desc.extend_from_slice(b" executable");
    }
    if lines.long > 0 {
        desc.extend_from_slice(format!(", with very long lines ({})", lines.long).as_bytes());
    }
    let (crlf, cr, lf, nel) = (lines.crlf, lines.cr, lines.lf, lines.nel);
    if lf == 0 || crlf != 0 || cr != 0 || nel != 0 {
        desc.extend_from_slice(b", with");
        if crlf == 0 && cr == 0 && nel == 0 && lf == 0 {
            desc.extend_from_slice(b" no");
        } else {
            if crlf != 0 {
                desc.extend_from_slice(b" CRLF");
                if cr != 0 || lf != 0 || nel != 0 {
                    desc.push(b',');
                }
            }
            if cr != 0 {
                desc.extend_from_slice(b" CR");
                if lf != 0 || nel != 0 {
                    desc.push(b',');
                }
            }
            if lf != 0 {
                desc.extend_from_slice(b" LF");
                if nel != 0 {
                    desc.push(b',');
                }
            }
            if nel != 0 {
                desc.extend_from_slice(b" NEL");
            }
        }
        desc.extend_from_slice(b" line terminators");
    }
    if lines.escapes {
        desc.extend_from_slice(b", with escape sequences");
    }
    if lines.backspace {
        desc.extend_from_slice(b", with overstriking");
    }
    Some(Described {
        mime: mime.unwrap_or_else(|| b"text/plain".to_vec()),
        ext,
    })
}
