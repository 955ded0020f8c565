//! The order in which a group commit reaches the disk, and nothing else.
//!
//! Crash safety needs two things, and only these: a ref never durably
//! names a commit whose objects (their content *and* their file names)
//! are not durable yet, and a caller is acknowledged only once the ref's
//! rename is durable. Everything else may overlap. A group therefore
//! costs three sequential rounds of fsync, whatever its size:
//!
//! ```text
//!   round 1   fsync(tmp pack) ‖ fsync(tmp idx) ‖ fsync(<ref>.lock)   in parallel
//!   round 2   rename pack, rename idx; fsync(objects/pack)            objects durable and named
//!   round 3   rename <ref>.lock over <ref>; fsync(ref's directory)    ref durable: acknowledge
//! ```
//!
//! The lock file can be synced in round 1 because it is not the ref until
//! its rename, which waits for round 2. The pack's directory and the ref's
//! are different directories, so rounds 2 and 3 cannot be merged without
//! relying on a file system committing renames in order (ext4's journal
//! does, others need not). Git itself, with `core.fsync=all`, spends one
//! fsync per object plus the ref's.
//!
//! [`Step`]s report each durability step as it completes; the tests below
//! check the order above on a real directory.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::pack::PackBytes;
use crate::refs::StagedRef;
use crate::{Error, Result};

/// A durability step that completed (what the ordering tests record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    /// A file's content (and size) reached the disk.
    Fsync(&'a Path),
    /// A file was renamed (not durable before its directory's fsync).
    Rename {
        /// The old name.
        from: &'a Path,
        /// The new name.
        to: &'a Path,
    },
    /// A directory's entries reached the disk.
    SyncDir(&'a Path),
}

/// fsyncs a directory, so that entries created or renamed in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync", dir))
}

/// fsyncs `files` in parallel (one scoped thread each but the first, which
/// the caller's thread syncs): one round of disk latency for all of them.
/// Threads that cannot be started leave their file to the caller's thread.
pub(crate) fn sync_all(files: &[(&File, &Path)], step: &mut dyn FnMut(Step<'_>)) -> Result<()> {
    let sync = |(file, path): &(&File, &Path)| file.sync_all().map_err(Error::io("fsync", *path));
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let spawned: Vec<_> = files
            .iter()
            .skip(1)
            .map(|f| std::thread::Builder::new().spawn_scoped(scope, move || sync(f)))
            .collect();
        let mut results = Vec::with_capacity(files.len());
        results.extend(files.first().map(sync));
        for (f, handle) in files.iter().skip(1).zip(spawned) {
            results.push(match handle {
                Ok(handle) => handle.join().unwrap_or_else(|_| sync(f)),
                Err(_) => sync(f),
            });
        }
        results
    });
    for result in results {
        result?;
    }
    for (_, path) in files {
        step(Step::Fsync(path));
    }
    Ok(())
}

