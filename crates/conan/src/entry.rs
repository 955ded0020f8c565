//! One line of a magic(5) database, as libmagic holds it (`struct magic`).
//!
//! The model keeps libmagic's flag bits and value widths on purpose: the
//! matcher must reproduce `file`'s arithmetic bit for bit (sign extension,
//! 32-bit offset wrap-around, zero padding past the end), and a faithful
//! data model is the cheapest way to get there.

use std::sync::OnceLock;

/// Longest string value (libmagic's `MAXstring`).
pub(crate) const MAX_STRING: usize = 128;
/// Longest description kept (libmagic's `MAXDESC`, including the NUL).
pub(crate) const MAX_DESC: usize = 64;
/// Longest MIME type kept (libmagic's `MAXMIME`, including the NUL).
pub(crate) const MAX_MIME: usize = 80;
/// Longest extension list kept.
pub(crate) const MAX_EXT: usize = 64;
/// Longest Apple creator/type kept.
pub(crate) const MAX_APPLE: usize = 8;

/// Offset and entry flags (`m->flag`).
pub(crate) mod flag {
    pub(crate) const INDIR: u8 = 0x01;
    pub(crate) const OFFADD: u8 = 0x02;
    pub(crate) const INDIROFFADD: u8 = 0x04;
    pub(crate) const UNSIGNED: u8 = 0x08;
    pub(crate) const NOSPACE: u8 = 0x10;
    pub(crate) const BINTEST: u8 = 0x20;
    pub(crate) const TEXTTEST: u8 = 0x40;
    pub(crate) const OFFNEGATIVE: u8 = 0x80;
}

/// String modifiers (`m->str_flags`).
pub(crate) mod sflag {
    pub(crate) const COMPACT_WHITESPACE: u32 = 1 << 0;
    pub(crate) const COMPACT_OPTIONAL_WHITESPACE: u32 = 1 << 1;
    pub(crate) const IGNORE_LOWERCASE: u32 = 1 << 2;
    pub(crate) const IGNORE_UPPERCASE: u32 = 1 << 3;
    pub(crate) const REGEX_OFFSET_START: u32 = 1 << 4;
    pub(crate) const TEXTTEST: u32 = 1 << 5;
    pub(crate) const BINTEST: u32 = 1 << 6;
    pub(crate) const PSTRING_1: u32 = 1 << 7;
    pub(crate) const PSTRING_2_BE: u32 = 1 << 8;
    pub(crate) const PSTRING_2_LE: u32 = 1 << 9;
    pub(crate) const PSTRING_4_BE: u32 = 1 << 10;
    pub(crate) const PSTRING_4_LE: u32 = 1 << 11;
    pub(crate) const REGEX_LINE_COUNT: u32 = 1 << 11;
    pub(crate) const PSTRING_LEN: u32 = PSTRING_1 | PSTRING_2_BE | PSTRING_2_LE | PSTRING_4_BE | PSTRING_4_LE;
    pub(crate) const PSTRING_LENGTH_INCLUDES_ITSELF: u32 = 1 << 12;
    pub(crate) const TRIM: u32 = 1 << 13;
    pub(crate) const FULL_WORD: u32 = 1 << 14;
    pub(crate) const IGNORE_CASE: u32 = IGNORE_LOWERCASE | IGNORE_UPPERCASE;
    /// `indirect/r`: the indirect offset is relative to the current base.
    pub(crate) const INDIRECT_RELATIVE: u32 = 1;
}

/// Arithmetic operators of masks and indirect offsets (`FILE_OP*`).
pub(crate) mod op {
    pub(crate) const AND: u8 = 0;
    pub(crate) const OR: u8 = 1;
    pub(crate) const XOR: u8 = 2;
    pub(crate) const ADD: u8 = 3;
    pub(crate) const MINUS: u8 = 4;
    pub(crate) const MULTIPLY: u8 = 5;
    pub(crate) const DIVIDE: u8 = 6;
    pub(crate) const MODULO: u8 = 7;
    pub(crate) const MASK: u8 = 7;
    pub(crate) const SIGNED: u8 = 0x20;
    pub(crate) const INVERSE: u8 = 0x40;
    pub(crate) const INDIRECT: u8 = 0x80;

    /// The operator a character names, if any.
    pub(crate) fn from_char(c: u8) -> Option<u8> {
        Some(match c {
            b'&' => AND,
            b'|' => OR,
            b'^' => XOR,
            b'+' => ADD,
            b'-' => MINUS,
            b'*' => MULTIPLY,
            b'/' => DIVIDE,
            b'%' => MODULO,
            _ => return None,
        })
    }
}

