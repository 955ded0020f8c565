//! The server's secret (a file in the data directory, never in the
//! repository, which is pushed to remotes) and the delete tokens derived
//! from it: HMAC-SHA256 of the paste id, so a token stays valid across
//! restarts without being stored anywhere.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use ring::hmac;

const SECRET_LEN: usize = 32;
/// Bytes of the HMAC kept in a token (128 bits).
const TOKEN_LEN: usize = 16;

/// The secret file could not be read or made.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Reading, creating or syncing the file failed.
    #[error("secret file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not 32 bytes long.
    #[error("secret file {path} holds {len} bytes, not {SECRET_LEN}")]
    Length {
        /// The file.
        path: PathBuf,
        /// Its length.
        len: usize,
    },
    /// The system's random generator failed.
    #[error("the system random generator failed")]
    Random,
}

/// The key that delete tokens are derived from.
pub struct Secret {
    key: hmac::Key,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// Reads the secret at `path`, or makes one there (mode 0600, fsync'd)
    /// if the file does not exist.
    pub fn load_or_create(path: &Path) -> Result<Secret, SecretError> {
        let io = |source| SecretError::Io {
            path: path.to_path_buf(),
            source,
        };
        match std::fs::read(path) {
            Ok(bytes) if bytes.len() == SECRET_LEN => return Ok(Secret::from_bytes(&bytes)),
            Ok(bytes) => {
                return Err(SecretError::Length {
                    path: path.to_path_buf(),
                    len: bytes.len(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        let mut bytes = [0u8; SECRET_LEN];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| SecretError::Random)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(&bytes).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(Secret::from_bytes(&bytes))
            }
            // Another process made it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Secret::load_or_create(path),
            Err(e) => Err(io(e)),
        }
    }

    /// A secret from its bytes (tests).
    pub fn from_bytes(bytes: &[u8]) -> Secret {
        Secret {
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
        }
    }

    /// The delete token of paste `id`.
    pub fn delete_token(&self, id: &str) -> String {
        let tag = self.tag(id);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag.as_ref()[..TOKEN_LEN])
    }

    /// Whether `token` is the delete token of `id` (constant time).
    pub fn verify_delete_token(&self, id: &str, token: &str) -> bool {
        let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.trim()) else {
            return false;
        };
        let tag = self.tag(id);
        given.len() == TOKEN_LEN
            && given
                .iter()
                .zip(&tag.as_ref()[..TOKEN_LEN])
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    fn tag(&self, id: &str) -> hmac::Tag {
        hmac::sign(&self.key, format!("pasteur delete v1:{id}").as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_survive_a_reload_and_are_bound_to_the_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let a = Secret::load_or_create(&path).unwrap();
        let b = Secret::load_or_create(&path).unwrap();
        let token = a.delete_token("abcd1234");
        assert!(b.verify_delete_token("abcd1234", &token));
        assert!(!b.verify_delete_token("abcd1235", &token));
        assert!(!b.verify_delete_token("abcd1234", "not a token"));
        assert!(!b.verify_delete_token("abcd1234", ""));
        let other = Secret::from_bytes(&[7; 32]);
        assert!(!other.verify_delete_token("abcd1234", &token));
    }

    #[test]
    fn a_short_secret_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, b"short").unwrap();
        assert!(matches!(
            Secret::load_or_create(&path),
            Err(SecretError::Length { len: 5, .. })
        ));
    }
}
