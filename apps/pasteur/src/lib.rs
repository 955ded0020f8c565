//! pasteur: a paste site whose pastes are commits in a Git repository.
//!
//! The app is a thin layer over the workspace's crates:
//!
//! ```text
//!  browser / curl ──▶ paf::Server (HTTP/1.1 + HTTP/2, limits, TLS by ACME)
//!                        │
//!                        ▼ web: routes, forms (multer), pages (minijinja),
//!                          highlighting (syntect), types (conan), rate limits
//!                        │
//!                        ▼ store: gitkv on a bare repository, one commit per paste
//!                        │       (pastes/a/b/<id> + <id>.json), removals in later commits
//!                        ├── sweeper: expiry, with an injectable clock
//!                        └── sync: gitkv pull/push through smart (git://, ssh://, http(s)://),
//!                                  back-off while the remote is down
//! ```
//!
//! `main.rs` parses the flags into a [`Config`] and calls [`start`]; tests
//! call [`start`] with a [`ManualClock`].

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod app;
mod certstore;
mod clock;
#[doc(hidden)]
pub mod fuzzing;
mod highlight;
mod https;
mod paste;
mod ratelimit;
mod secret;
mod store;
mod sweeper;
mod sync;
mod web;

pub use app::{Config, REPOSITORY, Running, SECRET, StartError, start};
pub use certstore::GitCertStore;
pub use clock::{Clock, ManualClock, SystemClock};
pub use https::HttpsConfig;
pub use paste::{Expiry, MAX_ID_LEN, MIN_ID_LEN, Meta};
pub use secret::{Secret, SecretError};
pub use store::StoreError;
pub use sync::{SyncState, SyncTiming};

/// An error and its sources, `: `-separated (for logs and pages).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
