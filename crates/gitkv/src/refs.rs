//! One branch ref, read and moved the way Git does it, with fsync.
//!
//! Git's protocol for moving a ref: create `<ref>.lock` exclusively (this
//! is the lock every Git implementation honours), check the old value,
//! write the new one into the lock file, rename it over the ref. gix-ref's
//! transactions follow it but never fsync, so the update is written here:
//! the lock file is fsync'd before the rename and the directory after it.
//! The old-value check happens while the lock is held: that is the
//! compare-and-swap, across threads, processes and other Git programs.
//!
//! A writer killed while holding the lock leaves the lock file behind (Git
//! then refuses to move the ref until someone removes it). Our writers
//! hold it for about a millisecond, so a lock file older than
//! [`LockOptions::stale_after`] is taken as abandoned and removed.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use gix::ObjectId;

use crate::durable::{Step, sync_dir};
use crate::{Error, Result};

/// How long to wait for another writer's lock, and when to call it stale.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LockOptions {
    pub(crate) timeout: Duration,
    pub(crate) stale_after: Duration,
}

/// What a compare-and-swap found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cas {
    /// The ref had the expected value and now has the new one, on disk.
    Updated,
    /// The ref had this other value; nothing changed.
    Changed(Option<ObjectId>),
}

/// A direct ref of a repository (`refs/heads/main`).
#[derive(Debug, Clone)]
pub(crate) struct RefFile {
    git_dir: PathBuf,
    name: String,
    path: PathBuf,
    lock: PathBuf,
}

impl RefFile {
    pub(crate) fn new(git_dir: &Path, name: &str) -> Self {
        let path = git_dir.join(name);
        let mut lock = path.clone().into_os_string();
        lock.push(".lock");
        RefFile {
            git_dir: git_dir.to_path_buf(),
            name: name.to_string(),
            path,
            lock: lock.into(),
        }
    }

    /// The ref's value: its loose file, else its line in `packed-refs`,
    /// else `None` (an unborn branch).
    pub(crate) fn read(&self) -> Result<Option<ObjectId>> {
        match std::fs::read(&self.path) {
            Ok(content) => self.parse(&content).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.read_packed(),
            Err(e) => Err(Error::io("read", &self.path)(e)),
        }
    }

    fn parse(&self, content: &[u8]) -> Result<ObjectId> {
        let text = content.strip_suffix(b"\n").unwrap_or(content);
        ObjectId::from_hex(text).map_err(|_| Error::BadRef {
            name: self.name.clone(),
            content: String::from_utf8_lossy(&content[..content.len().min(100)]).into_owned(),
        })
    }

    fn read_packed(&self) -> Result<Option<ObjectId>> {
        let packed = self.git_dir.join("packed-refs");
        let content = match std::fs::read(&packed) {
            Ok(content) => content,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", &packed)(e)),
        };
        for line in content.split(|&b| b == b'\n') {
            if line.starts_with(b"#") || line.starts_with(b"^") {
                continue;
            }
            let Some(space) = line.iter().position(|&b| b == b' ') else {
                continue;
            };
            if &line[space + 1..] == self.name.as_bytes() {
                return self.parse(&line[..space]).map(Some);
            }
        }
        Ok(None)
    }

    /// Moves the ref from `expected` to `new` if it still has `expected`;
    /// durable when it returns [`Cas::Updated`]. `new`'s objects must
    /// already be durable.
    pub(crate) fn compare_and_swap(
        &self,
        expected: Option<ObjectId>,
        new: ObjectId,
        options: LockOptions,
    ) -> Result<Cas> {
        let lock = self.lock(options)?;
        let current = lock.current()?;
        if current != expected {
            return Ok(Cas::Changed(current));
        }
        let mut staged = lock.stage(new)?;
        staged.sync()?;
        staged.commit(&mut |_| {})?;
        Ok(Cas::Updated)
    }

    /// Takes the ref's lock (Git's `<ref>.lock`, created exclusively),
    /// waiting for another writer's up to `options.timeout` and taking
    /// over one older than `options.stale_after`. Dropped without
    /// [`StagedRef::commit`], the lock file is removed and the ref stays.
    pub(crate) fn lock(&self, options: LockOptions) -> Result<RefLock<'_>> {
        let (file, guard) = self.create_lock(options)?;
        Ok(RefLock {
            reference: self,
            file,
            guard,
        })
    }

    fn create_lock(&self, options: LockOptions) -> Result<(File, LockGuard)> {
        let start = Instant::now();
        let mut backoff = Duration::from_micros(200);
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&self.lock) {
                Ok(file) => {
                    let guard = LockGuard {
                        path: self.lock.clone(),
                        armed: true,
                    };
                    return Ok((file, guard));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let age = std::fs::metadata(&self.lock)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|modified| modified.elapsed().ok());
                    if age.is_some_and(|age| age >= options.stale_after) {
                        // Abandoned by a writer that died: take it over.
                        let _ = std::fs::remove_file(&self.lock);
                        continue;
                    }
                    let waited = start.elapsed();
                    if waited >= options.timeout {
                        return Err(Error::Locked {
                            lock: self.lock.clone(),
                            waited,
                        });
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(20));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let dir = self.lock.parent().expect("a ref path has a parent directory");
                    if dir.is_dir() {
                        return Err(Error::io("create", &self.lock)(e));
                    }
                    std::fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
                }
                Err(e) => return Err(Error::io("create", &self.lock)(e)),
            }
        }
    }
}

