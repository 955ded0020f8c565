//! What the ACME tests share: pebble with our challenge listeners, an ACME
//! client trusting pebble, chain verification against pebble's root, and
//! a TLS handshake against a `Certificates`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use paf::acme::{AccountKey, AcmeBuilder, AcmeClient, Http01Tokens, Issued};
use paf::certs::Certificates;
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use testkit::pebble::{Pebble, PebbleOptions};
use tokio::net::TcpListener;

pub(crate) type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// pebble plus the listeners it validates against: HTTP-01 on `http`, TLS-ALPN-01 on `tls`.
pub(crate) struct Env {
    pub(crate) pebble: Pebble,
    pub(crate) http: Option<TcpListener>,
    pub(crate) tls: Option<TcpListener>,
}

/// Starts pebble (None: not installed, test skips) with our challenge
/// listeners already bound, so their ports are ours before pebble knows them.
pub(crate) async fn pebble(
    configure: impl FnOnce(&mut PebbleOptions),
) -> Result<Option<Env>, Box<dyn std::error::Error + Send + Sync>> {
    let http = TcpListener::bind("127.0.0.1:0").await?;
    let tls = TcpListener::bind("127.0.0.1:0").await?;
    let mut options = PebbleOptions::new(http.local_addr()?.port(), tls.local_addr()?.port());
    configure(&mut options);
    let pebble = tokio::task::spawn_blocking(move || Pebble::start(&options)).await??;
    Ok(pebble.map(|pebble| Env {
        pebble,
        http: Some(http),
        tls: Some(tls),
    }))
}

impl Env {
    pub(crate) fn builder(&self, key: AccountKey) -> AcmeBuilder {
        let roots = self
            .pebble
            .api_ca()
            .root_store()
            .expect("the test CA makes a root store");
        AcmeBuilder::new(self.pebble.directory_url(), key)
            .roots(Arc::new(roots))
            .validation_timeout(Duration::from_secs(20))
    }

    pub(crate) async fn client(&self, key: AccountKey) -> Result<AcmeClient, paf::acme::Error> {
        self.builder(key).connect().await
    }

    /// Serves the site behind the HTTP-01 responder on the HTTP-01 port.
    pub(crate) fn serve_http01(&mut self, tokens: &Http01Tokens) {
        let listener = self.http.take().expect("served once");
        let site = service_fn(|_req: http::Request<hyper::body::Incoming>| async {
            Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"the site"))))
        });
        let service = tokens.layer(site);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let service = service.clone();
                tokio::spawn(async move {
                    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let _ = builder.serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
    }

    /// Serves TLS with `certs` on the TLS-ALPN-01 port (handshakes only:
    /// pebble's validation needs nothing more).
    pub(crate) fn serve_tls(&mut self, certs: Arc<Certificates>) {
        let listener = self.tls.take().expect("served once");
        let config = paf::certs::server_config(certs).expect("ring offers TLS 1.2 and 1.3");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = acceptor.accept(stream).await {
                        use tokio::io::AsyncWriteExt;
                        let _ = tls.shutdown().await;
                    }
                });
            }
        });
    }
}

/// Checks that `issued` chains to pebble's issuing root for `name`.
pub(crate) fn verify_chain(pebble: &Pebble, issued: &Issued, name: &str) -> TestResult {
    let root = pebble.issuing_root()?;
    verify_against(root, &issued.certified_key.cert, name)
}

pub(crate) fn verify_against(
    root: CertificateDer<'static>,
    chain: &[CertificateDer<'static>],
    name: &str,
) -> TestResult {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root)?;
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), paf::certs::provider())
            .build()?;
    let (leaf, intermediates) = chain.split_first().ok_or("empty chain")?;
    verifier.verify_server_cert(
        leaf,
        intermediates,
        &ServerName::try_from(name.to_string())?,
        &[],
        UnixTime::now(),
    )?;
    Ok(())
}

/// A TLS handshake with `certs` (served on a fresh listener) as `name`,
/// trusting only pebble's issuing root: what a browser of the site does.
pub(crate) async fn handshake(pebble: &Pebble, certs: Arc<Certificates>, name: &str) -> TestResult {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = paf::certs::server_config(certs)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        let mut tls = acceptor.accept(stream).await?;
        use tokio::io::AsyncWriteExt;
        tls.write_all(b"hello").await?;
        tls.shutdown().await
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pebble.issuing_root()?)?;
    let config = rustls::ClientConfig::builder_with_provider(paf::certs::provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let mut tls = connector
        .connect(ServerName::try_from(name.to_string())?, stream)
        .await?;
    let mut hello = Vec::new();
    use tokio::io::AsyncReadExt;
    tls.read_to_end(&mut hello).await?;
    assert_eq!(hello, b"hello");
    server.await??;
    Ok(())
}

/// Skips (returns) when the peer is missing; `CI=true` makes `start` fail instead.
macro_rules! require {
    ($env:expr) => {
        match $env {
            Some(env) => env,
            None => return Ok(()),
        }
    };
}
pub(crate) use require;

/// Whether a handshake offering only `acme-tls/1` for `name` succeeds
/// against `certs` (the certificate is not checked: only whether the
/// server has a validation certificate to answer with).
pub(crate) async fn alpn_challenge_answered(
    certs: Arc<Certificates>,
    name: &str,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    #[derive(Debug)]
    struct AnyCert;
    impl ServerCertVerifier for AnyCert {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn verify_tls13_signature(
            &self,
            _: &[u8],
            _: &CertificateDer<'_>,
            _: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            paf::certs::provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(paf::certs::server_config(certs)?));
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await?;
        Ok::<_, std::io::Error>(acceptor.accept(stream).await.is_ok())
    });
    let mut config = rustls::ClientConfig::builder_with_provider(paf::certs::provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert))
        .with_no_client_auth();
    config.alpn_protocols = vec![paf::certs::ACME_TLS_ALPN.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let client = connector
        .connect(ServerName::try_from(name.to_string())?, stream)
        .await
        .is_ok();
    let server = server.await??;
    Ok(client && server)
}
