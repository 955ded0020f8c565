//! `--https`: the TLS listener's certificates from ACME (paf::acme),
//! kept on the repository's `certs` branch; port 80 answers HTTP-01
//! challenges and redirects everything else to HTTPS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use paf::acme::dns01::Rfc2136;
use paf::acme::store::{CertStore, cert_id};
use paf::acme::{AccountKey, AcmeBuilder, CertManager, Http01Tokens, Issued, Seed, Solver};
use paf::certs::Certificates;
use rustls::RootCertStore;

use crate::certstore::GitCertStore;

/// How certificates are obtained.
#[derive(Clone, Debug)]
pub struct HttpsConfig {
    /// The name the certificate is for (the `-h` hostname).
    pub hostname: String,
    /// Where the plain-HTTP listener (HTTP-01 and redirects) binds.
    pub http_listen: SocketAddr,
    /// The ACME directory URL.
    pub directory: String,
    /// Roots for the directory's HTTPS instead of the webpki roots.
    pub directory_roots: Option<Arc<RootCertStore>>,
    /// The account's contact (`mailto:` is added).
    pub email: Option<String>,
    /// Derives the account key (same account after a restart).
    pub account_seed: Option<Seed>,
    /// Derives the certificate keys.
    pub cert_seed: Option<Seed>,
    /// DNS-01 by RFC 2136 instead of HTTP-01.
    pub dns: Option<Rfc2136>,
    /// How often the certificate is checked for renewal.
    pub check_every: Duration,
}

/// Obtains (or loads from the `certs` branch) the certificate, then keeps
/// it renewed, for ever. Errors are logged and retried: the server runs
/// meanwhile (TLS handshakes fail until a certificate is installed).
pub(crate) async fn run(
    config: HttpsConfig,
    certs: Arc<Certificates>,
    tokens: Http01Tokens,
    store: GitCertStore,
) {
    // A certificate from an earlier run serves at once, even while the
    // ACME server is unreachable; the manager renews it when due.
    if let Ok(id) = cert_id(&config.hostname)
        && let Ok(Some(stored)) = store.load(&id).await
    {
        match Issued::from_pem(stored.chain_pem, stored.key_pem) {
            Ok(issued) => {
                certs.insert(&config.hostname, issued.certified_key);
                tracing::info!(name = %config.hostname, "certificate loaded from the certs branch");
            }
            Err(error) => tracing::warn!(error = %crate::error_chain(&error), "stored certificate unusable"),
        }
    }
    let mut wait = Duration::from_secs(2);
    let client = loop {
        let key = match &config.account_seed {
            Some(seed) => seed.account_key(),
            None => AccountKey::generate(),
        };
        let key = match key {
            Ok(key) => key,
            Err(error) => {
                tracing::error!(error = %crate::error_chain(&error), "no ACME account key");
                return;
            }
        };
        let mut builder = AcmeBuilder::new(&config.directory, key);
        if let Some(email) = &config.email {
            builder = builder.contact(format!("mailto:{email}"));
        }
        if let Some(roots) = &config.directory_roots {
            builder = builder.roots(roots.clone());
        }
        match builder.connect().await {
            Ok(client) => break client,
            Err(error) => {
                tracing::warn!(directory = %config.directory, error = %crate::error_chain(&error), retry_in = ?wait, "ACME directory unreachable");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(300));
            }
        }
    };
    let (solver, challenge) = match config.dns.clone() {
        Some(dns) => (Solver::Dns01(dns), "dns-01"),
        None => (Solver::Http01(tokens), "http-01"),
    };
    tracing::info!(account = client.account_id(), directory = %config.directory, challenge, "ACME account ready");
    let mut manager = CertManager::new(
        store,
        client,
        certs,
        solver,
        format!("pasteur@{}", config.hostname),
    );
    if let Some(seed) = config.cert_seed.clone() {
        manager = manager.seed(seed);
    }
    manager
        .run(std::slice::from_ref(&config.hostname), config.check_every)
        .await;
}
