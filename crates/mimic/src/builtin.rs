//! The built-in protocols and derivations that [`Resolver::new`](crate::Resolver::new) registers.

use std::net::{IpAddr, SocketAddr};

use crate::derive::Derive;
use crate::keys::{ADDRS, ALPN, HOST, PORT, SCHEME, TLS, TLS_CONFIG, TLS_ROOTS, TLS_SERVER_NAME};
use crate::resolver::Builder;
use crate::{happy_eyeballs, memory, tcp, tls};

/// Registers the built-ins on `builder`.
pub(crate) fn register(builder: Builder) -> Builder {
    let builder = builder
        .transport(10, memory::Memory)
        .transport(30, tcp::Tcp)
        .layer(50, tls::Tls)
        .derive(
            Derive::new(PORT)
                .req(SCHEME)
                .compute(|i| Ok(default_port(i.req(&SCHEME)?))),
        )
        .derive(
            Derive::new(ADDRS)
                .req(HOST)
                .req(PORT)
                .compute_async(|i| async move {
                    let host = i.req(&HOST)?;
                    let port = *i.req(&PORT)?;
                    Ok(Some(lookup(host, port).await?))
                }),
        )
        .derive(
            Derive::new(TLS_SERVER_NAME)
                .req(HOST)
                .compute(|i| Ok(Some(i.req(&HOST)?.clone()))),
        )
        .derive(
            Derive::new(TLS_CONFIG)
                .req(SCHEME)
                .opt(TLS_ROOTS)
                .opt(ALPN)
                .compute(|i| {
                    if !is_tls_scheme(i.req(&SCHEME)?) {
                        return Ok(None);
                    }
                    let roots = i.get(&TLS_ROOTS).cloned().unwrap_or_else(tls::webpki_roots);
                    let alpn = i.get(&ALPN).cloned().unwrap_or_default();
                    Ok(Some(tls::client_config(roots, alpn)?))
                }),
        )
        .derive(
            Derive::new(TLS)
                .req(TLS_CONFIG)
                .req(TLS_SERVER_NAME)
                .opt(ALPN)
                .opt(SCHEME)
                .compute(|i| {
                    // A configuration kept in a base context (for session
                    // resumption) does not turn an http:// request into TLS.
                    if i.get(&SCHEME).is_some_and(|s| is_clear_scheme(s)) {
                        return Ok(None);
                    }
                    let config = i.req(&TLS_CONFIG)?;
                    let name = i.req(&TLS_SERVER_NAME)?;
                    Ok(Some(tls::Endpoint::new(config.clone(), name, i.get(&ALPN))?))
                }),
        );
    #[cfg(unix)]
    let builder = builder.transport(20, crate::unix::Unix);
    builder
}

/// The port a scheme uses when the URL names none.
///
/// ```
/// assert_eq!(mimic::builtin::default_port("https"), Some(443));
/// assert_eq!(mimic::builtin::default_port("git"), Some(9418));
/// assert_eq!(mimic::builtin::default_port("gopher+unknown"), None);
/// ```
pub fn default_port(scheme: &str) -> Option<u16> {
    Some(match scheme {
        "http" | "ws" | "h2c" => 80,
        "https" | "wss" | "h2" => 443,
        "git" => 9418,
        "ssh" | "git+ssh" | "ssh+git" => 22,
        "smtp" => 25,
        "smtps" => 465,
        "submission" => 587,
        "imap" => 143,
        "imaps" => 993,
        "dns" => 53,
        "dot" => 853,
        _ => return None,
    })
}

/// Whether the scheme means clear text: no TLS even when the context holds
/// a TLS configuration.
pub fn is_clear_scheme(scheme: &str) -> bool {
    matches!(
        scheme,
        "http"
            | "ws"
            | "h2c"
            | "git"
            | "ssh"
            | "git+ssh"
            | "ssh+git"
            | "tcp"
            | "unix"
            | "smtp"
            | "imap"
            | "dns"
    )
}

/// Whether a derived context should go through TLS for this scheme.
pub fn is_tls_scheme(scheme: &str) -> bool {
    matches!(scheme, "https" | "wss" | "tls" | "h2" | "smtps" | "imaps" | "dot")
}

/// The addresses of `host`: an IP literal as is, a name through the
/// system's resolver (getaddrinfo, on tokio's blocking pool), ordered for
/// Happy Eyeballs.
async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, LookupError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| LookupError::Failed {
            host: host.to_string(),
            source,
        })?
        .collect();
    if addrs.is_empty() {
        return Err(LookupError::NoAddress {
            host: host.to_string(),
        });
    }
    Ok(happy_eyeballs::interleave(addrs))
}

/// The derivation of [`ADDRS`] could not find an address.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The system's resolver failed (unknown name, no network...).
    #[error("could not look up {host}")]
    Failed {
        /// The name looked up.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The name exists but has no address.
    #[error("{host} has no address")]
    NoAddress {
        /// The name looked up.
        host: String,
    },
}