/// Byte order of a numeric type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Endian {
    /// The host's order (libmagic reads these with a plain load).
    Native,
    Little,
    Big,
    /// PDP-11 "middle" order (`melong`).
    Middle,
}

/// How a date value is printed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum DateKind {
    /// Seconds since the epoch, printed in UTC.
    Utc,
    /// Seconds since the epoch, printed in local time.
    Local,
    /// 100 ns ticks since 1601, printed in UTC.
    Windows,
}

/// The type field of a magic line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Type {
    Byte,
    Short(Endian),
    Long(Endian),
    Quad(Endian),
    Float(Endian),
    Double(Endian),
    /// 32-bit date.
    Date(Endian, DateKind),
    /// 64-bit date.
    QDate(Endian, DateKind),
    /// 32-bit ID3 "synchsafe" integer (indirect offsets only).
    Id3(Endian),
    MsdosDate(Endian),
    MsdosTime(Endian),
    VarInt(Endian),
    String,
    PString,
    String16(Endian),
    Search,
    Regex,
    Default,
    Clear,
    Name,
    Use,
    Indirect,
    Der,
    Guid,
    Offset,
    Octal,
}

impl Type {
    /// Size in bytes of a numeric type, `None` for the others.
    pub(crate) fn size(self) -> Option<usize> {
        Some(match self {
            Type::Byte => 1,
            Type::Short(_) | Type::MsdosDate(_) | Type::MsdosTime(_) => 2,
            Type::Long(_) | Type::Float(_) | Type::Date(..) | Type::Id3(_) => 4,
            Type::Quad(_) | Type::Double(_) | Type::QDate(..) | Type::Offset => 8,
            Type::VarInt(_) => 8,
            Type::Guid => 16,
            _ => return None,
        })
    }

    /// libmagic's `IS_STRING`: types whose value is a string.
    pub(crate) fn is_string(self) -> bool {
        matches!(
            self,
            Type::String
                | Type::PString
                | Type::String16(_)
                | Type::Search
                | Type::Regex
                | Type::Indirect
                | Type::Name
                | Type::Use
                | Type::Octal
        )
    }

    /// The same type with big and little endian swapped (`use ^name`).
    pub(crate) fn flip(self) -> Type {
        fn f(e: Endian) -> Endian {
            match e {
                Endian::Little => Endian::Big,
                Endian::Big => Endian::Little,
                other => other,
            }
        }
        match self {
            Type::Short(e) => Type::Short(f(e)),
            Type::Long(e) => Type::Long(f(e)),
            Type::Quad(e) => Type::Quad(f(e)),
            Type::Float(e) => Type::Float(f(e)),
            Type::Double(e) => Type::Double(f(e)),
            Type::Date(e, k) => Type::Date(f(e), k),
            Type::QDate(e, k) => Type::QDate(f(e), k),
            other => other,
        }
    }
}

/// The value a line compares against.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// No value (`x` relation, or types that take none).
    None,
    /// An integer, sign-extended to 64 bits as libmagic does.
    Num(u64),
    Float(f32),
    Double(f64),
    /// The unescaped bytes of a string, regex, name or DER value.
    Bytes(Vec<u8>),
    Guid([u8; 16]),
}

/// A [`Value`] with its bytes borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ValueRef<'a> {
    None,
    Num(u64),
    Float(f32),
    Double(f64),
    Bytes(&'a [u8]),
    Guid([u8; 16]),
}

impl Value {
    pub(crate) fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::None => ValueRef::None,
            Value::Num(n) => ValueRef::Num(*n),
            Value::Float(f) => ValueRef::Float(*f),
            Value::Double(d) => ValueRef::Double(*d),
            Value::Bytes(b) => ValueRef::Bytes(b),
            Value::Guid(g) => ValueRef::Guid(*g),
        }
    }
}

impl ValueRef<'_> {
    pub(crate) fn to_owned(self) -> Value {
        match self {
            ValueRef::None => Value::None,
            ValueRef::Num(n) => Value::Num(n),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Double(d) => Value::Double(d),
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueRef::Guid(g) => Value::Guid(g),
        }
    }
}

/// How `!:strength` changes the computed strength.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Factor {
    Plus(u8),
    Minus(u8),
    Times(u8),
    Div(u8),
}

/// A cheap necessary condition for a top-level entry to match, computed
/// once per database: most entries fail on their first byte, and this
/// rejects them without running the full interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quick {
    /// No shortcut: always run the entry.
    None,
    /// A plain string of `len` bytes at `off` whose first byte is `first`.
    Str { off: u32, first: u8, len: u16 },
    /// A plain integer equality at `off`.
    Num {
        off: u32,
        width: u8,
        endian: Endian,
        value: u64,
    },
}

