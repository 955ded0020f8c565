//! The expiry sweeper: removes expired pastes in one commit per sweep.
//! Expired pastes are already hidden by the web handlers (they check the
//! clock on every read); the sweep makes their removal part of history.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::paste::unix;
use crate::store::{Pastes, StoreError};

/// Removes every paste expired at the clock's current time; returns how
/// many were removed.
pub(crate) async fn sweep_once(pastes: &Pastes, clock: &dyn Clock) -> Result<usize, StoreError> {
    let now = unix(clock.now());
    let current_bucket = now / 3600;
    let mut due = Vec::new();
    for (bucket, id) in pastes.expiring()? {
        if bucket > current_bucket || !crate::paste::is_valid_id(&id) {
            continue;
        }
        match pastes.meta(&id)? {
            // An index entry without its paste (deleted or burnt): drop it.
            None => due.push((id, Some(bucket * 3600))),
            Some(meta) => {
                if let Some(at) = meta.expires
                    && at <= now
                {
                    due.push((id, Some(at)));
                }
            }
        }
    }
    if due.is_empty() {
        return Ok(0);
    }
    let count = due.len();
    let removed = pastes
        .remove(
            &due,
            format!("expire {count} paste{}", if count == 1 { "" } else { "s" }),
        )
        .await?;
    tracing::info!(removed, "expired pastes removed");
    Ok(removed)
}

/// Sweeps now and then every `every`, for ever (spawn it).
pub(crate) async fn run(pastes: Pastes, clock: Arc<dyn Clock>, every: Duration) {
    loop {
        if let Err(error) = sweep_once(&pastes, clock.as_ref()).await {
            tracing::warn!(error = %crate::error_chain(&error), "expiry sweep failed");
        }
        tokio::time::sleep(every).await;
    }
}
