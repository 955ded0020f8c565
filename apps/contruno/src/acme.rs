//! Certificates by ACME for routed domains that have none: HTTP-01 on
//! port 80 (paf's responder in front of the redirect), the result
//! committed to the routes repository (`domains/<domain>/fullchain.pem`,
//! `privkey.pem`) and pushed, so a restart or another instance finds it.
//!
//! Two instances on one repository order each certificate once: the
//! order is taken under a lock file (`locks/<domain>`, holder and expiry)
//! that is committed and pushed first; the remote's ref update is the
//! arbiter (a push that finds the remote moved pulls and looks again).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gitkv::sync::Remote;
use gitkv::{Batch, Policy, Store};
use paf::acme::store::{CertStore, Lock, StoreError, StoredCert, cert_id};
use paf::acme::{AccountKey, AcmeBuilder, AcmeClient, Seed};
use rustls::RootCertStore;
use serde::{Deserialize, Serialize};

use crate::routes;

/// How many times a commit that lost the race to the remote is retried.
const PUSH_ATTEMPTS: usize = 5;

/// How the ACME server checks that a domain is ours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Challenge {
    /// HTTP-01: a token on port 80 (the redirect listener answers it).
    #[default]
    Http01,
    /// TLS-ALPN-01: a validation certificate on the TLS listener itself
    /// (`acme-tls/1`), for a proxy with only port 443 reachable.
    TlsAlpn01,
}

impl std::str::FromStr for Challenge {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "http-01" => Ok(Challenge::Http01),
            "tls-alpn-01" => Ok(Challenge::TlsAlpn01),
            other => Err(format!("{other:?}: http-01 or tls-alpn-01")),
        }
    }
}

/// How certificates are ordered.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AcmeConfig {
    /// The ACME directory URL.
    pub directory: String,
    /// Roots for the directory's HTTPS instead of the webpki roots.
    pub directory_roots: Option<Arc<RootCertStore>>,
    /// The account's contact (`mailto:` is added).
    pub email: Option<String>,
    /// Derives the account key (same account after a restart).
    pub account_seed: Option<Seed>,
    /// How often certificates are checked for renewal.
    pub check_every: Duration,
    /// This instance's name in the locks.
    pub holder: String,
    /// The challenge answered.
    pub challenge: Challenge,
}

impl AcmeConfig {
    /// Let's Encrypt's staging directory unless `directory` says otherwise.
    pub fn new(directory: impl Into<String>) -> Self {
        AcmeConfig {
            directory: directory.into(),
            directory_roots: None,
            email: None,
            account_seed: None,
            check_every: Duration::from_secs(12 * 3600),
            holder: format!("contruno-{}", std::process::id()),
            challenge: Challenge::Http01,
        }
    }

