//! The `tls` layer: rustls 0.23 (ring) over any flow.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, LazyLock};

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::ServerName;
use tokio_rustls::TlsConnector;

use crate::facts::{Alpn, ServerName as ServerNameFact, TlsVersion};
use crate::keys::TLS;
use crate::{BoxError, Flow, Key, Layer};

/// What the `tls` layer needs: a client configuration and the server name.
#[derive(Clone)]
pub struct Endpoint {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("server_name", &self.server_name)
            .field("alpn", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

/// The TLS endpoint or configuration could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server name is neither a DNS name nor an IP address.
    #[error("invalid TLS server name {name:?}")]
    InvalidServerName {
        /// The name given.
        name: String,
    },
    /// rustls refused the configuration.
    #[error("invalid TLS configuration")]
    Config(#[from] rustls::Error),
}

impl Endpoint {
    /// An endpoint for `server_name` with `config`; when `alpn` is given and
    /// differs from the configuration's, a copy of the configuration offers it.
    pub fn new(
        config: Arc<ClientConfig>,
        server_name: &str,
        alpn: Option<&Vec<Vec<u8>>>,
    ) -> Result<Self, TlsError> {
        let server_name =
            ServerName::try_from(server_name.to_string()).map_err(|_| TlsError::InvalidServerName {
                name: server_name.to_string(),
            })?;
        let config = match alpn {
            Some(alpn) if *alpn != config.alpn_protocols => {
                let mut copy = (*config).clone();
                copy.alpn_protocols = alpn.clone();
                Arc::new(copy)
            }
            _ => config,
        };
        Ok(Self { config, server_name })
    }

    /// The client configuration.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }

    /// The server name sent in SNI and checked against the certificate.
    pub fn server_name(&self) -> &ServerName<'static> {
        &self.server_name
    }
}

/// The crypto provider of the whole workspace: ring.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static PROVIDER: LazyLock<Arc<rustls::crypto::CryptoProvider>> =
        LazyLock::new(|| Arc::new(rustls::crypto::ring::default_provider()));
    PROVIDER.clone()
}

/// The Mozilla roots of the `webpki-roots` crate, parsed once per process.
pub fn webpki_roots() -> Arc<RootCertStore> {
    static ROOTS: LazyLock<Arc<RootCertStore>> = LazyLock::new(|| {
        Arc::new(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
    });
    ROOTS.clone()
}

/// A client configuration (ring, TLS 1.2 and 1.3) trusting `roots` and offering `alpn`.
pub fn client_config(roots: Arc<RootCertStore>, alpn: Vec<Vec<u8>>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn;
    Ok(Arc::new(config))
}

/// Runs a TLS client handshake over the flow below. Records [`Alpn`] (when
/// one was negotiated), [`ServerName`](crate::facts::ServerName) and
/// [`TlsVersion`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Tls;

impl Layer for Tls {
    type Endpoint = Endpoint;

    fn name(&self) -> &str {
        "tls"
    }
    fn key(&self) -> Key<Endpoint> {
        TLS
    }
    fn wrap(&self, flow: Flow, endpoint: &Endpoint) -> impl Future<Output = Result<Flow, BoxError>> + Send {
        let endpoint = endpoint.clone();
        async move { Ok(handshake(flow, &endpoint).await?) }
    }
}

/// The handshake of the `tls` layer, for use outside a resolve.
pub async fn handshake(flow: Flow, endpoint: &Endpoint) -> std::io::Result<Flow> {
    let mut facts = flow.facts().clone();
    let stream = TlsConnector::from(endpoint.config.clone())
        .connect(endpoint.server_name.clone(), flow)
        .await?;
    let (_, conn) = stream.get_ref();
    if let Some(alpn) = conn.alpn_protocol() {
        facts.insert(Alpn(alpn.to_vec()));
    }
    if let Some(version) = conn.protocol_version() {
        facts.insert(TlsVersion(version));
    }
    facts.insert(ServerNameFact(endpoint.server_name.to_str().into_owned()));
    Ok(Flow::with_facts(stream, facts))
}
