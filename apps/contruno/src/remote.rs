//! The remote repository options both binaries take (`-r`, `--ssh-*`),
//! turned into a gitkv remote with its smart client.

use std::path::PathBuf;

use gitkv::sync::Remote;
use smart::{Client, HostKeyPolicy, RemoteUrl, Scheme, SshKey, SshOptions};

/// The flags of a remote.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct RemoteArgs {
    /// The routes repository: git://, ssh://, user@host:path, http(s)://, with `#branch`.
    #[arg(short = 'r', long = "remote", value_name = "URL")]
    pub remote: Option<String>,
    /// SSH remotes: a key from this seed (`ed25519:SEED`, `rsa:SEED`, or a bare seed).
    #[arg(
        long,
        env = "CONTRUNO_SSH_SEED",
        hide_env_values = true,
        conflicts_with = "ssh_key"
    )]
    pub ssh_seed: Option<String>,
    /// SSH remotes: an OpenSSH private key file.
    #[arg(long, value_name = "FILE")]
    pub ssh_key: Option<PathBuf>,
    /// SSH remotes: the server's host key fingerprint (`SHA256:...`).
    #[arg(long, value_name = "SHA256:...")]
    pub ssh_auth: Option<String>,
}

/// The remote flags do not make a remote.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The URL does not parse.
    #[error("--remote {url}")]
    Url {
        /// What was given.
        url: String,
        /// Why.
        source: smart::UrlError,
    },
    /// The SSH key cannot be read or made.
    #[error("SSH key {what}")]
    Key {
        /// `--ssh-seed` or the file.
        what: String,
        /// Why.
        source: smart::ssh::KeyError,
    },
    /// An SSH remote without a key.
    #[error("an SSH remote needs a key: --ssh-seed or --ssh-key")]
    NoKey,
    /// An SSH remote without the server's key.
    #[error("an SSH remote needs the server's key fingerprint: --ssh-auth SHA256:...")]
    NoHostKey,
}

impl RemoteArgs {
    /// The remote, if `-r` was given.
    pub fn remote(&self) -> Result<Option<Remote>, RemoteError> {
        let Some(text) = &self.remote else {
            return Ok(None);
        };
        let url = RemoteUrl::parse(text).map_err(|source| RemoteError::Url {
            url: text.clone(),
            source,
        })?;
        let mut client = Client::new(mimic::Resolver::new());
        if url.scheme() == Scheme::Ssh {
            let key = match (&self.ssh_seed, &self.ssh_key) {
                (Some(seed), _) => {
                    let spec = if seed.starts_with("rsa:") || seed.starts_with("ed25519:") {
                        seed.clone()
                    } else {
                        format!("ed25519:{seed}")
                    };
                    SshKey::from_spec(&spec).map_err(|source| RemoteError::Key {
                        what: "--ssh-seed".into(),
                        source,
                    })?
                }
                (None, Some(path)) => SshKey::from_file(path, None).map_err(|source| RemoteError::Key {
                    what: path.display().to_string(),
                    source,
                })?,
                (None, None) => return Err(RemoteError::NoKey),
            };
            let Some(fingerprint) = &self.ssh_auth else {
                return Err(RemoteError::NoHostKey);
            };
            client = client.with_ssh(SshOptions::new(
                key,
                HostKeyPolicy::Fingerprint(fingerprint.clone()),
            ));
        }
        Ok(Some(Remote::new("origin", url).with_client(client)))
    }
}
