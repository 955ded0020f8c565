//! The magic(5) text format: one line at a time, as libmagic's
//! `apprentice.c` (`parse`, `getvalue`, `getstr`, `parse_extra`,
//! `parse_strength`) reads it.

use crate::entry::{
    DateKind, Endian, Entry, Factor, MAX_APPLE, MAX_DESC, MAX_EXT, MAX_MIME, MAX_STRING, Type, Value, flag,
    op, sflag, sign_extend,
};

/// Why a line of a magic file was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A `>` line before any top-level line.
    #[error("continuation line without a top-level entry")]
    ContinuationWithoutEntry,
    /// `&` (relative offset) on a top-level line.
    #[error("relative offset at level 0")]
    RelativeOffsetAtTopLevel,
    /// The offset is not a number.
    #[error("invalid offset")]
    BadOffset,
    /// The type letter of an indirect offset is unknown.
    #[error("invalid indirect offset type {found:?}")]
    BadIndirectType {
        /// The letter found.
        found: char,
    },
    /// An indirect offset lacks its closing parenthesis.
    #[error("missing ')' in indirect offset")]
    MissingParenthesis,
    /// The type field names no known type.
    #[error("invalid type")]
    UnknownType,
    /// `name` on a continuation line.
    #[error("`name` entries can only be declared at top level")]
    NameNotTopLevel,
    /// An operator other than `/` after a string type.
    #[error("invalid string operator {found:?}")]
    BadStringOperator {
        /// The operator found.
        found: char,
    },
    /// An unknown or misplaced string modifier.
    #[error("invalid string modifier {found:?}")]
    BadModifier {
        /// The modifier found.
        found: char,
    },
    /// `search` with modifiers but no range.
    #[error("search without a range")]
    MissingSearchRange,
    /// `<=` or `>=`, which magic(5) does not have.
    #[error("`{relation}=` is not supported")]
    RelationNotSupported {
        /// The relation before the `=`.
        relation: char,
    },
    /// A string value longer than libmagic's 127 bytes.
    #[error("string value longer than {max} bytes")]
    StringTooLong {
        /// The limit.
        max: usize,
    },
    /// A numeric value that does not parse.
    #[error("unparsable number")]
    BadNumber,
    /// A numeric value too wide for its type.
    #[error("value {value:#x} overflows a {width}-byte type")]
    NumberOverflow {
        /// The value read.
        value: u64,
        /// The width of the type in bytes.
        width: usize,
    },
    /// A GUID value that does not parse.
    #[error("invalid GUID")]
    BadGuid,
    /// An unknown `!:` annotation.
    #[error("unknown annotation")]
    UnknownAnnotation,
    /// A `!:` annotation before any entry.
    #[error("annotation without an entry")]
    AnnotationWithoutEntry,
    /// `!:mime`, `!:ext` or `!:apple` on a line without a description.
    #[error("annotation on an entry without a description")]
    AnnotationWithoutDescription,
    /// The entry already has this annotation.
    #[error("duplicate annotation")]
    DuplicateAnnotation,
    /// The annotation has no value.
    #[error("empty annotation")]
    EmptyAnnotation,
    /// A `!:strength` that does not parse or is out of range.
    #[error("invalid strength")]
    BadStrength,
}

/// A magic file line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: invalid magic line")]
pub struct ParseError {
    /// The file (as given to the loader).
    pub file: String,
    /// The line number, from 1.
    pub line: usize,
    /// What is wrong.
    #[source]
    pub kind: ParseErrorKind,
}

/// A top-level entry and its continuations.
pub(crate) type Group = Vec<Entry>;

