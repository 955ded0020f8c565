//! The ACME flow on instant-acme: account, order, challenges, finalize with
//! a CSR (rcgen), download of the chain.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewOrder, OrderStatus, RetryPolicy,
};
use rustls::RootCertStore;
use rustls::sign::CertifiedKey;
use rustls_pki_types::CertificateDer;

use super::dns01::{Rfc2136, record_name};
use super::error::{Error, Problem, Step};
use super::http::{MimicHttp, RetryAfter};
use super::http01::Http01Tokens;
use super::keys::{AccountKey, CertKey};
use crate::certs::Certificates;

/// The ACME problem type of a rejected nonce (RFC 8555 section 6.5).
const BAD_NONCE: &str = "urn:ietf:params:acme:error:badNonce";

/// How many more times a request rejected for a bad nonce is sent again,
/// on top of instant-acme's own three attempts.
const NONCE_RETRIES: u32 = 3;

fn is_bad_nonce(error: &instant_acme::Error) -> bool {
    matches!(error, instant_acme::Error::Api(problem) if problem.r#type.as_deref() == Some(BAD_NONCE))
}

/// Evaluates `$request` (an `.await`ed instant-acme call) again while the
/// server rejects its nonce, at most [`NONCE_RETRIES`] more times. Safe for
/// every ACME request: a server that rejects a nonce has not processed the
/// request (RFC 8555 section 6.5).
macro_rules! nonce_retry {
    ($request:expr) => {{
        let mut retries = 0;
        loop {
            match $request {
                Err(e) if retries < NONCE_RETRIES && is_bad_nonce(&e) => {
                    retries += 1;
                    tracing::debug!(retries, "badNonce: sending again");
                }
                other => break other,
            }
        }
    }};
}

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// Let's Encrypt's staging directory (untrusted certificates, generous limits).
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// How challenges are answered.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Solver {
    /// HTTP-01: tokens served by an [`Http01Service`](super::Http01Service)
    /// sharing this map, on port 80 of every name.
    Http01(Http01Tokens),
    /// TLS-ALPN-01: validation certificates put into these certificates,
    /// served (`acme-tls/1`) by the TLS listener on port 443.
    TlsAlpn01(Arc<Certificates>),
    /// DNS-01: TXT records published by RFC 2136 update (the only way to
    /// get a wildcard).
    Dns01(Rfc2136),
}

impl Solver {
    fn challenge_type(&self) -> ChallengeType {
        match self {
            Solver::Http01(_) => ChallengeType::Http01,
            Solver::TlsAlpn01(_) => ChallengeType::TlsAlpn01,
            Solver::Dns01(_) => ChallengeType::Dns01,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Solver::Http01(_) => "http-01",
            Solver::TlsAlpn01(_) => "tls-alpn-01",
            Solver::Dns01(_) => "dns-01",
        }
    }
}

/// What a challenge put in place, to take away afterwards.
enum Provisioned {
    Token(String),
    Alpn(String),
    Txt { name: String, value: String },
}

/// Setting up an [`AcmeClient`]: the directory and the account key are
/// required; the rest has defaults.
#[derive(Debug)]
pub struct AcmeBuilder {
    directory_url: String,
    key: AccountKey,
    contacts: Vec<String>,
    roots: Option<Arc<RootCertStore>>,
    resolver: Option<mimic::Resolver>,
    request_timeout: Duration,
    validation_timeout: Duration,
}

impl AcmeBuilder {
    /// An account with `key` on the ACME server at `directory_url`
    /// ([`LETS_ENCRYPT`], [`LETS_ENCRYPT_STAGING`], or any, e.g. pebble's).
    pub fn new(directory_url: impl Into<String>, key: AccountKey) -> Self {
        Self {
            directory_url: directory_url.into(),
            key,
            contacts: Vec::new(),
            roots: None,
            resolver: None,
            request_timeout: Duration::from_secs(30),
            validation_timeout: Duration::from_secs(60),
        }
    }

