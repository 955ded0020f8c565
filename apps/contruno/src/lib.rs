//! contruno: a TLS termination proxy whose routes and certificates live
//! in a Git repository, and `contruno-add`, which registers a domain by
//! pushing to that repository and asks the running proxy to reload.
//!
//! A port of the OCaml [contruno] of MirageOS. How a request goes:
//!
//! ```text
//!  client ──TLS──▶ paf::Server (certificate by SNI: paf::certs; unknown name: TLS alert)
//!                     │ HTTP/1.1 or HTTP/2 by ALPN
//!                     ▼
//!                  proxy: Host -> route (421 if none), backend in turn (a dead one skipped),
//!                     │   Host kept, X-Forwarded-*/Forwarded set, hop-by-hop headers dropped
//!                     ▼
//!                  paf::Client ──▶ backend (HTTP/1.1, or HTTP/2 by ALPN over TLS)
//!
//!  repository (gitkv, pulled from the remote through smart) ──reload──▶ routes + certificates,
//!       swapped whole: open connections are never closed by a reload
//! ```
//!
//! - [`routes`]: the repository's layout (`domains/<domain>/route.json`,
//!   `fullchain.pem`, `privkey.pem`, `contruno/password`) and its checks.
//! - [`password`]: the reload password's hash (PBKDF2, constant-time check).
//! - [`app`]: the listeners (TLS, port 80's redirect, admin) and reloads
//!   (SIGHUP, periodic fetch, `POST /.well-known/contruno/reload`).
//! - [`acme`]: certificates by ACME (HTTP-01) for domains without one,
//!   committed and pushed; one order per certificate across instances.
//! - [`add`]: what `contruno-add` does to the repository.
//! - [`remote`]: the remote flags both binaries take (`-r`, `--ssh-*`).
//!
//! [contruno]: https://github.com/dinosaure/contruno

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod acme;
pub mod add;
pub mod app;
mod metrics;
pub mod password;
mod proxy;
pub mod remote;
pub mod routes;

pub use app::{
    Config, Controller, RELOAD_PATH, REPOSITORY, ReloadError, Reloaded, Running, StartError, start,
};

/// An error and its causes on one line.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
