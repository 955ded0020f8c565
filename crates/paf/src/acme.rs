//! Let's Encrypt (ACME, RFC 8555) certificates, on
//! [instant-acme](https://docs.rs/instant-acme).
//!
//! ```text
//!  Seed / PEM ──▶ AccountKey, CertKey                 (keys)
//!  AcmeBuilder(directory, key).connect() ──▶ AcmeClient ──issue(names, key, Solver)──▶ Issued
//!      HTTP over mimic (TLS roots from the context)        │
//!  Solver::Http01(tokens)  ◀── Http01Service in front of your port-80 service
//!  Solver::TlsAlpn01(certs) ◀── certs::server_config on :443 answers acme-tls/1
//!  Solver::Dns01(Rfc2136)  ──▶ TSIG-signed RFC 2136 update to your primary DNS
//!  CertManager(store, client, certs, solver).ensure(names, now) ──▶ obtain / renew, install (hot swap)
//! ```
//!
//! - **Keys** ([`keys`]): account and certificate keys derived from a seed
//!   (HKDF-SHA256, see the module) so a restarted app keeps its account,
//!   loaded from PEM (ECDSA P-256/P-384, RSA), or random.
//! - **Client** ([`AcmeClient`]): any directory (Let's Encrypt production
//!   or staging, pebble); its HTTP runs on hyper-util over a
//!   [`mimic`] connector, so custom roots come from the context and there
//!   is one TLS stack and one crypto provider (ring). instant-acme retries
//!   `badNonce` rejections itself (three attempts per request, with the
//!   fresh nonce of the rejection); paf sends a request that still fails
//!   that way up to three more times (a rejected nonce means the server did
//!   not process the request, so this is safe for every step).
//! - **Challenges**: HTTP-01 ([`Http01Tokens`], [`Http01Service`]),
//!   TLS-ALPN-01 ([`tls_alpn01`], through
//!   [`Certificates::insert_alpn_challenge`](crate::certs::Certificates::insert_alpn_challenge)),
//!   DNS-01 ([`dns01`], RFC 2136 + TSIG on hickory-client 0.25 with ring;
//!   why hickory: see the module). DNS-01 publishes on the primary and
//!   waits until the primary answers the value; it does not wait for
//!   secondaries.
//! - **Errors** ([`Error`]): the server's problem document as data
//!   ([`Problem`]: type, detail, status, subproblems) and, for rate limits,
//!   when to retry ([`Error::retry_after`]).
//! - **Store and renewal** ([`store`], [`CertManager`]): certificates kept
//!   in a [`CertStore`] (files now) whose lock stops two instances from
//!   ordering the same certificate; renewal when a third of the lifetime is
//!   left or when the server's renewal information (RFC 9773) says so
//!   (from the start of its suggested window, not a random point in it);
//!   time is a parameter (`now`), so the policy is tested without waiting.
//!
//! # Example
//!
//! An app that serves `example.com` keeps its certificate from Let's
//! Encrypt's staging directory, answering HTTP-01 on port 80 in front of
//! its own service:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use paf::acme::{AcmeBuilder, CertManager, FileStore, Http01Tokens, LETS_ENCRYPT_STAGING, Seed, Solver};
//! use paf::certs::Certificates;
//!
//! // Same seed, same account and certificate keys after a restart.
//! let seed = Seed::new(std::fs::read("acme-seed")?)?;
//! let client = AcmeBuilder::new(LETS_ENCRYPT_STAGING, seed.account_key()?)
//!     .contact("mailto:admin@example.com")
//!     .connect()
//!     .await?;
//! let tokens = Http01Tokens::new();
//! let certs = Arc::new(Certificates::new());
//! // Serve `tokens.layer(your_service)` on port 80 and
//! // `paf::certs::server_config(certs.clone())` on port 443, then:
//! let manager = CertManager::new(FileStore::new("certs"), client, certs, Solver::Http01(tokens), "host-1")
//!     .seed(seed);
//! let names = vec!["example.com".to_string(), "www.example.com".to_string()];
//! manager.run(&names, Duration::from_secs(12 * 3600)).await; // for ever: spawn it
//! # Ok(()) }
//! ```
//!
//! Cancel safety: dropping an [`AcmeClient::issue`] future leaves the
//! challenge it was answering in place (tokens, validation certificates,
//! TXT records); they are harmless and overwritten by the next order.

pub mod client;
pub mod dns01;
mod error;
mod http;
pub mod http01;
pub mod keys;
pub mod manager;
pub mod store;
pub mod tls_alpn01;

pub use client::{AcmeBuilder, AcmeClient, Issued, LETS_ENCRYPT, LETS_ENCRYPT_STAGING, Solver};
pub use error::{Error, Problem, RATE_LIMITED, Step, Subproblem};
pub use http01::{Http01Service, Http01Tokens};
pub use keys::{AccountKey, CertKey, KeyType, Seed};
pub use manager::{CertManager, Renewal, renewal_due};
pub use store::{CertStore, FileStore, StoreError};
