//! Delta resolution of a pack already on disk: the id of every entry,
//! computed by inflating each entry once (read with `pread`, not mapped:
//! mapped pages of the whole pack would count in our memory, as C git's
//! index-pack avoids) and applying deltas depth-first from their base, so
//! only the chain being worked on is held in memory. Bases are shared out
//! between threads, one per core.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gix::ObjectId;
use gix::object::Kind;

use crate::delta::{self, DeltaError};

/// What an entry is, as its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// A whole object.
    Base(Kind),
    /// A delta against the entry at this index (an `OFS_DELTA`).
    Delta(u32),
    /// A delta against an object named by id (a `REF_DELTA`), in the pack.
    RefDelta,
}

/// One pack entry, as the streaming pass recorded it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Where the entry's header starts.
    pub(crate) offset: u64,
    /// Where its zlib data starts and ends.
    pub(crate) data: std::ops::Range<u64>,
    /// The size of the inflated data (the object, or the delta).
    pub(crate) size: u64,
    pub(crate) crc32: u32,
    pub(crate) kind: EntryKind,
}

/// Why an entry's id could not be computed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ResolveError {
    /// Reading the pack file back failed.
    #[error("cannot read the pack entry at offset {offset}")]
    Read { offset: u64, source: std::io::Error },
    /// The entry's zlib data does not inflate to the size its header gives.
    #[error("the pack entry at offset {offset} does not inflate to its {size} bytes")]
    Inflate { offset: u64, size: u64 },
    /// A delta that does not apply to its base.
    #[error("the delta at offset {offset} does not apply to its base")]
    Delta { offset: u64, source: DeltaError },
    /// Hashing failed (gix's SHA-1 detected a collision attack).
    #[error("cannot hash the object at offset {offset}")]
    Hash { offset: u64, source: gix::Error },
    /// Deltas whose base is neither in the pack nor added from the repository.
    #[error("{count} deltas have no base in the pack (the first: {base})")]
    MissingBase { count: usize, base: ObjectId },
    /// A thread computing ids panicked (a bug, not the peer's bytes).
    #[error("a delta resolution thread panicked")]
    Panicked,
}

/// The children of each entry, as a compressed table (`starts[i]..starts[i + 1]`
/// indexes `list`), plus the `REF_DELTA`s waiting for an id.
struct Children {
    starts: Vec<u32>,
    list: Vec<u32>,
    by_id: HashMap<ObjectId, Vec<u32>>,
}

impl Children {
    fn new(entries: &[Entry], ref_bases: &[(u32, ObjectId)]) -> Self {
        let mut starts = vec![0u32; entries.len() + 1];
        for entry in entries {
            if let EntryKind::Delta(base) = entry.kind {
                starts[base as usize + 1] += 1;
            }
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut fill = starts.clone();
        let mut list = vec![0u32; starts[entries.len()] as usize];
        for (i, entry) in entries.iter().enumerate() {
            if let EntryKind::Delta(base) = entry.kind {
                list[fill[base as usize] as usize] = i as u32;
                fill[base as usize] += 1;
            }
        }
        let mut by_id: HashMap<ObjectId, Vec<u32>> = HashMap::new();
        for (child, base) in ref_bases {
            by_id.entry(*base).or_default().push(*child);
        }
        Self { starts, list, by_id }
    }

    fn of(&self, index: u32, id: &ObjectId) -> Vec<u32> {
        let mut out = self.list
            [self.starts[index as usize] as usize..self.starts[index as usize + 1] as usize]
            .to_vec();
        if let Some(more) = self.by_id.get(id) {
            out.extend_from_slice(more);
        }
        out
    }
}

/// Computes the id of every entry of the pack in `file`. `ref_bases`
/// names the base of each `REF_DELTA` entry (by entry index).
pub(crate) fn ids(
    file: &File,
    entries: &[Entry],
    ref_bases: &[(u32, ObjectId)],
    hash: gix::hash::Kind,
) -> Result<Vec<ObjectId>, ResolveError> {
    let children = Children::new(entries, ref_bases);
    let roots: Vec<u32> = (0..entries.len() as u32)
        .filter(|&i| matches!(entries[i as usize].kind, EntryKind::Base(_)))
        .collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(roots.len())
        .max(1);
    let ids = Mutex::new(vec![hash.null(); entries.len()]);
    let shared = Shared {
        file,
        entries,
        children: &children,
        roots: &roots,
        next: &next,
        stop: &stop,
        ids: &ids,
        hash,
    };
    let outcomes = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(|| shared.work())).collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or(Err(ResolveError::Panicked)))
            .collect::<Vec<_>>()
    });
    for outcome in outcomes {
        outcome?;
    }
    let ids = ids.into_inner().map_err(|_| ResolveError::Panicked)?;
    let missing = ids.iter().filter(|id| id.is_null()).count();
    if missing > 0 {
        let base = ref_bases
            .iter()
            .find(|(child, _)| ids[*child as usize].is_null())
            .map_or_else(|| hash.null(), |(_, base)| *base);
        return Err(ResolveError::MissingBase { count: missing, base });
    }
    Ok(ids)
}