/// The ref's lock, held: the ref cannot move under us until it is
/// dropped or committed.
pub(crate) struct RefLock<'a> {
    reference: &'a RefFile,
    file: File,
    guard: LockGuard,
}

impl<'a> RefLock<'a> {
    /// The ref's value now (stable while the lock is held).
    pub(crate) fn current(&self) -> Result<Option<ObjectId>> {
        self.reference.read()
    }

    /// Writes `new` into the lock file (not yet synced: see
    /// [`StagedRef::sync`]).
    pub(crate) fn stage(mut self, new: ObjectId) -> Result<StagedRef<'a>> {
        let lock = &self.reference.lock;
        self.file
            .write_all(format!("{}\n", new.to_hex()).as_bytes())
            .map_err(Error::io("write", lock))?;
        Ok(StagedRef { lock: self })
    }
}

/// The lock file holds the new value; [`StagedRef::commit`] moves the ref.
pub(crate) struct StagedRef<'a> {
    lock: RefLock<'a>,
}

impl StagedRef<'_> {
    /// fsyncs the lock file (may run in parallel with other fsyncs).
    pub(crate) fn sync(&mut self) -> Result<()> {
        self.lock
            .file
            .sync_all()
            .map_err(Error::io("fsync", &self.lock.reference.lock))
    }

    /// Renames the lock file over the ref and fsyncs the ref's directory:
    /// the ref has its new value, durably, when this returns. Call it
    /// only once [`StagedRef::sync`] returned and the objects the new
    /// value names are durable (their names included). `step` sees each
    /// durability step as it completes (the ordering tests record them).
    pub(crate) fn commit(self, step: &mut dyn FnMut(Step<'_>)) -> Result<()> {
        let RefLock {
            reference,
            file,
            mut guard,
        } = self.lock;
        drop(file);
        std::fs::rename(&reference.lock, &reference.path).map_err(Error::io("rename", &reference.lock))?;
        guard.armed = false;
        step(Step::Rename {
            from: &reference.lock,
            to: &reference.path,
        });
        let dir = reference
            .path
            .parent()
            .expect("a ref path has a parent directory");
        sync_dir(dir)?;
        step(Step::SyncDir(dir));
        Ok(())
    }

    /// The lock file and its path (to fsync it beside other files).
    pub(crate) fn file(&self) -> (&File, &Path) {
        (&self.lock.file, &self.lock.reference.lock)
    }

    /// The lock file's path.
    pub(crate) fn lock_path(&self) -> &Path {
        &self.lock.reference.lock
    }
}

/// Removes the lock file unless the rename consumed it.
struct LockGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Replaces `path` with `content` durably: temp file, fsync, rename, fsync
/// of the directory.
pub(crate) fn write_file_durably(path: &Path, content: &[u8]) -> Result<()> {
    let mut temp = path.to_path_buf().into_os_string();
    temp.push(format!(".tmp-gitkv-{}", std::process::id()));
    let temp = PathBuf::from(temp);
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&temp)?;
        file.write_all(content)?;
        file.sync_all()
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&temp);
        return Err(Error::io("write", &temp)(e));
    }
    std::fs::rename(&temp, path).map_err(Error::io("rename", &temp))?;
    sync_dir(path.parent().expect("a repository file has a parent directory"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> LockOptions {
        LockOptions {
            timeout: Duration::from_millis(50),
            stale_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn cas_loose_packed_and_locked() {
        let dir = tempfile::tempdir().unwrap();
        let r = RefFile::new(dir.path(), "refs/heads/main");
        assert_eq!(r.read().unwrap(), None);
        let a = ObjectId::from_hex(b"1111111111111111111111111111111111111111").unwrap();
        let b = ObjectId::from_hex(b"2222222222222222222222222222222222222222").unwrap();
        assert_eq!(r.compare_and_swap(None, a, options()).unwrap(), Cas::Updated);
        assert_eq!(r.read().unwrap(), Some(a));
        assert_eq!(
            r.compare_and_swap(None, b, options()).unwrap(),
            Cas::Changed(Some(a))
        );
        assert_eq!(r.read().unwrap(), Some(a));

        // Packed only, as after `git pack-refs`.
        std::fs::remove_file(dir.path().join("refs/heads/main")).unwrap();
        std::fs::write(
            dir.path().join("packed-refs"),
            format!("# pack-refs with: peeled fully-peeled sorted \n{b} refs/heads/main\n"),
        )
        .unwrap();
        assert_eq!(r.read().unwrap(), Some(b));

        // A fresh lock file held by someone else: Locked after the timeout.
        std::fs::write(dir.path().join("refs/heads/main.lock"), b"").unwrap();
        assert!(matches!(
            r.compare_and_swap(Some(b), a, options()),
            Err(Error::Locked { .. })
        ));
        // The same lock called stale: taken over.
        let stale = LockOptions {
            timeout: Duration::from_millis(50),
            stale_after: Duration::ZERO,
        };
        assert_eq!(r.compare_and_swap(Some(b), a, stale).unwrap(), Cas::Updated);
        assert_eq!(r.read().unwrap(), Some(a));

        std::fs::write(dir.path().join("refs/heads/main"), b"garbage\n").unwrap();
        assert!(matches!(r.read(), Err(Error::BadRef { .. })));
    }
}
