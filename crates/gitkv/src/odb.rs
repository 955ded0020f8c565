//! The object database: reads through gix-odb (loose objects and packs,
//! alternates); durable writes as packs (the `pack` module), because
//! gix-odb's writers never fsync (nor does anything in gitoxide 0.90).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use gix::ObjectId;
use gix::objs::{Find, Kind};
use gix::odb::{Handle, Store};

use crate::{Error, Result};

const HASH: gix::hash::Kind = gix::hash::Kind::Sha1;

/// Consolidation is considered after this many packs written.
const CONSOLIDATE_EVERY: u64 = 16;
/// Index slots of the object database (see `Objects::open`): at least
/// this many, and twice the packs on disk at open.
const ODB_SLOTS: usize = 64;

/// A shared handle on one repository's objects, usable from any thread.
///
/// gix-odb sizes its index slots once and does not always notice packs
/// replaced under it (our consolidation deletes the packs it merged), so
/// after each consolidation the store is opened afresh (a new generation),
/// and a read that misses is retried once with a handle of a fresh store
/// (another process may have replaced packs too). Only misses pay for it:
/// objects the branch names are there.
pub(crate) struct Objects {
    dir: PathBuf,
    store: Mutex<(u64, Arc<Store>)>,
    /// gix-odb handles are not `Sync`: a pool of them, one per concurrent
    /// reader, with the generation of the store they belong to.
    pool: Mutex<Vec<(u64, Handle)>>,
    packs_written: AtomicU64,
    consolidate_due: AtomicBool,
    /// Held by the one consolidation of this process running.
    consolidating: Mutex<()>,
    /// Consolidations started in the background and not finished yet.
    background: Mutex<usize>,
    background_done: Condvar,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// An object ready to be written: its id, kind and uncompressed content.
pub(crate) struct NewObject {
    pub(crate) id: ObjectId,
    pub(crate) kind: Kind,
    pub(crate) data: Vec<u8>,
}

impl NewObject {
    pub(crate) fn new(kind: Kind, data: Vec<u8>) -> Result<Self> {
        let id = gix::objs::compute_hash(HASH, kind, &data).map_err(|source| Error::Object {
            id: ObjectId::null(HASH),
            source,
        })?;
        Ok(NewObject { id, kind, data })
    }
}

fn open_store(objects_dir: &Path) -> Result<Arc<Store>> {
    // gix-odb's slot map is sized once (by default from the packs on disk
    // at open); we add packs while running, so ask for room to spare.
    let options = gix::odb::store::init::Options {
        slots: gix::odb::store::init::Slots::AsNeededByDiskState {
            multiplier: 2.0,
            minimum: ODB_SLOTS,
        },
        ..Default::default()
    };
    let handle = gix::odb::at_opts(objects_dir, HASH, std::iter::empty(), options)
        .map_err(Error::io("open", objects_dir))?;
    Ok(handle.store())
}

impl Objects {
    /// Opens the object database in `objects_dir`.
    pub(crate) fn open(objects_dir: PathBuf) -> Result<Self> {
        let store = open_store(&objects_dir)?;
        // Packs left by processes that stopped before merging them (or
        // fetched): the first write merges them.
        let crowded = crate::pack::is_crowded(&objects_dir.join("pack"));
        Ok(Objects {
            dir: objects_dir,
            store: Mutex::new((0, store)),
            pool: Mutex::new(Vec::new()),
            packs_written: AtomicU64::new(0),
            consolidate_due: AtomicBool::new(crowded),
            consolidating: Mutex::new(()),
            background: Mutex::new(0),
            background_done: Condvar::new(),
        })
    }

    fn current(&self) -> (u64, Arc<Store>) {
        let guard = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        (guard.0, Arc::clone(&guard.1))
    }

    /// Runs `f` with a handle; returns the handle's generation too.
    fn with_handle<T>(&self, f: impl FnOnce(&Handle) -> T) -> (u64, T) {
        let (generation, store) = self.current();
        let pooled = {
            let mut pool = self.pool.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            pool.retain(|(g, _)| *g == generation);
            pool.pop()
        };
        let (generation, handle) = pooled.unwrap_or_else(|| (generation, store.to_handle().into()));
        let out = f(&handle);
        self.pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((generation, handle));
        (generation, out)
    }

