//! Server certificates: picked by SNI, replaceable at run time without
//! dropping a connection, and the TLS-ALPN-01 challenge hook.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The ALPN protocol of the ACME TLS-ALPN-01 challenge (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// A certificate and its key could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// The certificate chain is not PEM, or holds no certificate.
    #[error("no certificate in the PEM chain {source_name}")]
    NoCertificate {
        /// Where the chain came from (a path, or `memory`).
        source_name: String,
    },
    /// The PEM could not be read.
    #[error("cannot read PEM from {source_name}")]
    Pem {
        /// Where it came from.
        source_name: String,
        /// Why.
        source: rustls_pki_types::pem::Error,
    },
    /// rustls refused the private key (unsupported type, malformed).
    #[error("unusable private key from {source_name}")]
    Key {
        /// Where it came from.
        source_name: String,
        /// Why.
        source: rustls::Error,
    },
    /// The private key does not belong to the certificate.
    #[error("the private key does not match the certificate ({source_name})")]
    Mismatch {
        /// Where they came from.
        source_name: String,
        /// rustls's verdict.
        source: rustls::Error,
    },
}

/// The crypto provider of the whole workspace: ring.
pub fn provider() -> Arc<CryptoProvider> {
    mimic::tls::provider()
}

/// A certificate chain and private key, from PEM bytes; checks that the key
/// matches the leaf.
pub fn certified_key_from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<CertifiedKey>, CertError> {
    load(chain_pem, key_pem, "memory")
}

/// A certificate chain and private key, from PEM files.
pub fn certified_key_from_files(chain: &Path, key: &Path) -> Result<Arc<CertifiedKey>, CertError> {
    let name = format!("{} + {}", chain.display(), key.display());
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| CertError::Pem {
            source_name: path.display().to_string(),
            source: rustls_pki_types::pem::Error::Io(e),
        })
    };
    load(&read(chain)?, &read(key)?, &name)
}

/// A certificate chain and private key, from DER.
pub fn certified_key_from_der(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<CertifiedKey>, CertError> {
    build(chain, key, "memory")
}

fn load(chain_pem: &[u8], key_pem: &[u8], source_name: &str) -> Result<Arc<CertifiedKey>, CertError> {
    let pem_error = |source| CertError::Pem {
        source_name: source_name.to_string(),
        source,
    };
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(pem_error)?;
    build(chain, key, source_name)
}

fn build(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    source_name: &str,
) -> Result<Arc<CertifiedKey>, CertError> {
    if chain.is_empty() {
        return Err(CertError::NoCertificate {
            source_name: source_name.to_string(),
        });
    }
    let signing_key = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|source| CertError::Key {
            source_name: source_name.to_string(),
            source,
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|source| CertError::Mismatch {
        source_name: source_name.to_string(),
        source,
    })?;
    Ok(Arc::new(certified))
}

#[derive(Clone, Default)]
struct Table {
    /// Exact names, lower case.
    exact: hashbrown::HashMap<String, Arc<CertifiedKey>>,
    /// `*.example.com` is kept under `example.com`.
    wildcard: hashbrown::HashMap<String, Arc<CertifiedKey>>,
    default: Option<Arc<CertifiedKey>>,
}

impl Table {
    fn pick(&self, name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = name else {
            return self.default.clone();
        };
        let lower;
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = name.to_ascii_lowercase();
            lower.as_str()
        } else {
            name
        };
        if let Some(key) = self.exact.get(name) {
            return Some(key.clone());
        }
        if let Some((_, parent)) = name.split_once('.')
            && let Some(key) = self.wildcard.get(parent)
        {
            return Some(key.clone());
        }
        self.default.clone()
    }
}

/// The server's certificates: one per name (exact, or `*.domain` for one
/// label), and a default for clients that send no or an unknown SNI (none:
/// such a handshake fails with an alert).
///
/// Every change is atomic and immediate for new handshakes; connections
/// already established keep their certificate and are never dropped. This
/// is the `ResolvesServerCert` to give rustls, and what ACME renewals and
/// the proxy's reloads write to.
///
/// ```
/// use paf::certs::{Certificates, certified_key_from_pem};
///
/// let ca = testkit::tls::TestCa::new("doc CA").unwrap();
/// let leaf = ca.issue(&["a.example.test"]).unwrap();
/// let key = certified_key_from_pem(leaf.chain_pem().as_bytes(), leaf.key_pem().as_bytes())?;
/// let certs = Certificates::new();
/// certs.insert("A.example.test", key.clone());
/// certs.insert("*.wild.test", key);
/// assert!(certs.get("a.example.test").is_some());
/// assert!(certs.get("x.wild.test").is_some());
/// assert!(certs.get("x.y.wild.test").is_none());
/// assert_eq!(certs.names(), ["*.wild.test", "a.example.test"]);
/// # Ok::<(), paf::certs::CertError>(())
/// ```
#[derive(Default)]
pub struct Certificates {
    table: ArcSwap<Table>,
    challenges: ArcSwap<hashbrown::HashMap<String, Arc<CertifiedKey>>>,
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates")
            .field("names", &self.names())
            .field("default", &self.table.load().default.is_some())
            .finish()
    }
}

