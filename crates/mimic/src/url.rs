//! A context from a URL: `scheme://[user@]host[:port][/path]` or `unix:PATH`.

use std::net::Ipv6Addr;
use std::path::PathBuf;

use crate::Context;
use crate::keys::{HOST, PORT, SCHEME, UNIX_PATH};

/// A URL that [`Context::from_url`] cannot read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// No `scheme:` at the start.
    #[error("no scheme (expected scheme://host[:port] or unix:PATH)")]
    MissingScheme,
    /// The scheme has characters RFC 3986 does not allow.
    #[error("invalid scheme {scheme:?}")]
    InvalidScheme {
        /// The scheme as given.
        scheme: String,
    },
    /// No `//` after the scheme.
    #[error("no authority: expected {scheme}://host")]
    MissingAuthority {
        /// The scheme as given.
        scheme: String,
    },
    /// The host is empty.
    #[error("empty host")]
    EmptyHost,
    /// A `[...]` host that is not an IPv6 address.
    #[error("invalid IPv6 address {host:?}")]
    InvalidIpv6 {
        /// The bracketed text.
        host: String,
    },
    /// A port that is not a number from 0 to 65535.
    #[error("invalid port {port:?}")]
    InvalidPort {
        /// The port as given.
        port: String,
    },
    /// A host with characters no host name has.
    #[error("invalid host {host:?}")]
    InvalidHost {
        /// The host as given.
        host: String,
    },
    /// `unix:` with no path.
    #[error("empty Unix socket path")]
    EmptyPath,
}

impl Context {
    /// A context with what a URL says: [`SCHEME`] (lower case), [`HOST`]
    /// (lower case, IPv6 without brackets) and [`PORT`] when given; for
    /// `unix:PATH` or `unix://PATH`, [`UNIX_PATH`]. User information and the
    /// path are not kept (they are the application's business).
    ///
    /// ```
    /// use mimic::{Context, keys::{HOST, PORT, SCHEME}};
    ///
    /// let ctx = Context::from_url("HTTPS://User@[::1]:8443/index.html")?;
    /// assert_eq!(ctx.get(&SCHEME).map(String::as_str), Some("https"));
    /// assert_eq!(ctx.get(&HOST).map(String::as_str), Some("::1"));
    /// assert_eq!(ctx.get(&PORT), Some(&8443));
    /// assert!(Context::from_url("tcp://host:99999").is_err());
    /// # Ok::<(), mimic::UrlError>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Context, UrlError> {
        let (scheme, rest) = url.split_once(':').ok_or(UrlError::MissingScheme)?;
        if scheme.is_empty() {
            return Err(UrlError::MissingScheme);
        }
        let valid = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !valid {
            return Err(UrlError::InvalidScheme {
                scheme: scheme.to_string(),
            });
        }
        let scheme = scheme.to_ascii_lowercase();
        let mut ctx = Context::new();
        if scheme == "unix" {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(UrlError::EmptyPath);
            }
            ctx.insert(&UNIX_PATH, PathBuf::from(path));
            ctx.insert(&SCHEME, scheme);
            return Ok(ctx);
        }
        let Some(rest) = rest.strip_prefix("//") else {
            return Err(UrlError::MissingAuthority { scheme });
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let (v6, after) = bracketed.split_once(']').ok_or_else(|| UrlError::InvalidIpv6 {
                host: host_port.to_string(),
            })?;
            // A zone (`%25eth0`) is not supported by SocketAddr parsing: refuse it clearly.
            v6.parse::<Ipv6Addr>()
                .map_err(|_| UrlError::InvalidIpv6 { host: v6.to_string() })?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| UrlError::InvalidPort { port: p.to_string() })?,
                ),
            };
            (v6.to_ascii_lowercase(), port)
        } else {
            let (host, port) = match host_port.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (host_port, None),
            };
            if host.is_empty() {
                return Err(UrlError::EmptyHost);
            }
            let valid = host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._~%!$&'()*+,;=".contains(c));
            if !valid {
                return Err(UrlError::InvalidHost {
                    host: host.to_string(),
                });
            }
            (host.to_ascii_lowercase(), port)
        };
        if let Some(port) = port {
            let number = if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                port.parse::<u16>().ok()
            };
            let number = number.ok_or_else(|| UrlError::InvalidPort {
                port: port.to_string(),
            })?;
            ctx.insert(&PORT, number);
        }
        ctx.insert(&HOST, host);
        ctx.insert(&SCHEME, scheme);
        Ok(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (Option<String>, Option<String>, Option<u16>) {
        let ctx = Context::from_url(url).unwrap();
        (
            ctx.get(&SCHEME).cloned(),
            ctx.get(&HOST).cloned(),
            ctx.get(&PORT).copied(),
        )
    }

    #[test]
    fn reads_what_users_write() {
        let s = |x: &str| Some(x.to_string());
        assert_eq!(parts("tcp://127.0.0.1:80"), (s("tcp"), s("127.0.0.1"), Some(80)));
        assert_eq!(
            parts("https://Example.COM/a/b?c#d"),
            (s("https"), s("example.com"), None)
        );
        assert_eq!(
            parts("git://u:p@host:9418/x.git"),
            (s("git"), s("host"), Some(9418))
        );
        assert_eq!(parts("tls://[fe80::1]"), (s("tls"), s("fe80::1"), None));
        let ctx = Context::from_url("unix:///run/x.sock").unwrap();
        assert_eq!(ctx.get(&UNIX_PATH), Some(&PathBuf::from("/run/x.sock")));
        let ctx = Context::from_url("unix:rel.sock").unwrap();
        assert_eq!(ctx.get(&UNIX_PATH), Some(&PathBuf::from("rel.sock")));
    }

    #[test]
    fn refuses_what_is_not_a_url() {
        use UrlError::*;
        let err = |u: &str| Context::from_url(u).unwrap_err();
        assert_eq!(err("localhost"), MissingScheme);
        assert_eq!(err(":80"), MissingScheme);
        assert!(matches!(err("1tcp://x"), InvalidScheme { .. }));
        assert!(matches!(err("tcp:x"), MissingAuthority { .. }));
        assert_eq!(err("tcp://"), EmptyHost);
        assert_eq!(err("tcp://:80"), EmptyHost);
        assert!(matches!(err("tcp://[::1"), InvalidIpv6 { .. }));
        assert!(matches!(err("tcp://[nope]:1"), InvalidIpv6 { .. }));
        assert!(matches!(err("tcp://[::1]x"), InvalidPort { .. }));
        assert!(matches!(err("tcp://h:"), InvalidPort { .. }));
        assert!(matches!(err("tcp://h:+1"), InvalidPort { .. }));
        assert!(matches!(err("tcp://h:65536"), InvalidPort { .. }));
        assert!(matches!(err("tcp://h o:1"), InvalidHost { .. }));
        assert_eq!(err("unix:"), EmptyPath);
        assert_eq!(err("unix://"), EmptyPath);
    }
}