    /// Adds a contact (`mailto:admin@example.com`) to the account.
    pub fn contact(mut self, contact: impl Into<String>) -> Self {
        self.contacts.push(contact.into());
        self
    }

    /// Trusts these roots (only) for the ACME server's HTTPS (default:
    /// mimic's, the webpki roots).
    pub fn roots(mut self, roots: Arc<RootCertStore>) -> Self {
        self.roots = Some(roots);
        self
    }

    /// Connects through this mimic resolver (default: `Resolver::new()`).
    pub fn resolver(mut self, resolver: mimic::Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// The timeout of each HTTP request to the ACME server (default 30 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long to wait for the server to validate an order or issue its
    /// certificate (default 60 s).
    pub fn validation_timeout(mut self, timeout: Duration) -> Self {
        self.validation_timeout = timeout;
        self
    }

    /// Fetches the directory and finds the account of the key, creating it
    /// (terms of service agreed) if the server does not know it yet.
    pub async fn connect(self) -> Result<AcmeClient, Error> {
        let mut base = mimic::Context::new().with(&mimic::keys::ALPN, vec![b"http/1.1".to_vec()]);
        if let Some(roots) = self.roots {
            base.insert(&mimic::keys::TLS_ROOTS, roots);
        }
        let resolver = self.resolver.unwrap_or_default();
        let retry_after = RetryAfter::default();
        let connector = mimic::connector::Connector::new(resolver, base);
        let (account, _credentials) = nonce_retry!({
            let http = MimicHttp::new(connector.clone(), retry_after.clone(), self.request_timeout);
            let der = rustls_pki_types::PrivateKeyDer::Pkcs8(self.key.pkcs8_der().clone_key());
            Account::builder_with_http(Box::new(http))
                .create_from_key((self.key.acme_key()?, der), self.directory_url.clone())
                .await
        })
        .map_err(|e| Error::acme(Step::Account, e, retry_after.take()))?;
        if !self.contacts.is_empty() {
            let contacts: Vec<&str> = self.contacts.iter().map(String::as_str).collect();
            nonce_retry!(account.update_contacts(&contacts).await)
                .map_err(|e| Error::acme(Step::Account, e, retry_after.take()))?;
        }
        Ok(AcmeClient {
            account,
            retry_after,
            validation_timeout: self.validation_timeout,
        })
    }
}

/// A certificate just issued, with its key.
#[derive(Clone)]
pub struct Issued {
    /// The chain, leaf first, PEM (what `fullchain.pem` holds).
    pub chain_pem: String,
    /// The certificate's private key, PKCS#8 PEM.
    pub key_pem: String,
    /// The leaf's `notBefore`.
    pub not_before: SystemTime,
    /// The leaf's `notAfter`.
    pub not_after: SystemTime,
    /// Ready for [`Certificates::insert`].
    pub certified_key: Arc<CertifiedKey>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl Issued {
    /// From a PEM chain and key (as kept in a store).
    pub fn from_pem(chain_pem: String, key_pem: String) -> Result<Self, Error> {
        let certified_key = crate::certs::certified_key_from_pem(chain_pem.as_bytes(), key_pem.as_bytes())?;
        let (not_before, not_after) = validity(&certified_key.cert[0])?;
        Ok(Self {
            chain_pem,
            key_pem,
            not_before,
            not_after,
            certified_key,
        })
    }

    /// The leaf certificate, DER.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.certified_key.cert[0]
    }
}

/// The validity period of a certificate.
pub(crate) fn validity(cert: &CertificateDer<'_>) -> Result<(SystemTime, SystemTime), Error> {
    let (_, parsed) =
        x509_parser::parse_x509_certificate(cert.as_ref()).map_err(|e| Error::Parse(e.to_string()))?;
    let to_system = |t: x509_parser::time::ASN1Time| SystemTime::from(t.to_datetime());
    Ok((
        to_system(parsed.validity().not_before),
        to_system(parsed.validity().not_after),
    ))
}

/// An ACME account, ready to get certificates.
#[derive(Clone)]
pub struct AcmeClient {
    account: Account,
    retry_after: RetryAfter,
    validation_timeout: Duration,
}

impl std::fmt::Debug for AcmeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcmeClient")
            .field("account", &self.account.id())
            .finish_non_exhaustive()
    }
}

