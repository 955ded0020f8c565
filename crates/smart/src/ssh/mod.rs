//! The SSH transport: russh over a mimic TCP flow, an exec channel running
//! `git-upload-pack '<path>'` or `git-receive-pack '<path>'` (with
//! `GIT_PROTOCOL=version=2` for upload-pack), handed to the protocol code
//! as a mimic [`Flow`] like any other connection.
//!
//! - Client keys: [`SshKey`], from an OpenSSH private key file or derived
//!   from a seed (`ed25519:SEED`, `rsa:SEED`; see [`key`](SshKey) for the
//!   derivation), with [`SshKey::public_key_line`] for `authorized_keys`.
//! - Host keys: [`HostKeyPolicy`], a pinned `SHA256:` fingerprint or a
//!   known_hosts file, checked during the key exchange, before
//!   authentication and before any Git data is sent. A mismatch is an
//!   error naming both fingerprints.
//! - The remote command's stderr and exit status are kept: a command that
//!   fails (a missing repository) is an [`Error::RemoteCommand`] with its
//!   message.
//!
//! russh runs the session on a task of its own (spawned on the current
//! tokio runtime when connecting); it ends when the flow is dropped.

mod channel;
mod host_key;
mod key;

use std::sync::Arc;

use mimic::keys::{HOST, PORT, SCHEME};
use mimic::{Context, Flow, Resolver};
use russh::client;
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKeyOrCertificate};

pub use channel::CommandFailed;
pub use host_key::{HostKeyError, HostKeyPolicy};
pub use key::{KeyError, RSA_SEED_BITS, SshKey};

use crate::proto::Service;
use crate::{Error, RemoteUrl};

/// What an SSH connection needs besides the URL.
#[derive(Clone, Debug)]
pub struct SshOptions {
    /// The client key.
    pub key: SshKey,
    /// How the server's host key is checked.
    pub host_key: HostKeyPolicy,
    /// The user when the URL names none (`git` when this is `None` too).
    pub user: Option<String>,
}

impl SshOptions {
    /// Options with `key` and `host_key`, the user from the URL (or `git`).
    pub fn new(key: SshKey, host_key: HostKeyPolicy) -> Self {
        Self {
            key,
            host_key,
            user: None,
        }
    }
}

/// Why the SSH session failed, as russh's handler sees it.
#[derive(Debug)]
enum SessionError {
    Ssh(russh::Error),
    HostKey(HostKeyError),
}

impl From<russh::Error> for SessionError {
    fn from(e: russh::Error) -> Self {
        SessionError::Ssh(e)
    }
}

/// Checks the host key; nothing else.
struct Verifier {
    policy: HostKeyPolicy,
    host: String,
    port: u16,
}

impl client::Handler for Verifier {
    type Error = SessionError;

    async fn check_server_key(&mut self, offered: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let key = match offered {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            // A host certificate: trust is about its key, as pinned or known.
            PublicKeyOrCertificate::Certificate(cert) => {
                russh::keys::PublicKey::new(cert.public_key().clone(), cert.comment())
            }
        };
        self.policy
            .check(&self.host, self.port, &key)
            .map(|()| true)
            .map_err(SessionError::HostKey)
    }
}

/// `'…'` quoting for the remote shell, as Git's `sq_quote_buf`.
fn shell_quote(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 2);
    out.push('\'');
    for c in path.chars() {
        if c == '\'' || c == '!' {
            out.push('\'');
            out.push('\\');
            out.push(c);
            out.push('\'');
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Opens `service` on the remote of `url` and returns its stdin/stdout as a flow.
pub(crate) async fn open(
    resolver: &Resolver,
    options: Option<&SshOptions>,
    url: &RemoteUrl,
    service: Service,
    v2: bool,
) -> Result<Flow, Error> {
    let remote = url.to_string();
    let Some(options) = options else {
        return Err(Error::SshNotConfigured { remote });
    };
    let (Some(host), Some(port)) = (url.host(), url.port_or_default()) else {
        return Err(Error::UnsupportedTransport { scheme: url.scheme() });
    };
    let ctx = Context::new()
        .with(&SCHEME, "ssh".to_string())
        .with(&HOST, host.to_string())
        .with(&PORT, port);
    let tcp = resolver.resolve(&ctx).await.map_err(|source| Error::Connect {
        remote: remote.clone(),
        source,
    })?;
    let ssh_error = |source| Error::Ssh {
        remote: remote.clone(),
        source,
    };

    let config = Arc::new(client::Config {
        nodelay: true,
        ..Default::default()
    });
    let verifier = Verifier {
        policy: options.host_key.clone(),
        host: host.to_string(),
        port,
    };
    let mut session = match client::connect_stream(config, tcp, verifier).await {
        Ok(session) => session,
        Err(SessionError::HostKey(source)) => {
            return Err(Error::HostKey {
                remote: remote.clone(),
                source: Box::new(source),
            });
        }
        Err(SessionError::Ssh(source)) => return Err(ssh_error(source)),
    };

    let user = url
        .user()
        .map(str::to_string)
        .or_else(|| options.user.clone())
        .unwrap_or_else(|| "git".to_string());
    let hash = if options.key.is_rsa() {
        // OpenSSH refuses SHA-1 signatures: SHA-512 unless the server says otherwise.
        Some(
            session
                .best_supported_rsa_hash()
                .await
                .map_err(ssh_error)?
                .flatten()
                .unwrap_or(HashAlg::Sha512),
        )
    } else {
        None
    };
    let auth = session
        .authenticate_publickey(&user, PrivateKeyWithHashAlg::new(options.key.private(), hash))
        .await
        .map_err(ssh_error)?;
    if !auth.success() {
        return Err(Error::AuthRefused {
            remote: remote.clone(),
            user: Some(user),
        });
    }

    let channel = session.channel_open_session().await.map_err(ssh_error)?;
    if v2 && service == Service::UploadPack {
        // Servers that do not accept the variable answer v0: both work.
        channel
            .set_env(false, "GIT_PROTOCOL", "version=2")
            .await
            .map_err(ssh_error)?;
    }
    let command = format!("{} {}", service.as_str(), shell_quote(url.path()));
    channel.exec(true, command.as_bytes()).await.map_err(ssh_error)?;
    let (read, write) = channel.split();
    let io = channel::ChannelIo::new(read, write.make_writer(), command, session);
    Ok(Flow::new(io, "ssh"))
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn paths_are_quoted_as_git_does() {
        assert_eq!(shell_quote("/srv/repo.git"), "'/srv/repo.git'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("a!b"), "'a'\\!'b'");
    }
}
