//! Which server host keys to trust: a pinned fingerprint, or a
//! known_hosts file. Checked during the key exchange, before
//! authentication and before any Git data is sent.

use std::path::PathBuf;

use russh::keys::ssh_key::{HashAlg, PublicKey};

/// How the server's host key is checked. There is no "accept anything".
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostKeyPolicy {
    /// The key's SHA-256 fingerprint as `ssh-keygen -lf` prints it
    /// (`SHA256:` and unpadded base64).
    Fingerprint(String),
    /// An OpenSSH known_hosts file (hashed host names too): an entry for
    /// the host (`[host]:port` when the port is not 22) with the server's
    /// key type must hold the server's key.
    KnownHosts(PathBuf),
}

/// Why a host key was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostKeyError {
    /// The key is not the one expected.
    #[error("host key mismatch: expected {}, the server has {got}", expected.join(" or "))]
    Mismatch {
        /// The fingerprints trusted for this host.
        expected: Vec<String>,
        /// The server key's fingerprint.
        got: String,
    },
    /// known_hosts has no key for this host.
    #[error("{host} is not in {path} (the server's key is {got})")]
    Unknown {
        /// The host as looked up (`[host]:port` when the port is not 22).
        host: String,
        /// The known_hosts file.
        path: PathBuf,
        /// The server key's fingerprint.
        got: String,
    },
    /// The known_hosts file cannot be read or parsed.
    #[error("cannot read known_hosts file {path}")]
    KnownHosts {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: russh::keys::Error,
    },
}

/// A key's `SHA256:...` fingerprint.
pub(crate) fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

impl HostKeyPolicy {
    /// Whether `key`, offered by `host:port`, is trusted.
    pub(crate) fn check(&self, host: &str, port: u16, key: &PublicKey) -> Result<(), HostKeyError> {
        let got = fingerprint(key);
        match self {
            HostKeyPolicy::Fingerprint(expected) => {
                // The base64 is case-sensitive; the prefix is not.
                let normalized = match expected.split_once(':') {
                    Some((prefix, b64)) if prefix.eq_ignore_ascii_case("sha256") => {
                        format!("SHA256:{}", b64.trim_end_matches('='))
                    }
                    _ => expected.clone(),
                };
                if normalized == got {
                    Ok(())
                } else {
                    Err(HostKeyError::Mismatch {
                        expected: vec![expected.clone()],
                        got,
                    })
                }
            }
            HostKeyPolicy::KnownHosts(path) => {
                // russh reads a missing file as empty: open it first so a
                // wrong path is an error of its own.
                std::fs::File::open(path).map_err(|e| HostKeyError::KnownHosts {
                    path: path.clone(),
                    source: e.into(),
                })?;
                let known =
                    russh::keys::known_hosts::known_host_keys_path(host, port, path).map_err(|source| {
                        HostKeyError::KnownHosts {
                            path: path.clone(),
                            source,
                        }
                    })?;
                let same_type: Vec<&PublicKey> = known
                    .iter()
                    .map(|(_, k)| k)
                    .filter(|k| k.algorithm() == key.algorithm())
                    .collect();
                if same_type.iter().any(|k| k.key_data() == key.key_data()) {
                    return Ok(());
                }
                if known.is_empty() {
                    let host = if port == 22 {
                        host.to_string()
                    } else {
                        format!("[{host}]:{port}")
                    };
                    return Err(HostKeyError::Unknown {
                        host,
                        path: path.clone(),
                        got,
                    });
                }
                // Keys of the host, of this type if any (else all of them).
                let expected = if same_type.is_empty() {
                    known.iter().map(|(_, k)| fingerprint(k)).collect()
                } else {
                    same_type.iter().map(|k| fingerprint(k)).collect()
                };
                Err(HostKeyError::Mismatch { expected, got })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::SshKey;

    fn key(seed: &str) -> PublicKey {
        SshKey::ed25519_from_seed(seed.as_bytes())
            .private()
            .public_key()
            .clone()
    }

    #[test]
    fn a_pinned_fingerprint_matches_or_names_both() {
        let k = key("host");
        let good = HostKeyPolicy::Fingerprint(fingerprint(&k));
        good.check("h", 22, &k).unwrap();
        // `ssh-keygen -E sha256` style with padding and lower-case prefix.
        let padded = HostKeyPolicy::Fingerprint(format!("sha256:{}=", &fingerprint(&k)[7..]));
        padded.check("h", 22, &k).unwrap();
        let other = key("other");
        let err = HostKeyPolicy::Fingerprint(fingerprint(&other))
            .check("h", 22, &k)
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&fingerprint(&k)) && text.contains(&fingerprint(&other)),
            "{text}"
        );
    }

    #[test]
    fn known_hosts_entries_by_host_and_port() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("known_hosts");
        let k = key("host");
        let line = k.to_openssh().unwrap();
        std::fs::write(
            &path,
            format!("# comment\n[127.0.0.1]:2222 {line}\nexample.com {line}\n"),
        )
        .unwrap();
        let policy = HostKeyPolicy::KnownHosts(path.clone());
        policy.check("127.0.0.1", 2222, &k).unwrap();
        policy.check("example.com", 22, &k).unwrap();
        assert!(matches!(
            policy.check("127.0.0.1", 22, &k),
            Err(HostKeyError::Unknown { host, .. }) if host == "127.0.0.1"
        ));
        let other = key("other");
        match policy.check("example.com", 22, &other) {
            Err(HostKeyError::Mismatch { expected, got }) => {
                assert_eq!(expected, vec![fingerprint(&k)]);
                assert_eq!(got, fingerprint(&other));
            }
            other => panic!("{other:?}"),
        }
        let missing = HostKeyPolicy::KnownHosts(dir.path().join("none"));
        assert!(matches!(
            missing.check("example.com", 22, &k),
            Err(HostKeyError::KnownHosts { .. })
        ));
    }
}
