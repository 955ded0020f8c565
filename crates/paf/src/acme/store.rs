//! Where certificates are kept between runs, and the lock that stops two
//! instances sharing a store from ordering the same certificate twice.
//!
//! [`FileStore`] keeps each certificate in a directory of its own
//! (`<id>/fullchain.pem`, `<id>/privkey.pem`, written atomically by
//! rename) and its lock in `<id>.lock`, created exclusively (`O_EXCL`),
//! holding the holder's name and the lock's expiry (so a crashed holder's
//! lock expires). A Git store (a later issue) implements the same trait.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing a file failed.
    #[error("store I/O on {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A certificate id has characters a store cannot use.
    #[error("bad certificate id {id:?}")]
    BadId {
        /// The id.
        id: String,
    },
}

/// A certificate as kept: the chain (leaf first) and its key, PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCert {
    /// The chain, leaf first, PEM.
    pub chain_pem: String,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
}

impl std::fmt::Debug for StoredCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCert").finish_non_exhaustive()
    }
}

/// Whether the lock was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lock {
    /// It is ours until `until` (or until released).
    Acquired {
        /// When it expires if not released.
        until: SystemTime,
    },
    /// Someone else holds it.
    Held {
        /// The holder's name, as it wrote it.
        holder: String,
        /// When it expires.
        until: SystemTime,
    },
}

/// A place to keep certificates, with a lock per certificate.
///
/// Every method takes the certificate's id ([`cert_id`]); time is a
/// parameter, so expiry is tested without waiting.
pub trait CertStore: Send + Sync {
    /// The certificate `id`, if stored.
    fn load(&self, id: &str) -> impl Future<Output = Result<Option<StoredCert>, StoreError>> + Send;
    /// Stores (replaces) the certificate `id`.
    fn save(&self, id: &str, cert: &StoredCert) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Takes the lock of `id` for `holder` until `now + ttl`, unless
    /// someone else holds an unexpired one.
    fn lock(
        &self,
        id: &str,
        holder: &str,
        now: SystemTime,
        ttl: Duration,
    ) -> impl Future<Output = Result<Lock, StoreError>> + Send;
    /// Releases the lock of `id` if `holder` holds it.
    fn unlock(&self, id: &str, holder: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The store id of a certificate whose first name is `name`
/// (`*.example.com` becomes `_wildcard.example.com`).
pub fn cert_id(name: &str) -> Result<String, StoreError> {
    let lower = name.to_ascii_lowercase();
    let id = match lower.strip_prefix("*.") {
        Some(rest) => format!("_wildcard.{rest}"),
        None => lower,
    };
    let ok = !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
    if !ok {
        return Err(StoreError::BadId { id: name.to_string() });
    }
    Ok(id)
}

/// Certificates in a directory (see the module docs for the layout).
/// Its operations are small synchronous file operations.
#[derive(Clone, Debug)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn checked(&self, id: &str) -> Result<PathBuf, StoreError> {
        if cert_id(id)? != id {
            return Err(StoreError::BadId { id: id.to_string() });
        }
        Ok(self.dir.join(id))
    }

