//! Durable writes as packs: one pack (and its index) per group commit,
//! and the consolidation that keeps their number small.
//!
//! A loose object costs an fsync of its own (and one of its directory);
//! a pack costs two (pack and index, synced in parallel) plus one of
//! `objects/pack`, whatever the number of objects in it (see the
//! `durable` module for the order).
//!
//! Packs are written without deltas (version 2, each object zlib'd at
//! the fast level, trees stored: see [`entry`]), the index in version 2,
//! as `git index-pack` would write them. gix-odb reads them (and re-scans
//! `objects/pack` when an object is not found). Consolidation merges packs
//! geometrically, as `git repack --geometric=2` does: the smallest packs
//! are merged until every pack is at least twice the size of all smaller
//! ones together, by copying their entries (no decompression), then
//! deleted: the same objects stay readable at every moment, and each
//! object is copied a logarithmic number of times over its life. Packs of
//! 32 MiB or more are left alone (a merge is a bounded copy, never a
//! rewrite of the store); `git gc` folds them, with deltas.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use gix::ObjectId;
use gix::objs::Kind;

use crate::durable::{Step, sync_dir};
use crate::odb::NewObject;
use crate::{Error, Result};

/// Consolidation starts when there are more packs than this.
pub(crate) const MAX_PACKS: usize = 16;
/// Each pack kept is at least this many times all smaller ones together.
const GEOMETRIC_FACTOR: u64 = 2;
/// Packs of this size or more are never merged by gitkv (`git gc` or
/// `git repack` may), and a consolidation reads at most this many bytes:
/// the writer that runs one is delayed by a bounded copy (tens of
/// milliseconds), never by a rewrite of the whole store.
const MAX_MERGE_BYTES: u64 = 32 << 20;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// One object as stored in a pack: its id, the entry's bytes (type and
/// size header, zlib data) and their CRC-32. Built by whoever has the
/// object (a writer compresses its own values before queueing them).
pub(crate) struct Entry {
    id: ObjectId,
    bytes: Vec<u8>,
    crc: u32,
}

fn type_code(kind: Kind) -> u8 {
    match kind {
        Kind::Commit => 1,
        Kind::Tree => 2,
        Kind::Blob => 3,
        Kind::Tag => 4,
    }
}