/// What the index of a database reads of a top-level entry: the fields
/// of an [`Entry`], borrowed from one or read in place from a record of a
/// compiled database (without decoding the rest of it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head<'a> {
    pub(crate) cont_level: u32,
    pub(crate) flag: u8,
    pub(crate) offset: i32,
    pub(crate) typ: Type,
    pub(crate) mask_op: u8,
    pub(crate) num_mask: u64,
    pub(crate) str_flags: u32,
    pub(crate) str_range: u32,
    pub(crate) reln: u8,
    pub(crate) value: ValueRef<'a>,
    pub(crate) vallen: usize,
}

/// One magic line with its annotations.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) cont_level: u32,
    /// `flag::*` bits.
    pub(crate) flag: u8,
    /// Offset as written (made negative by the parser for `-n`).
    pub(crate) offset: i32,
    pub(crate) in_type: Type,
    /// `op::*` bits of the indirect offset.
    pub(crate) in_op: u8,
    pub(crate) in_offset: i32,
    pub(crate) typ: Type,
    /// `op::*` bits of the mask.
    pub(crate) mask_op: u8,
    pub(crate) num_mask: u64,
    pub(crate) str_flags: u32,
    pub(crate) str_range: u32,
    /// One of `= ! < > & ^ x`.
    pub(crate) reln: u8,
    pub(crate) value: Value,
    /// Length of the value as libmagic counts it (strength and matching).
    pub(crate) vallen: usize,
    pub(crate) desc: Vec<u8>,
    /// `!:mime`, `!:ext` and `!:apple` (rare: boxed to keep entries small).
    pub(crate) notes: Option<Box<Notes>>,
    pub(crate) factor: Option<Factor>,
    /// For `regex` entries: the strings it needs and the compiled
    /// expression, built on first use (boxed: most entries have none).
    pub(crate) rx: OnceLock<Box<RegexCache>>,
}

/// Sets of strings such that every match of a regex contains one string
/// of each set.
pub(crate) type NeedSets = Box<[Box<[Box<[u8]>]>]>;

/// What a `regex` entry builds on first use.
#[derive(Debug)]
pub(crate) struct RegexCache {
    /// Sets of strings every match contains one of each (`posix::needs`).
    pub(crate) needs: NeedSets,
    /// The compiled expression (`None` inside: not a valid POSIX ERE).
    pub(crate) regex: OnceLock<Option<regex::bytes::Regex>>,
}

/// The annotations of an entry.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    pub(crate) mime: Vec<u8>,
    pub(crate) ext: Vec<u8>,
    pub(crate) apple: Vec<u8>,
}

impl Entry {
    pub(crate) fn new(cont_level: u32) -> Entry {
        Entry {
            cont_level,
            flag: 0,
            offset: 0,
            in_type: Type::Long(Endian::Native),
            in_op: 0,
            in_offset: 0,
            typ: Type::Default,
            mask_op: 0,
            num_mask: 0,
            str_flags: 0,
            str_range: 0,
            reln: b'=',
            value: Value::None,
            vallen: 0,
            desc: Vec::new(),
            notes: None,
            factor: None,
            rx: OnceLock::new(),
        }
    }

    pub(crate) fn has(&self, f: u8) -> bool {
        self.flag & f != 0
    }

    /// The string value (empty for non-string values).
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.value {
            Value::Bytes(b) => b,
            _ => &[],
        }
    }

    /// The integer value (0 for non-integer values).
    pub(crate) fn num(&self) -> u64 {
        match self.value {
            Value::Num(n) => n,
            _ => 0,
        }
    }

    /// The MIME type annotation (empty if none).
    pub(crate) fn mime(&self) -> &[u8] {
        self.notes.as_ref().map_or(&[], |n| &n.mime)
    }

    /// The extensions annotation (empty if none).
    pub(crate) fn ext(&self) -> &[u8] {
        self.notes.as_ref().map_or(&[], |n| &n.ext)
    }

    /// The Apple creator/type annotation (empty if none).
    pub(crate) fn apple(&self) -> &[u8] {
        self.notes.as_ref().map_or(&[], |n| &n.apple)
    }

    /// The annotations, created empty on first use.
    pub(crate) fn notes_mut(&mut self) -> &mut Notes {
        self.notes.get_or_insert_with(Box::default)
    }

    /// The fields the index reads.
    pub(crate) fn head(&self) -> Head<'_> {
        Head {
            cont_level: self.cont_level,
            flag: self.flag,
            offset: self.offset,
            typ: self.typ,
            mask_op: self.mask_op,
            num_mask: self.num_mask,
            str_flags: self.str_flags,
            str_range: self.str_range,
            reln: self.reln,
            value: self.value.as_ref(),
            vallen: self.vallen,
        }
    }

    /// Length prefix size of a pascal string.
    pub(crate) fn pstring_length_size(&self) -> usize {
        pstring_length_size(self.str_flags)
    }
}

