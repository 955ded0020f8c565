//! The errors of the client operations.

use std::path::PathBuf;

use crate::proto::ProtocolError;

/// Why an operation (ls-remote, clone, fetch, push) failed. The local
/// repository is left as it was in every case: refs move only after the
/// whole pack has been received, indexed and checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL cannot be read.
    #[error("invalid remote URL")]
    Url(#[from] crate::UrlError),
    /// The URL's transport is not implemented (`file://`: local
    /// repositories are not reached through this client).
    #[error("{scheme}:// remotes are not supported")]
    UnsupportedTransport {
        /// The URL's scheme.
        scheme: crate::Scheme,
    },
    /// No connection could be made; the source lists every address tried and why it failed.
    #[error("cannot connect to {remote}")]
    Connect {
        /// The remote, as a URL without password.
        remote: String,
        /// mimic's error, per candidate.
        source: mimic::Error,
    },
    /// The connection failed while talking.
    #[error("connection to {remote} failed while {during}")]
    Io {
        /// The remote.
        remote: String,
        /// What we were doing (`"sending the request"`, `"reading the response"`...).
        during: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The remote broke the protocol, or refused with a message (`ERR`:
    /// a missing repository is reported this way by git daemon).
    #[error("protocol error with {remote}")]
    Protocol {
        /// The remote.
        remote: String,
        /// Which packet and what was expected, or the remote's message.
        source: ProtocolError,
    },
    /// The repository path does not fit in a git:// request packet.
    #[error("repository path of {} bytes is too long for a request", path.len())]
    RequestTooLong {
        /// The path.
        path: String,
    },
    /// The remote lacks a capability this operation needs.
    #[error("{remote} does not support {feature}")]
    Unsupported {
        /// The remote.
        remote: String,
        /// The capability or protocol feature (`fetch=shallow`, `atomic`, `delete-refs`, ...).
        feature: &'static str,
    },
    /// A refspec that cannot be read.
    #[error("invalid refspec {spec:?}: {reason}")]
    InvalidRefspec {
        /// The refspec as given.
        spec: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A push source that names nothing in the local repository.
    #[error("{name:?} does not name a ref or an object of the local repository")]
    UnknownSource {
        /// The source as given.
        name: String,
    },
    /// The local repository could not be opened, read or written.
    #[error("local repository {path}")]
    Repository {
        /// Its path.
        path: PathBuf,
        /// What gitoxide said.
        source: gix::Error,
    },
    /// Local file system trouble (creating the clone's directory, writing `shallow`...).
    #[error("cannot write {path}")]
    LocalIo {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The clone's destination exists and is not an empty directory.
    #[error("destination {path} exists and is not empty")]
    DestinationExists {
        /// The destination.
        path: PathBuf,
    },
    /// The received pack is corrupt or truncated (it was not kept).
    #[error("the pack from {remote} is invalid")]
    InvalidPack {
        /// The remote.
        remote: String,
        /// What gix-pack found.
        source: gix::Error,
    },
    /// The pack was valid but lacks an object a ref would point to.
    #[error("the pack from {remote} lacks {id} (for {name})")]
    MissingObject {
        /// The remote.
        remote: String,
        /// The missing object.
        id: gix::ObjectId,
        /// The ref that needs it.
        name: String,
    },
    /// Building the pack to push failed.
    #[error("cannot build the pack to push")]
    BuildPack {
        /// What gix-pack said.
        source: gix::Error,
    },
    /// The remote could not unpack what we pushed (`unpack <reason>`).
    #[error("{remote} could not unpack the pushed objects: {reason}")]
    Unpack {
        /// The remote.
        remote: String,
        /// The remote's reason.
        reason: String,
    },
    /// The remote refused our credentials (SSH public key refused, HTTP 401).
    #[error("{remote} refused the credentials{}", user.as_ref().map(|u| format!(" of user {u:?}")).unwrap_or_default())]
    AuthRefused {
        /// The remote.
        remote: String,
        /// The user we authenticated as, when there is one.
        user: Option<String>,
    },
    /// The remote has no such repository (HTTP 404).
    #[error("{remote}: repository not found")]
    RepositoryNotFound {
        /// The remote.
        remote: String,
    },
    /// The SSH server's host key is not the one trusted; nothing was sent.
    #[error("host key of {remote} refused")]
    HostKey {
        /// The remote.
        remote: String,
        /// The fingerprints expected and offered.
        source: Box<crate::ssh::HostKeyError>,
    },
    /// An `ssh://` remote, but no SSH key and host key policy were given
    /// ([`Client::with_ssh`](crate::Client::with_ssh)).
    #[error("{remote}: SSH needs a client key and a host key policy")]
    SshNotConfigured {
        /// The remote.
        remote: String,
    },
    /// The SSH session failed (key exchange, authentication exchange, channel).
    #[error("SSH session with {remote} failed")]
    Ssh {
        /// The remote.
        remote: String,
        /// russh's error.
        source: russh::Error,
    },
    /// The command run over SSH failed (a missing repository, a command
    /// the server does not allow); its stderr is in the source.
    #[error("the remote command on {remote} failed")]
    RemoteCommand {
        /// The remote.
        remote: String,
        /// The command, its exit status and stderr.
        source: Box<crate::ssh::CommandFailed>,
    },
    /// An HTTP request failed (connection lost, broken HTTP, TLS).
    #[error("HTTP request to {remote} failed")]
    Http {
        /// The remote.
        remote: String,
        /// paf's error.
        source: paf::ClientError,
    },
    /// The HTTP server answered with a status other than 200, 401 and 404.
    #[error("{remote} answered HTTP {status}")]
    HttpStatus {
        /// The remote.
        remote: String,
        /// The status code.
        status: u16,
    },
    /// The HTTP server answered 200 but not as a smart HTTP server (a dumb
    /// server, a login page).
    #[error("{remote} is not a smart HTTP server (content type {content_type:?})")]
    NotSmartHttp {
        /// The remote.
        remote: String,
        /// The content type it sent.
        content_type: String,
    },
    /// The URL cannot be made into an HTTP request URI.
    #[error("{remote} is not a valid HTTP URL")]
    InvalidHttpUrl {
        /// The remote.
        remote: String,
    },
    /// A task of ours (the pack indexer or builder) panicked or was cancelled.
    #[error("background work failed")]
    Join(#[from] tokio::task::JoinError),
}

impl Error {
    /// The protocol error inside, if this is one (to tell an `ERR` from the
    /// remote from a broken stream: [`ProtocolError::is_remote`]).
    pub fn protocol(&self) -> Option<&ProtocolError> {
        match self {
            Error::Protocol { source, .. } => Some(source),
            _ => None,
        }
    }
}
