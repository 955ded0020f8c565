//! Reading a compiled database (`magic.mgc`) into sets of groups.
//!
//! From memory ([`read`]), every record is packed (`mgc::Packed`) and
//! checked up front. From a file ([`read_file`]), loading costs what a
//! start-up can least afford to waste, fresh memory: the file stays open
//! ([`Source`]), only the top-level records of the main set are packed
//! and indexed, and the rest is read from the file when first needed, as
//! libmagic, which maps the file, only reads the pages it touches: the
//! continuations of a group when its top-level entry first matches, the
//! named set when a test first uses a name. Identifying a small file reads
//! the continuations of a handful of groups, and text files never use a
//! name.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex, PoisonError};

use crate::database::Top;
use crate::entry::Entry;
use crate::mgc::{MgcError, Packed, RECORD, head, header, record, types};
use crate::set::Set;

/// The sets of a compiled database and the index of its main set.
pub(crate) struct Loaded {
    pub(crate) main: Set,
    pub(crate) named: Named,
    pub(crate) tops: Vec<Top>,
}

/// The named set of a compiled database: read, or still in its file.
pub(crate) enum Named {
    Ready(Set),
    Deferred(Deferred),
}

/// A compiled database file kept open, and its byte order.
pub(crate) struct Source {
    file: Mutex<File>,
    big: bool,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source").field("big", &self.big).finish()
    }
}

impl Source {
    /// Reads the records `first..first + count` into `buf`.
    fn read(&self, first: usize, buf: &mut [u8]) -> std::io::Result<()> {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.seek(SeekFrom::Start((first * RECORD) as u64))?;
        file.read_exact(buf)
    }

    /// The continuation records `first..first + count`, decoded; none if
    /// they cannot be read or are not continuations any more (the file
    /// changed since it was loaded).
    pub(crate) fn continuations(&self, first: usize, count: usize) -> Vec<Entry> {
        let mut buf = vec![0u8; count * RECORD];
        if self.read(first, &mut buf).is_err() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(count);
        for (i, rec) in buf.chunks_exact(RECORD).enumerate() {
            match record(first + i, rec, self.big) {
                Ok(e) if e.cont_level != 0 => out.push(e),
                _ => return Vec::new(),
            }
        }
        out
    }
}

/// The named set of a compiled database left in its file, read the first
/// time a test uses a name.
#[derive(Debug)]
pub(crate) struct Deferred {
    source: Arc<Source>,
    n0: u64,
    /// The index of its first record, and the number of records.
    first: usize,
    records: usize,
}

impl Deferred {
    /// Reads the named set (checked as at load).
    pub(crate) fn read(&self) -> Result<Result<Set, MgcError>, std::io::Error> {
        let mut l = Loader::new(self.source.big, self.n0, self.first, self.records, false);
        let read = {
            let mut file = self.source.file.lock().unwrap_or_else(PoisonError::into_inner);
            file.seek(SeekFrom::Start((self.first * RECORD) as u64))?;
            l.read(&mut *file, self.first, self.records)?
        };
        Ok(read.map(|()| l.finish(Some(&self.source)).1))
    }
}

/// A set being read.
struct SetBuilder {
    /// Where each group's first record is packed, and its index.
    groups: Vec<(u32, u32)>,
    packed: Packed,
}

impl SetBuilder {
    fn new(big: bool, records: usize) -> SetBuilder {
        // Room enough for typical databases, so that nothing is copied as
        // it grows; only the part written is touched.
        SetBuilder {
            groups: Vec::with_capacity(records / 2),
            packed: Packed::new(big, records),
        }
    }

    /// `end`: the index past the last record of the set.
    fn finish(mut self, source: Option<(&Arc<Source>, usize)>) -> Set {
        self.packed.finish();
        let file = source.map(|(s, end)| (Arc::clone(s), end as u32));
        Set::from_packed(self.groups, self.packed, file)
    }
}

/// Reads the records of a compiled database one at a time.
struct Loader {
    big: bool,
    n0: u64,
    /// Pack continuation records too (else they stay in the file).
    continuations: bool,
    main: SetBuilder,
    named: SetBuilder,
    /// The index past the last record of the main set.
    split: usize,
    /// The index past the last record read.
    end: usize,
    tops: Vec<Top>,
}

