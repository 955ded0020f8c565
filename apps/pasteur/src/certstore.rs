//! paf's ACME certificate store over a gitkv branch (`certs` of the
//! pastes' repository), so a restarted server finds its certificate and
//! does not order another.
//!
//! ```text
//! <id>/fullchain.pem   the chain, leaf first
//! <id>/privkey.pem     its key (PKCS#8)
//! locks/<id>           {"holder": ..., "until": unix seconds}
//! ```
//!
//! The lock is written and read back: two instances racing for it both
//! write, and the one whose write is the branch's latest wins (gitkv
//! serialises the writes by the ref's lock). An instance whose lock was
//! overwritten between its write and its read-back could still believe it
//! holds it; the cost is one extra order, which ACME allows.
//!
//! This branch is local: the sync loop pushes only the pastes' branch, so
//! private keys do not travel to the remote.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gitkv::{Batch, Store};
use paf::acme::store::{CertStore, Lock, StoreError, StoredCert, cert_id};
use serde::{Deserialize, Serialize};

/// Certificates on a gitkv branch.
#[derive(Clone, Debug)]
pub struct GitCertStore {
    store: Store,
}

#[derive(Debug, Serialize, Deserialize)]
struct LockFile {
    holder: String,
    until: u64,
}

impl GitCertStore {
    /// Certificates in `store` (open it on its own branch).
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    fn io(&self, id: &str, error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Io {
            path: PathBuf::from(format!(
                "{}#{}:{id}",
                self.store.path().display(),
                self.store.branch()
            )),
            source: std::io::Error::other(error),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        id: &str,
        f: impl FnOnce(&Store) -> Result<T, gitkv::Error> + Send + 'static,
    ) -> Result<T, StoreError> {
        if cert_id(id)? != id {
            return Err(StoreError::BadId { id: id.to_string() });
        }
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.io(id, error)),
            Err(error) => Err(self.io(id, error)),
        }
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl CertStore for GitCertStore {
    async fn load(&self, id: &str) -> Result<Option<StoredCert>, StoreError> {
        let (chain_key, key_key) = (format!("{id}/fullchain.pem"), format!("{id}/privkey.pem"));
        let found = self
            .blocking(id, move |store| {
                store.refresh()?;
                let snapshot = store.snapshot();
                Ok((snapshot.get(&chain_key)?, snapshot.get(&key_key)?))
            })
            .await?;
        match found {
            (Some(chain), Some(key)) => match (String::from_utf8(chain), String::from_utf8(key)) {
                (Ok(chain_pem), Ok(key_pem)) => Ok(Some(StoredCert { chain_pem, key_pem })),
                _ => Ok(None),
            },
            _ => Ok(None),
        }
    }

    async fn save(&self, id: &str, cert: &StoredCert) -> Result<(), StoreError> {
        let batch = Batch::new(format!("certificate {id}"))
            .set(format!("{id}/fullchain.pem"), cert.chain_pem.clone())
            .set(format!("{id}/privkey.pem"), cert.key_pem.clone());
        self.blocking(id, move |store| store.commit(batch).map(|_| ()))
            .await
    }

    async fn lock(&self, id: &str, holder: &str, now: SystemTime, ttl: Duration) -> Result<Lock, StoreError> {
        let key = format!("locks/{id}");
        let holder = holder.to_string();
        let until = secs(now + ttl);
        let now_secs = secs(now);
        let outcome = self
            .blocking(id, move |store| {
                store.refresh()?;
                let current = store
                    .get(&key)?
                    .and_then(|bytes| serde_json::from_slice::<LockFile>(&bytes).ok());
                if let Some(lock) = &current
                    && lock.holder != holder
                    && lock.until > now_secs
                {
                    return Ok(Err((lock.holder.clone(), lock.until)));
                }
                let mine = LockFile {
                    holder: holder.clone(),
                    until,
                };
                let json = serde_json::to_vec(&mine).unwrap_or_default();
                store.commit(Batch::new(format!("lock certificate {key}")).set(key.clone(), json))?;
                store.refresh()?;
                let after = store
                    .get(&key)?
                    .and_then(|bytes| serde_json::from_slice::<LockFile>(&bytes).ok());
                match after {
                    Some(lock) if lock.holder != holder => Ok(Err((lock.holder, lock.until))),
                    _ => Ok(Ok(until)),
                }
            })
            .await?;
        Ok(match outcome {
            Ok(until) => Lock::Acquired {
                until: UNIX_EPOCH + Duration::from_secs(until),
            },
            Err((holder, until)) => Lock::Held {
                holder,
                until: UNIX_EPOCH + Duration::from_secs(until),
            },
        })
    }

    async fn unlock(&self, id: &str, holder: &str) -> Result<(), StoreError> {
        let key = format!("locks/{id}");
        let holder = holder.to_string();
        self.blocking(id, move |store| {
            store.refresh()?;
            let ours = store
                .get(&key)?
                .and_then(|bytes| serde_json::from_slice::<LockFile>(&bytes).ok())
                .is_some_and(|lock| lock.holder == holder);
            if ours {
                store.commit(Batch::new(format!("unlock certificate {key}")).remove(key))?;
            }
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn certificates_and_locks_live_on_their_branch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::builder(dir.path().join("r.git"))
            .branch("certs")
            .open()
            .unwrap();
        let certs = GitCertStore::new(store.clone());
        assert_eq!(certs.load("example.com").await.unwrap(), None);
        let cert = StoredCert {
            chain_pem: "chain".into(),
            key_pem: "key".into(),
        };
        certs.save("example.com", &cert).await.unwrap();
        assert_eq!(certs.load("example.com").await.unwrap(), Some(cert));
        assert!(certs.load("../x").await.is_err());

        let now = SystemTime::now();
        let ttl = Duration::from_secs(60);
        assert!(matches!(
            certs.lock("example.com", "a", now, ttl).await.unwrap(),
            Lock::Acquired { .. }
        ));
        assert!(
            matches!(certs.lock("example.com", "b", now, ttl).await.unwrap(), Lock::Held { ref holder, .. } if holder == "a")
        );
        // An expired lock is taken over.
        let later = now + Duration::from_secs(120);
        assert!(matches!(
            certs.lock("example.com", "b", later, ttl).await.unwrap(),
            Lock::Acquired { .. }
        ));
        certs.unlock("example.com", "b").await.unwrap();
        assert!(matches!(
            certs.lock("example.com", "a", now, ttl).await.unwrap(),
            Lock::Acquired { .. }
        ));
        // The pastes' branch is untouched.
        let main = Store::open(dir.path().join("r.git")).unwrap();
        assert_eq!(main.head(), None);
    }
}
