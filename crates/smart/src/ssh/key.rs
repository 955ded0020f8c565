//! Client keys: an OpenSSH private key file, or a key derived
//! deterministically from a seed (`ed25519:SEED`, `rsa:SEED`).
//!
//! # The seed derivation (ours, version 1)
//!
//! The OCaml tools (awa) derive keys from a seed through mirage-crypto's
//! Fortuna generator; this crate does not reproduce that byte for byte, so
//! the same seed gives different keys in the two worlds. Ours is:
//!
//! - `ed25519:SEED`: the 32-byte Ed25519 secret is
//!   `SHA-256("smart-ssh-seed-v1\0ed25519\0" || SEED)`. Stable forever.
//! - `rsa:SEED`: a 2048-bit RSA key made by the `rsa` crate's key
//!   generation fed by a deterministic generator: block *i* (from 0) of its
//!   output is `SHA-256(K || i as u64 little-endian)` where
//!   `K = SHA-256("smart-ssh-seed-v1\0rsa\0" || SEED)`. The generator is
//!   ours and stable; the key also depends on how the `rsa` crate searches
//!   for primes, which may change with its version (today
//!   `rsa 0.10.0-rc.18`, pinned by russh). A test pins the fingerprint of
//!   one seed, so a dependency update that changes it is noticed.
//!
//! A seed is a secret: anyone who knows it has the key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::keys::ssh_key::private::{Ed25519Keypair, RsaKeypair};
use russh::keys::ssh_key::{HashAlg, LineEnding, PrivateKey};

/// The size of the RSA keys made from a seed.
pub const RSA_SEED_BITS: usize = 2048;

const DOMAIN: &[u8] = b"smart-ssh-seed-v1\0";

/// A client key could not be read or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key file cannot be read.
    #[error("cannot read SSH key file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not an OpenSSH private key.
    #[error("{path} is not an OpenSSH private key")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What ssh-key found.
        source: russh::keys::ssh_key::Error,
    },
    /// The key is encrypted (use `ssh-keygen -p` to remove the passphrase,
    /// or [`SshKey::from_openssh`] with the passphrase).
    #[error("{path} is encrypted and no passphrase was given")]
    Encrypted {
        /// The file.
        path: PathBuf,
    },
    /// The passphrase does not decrypt the key.
    #[error("cannot decrypt {path}")]
    Decrypt {
        /// The file.
        path: PathBuf,
        /// What ssh-key found.
        source: russh::keys::ssh_key::Error,
    },
    /// `rsa:` or `ed25519:` with nothing after it.
    #[error("empty seed in {spec:?}")]
    EmptySeed {
        /// The key as given.
        spec: String,
    },
    /// The RSA key generation failed.
    #[error("cannot generate an RSA key from the seed")]
    Generate {
        /// What ssh-key said.
        source: russh::keys::ssh_key::Error,
    },
    /// The key cannot be written in OpenSSH form.
    #[error("cannot encode the key")]
    Encode {
        /// What ssh-key said.
        source: russh::keys::ssh_key::Error,
    },
}

/// A client's private key.
///
/// ```
/// use smart::ssh::SshKey;
///
/// let key: SshKey = "ed25519:my seed".parse()?;
/// assert!(key.public_key_line("me@example").starts_with("ssh-ed25519 AAAA"));
/// assert!(key.fingerprint().starts_with("SHA256:"));
/// // The same seed always gives the same key.
/// assert_eq!(key.fingerprint(), SshKey::from_spec("ed25519:my seed")?.fingerprint());
/// # Ok::<(), smart::ssh::KeyError>(())
/// ```
#[derive(Clone)]
pub struct SshKey {
    key: Arc<PrivateKey>,
}

