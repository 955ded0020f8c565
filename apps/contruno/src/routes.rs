//! The repository's layout and what it describes: per domain, where its
//! requests go and its certificate.
//!
//! ```text
//! domains/<domain>/route.json     {"backends": ["http://127.0.0.1:8080", ...], "alpn": ["http/1.1"]}
//! domains/<domain>/fullchain.pem  the certificate chain, leaf first (absent until one exists)
//! domains/<domain>/privkey.pem    its private key (PKCS#8, SEC1 or PKCS#1 PEM)
//! contruno/password               the reload password's hash (see `password`), never the password
//! ```
//!
//! Everything is plain files on one branch: `git log` is the audit trail
//! of who routed what where, `git revert` undoes it.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::Uri;
use http::uri::Scheme;
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};

/// Where the password hash lives.
pub const PASSWORD_KEY: &str = "contruno/password";

/// The directory of a domain's files.
pub fn domain_dir(domain: &str) -> String {
    format!("domains/{domain}")
}

/// `domains/<domain>/route.json`.
pub fn route_key(domain: &str) -> String {
    format!("domains/{domain}/route.json")
}

/// `domains/<domain>/fullchain.pem`.
pub fn chain_key(domain: &str) -> String {
    format!("domains/{domain}/fullchain.pem")
}

/// `domains/<domain>/privkey.pem`.
pub fn key_key(domain: &str) -> String {
    format!("domains/{domain}/privkey.pem")
}

/// A route or a domain that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// Not a DNS name contruno can serve.
    #[error("{domain:?} is not a domain name ({reason})")]
    Domain {
        /// What was given.
        domain: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A backend that is neither `host:port` nor an http(s) URL.
    #[error("backend {backend:?} of {domain}: {reason}")]
    Backend {
        /// The domain.
        domain: String,
        /// What was given.
        backend: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `route.json` does not parse.
    #[error("{key}: {source}")]
    Json {
        /// The file.
        key: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// An ALPN protocol contruno cannot speak to a backend.
    #[error("{domain}: unknown backend protocol {alpn:?} (http/1.1 or h2)")]
    Alpn {
        /// The domain.
        domain: String,
        /// What was given.
        alpn: String,
    },
    /// The certificate or its key does not load, or they do not match.
    #[error("{domain}: certificate: {source}")]
    Certificate {
        /// The domain.
        domain: String,
        /// Why.
        #[source]
        source: paf::certs::CertError,
    },
    /// A certificate without its key, or a key without its certificate.
    #[error("{domain}: {present} without {missing}")]
    HalfCertificate {
        /// The domain.
        domain: String,
        /// The file there.
        present: &'static str,
        /// The file missing.
        missing: &'static str,
    },
}

/// Checks a domain name: lowercase letters, digits and `-` in labels of
/// 1-63 characters, at most 253 in all, no leading or trailing `-`. A
/// leading `*.` (wildcard) is not served: a route names one host.
pub fn check_domain(domain: &str) -> Result<(), RouteError> {
    let bad = |reason| {
        Err(RouteError::Domain {
            domain: domain.to_string(),
            reason,
        })
    };
    if domain.is_empty() || domain.len() > 253 {
        return bad("empty or longer than 253 characters");
    }
    for label in domain.split('.') {
        if label.is_empty() || label.len() > 63 {
            return bad("a label is empty or longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return bad("only a-z, 0-9, '-' and '.' (lowercase)");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label starts or ends with '-'");
        }
    }
    Ok(())
}

/// What a backend speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Protocol {
    /// HTTP/1.1 (the default).
    #[default]
    Http1,
    /// HTTP/2 (over TLS, by ALPN).
    Http2,
}

/// `route.json` as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteFile {
    /// `host:port`, `http://host:port` or `https://host:port`.
    pub backends: Vec<String>,
    /// What the backends speak: `http/1.1` (default) or `h2`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
    /// Seconds a backend has to answer (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
}

/// A route, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Where requests go, in round-robin order: scheme and authority.
    pub backends: Vec<Uri>,
    /// What they speak.
    pub protocol: Protocol,
    /// How long a backend has to answer.
    pub timeout: std::time::Duration,
}

/// Parses a backend as given to `contruno-add -i`: `host:port` (HTTP) or
/// an `http://`/`https://` URL without a path.
pub fn parse_backend(domain: &str, text: &str) -> Result<Uri, RouteError> {
    let bad = |reason| RouteError::Backend {
        domain: domain.to_string(),
        backend: text.to_string(),
        reason,
    };
    let full = if text.contains("://") {
        text.to_string()
    } else {
        format!("http://{text}")
    };
    let uri: Uri = full.parse().map_err(|_| bad("not host:port or a URL"))?;
    match uri.scheme() {
        Some(s) if *s == Scheme::HTTP || *s == Scheme::HTTPS => {}
        _ => return Err(bad("the scheme must be http or https")),
    }
    let Some(authority) = uri.authority() else {
        return Err(bad("no host"));
    };
    if authority.host().is_empty() {
        return Err(bad("no host"));
    }
    if authority.as_str().contains('@') {
        return Err(bad("no user info"));
    }
    if uri
        .path_and_query()
        .is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty())
    {
        return Err(bad("a backend has no path"));
    }
    Uri::builder()
        .scheme(uri.scheme().cloned().unwrap_or(Scheme::HTTP))
        .authority(authority.clone())
        .path_and_query("/")
        .build()
        .map_err(|_| bad("not a URL"))
}

