//! The pack index (`.idx`, version 2) of a pack whose entries' ids,
//! offsets and CRC-32s are known: what C git's index-pack writes, byte
//! for byte.

use std::io::{self, Write};

use gix::ObjectId;

/// One object of the pack.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdxEntry {
    pub(crate) id: ObjectId,
    pub(crate) offset: u64,
    pub(crate) crc32: u32,
}

/// Writes the index of `entries` (sorted here by id) for the pack whose
/// trailing checksum is `pack_hash`.
pub(crate) fn write_v2(out: impl Write, entries: &mut [IdxEntry], pack_hash: &ObjectId) -> io::Result<()> {
    entries.sort_unstable_by_key(|e| e.id);
    let mut out = Hashing {
        inner: io::BufWriter::new(out),
        hasher: gix::hash::hasher(pack_hash.kind()),
    };
    out.write_all(b"\xfftOc")?;
    out.write_all(&2u32.to_be_bytes())?;
    let mut fanout = [0u32; 256];
    for entry in entries.iter() {
        fanout[usize::from(entry.id.as_slice()[0])] += 1;
    }
    let mut total = 0u32;
    for count in fanout {
        total += count;
        out.write_all(&total.to_be_bytes())?;
    }
    for entry in entries.iter() {
        out.write_all(entry.id.as_slice())?;
    }
    for entry in entries.iter() {
        out.write_all(&entry.crc32.to_be_bytes())?;
    }
    let mut large = Vec::new();
    for entry in entries.iter() {
        let small = match u32::try_from(entry.offset) {
            Ok(offset) if offset < 0x8000_0000 => offset,
            _ => {
                let index = u32::try_from(large.len())
                    .ok()
                    .filter(|i| *i < 0x8000_0000)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "too many large offsets"))?;
                large.push(entry.offset);
                0x8000_0000 | index
            }
        };
        out.write_all(&small.to_be_bytes())?;
    }
    for offset in large {
        out.write_all(&offset.to_be_bytes())?;
    }
    out.write_all(pack_hash.as_slice())?;
    let Hashing { mut inner, hasher } = out;
    let checksum = hasher
        .try_finalize()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    inner.write_all(checksum.as_slice())?;
    inner.flush()
}

/// Hashes what goes through it.
struct Hashing<W> {
    inner: W,
    hasher: gix::hash::Hasher,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
