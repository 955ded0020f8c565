//! The soft-magic interpreter (libmagic's `softmagic.c`): walks the sorted
//! entries over a buffer, follows continuation levels, indirect offsets,
//! `use` calls and `indirect` re-entries, and prints descriptions.
//!
//! It mirrors libmagic's arithmetic exactly (32-bit offsets that wrap,
//! values zero-padded past the end of the buffer, sign extension), because
//! the description `file` prints depends on it. Recursion is bounded like
//! libmagic's (`indirect` and `use` depth 50) and by a total step budget,
//! so a hostile database or buffer cannot loop.

use crate::database::{Database, Top};
use crate::entry::{
    DateKind, Endian, Entry, MAX_STRING, NeedSets, Quick, RegexCache, Type, Value, checked_size, flag, op,
    sflag, sign_extend,
};
use crate::format::{self, Arg};
use crate::set::Set;
use crate::{der, posix};

/// libmagic's `FILE_INDIR_MAX` and `FILE_NAME_MAX`.
const INDIR_MAX: u16 = 50;
const NAME_MAX: u16 = 50;
/// libmagic's `FILE_REGEX_MAX`: bytes a regex looks at.
const REGEX_MAX: usize = 8192;
/// Entries evaluated per identification before giving up (a guard against
/// databases whose `use` graph is exponential).
const STEP_BUDGET: u64 = 2_000_000;

/// Why matching stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abort {
    IndirectLimit,
    NameLimit,
    MissingName,
    Budget,
}

/// The buffer being matched and its tail (for offsets from the end).
#[derive(Clone, Copy)]
pub(crate) struct Buf<'a> {
    pub(crate) f: &'a [u8],
    pub(crate) e: Option<&'a [u8]>,
}

#[derive(Clone, Copy, Default)]
struct Level {
    off: i32,
    got_match: bool,
}

#[derive(Clone, Copy, Default)]
struct Search {
    /// Start of the region in the buffer given to `mget`.
    start: usize,
    len: usize,
    valid: bool,
    /// Offset reported for `&` continuations.
    offset: usize,
    rm_len: usize,
}

/// Which tests run: binary tests on the raw buffer, text tests on the
/// buffer converted to UTF-8.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Binary,
    Text,
}

impl Mode {
    fn bit(self) -> u8 {
        match self {
            Mode::Binary => flag::BINTEST,
            Mode::Text => flag::TEXTTEST,
        }
    }
}

/// What soft magic found.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub(crate) matched: bool,
    pub(crate) desc: Vec<u8>,
    pub(crate) mime: Option<Vec<u8>>,
    pub(crate) ext: Option<Vec<u8>>,
}

pub(crate) struct Matcher<'d> {
    db: &'d Database,
    exec: bool,
    out: Vec<u8>,
    mime: Option<Vec<u8>>,
    ext: Option<Vec<u8>>,
    apple: Option<Vec<u8>>,
    offset: i32,
    eoffset: i32,
    li: Vec<Level>,
    s: [u8; MAX_STRING],
    num: u64,
    f: f32,
    d: f64,
    use_found: bool,
    search: Search,
    indir_count: u16,
    name_count: u16,
    printed_something: bool,
    need_separator: bool,
    firstline: bool,
    keep_going: bool,
    steps: u64,
}

/// libmagic's `FILE_SEPARATOR` between matches of `file -k`.
pub(crate) const SEPARATOR: &[u8] = b"\n- ";

/// Runs the soft-magic tests of `mode` over `buf`.
pub(crate) fn softmagic(
    db: &Database,
    buf: Buf<'_>,
    mode: Mode,
    text: bool,
    exec: bool,
    keep_going: bool,
) -> Found {
    let mut m = Matcher {
        db,
        exec,
        out: Vec::new(),
        mime: None,
        ext: None,
        apple: None,
        offset: 0,
        eoffset: 0,
        li: vec![Level::default(); 4],
        s: [0; MAX_STRING],
        num: 0,
        f: 0.0,
        d: 0.0,
        use_found: false,
        search: Search::default(),
        indir_count: 0,
        name_count: 0,
        printed_something: false,
        need_separator: false,
        firstline: true,
        keep_going,
        steps: 0,
    };
    let mut returnval = false;
    let mut found = false;
    let rv = m.run(
        &db.main,
        0..db.main.len(),
        buf,
        0,
        mode,
        text,
        false,
        &mut returnval,
        &mut found,
    );
    Found {
        matched: matches!(rv, Ok(true)) || (rv.is_err() && !m.out.is_empty()),
        desc: m.out,
        mime: m.mime,
        ext: m.ext,
    }
}

/// Whether the shortcut of a top-level entry proves it cannot match
/// (exactly when `mget` + `magiccheck` would fail).
fn quick_reject(t: &Top, buf: &[u8]) -> bool {
    if (buf.len() as u64) < u64::from(t.min_len) {
        return true;
    }
    match t.quick {
        Quick::None => false,
        Quick::Str { off, first, len } => match buf.get(off as usize) {
            Some(&c) => c != first || buf.len() - (off as usize) < usize::from(len),
            None => true,
        },
        Quick::Num {
            off,
            width,
            endian,
            value,
        } => match buf.get(off as usize..off as usize + usize::from(width)) {
            Some(bytes) => {
                let v = read_int(bytes, usize::from(width), endian);
                sign_extend(t.typ, t.unsigned, v) != value
            }
            None => true,
        },
    }
}

/// The strings a `regex` test checks before running its expression (see
/// `posix::needs`): at most four sets, those with the longest strings
/// first; under `/c` only those without letters.
fn regex_needs(pattern: &[u8], icase: bool) -> NeedSets {
    let mut needs = posix::needs(pattern);
    if icase {
        needs.retain(|set| set.iter().all(|s| !s.iter().any(u8::is_ascii_alphabetic)));
    }
    needs.sort_by_key(|set| std::cmp::Reverse(set.iter().map(Vec::len).min().unwrap_or(0)));
    needs.truncate(4);
    needs
        .into_iter()
        .map(|set| set.into_iter().map(Vec::into_boxed_slice).collect())
        .collect()
}

/// Whether `hay` contains `needle`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    match needle {
        [b] => memchr::memchr(*b, hay).is_some(),
        _ => memchr::memmem::find(hay, needle).is_some(),
    }
}

fn oob(n: usize, o: u32, i: usize) -> bool {
    (n as u64) < u64::from(o) || i as u64 > n as u64 - u64::from(o)
}