impl Loader {
    /// A loader of the records `from..to` of a database of byte order
    /// `big` whose main set ends at `n0`.
    fn new(big: bool, n0: u64, from: usize, to: usize, continuations: bool) -> Loader {
        let split = usize::try_from(n0)
            .map_or(to, |n| n.saturating_add(1))
            .clamp(from, to);
        let (main, named) = (split - from, to - split);
        // Without continuations, about one record in four.
        let keep = |n: usize| if continuations { n } else { n / 4 };
        Loader {
            big,
            n0,
            continuations,
            main: SetBuilder::new(big, keep(main)),
            named: SetBuilder::new(big, keep(named)),
            split,
            end: to,
            tops: Vec::with_capacity(main / 2),
        }
    }

    /// Reads the records `from..to` from `r`, a few dozen at a time into
    /// one small buffer (the 8 MB file is never held in memory: fresh
    /// pages cost more than the records they hold).
    fn read(&mut self, r: &mut impl Read, from: usize, to: usize) -> std::io::Result<Result<(), MgcError>> {
        const CHUNK: usize = 64;
        let mut chunk = vec![0u8; CHUNK * RECORD];
        let mut index = from;
        while index < to {
            let n = (to - index).min(CHUNK);
            let bytes = &mut chunk[..n * RECORD];
            r.read_exact(bytes)?;
            for rec in bytes.chunks_exact(RECORD) {
                if let Err(e) = self.push(index, rec) {
                    return Ok(Err(e));
                }
                index += 1;
            }
        }
        Ok(Ok(()))
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
            if main {
                // The index of the main set needs every top-level entry.
                self.tops.push(Top::of(&head(index, rec, self.big)?));
            }
            let at = set.packed.push(rec, typ);
            let too_large = |_| MgcError::TooLarge { index };
            set.groups.push((
                u32::try_from(at).map_err(too_large)?,
                u32::try_from(index).map_err(too_large)?,
            ));
        } else if set.groups.is_empty() {
            return Err(MgcError::Orphan { index });
        } else if self.continuations {
            set.packed.push(rec, typ);
        }
        Ok(())
    }

    /// The main set, the named set and the index of the main set; their
    /// continuations in `source` when they were not packed.
    fn finish(self, source: Option<&Arc<Source>>) -> (Set, Set, Vec<Top>) {
        let (split, end) = (self.split, self.end);
        (
            self.main.finish(source.map(|s| (s, split))),
            self.named.finish(source.map(|s| (s, end))),
            self.tops,
        )
    }
}

/// Reads a compiled database held in memory.
pub(crate) fn read(data: &[u8]) -> Result<Loaded, MgcError> {
    let (big, n0) = header(data.get(..RECORD).unwrap_or(data), data.len())?;
    let mut l = Loader::new(big, n0, 1, data.len() / RECORD, true);
    for (index, rec) in data.chunks_exact(RECORD).enumerate().skip(1) {
        l.push(index, rec)?;
    }
    let (main, named, tops) = l.finish(None);
    Ok(Loaded {
        main,
        named: Named::Ready(named),
        tops,
    })
}

/// Reads a compiled database of `total` bytes from `file`: the header,
/// the top-level records of the main set; the rest when first needed.
pub(crate) fn read_file(mut file: File, total: usize) -> Result<Result<Loaded, MgcError>, std::io::Error> {
    let mut rec = [0u8; RECORD];
    let got = read_full(&mut file, &mut rec)?;
    let (big, n0) = match header(&rec[..got], total) {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let records = total / RECORD;
    // The header checked that the main set is within the file.
    let first = usize::try_from(n0)
        .map_or(records, |n| n.saturating_add(1))
        .min(records);
    let mut l = Loader::new(big, n0, 1, first, false);
    if let Err(e) = l.read(&mut file, 1, first)? {
        return Ok(Err(e));
    }
    let source = Arc::new(Source {
        file: Mutex::new(file),
        big,
    });
    let (main, _, tops) = l.finish(Some(&source));
    let named = Named::Deferred(Deferred {
        source,
        n0,
        first,
        records,
    });
    Ok(Ok(Loaded { main, named, tops }))
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
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
    use crate::mgc::MAGICNO;

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