impl Certificates {
    /// No certificate yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn update(&self, f: impl Fn(&mut Table)) {
        self.table.rcu(|table| {
            let mut table = Table::clone(table);
            f(&mut table);
            table
        });
    }

    /// Serves `key` for `name` (`example.com`, or `*.example.com`).
    pub fn insert(&self, name: &str, key: Arc<CertifiedKey>) {
        let name = name.to_ascii_lowercase();
        self.update(|t| match name.strip_prefix("*.") {
            Some(parent) => {
                t.wildcard.insert(parent.to_string(), key.clone());
            }
            None => {
                t.exact.insert(name.clone(), key.clone());
            }
        });
    }

    /// Stops serving `name`; says whether it was served.
    pub fn remove(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        let had = self.get_exact(&name);
        self.update(|t| match name.strip_prefix("*.") {
            Some(parent) => {
                t.wildcard.remove(parent);
            }
            None => {
                t.exact.remove(&name);
            }
        });
        had
    }

    fn get_exact(&self, name: &str) -> bool {
        let table = self.table.load();
        match name.strip_prefix("*.") {
            Some(parent) => table.wildcard.contains_key(parent),
            None => table.exact.contains_key(name),
        }
    }

    /// The certificate for clients with no or an unknown SNI (`None`: they
    /// get a TLS alert).
    pub fn set_default(&self, key: Option<Arc<CertifiedKey>>) {
        self.update(|t| t.default = key.clone());
    }

    /// Replaces every certificate at once (what a reload does).
    pub fn replace_all(&self, entries: Vec<(String, Arc<CertifiedKey>)>, default: Option<Arc<CertifiedKey>>) {
        let mut table = Table {
            default,
            ..Table::default()
        };
        for (name, key) in entries {
            let name = name.to_ascii_lowercase();
            match name.strip_prefix("*.") {
                Some(parent) => table.wildcard.insert(parent.to_string(), key),
                None => table.exact.insert(name, key),
            };
        }
        self.table.store(Arc::new(table));
    }

    /// The certificate a client sending SNI `name` gets.
    pub fn get(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        self.table.load().pick(Some(name))
    }

    /// The names served, sorted (wildcards as `*.domain`).
    pub fn names(&self) -> Vec<String> {
        let table = self.table.load();
        let mut names: Vec<String> = table
            .exact
            .keys()
            .cloned()
            .chain(table.wildcard.keys().map(|p| format!("*.{p}")))
            .collect();
        names.sort();
        names
    }

    /// Answers TLS-ALPN-01 handshakes (ALPN `acme-tls/1`) for `name` with
    /// the validation certificate `key`, until removed.
    pub fn insert_alpn_challenge(&self, name: &str, key: Arc<CertifiedKey>) {
        let name = name.to_ascii_lowercase();
        self.challenges.rcu(|map| {
            let mut map = hashbrown::HashMap::clone(map);
            map.insert(name.clone(), key.clone());
            map
        });
    }

    /// Stops answering the TLS-ALPN-01 challenge for `name`.
    pub fn remove_alpn_challenge(&self, name: &str) {
        let name = name.to_ascii_lowercase();
        self.challenges.rcu(|map| {
            let mut map = hashbrown::HashMap::clone(map);
            map.remove(&name);
            map
        });
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let acme = hello
            .alpn()
            .is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN));
        if acme {
            // Only the validation certificate answers acme-tls/1 (RFC 8737 section 3).
            let name = hello.server_name()?.to_ascii_lowercase();
            return self.challenges.load().get(&name).cloned();
        }
        self.table.load().pick(hello.server_name())
    }
}

/// A rustls server configuration (ring, TLS 1.2 and 1.3) that picks its
/// certificate from `certs` and offers `h2` and `http/1.1` (and
/// `acme-tls/1`, which only a challenge certificate answers).
pub fn server_config(certs: Arc<Certificates>) -> Result<rustls::ServerConfig, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(certs);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
    Ok(config)
}