fn get(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

fn read_n<const N: usize>(s: &[u8], at: usize) -> [u8; N] {
    let mut b = [0u8; N];
    for (k, x) in b.iter_mut().enumerate() {
        *x = get(s, at.wrapping_add(k));
    }
    b
}

/// Reads an integer of `size` bytes in `endian` order.
fn read_int(b: &[u8], size: usize, endian: Endian) -> u64 {
    let native_le = cfg!(target_endian = "little");
    let mut v: u64 = 0;
    match endian {
        Endian::Middle => {
            // ME32: hl[1]<<24 | hl[0]<<16 | hl[3]<<8 | hl[2]
            v = (u64::from(get(b, 1)) << 24)
                | (u64::from(get(b, 0)) << 16)
                | (u64::from(get(b, 3)) << 8)
                | u64::from(get(b, 2));
        }
        e => {
            let little = e == Endian::Little || (e == Endian::Native && native_le);
            for k in 0..size {
                let byte = u64::from(get(b, k));
                if little {
                    v |= byte << (8 * k);
                } else {
                    v = (v << 8) | byte;
                }
            }
        }
    }
    v
}

fn sext(signed: bool, bits: u32, v: u64) -> i64 {
    if !signed {
        return if bits >= 64 {
            v as i64
        } else {
            (v & ((1u64 << bits) - 1)) as i64
        };
    }
    match bits {
        8 => v as u8 as i8 as i64,
        16 => v as u16 as i16 as i64,
        32 => v as u32 as i32 as i64,
        _ => v as i64,
    }
}

/// The bytes a search pattern's first character can match under its
/// flags, when that is a small set.
fn first_byte_candidates(pat: &[u8], flags: u32) -> Option<(u8, u8)> {
    let &a = pat.first()?;
    let ws = flags & (sflag::COMPACT_WHITESPACE | sflag::COMPACT_OPTIONAL_WHITESPACE) != 0;
    if ws && c_isspace(a) {
        return None;
    }
    if flags & sflag::IGNORE_LOWERCASE != 0 && a.is_ascii_lowercase() {
        return Some((a, a.to_ascii_uppercase()));
    }
    if flags & sflag::IGNORE_UPPERCASE != 0 && a.is_ascii_uppercase() {
        return Some((a, a.to_ascii_lowercase()));
    }
    Some((a, a))
}

fn c_isspace(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// libmagic's `file_strncmp` (`a` is the pattern, `b` the data).
fn strncmp(a: &[u8], b: &[u8], len: usize, maxlen: usize, flags: u32) -> u64 {
    let ws = flags & (sflag::COMPACT_WHITESPACE | sflag::COMPACT_OPTIONAL_WHITESPACE);
    let eb = if ws != 0 { maxlen } else { len };
    let mut v: i64 = 0;
    let (mut ai, mut bi) = (0usize, 0usize);
    let mut remaining = len + 1;
    if flags == 0 && len <= a.len() && len <= b.len() {
        return match a[..len].iter().zip(&b[..len]).position(|(x, y)| x != y) {
            None => 0,
            Some(i) => (i64::from(b[i]) - i64::from(a[i])) as u64,
        };
    }
    if flags == 0 {
        loop {
            remaining -= 1;
            if remaining == 0 {
                break;
            }
            v = i64::from(get(b, bi)) - i64::from(get(a, ai));
            bi += 1;
            ai += 1;
            if v != 0 {
                break;
            }
        }
    } else {
        loop {
            remaining -= 1;
            if remaining == 0 {
                break;
            }
            if bi >= eb {
                v = 1;
                break;
            }
            let ca = get(a, ai);
            if flags & sflag::IGNORE_LOWERCASE != 0 && ca.is_ascii_lowercase() {
                v = i64::from(get(b, bi).to_ascii_lowercase()) - i64::from(ca);
                bi += 1;
                ai += 1;
                if v != 0 {
                    break;
                }
            } else if flags & sflag::IGNORE_UPPERCASE != 0 && ca.is_ascii_uppercase() {
                v = i64::from(get(b, bi).to_ascii_uppercase()) - i64::from(ca);
                bi += 1;
                ai += 1;
                if v != 0 {
                    break;
                }
            } else if flags & sflag::COMPACT_WHITESPACE != 0 && c_isspace(ca) {
                ai += 1;
                if c_isspace(get(b, bi)) {
                    bi += 1;
                    if !c_isspace(get(a, ai)) {
                        while bi < eb && c_isspace(get(b, bi)) {
                            bi += 1;
                        }
                    }
                } else {
                    v = 1;
                    break;
                }
            } else if flags & sflag::COMPACT_OPTIONAL_WHITESPACE != 0 && c_isspace(ca) {
                ai += 1;
                while bi < eb && c_isspace(get(b, bi)) {
                    bi += 1;
                }
            } else {
                v = i64::from(get(b, bi)) - i64::from(ca);
                bi += 1;
                ai += 1;
                if v != 0 {
                    break;
                }
            }
        }
        if remaining == 0 && v == 0 && flags & sflag::FULL_WORD != 0 {
            let c = get(b, bi);
            if c != 0 && !c_isspace(c) {
                v = 1;
            }
        }
    }
    v as u64
}

/// `${x?exec:other}` expansion of descriptions and MIME types.
fn varexpand(s: &[u8], exec: bool) -> Option<Vec<u8>> {
    memchr::memmem::find(s, b"${")?;
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(p) = memchr::memmem::find(rest, b"${") {
        out.extend_from_slice(&rest[..p]);
        let r = &rest[p + 2..];
        if r.len() < 2 || r[1] != b'?' || r[0] != b'x' {
            return None;
        }
        let t = &r[2..];
        let colon = memchr::memchr(b':', t)?;
        let e = &t[colon + 1..];
        let close = memchr::memchr(b'}', e)?;
        out.extend_from_slice(if exec { &t[..colon] } else { &e[..close] });
        rest = &e[close + 1..];
    }
    out.extend_from_slice(rest);
    Some(out)
}

/// Whether a description asks for the value as a string (`%s`).
fn wants_string(desc: &[u8]) -> bool {
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'%', &desc[i..]) {
        let mut j = i + p + 1;
        while j < desc.len() && (desc[j] == b'-' || desc[j] == b'.' || desc[j].is_ascii_digit()) {
            j += 1;
        }
        if desc.get(j) == Some(&b's') {
            return true;
        }
        i = i + p + 1;
    }
    false
}

fn cstr(s: &[u8]) -> &[u8] {
    match memchr::memchr(0, s) {
        Some(n) => &s[..n],
        None => s,
    }
}

impl<'d> Matcher<'d> {
    fn level(&mut self, l: usize) -> &mut Level {
        if l >= self.li.len() {
            self.li.resize(l + 1, Level::default());
        }
        &mut self.li[l]
    }

    fn enter_level(&mut self, l: usize) {
        self.level(l).got_match = false;
    }

    fn annotate(&mut self, m: &Entry) {
        if m.notes.is_none() {
            return;
        }
        if self.mime.is_none() && !m.mime().is_empty() {
            self.mime = Some(varexpand(m.mime(), self.exec).unwrap_or_else(|| m.mime().to_vec()));
        }
        if self.ext.is_none() && !m.ext().is_empty() {
            self.ext = Some(m.ext().to_vec());
        }
        if self.apple.is_none() && !m.apple().is_empty() {
            self.apple = Some(m.apple().to_vec());
        }
    }

    fn skips(m: &Entry, mode: Mode, text: bool) -> bool {
        if m.typ == Type::Name {
            return false;
        }
        let flt = m.str_flags & (sflag::BINTEST | sflag::TEXTTEST);
        (m.typ.is_string() && ((text && flt == sflag::BINTEST) || (!text && flt == sflag::TEXTTEST)))
            || (m.flag & mode.bit()) != mode.bit()
    }

    /// libmagic's `match` over the groups `groups` of `set`. Returns
    /// `returnval`.
    #[allow(clippy::too_many_arguments)]
    fn run<'a>(
        &mut self,
        set: &'d Set,
        groups: std::ops::Range<usize>,
        b: Buf<'a>,
        base: u32,
        mode: Mode,
        text: bool,
        flip: bool,
        returnval: &mut bool,
        found_match: &mut bool,
    ) -> Result<bool, Abort> {
        self.enter_level(0);
        let mut bb: &'a [u8] = b.f;
        let tops = std::ptr::eq(set, &self.db.main).then_some(self.db.tops.as_slice());
        let mut g = groups.start;
        // Each turn is one group: its top-level entry, then its
        // continuations while they apply. `continue 'top` goes on with the
        // next group.
        'top: while g < groups.end {
            if let Some(tops) = tops {
                // Find the next top-level entry that may match.
                while g < groups.end {
                    let t = &tops[g];
                    let skip = t.only_text == Some(!text)
                        || (t.tests & mode.bit()) != mode.bit()
                        || quick_reject(t, b.f);
                    if !skip {
                        break;
                    }
                    g += 1;
                }
                if g == groups.end {
                    break;
                }
            }
            let group = g;
            g += 1;
            let m = set.top(group);
            if Self::skips(m, mode, text) {
                continue;
            }
            let Some(nb) = self.set_offset(m, b, base, 0) else {
                continue;
            };
            if let Some(x) = nb {
                bb = x;
            }
            let flush = match self.mget(m, bb, b, base, 0, mode, text, flip, returnval, found_match)? {
                false => m.reln != b'!',
                true => {
                    if m.typ == Type::Indirect {
                        *found_match = true;
                        *returnval = true;
                    }
                    !self.check(m, bb)
                }
            };
            if flush {
                continue;
            }
            self.annotate(m);
            if !m.desc.is_empty() {
                *found_match = true;
                *returnval = true;
                self.need_separator = true;
                self.printed_something = true;
                self.print_sep();
                self.mprint(m, bb);
            }
            match self.moffset(m, bb) {
                Some(o) => self.level(0).off = o,
                None => continue,
            }
            let mut cont_level = 1usize;
            self.enter_level(cont_level);

            for m in set.rest(group) {
                let ml = m.cont_level as usize;
                if cont_level < ml {
                    continue;
                }
                if cont_level > ml {
                    cont_level = ml;
                }
                let Some(nb) = self.set_offset(m, b, base, cont_level) else {
                    continue 'top;
                };
                if let Some(x) = nb {
                    bb = x;
                }
                if m.has(flag::OFFADD) {
                    if cont_level == 0 {
                        return Ok(false);
                    }
                    let prev = self.level(cont_level - 1).off;
                    self.offset = self.offset.wrapping_add(prev);
                }
                let got = self.mget(
                    m,
                    bb,
                    b,
                    base,
                    cont_level,
                    mode,
                    text,
                    flip,
                    returnval,
                    found_match,
                )?;
                let forced = if got {
                    if m.typ == Type::Indirect {
                        *found_match = true;
                        *returnval = true;
                    }
                    false
                } else {
                    if m.reln != b'!' {
                        continue;
                    }
                    true
                };
                if !(forced || self.check(m, bb)) {
                    continue;
                }
                if m.typ == Type::Clear {
                    self.level(cont_level).got_match = false;
                } else if self.level(cont_level).got_match {
                    if m.typ == Type::Default {
                        continue;
                    }
                } else {
                    self.level(cont_level).got_match = true;
                }
                self.annotate(m);
                if !m.desc.is_empty() {
                    *found_match = true;
                    *returnval = true;
                    if !self.printed_something {
                        self.printed_something = true;
                        self.print_sep();
                    }
                    if self.need_separator && !m.has(flag::NOSPACE) {
                        self.out.push(b' ');
                    }
                    self.mprint(m, bb);
                    self.need_separator = true;
                }
                match self.moffset(m, bb) {
                    Some(o) => self.level(cont_level).off = o,
                    None => cont_level = cont_level.saturating_sub(1),
                }
                cont_level += 1;
                self.enter_level(cont_level);
            }
            if self.printed_something {
                self.firstline = false;
            }
            if *found_match {
                if !self.keep_going {
                    return Ok(*returnval);
                }
                // `file -k`: go on, and separate the next match.
                self.printed_something = false;
                self.firstline = false;
            }
        }
        Ok(*returnval)
    }

    /// `print_sep`: matches after the first line are put on their own line
    /// (with `file -k`, and, as in libmagic, inside `use`/`indirect` once a
    /// named group has printed).
    fn print_sep(&mut self) {
        if !self.firstline {
            self.out.extend_from_slice(SEPARATOR);
        }
    }

    /// `msetoffset`. `None`: skip the entry; `Some(Some(buf))`: switch the
    /// buffer; `Some(None)`: keep the current buffer.
    #[allow(clippy::option_option)]
    fn set_offset<'a>(
        &mut self,
        m: &Entry,
        b: Buf<'a>,
        base: u32,
        cont_level: usize,
    ) -> Option<Option<&'a [u8]>> {
        if m.has(flag::OFFNEGATIVE) {
            let offset = m.offset.wrapping_neg();
            if cont_level > 0 && m.flag & (flag::OFFADD | flag::INDIROFFADD) != 0 {
                self.offset = offset;
                self.eoffset = 0;
                return Some(Some(b.f));
            }
            let e = b.e?;
            if base != 0 {
                return None;
            }
            let back = usize::try_from(m.offset).ok()?;
            if back > e.len() {
                return None;
            }
            let o = (e.len() - back) as i32;
            self.offset = o;
            self.eoffset = o;
            Some(Some(e))
        } else if cont_level == 0 {
            self.offset = m.offset;
            self.eoffset = 0;
            Some(Some(b.f))
        } else {
            self.offset = self.eoffset.wrapping_add(m.offset);
            Some(None)
        }
    }

    /// `mcopy`: fetch the bytes of a value.
    fn mcopy(&mut self, typ: Type, indir: bool, s: &[u8], offset: u32, m: &Entry) {
        let nbytes = s.len();
        let off = offset as usize;
        let mut size = MAX_STRING;
        if !indir {
            match typ {
                Type::Der | Type::Search => {
                    let o = off.min(nbytes);
                    self.search = Search {
                        start: o,
                        len: nbytes - o,
                        valid: true,
                        offset: o,
                        rm_len: self.search.rm_len,
                    };
                    return;
                }
                Type::Regex => {
                    if nbytes < off {
                        self.search = Search::default();
                        return;
                    }
                    let (linecnt, mut bytecnt) = if m.str_flags & sflag::REGEX_LINE_COUNT != 0 {
                        (m.str_range as usize, m.str_range as usize * 80)
                    } else {
                        (0, m.str_range as usize)
                    };
                    if bytecnt == 0 || bytecnt > nbytes - off {
                        bytecnt = nbytes - off;
                    }
                    bytecnt = bytecnt.min(REGEX_MAX);
                    let end = off + bytecnt;
                    let mut last = end;
                    let mut lines = linecnt;
                    let mut b = off;
                    while lines > 0 && b < end {
                        let c = b;
                        let found =
                            memchr::memchr(b'\n', &s[c..end]).or_else(|| memchr::memchr(b'\r', &s[c..end]));
                        let Some(p) = found else { break };
                        b = c + p;
                        if b + 1 < end && s[b] == b'\r' && s[b + 1] == b'\n' {
                            b += 1;
                        }
                        if b + 1 < end && s[b] == b'\n' {
                            b += 1;
                        }
                        last = b;
                        lines -= 1;
                        b += 1;
                    }
                    if lines > 0 {
                        last = end;
                    }
                    self.search = Search {
                        start: off,
                        len: last - off,
                        valid: true,
                        offset: off,
                        rm_len: 0,
                    };
                    return;
                }
                Type::String16(e) => {
                    if off < nbytes {
                        let mut src = off + usize::from(e == Endian::Big);
                        let mut dst = 0usize;
                        while src < nbytes {
                            if dst >= MAX_STRING - 1 {
                                break;
                            }
                            let c = s[src];
                            self.s[dst] = c;
                            if c == 0 {
                                let nonzero = if e == Endian::Big {
                                    s[src - 1] != 0
                                } else {
                                    src + 1 < nbytes && s[src + 1] != 0
                                };
                                if nonzero {
                                    self.s[dst] = b' ';
                                }
                            }
                            src += 2;
                            dst += 1;
                        }
                        self.s[MAX_STRING - 1] = 0;
                        return;
                    }
                }
                Type::String | Type::PString => {
                    if m.str_range != 0 && (m.str_range as usize) < MAX_STRING {
                        size = m.str_range as usize;
                    }
                }
                _ => {}
            }
        }
        if typ == Type::Offset {
            self.s = [0; MAX_STRING];
            self.s[..8].copy_from_slice(&u64::from(offset).to_ne_bytes());
            return;
        }
        if off >= nbytes {
            self.s = [0; MAX_STRING];
            return;
        }
        let n = (nbytes - off).min(size);
        self.s[..n].copy_from_slice(&s[off..off + n]);
        self.s[n..].fill(0);
    }

    /// `do_ops`: the arithmetic of an indirect offset.
    fn do_ops(m: &Entry, lhs: i64, off: i64) -> Option<u32> {
        const UINT_MAX: i64 = u32::MAX as i64;
        const INT_MIN: i64 = i32::MIN as i64;
        if lhs >= UINT_MAX || lhs <= INT_MIN || off >= UINT_MAX || off <= INT_MIN {
            return None;
        }
        let mut offset = if off != 0 {
            match m.in_op & op::MASK {
                op::AND => lhs & off,
                op::OR => lhs | off,
                op::XOR => lhs ^ off,
                op::ADD => lhs + off,
                op::MINUS => lhs - off,
                op::MULTIPLY => lhs.wrapping_mul(off),
                op::DIVIDE => lhs / off,
                _ => lhs % off,
            }
        } else {
            lhs
        };
        if m.in_op & op::INVERSE != 0 {
            offset = !offset;
        }
        if offset >= UINT_MAX {
            return None;
        }
        Some(offset as u32)
    }

    fn octal_value(&self) -> u64 {
        let s = cstr(&self.s);
        let mut v: u64 = 0;
        let mut i = 0;
        while i < s.len() && c_isspace(s[i]) {
            i += 1;
        }
        while i < s.len() && (b'0'..=b'7').contains(&s[i]) {
            v = v.wrapping_mul(8).wrapping_add(u64::from(s[i] - b'0'));
            i += 1;
        }
        v
    }

    /// `mget`: read the value of `m` (following indirections, `use` and
    /// `indirect`). `Ok(false)`: no value (out of range).
    #[allow(clippy::too_many_arguments)]
    fn mget<'a>(
        &mut self,
        m: &'d Entry,
        s: &'a [u8],
        b: Buf<'a>,
        base: u32,
        cont_level: usize,
        mode: Mode,
        text: bool,
        flip: bool,
        returnval: &mut bool,
        found_match: &mut bool,
    ) -> Result<bool, Abort> {
        self.steps += 1;
        if self.steps > STEP_BUDGET {
            return Err(Abort::Budget);
        }
        let mut offset = self.offset as u32;
        if self.indir_count >= INDIR_MAX {
            return Err(Abort::IndirectLimit);
        }
        if self.name_count >= NAME_MAX {
            return Err(Abort::NameLimit);
        }
        let nbytes = s.len();
        self.mcopy(m.typ, m.has(flag::INDIR), s, offset.wrapping_add(base), m);

        if m.has(flag::INDIR) {
            let mut off = i64::from(m.in_offset);
            let sgn = m.in_op & op::SIGNED != 0;
            let in_type = if flip { m.in_type.flip() } else { m.in_type };
            if m.in_op & op::INDIRECT != 0 {
                let at = (i64::from(offset) + off) as u32;
                let q = at as usize;
                off = match in_type {
                    Type::Byte => {
                        if oob(nbytes, at, 1) {
                            return Ok(false);
                        }
                        sext(sgn, 8, u64::from(s[q]))
                    }
                    Type::Short(e) => {
                        if oob(nbytes, at, 2) {
                            return Ok(false);
                        }
                        sext(sgn, 16, read_int(&read_n::<2>(s, q), 2, e))
                    }
                    Type::Long(e) | Type::Id3(e) => {
                        if oob(nbytes, at, 4) {
                            return Ok(false);
                        }
                        sext(sgn, 32, read_int(&read_n::<4>(s, q), 4, e))
                    }
                    Type::Quad(e) => {
                        if oob(nbytes, at, 8) {
                            return Ok(false);
                        }
                        sext(sgn, 64, read_int(&read_n::<8>(s, q), 8, e))
                    }
                    Type::Octal => {
                        if oob(nbytes, offset, m.vallen) {
                            return Ok(false);
                        }
                        sext(sgn, 64, self.octal_value())
                    }
                    _ => return Ok(false),
                };
            }
            let p = self.s;
            let lhs = match in_type {
                Type::Byte => {
                    if oob(nbytes, offset, 1) {
                        return Ok(false);
                    }
                    sext(sgn, 8, u64::from(p[0]))
                }
                Type::Short(e) => {
                    if oob(nbytes, offset, 2) {
                        return Ok(false);
                    }
                    sext(sgn, 16, read_int(&p, 2, e))
                }
                Type::Long(e) => {
                    if oob(nbytes, offset, 4) {
                        return Ok(false);
                    }
                    sext(sgn, 32, read_int(&p, 4, e))
                }
                Type::Id3(e) => {
                    if oob(nbytes, offset, 4) {
                        return Ok(false);
                    }
                    let v = read_int(&p, 4, e);
                    let v = (v & 0x7f)
                        | (((v >> 8) & 0x7f) << 7)
                        | (((v >> 16) & 0x7f) << 14)
                        | (((v >> 24) & 0x7f) << 21);
                    sext(sgn, 32, v)
                }
                Type::Quad(e) => {
                    if oob(nbytes, offset, 8) {
                        return Ok(false);
                    }
                    sext(sgn, 64, read_int(&p, 8, e))
                }
                Type::Octal => {
                    if oob(nbytes, offset, m.vallen) {
                        return Ok(false);
                    }
                    sext(sgn, 64, self.octal_value())
                }
                _ => return Ok(false),
            };
            let Some(o) = Self::do_ops(m, lhs, off) else {
                return Ok(false);
            };
            offset = o;
            if m.has(flag::INDIROFFADD) {
                if cont_level == 0 {
                    return Ok(false);
                }
                let prev = self.level(cont_level - 1).off;
                offset = offset.wrapping_add(prev as u32);
                if offset == 0 {
                    return Ok(false);
                }
            }
            self.mcopy(m.typ, false, s, offset, m);
            self.offset = offset as i32;
        }

        if let Some(i) = checked_size(m.typ, m.vallen) {
            if oob(nbytes, offset, i) {
                return Ok(false);
            }
        }
        match m.typ {
            Type::Regex => {
                if nbytes < offset as usize {
                    return Ok(false);
                }
            }
            Type::Indirect => {
                if m.str_flags & sflag::INDIRECT_RELATIVE != 0 {
                    offset = offset.wrapping_add(base);
                }
                if offset == 0 || nbytes < offset as usize {
                    return Ok(false);
                }
                self.indir_count += 1;
                let sub = Buf {
                    f: &s[offset as usize..],
                    e: b.e,
                };
                let saved = std::mem::take(&mut self.out);
                let mut rv_inner = false;
                let mut found_inner = false;
                let db = self.db;
                let rv = self.run(
                    &db.main,
                    0..db.main.len(),
                    sub,
                    0,
                    Mode::Binary,
                    text,
                    false,
                    &mut rv_inner,
                    &mut found_inner,
                );
                let rbuf = std::mem::replace(&mut self.out, saved);
                let rv = rv?;
                if rv {
                    format::format(
                        &mut self.out,
                        &m.desc,
                        Arg::Int {
                            value: u64::from(offset),
                            bits: 32,
                            signed: false,
                        },
                    );
                    self.out.extend_from_slice(&rbuf);
                }
                return Ok(rv);
            }
            Type::Use => {
                if nbytes < offset as usize {
                    return Ok(false);
                }
                let mut name = m.bytes();
                let mut flip = flip;
                if name.first() == Some(&b'^') {
                    name = &name[1..];
                    flip = !flip;
                }
                let group = self.db.named_group(name).ok_or(Abort::MissingName)?;
                let saved_li = self.li.clone();
                let oneed = self.need_separator;
                if m.has(flag::NOSPACE) {
                    self.need_separator = false;
                }
                let mut nfound = false;
                self.name_count += 1;
                let eoffset = self.eoffset;
                let db = self.db;
                let rv = self.run(
                    db.named(),
                    group..group + 1,
                    b,
                    offset.wrapping_add(base),
                    mode,
                    text,
                    flip,
                    returnval,
                    &mut nfound,
                );
                self.use_found = nfound;
                self.name_count -= 1;
                *found_match |= nfound;
                self.li = saved_li;
                let rv = rv?;
                if !rv {
                    self.need_separator = oneed;
                }
                self.offset = offset as i32;
                self.eoffset = eoffset;
                return Ok(rv || *found_match);
            }
            Type::Name => {
                self.out.extend_from_slice(&m.desc);
                return Ok(true);
            }
            _ => {}
        }
        Ok(self.mconvert(m, flip))
    }

    /// `mconvert`: byte order and mask.
    fn mconvert(&mut self, m: &Entry, flip: bool) -> bool {
        let typ = if flip { m.typ.flip() } else { m.typ };
        let p = self.s;
        let (bits, raw) = match typ {
            Type::Byte => (8, u64::from(p[0])),
            Type::Short(e) => (16, read_int(&p, 2, e)),
            Type::MsdosDate(_) | Type::MsdosTime(_) => (16, read_int(&p, 2, Endian::Native)),
            Type::Long(e) | Type::Date(e, _) => (32, read_int(&p, 4, e)),
            Type::Quad(e) | Type::QDate(e, _) => (64, read_int(&p, 8, e)),
            Type::Offset => (64, read_int(&p, 8, Endian::Native)),
            Type::Float(e) => {
                let bits = read_int(&p, 4, e) as u32;
                let f = f32::from_bits(bits);
                let Some(f) = float_mask(f, m.num_mask as f32, m.num_mask, m.mask_op) else {
                    return false;
                };
                self.f = f;
                return true;
            }
            Type::Double(e) => {
                let d = f64::from_bits(read_int(&p, 8, e));
                let Some(d) = float_mask(d, m.num_mask as f64, m.num_mask, m.mask_op) else {
                    return false;
                };
                self.d = d;
                return true;
            }
            Type::String | Type::String16(_) | Type::Octal => {
                self.s[MAX_STRING - 1] = 0;
                return true;
            }
            Type::PString => {
                let sz = m.pstring_length_size();
                let mut len = match m.str_flags & sflag::PSTRING_LEN {
                    sflag::PSTRING_2_LE => usize::from(u16::from_le_bytes([p[0], p[1]])),
                    sflag::PSTRING_2_BE => usize::from(u16::from_be_bytes([p[0], p[1]])),
                    sflag::PSTRING_4_LE => u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as usize,
                    sflag::PSTRING_4_BE => u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as usize,
                    _ => usize::from(p[0]),
                };
                if m.str_flags & sflag::PSTRING_LENGTH_INCLUDES_ITSELF != 0 {
                    len = len.wrapping_sub(sz);
                }
                let max = MAX_STRING - sz;
                if len >= max {
                    len = max;
                }
                self.s[..len].copy_from_slice(&p[sz..len + sz]);
                if len < MAX_STRING {
                    self.s[len] = 0;
                }
                return true;
            }
            Type::Regex
            | Type::Search
            | Type::Default
            | Type::Clear
            | Type::Name
            | Type::Use
            | Type::Der
            | Type::Guid => return true,
            _ => return false,
        };
        let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
        let mut v = raw & mask;
        if m.num_mask != 0 {
            let k = m.num_mask & mask;
            v = match m.mask_op & op::MASK {
                op::AND => v & k,
                op::OR => v | k,
                op::XOR => v ^ k,
                op::ADD => v.wrapping_add(k),
                op::MINUS => v.wrapping_sub(k),
                op::MULTIPLY => v.wrapping_mul(k),
                op::DIVIDE => {
                    if k == 0 {
                        return false;
                    }
                    v / k
                }
                _ => {
                    if k == 0 {
                        return false;
                    }
                    v % k
                }
            } & mask;
        }
        if m.mask_op & op::INVERSE != 0 {
            v = !v & mask;
        }
        self.num = v;
        true
    }

    /// `magiccheck`: compare the value read with the entry's value.
    fn check(&mut self, m: &Entry, s: &[u8]) -> bool {
        let mut l = m.num();
        let v: u64;
        match m.typ {
            Type::Byte
            | Type::Short(_)
            | Type::Long(_)
            | Type::Quad(_)
            | Type::Date(..)
            | Type::QDate(..)
            | Type::MsdosDate(_)
            | Type::MsdosTime(_)
            | Type::Offset => v = self.num,
            Type::Float(_) => {
                let fl = match m.value {
                    Value::Float(f) => f,
                    _ => 0.0,
                };
                return float_relation(m.reln, self.f, fl);
            }
            Type::Double(_) => {
                let dl = match m.value {
                    Value::Double(d) => d,
                    _ => 0.0,
                };
                return float_relation(m.reln, self.d, dl);
            }
            Type::Default | Type::Clear => {
                l = 0;
                v = 0;
            }
            Type::String | Type::PString | Type::Octal => {
                l = 0;
                v = strncmp(m.bytes(), &self.s, m.vallen, MAX_STRING, m.str_flags);
            }
            Type::String16(_) => {
                l = 0;
                v = strncmp(m.bytes(), &self.s, m.vallen, MAX_STRING, 0);
            }
            Type::Search => {
                if !self.search.valid {
                    return false;
                }
                let pat = m.bytes();
                let slen = m.vallen.min(MAX_STRING);
                l = 0;
                let region = s
                    .get(self.search.start..self.search.start + self.search.len)
                    .unwrap_or(&[]);
                let range = m.str_range as usize;
                if slen > 0 && m.str_flags == 0 {
                    let mut idx = range + slen;
                    if range == 0 || region.len() < idx {
                        idx = region.len();
                    }
                    match memchr::memmem::find(&region[..idx], &pat[..slen.min(pat.len())]) {
                        None => v = 1,
                        Some(found) => {
                            self.search.offset += found;
                            self.search.rm_len = region.len() - found;
                            v = 0;
                        }
                    }
                } else {
                    let mut r = 1;
                    let mut idx = 0usize;
                    let first = first_byte_candidates(pat, m.str_flags);
                    while range == 0 || idx < range {
                        if slen + idx > region.len() {
                            r = 1;
                            break;
                        }
                        if let Some((c1, c2)) = first {
                            // Positions whose first byte cannot match fail at once in
                            // strncmp: jump to the next one that can.
                            let limit = region.len() - slen + 1;
                            let limit = if range == 0 { limit } else { limit.min(range) };
                            match memchr::memchr2(c1, c2, &region[idx..limit]) {
                                Some(p) => idx += p,
                                None => {
                                    r = 1;
                                    break;
                                }
                            }
                        }
                        r = strncmp(pat, &region[idx..], slen, region.len() - idx, m.str_flags);
                        if r == 0 {
                            self.search.offset += idx;
                            self.search.rm_len = region.len() - idx;
                            break;
                        }
                        idx += 1;
                    }
                    v = r;
                }
            }
            Type::Regex => {
                if !self.search.valid {
                    return false;
                }
                l = 0;
                let region = s
                    .get(self.search.start..self.search.start + self.search.len)
                    .unwrap_or(&[]);
                // regexec sees a C string: the last byte is cut and a NUL ends it.
                let hay = cstr(&region[..region.len().saturating_sub(1)]);
                let icase = m.str_flags & sflag::IGNORE_CASE != 0;
                // Most expressions need strings the buffer does not have:
                // then there is nothing to compile or run.
                let cache = m.rx.get_or_init(|| {
                    Box::new(RegexCache {
                        needs: regex_needs(m.bytes(), icase),
                        regex: std::sync::OnceLock::new(),
                    })
                });
                let absent = cache
                    .needs
                    .iter()
                    .any(|set| !set.iter().any(|s| contains(hay, s)));
                let found = if absent {
                    None
                } else {
                    let rx = cache.regex.get_or_init(|| posix::compile(m.bytes(), icase));
                    rx.as_ref().and_then(|rx| rx.find(hay))
                };
                match found {
                    Some(found) => {
                        self.search.start += found.start();
                        self.search.offset += found.start();
                        self.search.rm_len = found.end() - found.start();
                        v = 0;
                    }
                    None => v = 1,
                }
            }
            Type::Use => return self.use_found,
            Type::Name | Type::Indirect => return true,
            Type::Der => {
                if !self.search.valid {
                    return false;
                }
                let region = s
                    .get(self.search.start..self.search.start + self.search.len)
                    .unwrap_or(&[]);
                return match der::cmp(region, m.bytes()) {
                    Some(text) => {
                        let n = text.len().min(MAX_STRING - 1);
                        self.s[..n].copy_from_slice(&text[..n]);
                        self.s[n] = 0;
                        true
                    }
                    None => false,
                };
            }
            Type::Guid => {
                l = 0;
                let g = match &m.value {
                    Value::Guid(g) => *g,
                    _ => [0; 16],
                };
                v = u64::from(self.s[..16] != g[..]);
            }
            _ => return false,
        }
        let v = sign_extend(m.typ, m.has(flag::UNSIGNED), v);
        match m.reln {
            b'x' => true,
            b'!' => v != l,
            b'=' => v == l,
            b'>' => {
                if m.has(flag::UNSIGNED) {
                    v > l
                } else {
                    (v as i64) > (l as i64)
                }
            }
            b'<' => {
                if m.has(flag::UNSIGNED) {
                    v < l
                } else {
                    (v as i64) < (l as i64)
                }
            }
            b'&' => (v & l) == l,
            b'^' => (v & l) != l,
            _ => false,
        }
    }

    /// The string value as mprint/moffset see it (cut at CR/LF when the
    /// entry's value is empty).
    fn data_string(&mut self, m: &Entry) -> usize {
        if m.bytes().first().is_none_or(|&c| c == 0) {
            if let Some(p) = self.s.iter().position(|&c| c == b'\r' || c == b'\n' || c == 0) {
                self.s[p] = 0;
            }
        }
        cstr(&self.s).len()
    }

    /// `moffset`: where a `&` continuation starts after `m`.
    fn moffset(&mut self, m: &Entry, s: &[u8]) -> Option<i32> {
        let o = self.offset;
        let next = match m.typ {
            Type::Byte => o.wrapping_add(1),
            Type::Short(_) | Type::MsdosDate(_) | Type::MsdosTime(_) => o.wrapping_add(2),
            Type::Long(_) | Type::Date(..) | Type::Float(_) => o.wrapping_add(4),
            Type::Quad(_) | Type::Double(_) => o.wrapping_add(8),
            Type::QDate(_, k) if k != DateKind::Windows => o.wrapping_add(8),
            Type::String | Type::PString | Type::String16(_) | Type::Octal => {
                if m.reln == b'=' || m.reln == b'!' {
                    o.wrapping_add(m.vallen as i32)
                } else {
                    let mut n = self.data_string(m) as i32;
                    if m.typ == Type::PString {
                        n += m.pstring_length_size() as i32;
                    }
                    o.wrapping_add(n)
                }
            }
            Type::Regex => {
                if m.str_flags & sflag::REGEX_OFFSET_START != 0 {
                    self.search.offset as i32
                } else {
                    (self.search.offset + self.search.rm_len) as i32
                }
            }
            Type::Search => {
                if m.str_flags & sflag::REGEX_OFFSET_START != 0 {
                    self.search.offset as i32
                } else {
                    (self.search.offset + m.vallen) as i32
                }
            }
            Type::Clear | Type::Default | Type::Indirect | Type::Offset | Type::Use => o,
            Type::Der => {
                let region = s
                    .get(self.search.start..self.search.start + self.search.len)
                    .unwrap_or(&[]);
                let (o, end) = der::offs(region, s.len(), self.offset, m.offset)?;
                let level = m.cont_level as usize;
                if level != 0 {
                    if end > s.len() {
                        return None;
                    }
                    self.level(level - 1).off = end as i32;
                }
                o
            }
            Type::Guid => o.wrapping_add(16),
            _ => 0,
        };
        // Past the end of the buffer there is nothing to continue from.
        if next < 0 || next as usize > s.len() {
            return None;
        }
        Some(next)
    }

    /// `mprint`: append the entry's description, formatted with its value.
    fn mprint(&mut self, m: &Entry, s: &[u8]) {
        let expanded = varexpand(&m.desc, self.exec);
        let desc: &[u8] = expanded.as_deref().unwrap_or(&m.desc);
        let unsigned = m.has(flag::UNSIGNED);
        let int = |this: &mut Self, bits: u32, v: u64| {
            let v = sign_extend(m.typ, unsigned, v);
            let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
            let (cv, signed) = if unsigned { (v & mask, false) } else { (v, true) };
            let (value, argbits) = if bits >= 64 {
                (cv, 64)
            } else if signed {
                (sext(true, bits, cv) as u64, 32)
            } else {
                (cv, 32)
            };
            if wants_string(desc) {
                let text = if signed {
                    (value as i64 as i32 as i64).to_string()
                } else if argbits == 64 {
                    value.to_string()
                } else {
                    (value as u32).to_string()
                };
                let text = if bits >= 64 && signed {
                    (value as i64).to_string()
                } else {
                    text
                };
                format::format(&mut this.out, desc, Arg::Str(text.as_bytes()));
            } else {
                format::format(
                    &mut this.out,
                    desc,
                    Arg::Int {
                        value,
                        bits: argbits,
                        signed,
                    },
                );
            }
        };
        match m.typ {
            Type::Byte => int(self, 8, self.num),
            Type::Short(_) => int(self, 16, self.num),
            Type::Long(_) => int(self, 32, self.num),
            Type::Quad(_) | Type::Offset => int(self, 64, self.num),
            Type::String | Type::PString | Type::String16(_) => {
                if m.reln == b'=' || m.reln == b'!' {
                    let p = format::printable(m.bytes());
                    format::format(&mut self.out, desc, Arg::Str(&p));
                } else {
                    self.data_string(m);
                    let mut st = cstr(&self.s);
                    if m.str_flags & sflag::TRIM != 0 {
                        st = trim(st);
                    }
                    let p = format::printable(st);
                    format::format(&mut self.out, desc, Arg::Str(&p));
                }
            }
            Type::Date(_, k) => {
                let t = self.num as u32 as i32 as i64;
                let txt = if k == DateKind::Windows {
                    format::datetime(format::windows_to_unix(u64::from(self.num as u32)))
                } else {
                    format::datetime(t)
                };
                format::format(&mut self.out, desc, Arg::Str(txt.as_bytes()));
            }
            Type::QDate(_, k) => {
                let txt = if k == DateKind::Windows {
                    format::datetime(format::windows_to_unix(self.num))
                } else {
                    format::datetime(self.num as i64)
                };
                format::format(&mut self.out, desc, Arg::Str(txt.as_bytes()));
            }
            Type::Float(_) => {
                let f = f64::from(self.f);
                if wants_string(desc) {
                    let g = format::format_g(f, 6, false);
                    format::format(&mut self.out, desc, Arg::Str(g.as_bytes()));
                } else {
                    format::format(&mut self.out, desc, Arg::Float(f));
                }
            }
            Type::Double(_) => {
                let f = self.d;
                if wants_string(desc) {
                    let g = format::format_g(f, 6, false);
                    format::format(&mut self.out, desc, Arg::Str(g.as_bytes()));
                } else {
                    format::format(&mut self.out, desc, Arg::Float(f));
                }
            }
            Type::Search | Type::Regex => {
                let start = self.search.start.min(s.len());
                let end = (start + self.search.rm_len).min(s.len());
                let mut cp = cstr(&s[start..end]);
                if m.str_flags & sflag::TRIM != 0 {
                    cp = trim(cp);
                }
                let p = format::printable(cp);
                format::format(&mut self.out, desc, Arg::Str(&p));
            }
            Type::Default | Type::Clear => self.out.extend_from_slice(&m.desc),
            Type::Indirect | Type::Use | Type::Name => {}
            Type::Der => {
                let p = format::printable(cstr(&self.s));
                format::format(&mut self.out, desc, Arg::Str(&p));
            }
            Type::Guid => {
                let mut g = [0u8; 16];
                g.copy_from_slice(&self.s[..16]);
                let txt = format::guid(&g);
                format::format(&mut self.out, desc, Arg::Str(txt.as_bytes()));
            }
            Type::MsdosDate(_) => {
                let txt = format::msdos_date(self.num as u16);
                format::format(&mut self.out, desc, Arg::Str(txt.as_bytes()));
            }
            Type::MsdosTime(_) => {
                let txt = format::msdos_time(self.num as u16);
                format::format(&mut self.out, desc, Arg::Str(txt.as_bytes()));
            }
            Type::Octal => {
                let v = cstr(m.bytes());
                let txt = std::str::from_utf8(v)
                    .ok()
                    .and_then(|t| u64::from_str_radix(t, 8).ok())
                    .map_or_else(|| "*Invalid number*".to_owned(), |n| n.to_string());
                format::format(&mut self.out, desc, Arg::Str(txt.as_bytes()));
            }
            Type::Id3(_) | Type::VarInt(_) => {}
        }
    }
}

