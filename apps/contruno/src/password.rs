//! The reload password, kept as a hash: PBKDF2-HMAC-SHA256 (ring), a
//! random 16-byte salt, 100,000 iterations, stored as
//! `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>`. ring's
//! `pbkdf2::verify` compares in constant time. The password itself is
//! never logged and never written anywhere.

use std::num::NonZeroU32;

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use ring::pbkdf2;
use ring::rand::{SecureRandom, SystemRandom};

const ALGORITHM: pbkdf2::Algorithm = pbkdf2::PBKDF2_HMAC_SHA256;
const ITERATIONS: u32 = 100_000;
/// More than this is refused when reading a hash (a hostile file must not
/// make each check cost minutes).
const MAX_ITERATIONS: u32 = 10_000_000;

/// A stored hash that cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// Not `pbkdf2-sha256$<iterations>$<salt>$<hash>`.
    #[error("not a contruno password hash ({reason})")]
    Format {
        /// What is wrong.
        reason: &'static str,
    },
    /// The system's random generator failed.
    #[error("no random bytes for the salt")]
    Random,
}

/// A password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash {
    iterations: NonZeroU32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHash")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl PasswordHash {
    /// Hashes `password` with a fresh salt.
    pub fn new(password: &str) -> Result<Self, HashError> {
        let mut salt = vec![0u8; 16];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| HashError::Random)?;
        let iterations = NonZeroU32::new(ITERATIONS).unwrap_or(NonZeroU32::MIN);
        let mut hash = vec![0u8; 32];
        pbkdf2::derive(ALGORITHM, iterations, &salt, password.as_bytes(), &mut hash);
        Ok(Self {
            iterations,
            salt,
            hash,
        })
    }

    /// Reads a stored hash.
    pub fn parse(text: &str) -> Result<Self, HashError> {
        let bad = |reason| HashError::Format { reason };
        let mut parts = text.trim().split('$');
        if parts.next() != Some("pbkdf2-sha256") {
            return Err(bad("unknown scheme"));
        }
        let iterations = parts
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|n| *n <= MAX_ITERATIONS)
            .and_then(NonZeroU32::new)
            .ok_or(bad("iterations"))?;
        let mut field = |what| {
            parts
                .next()
                .and_then(|p| B64.decode(p).ok())
                .filter(|b| (8..=64).contains(&b.len()))
                .ok_or(bad(what))
        };
        let salt = field("salt")?;
        let hash = field("hash")?;
        if parts.next().is_some() {
            return Err(bad("trailing fields"));
        }
        Ok(Self {
            iterations,
            salt,
            hash,
        })
    }

    /// Whether `password` is the one hashed (constant time).
    pub fn verify(&self, password: &str) -> bool {
        pbkdf2::verify(
            ALGORITHM,
            self.iterations,
            &self.salt,
            password.as_bytes(),
            &self.hash,
        )
        .is_ok()
    }
}

impl std::fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pbkdf2-sha256${}${}${}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.hash)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_verify() {
        let hash = PasswordHash::new("s3cret").unwrap();
        let text = hash.to_string();
        assert!(!text.contains("s3cret"));
        let back = PasswordHash::parse(&text).unwrap();
        assert_eq!(back, hash);
        assert!(back.verify("s3cret"));
        assert!(!back.verify("s3cret "));
        assert!(!back.verify(""));
        // Two hashes of one password differ (salt).
        assert_ne!(PasswordHash::new("s3cret").unwrap().to_string(), text);
    }

    #[test]
    fn bad_hashes() {
        for bad in [
            "",
            "md5$1$aaaaaaaaaaa$aaaaaaaaaaa",
            "pbkdf2-sha256$0$c2FsdHNhbHQ$aGFzaGhhc2g",
            "pbkdf2-sha256$99999999999$c2FsdHNhbHQ$aGFzaGhhc2g",
            "pbkdf2-sha256$1$!!$aGFzaGhhc2g",
            "pbkdf2-sha256$1$c2FsdHNhbHQ$aGFzaGhhc2g$x",
        ] {
            assert!(PasswordHash::parse(bad).is_err(), "{bad}");
        }
        assert!(PasswordHash::parse("pbkdf2-sha256$1$c2FsdHNhbHQ$aGFzaGhhc2g").is_ok());
    }
}
