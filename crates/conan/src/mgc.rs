//! libmagic's compiled database (`magic.mgc`, format version 18 of file
//! 5.44): a header slot, then the main set and the named set of
//! fixed-size `struct magic` records, already flagged and sorted. This
//! module reads records and packs them; `compiled.rs` loads databases.

use crate::entry::{Endian, Entry, Factor, Head, Type, ValueRef, flag, pstring_length_size};

/// `MAGICNO`.
pub(crate) const MAGICNO: u32 = 0xF11E_041C;
/// `VERSIONNO` of file 5.44.
pub(crate) const VERSION: u32 = 18;
/// `sizeof(struct magic)`.
pub(crate) const RECORD: usize = 376;

/// Why a compiled database was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MgcError {
    /// The file does not start with libmagic's magic number.
    #[error("not a compiled magic file (bad magic number {found:#010x})")]
    BadMagic {
        /// The first four bytes, little-endian.
        found: u32,
    },
    /// The format version is not the one this reader knows.
    #[error("compiled magic version {found} is not supported (only {supported})")]
    UnsupportedVersion {
        /// The version in the file.
        found: u32,
        /// The version conan reads.
        supported: u32,
    },
    /// The size is not a whole number of records.
    #[error("compiled magic size {len} is not a multiple of {record}")]
    BadSize {
        /// The file size.
        len: usize,
        /// The record size.
        record: usize,
    },
    /// The header's entry counts do not match the size.
    #[error("compiled magic announces {announced} entries but holds {present}")]
    InconsistentEntries {
        /// Entries the header announces.
        announced: u64,
        /// Entries present.
        present: u64,
    },
    /// A record has an unknown type number.
    #[error("compiled magic record {index} has unknown type {typ}")]
    BadType {
        /// The record index.
        index: usize,
        /// The type number.
        typ: u8,
    },
    /// The database has more records than conan indexes (4 GiB of them).
    #[error("compiled magic record {index} is past what conan can index")]
    TooLarge {
        /// The record index.
        index: usize,
    },
    /// A continuation record comes before any top-level record.
    #[error("compiled magic record {index} is a continuation without an entry")]
    Orphan {
        /// The record index.
        index: usize,
    },
}

/// Whether `data` looks like a compiled database.
pub(crate) fn is_compiled(data: &[u8]) -> bool {
    data.len() >= 4 && {
        let w = [data[0], data[1], data[2], data[3]];
        u32::from_le_bytes(w) == MAGICNO || u32::from_be_bytes(w) == MAGICNO
    }
}

/// The `FILE_*` number of a type.
fn type_of(n: u8) -> Option<Type> {
    match n {
        39 => Some(Type::Id3(Endian::Big)),
        40 => Some(Type::Id3(Endian::Little)),
        1..=59 => crate::parse::TYPES.get(usize::from(n) - 1).map(|t| t.1),
        _ => None,
    }
}

/// libmagic's `IS_STRING` over the record's type.
fn c_is_string(t: Type) -> bool {
    t.is_string()
}

struct Reader<'a> {
    rec: &'a [u8],
    big: bool,
}

impl Reader<'_> {
    fn u8(&self, at: usize) -> u8 {
        self.rec[at]
    }
    fn u16(&self, at: usize) -> u16 {
        let b = [self.rec[at], self.rec[at + 1]];
        if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        }
    }
    fn u32(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.rec[at..at + 4]);
        if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }
    fn u64(&self, at: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.rec[at..at + 8]);
        if self.big {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        }
    }
    fn cstr(&self, at: usize, len: usize) -> Vec<u8> {
        let f = &self.rec[at..at + len];
        if f[0] == 0 {
            return Vec::new();
        }
        let n = memchr::memchr(0, f).unwrap_or(len);
        f[..n].to_vec()
    }
}