/// The pack entry of `object`.
pub(crate) fn entry(object: &NewObject) -> Result<Entry> {
    let mut bytes = Vec::with_capacity(object.data.len() / 2 + 32);
    // Type and size: 3 bits of type, then the size in 4 + 7*n bits.
    let mut size = object.data.len() as u64;
    let mut byte = (type_code(object.kind) << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size != 0 {
        bytes.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    bytes.push(byte);
    // Trees are names and binary ids: deflate saves about a quarter of
    // their bytes (a 390-entry tree: 21.5 KB, 16.5 KB at level 1) for most
    // of the CPU of a write (at 100,000 keys, 870 -> 460 us per write with
    // trees stored), so they are stored: still zlib, as Git reads it, and
    // `git gc` recompresses them (as deltas).
    let level = match object.kind {
        Kind::Tree => gix::zlib::Compression::NONE,
        _ => gix::zlib::Compression::BEST_SPEED,
    };
    {
        let mut zlib = gix::zlib::stream::deflate::Write::new(&mut bytes, level);
        zlib.write_all(&object.data)
            .and_then(|()| zlib.flush())
            .map_err(Error::io("compress an object for", "objects/pack"))?;
    }
    let crc = crc32fast::hash(&bytes);
    Ok(Entry {
        id: object.id,
        bytes,
        crc,
    })
}

/// Writes `objects` as one new pack, durably. Nothing is written for none.
pub(crate) fn write(pack_dir: &Path, objects: &[&NewObject]) -> Result<()> {
    let entries = objects.iter().map(|o| entry(o)).collect::<Result<Vec<_>>>()?;
    if let Some(pack) = PackBytes::build(&entries)? {
        crate::durable::write_pack(pack_dir, &pack, &mut |_| {})?;
    }
    Ok(())
}

/// A pack and its index, built in memory (nothing written yet).
pub(crate) struct PackBytes {
    checksum: ObjectId,
    pack: Vec<u8>,
    idx: Vec<u8>,
}

impl PackBytes {
    /// The pack of `entries` (duplicate ids are written once); `None` for
    /// no entries.
    pub(crate) fn build<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Result<Option<PackBytes>> {
        let mut seen = HashSet::new();
        let entries: Vec<&Entry> = entries.into_iter().filter(|e| seen.insert(e.id)).collect();
        if entries.is_empty() {
            return Ok(None);
        }
        let mut pack = Vec::with_capacity(12 + entries.iter().map(|e| e.bytes.len()).sum::<usize>() + 20);
        pack.extend_from_slice(b"PACK");
        pack.extend_from_slice(&2u32.to_be_bytes());
        pack.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        let mut index: Vec<(ObjectId, u32, u64)> = Vec::with_capacity(entries.len());
        for e in &entries {
            index.push((e.id, e.crc, pack.len() as u64));
            pack.extend_from_slice(&e.bytes);
        }
        let checksum = sha1(&pack);
        pack.extend_from_slice(checksum.as_bytes());
        index.sort_unstable_by_key(|e| e.0);

        let mut idx = Vec::with_capacity(8 + 1024 + index.len() * 28 + 40);
        idx.extend_from_slice(b"\xfftOc");
        idx.extend_from_slice(&2u32.to_be_bytes());
        let mut fanout = [0u32; 256];
        for (id, _, _) in &index {
            fanout[id.as_bytes()[0] as usize] += 1;
        }
        let mut total = 0;
        for count in fanout {
            total += count;
            idx.extend_from_slice(&total.to_be_bytes());
        }
        for (id, _, _) in &index {
            idx.extend_from_slice(id.as_bytes());
        }
        for (_, crc, _) in &index {
            idx.extend_from_slice(&crc.to_be_bytes());
        }
        let mut large = Vec::new();
        for (_, _, offset) in &index {
            if *offset < 0x8000_0000 {
                idx.extend_from_slice(&(*offset as u32).to_be_bytes());
            } else {
                idx.extend_from_slice(&(0x8000_0000u32 | large.len() as u32).to_be_bytes());
                large.push(*offset);
            }
        }
        for offset in large {
            idx.extend_from_slice(&offset.to_be_bytes());
        }
        idx.extend_from_slice(checksum.as_bytes());
        let idx_checksum = sha1(&idx);
        idx.extend_from_slice(idx_checksum.as_bytes());
        Ok(Some(PackBytes { checksum, pack, idx }))
    }

    /// Writes the pack and its index to temp files in `pack_dir` (not
    /// synced, not visible to readers): round 1 of the `durable` module.
    pub(crate) fn stage(&self, pack_dir: &Path) -> Result<StagedPack> {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let name = format!("pack-{}", self.checksum.to_hex());
        let mut staged = StagedPack {
            dir: pack_dir.to_path_buf(),
            temp_pack: pack_dir.join(format!("tmp_pack_gitkv_{pid}_{n}")),
            temp_idx: pack_dir.join(format!("tmp_idx_gitkv_{pid}_{n}")),
            final_pack: pack_dir.join(format!("{name}.pack")),
            final_idx: pack_dir.join(format!("{name}.idx")),
            files: Vec::with_capacity(2),
            published: false,
        };
        for (path, data) in [(&staged.temp_pack, &self.pack), (&staged.temp_idx, &self.idx)] {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o444)
                .open(path)
                .map_err(Error::io("create", path))?;
            let path = path.clone();
            file.write_all(data).map_err(Error::io("write", &path))?;
            staged.files.push(file);
        }
        Ok(staged)
    }
}

/// A pack and its index written to temp files; removed on drop unless
/// published.
pub(crate) struct StagedPack {
    dir: PathBuf,
    temp_pack: PathBuf,
    temp_idx: PathBuf,
    final_pack: PathBuf,
    final_idx: PathBuf,
    files: Vec<File>,
    published: bool,
}

impl StagedPack {
    /// The temp pack and index, to fsync (round 1).
    pub(crate) fn temp_files(&self) -> [(&File, &Path); 2] {
        [
            (&self.files[0], &self.temp_pack),
            (&self.files[1], &self.temp_idx),
        ]
    }

    /// Round 2: renames the pack, then its index (an index makes its pack
    /// visible), and fsyncs the directory. Call it only once both files
    /// were synced. Returns the pack's path.
    pub(crate) fn publish(mut self, step: &mut dyn FnMut(Step<'_>)) -> Result<PathBuf> {
        self.files.clear();
        std::fs::rename(&self.temp_pack, &self.final_pack).map_err(Error::io("rename", &self.temp_pack))?;
        step(Step::Rename {
            from: &self.temp_pack,
            to: &self.final_pack,
        });
        std::fs::rename(&self.temp_idx, &self.final_idx).map_err(Error::io("rename", &self.temp_idx))?;
        self.published = true;
        step(Step::Rename {
            from: &self.temp_idx,
            to: &self.final_idx,
        });
        sync_dir(&self.dir)?;
        step(Step::SyncDir(&self.dir));
        Ok(std::mem::take(&mut self.final_pack))
    }
}

impl Drop for StagedPack {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_file(&self.temp_pack);
            let _ = std::fs::remove_file(&self.temp_idx);
        }
    }
}

