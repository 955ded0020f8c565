//! paf: an HTTP/1.1 + HTTP/2 server chosen by TLS ALPN (and h2c), a client
//! over mimic flows, and Let's Encrypt (ACME) certificates.
//!
//! A port of the OCaml [paf] library of MirageOS, on hyper 1.x, hyper-util,
//! tokio and rustls 0.23 (ring).
//!
//! - [`Server`]: any hyper `Service` (or an async fn through
//!   [`service_fn`]) on a TCP listener. Over TLS, ALPN picks the protocol:
//!   `h2` -> HTTP/2, `http/1.1` or none -> HTTP/1.1 (strictly: an HTTP/2
//!   preface after `http/1.1` is refused). In clear text, HTTP/1.1 and h2c
//!   with prior knowledge (detected by the preface). [`Limits`] with
//!   defaults fit for a public server (slowloris, idle, header and body
//!   sizes, connections, HTTP/2 streams, TLS handshake), graceful shutdown
//!   through a [`Handle`], and an access log on the `tracing` target
//!   `paf::access` (method, path, status, bytes, duration, protocol).
//! - [`certs`]: the server's certificates, picked by SNI and replaceable at
//!   run time without dropping a connection; the TLS-ALPN-01 hook.
//! - [`acme`]: Let's Encrypt (ACME) certificates: HTTP-01, TLS-ALPN-01, DNS-01, store and renewal.
//! - [`redirect::ToHttps`]: port 80's redirect to HTTPS.
//! - [`Client`]: HTTP/1.1 and HTTP/2 (by ALPN) over flows from a mimic
//!   resolver, with pooled connections, connect and request timeouts and
//!   streaming bodies; what smart's HTTP transport and the proxy use.
//!
//! Requests reach the service as `Request<`[`Body`]`>`: a streaming body
//! cut at the maximum size (a service that returns [`BodyError::TooLarge`]
//! gets a 413 sent for it), with [`ConnInfo`] (peer, TLS, SNI, ALPN) in the
//! extensions.
//!
//! Cargo features, all on by default: `server`, `client` (alone: no
//! server code, what a Git client needs) and `acme` (implies both).
//!
//! [paf]: https://github.com/dinosaure/paf-le-chien

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

#[cfg(feature = "acme")]
pub mod acme;
#[cfg(feature = "server")]
mod body;
#[cfg(feature = "server")]
pub mod certs;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "server")]
pub mod redirect;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "server")]
mod service;
#[cfg(feature = "server")]
mod sweeper;

#[cfg(feature = "server")]
pub use body::{Body, BodyError};
#[cfg(feature = "client")]
pub use client::{Client, ClientBuilder, ClientError, RequestBody};
#[cfg(feature = "server")]
pub use hyper::service::service_fn;
#[cfg(feature = "server")]
pub use server::{Builder, Handle, Limits, Server};
#[cfg(feature = "server")]
pub use service::{ConnInfo, ResponseBody};

/// Errors of services and bodies: anything.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