/// Length prefix size of a pascal string with modifiers `str_flags`.
pub(crate) fn pstring_length_size(str_flags: u32) -> usize {
    match str_flags & sflag::PSTRING_LEN {
        sflag::PSTRING_2_BE | sflag::PSTRING_2_LE => 2,
        sflag::PSTRING_4_BE | sflag::PSTRING_4_LE => 4,
        _ => 1,
    }
}

impl Head<'_> {
    /// The string value (empty for non-string values).
    fn bytes(&self) -> &[u8] {
        match self.value {
            ValueRef::Bytes(b) => b,
            _ => &[],
        }
    }

    /// The integer value (0 for non-integer values).
    fn num(&self) -> u64 {
        match self.value {
            ValueRef::Num(n) => n,
            _ => 0,
        }
    }

    /// The shortcut of a top-level entry.
    pub(crate) fn quick(&self) -> Quick {
        if self.cont_level != 0
            || self.flag & (flag::INDIR | flag::OFFNEGATIVE | flag::OFFADD | flag::INDIROFFADD) != 0
            || self.reln != b'='
            || self.offset < 0
        {
            return Quick::None;
        }
        // Not negative (checked above).
        let off = self.offset as u32;
        match self.typ {
            Type::String => {
                let plain = self.str_flags & !(sflag::TEXTTEST | sflag::BINTEST) == 0;
                let range_ok = self.str_range == 0 || self.str_range as usize >= self.vallen;
                if let (true, true, Some(&first), Ok(len)) =
                    (plain, range_ok, self.bytes().first(), u16::try_from(self.vallen))
                {
                    if self.vallen >= 1 && self.vallen <= self.bytes().len() {
                        return Quick::Str { off, first, len };
                    }
                }
            }
            Type::Byte | Type::Short(_) | Type::Long(_) => {
                let endian = match self.typ {
                    Type::Short(e) | Type::Long(e) => e,
                    _ => Endian::Little,
                };
                if self.num_mask == 0
                    && self.mask_op & op::INVERSE == 0
                    && endian != Endian::Middle
                    && matches!(self.value, ValueRef::Num(_))
                {
                    return Quick::Num {
                        off,
                        width: self.typ.size().unwrap_or(1) as u8,
                        endian,
                        value: self.num(),
                    };
                }
            }
            _ => {}
        }
        Quick::None
    }

    /// The shortest buffer a top-level entry can match: its offset plus
    /// the size `mget` checks ([`checked_size`]), when the offset is direct
    /// and a failed read means no match (not with `!`); 0 when unknown.
    pub(crate) fn min_len(&self) -> u32 {
        if self.cont_level != 0
            || self.flag & (flag::INDIR | flag::OFFNEGATIVE | flag::OFFADD | flag::INDIROFFADD) != 0
            || self.reln == b'!'
        {
            return 0;
        }
        match checked_size(self.typ, self.vallen) {
            // Saturated: buffers are at most `text::BYTES_MAX` long.
            Some(need) => (self.offset as u32).saturating_add(u32::try_from(need).unwrap_or(u32::MAX)),
            None => 0,
        }
    }
}

/// The bytes past its offset `mget` requires in the buffer for a value of
/// type `typ` (libmagic checks these types only).
pub(crate) fn checked_size(typ: Type, vallen: usize) -> Option<usize> {
    match typ {
        Type::Byte => Some(1),
        Type::Short(_) => Some(2),
        Type::Long(_) | Type::Date(..) | Type::Float(_) => Some(4),
        Type::Double(_) => Some(8),
        Type::Guid => Some(16),
        Type::String | Type::PString | Type::Search | Type::Octal => Some(vallen),
        _ => None,
    }
}

/// libmagic's `file_signextend`: sign-extend `v` to 64 bits unless the
/// entry is unsigned.
pub(crate) fn sign_extend(typ: Type, unsigned: bool, v: u64) -> u64 {
    if unsigned {
        return v;
    }
    match typ {
        Type::Byte => v as u8 as i8 as i64 as u64,
        Type::Short(_) => v as u16 as i16 as i64 as u64,
        Type::Long(_) | Type::Date(..) | Type::Float(_) | Type::MsdosDate(_) | Type::MsdosTime(_) => {
            v as u32 as i32 as i64 as u64
        }
        _ => v,
    }
}
