//! The object database: reads through gix-odb (loose objects and packs,
//! alternates), durable writes of loose objects written here.
//!
//! gix-odb writes loose objects through a temp file and a rename but never
//! calls fsync (nor does anything in gitoxide 0.90), so writing is ours:
//! each object goes to a temp file in `objects/`, is fsync'd, renamed to
//! `objects/xx/yyyy...`, and every directory that gained an entry is
//! fsync'd once per batch of objects. Objects that already exist as loose
//! files are not written again.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gix::ObjectId;
use gix::objs::{Find, Kind};
use gix::odb::{Handle, Store};

use crate::{Error, Result};

const HASH: gix::hash::Kind = gix::hash::Kind::Sha1;

/// Temp file names: unique per process (pid) and per write (counter).
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A shared handle on one repository's objects, usable from any thread.
pub(crate) struct Objects {
    dir: PathBuf,
    store: Arc<Store>,
    /// gix-odb handles are not `Sync`: a pool of them, one per concurrent reader.
    pool: Mutex<Vec<Handle>>,
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

impl Objects {
    /// Opens the object database in `objects_dir`.
    pub(crate) fn open(objects_dir: PathBuf) -> Result<Self> {
        let handle = gix::odb::at(&objects_dir, HASH).map_err(Error::io("open", &objects_dir))?;
        let store = handle.store();
        Ok(Objects {
            dir: objects_dir,
            store,
            pool: Mutex::new(vec![handle]),
        })
    }

    fn with_handle<T>(&self, f: impl FnOnce(&Handle) -> T) -> T {
        let handle = self
            .pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
            .unwrap_or_else(|| self.store.to_handle().into());
        let out = f(&handle);
        self.pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(handle);
        out
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
        let found = self.with_handle(|handle| {
            handle
                .try_find(id, &mut buf)
                .map(|found| found.map(|data| data.kind))
        });
        match found {
            Ok(Some(kind)) => Ok((kind, buf)),
            Ok(None) => Err(Error::MissingObject { id: *id }),
            Err(source) => Err(Error::Object { id: *id, source }),
        }
    }

    fn loose_path(&self, id: &ObjectId) -> PathBuf {
        let hex = id.to_hex().to_string();
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    /// Writes `objects` durably: when this returns, each is in a loose
    /// file whose content and directory entry are on disk.
    pub(crate) fn write_durably(&self, objects: &[NewObject]) -> Result<()> {
        let mut pending = Vec::new();
        for object in objects {
            let path = self.loose_path(&object.id);
            if path.exists() || pending.iter().any(|(_, p): &(PathBuf, PathBuf)| *p == path) {
                continue;
            }
            let temp = self.write_temp(object)?;
            pending.push((temp, path));
        }
        if pending.is_empty() {
            return Ok(());
        }
        let mut dirs = BTreeSet::new();
        let mut result = Ok(());
        for (temp, path) in &pending {
            let dir = path
                .parent()
                .expect("a loose object path has a fan-out directory");
            let step = (|| {
                if !dir.is_dir() {
                    match std::fs::create_dir(dir) {
                        Ok(()) => {
                            dirs.insert(self.dir.clone());
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                        Err(e) => return Err(Error::io("create", dir)(e)),
                    }
                }
                std::fs::rename(temp, path).map_err(Error::io("rename", temp))?;
                dirs.insert(dir.to_path_buf());
                Ok(())
            })();
            if let Err(e) = step {
                result = Err(e);
                break;
            }
        }
        if result.is_err() {
            for (temp, _) in &pending {
                let _ = std::fs::remove_file(temp);
            }
            return result;
        }
        for dir in &dirs {
            sync_dir(dir)?;
        }
        Ok(())
    }

    /// Compresses `object` into a new temp file in `objects/` and fsyncs it.
    fn write_temp(&self, object: &NewObject) -> Result<PathBuf> {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = self.dir.join(format!("tmp_obj_gitkv_{}_{n}", std::process::id()));
        let mut compressed = Vec::with_capacity(object.data.len() / 2 + 64);
        {
            let mut zlib =
                gix::zlib::stream::deflate::Write::new(&mut compressed, gix::zlib::Compression::default());
            let header = gix::objs::encode::loose_header(object.kind, object.data.len() as u64);
            zlib.write_all(&header)
                .and_then(|()| zlib.write_all(&object.data))
                .and_then(|()| zlib.flush())
                .map_err(Error::io("compress an object for", &temp))?;
        }
        let write = || -> std::io::Result<()> {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o444)
                .open(&temp)?;
            file.write_all(&compressed)?;
            file.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&temp);
            return Err(Error::io("write", &temp)(e));
        }
        Ok(temp)
    }
}

/// fsyncs a directory, so that entries created or renamed in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync", dir))
}