/// The SHA-1 trailer of a pack or an index: a checksum of our own bytes,
/// so plain SHA-1 (several times faster than the collision-detecting one
/// that object ids need, which matters for merged packs of megabytes).
fn sha1(data: &[u8]) -> ObjectId {
    use sha1::Digest;
    let digest: [u8; 20] = sha1::Sha1::digest(data).into();
    ObjectId::from(digest)
}

/// A pack on disk and what its index says.
struct PackFile {
    pack: PathBuf,
    idx: PathBuf,
    size: u64,
}

fn list(pack_dir: &Path) -> Result<Vec<PackFile>> {
    let mut packs = Vec::new();
    let entries = std::fs::read_dir(pack_dir).map_err(Error::io("list", pack_dir))?;
    for entry in entries {
        let entry = entry.map_err(Error::io("list", pack_dir))?;
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "pack") {
            let idx = path.with_extension("idx");
            let keep = path.with_extension("keep");
            if idx.is_file() && !keep.exists() {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
                packs.push(PackFile {
                    pack: path,
                    idx,
                    size,
                });
            }
        }
    }
    Ok(packs)
}

/// Whether `pack_dir` has more than [`MAX_PACKS`] packs (a consolidation
/// is due). `false` if it cannot be read.
pub(crate) fn is_crowded(pack_dir: &Path) -> bool {
    list(pack_dir).is_ok_and(|packs| packs.len() > MAX_PACKS)
}

/// Which packs to merge, given their sizes in ascending order: the
/// smallest `n` (0: none). Git's geometric repack: the packs above the
/// split form a progression of factor [`GEOMETRIC_FACTOR`], and the
/// merged pack does not break it. Packs of [`MAX_MERGE_BYTES`] or more
/// are left out (as if kept), and so is what would exceed it.
fn geometric_split(sizes: &[u64]) -> usize {
    let n = sizes.partition_point(|&size| size < MAX_MERGE_BYTES);
    let sizes = &sizes[..n];
    if n < 2 {
        return 0;
    }
    // From the largest down, the first pair out of progression.
    let mut split = 0;
    for i in (1..n).rev() {
        if sizes[i] < GEOMETRIC_FACTOR.saturating_mul(sizes[i - 1]) {
            split = i + 1;
            break;
        }
    }
    // Roll up: a pack not much larger than the merged ones joins them.
    let mut total: u64 = sizes[..split].iter().sum();
    while split < n && sizes[split] <= GEOMETRIC_FACTOR.saturating_mul(total) {
        total += sizes[split];
        split += 1;
    }
    // Cap what one consolidation reads.
    while split > 0 && total > MAX_MERGE_BYTES {
        split -= 1;
        total -= sizes[split];
    }
    if split < 2 { 0 } else { split }
}

