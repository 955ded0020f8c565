//! Account and certificate keys: derived from a seed (the same seed gives
//! the same key, so an app restarted with it keeps its ACME account and its
//! certificate key), loaded from PEM, or random.
//!
//! # Derivation
//!
//! `HKDF-SHA256` (RFC 5869, ring's implementation) with the seed as input
//! keying material, the salt `paf-acme-v1`, and the info
//! `purpose || 0x00 || counter (u32, big endian)`, where `purpose` is
//! `account` or `certificate:<label>`. The 32 output bytes are taken as the
//! P-256 private scalar (big endian); in the rare case (about 2^-32) where
//! they are zero or not below the group order, the counter is incremented.
//! The format is versioned by the salt: changing it would change every key.
//!
//! RSA keys cannot be derived (ring cannot generate them and a
//! deterministic RSA key generation is not stable across libraries): give
//! them as PEM ([`CertKey::from_pem`]). ACME account keys are ECDSA P-256
//! only (what instant-acme signs requests with).

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// A key could not be derived, generated or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The seed is too short to be a secret.
    #[error("a seed needs at least {min} bytes, this one has {len}")]
    SeedTooShort {
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// A key file could not be read.
    #[error("cannot read the key file {path}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The PEM holds no PKCS#8 private key (or is not PEM).
    #[error("no PKCS#8 private key in the PEM")]
    Pem(#[source] rustls_pki_types::pem::Error),
    /// The key is of a type that cannot be used here.
    #[error("unsupported key: {what}")]
    Unsupported {
        /// What was wrong (e.g. "account keys must be ECDSA P-256").
        what: &'static str,
    },
    /// rcgen refused the key.
    #[error("rcgen refused the key")]
    Rcgen(#[from] rcgen::Error),
    /// The key could not be encoded.
    #[error("cannot encode the key as PKCS#8")]
    Encode,
}

/// The minimum length of a seed, in bytes.
pub const MIN_SEED_LEN: usize = 16;

const SALT: &[u8] = b"paf-acme-v1";

/// A secret seed from which keys are derived. Keep it like a private key.
#[derive(Clone)]
pub struct Seed(Vec<u8>);

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(..)")
    }
}

impl Seed {
    /// A seed from secret bytes (at least [`MIN_SEED_LEN`]).
    pub fn new(bytes: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let bytes = bytes.as_ref();
        if bytes.len() < MIN_SEED_LEN {
            return Err(KeyError::SeedTooShort {
                len: bytes.len(),
                min: MIN_SEED_LEN,
            });
        }
        Ok(Self(bytes.to_vec()))
    }

    /// The ACME account key of this seed.
    pub fn account_key(&self) -> Result<AccountKey, KeyError> {
        Ok(AccountKey(self.derive_p256(b"account")?))
    }

    /// The certificate key of this seed for `label` (e.g. the certificate's
    /// first name: each certificate gets its own key).
    pub fn certificate_key(&self, label: &str) -> Result<CertKey, KeyError> {
        let purpose = [b"certificate:".as_slice(), label.as_bytes()].concat();
        Ok(CertKey(self.derive_p256(&purpose)?))
    }

    fn derive_p256(&self, purpose: &[u8]) -> Result<PrivatePkcs8KeyDer<'static>, KeyError> {
        use p256::pkcs8::EncodePrivateKey;
        let prk = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, SALT).extract(&self.0);
        for counter in 0u32.. {
            let counter = counter.to_be_bytes();
            let info = [purpose, &[0], &counter];
            let mut scalar = [0u8; 32];
            prk.expand(&info, ScalarLen)
                .and_then(|okm| okm.fill(&mut scalar))
                .map_err(|_| KeyError::Encode)?;
            if let Ok(secret) = p256::SecretKey::from_slice(&scalar) {
                let doc = secret.to_pkcs8_der().map_err(|_| KeyError::Encode)?;
                return Ok(PrivatePkcs8KeyDer::from(doc.as_bytes().to_vec()));
            }
        }
        Err(KeyError::Encode)
    }
}

struct ScalarLen;

impl ring::hkdf::KeyType for ScalarLen {
    fn len(&self) -> usize {
        32
    }
}

fn pkcs8_from_pem(pem: &[u8]) -> Result<PrivatePkcs8KeyDer<'static>, KeyError> {
    match PrivateKeyDer::from_pem_slice(pem).map_err(KeyError::Pem)? {
        PrivateKeyDer::Pkcs8(key) => Ok(key),
        _ => Err(KeyError::Unsupported {
            what: "keys must be PKCS#8 (`BEGIN PRIVATE KEY`)",
        }),
    }
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn pkcs8_to_pem(key: &PrivatePkcs8KeyDer<'_>) -> String {
    rcgen::KeyPair::try_from(key)
        .expect("keys are checked by rcgen when made or loaded")
        .serialize_pem()
}

