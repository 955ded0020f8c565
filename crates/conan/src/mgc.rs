//! libmagic's compiled database (`magic.mgc`, format version 18 of file
//! 5.44): a header slot, then the main set and the named set of
//! fixed-size `struct magic` records, already flagged and sorted.

use crate::database::Top;
use crate::entry::{Endian, Entry, Factor, Type, Value, flag};
use crate::set::Set;

/// `MAGICNO`.
const MAGICNO: u32 = 0xF11E_041C;
/// `VERSIONNO` of file 5.44.
pub(crate) const VERSION: u32 = 18;
/// `sizeof(struct magic)`.
const RECORD: usize = 376;

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
fn types(index: usize, rec: &[u8]) -> Result<(Type, Type), MgcError> {
    let typ = type_of(rec[6]).ok_or(MgcError::BadType { index, typ: rec[6] })?;
    let in_type = match rec[7] {
        0 => Type::Long(Endian::Native),
        n => type_of(n).ok_or(MgcError::BadType { index, typ: n })?,
    };
    Ok((typ, in_type))
}

fn record(index: usize, rec: &[u8], big: bool) -> Result<Entry, MgcError> {
    let r = Reader { rec, big };
    let (typ, in_type) = types(index, rec)?;
    let mut m = Entry::new(u32::from(r.u16(0)));
    m.flag = r.u8(2);
    m.reln = r.u8(4);
    m.vallen = usize::from(r.u8(5));
    m.typ = typ;
    m.in_type = in_type;
    m.in_op = r.u8(8);
    m.mask_op = r.u8(9);
    let factor = r.u8(3);
    m.factor = match r.u8(11) {
        b'+' => Some(Factor::Plus(factor)),
        b'-' => Some(Factor::Minus(factor)),
        b'*' => Some(Factor::Times(factor)),
        b'/' if factor != 0 => Some(Factor::Div(factor)),
        _ => None,
    };
    m.offset = r.u32(12) as i32;
    m.in_offset = r.u32(16) as i32;
    if c_is_string(typ) {
        m.str_range = r.u32(24);
        m.str_flags = r.u32(28);
    } else {
        m.num_mask = r.u64(24);
    }
    m.value = match typ {
        Type::Float(_) => Value::Float(f32::from_bits(r.u32(32))),
        Type::Double(_) => Value::Double(f64::from_bits(r.u64(32))),
        Type::Guid => {
            let mut g = [0u8; 16];
            g.copy_from_slice(&rec[32..48]);
            Value::Guid(g)
        }
        t if c_is_string(t) || t == Type::Der => {
            let mut len = m.vallen.min(128);
            if t == Type::PString {
                len = len.saturating_sub(m.pstring_length_size());
            }
            Value::Bytes(rec[32..32 + len].to_vec())
        }
        _ => Value::Num(r.u64(32)),
    };
    if m.reln == b'x' && !c_is_string(typ) && typ != Type::Der {
        m.value = Value::None;
    }
    m.desc = r.cstr(160, 64);
    let (mime, apple, ext) = (r.cstr(224, 80), r.cstr(304, 8), r.cstr(312, 64));
    if !(mime.is_empty() && apple.is_empty() && ext.is_empty()) {
        let n = m.notes_mut();
        (n.mime, n.apple, n.ext) = (mime, apple, ext);
    }
    // Keep only the flags the matcher reads.
    m.flag &= flag::INDIR
        | flag::OFFADD
        | flag::INDIROFFADD
        | flag::UNSIGNED
        | flag::NOSPACE
        | flag::BINTEST
        | flag::TEXTTEST
        | flag::OFFNEGATIVE;
    Ok(m)
}