    /// Opens the store afresh (after packs were replaced).
    fn reopen(&self) -> Result<()> {
        let store = open_store(&self.dir)?;
        let mut guard = self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = (guard.0 + 1, store);
        Ok(())
    }

    /// Reads object `id`, which must be of kind `expected`.
    pub(crate) fn read(&self, id: &ObjectId, expected: Kind) -> Result<Vec<u8>> {
        let (kind, data) = self.read_any(id)?;
        if kind != expected {
            return Err(Error::WrongKind {
                id: *id,
                expected,
                actual: kind,
            });
        }
        Ok(data)
    }

    /// Reads object `id` whatever its kind.
    pub(crate) fn read_any(&self, id: &ObjectId) -> Result<(Kind, Vec<u8>)> {
        let mut buf = Vec::new();
        let find = |buf: &mut Vec<u8>| {
            self.with_handle(|handle| handle.try_find(id, buf).map(|found| found.map(|data| data.kind)))
        };
        let (generation, mut found) = find(&mut buf);
        if !matches!(found, Ok(Some(_))) {
            // The packs may have changed under that handle (our own
            // consolidation, or another process's, deleting a pack between
            // the reads of its index and of its data): ask a current one,
            // opening the store afresh unless that happened meanwhile.
            if generation == self.current().0 {
                self.reopen()?;
            }
            found = find(&mut buf).1;
        }
        match found {
            Ok(Some(kind)) => Ok((kind, buf)),
            Ok(None) => Err(Error::MissingObject { id: *id }),
            Err(source) => Err(Error::Object { id: *id, source }),
        }
    }

    /// Writes `objects` durably, as one pack (see the `pack` module):
    /// when this returns, they are on disk and readable.
    pub(crate) fn write_durably(&self, objects: &[&NewObject]) -> Result<()> {
        crate::pack::write(&self.pack_dir(), objects)?;
        self.wrote_pack();
        Ok(())
    }

    /// `objects/pack`.
    pub(crate) fn pack_dir(&self) -> PathBuf {
        self.dir.join("pack")
    }

    /// Counts a pack written (by the group commit): every
    /// [`CONSOLIDATE_EVERY`] packs, a consolidation is due.
    pub(crate) fn wrote_pack(&self) {
        let written = self.packs_written.fetch_add(1, Ordering::Relaxed) + 1;
        if written.is_multiple_of(CONSOLIDATE_EVERY) {
            self.consolidate_due.store(true, Ordering::Relaxed);
        }
    }

    /// Whether enough packs were written since the last consolidation
    /// that one is worth trying (resets the flag).
    pub(crate) fn take_consolidation_due(&self) -> bool {
        self.consolidate_due.swap(false, Ordering::Relaxed)
    }

    /// Runs [`Objects::consolidate`] on a thread of its own, which ends
    /// with it (in the caller's thread if no thread can be started). A
    /// failed consolidation leaves the packs as they were.
    pub(crate) fn consolidate_in_background(objects: &Arc<Objects>) {
        *objects
            .background
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) += 1;
        let theirs = Arc::clone(objects);
        let spawned = std::thread::Builder::new()
            .name("gitkv-consolidate".into())
            .spawn(move || {
                let _ = theirs.consolidate();
                theirs.background_finished();
            });
        if spawned.is_err() {
            let _ = objects.consolidate();
            objects.background_finished();
        }
    }

    fn background_finished(&self) {
        *self
            .background
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) -= 1;
        self.background_done.notify_all();
    }

    /// Waits until no consolidation started in the background is running.
    pub(crate) fn wait_for_background(&self) {
        let mut running = self
            .background
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while *running > 0 {
            running = self
                .background_done
                .wait(running)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Merges small packs if there are too many, then opens the store
    /// afresh (see [`Objects`]). Runs beside group commits and reads (it
    /// only deletes packs whose objects are durable in the merged one);
    /// returns at once, with 0, if another consolidation of this process
    /// is running.
    pub(crate) fn consolidate(&self) -> Result<usize> {
        let Ok(_running) = self.consolidating.try_lock() else {
            return Ok(0);
        };
        let merged = crate::pack::consolidate(&self.pack_dir());
        self.reopen()?;
        merged
    }
}
