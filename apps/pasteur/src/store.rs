//! Pastes in a gitkv store: one commit per paste (content + metadata +
//! expiry index entry), removals (burn, delete, expiry) in later commits.
//!
//! Writes block until fsync, so they run on tokio's blocking pool; reads
//! come from gitkv's in-memory tree plus one blob read (microseconds), so
//! they run in place.

use std::sync::Arc;

use gitkv::{Batch, Signature, Store};

use crate::paste::{self, Meta};

/// The store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// gitkv failed.
    #[error("repository")]
    Git(#[from] gitkv::Error),
    /// A paste's metadata is not valid JSON.
    #[error("metadata of paste {id} is unreadable")]
    Meta {
        /// The paste.
        id: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The blocking task running a write was lost.
    #[error("write task failed")]
    Join(#[from] tokio::task::JoinError),
}

/// The pastes of one repository branch.
#[derive(Clone, Debug)]
pub(crate) struct Pastes {
    store: Store,
    author: Arc<Signature>,
}

impl Pastes {
    /// Pastes in `store`; commits are authored by `author`.
    pub(crate) fn new(store: Store, author: Signature) -> Self {
        Self {
            store,
            author: Arc::new(author),
        }
    }

    /// Whether a paste `id` exists.
    pub(crate) fn contains(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.store.contains(&paste::meta_key(id))?)
    }

    /// Waits for the repository's pack merges under way (before exiting).
    pub(crate) async fn settle(&self) {
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.wait_for_merges()).await;
    }

    /// Stores a new paste in one durable commit.
    pub(crate) async fn create(&self, id: &str, meta: &Meta, content: Vec<u8>) -> Result<(), StoreError> {
        let json = serde_json::to_vec(meta).map_err(|source| StoreError::Meta {
            id: id.to_string(),
            source,
        })?;
        let mut batch = Batch::new(format!("paste {id}"))
            .author((*self.author).clone())
            .set(paste::content_key(id), content)
            .set(paste::meta_key(id), json);
        if let Some(at) = meta.expires {
            batch = batch.set(paste::expiry_key(id, at), id.as_bytes().to_vec());
        }
        self.write(batch).await
    }

    /// The metadata of `id`.
    pub(crate) fn meta(&self, id: &str) -> Result<Option<Meta>, StoreError> {
        let Some(bytes) = self.store.get(&paste::meta_key(id))? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Meta {
                id: id.to_string(),
                source,
            })
    }

    /// The metadata and content of `id`.
    pub(crate) fn get(&self, id: &str) -> Result<Option<(Meta, Vec<u8>)>, StoreError> {
        let snapshot = self.store.snapshot();
        let Some(meta) = snapshot.get(&paste::meta_key(id))? else {
            return Ok(None);
        };
        let meta: Meta = serde_json::from_slice(&meta).map_err(|source| StoreError::Meta {
            id: id.to_string(),
            source,
        })?;
        let Some(content) = snapshot.get(&paste::content_key(id))? else {
            return Ok(None);
        };
        Ok(Some((meta, content)))
    }

    /// Removes the pastes `ids` (with their index entries) in one commit
    /// whose message is `message`. Returns how many existed.
    pub(crate) async fn remove(
        &self,
        ids: &[(String, Option<u64>)],
        message: String,
    ) -> Result<usize, StoreError> {
        let mut batch = Batch::new(message).author((*self.author).clone());
        let mut removed = 0;
        for (id, expires) in ids {
            if self.store.contains(&paste::meta_key(id))? {
                removed += 1;
                batch = batch.remove(paste::content_key(id)).remove(paste::meta_key(id));
            }
            if let Some(at) = expires {
                let key = paste::expiry_key(id, *at);
                if self.store.contains(&key)? {
                    batch = batch.remove(key);
                }
            }
        }
        if batch.is_empty() {
            return Ok(0);
        }
        self.write(batch).await?;
        Ok(removed)
    }

    /// The expiry index: `(hour bucket, id)` of every paste that expires.
    pub(crate) fn expiring(&self) -> Result<Vec<(u64, String)>, StoreError> {
        let keys = self.store.list("expires/")?;
        Ok(keys
            .iter()
            .filter_map(|key| {
                let rest = key.strip_prefix("expires/")?;
                let (bucket, id) = rest.split_once('/')?;
                Some((bucket.parse().ok()?, id.to_string()))
            })
            .collect())
    }

    async fn write(&self, batch: Batch) -> Result<(), StoreError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.commit(batch)).await??;
        Ok(())
    }
}