/// If there are more than [`MAX_PACKS`] packs, merges the smallest ones
/// geometrically (see the module docs; packs with deltas, fetched from
/// elsewhere, are left alone) into one, then deletes them. Returns how
/// many were merged. Safe beside writers and readers: the merged pack is
/// durable before any source is deleted, and a source's index goes first.
pub(crate) fn consolidate(pack_dir: &Path) -> Result<usize> {
    let mut packs = list(pack_dir)?;
    if packs.len() <= MAX_PACKS {
        return Ok(0);
    }
    packs.sort_by_key(|p| p.size);
    let sizes: Vec<u64> = packs.iter().map(|p| p.size).collect();
    let split = geometric_split(&sizes);
    let mut merged = Vec::new();
    let mut sources = Vec::new();
    for pack in &packs[..split] {
        // A pack that cannot be read as ours (deltas, another format) stays.
        if let Some(entries) = read_entries(pack)? {
            merged.extend(entries);
            sources.push(pack);
        }
    }
    if sources.len() < 2 {
        return Ok(0);
    }
    let Some(new_pack) = PackBytes::build(&merged)? else {
        return Ok(0);
    };
    let new_pack = crate::durable::write_pack(pack_dir, &new_pack, &mut |_| {})?;
    let mut removed = 0;
    for pack in sources {
        if pack.pack == new_pack {
            continue;
        }
        // Index first: without it the pack is invisible, never half there.
        let _ = std::fs::remove_file(&pack.idx);
        let _ = std::fs::remove_file(&pack.pack);
        removed += 1;
    }
    Ok(removed)
}