/// `file_strtrim`.
fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| !c_isspace(c)).unwrap_or(s.len());
    let s = &s[start..];
    let end = s.iter().rposition(|&c| !c_isspace(c)).map_or(0, |p| p + 1);
    &s[..end]
}

/// libmagic's arithmetic mask on a `float` or `double` value (`k` is the
/// mask in the value's own precision, `raw` the mask as written); `None` on
/// a division by zero, which fails the test.
fn float_mask<F>(v: F, k: F, raw: u64, mask_op: u8) -> Option<F>
where
    F: Copy
        + PartialEq
        + Default
        + std::ops::Add<Output = F>
        + std::ops::Sub<Output = F>
        + std::ops::Mul<Output = F>
        + std::ops::Div<Output = F>,
{
    if raw == 0 {
        return Some(v);
    }
    Some(match mask_op & op::MASK {
        op::ADD => v + k,
        op::MINUS => v - k,
        op::MULTIPLY => v * k,
        op::DIVIDE if k == F::default() => return None,
        op::DIVIDE => v / k,
        _ => v,
    })
}

/// libmagic's relations on `float` and `double` values, each compared in
/// its own width: `!` holds when either side is NaN.
fn float_relation<F: PartialOrd + Copy>(reln: u8, value: F, literal: F) -> bool {
    let nan = |x: F| x.partial_cmp(&x).is_none();
    match reln {
        b'x' => true,
        b'!' => nan(literal) || nan(value) || value != literal,
        b'=' => value == literal,
        b'>' => value > literal,
        b'<' => value < literal,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strncmp_modes() {
        assert_eq!(strncmp(b"abc", b"abcd", 3, 128, 0), 0);
        assert_ne!(strncmp(b"abc", b"abd", 3, 128, 0), 0);
        assert_eq!(strncmp(b"abc", b"ABC", 3, 128, sflag::IGNORE_LOWERCASE), 0);
        assert_eq!(strncmp(b"a b", b"a    b", 3, 128, sflag::COMPACT_WHITESPACE), 0);
        assert_ne!(strncmp(b"ab", b"a b", 2, 128, 0), 0);
        assert_eq!(
            strncmp(b"a b", b"ab", 3, 128, sflag::COMPACT_OPTIONAL_WHITESPACE),
            0
        );
        assert_ne!(strncmp(b"abc", b"abcd", 3, 128, sflag::FULL_WORD), 0);
        assert_eq!(strncmp(b"abc", b"abc d", 3, 128, sflag::FULL_WORD), 0);
    }

    #[test]
    fn var_expansion() {
        assert_eq!(
            varexpand(b"ELF ${x?pie executable:shared object}", true).as_deref(),
            Some(&b"ELF pie executable"[..])
        );
        assert_eq!(varexpand(b"${x?a:b}!", false).as_deref(), Some(&b"b!"[..]));
        assert_eq!(varexpand(b"plain", false), None);
    }
}