impl Route {
    /// Checks a stored route of `domain`.
    pub fn from_file(domain: &str, file: &RouteFile) -> Result<Self, RouteError> {
        if file.backends.is_empty() {
            return Err(RouteError::Backend {
                domain: domain.to_string(),
                backend: String::new(),
                reason: "a route needs at least one backend",
            });
        }
        let backends = file
            .backends
            .iter()
            .map(|b| parse_backend(domain, b))
            .collect::<Result<Vec<_>, _>>()?;
        let mut protocol = Protocol::Http1;
        for alpn in &file.alpn {
            match alpn.as_str() {
                "http/1.1" => {}
                "h2" => protocol = Protocol::Http2,
                other => {
                    return Err(RouteError::Alpn {
                        domain: domain.to_string(),
                        alpn: other.to_string(),
                    });
                }
            }
        }
        Ok(Route {
            backends,
            protocol,
            timeout: std::time::Duration::from_secs(file.timeout_secs.unwrap_or(30).max(1)),
        })
    }

    /// Parses `route.json` of `domain`.
    pub fn parse(domain: &str, json: &[u8]) -> Result<Self, RouteError> {
        let file: RouteFile = serde_json::from_slice(json).map_err(|source| RouteError::Json {
            key: route_key(domain),
            source,
        })?;
        Self::from_file(domain, &file)
    }
}

/// One domain as the repository describes it.
#[derive(Clone, Debug)]
pub struct Domain {
    /// Where its requests go.
    pub route: Route,
    /// Its certificate, when it has one.
    pub cert: Option<Arc<CertifiedKey>>,
}

/// Every domain of a snapshot of the repository; a domain whose files do
/// not hold together is left out and reported, the others are served.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The usable domains.
    pub domains: BTreeMap<String, Domain>,
    /// The others, with why.
    pub errors: Vec<RouteError>,
}

/// The names under `domains/` in `snapshot`, sorted (checked or not).
pub fn domain_names(snapshot: &gitkv::Snapshot) -> Result<Vec<String>, gitkv::Error> {
    let mut names: Vec<String> = snapshot
        .list("domains/")?
        .into_iter()
        .filter_map(|key| {
            key.strip_prefix("domains/")?
                .split('/')
                .next()
                .map(str::to_string)
        })
        .collect();
    names.dedup();
    Ok(names)
}

/// Reads every domain of `snapshot`.
pub fn load(snapshot: &gitkv::Snapshot) -> Result<Loaded, gitkv::Error> {
    let mut loaded = Loaded::default();
    for name in domain_names(snapshot)? {
        match load_domain(snapshot, &name) {
            Ok(Some(domain)) => {
                loaded.domains.insert(name, domain);
            }
            Ok(None) => {}
            Err(LoadError::Route(e)) => loaded.errors.push(e),
            Err(LoadError::Git(e)) => return Err(e),
        }
    }
    Ok(loaded)
}

enum LoadError {
    Route(RouteError),
    Git(gitkv::Error),
}

impl From<RouteError> for LoadError {
    fn from(e: RouteError) -> Self {
        LoadError::Route(e)
    }
}

impl From<gitkv::Error> for LoadError {
    fn from(e: gitkv::Error) -> Self {
        LoadError::Git(e)
    }
}

fn load_domain(snapshot: &gitkv::Snapshot, name: &str) -> Result<Option<Domain>, LoadError> {
    check_domain(name)?;
    let Some(json) = snapshot.get(&route_key(name))? else {
        // Files of a domain being removed, or a certificate kept without a route.
        return Ok(None);
    };
    let route = Route::parse(name, &json)?;
    let chain = snapshot.get(&chain_key(name))?;
    let key = snapshot.get(&key_key(name))?;
    let cert = match (chain, key) {
        (Some(chain), Some(key)) => Some(paf::certs::certified_key_from_pem(&chain, &key).map_err(
            |source| RouteError::Certificate {
                domain: name.to_string(),
                source,
            },
        )?),
        (None, None) => None,
        (Some(_), None) => {
            return Err(RouteError::HalfCertificate {
                domain: name.to_string(),
                present: "fullchain.pem",
                missing: "privkey.pem",
            }
            .into());
        }
        (None, Some(_)) => {
            return Err(RouteError::HalfCertificate {
                domain: name.to_string(),
                present: "privkey.pem",
                missing: "fullchain.pem",
            }
            .into());
        }
    };
    Ok(Some(Domain { route, cert }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        for ok in ["a.test", "paste.example.com", "x", "a-b.c0"] {
            check_domain(ok).unwrap();
        }
        for bad in [
            "", "A.test", "a..b", ".a", "a.", "-a.b", "a-.b", "*.a.b", "a/b", "..", "a b",
        ] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
        assert!(check_domain(&"a".repeat(64)).is_err());
    }

    #[test]
    fn backends() {
        assert_eq!(
            parse_backend("d", "127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            parse_backend("d", "https://b.test:8443").unwrap(),
            "https://b.test:8443/"
        );
        for bad in ["ftp://x:1", "http://u@x:1", "http://x:1/path", "", "http://"] {
            assert!(parse_backend("d", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn routes() {
        let r = Route::parse(
            "d",
            br#"{"backends": ["127.0.0.1:1", "127.0.0.1:2"], "alpn": ["h2"]}"#,
        )
        .unwrap();
        assert_eq!(r.backends.len(), 2);
        assert_eq!(r.protocol, Protocol::Http2);
        assert!(matches!(Route::parse("d", b"{"), Err(RouteError::Json { .. })));
        assert!(matches!(
            Route::parse("d", br#"{"backends": []}"#),
            Err(RouteError::Backend { .. })
        ));
        assert!(matches!(
            Route::parse("d", br#"{"backends": ["a:1"], "alpn": ["spdy"]}"#),
            Err(RouteError::Alpn { .. })
        ));
    }
}