/// The entries of a pack as raw bytes, read through its version 2 index.
/// `None` if it has deltas or is not what we expect.
fn read_entries(pack: &PackFile) -> Result<Option<Vec<Entry>>> {
    let idx = std::fs::read(&pack.idx).map_err(Error::io("read", &pack.idx))?;
    let data = std::fs::read(&pack.pack).map_err(Error::io("read", &pack.pack))?;
    Ok(parse(&idx, &data))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

pub(crate) fn parse(idx: &[u8], pack: &[u8]) -> Option<Vec<Entry>> {
    if idx.get(..8)? != b"\xfftOc\x00\x00\x00\x02" || pack.get(..8)? != b"PACK\x00\x00\x00\x02" {
        return None;
    }
    let count = be32(idx, 8 + 255 * 4)? as usize;
    if be32(pack, 8)? as usize != count || pack.len() < 12 + 20 {
        return None;
    }
    let ids_at = 8 + 256 * 4;
    let crcs_at = ids_at + count.checked_mul(20)?;
    let offsets_at = crcs_at + count * 4;
    let large_at = offsets_at + count * 4;
    // The index must hold its tables (and two checksums) before anything
    // is sized by the count it claims.
    if idx.len() < large_at + 40 {
        return None;
    }
    let mut items = Vec::with_capacity(count);
    for i in 0..count {
        let id = ObjectId::try_from(idx.get(ids_at + i * 20..ids_at + i * 20 + 20)?).ok()?;
        let crc = be32(idx, crcs_at + i * 4)?;
        let raw = be32(idx, offsets_at + i * 4)?;
        let offset = if raw & 0x8000_0000 == 0 {
            u64::from(raw)
        } else {
            let at = large_at + (raw & 0x7fff_ffff) as usize * 8;
            u64::from_be_bytes(idx.get(at..at + 8)?.try_into().ok()?)
        };
        items.push((usize::try_from(offset).ok()?, id, crc));
    }
    items.sort_by_key(|(offset, _, _)| *offset);
    let end_of_entries = pack.len() - 20;
    let mut entries = Vec::with_capacity(count);
    for (i, (offset, id, crc)) in items.iter().enumerate() {
        let end = items.get(i + 1).map_or(end_of_entries, |next| next.0);
        let bytes = pack.get(*offset..end)?;
        // Types 6 and 7 are deltas: their bases live in this pack.
        let kind = (bytes.first()? >> 4) & 0x07;
        if !(1..=4).contains(&kind) || crc32fast::hash(bytes) != *crc {
            return None;
        }
        entries.push(Entry {
            id: *id,
            bytes: bytes.to_vec(),
            crc: *crc,
        });
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_round_trip_through_our_parser_and_consolidate() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..(MAX_PACKS + 3) {
            let objects = [
                NewObject::new(Kind::Blob, format!("blob {i}").into_bytes()).unwrap(),
                NewObject::new(Kind::Blob, vec![7u8; 100 + i]).unwrap(),
            ];
            write(dir.path(), &objects.iter().collect::<Vec<_>>()).unwrap();
        }
        let before = list(dir.path()).unwrap();
        assert_eq!(before.len(), MAX_PACKS + 3);
        for pack in &before {
            let entries = read_entries(pack).unwrap().expect("our own packs parse");
            assert_eq!(entries.len(), 2);
        }
        // Packs of about the same size: all merged into one.
        let removed = consolidate(dir.path()).unwrap();
        assert_eq!(removed, MAX_PACKS + 3);
        let after = list(dir.path()).unwrap();
        assert_eq!(after.len(), 1);
        let total: usize = after
            .iter()
            .map(|p| read_entries(p).unwrap().unwrap().len())
            .sum();
        assert_eq!(total, 2 * (MAX_PACKS + 3));
        assert_eq!(consolidate(dir.path()).unwrap(), 0);
    }

    #[test]
    fn merges_are_geometric_and_capped() {
        // Alike: all merged.
        assert_eq!(geometric_split(&[10, 10, 11, 12]), 4);
        // Already a progression of factor 2: nothing to do.
        assert_eq!(geometric_split(&[1, 2, 4, 8]), 0);
        assert_eq!(geometric_split(&[5]), 0);
        // The two small ones break it; the merged 2 rolls up the 4, not the 100.
        assert_eq!(geometric_split(&[1, 1, 4, 100]), 3);
        // New small packs beside big old ones: only the small ones move.
        let mut sizes = vec![3u64; 16];
        sizes.extend([1_000, 10_000, 100_000]);
        assert_eq!(geometric_split(&sizes), 16);
        // Never more than MAX_MERGE_BYTES read at once.
        let big = MAX_MERGE_BYTES / 2;
        assert_eq!(geometric_split(&[big, big, big, big]), 2);
        // Packs that large are left alone, however alike.
        assert_eq!(geometric_split(&[MAX_MERGE_BYTES, MAX_MERGE_BYTES]), 0);
        assert_eq!(geometric_split(&[1, 1, 4, MAX_MERGE_BYTES, MAX_MERGE_BYTES]), 3);
    }

    #[test]
    fn hostile_index_bytes_are_refused_not_panicked_on() {
        assert!(parse(b"", b"").is_none());
        let mut idx = b"\xfftOc\x00\x00\x00\x02".to_vec();
        idx.extend(std::iter::repeat_n(0xffu8, 1024));
        assert!(parse(&idx, b"PACK\x00\x00\x00\x02\xff\xff\xff\xff").is_none());
        // A count of 4 billion with a pack long enough to get past the
        // header checks: refused before anything is sized by it.
        let mut pack = b"PACK\x00\x00\x00\x02\xff\xff\xff\xff".to_vec();
        pack.extend([0u8; 64]);
        assert!(parse(&idx, &pack).is_none());
    }
}