/// An ACME account key: ECDSA P-256, PKCS#8.
pub struct AccountKey(PrivatePkcs8KeyDer<'static>);

impl Clone for AccountKey {
    fn clone(&self) -> Self {
        Self(self.0.clone_key())
    }
}

impl std::fmt::Debug for AccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountKey(..)")
    }
}

impl AccountKey {
    /// A random account key.
    pub fn generate() -> Result<Self, KeyError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        Ok(Self(PrivatePkcs8KeyDer::from(key.serialize_der())))
    }

    /// An account key from PEM (`BEGIN PRIVATE KEY`, ECDSA P-256).
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let key = pkcs8_from_pem(pem)?;
        let pair = rcgen::KeyPair::try_from(&key)?;
        if !pair.is_compatible(&rcgen::PKCS_ECDSA_P256_SHA256) {
            return Err(KeyError::Unsupported {
                what: "account keys must be ECDSA P-256",
            });
        }
        Ok(Self(key))
    }

    /// An account key from a PEM file (see [`from_pem`](Self::from_pem)).
    pub fn from_pem_file(path: impl AsRef<std::path::Path>) -> Result<Self, KeyError> {
        Self::from_pem(&read_file(path.as_ref())?)
    }

    /// The key, PKCS#8 PEM.
    pub fn to_pem(&self) -> String {
        pkcs8_to_pem(&self.0)
    }

    /// The key, PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &PrivatePkcs8KeyDer<'static> {
        &self.0
    }

    pub(crate) fn acme_key(&self) -> Result<instant_acme::Key, KeyError> {
        instant_acme::Key::from_pkcs8_der(self.0.clone_key()).map_err(|_| KeyError::Unsupported {
            what: "account keys must be ECDSA P-256",
        })
    }
}

/// The algorithm of a certificate key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// ECDSA on P-256 with SHA-256 (the default).
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// RSA with SHA-256 (PKCS#1 v1.5).
    Rsa,
}

/// A certificate key: ECDSA P-256 or P-384, or RSA, PKCS#8.
pub struct CertKey(PrivatePkcs8KeyDer<'static>);

impl Clone for CertKey {
    fn clone(&self) -> Self {
        Self(self.0.clone_key())
    }
}

impl std::fmt::Debug for CertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CertKey").field(&self.key_type()).finish()
    }
}