/// Parses a whole magic file into groups.
pub(crate) fn parse_file(file: &str, text: &[u8], out: &mut Vec<Group>) -> Result<(), ParseError> {
    let mut current: Option<Group> = None;
    for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line_no = index + 1;
        // C strings end at the first NUL.
        let line = match memchr::memchr(0, raw) {
            Some(n) => &raw[..n],
            None => raw,
        };
        let err = |kind| ParseError {
            file: file.to_owned(),
            line: line_no,
            kind,
        };
        match line.first() {
            None | Some(b'#') => continue,
            Some(b'!') if line.get(1) == Some(&b':') => {
                let group = current
                    .as_mut()
                    .ok_or_else(|| err(ParseErrorKind::AnnotationWithoutEntry))?;
                annotate(group, &line[2..]).map_err(err)?;
            }
            Some(_) => {
                let entry = parse_line(line).map_err(err)?;
                if entry.cont_level == 0 {
                    if let Some(g) = current.take() {
                        out.push(g);
                    }
                    current = Some(vec![entry]);
                } else {
                    match current.as_mut() {
                        Some(g) => g.push(entry),
                        None => return Err(err(ParseErrorKind::ContinuationWithoutEntry)),
                    }
                }
            }
        }
    }
    if let Some(g) = current {
        out.push(g);
    }
    Ok(())
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// A cursor over a line: `at()` is `*l` in C, 0 past the end.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn at(&self) -> u8 {
        self.peek(0)
    }
    fn peek(&self, n: usize) -> u8 {
        self.s.get(self.i + n).copied().unwrap_or(0)
    }
    fn bump(&mut self) {
        self.i += 1;
    }
    fn eat_ws(&mut self) {
        while self.at() != 0 && is_space(self.at()) {
            self.i += 1;
        }
    }
    fn rest(&self) -> &[u8] {
        self.s.get(self.i..).unwrap_or(&[])
    }
    fn starts_with(&self, p: &[u8]) -> bool {
        self.rest().starts_with(p)
    }
}

