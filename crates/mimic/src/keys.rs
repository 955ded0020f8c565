//! The keys the built-in protocols and derivations use.
//!
//! | key | type | given by | used by |
//! |---|---|---|---|
//! | [`SCHEME`] | `String` | caller, [`Context::from_url`](crate::Context::from_url) | default port, TLS |
//! | [`HOST`] | `String` | caller | DNS, TLS server name |
//! | [`PORT`] | `u16` | caller, or derived from the scheme | DNS |
//! | [`ADDRS`] | `Vec<SocketAddr>` | derived from host + port (or given) | `tcp` |
//! | [`UNIX_PATH`] | `PathBuf` | caller | `unix` |
//! | [`MEMORY`] | [`memory::Connector`](crate::memory::Connector) | caller | `memory` |
//! | [`TLS_CONFIG`] | `Arc<rustls::ClientConfig>` | caller, or derived for a TLS scheme | TLS |
//! | [`TLS_ROOTS`] | `Arc<rustls::RootCertStore>` | caller (webpki roots otherwise) | TLS |
//! | [`TLS_SERVER_NAME`] | `String` | caller, or derived from the host | TLS |
//! | [`ALPN`] | `Vec<Vec<u8>>` | caller | TLS |
//! | [`TLS`] | [`tls::Endpoint`](crate::tls::Endpoint) | derived from the three above | `tls` layer |
//! | [`CONNECT_TIMEOUT`] | `Duration` | caller | the whole resolve |
//! | [`HAPPY_EYEBALLS_DELAY`] | `Duration` | caller (250 ms otherwise) | racing targets |

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::Key;

/// The URL scheme, lower case (`https`, `git`, `ssh`, `tls`, `unix`...).
pub const SCHEME: Key<String> = Key::new("scheme");
/// A host name or an IP address literal (without brackets).
pub const HOST: Key<String> = Key::new("host");
/// The port; derived from [`SCHEME`] when not given (see [`default_port`](crate::builtin::default_port)).
pub const PORT: Key<u16> = Key::new("port");
/// The socket addresses to race, ordered as RFC 8305 says; derived from
/// [`HOST`] and [`PORT`] (an IP literal needs no lookup).
pub const ADDRS: Key<Vec<SocketAddr>> = Key::new("addrs");
/// A Unix domain socket path.
pub const UNIX_PATH: Key<PathBuf> = Key::new("unix-path");
/// The connecting end of an in-memory listener.
pub const MEMORY: Key<crate::memory::Connector> = Key::new("memory");
/// The TLS client configuration. Give one (and reuse it across resolves) to
/// keep TLS session resumption; otherwise one is derived for the schemes
/// `https`, `wss`, `tls` and `h2`, from [`TLS_ROOTS`] and [`ALPN`].
pub const TLS_CONFIG: Key<Arc<rustls::ClientConfig>> = Key::new("tls-config");
/// The roots a derived TLS configuration trusts (the webpki roots otherwise).
pub const TLS_ROOTS: Key<Arc<rustls::RootCertStore>> = Key::new("tls-roots");
/// The name sent in SNI and checked against the certificate (a DNS name or
/// an IP address); derived from [`HOST`].
pub const TLS_SERVER_NAME: Key<String> = Key::new("tls-server-name");
/// The ALPN protocols to offer, most preferred first (`b"h2"`, `b"http/1.1"`).
pub const ALPN: Key<Vec<Vec<u8>>> = Key::new("alpn");
/// What the `tls` layer needs; derived from [`TLS_CONFIG`],
/// [`TLS_SERVER_NAME`] and [`ALPN`], unless [`SCHEME`] is a clear-text one
/// (`http`, `git`, `tcp`... see [`is_clear_scheme`](crate::builtin::is_clear_scheme)).
pub const TLS: Key<crate::tls::Endpoint> = Key::new("tls");
/// Bounds the whole resolve: derivations, connects, handshakes.
pub const CONNECT_TIMEOUT: Key<Duration> = Key::new("connect-timeout");
/// The delay between two staggered attempts of one transport (RFC 8305's
/// "connection attempt delay"; 250 ms when not given).
pub const HAPPY_EYEBALLS_DELAY: Key<Duration> = Key::new("happy-eyeballs-delay");