impl std::fmt::Debug for SshKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("SshKey")
            .field("algorithm", &self.key.algorithm().as_str())
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl SshKey {
    /// Reads `ed25519:SEED`, `rsa:SEED`, or else the path of an OpenSSH
    /// private key file (not encrypted).
    pub fn from_spec(spec: &str) -> Result<Self, KeyError> {
        if let Some(seed) = spec.strip_prefix("ed25519:") {
            if seed.is_empty() {
                return Err(KeyError::EmptySeed { spec: spec.into() });
            }
            return Ok(Self::ed25519_from_seed(seed.as_bytes()));
        }
        if let Some(seed) = spec.strip_prefix("rsa:") {
            if seed.is_empty() {
                return Err(KeyError::EmptySeed { spec: spec.into() });
            }
            return Self::rsa_from_seed(seed.as_bytes());
        }
        Self::from_file(spec, None)
    }

    /// Reads an OpenSSH private key file (`-----BEGIN OPENSSH PRIVATE
    /// KEY-----`), decrypting it with `passphrase` when it is encrypted.
    pub fn from_file(path: impl AsRef<Path>, passphrase: Option<&str>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_openssh(&text, passphrase).map_err(|e| match e {
            KeyError::Parse { source, .. } => KeyError::Parse {
                path: path.to_path_buf(),
                source,
            },
            KeyError::Encrypted { .. } => KeyError::Encrypted {
                path: path.to_path_buf(),
            },
            KeyError::Decrypt { source, .. } => KeyError::Decrypt {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        })
    }

    /// Reads an OpenSSH private key from its text.
    pub fn from_openssh(text: &[u8], passphrase: Option<&str>) -> Result<Self, KeyError> {
        let unnamed = PathBuf::from("<key>");
        let key = PrivateKey::from_openssh(text).map_err(|source| KeyError::Parse {
            path: unnamed.clone(),
            source,
        })?;
        let key = match (key.is_encrypted(), passphrase) {
            (false, _) => key,
            (true, None) => return Err(KeyError::Encrypted { path: unnamed }),
            (true, Some(pass)) => key.decrypt(pass).map_err(|source| KeyError::Decrypt {
                path: unnamed,
                source,
            })?,
        };
        Ok(Self { key: Arc::new(key) })
    }

    /// The Ed25519 key of `seed` (see the module docs for the derivation).
    pub fn ed25519_from_seed(seed: &[u8]) -> Self {
        let secret = domain_hash(b"ed25519", seed);
        let key = PrivateKey::from(Ed25519Keypair::from_seed(&secret));
        Self { key: Arc::new(key) }
    }

    /// The 2048-bit RSA key of `seed` (see the module docs for the
    /// derivation and its stability). Takes a moment: primes are searched.
    pub fn rsa_from_seed(seed: &[u8]) -> Result<Self, KeyError> {
        let mut rng = SeededRng::new(domain_hash(b"rsa", seed));
        let pair =
            RsaKeypair::random(&mut rng, RSA_SEED_BITS).map_err(|source| KeyError::Generate { source })?;
        Ok(Self {
            key: Arc::new(PrivateKey::from(pair)),
        })
    }

    /// The line to append to `authorized_keys`: `ssh-ed25519 AAAA... comment`.
    pub fn public_key_line(&self, comment: &str) -> String {
        let mut public = self.key.public_key().clone();
        public.set_comment(comment);
        // Encoding a public key that was decoded or generated cannot fail.
        public.to_openssh().unwrap_or_default()
    }

    /// The key in OpenSSH private key format (to save a seeded key to a file).
    pub fn to_openssh(&self) -> Result<String, KeyError> {
        self.key
            .to_openssh(LineEnding::LF)
            .map(|s| s.to_string())
            .map_err(|source| KeyError::Encode { source })
    }

    /// The public key's fingerprint as `ssh-keygen -lf` prints it (`SHA256:...`).
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// Whether this is an RSA key (it then signs with SHA-2).
    pub(crate) fn is_rsa(&self) -> bool {
        self.key.algorithm().is_rsa()
    }

    pub(crate) fn private(&self) -> Arc<PrivateKey> {
        self.key.clone()
    }
}

impl std::str::FromStr for SshKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_spec(s)
    }
}

/// `SHA-256("smart-ssh-seed-v1\0" || kind || "\0" || seed)`.
fn domain_hash(kind: &[u8], seed: &[u8]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(DOMAIN);
    ctx.update(kind);
    ctx.update(b"\0");
    ctx.update(seed);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// SHA-256 in counter mode over a 32-byte key: a deterministic generator
/// for key generation from a seed (nothing else).
struct SeededRng {
    key: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededRng {
    fn new(key: [u8; 32]) -> Self {
        Self {
            key,
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn refill(&mut self) {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&self.key);
        ctx.update(&self.counter.to_le_bytes());
        self.block.copy_from_slice(ctx.finish().as_ref());
        self.counter += 1;
        self.used = 0;
    }
}

impl rand_core::TryRng for SeededRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let mut filled = 0;
        while filled < dst.len() {
            if self.used == self.block.len() {
                self.refill();
            }
            let n = (self.block.len() - self.used).min(dst.len() - filled);
            dst[filled..filled + n].copy_from_slice(&self.block[self.used..self.used + n]);
            self.used += n;
            filled += n;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for SeededRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_sha256_in_counter_mode() {
        use rand_core::Rng;
        let mut rng = SeededRng::new([7; 32]);
        let mut out = [0u8; 40];
        rng.fill_bytes(&mut out);
        let block = |i: u64| {
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            ctx.update(&[7; 32]);
            ctx.update(&i.to_le_bytes());
            ctx.finish().as_ref().to_vec()
        };
        assert_eq!(&out[..32], &block(0)[..]);
        assert_eq!(&out[32..], &block(1)[..8]);
    }

    #[test]
    fn seeds_give_stable_ed25519_keys() {
        let a = SshKey::from_spec("ed25519:one").unwrap();
        let b = SshKey::from_spec("ed25519:two").unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
        // Pinned: changing the derivation changes every deployed key.
        assert_eq!(
            a.public_key_line("c"),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOOfpGvRDIjab3GUmUcLJuwyXy8I1plO8tJBsuRfyjXk c"
        );
        assert!(matches!(
            SshKey::from_spec("ed25519:"),
            Err(KeyError::EmptySeed { .. })
        ));
    }

    #[test]
    fn seeded_rsa_keys_are_stable_for_this_rsa_version() {
        let key = SshKey::from_spec("rsa:one").unwrap();
        assert!(key.is_rsa());
        assert_eq!(
            key.fingerprint(),
            "SHA256:VMBgwrW0ZZJTNU3GS55UaCQfR3Iwl40nLz71TZNXCz4"
        );
    }

    #[test]
    fn a_missing_file_and_garbage_are_errors() {
        assert!(matches!(
            SshKey::from_spec("/nonexistent/key"),
            Err(KeyError::Read { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            SshKey::from_file(&path, None),
            Err(KeyError::Parse { .. })
        ));
    }

    #[test]
    fn a_key_written_out_reads_back() {
        let key = SshKey::from_spec("ed25519:round trip").unwrap();
        let text = key.to_openssh().unwrap();
        let back = SshKey::from_openssh(text.as_bytes(), None).unwrap();
        assert_eq!(back.fingerprint(), key.fingerprint());
    }
}
