//! The facts the built-in protocols record on a [`Flow`](crate::Flow).
//!
//! Read them with [`Facts::get`](crate::Facts::get), or the shortcuts on
//! [`Facts`](crate::Facts).

use std::borrow::Cow;
use std::net::SocketAddr;

/// The name of the protocol that made the flow (`tcp`, `unix`, `memory`...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protocol(pub Cow<'static, str>);

/// The names of the layers applied over the flow, innermost first (`["tls"]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layers(pub Vec<Cow<'static, str>>);

/// The peer's socket address (TCP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The peer's Unix socket path, as the caller named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnixPath(pub std::path::PathBuf);

/// The protocol TLS ALPN negotiated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alpn(pub Vec<u8>);

/// The server name sent in TLS SNI (a DNS name, or an IP address as text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerName(pub String);

/// The TLS protocol version negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsVersion(pub rustls::ProtocolVersion);
