//! Pushing pastes to the remote: a background loop around gitkv's
//! `sync` (pull + merge + push). Pastes are committed locally first, so a
//! remote that is down never loses or refuses one: the loop retries with
//! exponential back-off and pushes everything when the remote is back
//! (gitkv keeps what the remote has in a tracking ref, so this survives a
//! restart too).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use gitkv::Policy;
use gitkv::sync::Remote;
use serde::Serialize;
use tokio::sync::Notify;

use crate::paste::unix;

/// When the loop runs.
#[derive(Clone, Copy, Debug)]
pub struct SyncTiming {
    /// Between syncs when nothing happens (pulls other instances' pastes).
    pub interval: Duration,
    /// The first retry after a failure; doubled each time.
    pub min_backoff: Duration,
    /// The longest wait between retries.
    pub max_backoff: Duration,
}

impl Default for SyncTiming {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(120),
        }
    }
}

/// What the page says about the remote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    /// No sync has finished yet.
    Starting,
    /// The last sync succeeded.
    Synced {
        /// When, seconds since the epoch.
        at: u64,
    },
    /// The last sync failed; pastes wait locally.
    Failing {
        /// Why (the error chain).
        error: String,
        /// Since when syncs fail, seconds since the epoch.
        since: u64,
        /// Seconds until the next try.
        retry_in: u64,
    },
}

/// The sync loop's shared state.
#[derive(Debug)]
pub(crate) struct Syncer {
    store: gitkv::Store,
    remote: Remote,
    timing: SyncTiming,
    state: ArcSwap<SyncState>,
    wake: Notify,
}

impl Syncer {
    /// A syncer of `store` with `remote`.
    pub(crate) fn new(store: gitkv::Store, remote: Remote, timing: SyncTiming) -> Self {
        Self {
            store,
            remote,
            timing,
            state: ArcSwap::from_pointee(SyncState::Starting),
            wake: Notify::new(),
        }
    }

    /// The remote's URL as shown (no password: smart's Display hides it).
    pub(crate) fn remote_url(&self) -> String {
        self.remote.url().to_string()
    }

    /// The last outcome.
    pub(crate) fn state(&self) -> SyncState {
        (**self.state.load()).clone()
    }

    /// Whether local commits wait for a push.
    pub(crate) fn unpushed(&self) -> bool {
        self.store.unpushed(&self.remote).unwrap_or(true)
    }

    /// Asks for a sync soon (a paste was just committed).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Syncs for ever (spawn it).
    pub(crate) async fn run(self: Arc<Self>) {
        let mut backoff = self.timing.min_backoff;
        let mut failing_since = None;
        loop {
            match self.store.sync(&self.remote, Policy::Ours).await {
                Ok((pull, push)) => {
                    if let Some(merge) = &pull.merge
                        && !merge.conflicts.is_empty()
                    {
                        tracing::warn!(
                            conflicts = merge.conflicts.len(),
                            "sync conflicts resolved with ours"
                        );
                    }
                    tracing::debug!(?push, "synced");
                    if failing_since.take().is_some() {
                        tracing::info!(remote = %self.remote.url(), "remote reachable again, pastes pushed");
                    }
                    self.state.store(Arc::new(SyncState::Synced {
                        at: unix(SystemTime::now()),
                    }));
                    backoff = self.timing.min_backoff;
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(self.timing.interval) => {}
                    }
                }
                Err(error) => {
                    let since = *failing_since.get_or_insert_with(|| unix(SystemTime::now()));
                    let error = crate::error_chain(&error);
                    tracing::warn!(remote = %self.remote.url(), %error, retry_in = ?backoff, "sync failed; pastes stay local until it works");
                    self.state.store(Arc::new(SyncState::Failing {
                        error,
                        since,
                        retry_in: backoff.as_secs(),
                    }));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.timing.max_backoff);
                }
            }
        }
    }
}