/// The type and the indirect-offset type of a record.
pub(crate) fn types(index: usize, rec: &[u8]) -> Result<(Type, Type), MgcError> {
    let typ = type_of(rec[6]).ok_or(MgcError::BadType { index, typ: rec[6] })?;
    let in_type = match rec[7] {
        0 => Type::Long(Endian::Native),
        n => type_of(n).ok_or(MgcError::BadType { index, typ: n })?,
    };
    Ok((typ, in_type))
}

pub(crate) fn record(index: usize, rec: &[u8], big: bool) -> Result<Entry, MgcError> {
    let h = head(index, rec, big)?;
    let r = Reader { rec, big };
    let mut m = Entry::new(h.cont_level);
    m.flag = h.flag;
    m.offset = h.offset;
    m.typ = h.typ;
    m.mask_op = h.mask_op;
    m.num_mask = h.num_mask;
    m.str_flags = h.str_flags;
    m.str_range = h.str_range;
    m.reln = h.reln;
    m.value = h.value.to_owned();
    m.vallen = h.vallen;
    m.in_type = match rec[7] {
        0 => Type::Long(Endian::Native),
        n => type_of(n).ok_or(MgcError::BadType { index, typ: n })?,
    };
    m.in_op = r.u8(8);
    m.in_offset = r.u32(16) as i32;
    let factor = r.u8(3);
    m.factor = match r.u8(11) {
        b'+' => Some(Factor::Plus(factor)),
        b'-' => Some(Factor::Minus(factor)),
        b'*' => Some(Factor::Times(factor)),
        b'/' if factor != 0 => Some(Factor::Div(factor)),
        _ => None,
    };
    m.desc = r.cstr(160, 64);
    let (mime, apple, ext) = (r.cstr(224, 80), r.cstr(304, 8), r.cstr(312, 64));
    if !(mime.is_empty() && apple.is_empty() && ext.is_empty()) {
        let n = m.notes_mut();
        (n.mime, n.apple, n.ext) = (mime, apple, ext);
    }
    Ok(m)
}

/// The fields of a record the index reads, in place.
pub(crate) fn head(index: usize, rec: &[u8], big: bool) -> Result<Head<'_>, MgcError> {
    let r = Reader { rec, big };
    let (typ, _) = types(index, rec)?;
    let reln = r.u8(4);
    let vallen = usize::from(r.u8(5));
    let (str_range, str_flags, num_mask) = if c_is_string(typ) {
        (r.u32(24), r.u32(28), 0)
    } else {
        (0, 0, r.u64(24))
    };
    let value = match typ {
        t if c_is_string(t) || t == Type::Der => {
            let mut len = vallen.min(128);
            if t == Type::PString {
                len = len.saturating_sub(pstring_length_size(str_flags));
            }
            ValueRef::Bytes(&rec[32..32 + len])
        }
        _ if reln == b'x' => ValueRef::None,
        Type::Float(_) => ValueRef::Float(f32::from_bits(r.u32(32))),
        Type::Double(_) => ValueRef::Double(f64::from_bits(r.u64(32))),
        Type::Guid => {
            let mut g = [0u8; 16];
            g.copy_from_slice(&rec[32..48]);
            ValueRef::Guid(g)
        }
        _ => ValueRef::Num(r.u64(32)),
    };
    Ok(Head {
        cont_level: u32::from(r.u16(0)),
        // Only the flags the matcher reads.
        flag: r.u8(2)
            & (flag::INDIR
                | flag::OFFADD
                | flag::INDIROFFADD
                | flag::UNSIGNED
                | flag::NOSPACE
                | flag::BINTEST
                | flag::TEXTTEST
                | flag::OFFNEGATIVE),
        offset: r.u32(12) as i32,
        typ,
        mask_op: r.u8(9),
        num_mask,
        str_flags,
        str_range,
        reln,
        value,
        vallen,
    })
}