impl AcmeClient {
    /// The account's URL (its id at the server): the same for the same key.
    pub fn account_id(&self) -> &str {
        self.account.id()
    }

    fn err(&self, step: Step) -> impl Fn(instant_acme::Error) -> Error + '_ {
        move |e| Error::acme(step, e, self.retry_after.take())
    }

    fn retries(&self) -> RetryPolicy {
        RetryPolicy::new()
            .initial_delay(Duration::from_millis(100))
            .backoff(1.5)
            .timeout(self.validation_timeout)
    }

    /// Gets a certificate for `names` (DNS names; `*.example.com` only with
    /// DNS-01) with `key`, answering the challenges with `solver`. What the
    /// solver put in place is removed afterwards, whatever the outcome.
    pub async fn issue(&self, names: &[String], key: &CertKey, solver: &Solver) -> Result<Issued, Error> {
        if names.is_empty() {
            return Err(Error::NoNames);
        }
        let identifiers: Vec<Identifier> = names.iter().map(|n| Identifier::Dns(n.clone())).collect();
        let new_order = NewOrder::new(&identifiers);
        let mut order =
            nonce_retry!(self.account.new_order(&new_order).await).map_err(self.err(Step::NewOrder))?;
        tracing::debug!(
            order = order.url(),
            ?names,
            challenge = solver.name(),
            "ACME order"
        );

        let mut provisioned = Vec::new();
        let mut result = self.answer(&mut order, solver, &mut provisioned).await;
        if result.is_ok() {
            result = self.wait_ready(&mut order).await;
        }
        cleanup(solver, provisioned).await;
        result?;

        let key_pair = key.key_pair()?;
        let mut params = rcgen::CertificateParams::new(names.to_vec())?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        let csr = params.serialize_request(&key_pair)?;
        nonce_retry!(order.finalize_csr(csr.der()).await).map_err(self.err(Step::Finalize))?;
        let chain_pem =
            nonce_retry!(order.poll_certificate(&self.retries()).await).map_err(self.err(Step::Download))?;
        // Parses the chain and checks it matches the key before anyone serves it.
        Issued::from_pem(chain_pem, key.to_pem())
    }

    async fn answer(
        &self,
        order: &mut instant_acme::Order,
        solver: &Solver,
        provisioned: &mut Vec<Provisioned>,
    ) -> Result<(), Error> {
        // Fetch every authorization first: a stream that failed on one has
        // moved past it, a new stream fetches only those not fetched yet.
        nonce_retry!({
            let mut authorizations = order.authorizations();
            let mut fetched = Ok(());
            while let Some(authorization) = authorizations.next().await {
                if let Err(e) = authorization {
                    fetched = Err(e);
                    break;
                }
            }
            fetched
        })
        .map_err(self.err(Step::Authorization))?;
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let mut authorization = authorization.map_err(self.err(Step::Authorization))?;
            match authorization.status {
                AuthorizationStatus::Valid => continue,
                AuthorizationStatus::Pending => {}
                other => {
                    return Err(Error::BadState {
                        step: Step::Authorization,
                        state: format!("{other:?}"),
                    });
                }
            }
            let identifier = authorization.identifier().to_string();
            let mut challenge =
                authorization
                    .challenge(solver.challenge_type())
                    .ok_or_else(|| Error::NoChallenge {
                        identifier: identifier.clone(),
                        challenge: solver.name(),
                    })?;
            let key_authorization = challenge.key_authorization();
            match solver {
                Solver::Http01(tokens) => {
                    tokens.insert(&challenge.token, key_authorization.as_str());
                    provisioned.push(Provisioned::Token(challenge.token.clone()));
                }
                Solver::TlsAlpn01(certs) => {
                    let validation =
                        super::tls_alpn01::validation_key(&identifier, key_authorization.digest().as_ref())?;
                    certs.insert_alpn_challenge(&identifier, validation);
                    provisioned.push(Provisioned::Alpn(identifier.clone()));
                }
                Solver::Dns01(dns) => {
                    let name = record_name(&identifier);
                    let value = key_authorization.dns_value();
                    dns.add_txt(&name, &value).await?;
                    provisioned.push(Provisioned::Txt {
                        name: name.clone(),
                        value: value.clone(),
                    });
                    dns.wait_visible(&name, &value).await?;
                }
            }
            nonce_retry!(challenge.set_ready().await).map_err(self.err(Step::Authorization))?;
        }
        Ok(())
    }

    async fn wait_ready(&self, order: &mut instant_acme::Order) -> Result<(), Error> {
        let status = match nonce_retry!(order.poll_ready(&self.retries()).await) {
            Ok(status) => status,
            // The order's own error is general ("some authorizations failed"):
            // the failed challenge says which identifier and why.
            Err(instant_acme::Error::Api(problem)) => {
                return Err(match self.why_invalid(order).await {
                    found @ Error::Validation { .. } => found,
                    _ => Error::Server {
                        step: Step::Validation,
                        problem: Problem::from_acme(&problem, self.retry_after.take()),
                    },
                });
            }
            Err(e) => return Err(Error::acme(Step::Validation, e, self.retry_after.take())),
        };
        match status {
            OrderStatus::Ready => Ok(()),
            OrderStatus::Invalid => Err(self.why_invalid(order).await),
            other => Err(Error::BadState {
                step: Step::Validation,
                state: format!("{other:?}"),
            }),
        }
    }

    /// The first failed challenge's error, as the server gave it.
    async fn why_invalid(&self, order: &mut instant_acme::Order) -> Error {
        let mut authorizations = order.authorizations();
        while let Some(authorization) = authorizations.next().await {
            let Ok(mut authorization) = authorization else {
                continue;
            };
            if authorization.refresh().await.is_err() {
                continue;
            }
            let identifier = authorization.identifier().to_string();
            if let Some(problem) = authorization.challenges.iter().find_map(|c| c.error.as_ref()) {
                return Error::Validation {
                    identifier,
                    problem: Problem::from_acme(problem, None),
                };
            }
        }
        Error::BadState {
            step: Step::Validation,
            state: "Invalid".into(),
        }
    }

    /// The renewal window the server suggests for `cert` (ACME Renewal
    /// Information, RFC 9773), or `None` if the server does not offer it.
    pub async fn renewal_window(
        &self,
        cert: &CertificateDer<'_>,
    ) -> Result<Option<(SystemTime, SystemTime)>, Error> {
        let id = instant_acme::CertificateIdentifier::try_from(cert).map_err(Error::Parse)?;
        match self.account.renewal_info(&id).await {
            Ok((info, _)) => Ok(Some((
                SystemTime::from(info.suggested_window.start),
                SystemTime::from(info.suggested_window.end),
            ))),
            Err(instant_acme::Error::Unsupported(_)) => Ok(None),
            Err(e) => Err(Error::acme(Step::RenewalInfo, e, self.retry_after.take())),
        }
    }
}

async fn cleanup(solver: &Solver, provisioned: Vec<Provisioned>) {
    for item in provisioned {
        match (solver, item) {
            (Solver::Http01(tokens), Provisioned::Token(token)) => tokens.remove(&token),
            (Solver::TlsAlpn01(certs), Provisioned::Alpn(name)) => certs.remove_alpn_challenge(&name),
            (Solver::Dns01(dns), Provisioned::Txt { name, value }) => {
                if let Err(error) = dns.remove_txt(&name, &value).await {
                    tracing::warn!(%name, %error, "could not remove the DNS-01 record");
                }
            }
            _ => {}
        }
    }
}