    /// Connects to the directory (retrying with back-off while it is down).
    pub(crate) async fn client(&self) -> Result<AcmeClient, paf::acme::Error> {
        let mut wait = Duration::from_secs(1);
        loop {
            let key = match &self.account_seed {
                Some(seed) => seed.account_key()?,
                None => AccountKey::generate()?,
            };
            let mut builder = AcmeBuilder::new(&self.directory, key);
            if let Some(email) = &self.email {
                builder = builder.contact(format!("mailto:{email}"));
            }
            if let Some(roots) = &self.directory_roots {
                builder = builder.roots(roots.clone());
            }
            match builder.connect().await {
                Ok(client) => return Ok(client),
                Err(error) => {
                    tracing::warn!(target: "contruno::acme", directory = %self.directory, error = %crate::error_chain(&error), retry_in = ?wait, "ACME directory unreachable");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(300));
                }
            }
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct LockFile {
    holder: String,
    until: u64,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// paf's certificate store over the routes repository (and its remote).
#[derive(Clone, Debug)]
pub(crate) struct RepoCertStore {
    store: Store,
    remote: Option<Remote>,
}

impl RepoCertStore {
    pub(crate) fn new(store: Store, remote: Option<Remote>) -> Self {
        RepoCertStore { store, remote }
    }

    fn io(&self, id: &str, error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Io {
            path: PathBuf::from(format!("{}:domains/{id}", self.store.path().display())),
            source: std::io::Error::other(error),
        }
    }

    fn checked(&self, id: &str) -> Result<(), StoreError> {
        if cert_id(id)? != id || routes::check_domain(id).is_err() {
            return Err(StoreError::BadId { id: id.to_string() });
        }
        Ok(())
    }

    async fn pull(&self, id: &str) -> Result<(), StoreError> {
        if let Some(remote) = &self.remote
            && let Err(error) = self.store.pull(remote, Policy::Theirs).await
        {
            // An unreachable remote: go on with the local copy.
            tracing::warn!(target: "contruno::acme", %id, error = %crate::error_chain(&error), "cannot pull the routes repository");
        }
        Ok(())
    }

    async fn commit(&self, id: &str, batch: Batch) -> Result<(), StoreError> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || store.commit(batch)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(self.io(id, error)),
            Err(error) => Err(self.io(id, error)),
        }
    }

    /// Pushes; `false` if the remote moved (pull and look again).
    async fn push(&self, id: &str) -> bool {
        let Some(remote) = &self.remote else {
            return true;
        };
        match self.store.push(remote).await {
            Ok(_) => true,
            Err(error) => {
                tracing::info!(target: "contruno::acme", %id, error = %crate::error_chain(&error), "push refused or failed");
                false
            }
        }
    }

    /// Commits what `batch` gives (nothing to do when it gives `None`) and
    /// pushes it; a push that finds the remote moved pulls and asks
    /// `batch` again on the new head. Whether it was pushed (or there was
    /// nothing to do).
    async fn commit_and_push(&self, id: &str, batch: impl Fn() -> Option<Batch>) -> Result<bool, StoreError> {
        for _ in 0..PUSH_ATTEMPTS {
            let Some(batch) = batch() else {
                return Ok(true);
            };
            self.commit(id, batch).await?;
            if self.push(id).await {
                return Ok(true);
            }
            self.pull(id).await?;
        }
        Ok(false)
    }

    fn read_lock(&self, key: &str) -> Option<LockFile> {
        self.store
            .get(key)
            .ok()
            .flatten()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
    }
}

impl CertStore for RepoCertStore {
    async fn load(&self, id: &str) -> Result<Option<StoredCert>, StoreError> {
        self.checked(id)?;
        let chain = self
            .store
            .get(&routes::chain_key(id))
            .map_err(|e| self.io(id, e))?;
        let key = self.store.get(&routes::key_key(id)).map_err(|e| self.io(id, e))?;
        Ok(match (chain, key) {
            (Some(chain), Some(key)) => match (String::from_utf8(chain), String::from_utf8(key)) {
                (Ok(chain_pem), Ok(key_pem)) => Some(StoredCert { chain_pem, key_pem }),
                _ => None,
            },
            _ => None,
        })
    }

    async fn save(&self, id: &str, cert: &StoredCert) -> Result<(), StoreError> {
        self.checked(id)?;
        let pushed = self
            .commit_and_push(id, || {
                Some(
                    Batch::new(format!("contruno: certificate of {id}"))
                        .set(routes::chain_key(id), cert.chain_pem.clone())
                        .set(routes::key_key(id), cert.key_pem.clone()),
                )
            })
            .await?;
        if !pushed {
            // Kept locally; the next reload's pull and a later save push it.
            tracing::warn!(target: "contruno::acme", %id, "certificate committed locally, not pushed yet");
        }
        Ok(())
    }

    async fn lock(&self, id: &str, holder: &str, now: SystemTime, ttl: Duration) -> Result<Lock, StoreError> {
        self.checked(id)?;
        let key = format!("locks/{id}");
        let until = secs(now + ttl);
        for _ in 0..PUSH_ATTEMPTS {
            self.pull(id).await?;
            if let Some(lock) = self.read_lock(&key)
                && lock.holder != holder
                && lock.until > secs(now)
            {
                return Ok(Lock::Held {
                    holder: lock.holder,
                    until: UNIX_EPOCH + Duration::from_secs(lock.until),
                });
            }
            let json = serde_json::to_vec(&LockFile {
                holder: holder.to_string(),
                until,
            })
            .unwrap_or_default();
            self.commit(
                id,
                Batch::new(format!("contruno: {holder} orders {id}")).set(key.clone(), json),
            )
            .await?;
            if self.push(id).await {
                return Ok(Lock::Acquired {
                    until: UNIX_EPOCH + Duration::from_secs(until),
                });
            }
        }
        // The remote kept moving or is down: order anyway (ACME allows a
        // second order; losing a certificate is worse).
        Ok(Lock::Acquired {
            until: UNIX_EPOCH + Duration::from_secs(until),
        })
    }

    async fn unlock(&self, id: &str, holder: &str) -> Result<(), StoreError> {
        self.checked(id)?;
        let key = format!("locks/{id}");
        self.commit_and_push(id, || {
            // Only our own lock is removed (it may have expired and been taken).
            let ours = self.read_lock(&key).is_some_and(|lock| lock.holder == holder);
            ours.then(|| Batch::new(format!("contruno: {holder} done with {id}")).remove(key.clone()))
        })
        .await?;
        Ok(())
    }
}
