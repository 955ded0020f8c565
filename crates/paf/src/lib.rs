//! paf: an HTTP/1.1 + HTTP/2 server chosen by TLS ALPN (and h2c), a client
//! over mimic flows, and Let's Encrypt (ACME) certificates.
//!
//! - [`certs`]: the server's certificates, picked by SNI and replaceable at
//!   run time without dropping a connection; the TLS-ALPN-01 hook.
//! - [`acme`]: Let's Encrypt (ACME) certificates: HTTP-01, TLS-ALPN-01, DNS-01, store and renewal.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod acme;
pub mod certs;