/// Writes `pack` (if any) and moves the ref staged in `staged` to the
/// commit it names, in the three rounds of the module docs. When this
/// returns `Ok`, both are durable. On error the ref has not moved, or
/// its move is not known to be durable (the caller reports the write as
/// failed); temp files and the lock file are removed.
pub(crate) fn commit(
    pack_dir: &Path,
    pack: Option<&PackBytes>,
    mut staged: StagedRef<'_>,
    step: &mut dyn FnMut(Step<'_>),
) -> Result<Option<PathBuf>> {
    let written = match pack {
        Some(pack) => {
            let files = pack.stage(pack_dir)?;
            // Round 1: the pack, its index and the lock file together.
            let [(pack_file, pack_path), (idx_file, idx_path)] = files.temp_files();
            let (lock_file, lock_path) = staged.file();
            sync_all(
                &[
                    (pack_file, pack_path),
                    (idx_file, idx_path),
                    (lock_file, lock_path),
                ],
                step,
            )?;
            // Round 2: the objects get their names, durably.
            Some(files.publish(step)?)
        }
        None => {
            staged.sync()?;
            step(Step::Fsync(staged.lock_path()));
            None
        }
    };
    // Round 3: the ref.
    staged.commit(step)?;
    Ok(written)
}

/// Writes `pack` durably (rounds 1 and 2): when this returns, its objects
/// are on disk under their final names. Returns the pack's path.
pub(crate) fn write_pack(
    pack_dir: &Path,
    pack: &PackBytes,
    step: &mut dyn FnMut(Step<'_>),
) -> Result<PathBuf> {
    let files = pack.stage(pack_dir)?;
    let [(pack_file, pack_path), (idx_file, idx_path)] = files.temp_files();
    sync_all(&[(pack_file, pack_path), (idx_file, idx_path)], step)?;
    files.publish(step)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use gix::objs::Kind;

    use gix::ObjectId;

    use super::*;
    use crate::odb::NewObject;
    use crate::refs::{LockOptions, RefFile};

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Owned {
        Fsync(PathBuf),
        Rename(PathBuf, PathBuf),
        SyncDir(PathBuf),
    }

    fn any_commit() -> ObjectId {
        ObjectId::from_hex(b"1111111111111111111111111111111111111111").unwrap()
    }

    fn record(steps: &mut Vec<Owned>) -> impl FnMut(Step<'_>) + '_ {
        |step| {
            steps.push(match step {
                Step::Fsync(p) => Owned::Fsync(p.to_path_buf()),
                Step::Rename { from, to } => Owned::Rename(from.to_path_buf(), to.to_path_buf()),
                Step::SyncDir(p) => Owned::SyncDir(p.to_path_buf()),
            })
        }
    }

    fn position(steps: &[Owned], what: impl Fn(&Owned) -> bool) -> usize {
        steps
            .iter()
            .position(what)
            .unwrap_or_else(|| panic!("step missing in {steps:#?}"))
    }

    #[test]
    fn objects_are_durable_and_named_before_the_ref_moves_and_the_ref_before_the_ack() {
        let dir = tempfile::tempdir().unwrap();
        let git_dir = dir.path();
        let pack_dir = git_dir.join("objects/pack");
        std::fs::create_dir_all(&pack_dir).unwrap();
        std::fs::create_dir_all(git_dir.join("refs/heads")).unwrap();
        let reference = RefFile::new(git_dir, "refs/heads/main");
        let blob = NewObject::new(Kind::Blob, b"hello".to_vec()).unwrap();
        let pack = PackBytes::build([&crate::pack::entry(&blob).unwrap()])
            .unwrap()
            .unwrap();
        let options = LockOptions {
            timeout: Duration::from_secs(1),
            stale_after: Duration::from_secs(60),
        };
        let lock = reference.lock(options).unwrap();
        assert_eq!(lock.current().unwrap(), None);
        let staged = lock.stage(any_commit()).unwrap();

        let mut steps = Vec::new();
        let written = commit(&pack_dir, Some(&pack), staged, &mut record(&mut steps))
            .unwrap()
            .unwrap();
        // What `commit` returning means: the ref and the pack are there.
        assert_eq!(reference.read().unwrap(), Some(any_commit()));
        assert!(written.is_file() && written.with_extension("idx").is_file());

        let ref_path = git_dir.join("refs/heads/main");
        let lock_path = git_dir.join("refs/heads/main.lock");
        let is_rename_to = |ext: &'static str| move |s: &Owned| matches!(s, Owned::Rename(_, to) if to.extension().is_some_and(|e| e == ext));
        let fsync_of = |prefix: &'static str| move |s: &Owned| matches!(s, Owned::Fsync(p) if p.file_name().unwrap().to_string_lossy().starts_with(prefix));
        let pack_synced = position(&steps, fsync_of("tmp_pack_"));
        let idx_synced = position(&steps, fsync_of("tmp_idx_"));
        let lock_synced = position(&steps, |s| *s == Owned::Fsync(lock_path.clone()));
        let pack_renamed = position(&steps, is_rename_to("pack"));
        let idx_renamed = position(&steps, is_rename_to("idx"));
        let pack_dir_synced = position(&steps, |s| *s == Owned::SyncDir(pack_dir.clone()));
        let ref_renamed = position(&steps, |s| {
            *s == Owned::Rename(lock_path.clone(), ref_path.clone())
        });
        let ref_dir_synced = position(&steps, |s| *s == Owned::SyncDir(git_dir.join("refs/heads")));
        // Round 1 (any order among them) before the renames of round 2.
        assert!(pack_synced < pack_renamed && idx_synced < idx_renamed);
        // An index makes its pack visible: the pack is named first.
        assert!(pack_renamed < idx_renamed);
        assert!(idx_renamed < pack_dir_synced);
        // The ref moves only once the objects' names are durable, and its
        // content was synced before.
        assert!(pack_dir_synced < ref_renamed && lock_synced < ref_renamed);
        // The last step is the ref's directory: then `commit` returns (the ack).
        assert_eq!(ref_dir_synced, steps.len() - 1, "{steps:#?}");
        assert_eq!(steps.len(), 8, "{steps:#?}");
    }

    #[test]
    fn a_failing_round_leaves_the_ref_and_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let git_dir = dir.path();
        std::fs::create_dir_all(git_dir.join("refs/heads")).unwrap();
        let reference = RefFile::new(git_dir, "refs/heads/main");
        let blob = NewObject::new(Kind::Blob, b"hello".to_vec()).unwrap();
        let pack = PackBytes::build([&crate::pack::entry(&blob).unwrap()])
            .unwrap()
            .unwrap();
        let options = LockOptions {
            timeout: Duration::from_secs(1),
            stale_after: Duration::from_secs(60),
        };
        let staged = reference.lock(options).unwrap().stage(any_commit()).unwrap();
        // No objects/pack directory: staging the pack fails.
        let missing = git_dir.join("objects/pack");
        assert!(commit(&missing, Some(&pack), staged, &mut |_| {}).is_err());
        assert_eq!(reference.read().unwrap(), None);
        assert!(!git_dir.join("refs/heads/main.lock").exists());
    }
}