/// Checks the header slot against the total size; returns the byte order
/// and the size of the main set.
pub(crate) fn header(head: &[u8], total: usize) -> Result<(bool, u64), MgcError> {
    if !is_compiled(head) {
        let found = head
            .get(..4)
            .map_or(0, |w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        return Err(MgcError::BadMagic { found });
    }
    if head.len() < 16 {
        return Err(MgcError::BadSize {
            len: total,
            record: RECORD,
        });
    }
    let big = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) != MAGICNO;
    let word = |i: usize| {
        let b = [head[4 * i], head[4 * i + 1], head[4 * i + 2], head[4 * i + 3]];
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let version = word(1);
    if version != VERSION {
        return Err(MgcError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    if !total.is_multiple_of(RECORD) {
        return Err(MgcError::BadSize {
            len: total,
            record: RECORD,
        });
    }
    let present = (total / RECORD) as u64;
    let n0 = u64::from(word(2));
    let n1 = u64::from(word(3));
    if n0 + n1 + 1 != present {
        return Err(MgcError::InconsistentEntries {
            announced: n0 + n1 + 1,
            present,
        });
    }
    Ok((big, n0))
}

/// The header of a record (`struct magic`): the fields up to the value.
const HEADER: usize = 32;

/// `lineno` in the header: the matcher never reads it, so it is not kept.
const LINENO: u32 = 0xf << 20;

/// The fields after the header: value, description, MIME type, Apple
/// type, extensions (where they start, their size).
const FIELDS: [(usize, usize); 5] = [(32, 128), (160, 64), (224, 80), (304, 8), (312, 64)];

/// The longest packed record.
const PACKED_MAX: usize = 4 + HEADER + 1 + FIELDS.len() + RECORD - HEADER;

/// The records of one set of a compiled database, kept in memory without
/// their padding (about 30 of the 376 bytes of a record), decoded into
/// entries by [`Packed::decode`] when the matcher first needs them.
///
/// A packed record is a bitmap (`u32`, little-endian) of the non-zero
/// bytes of the header and those bytes; a bitmap (`u8`) of the non-empty
/// fields after it; for each of those its length and the bytes [`record`]
/// reads of it: a string value to its length, a numeric value to its last
/// non-zero byte, the text fields to their NUL.
#[derive(Default)]
pub(crate) struct Packed {
    /// The records, then zeros to pack the next ones into (see
    /// [`Packed::push`]).
    bytes: Vec<u8>,
    /// The length of `bytes` in use.
    used: usize,
    big: bool,
}

fn word(rec: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&rec[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The bytes of `w` (in memory order) up to its last non-zero one.
fn used(w: u64) -> usize {
    8 - (w.leading_zeros() / 8) as usize
}

/// The length of a C string field (what `Reader::cstr` reads), a word at
/// a time (fields are whole words).
fn c_len(field: &[u8]) -> usize {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    for at in (0..field.len()).step_by(8) {
        let w = word(field, at);
        // The lowest bit set marks the first zero byte.
        let zero = w.wrapping_sub(LOW) & !w & HIGH;
        if zero != 0 {
            return at + (zero.trailing_zeros() / 8) as usize;
        }
    }
    field.len()
}

/// Packs the record `rec` of type `typ` into `out`; returns the length.
/// This runs for each of the ~22,000 records at start-up: no allocation,
/// few branches.
fn pack(rec: &[u8], typ: Type, out: &mut [u8]) -> usize {
    let mut mask = 0u32;
    for i in 0..HEADER / 8 {
        mask |= u32::from(nonzero_bytes(word(rec, 8 * i))) << (8 * i);
    }
    mask &= !LINENO;
    out[..4].copy_from_slice(&mask.to_le_bytes());
    let mut k = 4;
    let mut m = mask;
    while m != 0 {
        out[k] = rec[m.trailing_zeros() as usize];
        k += 1;
        m &= m - 1;
    }
    let value = if c_is_string(typ) || typ == Type::Der {
        usize::from(rec[5]).min(128)
    } else {
        match word(rec, 40) {
            0 => used(word(rec, 32)),
            w => 8 + used(w),
        }
    };
    let present = k;
    k += 1;
    let mut fields = 0u8;
    let mut field = |f: usize, n: usize| {
        if n > 0 {
            let at = FIELDS[f].0;
            fields |= 1 << f;
            // Fields are at most 128 bytes. Copied by words (fields are
            // whole words); the excess is overwritten or cut.
            out[k] = n as u8;
            for i in (0..n).step_by(8) {
                out[k + 1 + i..k + 9 + i].copy_from_slice(&rec[at + i..at + i + 8]);
            }
            k += 1 + n;
        }
    };
    field(0, value);
    field(1, c_len(&rec[160..224]));
    // MIME type, Apple type and extensions are rare.
    if rec[224] | rec[304] | rec[312] != 0 {
        field(2, c_len(&rec[224..304]));
        field(3, c_len(&rec[304..312]));
        field(4, c_len(&rec[312..376]));
    }
    out[present] = fields;
    k
}

/// A bit per byte of `w` (in memory order): whether it is non-zero.
fn nonzero_bytes(w: u64) -> u8 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte: set when the byte is non-zero.
    let high = (((w & LOW7) + LOW7) | w) & HIGH;
    // Gather the eight high bits into the top byte.
    ((high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

impl Packed {
    /// Records of byte order `big` (room for `records` typical ones).
    pub(crate) fn new(big: bool, records: usize) -> Packed {
        Packed {
            // Only the part written is touched: no copy as it grows.
            bytes: Vec::with_capacity(records * 64),
            used: 0,
            big,
        }
    }

    /// Bytes held.
    pub(crate) fn len(&self) -> usize {
        self.used
    }

    /// Packs a record of type `typ` at the end; returns where it starts.
    pub(crate) fn push(&mut self, rec: &[u8], typ: Type) -> usize {
        let at = self.used;
        if self.bytes.len() - at < PACKED_MAX + 8 {
            // Zeros by the page rather than a copy by the record (and not
            // much more: fresh pages are what loading costs most).
            self.bytes.resize(self.bytes.len() + 4096, 0);
        }
        self.used += pack(rec, typ, &mut self.bytes[at..]);
        at
    }

    /// Gives back the room left for more records.
    pub(crate) fn finish(&mut self) {
        self.bytes.truncate(self.used);
        self.bytes.shrink_to_fit();
    }

    /// The offset of the record after the one at `at`.
    pub(crate) fn skip(&self, at: usize) -> usize {
        let b = &self.bytes;
        let mask = u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let mut at = at + 4 + mask.count_ones() as usize;
        let fields = b[at];
        at += 1;
        for _ in 0..fields.count_ones() {
            at += 1 + usize::from(b[at]);
        }
        at
    }

    /// Decodes the record at `at`; returns it and the offset of the next.
    pub(crate) fn decode(&self, at: usize) -> (Entry, usize) {
        let (rec, next) = self.unpack(at);
        let e = record(0, &rec, self.big).expect("packed records had their types checked when loaded");
        (e, next)
    }

    /// The string value of the record at `at` (a `name`'s name), without
    /// decoding the rest.
    pub(crate) fn value(&self, at: usize) -> Vec<u8> {
        let (rec, _) = self.unpack(at);
        match head(0, &rec, self.big).map(|h| h.value) {
            Ok(ValueRef::Bytes(b)) => b.to_vec(),
            _ => Vec::new(),
        }
    }

    /// The record at `at` and the offset of the next.
    fn unpack(&self, at: usize) -> ([u8; RECORD], usize) {
        let b = &self.bytes;
        let mut rec = [0u8; RECORD];
        let mut m = u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let mut at = at + 4;
        while m != 0 {
            rec[m.trailing_zeros() as usize] = b[at];
            at += 1;
            m &= m - 1;
        }
        let fields = b[at];
        at += 1;
        for (f, (start, _)) in FIELDS.into_iter().enumerate() {
            if fields & (1 << f) != 0 {
                let n = usize::from(b[at]);
                rec[start..start + n].copy_from_slice(&b[at + 1..at + 1 + n]);
                at += 1 + n;
            }
        }
        (rec, at)
    }
}
