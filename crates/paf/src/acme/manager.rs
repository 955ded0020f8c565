//! The driver: obtains a certificate, keeps it in a [`CertStore`], renews
//! it in time and installs it into [`Certificates`] (hot swap: connections
//! in flight keep the old one, new handshakes get the new one).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::client::{AcmeClient, Issued, Solver};
use super::error::Error;
use super::keys::{CertKey, Seed};
use super::store::{CertStore, Lock, StoredCert, cert_id};
use crate::certs::Certificates;

/// Whether a certificate valid from `not_before` to `not_after` should be
/// renewed at `now`: when a third of its lifetime or less is left, or when
/// the server's suggested renewal window (RFC 9773) has begun.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use paf::acme::renewal_due;
///
/// let day = Duration::from_secs(86_400);
/// let issued = SystemTime::UNIX_EPOCH + 1000 * day;
/// let expires = issued + 90 * day;
/// assert!(!renewal_due(issued, expires, issued + 59 * day, None));
/// assert!(renewal_due(issued, expires, issued + 60 * day, None));
/// // The server asks for an early renewal (e.g. a revocation is coming).
/// let window = (issued + 10 * day, issued + 11 * day);
/// assert!(renewal_due(issued, expires, issued + 10 * day, Some(window)));
/// ```
pub fn renewal_due(
    not_before: SystemTime,
    not_after: SystemTime,
    now: SystemTime,
    suggested_window: Option<(SystemTime, SystemTime)>,
) -> bool {
    if suggested_window.is_some_and(|(start, _)| start <= now) {
        return true;
    }
    let lifetime = not_after.duration_since(not_before).unwrap_or(Duration::ZERO);
    let left = not_after.duration_since(now).unwrap_or(Duration::ZERO);
    left <= lifetime / 3
}

/// What [`CertManager::ensure`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Renewal {
    /// The stored certificate is good: installed, nothing ordered.
    Fresh {
        /// Its expiry.
        not_after: SystemTime,
    },
    /// A certificate was ordered, stored and installed.
    Issued {
        /// Its expiry.
        not_after: SystemTime,
    },
    /// Another instance holds the store's lock for this certificate (it is
    /// ordering it): nothing ordered; the stored one, if any, is installed.
    Locked {
        /// The other instance's name.
        holder: String,
    },
}

/// Obtains and renews the certificates of a set of names.
#[derive(Debug)]
pub struct CertManager<S> {
    store: S,
    client: AcmeClient,
    certs: Arc<Certificates>,
    solver: Solver,
    holder: String,
    seed: Option<Seed>,
    lock_ttl: Duration,
}

impl<S: CertStore> CertManager<S> {
    /// A manager that keeps certificates in `store`, orders them with
    /// `client` answering challenges with `solver`, and installs them into
    /// `certs`. `holder` names this instance in the store's locks.
    pub fn new(
        store: S,
        client: AcmeClient,
        certs: Arc<Certificates>,
        solver: Solver,
        holder: impl Into<String>,
    ) -> Self {
        Self {
            store,
            client,
            certs,
            solver,
            holder: holder.into(),
            seed: None,
            lock_ttl: Duration::from_secs(600),
        }
    }

    /// Derives certificate keys from `seed` (one per certificate, by its
    /// first name) instead of making a random one per order.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = Some(seed);
        self
    }

    /// How long a lock lives if its holder dies (default 10 minutes; longer
    /// than an order takes).
    pub fn lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl;
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    fn install(&self, names: &[String], issued: &Issued) {
        for name in names {
            self.certs.insert(name, issued.certified_key.clone());
        }
    }

    async fn stored(&self, id: &str) -> Result<Option<Issued>, Error> {
        match self.store.load(id).await? {
            None => Ok(None),
            Some(stored) => match Issued::from_pem(stored.chain_pem, stored.key_pem) {
                Ok(issued) => Ok(Some(issued)),
                Err(error) => {
                    tracing::warn!(%id, %error, "unusable certificate in the store: ordering a new one");
                    Ok(None)
                }
            },
        }
    }

    async fn due(&self, issued: &Issued, now: SystemTime) -> bool {
        let window = match self.client.renewal_window(issued.leaf()).await {
            Ok(window) => window,
            Err(error) => {
                tracing::debug!(%error, "no renewal information; using a third of the lifetime");
                None
            }
        };
        renewal_due(issued.not_before, issued.not_after, now, window)
    }

    /// Makes sure `names` (the first names the certificate) have a valid
    /// certificate installed at `now`: the stored one if it is not due for
    /// renewal, else a new one, ordered under the store's lock.
    pub async fn ensure(&self, names: &[String], now: SystemTime) -> Result<Renewal, Error> {
        let Some(first) = names.first() else {
            return Err(Error::NoNames);
        };
        let id = cert_id(first)?;
        let current = self.stored(&id).await?;
        if let Some(issued) = &current {
            self.install(names, issued);
            if !self.due(issued, now).await {
                return Ok(Renewal::Fresh {
                    not_after: issued.not_after,
                });
            }
        }
        match self.store.lock(&id, &self.holder, now, self.lock_ttl).await? {
            Lock::Held { holder, .. } => return Ok(Renewal::Locked { holder }),
            Lock::Acquired { .. } => {}
        }
        let result = self.order_locked(&id, names, now).await;
        if let Err(error) = self.store.unlock(&id, &self.holder).await {
            tracing::warn!(%id, %error, "could not release the store lock");
        }
        result
    }

    async fn order_locked(&self, id: &str, names: &[String], now: SystemTime) -> Result<Renewal, Error> {
        // Another instance may have renewed between our look and our lock.
        if let Some(issued) = self.stored(id).await?
            && !self.due(&issued, now).await
        {
            self.install(names, &issued);
            return Ok(Renewal::Fresh {
                not_after: issued.not_after,
            });
        }
        let key = match &self.seed {
            Some(seed) => seed.certificate_key(id)?,
            None => CertKey::generate()?,
        };
        let issued = self.client.issue(names, &key, &self.solver).await?;
        self.store
            .save(
                id,
                &StoredCert {
                    chain_pem: issued.chain_pem.clone(),
                    key_pem: issued.key_pem.clone(),
                },
            )
            .await?;
        self.install(names, &issued);
        tracing::info!(%id, not_after = ?issued.not_after, "certificate issued and installed");
        Ok(Renewal::Issued {
            not_after: issued.not_after,
        })
    }

    /// Runs [`ensure`](Self::ensure) now and then every `every`, for ever
    /// (spawn it; drop it to stop). After an error it tries again after
    /// the server's `Retry-After` if it gave one, else after `every`.
    pub async fn run(&self, names: &[String], every: Duration) {
        loop {
            let wait = match self.ensure(names, SystemTime::now()).await {
                Ok(outcome) => {
                    tracing::debug!(?outcome, "certificate check");
                    every
                }
                Err(error) => {
                    tracing::warn!(%error, "certificate check failed");
                    error
                        .retry_after()
                        .and_then(|at| at.duration_since(SystemTime::now()).ok())
                        .unwrap_or(every)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}