/// C's `strtoull(s, &end, 0)`: optional whitespace and sign, then a
/// decimal, octal (`0`) or hex (`0x`) number. Returns the value (negated
/// modulo 2^64 for `-`), the number of bytes used, and whether it
/// overflowed; `None` when no digit was read.
pub(crate) fn strtoull(s: &[u8]) -> Option<(u64, usize, bool)> {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut base = 10u64;
    if i < s.len() && s[i] == b'0' {
        if i + 2 < s.len() + 1
            && matches!(s.get(i + 1), Some(b'x' | b'X'))
            && s.get(i + 2).is_some_and(|c| c.is_ascii_hexdigit())
        {
            base = 16;
            i += 2;
        } else {
            base = 8;
        }
    }
    let start = i;
    let mut v: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match s[i] {
            c @ b'0'..=b'9' => u64::from(c - b'0'),
            c @ b'a'..=b'f' => u64::from(c - b'a' + 10),
            c @ b'A'..=b'F' => u64::from(c - b'A' + 10),
            _ => break,
        };
        if d >= base {
            break;
        }
        match v.checked_mul(base).and_then(|x| x.checked_add(d)) {
            Some(n) => v = n,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start && base != 8 {
        return None;
    }
    if overflow {
        v = u64::MAX;
    }
    Some((if neg { v.wrapping_neg() } else { v }, i, overflow))
}

/// C's `strtol` truncated to 32 bits the way libmagic casts it.
fn strtol32(s: &[u8]) -> Option<(i32, usize)> {
    let (v, n, overflow) = strtoull(s)?;
    let as_i64 = v as i64;
    // strtol clamps to LONG_MIN/LONG_MAX; only the low 32 bits survive the cast.
    let clamped = if overflow {
        if s.iter().find(|c| !is_space(**c)) == Some(&b'-') {
            i64::MIN
        } else {
            i64::MAX
        }
    } else {
        as_i64
    };
    Some((clamped as i32, n))
}

pub(crate) const TYPES: &[(&str, Type)] = &[
    ("byte", Type::Byte),
    ("short", Type::Short(Endian::Native)),
    ("default", Type::Default),
    ("long", Type::Long(Endian::Native)),
    ("string", Type::String),
    ("date", Type::Date(Endian::Native, DateKind::Utc)),
    ("beshort", Type::Short(Endian::Big)),
    ("belong", Type::Long(Endian::Big)),
    ("bedate", Type::Date(Endian::Big, DateKind::Utc)),
    ("leshort", Type::Short(Endian::Little)),
    ("lelong", Type::Long(Endian::Little)),
    ("ledate", Type::Date(Endian::Little, DateKind::Utc)),
    ("pstring", Type::PString),
    ("ldate", Type::Date(Endian::Native, DateKind::Local)),
    ("beldate", Type::Date(Endian::Big, DateKind::Local)),
    ("leldate", Type::Date(Endian::Little, DateKind::Local)),
    ("regex", Type::Regex),
    ("bestring16", Type::String16(Endian::Big)),
    ("lestring16", Type::String16(Endian::Little)),
    ("search", Type::Search),
    ("medate", Type::Date(Endian::Middle, DateKind::Utc)),
    ("meldate", Type::Date(Endian::Middle, DateKind::Local)),
    ("melong", Type::Long(Endian::Middle)),
    ("quad", Type::Quad(Endian::Native)),
    ("lequad", Type::Quad(Endian::Little)),
    ("bequad", Type::Quad(Endian::Big)),
    ("qdate", Type::QDate(Endian::Native, DateKind::Utc)),
    ("leqdate", Type::QDate(Endian::Little, DateKind::Utc)),
    ("beqdate", Type::QDate(Endian::Big, DateKind::Utc)),
    ("qldate", Type::QDate(Endian::Native, DateKind::Local)),
    ("leqldate", Type::QDate(Endian::Little, DateKind::Local)),
    ("beqldate", Type::QDate(Endian::Big, DateKind::Local)),
    ("float", Type::Float(Endian::Native)),
    ("befloat", Type::Float(Endian::Big)),
    ("lefloat", Type::Float(Endian::Little)),
    ("double", Type::Double(Endian::Native)),
    ("bedouble", Type::Double(Endian::Big)),
    ("ledouble", Type::Double(Endian::Little)),
    ("leid3", Type::Id3(Endian::Little)),
    ("beid3", Type::Id3(Endian::Big)),
    ("indirect", Type::Indirect),
    ("qwdate", Type::QDate(Endian::Native, DateKind::Windows)),
    ("leqwdate", Type::QDate(Endian::Little, DateKind::Windows)),
    ("beqwdate", Type::QDate(Endian::Big, DateKind::Windows)),
    ("name", Type::Name),
    ("use", Type::Use),
    ("clear", Type::Clear),
    ("der", Type::Der),
    ("guid", Type::Guid),
    ("offset", Type::Offset),
    ("bevarint", Type::VarInt(Endian::Big)),
    ("levarint", Type::VarInt(Endian::Little)),
    ("msdosdate", Type::MsdosDate(Endian::Native)),
    ("lemsdosdate", Type::MsdosDate(Endian::Little)),
    ("bemsdosdate", Type::MsdosDate(Endian::Big)),
    ("msdostime", Type::MsdosTime(Endian::Native)),
    ("lemsdostime", Type::MsdosTime(Endian::Little)),
    ("bemsdostime", Type::MsdosTime(Endian::Big)),
    ("octal", Type::Octal),
];

const SPECIAL_TYPES: &[(&str, Type)] = &[
    ("der", Type::Der),
    ("name", Type::Name),
    ("use", Type::Use),
    ("octal", Type::Octal),
];

/// libmagic's `get_type`: the first table name that prefixes the text.
fn get_type(table: &[(&str, Type)], c: &mut Cursor<'_>) -> Option<Type> {
    for (name, t) in table {
        if c.starts_with(name.as_bytes()) {
            c.i += name.len();
            return Some(*t);
        }
    }
    None
}

/// `d`, `u`, `dC`, `u4`... (SUS integer types).
fn get_standard_integer_type(c: &mut Cursor<'_>) -> Option<Type> {
    let l1 = c.peek(1);
    let t = if l1.is_ascii_alphabetic() {
        let t = match l1 {
            b'C' => Type::Byte,
            b'S' => Type::Short(Endian::Native),
            b'I' | b'L' => Type::Long(Endian::Native),
            b'Q' => Type::Quad(Endian::Native),
            _ => return None,
        };
        c.i += 2;
        t
    } else if l1.is_ascii_digit() {
        if c.peek(2).is_ascii_digit() {
            return None;
        }
        let t = match l1 {
            b'1' => Type::Byte,
            b'2' => Type::Short(Endian::Native),
            b'4' => Type::Long(Endian::Native),
            b'8' => Type::Quad(Endian::Native),
            _ => return None,
        };
        c.i += 2;
        t
    } else {
        c.i += 1;
        Type::Long(Endian::Native)
    };
    Some(t)
}

fn parse_line(line: &[u8]) -> Result<Entry, ParseErrorKind> {
    let mut c = Cursor { s: line, i: 0 };
    let mut level = 0u32;
    while c.at() == b'>' {
        c.bump();
        level += 1;
    }
    let mut m = Entry::new(level);
    if c.at() == b'&' {
        c.bump();
        m.flag |= flag::OFFADD;
    }
    if c.at() == b'(' {
        c.bump();
        m.flag |= flag::INDIR;
        if m.has(flag::OFFADD) {
            m.flag = (m.flag & !flag::OFFADD) | flag::INDIROFFADD;
        }
        if c.at() == b'&' {
            c.bump();
            m.flag |= flag::OFFADD;
        }
    }
    if level == 0 && m.flag & (flag::OFFADD | flag::INDIROFFADD) != 0 {
        return Err(ParseErrorKind::RelativeOffsetAtTopLevel);
    }
    if c.at() == b'-' {
        c.bump();
        m.flag |= flag::OFFNEGATIVE;
    }
    let (off, n) = strtol32(c.rest()).ok_or(ParseErrorKind::BadOffset)?;
    m.offset = off;
    c.i += n;

    if m.has(flag::INDIR) {
        m.in_type = Type::Long(Endian::Native);
        if c.at() == b'.' || c.at() == b',' {
            if c.at() == b',' {
                m.in_op |= op::SIGNED;
            }
            c.bump();
            m.in_type = match c.at() {
                b'l' => Type::Long(Endian::Little),
                b'L' => Type::Long(Endian::Big),
                b'm' => Type::Long(Endian::Middle),
                b'h' | b's' => Type::Short(Endian::Little),
                b'H' | b'S' => Type::Short(Endian::Big),
                b'c' | b'b' | b'C' | b'B' => Type::Byte,
                b'e' | b'f' | b'g' => Type::Double(Endian::Little),
                b'E' | b'F' | b'G' => Type::Double(Endian::Big),
                b'i' => Type::Id3(Endian::Little),
                b'I' => Type::Id3(Endian::Big),
                b'o' => Type::Octal,
                b'q' => Type::Quad(Endian::Little),
                b'Q' => Type::Quad(Endian::Big),
                other => {
                    return Err(ParseErrorKind::BadIndirectType {
                        found: char::from(other),
                    });
                }
            };
            c.bump();
        }
        if c.at() == b'~' {
            m.in_op |= op::INVERSE;
            c.bump();
        }
        if let Some(o) = op::from_char(c.at()) {
            m.in_op |= o;
            c.bump();
        }
        if c.at() == b'(' {
            m.in_op |= op::INDIRECT;
            c.bump();
        }
        if c.at().is_ascii_digit() || c.at() == b'-' {
            let (v, n) = strtol32(c.rest()).ok_or(ParseErrorKind::BadOffset)?;
            m.in_offset = v;
            c.i += n;
        }
        if c.at() != b')' {
            return Err(ParseErrorKind::MissingParenthesis);
        }
        c.bump();
        if m.in_op & op::INDIRECT != 0 {
            if c.at() != b')' {
                return Err(ParseErrorKind::MissingParenthesis);
            }
            c.bump();
        }
    }
    c.eat_ws();

    // The type.
    let mut typ;
    if c.at() == b'u' {
        let save = c.i;
        c.bump();
        typ = get_type(TYPES, &mut c);
        if typ.is_none() {
            c.i = save;
            typ = get_standard_integer_type(&mut c);
        }
        if typ.is_some() {
            m.flag |= flag::UNSIGNED;
        }
    } else {
        typ = get_type(TYPES, &mut c);
        if typ.is_none() {
            if c.at() == b'd' {
                typ = get_standard_integer_type(&mut c);
            } else if c.at() == b's' && !c.peek(1).is_ascii_alphabetic() {
                typ = Some(Type::String);
                c.bump();
            }
        }
    }
    if typ.is_none() {
        typ = get_type(SPECIAL_TYPES, &mut c);
    }
    let typ = typ.ok_or(ParseErrorKind::UnknownType)?;
    m.typ = typ;
    if typ == Type::Name && level != 0 {
        return Err(ParseErrorKind::NameNotTopLevel);
    }

    // Mask or string modifiers.
    if c.at() == b'~' {
        if !typ.is_string() {
            m.mask_op |= op::INVERSE;
        }
        c.bump();
    }
    if typ == Type::PString {
        m.str_flags = sflag::PSTRING_1;
    }
    if let Some(o) = op::from_char(c.at()) {
        if typ.is_string() {
            if o != op::DIVIDE {
                return Err(ParseErrorKind::BadStringOperator {
                    found: char::from(c.at()),
                });
            }
            if typ == Type::Indirect {
                parse_indirect_modifier(&mut m, &mut c)?;
            } else {
                parse_string_modifier(&mut m, &mut c)?;
            }
        } else {
            c.bump();
            m.mask_op |= o;
            let (v, n, _) = strtoull(c.rest()).unwrap_or((0, 0, false));
            c.i += n;
            m.num_mask = sign_extend(typ, m.has(flag::UNSIGNED), v);
            eat_size(&mut c);
        }
    }
    c.eat_ws();

    // The relation.
    match c.at() {
        r @ (b'>' | b'<') => {
            m.reln = r;
            c.bump();
            if c.at() == b'=' {
                return Err(ParseErrorKind::RelationNotSupported {
                    relation: char::from(r),
                });
            }
        }
        r @ (b'&' | b'^' | b'=') => {
            m.reln = r;
            c.bump();
            if c.at() == b'=' {
                c.bump();
            }
        }
        b'!' => {
            m.reln = b'!';
            c.bump();
        }
        _ => {
            m.reln = b'=';
            if c.at() == b'x' && (c.peek(1) == 0 || (c.peek(1) < 0x80 && is_space(c.peek(1)))) {
                m.reln = b'x';
                c.bump();
            }
        }
    }
    if m.reln != b'x' {
        get_value(&mut m, &mut c)?;
    }

    // The description.
    c.eat_ws();
    if c.at() == 0x08 {
        c.bump();
        m.flag |= flag::NOSPACE;
    } else if c.at() == b'\\' && c.peek(1) == b'b' {
        c.i += 2;
        m.flag |= flag::NOSPACE;
    }
    let mut desc = c.rest().to_vec();
    desc.truncate(MAX_DESC - 1);
    m.desc = desc;
    Ok(m)
}

fn eat_size(c: &mut Cursor<'_>) {
    if c.at().eq_ignore_ascii_case(&b'u') {
        c.bump();
    }
    if matches!(c.at().to_ascii_lowercase(), b'l' | b's' | b'h' | b'b' | b'c') {
        c.bump();
    }
}

fn parse_indirect_modifier(m: &mut Entry, c: &mut Cursor<'_>) -> Result<(), ParseErrorKind> {
    loop {
        c.bump();
        let ch = c.at();
        if is_space(ch) {
            return Ok(());
        }
        if ch == b'r' {
            m.str_flags |= sflag::INDIRECT_RELATIVE;
        } else {
            return Err(ParseErrorKind::BadModifier {
                found: char::from(ch),
            });
        }
    }
}

fn parse_string_modifier(m: &mut Entry, c: &mut Cursor<'_>) -> Result<(), ParseErrorKind> {
    let bad = |ch: u8| ParseErrorKind::BadModifier {
        found: char::from(ch),
    };
    loop {
        c.bump();
        let ch = c.at();
        if is_space(ch) {
            break;
        }
        let set_len = |m: &mut Entry, bits: u32| {
            m.str_flags = (m.str_flags & !sflag::PSTRING_LEN) | bits;
        };
        match ch {
            b'0'..=b'9' => {
                let (v, n, _) = strtoull(c.rest()).ok_or(bad(ch))?;
                m.str_range = v as u32;
                c.i += n - 1;
            }
            b'W' => m.str_flags |= sflag::COMPACT_WHITESPACE,
            b'w' => m.str_flags |= sflag::COMPACT_OPTIONAL_WHITESPACE,
            b'c' => m.str_flags |= sflag::IGNORE_LOWERCASE,
            b'C' => m.str_flags |= sflag::IGNORE_UPPERCASE,
            b's' => m.str_flags |= sflag::REGEX_OFFSET_START,
            b'b' => m.str_flags |= sflag::BINTEST,
            b't' => m.str_flags |= sflag::TEXTTEST,
            b'T' => m.str_flags |= sflag::TRIM,
            b'f' => m.str_flags |= sflag::FULL_WORD,
            b'B' if m.typ == Type::PString => set_len(m, sflag::PSTRING_1),
            b'H' if m.typ == Type::PString => set_len(m, sflag::PSTRING_2_BE),
            b'h' if m.typ == Type::PString => set_len(m, sflag::PSTRING_2_LE),
            b'L' if m.typ == Type::PString => set_len(m, sflag::PSTRING_4_BE),
            b'l' if matches!(m.typ, Type::PString | Type::Regex) => {
                set_len(m, sflag::PSTRING_4_LE);
            }
            b'J' if m.typ == Type::PString => {
                m.str_flags |= sflag::PSTRING_LENGTH_INCLUDES_ITSELF;
            }
            _ => return Err(bad(ch)),
        }
        if c.peek(1) == b'/' && !is_space(c.peek(2)) {
            c.bump();
        }
    }
    // string_modifier_check
    match m.typ {
        Type::String16(_) if m.str_flags != 0 => return Err(bad(b'/')),
        Type::String | Type::PString if m.str_flags & sflag::REGEX_OFFSET_START != 0 => {
            return Err(bad(b's'));
        }
        Type::Search if m.str_range == 0 => return Err(ParseErrorKind::MissingSearchRange),
        Type::Regex
            if m.str_flags & (sflag::COMPACT_WHITESPACE | sflag::COMPACT_OPTIONAL_WHITESPACE) != 0 =>
        {
            return Err(bad(b'W'));
        }
        _ => {}
    }
    Ok(())
}

fn get_value(m: &mut Entry, c: &mut Cursor<'_>) -> Result<(), ParseErrorKind> {
    match m.typ {
        Type::String
        | Type::PString
        | Type::String16(_)
        | Type::Regex
        | Type::Search
        | Type::Name
        | Type::Use
        | Type::Der
        | Type::Octal => {
            let (bytes, used) = get_str(c.rest())?;
            c.i += used;
            m.vallen = bytes.len();
            if m.typ == Type::PString {
                m.vallen += m.pstring_length_size();
            }
            m.value = Value::Bytes(bytes);
            return Ok(());
        }
        _ => {}
    }
    match m.typ {
        Type::Float(_) => {
            let (v, n) = strtod(c.rest());
            m.value = Value::Float(v as f32);
            c.i += n;
        }
        Type::Double(_) => {
            let (v, n) = strtod(c.rest());
            m.value = Value::Double(v);
            c.i += n;
        }
        Type::Guid => {
            let g = parse_guid(c.rest()).ok_or(ParseErrorKind::BadGuid)?;
            m.value = Value::Guid(g);
            c.i += 36;
        }
        _ => {
            let (ull, n, _) = strtoull(c.rest()).ok_or(ParseErrorKind::BadNumber)?;
            m.value = Value::Num(sign_extend(m.typ, m.has(flag::UNSIGNED), ull));
            let width = m.typ.size().ok_or(ParseErrorKind::BadNumber)?;
            let neg = c.rest().iter().find(|b| !is_space(**b)) == Some(&b'-');
            let ull2 = if neg && ull != u64::MAX {
                // libmagic negates what strtoull already negated.
                ull.wrapping_neg()
            } else {
                ull
            };
            let keep: u64 = match width {
                1 => !0xff,
                2 => !0xffff,
                4 => !0xffff_ffff,
                _ => 0,
            };
            let x = ull2 & keep;
            if x != 0 && (x & keep) != keep {
                return Err(ParseErrorKind::NumberOverflow { value: ull, width });
            }
            c.i += n;
            eat_size(c);
        }
    }
    Ok(())
}

/// C's `strtod`, enough for magic files: decimal floats with exponent.
fn strtod(s: &[u8]) -> (f64, usize) {
    let mut i = 0;
    while i < s.len() && is_space(s[i]) {
        i += 1;
    }
    let start = i;
    if i < s.len() && (s[i] == b'-' || s[i] == b'+') {
        i += 1;
    }
    while i < s.len() && (s[i].is_ascii_digit() || s[i] == b'.') {
        i += 1;
    }
    if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
        let mut j = i + 1;
        if j < s.len() && (s[j] == b'-' || s[j] == b'+') {
            j += 1;
        }
        if j < s.len() && s[j].is_ascii_digit() {
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    let text = std::str::from_utf8(&s[start..i]).unwrap_or("");
    match text.parse::<f64>() {
        Ok(v) => (v, i),
        Err(_) => (0.0, 0),
    }
}

/// `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX` as the bytes of a Windows GUID
/// structure on a little-endian host.
fn parse_guid(s: &[u8]) -> Option<[u8; 16]> {
    let s = s.get(..36)?;
    let hex = |r: std::ops::Range<usize>| -> Option<u64> {
        let t = std::str::from_utf8(s.get(r)?).ok()?;
        if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(t, 16).ok()
    };
    if s[8] != b'-' || s[13] != b'-' || s[18] != b'-' || s[23] != b'-' {
        return None;
    }
    let d1 = hex(0..8)? as u32;
    let d2 = hex(9..13)? as u16;
    let d3 = hex(14..18)? as u16;
    let d4a = hex(19..23)? as u16;
    let d4b = hex(24..36)?;
    let mut g = [0u8; 16];
    g[0..4].copy_from_slice(&d1.to_le_bytes());
    g[4..6].copy_from_slice(&d2.to_le_bytes());
    g[6..8].copy_from_slice(&d3.to_le_bytes());
    g[8..10].copy_from_slice(&d4a.to_be_bytes());
    g[10..16].copy_from_slice(&d4b.to_be_bytes()[2..8]);
    Some(g)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// libmagic's `getstr`: unescape up to the first unescaped whitespace.
fn get_str(s: &[u8]) -> Result<(Vec<u8>, usize), ParseErrorKind> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if is_space(c) {
            break;
        }
        if out.len() >= MAX_STRING - 1 {
            return Err(ParseErrorKind::StringTooLong { max: MAX_STRING - 1 });
        }
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = s.get(i) else {
            // Incomplete escape: stop here.
            break;
        };
        i += 1;
        match e {
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut val = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            val = (val << 3) | u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(val as u8);
            }
            b'x' => {
                let mut val = u32::from(b'x');
                if let Some(d) = s.get(i).and_then(|&d| hex_digit(d)) {
                    i += 1;
                    val = u32::from(d);
                    if let Some(d2) = s.get(i).and_then(|&d| hex_digit(d)) {
                        i += 1;
                        val = (val << 4) + u32::from(d2);
                    }
                }
                out.push(val as u8);
            }
            other => out.push(other),
        }
    }
    Ok((out, i))
}