/// Checks the header slot against the total size; returns the byte order
/// and the size of the main set.
fn header(head: &[u8], total: usize) -> Result<(bool, u64), MgcError> {
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

/// Where the segments of a record (`struct magic`) start: the four header
/// words, then the value, description, MIME type, Apple type and
/// extensions. Most of their bytes are zero padding.
const SEGMENTS: [usize; 9] = [0, 8, 16, 24, 32, 160, 224, 304, 312];

/// The longest packed record: the segments and their length bytes.
const PACKED_MAX: usize = RECORD + SEGMENTS.len();

/// The records of one set of a compiled database, kept in memory without
/// their padding: each segment as a length byte and the bytes [`record`]
/// reads of it (the header words and numeric values up to their last
/// non-zero byte, string values to their length, the text fields to their
/// NUL), about 38 of the 376 bytes of a record. They are decoded into
/// entries by [`Packed::decode`] when the matcher first needs them.
#[derive(Default)]
pub(crate) struct Packed {
    bytes: Vec<u8>,
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

impl Packed {
    /// Bytes held.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Appends the record `rec` of type `typ`. This runs for each of the
    /// ~22,000 records at start-up, so it copies whole words and decides
    /// lengths without loops where it can.
    fn push(&mut self, rec: &[u8], typ: Type) {
        let out = &mut self.bytes;
        out.reserve(PACKED_MAX + 8);
        // A segment: its length, then its first `n` bytes (copied by
        // words, the excess cut).
        let mut segment = |at: usize, n: usize| {
            out.push(n as u8);
            let end = out.len() + n;
            for i in (0..n).step_by(8) {
                out.extend_from_slice(&word(rec, at + i).to_le_bytes());
            }
            out.truncate(end);
        };
        // The header words; in the third, in_offset but not lineno (the
        // matcher never reads it).
        for (at, keep) in [(0, !0), (8, !0), (16, 0xffff_ffff), (24, !0)] {
            segment(at, used(word(rec, at) & keep));
        }
        // The value: a string's bytes, or a number, float or GUID.
        let n = if c_is_string(typ) || typ == Type::Der {
            usize::from(rec[5]).min(128)
        } else {
            match word(rec, 40) {
                0 => used(word(rec, 32)),
                w => 8 + used(w),
            }
        };
        segment(32, n);
        // Description, MIME type, Apple type, extensions.
        for (at, len) in [(160, 64), (224, 80), (304, 8), (312, 64)] {
            segment(at, c_len(&rec[at..at + len]));
        }
    }

    /// The offset of the record after the one at `at`.
    pub(crate) fn skip(&self, mut at: usize) -> usize {
        for _ in SEGMENTS {
            at += 1 + usize::from(self.bytes[at]);
        }
        at
    }

    /// Decodes the record at `at`; returns it and the offset of the next.
    pub(crate) fn decode(&self, mut at: usize) -> (Entry, usize) {
        let mut rec = [0u8; RECORD];
        for a in SEGMENTS {
            let n = usize::from(self.bytes[at]);
            rec[a..a + n].copy_from_slice(&self.bytes[at + 1..at + 1 + n]);
            at += 1 + n;
        }
        let e = record(0, &rec, self.big).expect("packed records had their types checked when loaded");
        (e, at)
    }
}

/// A set being read: the packed records and where its groups start.
#[derive(Default)]
struct SetBuilder {
    starts: Vec<usize>,
    packed: Packed,
}

/// The sets of a compiled database and the index of its main set.
pub(crate) struct Loaded {
    pub(crate) main: Set,
    pub(crate) named: Set,
    pub(crate) tops: Vec<Top>,
}

/// Reads the records of a compiled database one at a time.
struct Loader {
    big: bool,
    n0: u64,
    main: SetBuilder,
    named: SetBuilder,
    tops: Vec<Top>,
}

impl Loader {
    fn new(big: bool, n0: u64, records: usize) -> Loader {
        let mut l = Loader {
            big,
            n0,
            main: SetBuilder::default(),
            named: SetBuilder::default(),
            tops: Vec::new(),
        };
        l.main.packed.big = big;
        l.named.packed.big = big;
        // Room for typical records; only the part written is touched.
        let main = usize::try_from(n0).unwrap_or(0).min(records);
        l.main.packed.bytes.reserve(main * 64);
        l.named.packed.bytes.reserve(records.saturating_sub(main) * 64);
        l
    }

    fn push(&mut self, index: usize, rec: &[u8]) -> Result<(), MgcError> {
        let (typ, _) = types(index, rec)?;
        let main = (index as u64) <= self.n0;
        let set = if main { &mut self.main } else { &mut self.named };
        let cont_level = if self.big {
            u16::from_be_bytes([rec[0], rec[1]])
        } else {
            u16::from_le_bytes([rec[0], rec[1]])
        };
        if cont_level == 0 {
            set.starts.push(set.packed.len());
            if main {
                // The index of the main set needs every top-level entry.
                self.tops.push(Top::of(&record(index, rec, self.big)?));
            }
        } else if set.starts.is_empty() {
            return Err(MgcError::Orphan { index });
        }
        set.packed.push(rec, typ);
        Ok(())
    }

    fn finish(self) -> Loaded {
        Loaded {
            main: Set::from_packed(self.main.starts, self.main.packed),
            named: Set::from_packed(self.named.starts, self.named.packed),
            tops: self.tops,
        }
    }
}

/// Reads a compiled database held in memory.
pub(crate) fn read(data: &[u8]) -> Result<Loaded, MgcError> {
    let (big, n0) = header(data.get(..RECORD).unwrap_or(data), data.len())?;
    let mut l = Loader::new(big, n0, data.len() / RECORD);
    for (index, rec) in data.chunks_exact(RECORD).enumerate().skip(1) {
        l.push(index, rec)?;
    }
    Ok(l.finish())
}

/// Reads a compiled database of `total` bytes from a stream, a few
/// hundred records at a time into one small buffer (the 8 MB file is never
/// held in memory: fresh pages cost more than the records they hold).
pub(crate) fn read_stream(
    r: &mut impl std::io::Read,
    total: usize,
) -> Result<Result<Loaded, MgcError>, std::io::Error> {
    let mut rec = [0u8; RECORD];
    let got = read_full(r, &mut rec)?;
    let (big, n0) = match header(&rec[..got], total) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let records = total / RECORD;
    let mut l = Loader::new(big, n0, records);
    const CHUNK: usize = 64;
    let mut chunk = vec![0u8; CHUNK * RECORD];
    let mut index = 1;
    while index < records {
        let n = (records - index).min(CHUNK);
        let bytes = &mut chunk[..n * RECORD];
        r.read_exact(bytes)?;
        for rec in bytes.chunks_exact(RECORD) {
            if let Err(e) = l.push(index, rec) {
                return Ok(Err(e));
            }
            index += 1;
        }
    }
    Ok(Ok(l.finish()))
}

fn read_full(r: &mut impl std::io::Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_files() {
        assert!(matches!(
            read(b"hello world, not magic"),
            Err(MgcError::BadMagic { .. })
        ));
        let mut v = vec![0u8; RECORD];
        v[..4].copy_from_slice(&MAGICNO.to_le_bytes());
        v[4..8].copy_from_slice(&17u32.to_le_bytes());
        assert_eq!(
            read(&v).err(),
            Some(MgcError::UnsupportedVersion {
                found: 17,
                supported: 18
            })
        );
        v[4..8].copy_from_slice(&18u32.to_le_bytes());
        v[8..12].copy_from_slice(&5u32.to_le_bytes());
        assert!(matches!(read(&v), Err(MgcError::InconsistentEntries { .. })));
        v.push(0);
        assert!(matches!(read(&v), Err(MgcError::BadSize { .. })));
    }
}