struct Shared<'a> {
    file: &'a File,
    entries: &'a [Entry],
    children: &'a Children,
    roots: &'a [u32],
    next: &'a AtomicUsize,
    stop: &'a AtomicBool,
    /// Every entry's id, null until computed; workers add theirs in batches.
    ids: &'a Mutex<Vec<ObjectId>>,
    hash: gix::hash::Kind,
}

/// How many ids a worker computes before adding them to the shared table.
const BATCH: usize = 256;

/// A base on the depth-first path: its data and the deltas still to apply to it.
struct Frame {
    data: Vec<u8>,
    pending: Vec<u32>,
}

impl Shared<'_> {
    /// Takes bases until none is left.
    fn work(&self) -> Result<(), ResolveError> {
        let mut out = Vec::with_capacity(BATCH);
        let mut inflate = gix::zlib::Inflate::default();
        let mut compressed = Vec::new();
        let mut delta = Vec::new();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let Some(&root) = self.roots.get(self.next.fetch_add(1, Ordering::Relaxed)) else {
                return self.publish(&mut out);
            };
            let result = self.resolve_tree(root, &mut inflate, &mut compressed, &mut delta, &mut out);
            if result.is_err() {
                self.stop.store(true, Ordering::Relaxed);
                return result;
            }
            if out.len() >= BATCH {
                self.publish(&mut out)?;
            }
        }
    }

    /// Moves computed ids into the shared table.
    fn publish(&self, out: &mut Vec<(u32, ObjectId)>) -> Result<(), ResolveError> {
        let mut ids = self.ids.lock().map_err(|_| ResolveError::Panicked)?;
        for (index, id) in out.drain(..) {
            ids[index as usize] = id;
        }
        Ok(())
    }

    fn resolve_tree(
        &self,
        root: u32,
        inflate: &mut gix::zlib::Inflate,
        compressed: &mut Vec<u8>,
        delta: &mut Vec<u8>,
        out: &mut Vec<(u32, ObjectId)>,
    ) -> Result<(), ResolveError> {
        let EntryKind::Base(kind) = self.entries[root as usize].kind else {
            return Ok(());
        };
        let mut data = Vec::new();
        self.inflate(root, inflate, compressed, &mut data)?;
        let id = self.hash(root, kind, &data)?;
        out.push((root, id));
        let mut stack = vec![Frame {
            pending: self.children.of(root, &id),
            data,
        }];
        while let Some(frame) = stack.last_mut() {
            let Some(child) = frame.pending.pop() else {
                stack.pop();
                continue;
            };
            self.inflate(child, inflate, compressed, delta)?;
            let mut target = Vec::new();
            delta::apply(&frame.data, delta, &mut target).map_err(|source| ResolveError::Delta {
                offset: self.entries[child as usize].offset,
                source,
            })?;
            let id = self.hash(child, kind, &target)?;
            out.push((child, id));
            let pending = self.children.of(child, &id);
            if !pending.is_empty() {
                stack.push(Frame {
                    data: target,
                    pending,
                });
            }
        }
        Ok(())
    }

    /// The inflated data of entry `index`, into `out`.
    fn inflate(
        &self,
        index: u32,
        inflate: &mut gix::zlib::Inflate,
        compressed: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Result<(), ResolveError> {
        let entry = &self.entries[index as usize];
        let bad = || ResolveError::Inflate {
            offset: entry.offset,
            size: entry.size,
        };
        let len = usize::try_from(entry.data.end - entry.data.start).map_err(|_| bad())?;
        // zlib inflates at most ~1032:1: a larger size is a lie, not an allocation.
        if entry.size > (len as u64).saturating_mul(1100).saturating_add(64) {
            return Err(bad());
        }
        compressed.resize(len, 0);
        self.file
            .read_exact_at(compressed, entry.data.start)
            .map_err(|source| ResolveError::Read {
                offset: entry.offset,
                source,
            })?;
        out.clear();
        out.resize(usize::try_from(entry.size).map_err(|_| bad())?, 0);
        inflate.reset();
        let (status, _, written) = inflate.once(compressed, out).map_err(|_| bad())?;
        if written != out.len() || !(status == gix::zlib::Status::StreamEnd || out.is_empty()) {
            return Err(bad());
        }
        Ok(())
    }

    fn hash(&self, index: u32, kind: Kind, data: &[u8]) -> Result<ObjectId, ResolveError> {
        gix::objs::compute_hash(self.hash, kind, data).map_err(|e| ResolveError::Hash {
            offset: self.entries[index as usize].offset,
            source: e,
        })
    }
}