/// Applies a `!:` line to the group being built.
fn annotate(group: &mut Group, rest: &[u8]) -> Result<(), ParseErrorKind> {
    const BANGS: &[&str] = &["mime", "apple", "ext", "strength"];
    let name = BANGS
        .iter()
        .find(|b| rest.len() > b.len() && rest.starts_with(b.as_bytes()))
        .ok_or(ParseErrorKind::UnknownAnnotation)?;
    let value = &rest[name.len()..];
    if *name == "strength" {
        let top = group.first_mut().ok_or(ParseErrorKind::AnnotationWithoutEntry)?;
        return parse_strength(top, value);
    }
    let m = group.last_mut().ok_or(ParseErrorKind::AnnotationWithoutEntry)?;
    let no_desc = m.desc.is_empty();
    let notes = m.notes_mut();
    let (extra, max, slot): (&[u8], usize, &mut Vec<u8>) = match *name {
        "mime" => (b"+-/.$?:{}", MAX_MIME - 1, &mut notes.mime),
        "apple" => (b"!+-./?", MAX_APPLE, &mut notes.apple),
        _ => (b",!+-/@?_$&", MAX_EXT, &mut notes.ext),
    };
    if !slot.is_empty() {
        return Err(ParseErrorKind::DuplicateAnnotation);
    }
    let mut c = Cursor { s: value, i: 0 };
    c.eat_ws();
    let v: Vec<u8> = c
        .rest()
        .iter()
        .copied()
        .take_while(|&b| (b.is_ascii_alphanumeric()) || extra.contains(&b))
        .take(max)
        .collect();
    if v.is_empty() {
        return Err(ParseErrorKind::EmptyAnnotation);
    }
    *slot = v;
    if no_desc {
        return Err(ParseErrorKind::AnnotationWithoutDescription);
    }
    Ok(())
}