impl CertKey {
    /// A random ECDSA P-256 key.
    pub fn generate() -> Result<Self, KeyError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        Ok(Self(PrivatePkcs8KeyDer::from(key.serialize_der())))
    }

    /// A key from PEM (`BEGIN PRIVATE KEY`): ECDSA P-256, P-384, or RSA.
    pub fn from_pem(pem: &[u8]) -> Result<Self, KeyError> {
        let key = Self(pkcs8_from_pem(pem)?);
        key.key_pair()?;
        Ok(key)
    }

    /// A certificate key from a PEM file (see [`from_pem`](Self::from_pem)).
    pub fn from_pem_file(path: impl AsRef<std::path::Path>) -> Result<Self, KeyError> {
        Self::from_pem(&read_file(path.as_ref())?)
    }

    /// The key's algorithm.
    pub fn key_type(&self) -> KeyType {
        match self.key_pair() {
            Ok(pair) if pair.is_compatible(&rcgen::PKCS_ECDSA_P384_SHA384) => KeyType::EcdsaP384,
            Ok(pair) if pair.is_compatible(&rcgen::PKCS_RSA_SHA256) => KeyType::Rsa,
            _ => KeyType::EcdsaP256,
        }
    }

    /// The key, PKCS#8 PEM.
    pub fn to_pem(&self) -> String {
        pkcs8_to_pem(&self.0)
    }

    /// The key, PKCS#8 DER.
    pub fn pkcs8_der(&self) -> &PrivatePkcs8KeyDer<'static> {
        &self.0
    }

    pub(crate) fn key_pair(&self) -> Result<rcgen::KeyPair, KeyError> {
        let pair = rcgen::KeyPair::try_from(&self.0)?;
        let supported = [
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &rcgen::PKCS_ECDSA_P384_SHA384,
            &rcgen::PKCS_RSA_SHA256,
        ];
        if !supported.iter().any(|alg| pair.is_compatible(alg)) {
            return Err(KeyError::Unsupported {
                what: "certificate keys must be ECDSA P-256, P-384 or RSA",
            });
        }
        Ok(pair)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_keys_other_seed_other_keys() {
        let a = Seed::new([7u8; 32]).unwrap();
        let b = Seed::new([8u8; 32]).unwrap();
        let a1 = a.account_key().unwrap();
        let a2 = a.account_key().unwrap();
        assert_eq!(
            a1.pkcs8_der().secret_pkcs8_der(),
            a2.pkcs8_der().secret_pkcs8_der()
        );
        let b1 = b.account_key().unwrap();
        assert_ne!(
            a1.pkcs8_der().secret_pkcs8_der(),
            b1.pkcs8_der().secret_pkcs8_der()
        );
        // Account and certificate keys of one seed differ, and so do labels.
        let c = a.certificate_key("a.example").unwrap();
        let d = a.certificate_key("b.example").unwrap();
        assert_ne!(
            c.pkcs8_der().secret_pkcs8_der(),
            a1.pkcs8_der().secret_pkcs8_der()
        );
        assert_ne!(c.pkcs8_der().secret_pkcs8_der(), d.pkcs8_der().secret_pkcs8_der());
        assert_eq!(c.key_type(), KeyType::EcdsaP256);
        // The keys are usable by instant-acme and by rustls (ring).
        a1.acme_key().unwrap();
        crate::certs::provider()
            .key_provider
            .load_private_key(PrivateKeyDer::Pkcs8(c.pkcs8_der().clone_key()))
            .unwrap();
    }

    #[test]
    fn derivation_is_the_documented_hkdf() {
        // A change of the derivation would lose every account. The expected
        // scalar was computed outside this code, from the module docs, with
        // Python's hmac/hashlib:
        //   prk = HMAC-SHA256(key=b"paf-acme-v1", msg=seed)
        //   okm = HMAC-SHA256(key=prk, msg=b"account\0" + (0).to_bytes(4, "big") + b"\x01")
        use p256::pkcs8::DecodePrivateKey;
        let key = Seed::new(b"0123456789abcdef").unwrap().account_key().unwrap();
        let secret = p256::SecretKey::from_pkcs8_der(key.pkcs8_der().secret_pkcs8_der()).unwrap();
        assert_eq!(
            hex(&secret.to_bytes()),
            "02285337d3acef63456469d3fc5d4d864db40dcb6e052280b0f32dba16985458"
        );
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rsa_from_pem() {
        // rcgen (ring) cannot generate RSA keys: openssl makes one.
        let Some(openssl) = testkit::peer::find_binary("openssl", "openssl").unwrap() else {
            return;
        };
        let out = std::process::Command::new(openssl)
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"])
            .output()
            .unwrap();
        let key = CertKey::from_pem(&out.stdout).unwrap();
        assert_eq!(key.key_type(), KeyType::Rsa);
        assert!(matches!(
            AccountKey::from_pem(&out.stdout),
            Err(KeyError::Unsupported { .. })
        ));
    }

    #[test]
    fn short_seed_and_bad_pem_are_refused() {
        assert!(matches!(
            Seed::new([0u8; 8]),
            Err(KeyError::SeedTooShort { len: 8, min: 16 })
        ));
        assert!(matches!(CertKey::from_pem(b"nope"), Err(KeyError::Pem(_))));
    }

    #[test]
    fn pem_round_trip_and_rsa() {
        let key = Seed::new([1u8; 16]).unwrap().certificate_key("x").unwrap();
        let back = CertKey::from_pem(key.to_pem().as_bytes()).unwrap();
        assert_eq!(
            back.pkcs8_der().secret_pkcs8_der(),
            key.pkcs8_der().secret_pkcs8_der()
        );
        let account = Seed::new([1u8; 16]).unwrap().account_key().unwrap();
        AccountKey::from_pem(account.to_pem().as_bytes()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("account.pem");
        std::fs::write(&path, account.to_pem()).unwrap();
        let loaded = AccountKey::from_pem_file(&path).unwrap();
        assert_eq!(
            loaded.pkcs8_der().secret_pkcs8_der(),
            account.pkcs8_der().secret_pkcs8_der()
        );
        assert!(matches!(
            CertKey::from_pem_file(dir.path().join("missing.pem")),
            Err(KeyError::Io { .. })
        ));
        // A P-384 key is a certificate key but not an account key.
        let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let cert = CertKey::from_pem(p384.serialize_pem().as_bytes()).unwrap();
        assert_eq!(cert.key_type(), KeyType::EcdsaP384);
        assert!(matches!(
            AccountKey::from_pem(p384.serialize_pem().as_bytes()),
            Err(KeyError::Unsupported { .. })
        ));
    }
}
