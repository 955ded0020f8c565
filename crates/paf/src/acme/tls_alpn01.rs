//! TLS-ALPN-01 (RFC 8737): the validation certificate that answers
//! `acme-tls/1` handshakes on the TLS listener itself, through
//! [`Certificates::insert_alpn_challenge`](crate::certs::Certificates::insert_alpn_challenge),
//! so a server with only :443 open can get certificates.

use std::sync::Arc;

use rcgen::{CertificateParams, CustomExtension, DistinguishedName, KeyPair};
use rustls::sign::CertifiedKey;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A self-signed validation certificate for `name`: its only SAN is `name`
/// and it carries the critical `id-pe-acmeIdentifier` extension with
/// `digest`, the SHA-256 of the challenge's key authorization.
///
/// ```
/// let key = paf::acme::tls_alpn01::validation_key("a.example.test", &[0u8; 32])?;
/// assert_eq!(key.cert.len(), 1);
/// # Ok::<(), paf::acme::Error>(())
/// ```
pub fn validation_key(name: &str, digest: &[u8]) -> Result<Arc<CertifiedKey>, super::Error> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(vec![name.to_string()])?;
    params.distinguished_name = DistinguishedName::new();
    params.custom_extensions = vec![CustomExtension::new_acme_identifier(digest)];
    let cert = params.self_signed(&key)?;
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    // Not `certs::certified_key_from_der`: its key check parses the
    // certificate with webpki, which refuses the critical acmeIdentifier
    // extension that RFC 8737 requires. The key was made just above.
    let signing_key = crate::certs::provider()
        .key_provider
        .load_private_key(der)
        .map_err(|source| crate::certs::CertError::Key {
            source_name: "TLS-ALPN-01 validation key".into(),
            source,
        })?;
    Ok(Arc::new(CertifiedKey::new(vec![cert.der().clone()], signing_key)))
}