fn parse_strength(m: &mut Entry, value: &[u8]) -> Result<(), ParseErrorKind> {
    if m.factor.is_some() || m.typ == Type::Name {
        return Err(ParseErrorKind::BadStrength);
    }
    let mut c = Cursor { s: value, i: 0 };
    c.eat_ws();
    let opc = c.at();
    if matches!(opc, b'+' | b'-' | b'*' | b'/') {
        c.bump();
    } else {
        return Err(ParseErrorKind::BadStrength);
    }
    c.eat_ws();
    let (v, n, _) = strtoull(c.rest()).ok_or(ParseErrorKind::BadStrength)?;
    c.i += n;
    if v > 255 || (c.at() != 0 && !is_space(c.at())) {
        return Err(ParseErrorKind::BadStrength);
    }
    let f = v as u8;
    m.factor = Some(match opc {
        b'+' => Factor::Plus(f),
        b'-' => Factor::Minus(f),
        b'*' => Factor::Times(f),
        _ => {
            if f == 0 {
                return Err(ParseErrorKind::BadStrength);
            }
            Factor::Div(f)
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Entry {
        let mut g = Vec::new();
        parse_file("t", line.as_bytes(), &mut g).expect("parses");
        g.remove(0).remove(0)
    }

    #[test]
    fn numbers_like_strtoull() {
        assert_eq!(strtoull(b"0x1F rest"), Some((31, 4, false)));
        assert_eq!(strtoull(b"017"), Some((15, 3, false)));
        assert_eq!(strtoull(b"0"), Some((0, 1, false)));
        assert_eq!(strtoull(b"-1"), Some((u64::MAX, 2, false)));
        assert_eq!(strtoull(b"x"), None);
    }

    #[test]
    fn indirect_offset_and_mask() {
        let m = one("0\tbyte\t0\n>(0x3c.l+4)\tleshort&0xff00\t>0x100\tPE %d\n");
        assert_eq!(m.typ, Type::Byte);
        let mut g = Vec::new();
        parse_file("t", b"0 byte 0 x\n>(0x3c.l+4) leshort&0xff00 >0x100 PE\n", &mut g).expect("parses");
        let c = &g[0][1];
        assert!(c.has(flag::INDIR));
        assert_eq!(c.offset, 0x3c);
        assert_eq!(c.in_type, Type::Long(Endian::Little));
        assert_eq!(c.in_op & op::MASK, op::ADD);
        assert_eq!(c.in_offset, 4);
        assert_eq!(c.mask_op & op::MASK, op::AND);
        // libmagic sign-extends masks of signed types.
        assert_eq!(c.num_mask, 0xffff_ffff_ffff_ff00);
        assert_eq!(c.reln, b'>');
        assert_eq!(c.num(), 0x100);
    }

    #[test]
    fn strings_escapes_and_flags() {
        let m = one("0 search/1024/cW \\x50K\\003\\ a\\ b ZIP\n");
        assert_eq!(m.typ, Type::Search);
        assert_eq!(m.str_range, 1024);
        assert_eq!(m.str_flags, sflag::IGNORE_LOWERCASE | sflag::COMPACT_WHITESPACE);
        assert_eq!(m.bytes(), b"PK\x03 a b");
        assert_eq!(m.desc, b"ZIP");
    }

    #[test]
    fn annotations_and_errors() {
        let mut g = Vec::new();
        parse_file(
            "t",
            b"0 string %PDF- PDF document\n!:mime application/pdf\n!:ext pdf\n!:strength +10\n",
            &mut g,
        )
        .expect("parses");
        assert_eq!(g[0][0].mime(), b"application/pdf");
        assert_eq!(g[0][0].ext(), b"pdf");
        assert_eq!(g[0][0].factor, Some(Factor::Plus(10)));
        let e = parse_file("f", b"0 string a A\n>&0 bogus 1 x\n", &mut g).expect_err("bad type");
        assert_eq!((e.line, e.kind), (2, ParseErrorKind::UnknownType));
        let e = parse_file("f", b"&0 byte 1 x\n", &mut g).expect_err("relative");
        assert_eq!(e.kind, ParseErrorKind::RelativeOffsetAtTopLevel);
        let e = parse_file("f", b">0 byte 1 x\n", &mut g).expect_err("orphan");
        assert_eq!(e.kind, ParseErrorKind::ContinuationWithoutEntry);
    }
}