    fn lock_path(&self, id: &str) -> Result<PathBuf, StoreError> {
        self.checked(id)?;
        Ok(self.dir.join(format!("{id}.lock")))
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

fn write_atomic(path: &Path, contents: &str, private: bool) -> Result<(), StoreError> {
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&tmp).map_err(io(&tmp))?;
    file.write_all(contents.as_bytes()).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Parses a lock file: `holder\nexpiry-unix-seconds\n`.
fn parse_lock(contents: &str) -> Option<(String, SystemTime)> {
    let mut lines = contents.lines();
    let holder = lines.next()?.to_string();
    let until = lines.next()?.trim().parse::<u64>().ok()?;
    Some((holder, UNIX_EPOCH + Duration::from_secs(until)))
}

impl CertStore for FileStore {
    async fn load(&self, id: &str) -> Result<Option<StoredCert>, StoreError> {
        let dir = self.checked(id)?;
        let chain = read_optional(&dir.join("fullchain.pem"))?;
        let key = read_optional(&dir.join("privkey.pem"))?;
        Ok(match (chain, key) {
            (Some(chain_pem), Some(key_pem)) => Some(StoredCert { chain_pem, key_pem }),
            _ => None,
        })
    }

    async fn save(&self, id: &str, cert: &StoredCert) -> Result<(), StoreError> {
        let dir = self.checked(id)?;
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        // The key first: a reader that sees the new chain then finds its key.
        write_atomic(&dir.join("privkey.pem"), &cert.key_pem, true)?;
        write_atomic(&dir.join("fullchain.pem"), &cert.chain_pem, false)
    }

    async fn lock(&self, id: &str, holder: &str, now: SystemTime, ttl: Duration) -> Result<Lock, StoreError> {
        let path = self.lock_path(id)?;
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let until = now + ttl;
        // Two rounds: the second after removing an expired or unreadable lock.
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let contents = format!("{holder}\n{}\n", unix_seconds(until));
                    file.write_all(contents.as_bytes()).map_err(io(&path))?;
                    file.sync_all().map_err(io(&path))?;
                    return Ok(Lock::Acquired { until });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let current = read_optional(&path)?.as_deref().and_then(parse_lock);
                    match current {
                        Some((other, other_until)) if other_until > now => {
                            return Ok(Lock::Held {
                                holder: other,
                                until: other_until,
                            });
                        }
                        // Expired, or half-written by a crashed holder: take it over.
                        _ => match std::fs::remove_file(&path) {
                            Ok(()) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                            Err(e) => return Err(io(&path)(e)),
                        },
                    }
                }
                Err(e) => return Err(io(&path)(e)),
            }
        }
        // Someone else re-created it between our removal and our creation.
        let (holder, until) = read_optional(&path)?
            .as_deref()
            .and_then(parse_lock)
            .unwrap_or_else(|| (String::new(), now + ttl));
        Ok(Lock::Held { holder, until })
    }

    async fn unlock(&self, id: &str, holder: &str) -> Result<(), StoreError> {
        let path = self.lock_path(id)?;
        let ours = read_optional(&path)?
            .as_deref()
            .and_then(parse_lock)
            .is_some_and(|(h, _)| h == holder);
        if ours {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(cert_id("A.Example.test").unwrap(), "a.example.test");
        assert_eq!(cert_id("*.example.test").unwrap(), "_wildcard.example.test");
        assert!(cert_id("../etc").is_err());
        assert!(cert_id("a/b").is_err());
        assert!(cert_id("").is_err());
    }

    #[tokio::test]
    async fn save_load_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("certs"));
        assert_eq!(store.load("a.test").await.unwrap(), None);
        let cert = StoredCert {
            chain_pem: "chain".into(),
            key_pem: "key".into(),
        };
        store.save("a.test", &cert).await.unwrap();
        assert_eq!(store.load("a.test").await.unwrap(), Some(cert));

        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let ttl = Duration::from_secs(600);
        assert_eq!(
            store.lock("a.test", "one", t0, ttl).await.unwrap(),
            Lock::Acquired { until: t0 + ttl }
        );
        // A second instance is refused while the lock lives...
        assert_eq!(
            store
                .lock("a.test", "two", t0 + Duration::from_secs(10), ttl)
                .await
                .unwrap(),
            Lock::Held {
                holder: "one".into(),
                until: t0 + ttl
            }
        );
        // ...another certificate is not affected...
        assert!(matches!(
            store.lock("b.test", "two", t0, ttl).await.unwrap(),
            Lock::Acquired { .. }
        ));
        // ...only the holder releases it...
        store.unlock("a.test", "two").await.unwrap();
        assert!(matches!(
            store.lock("a.test", "two", t0, ttl).await.unwrap(),
            Lock::Held { .. }
        ));
        // ...and it expires.
        let later = t0 + ttl + Duration::from_secs(1);
        assert!(matches!(
            store.lock("a.test", "two", later, ttl).await.unwrap(),
            Lock::Acquired { .. }
        ));
        store.unlock("a.test", "two").await.unwrap();
        assert!(matches!(
            store.lock("a.test", "one", t0, ttl).await.unwrap(),
            Lock::Acquired { .. }
        ));
    }
}
