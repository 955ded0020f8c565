//! gitkv: a key-value store on a branch of a bare Git repository.
//!
//! Keys are `/`-separated paths (`pastes/ab/cdef`), values are bytes; the
//! keys are the files of the branch's tree and every change is a commit,
//! so the repository stays readable with plain `git log`, `git show` and
//! `git clone`. What Irmin's Git backend gave the OCaml apps.
//!
//! ```text
//!   Store::commit(Batch) ─▶ blobs hashed + compressed by the caller
//!          │
//!          ▼ queue ─▶ leader: apply batches to the in-memory tree, build
//!                     trees + commit(s) into one pack; lock the ref and
//!                     compare-and-swap; fsync pack ‖ index ‖ lock file,
//!                     name the pack (fsync dir), rename the lock over the
//!                     ref (fsync dir) ─▶ every caller acked
//!
//!   Store::get / list ─▶ Snapshot (tree in memory, loaded lazily, shared)
//!   Store::merge(fetched commit) ─▶ three-way merge by key, Policy on conflicts
//!   sync (feature `sync`): pull = smart fetch + merge, push = smart push
//! ```
//!
//! # Example
//!
//! ```
//! # fn main() -> Result<(), gitkv::Error> {
//! # let dir = tempfile::tempdir().unwrap();
//! use gitkv::{Batch, Signature, Store};
//!
//! let store = Store::open(dir.path().join("data.git"))?; // created if missing
//! store.set("pastes/ab/cdef", "hello")?;
//! let author = Signature::new("Ada", "ada@example.com")?;
//! store.commit(
//!     Batch::new("two at once")
//!         .author(author)
//!         .set("pastes/ab/cdef.meta", "{}")
//!         .remove("pastes/zz/old"),
//! )?;
//! assert_eq!(store.get("pastes/ab/cdef")?.as_deref(), Some(&b"hello"[..]));
//! assert_eq!(store.list("pastes/")?, ["pastes/ab/cdef", "pastes/ab/cdef.meta"]);
//! let changes: Vec<_> = store.history("pastes/ab/cdef")?.collect::<Result<_, _>>()?;
//! assert_eq!(changes.len(), 1);
//! # Ok(()) }
//! ```
//!
//! # Modules at a glance
//!
//! - [`Store`], [`Builder`]: open or create a bare repository (with gix:
//!   `objects/`, `refs/`, `HEAD`, `config`), read and write the branch.
//! - [`Snapshot`]: a consistent read view at one commit; reads never walk
//!   history.
//! - [`Batch`], [`Signature`], [`Committed`], [`Grouping`]: writes.
//! - [`History`], [`Revision`]: the commits that changed a key.
//! - [`Policy`], [`Conflict`], [`MergeOutcome`]: [`Store::merge`], the
//!   local half of a pull.
//! - `sync` (feature `sync`): pull and push through crates/smart.
//! - [`Error`]: one error type, variants with the key, path or object.
//!
//! # Durability
//!
//! When a write returns `Ok`, its commit and the branch update are on
//! disk. gitoxide (0.90) never fsyncs, so gitkv writes objects and the ref
//! itself, in Git's formats, in three rounds of fsync per group commit
//! however many writes it holds (the `durable` module):
//!
//! 1. the group's objects as one pack (version 2, no deltas) and its
//!    version 2 index, written to temp files, and the new commit id
//!    written into `refs/heads/<branch>.lock` (Git's lock, created
//!    exclusively, the old value checked under it: compare-and-swap);
//!    the three files fsync'd in parallel;
//! 2. pack and index renamed into place (pack first), `objects/pack`
//!    fsync'd: the objects are durable under their names;
//! 3. the lock file renamed over the ref, the ref's directory fsync'd:
//!    then the callers are acknowledged.
//!
//! Objects are durable before the ref names them, so a crash at any point
//! leaves a valid repository with the branch at its old or new commit (at
//! worst with an unreferenced pack or temp file, which `git gc` folds in
//! or removes). Packs are merged geometrically (as `git repack
//! --geometric=2`) once there are more than 16, packs of 32 MiB or more
//! excepted (`git gc` folds those), on a short-lived thread of its own
//! beside the group commits, which go on: no write waits for it
//! ([`Store::wait_for_merges`] does, before `git fsck` or exiting). A
//! writer killed while holding the lock leaves `<ref>.lock`; a lock older
//! than [`Builder::stale_lock_after`] (5 s) is removed by the next writer.
//! Reading goes through gix-odb, so loose objects, packs from `git gc` or
//! from a fetch, and packed refs all work.
//!
//! # Group commit
//!
//! Writers are serialised without losing a write: in a process by the
//! writer queue, across processes (and with other Git programs) by the
//! ref lock and compare-and-swap; when another process moved the branch,
//! the group is re-applied on its commit and retried. No thread is
//! spawned to run the writer: the first caller that finds the writer idle
//! commits every batch queued so far as one group, the others wait for
//! their result. That leader first waits (at most a quarter of the last
//! commit's time, 2 ms at most) until as many batches are queued as the
//! last group had: the callers of a group are acknowledged together and
//! come back together, and without the wait the first of them would
//! commit alone while the rest waited a whole commit behind it.
//! Each caller hashes and compresses its own values first (while the
//! group before it waits for the disk); a group costs
//! the trees on the changed paths, one commit (or one per batch with
//! [`Grouping::CommitPerBatch`]), one pack and one ref update. Each batch is atomic
//! and checked alone: a batch that cannot apply (setting `a/b` when `a`
//! holds a value) fails by itself without failing its group.
//!
//! # Reads
//!
//! The branch's tree is kept in memory as shared, lazily loaded trees
//! ([`Snapshot`]); a read walks the key's path (loading each tree once)
//! and reads one blob. A write copies only the trees on its path, so
//! with keys fanned out as `pastes/ab/cdef...` a write rewrites three
//! small trees whatever the number of keys. Other processes' writes are
//! seen after [`Store::refresh`] or this store's next write.
//!
//! # Blocking
//!
//! Writes block until fsync; reads may read from disk. From async code,
//! call them in `tokio::task::spawn_blocking`. No task is spawned and
//! the only thread that outlives a call is a pack consolidation's (it
//! ends with the merge); a group commit fsyncs its pack, index and lock
//! file on two scoped threads that end with it.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod batch;
mod durable;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod history;
mod key;
mod merge;
mod odb;
mod pack;
mod refs;
mod snapshot;
mod store;
#[cfg(feature = "sync")]
pub mod sync;
mod tree;
mod writer;

pub use batch::{Batch, Committed, Grouping, Signature};
pub use error::{Error, Result};
pub use gix::ObjectId;
pub use history::{History, Revision};
pub use merge::{Conflict, MergeKind, MergeOutcome, Policy};
pub use snapshot::Snapshot;
pub use store::{Builder, Store};
