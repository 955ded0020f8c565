//! mimic: code that needs "a connection" should not know how it is made.
//!
//! The caller fills a [`Context`] with whatever it knows (a host name, a
//! port, a TLS configuration, a socket path, an SSH key...) and
//! [`Resolver::resolve`] returns one [`Flow`] from the protocol that can use
//! it. A port of the OCaml [mimic] library of MirageOS, with typed errors
//! that say what each candidate tried and why it failed, Happy Eyeballs, and
//! layers.
//!
//! ```text
//!  Context { scheme, host, port, alpn, ... }          Resolver
//!        │                                  ┌──────────────────────────────┐
//!        │  derivations (lazy, once each):  │ derive  port  <- scheme       │
//!        │  host+port -> addrs, ...         │ derive  addrs <- host, port   │
//!        ▼                                  │ transports: memory 10, unix 20│
//!  transports in priority order ───────────▶│             tcp 30, yours...  │
//!   (targets of one raced, RFC 8305)        │ layers:     tls 50, yours...  │
//!        ▼                                  └──────────────────────────────┘
//!  layers whose endpoint is known (TLS, SSH...) ──▶ Flow + Facts
//! ```
//!
//! - **Keys and context.** A [`Key<T>`] is a name and a type; a [`Context`]
//!   maps keys to values, is cheap to clone, and shows only key names in
//!   `Debug`. The built-in keys are in [`keys`].
//! - **Derivations.** A key can be computed from others ([`Derive`], with
//!   `req`, `opt` and `dft` inputs, like mimic's `fold`). They run lazily,
//!   only when a protocol needs their key, and at most once per resolve.
//!   Built in: the default port of a scheme, host + port -> addresses (an IP
//!   literal needs no lookup; names go through the system resolver and come
//!   back ordered as RFC 8305 says), the TLS configuration and server name.
//! - **Transports** make a flow: [`tcp`], [`unix`], [`memory`], or yours
//!   ([`Transport`], [`transport_fn`], [`transport_each`]). They are tried in
//!   priority order; the targets of one (the addresses of a name) are raced
//!   the Happy Eyeballs way: staggered by [`keys::HAPPY_EYEBALLS_DELAY`], the
//!   first success wins and the losers are dropped.
//! - **Layers** wrap the flow of whichever transport won: [`tls`] (rustls
//!   with ring, webpki roots or the roots of the context, SNI and ALPN from
//!   the context) or yours ([`Layer`], [`layer_fn`]); `smart` adds SSH this
//!   way, with no change here. A failing layer is never skipped: no
//!   downgrade from TLS to clear text.
//! - **Errors.** When nothing connects, [`Error`] lists every candidate that
//!   was tried and why it failed, or, when no protocol could even be tried,
//!   which keys each one lacked.
//! - **hyper.** [`connector::Connector`] is a `tower::Service<Uri>`, so a
//!   hyper-util client connects through a resolver.
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use mimic::{Context, Resolver};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("tcp://{}", listener.local_addr()?);
//! tokio::spawn(async move {
//!     let (mut stream, _) = listener.accept().await?;
//!     stream.write_all(b"hello").await
//! });
//!
//! let resolver = Resolver::new();
//! let mut flow = resolver.resolve(&Context::from_url(&url)?).await?;
//! assert_eq!(flow.facts().protocol(), Some("tcp"));
//! let mut hello = String::new();
//! flow.read_to_string(&mut hello).await?;
//! assert_eq!(hello, "hello");
//!
//! // Nothing listens on port 1: the error names the candidate and the reason.
//! let err = resolver.resolve(&Context::from_url("tcp://127.0.0.1:1")?).await.unwrap_err();
//! assert!(err.to_string().starts_with("could not connect: 1 attempt failed: tcp 127.0.0.1:1: "));
//! # Ok(()) }
//! ```
//!
//! # Cost
//!
//! Measured by `scripts/bench-mimic` (same run, loopback listener, one core
//! of a 2-core VM, median of 21 rounds of 2000 connections):
//!
//! | path | per connection | ratio |
//! |---|---|---|
//! | `TcpStream::connect` + `set_nodelay` | 37.44 us | 1 |
//! | `Resolver::resolve` (context reused) | 38.57 us | 1.030 (+1.13 us) |
//! | `Context::from_url` + `resolve` | 39.44 us | 1.053 |
//!
//! 92% of the time is the kernel's; what mimic adds is a few small
//! allocations (the flow's box and facts, the derived addresses).
//!
//! # Cancel safety
//!
//! [`Resolver::resolve`] spawns nothing: dropping its future drops every
//! derivation and connection attempt under way.
//!
//! [mimic]: https://github.com/dinosaure/mimic

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod builtin;
pub mod connector;
mod context;
mod derive;
mod error;
pub mod facts;
mod flow;
mod happy_eyeballs;
mod key;
pub mod keys;
pub mod memory;
mod protocol;
mod resolver;
pub mod tcp;
pub mod tls;
#[cfg(unix)]
pub mod unix;
mod url;

pub use context::Context;
pub use derive::{Derivation, Derive, Inputs, UndeclaredInput};
pub use error::{Attempt, Error, Missing, NoTarget, SharedError, Stage, TimedOut};
pub use flow::{Facts, Flow, Io};
pub use happy_eyeballs::interleave;
pub use key::Key;
pub use protocol::{
    Layer, LayerFn, Transport, TransportEach, TransportFn, Whole, layer_fn, transport_each, transport_fn,
};
pub use resolver::{Builder, DEFAULT_HAPPY_EYEBALLS_DELAY, Resolver};
pub use url::UrlError;

#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// The error type protocols and derivations return: anything.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
